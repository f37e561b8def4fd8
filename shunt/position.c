// SPDX-License-Identifier: GPL-2.0
/*
 * splitkit_shunt's position check: are the emulated disk and the PV disk
 * the two faces of one disk of the domain's config?  libxl gives disks of
 * an HVM guest two faces: QEMU emulates disk N (the index of its vdev:
 * xvda and hda are 0) as IDE channel N / 2, unit N % 2 for N < 4
 * (ata_piix in the guest), or as AHCI port N for N < 6 (hdtype =
 * "ahci"), on a controller with QEMU's PCI subsystem IDs (a controller
 * passed through to the guest has its own); sdX vdevs become SCSI disks,
 * which this check does not place
 * (refused beside a vbd).  It publishes the vbd with the vdev's number as
 * "virtual-device" (the
 * Xen disk numbering of docs/man/xen-vbd-interface.7).  This file finds N
 * on each side, the emulated disk's from its libata port and device
 * number, the PV disk's from its xenbus device (splitkit_front's or
 * xen-blkfront's) and the frontend's own decoder (vdev.c), and refuses
 * two disks whose N differ before anything is switched.
 * Documentation/shunt.rst, "Identity".
 */
#include <linux/libata.h>
#include <linux/pci.h>
#include <scsi/scsi.h>
#include <scsi/scsi_device.h>
#include <scsi/scsi_host.h>
#include <xen/platform_pci.h>
#include <xen/xenbus.h>

#include "common.h"
#include "../frontend/vbd_number.h"

/**
 * struct sksh_ata_host - a libata driver of QEMU's emulated disks.
 * @proc_name: its SCSI host template's proc_name.
 * @units: disks per port (IDE: master and slave; AHCI: one).
 * @disks: how many of the config's disks libxl emulates through it.
 * @unplugged: the Xen platform device's unplug port takes its disks
 *	(QEMU's unplug takes IDE and SCSI disks, not AHCI ones).
 */
struct sksh_ata_host {
	const char *proc_name;
	unsigned int units;
	unsigned int disks;
	bool unplugged;
};

static const struct sksh_ata_host sksh_ata_hosts[] = {
	{ "ata_piix", 2, 4, true },	/* PIIX3 IDE: port = channel, id = unit */
	{ "ahci", 1, 6, false },	/* hdtype = "ahci": one disk a port */
};

/**
 * sksh_sdev() - the SCSI device a disk is on.
 * @disk: a whole disk, live or held (its parent is read).
 *
 * Return: @disk's SCSI device, or NULL for a disk of no SCSI host.
 */
struct scsi_device *sksh_sdev(struct gendisk *disk)
{
	struct device *dev = disk_to_dev(disk)->parent;

	return dev && scsi_is_sdev_device(dev) ? to_scsi_device(dev) : NULL;
}

static bool sksh_proc_name_is(struct scsi_device *sdev, const char *name)
{
	return sdev->host->hostt->proc_name &&
	       !strcmp(sdev->host->hostt->proc_name, name);
}

/*
 * Is @sdev's controller QEMU's?  QEMU gives the PCI devices it emulates
 * its own subsystem IDs (1af4:1100); a controller passed through to the
 * guest keeps its hardware's, and its disks are no faces of the config's.
 */
static bool sksh_qemu_controller(struct scsi_device *sdev)
{
	struct device *dev = ata_shost_to_port(sdev->host)->host->dev;
	struct pci_dev *pdev;

	if (!dev || !dev_is_pci(dev))
		return false;
	pdev = to_pci_dev(dev);
	return pdev->subsystem_vendor == PCI_SUBVENDOR_ID_REDHAT_QUMRANET &&
	       pdev->subsystem_device == PCI_SUBDEVICE_ID_QEMU;
}

/*
 * The disk index of @disk in the domain's config and the libata driver
 * that shows it (@host), or -ENODEV for no disk of ata_piix or ahci on
 * QEMU's controller at a position libxl emulates.
 */
