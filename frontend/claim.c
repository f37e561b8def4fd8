// SPDX-License-Identifier: GPL-2.0
/*
 * splitkit_front's claims of PV twins.  In an HVM guest whose emulated
 * disks are still plugged (xen_emul_unplug=unnecessary or never, or no
 * unplug), a disk of the config may have two faces: QEMU's emulated disk
 * (IDE for disks 0-3, AHCI ports 0-5 with hdtype = "ahci", SCSI for sdX
 * vdevs) and a vbd of the same backing.  Using both at once, each with a
 * page cache of its own, corrupts the disk, so splitkit_front binds such
 * a vbd only once it is claimed (xenbus.c, skf_hvm_check()).  A claim
 * names the vbd by its "virtual-device" number (51712 for xvda) or by the
 * config's disk index of its emulated twin ("disk0", whatever number the
 * toolstack gave the vbd); root writes one to the "claim" parameter (one a
 * write; claim= may be repeated on insmod's command line), and
 * splitkit_shunt asks for its own twin by index (skf_claim_disk()).  A
 * claimed vbd is attached at once if it is waiting on the bus, or when it
 * appears.  Writing the same to "unclaim" drops the claim and unbinds a
 * vbd it alone let bind, unless its disk is open; the shunt drops its own
 * claim when it goes (skf_unclaim_disk()).  Documentation/shunt.rst, "The
 * two disks of one backing".
 *
 * Locking: skf_claims_lock protects skf_claims and skf_nr_claims; it is
 * never held across a probe or an unbind (the probe reads the claims
 * under it).
 */
#include <linux/device.h>
#include <linux/moduleparam.h>
#include <linux/mutex.h>

#include <splitkit/claim.h>
#include <splitkit/export.h>

#include "common.h"

/* Room for every disk an HVM config may have emulated twins of, and more. */
#define SKF_MAX_CLAIMS		16
/* Disk indexes a claim by index may name (xvda .. xvdzz and beyond). */
#define SKF_MAX_CLAIM_INDEX	(1U << 20)

/**
 * struct skf_claim - one claim.
 * @by_index: @n is the disk index of the vbd's emulated twin, not a
 *	"virtual-device" number.
 * @n: the number.
 */
struct skf_claim {
	bool by_index;
	u32 n;
};

static DEFINE_MUTEX(skf_claims_lock);
static struct skf_claim skf_claims[SKF_MAX_CLAIMS];
static unsigned int skf_nr_claims;

static bool skf_claim_names(const struct skf_claim *c, u32 vdevice, u32 index)
{
	return c->n == (c->by_index ? index : vdevice);
}

static bool skf_claim_same(const struct skf_claim *a,
			   const struct skf_claim *b)
{
	return a->by_index == b->by_index && a->n == b->n;
}

static int skf_claim_find_locked(const struct skf_claim *c)
{
	unsigned int i;

	for (i = 0; i < skf_nr_claims; i++)
		if (skf_claim_same(&skf_claims[i], c))
			return i;
	return -1;
}

static bool skf_claimed_locked(u32 vdevice, u32 index)
{
	unsigned int i;

	for (i = 0; i < skf_nr_claims; i++)
		if (skf_claim_names(&skf_claims[i], vdevice, index))
			return true;
	return false;
}

/**
 * skf_claimed() - has a claim been made for a vbd?
 * @vdevice: its "virtual-device" number.
 * @index: its disk index (that of its emulated twin).
 *
 * Process context (takes a mutex).
 */
bool skf_claimed(u32 vdevice, u32 index)
{
	bool claimed;

	mutex_lock(&skf_claims_lock);
	claimed = skf_claimed_locked(vdevice, index);
	mutex_unlock(&skf_claims_lock);
	return claimed;
}

/* A vbd on the bus, its numbers read; false for another device type. */
static bool skf_claim_vbd(struct device *dev, u32 *vdevice, u32 *index)
{
	int i = skf_vbd_disk_index(to_xenbus_device(dev), vdevice);

	if (i < 0)
		return false;
	*index = i;
	return true;
}

/*
 * bus_for_each_dev(): attach the vbd the claim *@data names, if this is
 * it (device_attach() takes the device lock and leaves a bound one alone).
 */
static int skf_claim_attach(struct device *dev, void *data)
{
	u32 vdevice, index;
	int err;

	if (!skf_claim_vbd(dev, &vdevice, &index) ||
	    !skf_claim_names(data, vdevice, index))
		return 0;
	err = device_attach(dev);
	if (err < 0)
		dev_warn(dev, "attaching claimed vbd %u: %d\n", vdevice, err);
	return 0;
}

/*
 * Is @dev a vbd splitkit_front bound whose disk is open?  The device lock
 * keeps it bound and its disk allocated (skf_free() runs under it); the
 * disk pointer is published with a release once the disk is set up.
 */
