// SPDX-License-Identifier: GPL-2.0
/*
 * splitkit_front's claims of PV twins.  In an HVM guest whose emulated
 * disks are still plugged (xen_emul_unplug=unnecessary or never, or no
 * unplug), a disk of the config may have two faces: QEMU's emulated disk
 * (IDE for disks 0-3, AHCI ports 0-5 with hdtype = "ahci", SCSI for sdX
 * vdevs) and a vbd of the same backing.  Using both at once, each with a
 * page cache of its own, corrupts the disk, so splitkit_front binds such
 * a vbd only once it is claimed (xenbus.c, skf_hvm_check()): root writes
 * its "virtual-device" number to the module's "claim" parameter, one
 * number a write (claim= may be repeated on insmod's command line), as a
 * user of splitkit_shunt does before loading the shunt
 * (Documentation/shunt.rst, "The two disks of one backing").  The vbd is
 * then attached at once if it is waiting on the bus, or when it appears.
 * Claims last until the module goes.
 *
 * Locking: skf_claims_lock protects skf_claims and skf_nr_claims; it is
 * never held across a probe (the probe reads the claims under it).
 */
#include <linux/moduleparam.h>
#include <linux/mutex.h>

#include "common.h"

/* Room for every disk an HVM config may have emulated twins of, and more. */
#define SKF_MAX_CLAIMS		16

static DEFINE_MUTEX(skf_claims_lock);
static u32 skf_claims[SKF_MAX_CLAIMS];
static unsigned int skf_nr_claims;

static bool skf_claimed_locked(u32 vdevice)
{
	unsigned int i;

	for (i = 0; i < skf_nr_claims; i++)
		if (skf_claims[i] == vdevice)
			return true;
	return false;
}

/**
 * skf_claimed() - has root claimed the vbd numbered @vdevice?
 * @vdevice: its "virtual-device" number.
 *
 * Process context (takes a mutex).
 */
bool skf_claimed(u32 vdevice)
{
	bool claimed;

	mutex_lock(&skf_claims_lock);
	claimed = skf_claimed_locked(vdevice);
	mutex_unlock(&skf_claims_lock);
	return claimed;
}

/*
 * bus_for_each_dev(): attach the vbd numbered *@data, if this is it
 * (device_attach() takes the device lock and leaves a bound one alone).
 */
static int skf_claim_attach(struct device *dev, void *data)
{
	struct xenbus_device *xbdev = to_xenbus_device(dev);
	unsigned int vdevice;
	int err;

	if (strcmp(xbdev->devicetype, "vbd"))
		return 0;
	if (skf_read_vdevice(xbdev->nodename, &vdevice) ||
	    vdevice != *(u32 *)data)
		return 0;
	err = device_attach(dev);
	if (err < 0)
		dev_warn(dev, "attaching claimed vbd %u: %d\n", vdevice, err);
	return 0;
}

/* Writing a vbd's number claims it and attaches it if it is waiting. */
static int skf_claim_set(const char *val, const struct kernel_param *kp)
{
	struct device_driver *drv = &skf_xenbus_driver.drv.driver;
	struct skf_vdev v;
	u32 vdevice;
	int err;

	err = kstrtou32(val, 0, &vdevice);
	if (err)
		return err;
	if (skf_vdev_decode(vdevice, &v) || v.part)
		return -EINVAL;		/* no whole disk's number */
	mutex_lock(&skf_claims_lock);
	if (!skf_claimed_locked(vdevice)) {
		if (skf_nr_claims < SKF_MAX_CLAIMS)
			skf_claims[skf_nr_claims++] = vdevice;
		else
			err = -ENOSPC;
	}
	mutex_unlock(&skf_claims_lock);
	if (err)
		return err;
	pr_info(SKF_NAME ": vbd %u claimed\n", vdevice);
	/* no bus while the module loads (claim= on the command line) */
	if (drv->bus)
		bus_for_each_dev(drv->bus, NULL, &vdevice, skf_claim_attach);
	return 0;
}

/* Reading lists the claims, comma-separated, in the order made. */
static int skf_claim_get(char *buf, const struct kernel_param *kp)
{
	unsigned int i;
	int len = 0;

	mutex_lock(&skf_claims_lock);
	for (i = 0; i < skf_nr_claims; i++)
		len += sysfs_emit_at(buf, len, "%s%u", i ? "," : "",
				     skf_claims[i]);
	mutex_unlock(&skf_claims_lock);
	return len + sysfs_emit_at(buf, len, "\n");
}

static const struct kernel_param_ops skf_claim_ops = {
	.set = skf_claim_set,
	.get = skf_claim_get,
};
module_param_cb(claim, &skf_claim_ops, NULL, 0644);
MODULE_PARM_DESC(claim,
		 "HVM guest with its emulated disks plugged: write a vbd's virtual-device number (51712 for xvda) to let splitkit_front bind that PV twin of an emulated disk (for splitkit_shunt); read: the claims made");