static int sksh_emul_position(struct gendisk *disk,
			      const struct sksh_ata_host **host)
{
	struct scsi_device *sdev = sksh_sdev(disk);
	const struct sksh_ata_host *h = NULL;
	unsigned int i, n;

	if (!sdev)
		return -ENODEV;
	for (i = 0; i < ARRAY_SIZE(sksh_ata_hosts); i++)
		if (sksh_proc_name_is(sdev, sksh_ata_hosts[i].proc_name))
			h = &sksh_ata_hosts[i];
	/* a port multiplier's link is a channel, not a unit of the port */
	if (!h || sdev->channel || sdev->lun || sdev->id >= h->units ||
	    !sksh_qemu_controller(sdev))
		return -ENODEV;
	n = ata_shost_to_port(sdev->host)->port_no * h->units + sdev->id;
	*host = h;
	return n < h->disks ? n : -ENODEV;
}

/**
 * sksh_emul_index() - which disk of the domain's config is @bdev?
 * @bdev: a whole disk.
 *
 * Process context.  Reads QEMU's emulated disk's libata port and device.
 *
 * Return: the disk index (0 for the IDE primary master), or -ENODEV when
 * @bdev is no disk of ata_piix or ahci at a position libxl emulates.
 */
int sksh_emul_index(struct block_device *bdev)
{
	const struct sksh_ata_host *h;

	return sksh_emul_position(bdev->bd_disk, &h);
}

/**
 * sksh_unplug_bits() - the Xen platform device's unplug bits that take
 * @disk (docs/misc/hvm-emulated-unplug of Xen).
 * @disk: the emulated disk, whole.
 *
 * Process context.  IDE disk 0, the primary master, goes only with the
 * bit for all IDE and SCSI disks; disks 1 to 3 with the bit for the IDE
 * disks but the primary master.
 *
 * Return: XEN_UNPLUG_ALL_IDE_DISKS or XEN_UNPLUG_AUX_IDE_DISKS; -ENODEV
 * for no emulated IDE or AHCI disk, -EOPNOTSUPP for an AHCI one.
 */
int sksh_unplug_bits(struct gendisk *disk)
{
	const struct sksh_ata_host *h;
	int n = sksh_emul_position(disk, &h);

	if (n < 0)
		return n;
	if (!h->unplugged)
		return -EOPNOTSUPP;
	return n ? XEN_UNPLUG_AUX_IDE_DISKS : XEN_UNPLUG_ALL_IDE_DISKS;
}

/* Is @disk below a PCI function of class SCSI storage (an HBA, virtio-blk)? */
static bool sksh_on_pci_scsi_class(struct gendisk *disk)
{
	struct device *dev = disk_to_dev(disk)->parent;

	while (dev && !dev_is_pci(dev))
		dev = dev->parent;
	return dev && (to_pci_dev(dev)->class >> 8) == PCI_CLASS_STORAGE_SCSI;
}

/**
 * sksh_unplug_takes() - would writing @bits to the unplug port take
 * @disk too?
 * @disk: a whole disk of the guest, live (its parents are read).
 * @bits: sksh_unplug_bits() of the shunted disk.
 *
 * Process context, under @disk's open_mutex.  QEMU's unplug takes the IDE
 * disks of its controller (all, or all but the primary master; CD drives
 * stay) and, with XEN_UNPLUG_ALL_IDE_DISKS, every PCI function of class
 * SCSI storage with whatever is on it (SCSI controllers, virtio-blk); the
 * guest cannot tell an emulated one from a passed-through one, which
 * QEMU leaves, so any counts.
 *
 * Return: true if it would.
 */
bool sksh_unplug_takes(struct gendisk *disk, int bits)
{
	struct scsi_device *sdev = sksh_sdev(disk);
	const struct sksh_ata_host *h = NULL;
	int n;

	if (sdev) {
		n = sksh_emul_position(disk, &h);
		if (h)
			return sdev->type == TYPE_DISK && h->unplugged &&
			       (n != 0 || (bits & XEN_UNPLUG_ALL_IDE_DISKS));
	}
	return (bits & XEN_UNPLUG_ALL_IDE_DISKS) && sksh_on_pci_scsi_class(disk);
}

