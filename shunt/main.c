// SPDX-License-Identifier: GPL-2.0
/*
 * splitkit_shunt module: loads into a running HVM guest, takes the
 * emulated disk (emul=) and splitkit_front's disk of the same backing
 * (pv=), installs the hook, and lets root move the emulated disk's I/O to
 * the PV path and back through /sys/kernel/splitkit_shunt/ (one value per
 * file; Documentation/shunt.rst, "Control").  auto_switch=1 switches to
 * the PV path at load (or, if the PV disk is not there yet, when it
 * comes) and again whenever the PV disk comes back after it went away
 * (back.c, told of block devices by the class interface here).
 * Unloading first brings the disk back to its emulated path; once the
 * emulated disk is unplugged (unplugged, unplug.c) there is none, and
 * the module cannot be unloaded.
 */
#include <linux/device.h>
#include <linux/kobject.h>
#include <linux/module.h>
#include <linux/sysfs.h>

#include "common.h"

static char *emul;
module_param(emul, charp, 0444);
MODULE_PARM_DESC(emul, "the emulated disk's device node, a whole disk (e.g. /dev/sda)");
static char *pv;
module_param(pv, charp, 0444);
MODULE_PARM_DESC(pv, "splitkit_front's disk of the same backing (e.g. /dev/xvda), held exclusively; with auto_switch=1 it may come after the load");
static bool auto_switch;
module_param(auto_switch, bool, 0444);
MODULE_PARM_DESC(auto_switch, "switch to the PV disk at load, or when it comes if it is not there yet, when it comes back after it went away, and again after it failed while it stayed (after 1 s, then twice as late each time, up to 64 s; default: no)");

static struct sksh_disk sksh_disk;
static struct kobject *sksh_kobj;

static const char *const sksh_state_names[] = {
	[SKS_ON_EMUL] = "emul",
	[SKS_TO_PV] = "to-pv",
	[SKS_ON_PV] = "pv",
	[SKS_TO_EMUL] = "to-emul",
};

/* The numbers the control directory shows, in file order. */
enum sksh_stat {
	SKSH_HELD_NS, SKSH_HELD_NOW, SKSH_MAX_HELD, SKSH_SWITCHES_PV,
	SKSH_SWITCHES_EMUL, SKSH_REQUEUED, SKSH_FLUSH_ERRORS,
	SKSH_IDENTITY_REFUSALS, SKSH_INFLIGHT_EMUL, SKSH_INFLIGHT_PV,
	SKSH_PV_RETURNS, SKSH_NOWAIT_HANDOFFS, SKSH_PV_RETRIES, SKSH_NR_STATS
};

static const char *const sksh_stat_names[SKSH_NR_STATS] = {
	[SKSH_HELD_NS] = "last_held_ns",
	[SKSH_HELD_NOW] = "held",
	[SKSH_MAX_HELD] = "max_held",
	[SKSH_SWITCHES_PV] = "switches_to_pv",
	[SKSH_SWITCHES_EMUL] = "switches_to_emul",
	[SKSH_REQUEUED] = "requeued",
	[SKSH_FLUSH_ERRORS] = "flush_errors",
	[SKSH_IDENTITY_REFUSALS] = "identity_refusals",
	[SKSH_INFLIGHT_EMUL] = "inflight_emul",
	[SKSH_INFLIGHT_PV] = "inflight_pv",
	[SKSH_PV_RETURNS] = "pv_returns",
	[SKSH_NOWAIT_HANDOFFS] = "nowait_handoffs",
	[SKSH_PV_RETRIES] = "pv_retries",
};

static void sksh_snapshot(u64 *v, enum sks_state *state)
{
	struct sksh_disk *d = &sksh_disk;
	unsigned long flags;

	spin_lock_irqsave(&d->lock, flags);
	*state = d->s.state;
	v[SKSH_HELD_NS] = d->s.last_held_ns;
	v[SKSH_HELD_NOW] = d->s.nr_held;
	v[SKSH_MAX_HELD] = d->s.max_held;
	v[SKSH_SWITCHES_PV] = d->s.switches[SKS_PV];
	v[SKSH_SWITCHES_EMUL] = d->s.switches[SKS_EMUL];
	v[SKSH_REQUEUED] = d->s.requeued;
	v[SKSH_FLUSH_ERRORS] = d->s.flush_errors;
	v[SKSH_IDENTITY_REFUSALS] = d->identity_refusals;
	v[SKSH_INFLIGHT_EMUL] = d->s.inflight[SKS_EMUL];
	v[SKSH_INFLIGHT_PV] = d->s.inflight[SKS_PV];
	v[SKSH_PV_RETURNS] = d->pv_returns;
	v[SKSH_NOWAIT_HANDOFFS] = d->nowait_handoffs;
	v[SKSH_PV_RETRIES] = d->pv_retries;
	spin_unlock_irqrestore(&d->lock, flags);
}

