// SPDX-License-Identifier: GPL-2.0
/*
 * splitkit_shunt's unplug: once the disk is on its PV path, ask QEMU,
 * through the Xen platform device's unplug port (I/O port 0x10, Xen's
 * docs/misc/hvm-emulated-unplug), to take the emulated disk away for
 * good.  QEMU drains and flushes the drive, detaches it and resets the
 * IDE controller (whose other drives' queues are frozen meanwhile, so
 * that nothing of theirs is in flight); the guest's disk (sdX), its
 * device node, its mounts and its sysfs stay, every bio of it carried by
 * the PV disk as before.  What it costs (Documentation/shunt.rst,
 * "Unplugging the emulated disk"): no way back - no fallback, no `shunt
 * off`, no unload - so a failing PV path holds the disk's bios until its
 * PV disk is back, and the module stays loaded until the guest shuts
 * down; and no save, restore or migration (libata's resume revalidates
 * the missing drive and may remove its disk).  The unplug bits take more
 * than one disk (all IDE disks, or all but the primary master, and all
 * SCSI-class PCI storage), so the unplug is refused while the guest has
 * another disk they would take.  Commands sent to the disk past the
 * block layer (SG_IO, hdparm, smartctl) reach a controller without it and
 * time out, and libata's error handling resets the channel; the SCSI
 * device is not set offline at the unplug, which would fail every later
 * open of the disk.  At shutdown, before devices shut down, it is, so
 * that sd's cache flush fails at once instead of waiting for a drive
 * that is not there (its cache was flushed at the switch and by QEMU's
 * unplug).
 */
#include <linux/device.h>
#include <linux/io.h>
#include <linux/module.h>
#include <linux/libata.h>
#include <linux/reboot.h>
#include <scsi/scsi_device.h>
#include <scsi/scsi_host.h>
#include <xen/xen.h>
#include <xen/platform_pci.h>

#include "common.h"

/* A disk, other than the shunted one, that the unplug bits would take. */
struct sksh_unplug_scan {
	struct gendisk *emul;
	int bits;
	char other[BDEVNAME_SIZE];
};

/* sksh_live_disk()'s @fn: 1 if the scan's bits would take @disk. */
static int sksh_unplug_takes_live(struct gendisk *disk, void *arg)
{
	const struct sksh_unplug_scan *scan = arg;

	return sksh_unplug_takes(disk, scan->bits);
}

static int sksh_unplug_scan_one(struct device *dev, void *data)
{
	struct sksh_unplug_scan *scan = data;
	struct gendisk *disk;

	/* whole disks only: partitions go with theirs */
	if (dev->type != disk_to_dev(scan->emul)->type)
		return 0;
	disk = dev_to_disk(dev);
	if (disk == scan->emul ||
	    sksh_live_disk(disk, sksh_unplug_takes_live, scan) != 1)
		return 0;
	strscpy(scan->other, disk->disk_name, sizeof(scan->other));
	return 1;
}

/* The unplug bits for @d's emulated disk, if they take no other disk. */
static int sksh_unplug_bits_alone(struct sksh_disk *d)
{
	struct sksh_unplug_scan scan = { .emul = d->emul->bd_disk };

	scan.bits = sksh_unplug_bits(scan.emul);
	if (scan.bits == -EOPNOTSUPP) {
		pr_err(SKSH_NAME ": %pg is an AHCI disk: QEMU's unplug takes IDE and SCSI disks only\n",
		       d->emul);
		return scan.bits;
	}
	if (scan.bits < 0) {
		pr_err(SKSH_NAME ": %pg is no emulated IDE disk of QEMU's: nothing to unplug\n",
		       d->emul);
		return scan.bits;
	}
	if (class_for_each_device(disk_to_dev(scan.emul)->class, NULL, &scan,
				  sksh_unplug_scan_one)) {
		pr_err(SKSH_NAME ": unplugging %pg would take %s too (%s): not unplugging\n",
		       d->emul, scan.other,
		       scan.bits == XEN_UNPLUG_ALL_IDE_DISKS ?
		       "the primary master goes only with all IDE and SCSI disks" :
		       "all IDE disks but the primary master go together");
		return -EBUSY;
	}
	return scan.bits;
}

/* Is the platform device's unplug port there, and are we allowed it? */
static int sksh_unplug_port(void)
{
	u16 magic;

	if (!xen_hvm_domain()) {
		pr_err(SKSH_NAME ": not a Xen HVM guest: no platform device to unplug disks with\n");
		return -ENODEV;
	}
	magic = inw(XEN_IOPORT_MAGIC);
	if (magic == swab16(XEN_IOPORT_MAGIC_VAL)) {
		pr_err(SKSH_NAME ": the device model blocks this guest's PV drivers: no unplug\n");
		return -EPERM;
	}
	if (magic != XEN_IOPORT_MAGIC_VAL) {
		pr_err(SKSH_NAME ": no Xen platform device unplug port (magic %#x)\n",
		       magic);
		return -ENODEV;
	}
	return 0;
}

