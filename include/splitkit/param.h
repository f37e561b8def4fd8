/* SPDX-License-Identifier: GPL-2.0 */
/*
 * splitkit module parameters: the one idiom every splitkit module uses for
 * a numeric parameter with a range (after null_blk): a kernel_param_ops
 * whose set() refuses a value outside the range, so a value written
 * through /sys/module/<module>/parameters/ at run time is as safe as one
 * given at load, and a MODULE_PARM_DESC that states the range and the
 * default.  Kernel only.
 *
 *	SK_PARAM_UINT_OPS(skb_ops_queues, 1, SKB_MAX_QUEUES);
 *	module_param_cb(max_queues, &skb_ops_queues, &skb_max_queues, 0644);
 *	MODULE_PARM_DESC(max_queues, "most queues per disk, 1-32 (default 4)");
 */
#ifndef _SPLITKIT_PARAM_H
#define _SPLITKIT_PARAM_H

#include <linux/moduleparam.h>

/* Define @ops: an unsigned int parameter taking @lo..@hi, else -EINVAL. */
#define SK_PARAM_UINT_OPS(ops, lo, hi)					\
static int ops##_set(const char *val, const struct kernel_param *kp)	\
{									\
	return param_set_uint_minmax(val, kp, lo, hi);			\
}									\
static const struct kernel_param_ops ops = {				\
	.set = ops##_set,						\
	.get = param_get_uint,						\
}

#endif /* _SPLITKIT_PARAM_H */