/**
 * sksh_live_disk() - run @fn on a disk while it is live.
 * @disk: any whole disk, referenced by the caller.
 * @fn: reads @disk's parents; returns 0 or a result of its own.
 * @arg: for @fn.
 *
 * The disk's device holds its parents only until device_del(), which
 * del_gendisk() reaches after it unhashed the disk under open_mutex: a
 * disk live under that mutex has its parents still.
 *
 * Process context, sleeps; takes @disk's open_mutex around @fn.
 * Return: @fn's result, -ENXIO for a disk being deleted (a vbd detached
 * this instant).
 */
int sksh_live_disk(struct gendisk *disk,
		   int (*fn)(struct gendisk *disk, void *arg), void *arg)
{
	int ret = -ENXIO;

	mutex_lock(&disk->open_mutex);
	if (disk_live(disk))
		ret = fn(disk, arg);
	mutex_unlock(&disk->open_mutex);
	return ret;
}

/* sksh_live_disk()'s @fn: the device @disk is a disk of, referenced. */
static int sksh_get_parent(struct gendisk *disk, void *arg)
{
	struct device **parent = arg;

	*parent = get_device(disk_to_dev(disk)->parent);
	return 0;
}

/*
 * The disk index of the Xen vbd @bdev, its "virtual-device" in
 * @vdevice; -ENODEV when @bdev is no Xen vbd, -ENXIO when it is going
 * away, -EIO when its number cannot be read, -EINVAL for a number that
 * is no whole disk.
 */
static int sksh_pv_index(struct block_device *bdev, u32 *vdevice)
{
	struct device *dev = NULL;
	int ret;

	ret = sksh_live_disk(bdev->bd_disk, sksh_get_parent, &dev);
	if (ret)
		return ret;
	/* the frontend bus is "xen" (dom0's backend bus "xen-backend") */
	if (dev && dev->bus && !strcmp(dev->bus->name, "xen"))
		ret = skf_vbd_disk_index(to_xenbus_device(dev), vdevice);
	else
		ret = -ENODEV;
	put_device(dev);
	return ret;
}

/**
 * sksh_position_check() - are @emul and @pv one disk of the domain?
 * @emul: the emulated disk (whole disk).
 * @pv: the PV disk (whole disk).
 *
 * Process context (reads XenStore).  A PV disk that is no Xen vbd (the
 * shunt phase's virtio disk) has no position to compare: the kernel log
 * says so and the size and content checks of every switch remain.  A Xen
 * vbd is accepted only beside an emulated disk of QEMU's (ata_piix or
 * ahci) at the same disk index.
 *
 * Return: 0; -ENODEV when @emul is no emulated disk of QEMU's, -ENXIO
 * when @pv is being deleted, -EIO when the vbd's number cannot be read,
 * -EINVAL when it names no whole disk or the two are different disks.
 * Each refusal says why in the kernel log.
 */
int sksh_position_check(struct block_device *emul, struct block_device *pv)
{
	int e, p;
	u32 vdevice = 0;

	p = sksh_pv_index(pv, &vdevice);
	if (p == -ENODEV) {
		pr_info(SKSH_NAME ": %pg is no Xen vbd: its position is not checked, only its size and content at each switch\n",
			pv);
		return 0;
	}
	if (p == -ENXIO) {
		pr_err(SKSH_NAME ": %pg is going away\n", pv);
		return p;
	}
	if (p < 0) {
		pr_err(SKSH_NAME ": %pg: reading its virtual-device number: %d\n",
		       pv, p);
		return p == -EINVAL ? -EINVAL : -EIO;
	}
	e = sksh_emul_index(emul);
	if (e < 0) {
		pr_err(SKSH_NAME ": %pg is no IDE or AHCI disk of QEMU's (ata_piix, ahci): cannot tell which disk of the domain it is\n",
		       emul);
		return -ENODEV;
	}
	if (e != p) {
		pr_err(SKSH_NAME ": %pg is the domain's disk %d, %pg is vbd %u, its disk %d: not the same disk\n",
		       emul, e, pv, vdevice, p);
		return -EINVAL;
	}
	pr_info(SKSH_NAME ": %pg and %pg are the domain's disk %d (vbd %u)\n",
		emul, pv, e, vdevice);
	return 0;
}