/*
 * Shutdown, power-off or reboot: the unplugged disk's SCSI device offline
 * before device_shutdown() reaches sd (reboot notifiers run first), so
 * its SYNCHRONIZE CACHE fails at once.  Opening the disk would fail from
 * now on; nothing opens it any more.
 */
static int sksh_unplug_reboot(struct notifier_block *nb, unsigned long action,
			      void *data)
{
	struct sksh_disk *d = container_of(nb, struct sksh_disk, unplug_nb);
	struct scsi_device *sdev = sksh_sdev(d->emul->bd_disk);

	if (!sdev)
		return NOTIFY_DONE;
	mutex_lock(&sdev->state_mutex);
	scsi_device_set_state(sdev, SDEV_OFFLINE);
	mutex_unlock(&sdev->state_mutex);
	return NOTIFY_DONE;
}

/*
 * Freeze (or unfreeze) the request queues of every SCSI device of the
 * emulated disk's controller (all its ports): frozen, none has a request
 * in flight, and new ones wait.
 */
static void sksh_controller_freeze(struct sksh_disk *d, bool freeze)
{
	struct scsi_device *emul = sksh_sdev(d->emul->bd_disk);
	struct scsi_device *sdev;
	struct ata_host *host;
	unsigned int i;

	if (!emul)
		return;
	host = ata_shost_to_port(emul->host)->host;
	for (i = 0; i < host->n_ports; i++)
		shost_for_each_device(sdev, host->ports[i]->scsi_host) {
			if (freeze)
				blk_mq_freeze_queue(sdev->request_queue);
			else
				blk_mq_unfreeze_queue(sdev->request_queue);
		}
}

/**
 * sksh_unplug() - have QEMU unplug the emulated disk, for good.
 * @d: the shunted disk, settled on its PV path.
 *
 * Process context, sleeps.  On success the disk has no way back: the
 * switch core holds bios while the PV path fails (sks_emul_gone()), the
 * shunt switches forward by itself when a PV disk comes back, and the
 * module takes a reference on itself that is never dropped.
 *
 * Return: 0; -EALREADY if unplugged already; -EBUSY when not settled on
 * the PV path or when the unplug would take another disk of the guest;
 * -ENODEV with no platform device's unplug port or no IDE disk;
 * -EOPNOTSUPP for an AHCI disk; -EPERM when the device model blocks the
 * guest's PV drivers.  Each refusal says why in the kernel log.
 */
int sksh_unplug(struct sksh_disk *d)
{
	unsigned long flags;
	int bits, err;

	err = sksh_unplug_port();
	if (err)
		return err;
	bits = sksh_unplug_bits_alone(d);
	if (bits < 0)
		return bits;
	if (!try_module_get(THIS_MODULE))
		return -ENODEV;		/* being unloaded */
	/* pv_mutex: the PV disk is neither let go nor taken meanwhile */
	mutex_lock(&d->pv_mutex);
	spin_lock_irqsave(&d->lock, flags);
	err = d->pv ? sks_emul_gone(&d->s) : -EBUSY;
	if (!err)
		WRITE_ONCE(d->auto_forward, true);
	spin_unlock_irqrestore(&d->lock, flags);
	if (err) {
		mutex_unlock(&d->pv_mutex);
		module_put(THIS_MODULE);
		if (err == -EBUSY)
			pr_err(SKSH_NAME ": %pg is not settled on its PV path: not unplugging\n",
			       d->emul);
		return err;
	}
	/* a shutdown from now on must not wait for the drive */
	d->unplug_nb.notifier_call = sksh_unplug_reboot;
	register_reboot_notifier(&d->unplug_nb);
	/*
	 * QEMU drains and flushes the drive, then resets the whole IDE
	 * function, before the write returns: nothing of the controller's
	 * other drives may be in flight then (the reset would drop it, and
	 * libata would wait 30 s and reset the channel again).
	 */
	sksh_controller_freeze(d, true);
	outw(bits, XEN_IOPORT_UNPLUG);
	sksh_controller_freeze(d, false);
	mutex_unlock(&d->pv_mutex);
	pr_info(SKSH_NAME ": asked the device model to unplug %pg (unplug bits %#x): no way back to it; the module stays until shutdown\n",
		d->emul, bits);
	return 0;
}