static bool skf_claim_busy(struct device *dev)
{
	struct gendisk *gd = NULL;
	struct skf_dev *sd;
	bool open = false;

	device_lock(dev);
	if (dev->driver == &skf_xenbus_driver.drv.driver) {
		sd = sk_xb_from_dev(dev)->priv;
		/* pairs with the release in skf_blkmq_create(): a set-up disk */
		gd = smp_load_acquire(&sd->gd);
		/* read while bound: an unbind frees the disk (skf_free()) */
		open = gd && atomic_read(&gd->part0->bd_openers);
	}
	device_unlock(dev);
	return open;
}

/* Is the vbd named by a claim other than *@c? */
static bool skf_claimed_else(const struct skf_claim *c, u32 vdevice,
			     u32 index)
{
	unsigned int i;
	bool named = false;

	mutex_lock(&skf_claims_lock);
	for (i = 0; i < skf_nr_claims && !named; i++)
		named = !skf_claim_same(&skf_claims[i], c) &&
			skf_claim_names(&skf_claims[i], vdevice, index);
	mutex_unlock(&skf_claims_lock);
	return named;
}

/*
 * bus_for_each_dev(): -EBUSY if the claim *@data alone let a vbd bind
 * whose disk is open.
 */
static int skf_claim_check_busy(struct device *dev, void *data)
{
	u32 vdevice, index;

	if (!skf_claim_vbd(dev, &vdevice, &index) ||
	    !skf_claim_names(data, vdevice, index) ||
	    skf_claimed_else(data, vdevice, index) || !skf_claim_busy(dev))
		return 0;
	dev_info(dev, "vbd %u: its disk is open: claim kept\n", vdevice);
	return -EBUSY;
}

/*
 * bus_for_each_dev(): unbind a vbd of ours no claim names any more, and
 * let the probe look at it again (a vbd that is no twin binds anew; a
 * twin is left unbound until claimed).
 */
static int skf_claim_release(struct device *dev, void *data)
{
	u32 vdevice, index;

	if (!skf_claim_vbd(dev, &vdevice, &index) ||
	    !skf_claim_names(data, vdevice, index) ||
	    dev->driver != &skf_xenbus_driver.drv.driver ||
	    skf_claimed(vdevice, index))
		return 0;
	device_release_driver(dev);
	dev_info(dev, "vbd %u unclaimed: unbound\n", vdevice);
	if (device_attach(dev) < 0)
		dev_warn(dev, "vbd %u: probing again failed\n", vdevice);
	return 0;
}

/* "51712" (a virtual-device number) or "disk0" (a disk index). */
static int skf_claim_parse(const char *val, struct skf_claim *c)
{
	struct skf_vdev v;
	int err;

	c->by_index = !strncmp(val, "disk", 4);
	err = kstrtou32(c->by_index ? val + 4 : val, 0, &c->n);
	if (err)
		return err;
	if (c->by_index)
		return c->n < SKF_MAX_CLAIM_INDEX ? 0 : -EINVAL;
	/* no whole disk's number */
	return skf_vdev_decode(c->n, &v) || v.part ? -EINVAL : 0;
}

static void skf_claim_name(const struct skf_claim *c, char *buf, size_t len)
{
	snprintf(buf, len, "%s%u", c->by_index ? "disk" : "", c->n);
}

/* Record @c (if new) and attach a vbd it names that is waiting. */
static int skf_claim_add(const struct skf_claim *c)
{
	struct device_driver *drv = &skf_xenbus_driver.drv.driver;
	char name[16];
	int err = 0;

	mutex_lock(&skf_claims_lock);
	if (skf_claim_find_locked(c) < 0) {
		if (skf_nr_claims < SKF_MAX_CLAIMS)
			skf_claims[skf_nr_claims++] = *c;
		else
			err = -ENOSPC;
	}
	mutex_unlock(&skf_claims_lock);
	if (err)
		return err;
	skf_claim_name(c, name, sizeof(name));
	pr_info(SKF_NAME ": vbd %s claimed\n", name);
	/* no bus while the module loads (claim= on the command line) */
	if (drv->bus)
		bus_for_each_dev(drv->bus, NULL, (void *)c, skf_claim_attach);
	return 0;
}

static int skf_claim_set(const char *val, const struct kernel_param *kp)
{
	struct skf_claim c;
	int err;

	err = skf_claim_parse(val, &c);
	return err ? err : skf_claim_add(&c);
}

/* Reading lists the claims, comma-separated, in the order made. */
static int skf_claim_get(char *buf, const struct kernel_param *kp)
{
	char name[16];
	unsigned int i;
	int len = 0;

	mutex_lock(&skf_claims_lock);
	for (i = 0; i < skf_nr_claims; i++) {
		skf_claim_name(&skf_claims[i], name, sizeof(name));
		len += sysfs_emit_at(buf, len, "%s%s", i ? "," : "", name);
	}
	mutex_unlock(&skf_claims_lock);
	return len + sysfs_emit_at(buf, len, "\n");
}

