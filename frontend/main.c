// SPDX-License-Identifier: GPL-2.0
/*
 * splitkit_front module entry: parameters (each range-checked when set),
 * the xvd block major, and registration of the "vbd" xenbus frontend
 * driver (frontend/xenbus.c).  Replaces Linux's xen-blkfront in a guest;
 * only one of the two may be loaded, as both bind "vbd" and major 202.
 */
#include <linux/kernel.h>
#include <linux/major.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <xen/xen.h>
#include <xen/xenbus.h>

#include <splitkit/export.h>

#include "common.h"

unsigned int skf_max_queues = 4;
unsigned int skf_max_ring_order = 2;
unsigned int skf_max_indirect_segs = SKF_DEFAULT_SEGS;
unsigned int skf_poll_queues;
bool skf_persistent_grants = true;

/**
 * struct skf_range - bounds of one unsigned module parameter.
 * @min: smallest accepted value.
 * @max: largest accepted value.
 */
struct skf_range {
	unsigned int min;
	unsigned int max;
};

static int skf_param_set(const char *val, const struct kernel_param *kp,
			 const struct skf_range *r)
{
	unsigned int v;
	int err;

	err = kstrtouint(val, 0, &v);
	if (err)
		return err;
	if (v < r->min || v > r->max) {
		pr_err(SKF_NAME ": %s=%u out of range %u..%u\n", kp->name, v,
		       r->min, r->max);
		return -ERANGE;
	}
	*(unsigned int *)kp->arg = v;
	return 0;
}

#define SKF_PARAM_OPS(name, lo, hi)					\
static int skf_set_##name(const char *val, const struct kernel_param *kp) \
{									\
	static const struct skf_range r = { lo, hi };			\
									\
	return skf_param_set(val, kp, &r);				\
}									\
static const struct kernel_param_ops skf_ops_##name = {		\
	.set = skf_set_##name,						\
	.get = param_get_uint,						\
}

SKF_PARAM_OPS(queues, 1, SKF_MAX_QUEUES);
SKF_PARAM_OPS(order, 0, XENBUS_MAX_RING_GRANT_ORDER);
SKF_PARAM_OPS(segs, 0, SKF_MAX_SEGS);
SKF_PARAM_OPS(poll, 0, SKF_MAX_QUEUES - 1);

module_param_cb(max_queues, &skf_ops_queues, &skf_max_queues, 0444);
MODULE_PARM_DESC(max_queues,
		 "most interrupt-driven queues (rings) per disk, 1-16 (default 4; never more than online CPUs or than the backend offers)");
module_param_cb(max_ring_order, &skf_ops_order, &skf_max_ring_order, 0444);
MODULE_PARM_DESC(max_ring_order,
		 "largest ring-page-order per ring, 0-4 (default 2: 4 pages, 128 requests)");
module_param_cb(max_indirect_segs, &skf_ops_segs, &skf_max_indirect_segs,
		0444);
MODULE_PARM_DESC(max_indirect_segs,
		 "most segments per indirect request, 0-4096; 11 or less disables indirect requests (default 32)");
module_param_cb(poll_queues, &skf_ops_poll, &skf_poll_queues, 0444);
MODULE_PARM_DESC(poll_queues,
		 "polled queues per disk for io_uring hipri / RWF_HIPRI I/O, 0-15 (default 0)");
module_param_named(persistent_grants, skf_persistent_grants, bool, 0444);
MODULE_PARM_DESC(persistent_grants,
		 "offer persistent grants to the backend (default y)");

static int __init skf_init(void)
{
	int err;

	if (!xen_domain())
		return -ENODEV;
	err = register_blkdev(XENVBD_MAJOR, "xvd");
	if (err) {
		pr_err(SKF_NAME ": major %d is taken (is xen-blkfront loaded?)\n",
		       XENVBD_MAJOR);
		return err;
	}
	err = sk_xb_driver_register(&skf_xenbus_driver);
	if (err)
		goto unregister_major;
	return 0;

unregister_major:
	unregister_blkdev(XENVBD_MAJOR, "xvd");
	return err;
}

static void __exit skf_exit(void)
{
	sk_xb_driver_unregister(&skf_xenbus_driver);
	unregister_blkdev(XENVBD_MAJOR, "xvd");
}

module_init(skf_init);
module_exit(skf_exit);

MODULE_DESCRIPTION("splitkit blkif frontend: Xen PV disk on blk-mq");
MODULE_LICENSE("GPL");
MODULE_ALIAS("xen:vbd");
MODULE_ALIAS_BLOCKDEV_MAJOR(XENVBD_MAJOR);
SPLITKIT_IMPORT_NS();