static ssize_t sksh_stat_show(struct kobject *kobj,
			      struct kobj_attribute *attr, char *buf)
{
	u64 v[SKSH_NR_STATS];
	enum sks_state state;
	unsigned int i;

	sksh_snapshot(v, &state);
	for (i = 0; i < SKSH_NR_STATS; i++)
		if (!strcmp(attr->attr.name, sksh_stat_names[i]))
			return sysfs_emit(buf, "%llu\n", v[i]);
	return -EINVAL;
}

/* path: where the disk's bios go ("emul", "to-pv", "pv", "to-emul"). */
static ssize_t path_show(struct kobject *kobj, struct kobj_attribute *attr,
			 char *buf)
{
	u64 v[SKSH_NR_STATS];
	enum sks_state state;

	sksh_snapshot(v, &state);
	return sysfs_emit(buf, "%s\n", sksh_state_names[state]);
}

/* Writing "pv" or "emul" asks for a switch (root only). */
static ssize_t path_store(struct kobject *kobj, struct kobj_attribute *attr,
			  const char *buf, size_t count)
{
	enum sks_path to;
	int err;

	if (!capable(CAP_SYS_ADMIN))
		return -EPERM;
	if (sysfs_streq(buf, "pv"))
		to = SKS_PV;
	else if (sysfs_streq(buf, "emul"))
		to = SKS_EMUL;
	else
		return -EINVAL;
	err = sksh_disk_switch(&sksh_disk, to);
	return err && err != -EALREADY ? err : count;
}

/*
 * emul, pv: the two disks' names (as the kernel calls them, e.g. sda);
 * "-" for a PV disk that went away and is not back.
 */
static ssize_t disk_show(struct kobject *kobj, struct kobj_attribute *attr,
			 char *buf)
{
	struct sksh_disk *d = &sksh_disk;
	ssize_t len;

	if (strcmp(attr->attr.name, "pv"))
		return sysfs_emit(buf, "%pg\n", d->emul);
	mutex_lock(&d->pv_mutex);
	len = d->pv ? sysfs_emit(buf, "%pg\n", d->pv) : sysfs_emit(buf, "-\n");
	mutex_unlock(&d->pv_mutex);
	return len;
}

/* unplugged: 1 once the emulated disk was unplugged (no way back). */
static ssize_t unplugged_show(struct kobject *kobj,
			      struct kobj_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%d\n", sksh_disk_emul_gone(&sksh_disk));
}

/* Writing 1 unplugs the emulated disk, on the PV path only (root only). */
static ssize_t unplugged_store(struct kobject *kobj,
			       struct kobj_attribute *attr, const char *buf,
			       size_t count)
{
	bool yes;
	int err;

	if (!capable(CAP_SYS_ADMIN))
		return -EPERM;
	err = kstrtobool(buf, &yes);
	if (err || !yes)
		return -EINVAL;
	err = sksh_unplug(&sksh_disk);
	return err && err != -EALREADY ? err : count;
}

static struct kobj_attribute sksh_path_attr = __ATTR_RW(path);
static struct kobj_attribute sksh_unplugged_attr = __ATTR_RW(unplugged);
static struct kobj_attribute sksh_emul_attr = __ATTR(emul, 0444, disk_show, NULL);
static struct kobj_attribute sksh_pv_attr = __ATTR(pv, 0444, disk_show, NULL);
#define SKSH_STAT_ATTR(n) \
	static struct kobj_attribute sksh_attr_##n = __ATTR(n, 0444, sksh_stat_show, NULL)
SKSH_STAT_ATTR(last_held_ns);
SKSH_STAT_ATTR(held);
SKSH_STAT_ATTR(max_held);
SKSH_STAT_ATTR(switches_to_pv);
SKSH_STAT_ATTR(switches_to_emul);
SKSH_STAT_ATTR(requeued);
SKSH_STAT_ATTR(flush_errors);
SKSH_STAT_ATTR(identity_refusals);
SKSH_STAT_ATTR(inflight_emul);
SKSH_STAT_ATTR(inflight_pv);
SKSH_STAT_ATTR(pv_returns);
SKSH_STAT_ATTR(nowait_handoffs);
SKSH_STAT_ATTR(pv_retries);