static const struct kernel_param_ops skf_claim_ops = {
	.set = skf_claim_set,
	.get = skf_claim_get,
};
module_param_cb(claim, &skf_claim_ops, NULL, 0644);
MODULE_PARM_DESC(claim,
		 "HVM guest with its emulated disks plugged: write a vbd's virtual-device number (51712 for xvda), or diskN for the PV twin of the config's disk N, to let splitkit_front bind that PV twin of an emulated disk (for splitkit_shunt); read: the claims made");

/* Is @c claimed?  For an unclaim's first answer. */
static bool skf_claim_made(const struct skf_claim *c)
{
	bool made;

	mutex_lock(&skf_claims_lock);
	made = skf_claim_find_locked(c) >= 0;
	mutex_unlock(&skf_claims_lock);
	return made;
}

/*
 * Drop the claim @c and unbind the vbds it let bind (and no other claim
 * names), unless one's disk is open: -EBUSY, claim kept.  -ENOENT for a
 * claim not made.  An open racing the unbind finds the disk gone, as
 * after a detach.
 */
static int skf_unclaim(const struct skf_claim *c)
{
	struct device_driver *drv = &skf_xenbus_driver.drv.driver;
	char name[16];
	int err, i;

	if (!drv->bus)
		return -ENODEV;		/* on insmod's command line */
	if (!skf_claim_made(c))
		return -ENOENT;
	err = bus_for_each_dev(drv->bus, NULL, (void *)c, skf_claim_check_busy);
	if (err)
		return err;
	mutex_lock(&skf_claims_lock);
	i = skf_claim_find_locked(c);
	if (i >= 0) {
		/* keep the order made: the claim parameter lists it */
		memmove(&skf_claims[i], &skf_claims[i + 1],
			(skf_nr_claims - i - 1) * sizeof(skf_claims[0]));
		skf_nr_claims--;
	}
	mutex_unlock(&skf_claims_lock);
	if (i < 0)
		return -ENOENT;
	skf_claim_name(c, name, sizeof(name));
	pr_info(SKF_NAME ": vbd %s unclaimed\n", name);
	bus_for_each_dev(drv->bus, NULL, (void *)c, skf_claim_release);
	return 0;
}

static int skf_unclaim_set(const char *val, const struct kernel_param *kp)
{
	struct skf_claim c;
	int err;

	err = skf_claim_parse(val, &c);
	return err ? err : skf_unclaim(&c);
}

static const struct kernel_param_ops skf_unclaim_ops = {
	.set = skf_unclaim_set,
};
module_param_cb(unclaim, &skf_unclaim_ops, NULL, 0200);
MODULE_PARM_DESC(unclaim,
		 "write a claim as made (51712, disk0) to drop it: a PV twin it let bind is unbound, unless its disk is open (EBUSY)");

/**
 * skf_claim_disk() - let splitkit_front bind the PV twin of disk @index.
 * @index: the config's disk index of the emulated disk (0 for the IDE
 *	primary master: hda, xvda or sda in the config).
 *
 * For splitkit_shunt, which finds @index from its emulated disk and
 * takes the twin when it comes (symbol_get(), so that the shunt also
 * runs without splitkit_front).  The same as writing "disk<index>" to
 * the claim parameter: the vbd whose "virtual-device" decodes to @index
 * is attached now if it is waiting, or when it appears.
 *
 * Context: process context, may sleep (reads XenStore, probes).
 * Return: 0 (also when already claimed), -EINVAL for an impossible
 * index, -ENOSPC when the claim table is full.
 */
int skf_claim_disk(unsigned int index)
{
	struct skf_claim c = { .by_index = true, .n = index };

	if (index >= SKF_MAX_CLAIM_INDEX)
		return -EINVAL;
	return skf_claim_add(&c);
}
SPLITKIT_EXPORT(skf_claim_disk);

/**
 * skf_unclaim_disk() - drop the claim skf_claim_disk() made.
 * @index: the disk index it was made for.
 *
 * For splitkit_shunt when it goes: the twin it asked for is unbound
 * unless another claim names it or its disk is open.  The same as
 * writing "disk<index>" to the unclaim parameter.
 *
 * Context: process context, may sleep (unbinds).
 * Return: 0, -ENOENT when no such claim was made, -EBUSY when the twin's
 * disk is open (the claim is kept), -EINVAL for an impossible index.
 */
int skf_unclaim_disk(unsigned int index)
{
	struct skf_claim c = { .by_index = true, .n = index };

	if (index >= SKF_MAX_CLAIM_INDEX)
		return -EINVAL;
	return skf_unclaim(&c);
}
SPLITKIT_EXPORT(skf_unclaim_disk);
