/* SPDX-License-Identifier: GPL-2.0 */
/*
 * splitkit module parameters: the one idiom every splitkit module uses for
 * an unsigned parameter, as null_blk does: a kernel_param_ops whose set()
 * refuses a value outside [min, max] (so a bad value never reaches the
 * driver, at load time or through /sys/module/<mod>/parameters/), and a
 * MODULE_PARM_DESC that states the range and the default.
 */
#ifndef _SPLITKIT_PARAM_H
#define _SPLITKIT_PARAM_H

#include <linux/moduleparam.h>
#include <linux/stringify.h>

/**
 * SK_PARAM_UINT() - a range-checked unsigned int module parameter.
 * @name: parameter name.
 * @var: the unsigned int variable (its initial value is the default).
 * @min: smallest accepted value.
 * @max: largest accepted value.
 * @perm: sysfs permissions.
 * @desc: what it does; the range and default are appended by the caller's
 *	  text, which must name them ("..., 1-16 (default 4)").
 */
#define SK_PARAM_UINT(name, var, min, max, perm, desc)			\
static int sk_param_set_##name(const char *val,				\
			       const struct kernel_param *kp)		\
{									\
	return param_set_uint_minmax(val, kp, (min), (max));		\
}									\
static const struct kernel_param_ops sk_param_ops_##name = {		\
	.set = sk_param_set_##name,					\
	.get = param_get_uint,						\
};									\
module_param_cb(name, &sk_param_ops_##name, &(var), (perm));		\
MODULE_PARM_DESC(name, desc)

/**
 * sk_param_set_readonly() - set() of a parameter that only reports
 * @val: the value given
 * @kp: the parameter
 *
 * module_param_cb() needs a set() even for a parameter of mode 0444: its
 * mode guards /sys/module/<mod>/parameters/, not the module's load
 * arguments, and the kernel calls set() for those without looking (a NULL
 * one oopses "insmod mod counter=1").
 *
 * Return: -EPERM, always.
 */
static inline int sk_param_set_readonly(const char *val,
					const struct kernel_param *kp)
{
	return -EPERM;
}

#endif /* _SPLITKIT_PARAM_H */