static struct attribute *sksh_attrs[] = {
	&sksh_path_attr.attr,
	&sksh_emul_attr.attr,
	&sksh_pv_attr.attr,
	&sksh_unplugged_attr.attr,
	&sksh_attr_last_held_ns.attr,
	&sksh_attr_held.attr,
	&sksh_attr_max_held.attr,
	&sksh_attr_switches_to_pv.attr,
	&sksh_attr_switches_to_emul.attr,
	&sksh_attr_requeued.attr,
	&sksh_attr_flush_errors.attr,
	&sksh_attr_identity_refusals.attr,
	&sksh_attr_inflight_emul.attr,
	&sksh_attr_inflight_pv.attr,
	&sksh_attr_pv_returns.attr,
	&sksh_attr_nowait_handoffs.attr,
	&sksh_attr_pv_retries.attr,
	NULL
};

static const struct attribute_group sksh_group = {
	.attrs = sksh_attrs,
};

/*
 * Every block device added or removed (disks and partitions), told by the
 * driver core's class interface: back.c looks for the PV disk's return.
 * The callbacks lost their class_interface argument in Linux 6.4
 * (SKSH_CLASS_INTF_DEV_ONLY, probed in Kbuild).
 */
#ifdef SKSH_CLASS_INTF_DEV_ONLY
static int sksh_add_dev(struct device *dev)
#else
static int sksh_add_dev(struct device *dev, struct class_interface *intf)
#endif
{
	sksh_back_notice(&sksh_disk, dev, true);
	return 0;
}

#ifdef SKSH_CLASS_INTF_DEV_ONLY
static void sksh_remove_dev(struct device *dev)
#else
static void sksh_remove_dev(struct device *dev, struct class_interface *intf)
#endif
{
	sksh_back_notice(&sksh_disk, dev, false);
}

/* .class: the block class (not exported), from the emulated disk. */
static struct class_interface sksh_block_intf = {
	.add_dev = sksh_add_dev,
	.remove_dev = sksh_remove_dev,
};

static int __init sksh_init(void)
{
	int err;

	if (!emul || !pv) {
		pr_err(SKSH_NAME ": emul= and pv= must name the two disks\n");
		return -EINVAL;
	}
	sksh_disk.auto_forward = auto_switch;
	err = sksh_disk_open(&sksh_disk, emul, pv);
	if (err) {
		pr_err(SKSH_NAME ": opening %s and %s: %d\n", emul, pv, err);
		return err;
	}
	err = sksh_hook_install(&sksh_disk);
	if (err) {
		pr_err(SKSH_NAME ": hooking submit_bio_noacct: %d (a live patch there?)\n",
		       err);
		goto close_disk;
	}
	sksh_kobj = kobject_create_and_add(SKSH_NAME, kernel_kobj);
	if (!sksh_kobj) {
		err = -ENOMEM;
		goto remove_hook;
	}
	err = sysfs_create_group(sksh_kobj, &sksh_group);
	if (err)
		goto put_kobj;
	sksh_block_intf.class = disk_to_dev(sksh_disk.emul->bd_disk)->class;
	err = class_interface_register(&sksh_block_intf);
	if (err)
		goto remove_group;
	pr_info(SKSH_NAME ": %pg shunted, PV twin %s\n", sksh_disk.emul,
		sksh_disk.pv_name);
	/* a PV disk not there yet is switched to when it comes (back.c) */
	if (auto_switch)
		sksh_disk_switch(&sksh_disk, SKS_PV);
	return 0;

remove_group:
	sysfs_remove_group(sksh_kobj, &sksh_group);
put_kobj:
	kobject_put(sksh_kobj);
remove_hook:
	sksh_hook_remove();
close_disk:
	sksh_disk_close(&sksh_disk);
	return err;
}

static void __exit sksh_exit(void)
{
	class_interface_unregister(&sksh_block_intf);
	sysfs_remove_group(sksh_kobj, &sksh_group);
	kobject_put(sksh_kobj);
	/* no switch forward behind the drain's back */
	sksh_back_stop(&sksh_disk);
	sksh_disk_drain(&sksh_disk);
	sksh_hook_remove();
	sksh_disk_close(&sksh_disk);
	pr_info(SKSH_NAME ": back on the emulated path, unloaded\n");
}

module_init(sksh_init);
module_exit(sksh_exit);

MODULE_DESCRIPTION("splitkit: move a running HVM guest's disk from its emulated path to the PV path and back");
MODULE_LICENSE("GPL");
