// SPDX-License-Identifier: GPL-2.0
/*
 * splitkit_shunt's PV disk going away and coming back.  When the PV path
 * fails because its backend was detached, the frontend deletes the disk
 * and the switch core falls back to the emulated path (disk.c).  Once
 * that fallback has settled (on the emulated path, nothing held, no PV
 * bio in flight) and the disk is dead, the shunt lets go of it, so that
 * its driver can free it and a returning disk may take the same name.
 * When a whole disk of that name is added again (the block class's
 * notification, main.c), the shunt opens it, checks its position in the
 * domain's config like at load (position.c), takes it as its PV disk and,
 * with auto_switch=1, switches forward to it; that switch checks its size
 * and content like every switch.  A switch to PV asked for by hand after
 * a fallback (`echo pv`) takes a returned disk first too.
 *
 * Opens are by device number (the notified device's, or the one pv=
 * names, looked up in the caller's context): the work item's kernel
 * thread has no view of the guest's /dev.
 *
 * Context: process context throughout (the work item, a switch to PV,
 * the driver core's add and remove of a device).  The driver core calls
 * sksh_back_notice() under the block class's mutex (and, for a
 * partition, its disk's open_mutex): it only takes the spinlock and
 * queues the work, and never waits for it.
 * Locking: sksh_disk.pv_mutex serialises letting go and taking; the PV
 * pointers change under sksh_disk.lock as well, and only while the disk
 * is settled on its emulated path with no PV bio in flight, so nothing
 * routed can see them change.
 */
#include <linux/blkdev.h>
#include <linux/device.h>
#include <linux/fs.h>

#include "common.h"

/* While a notified disk is being added: how often to try opening it. */
#define SKSH_BACK_RETRY_MS	50

/* On the emulated path with nothing held and no PV bio.  Under d->lock. */
static bool sksh_back_settled(const struct sksh_disk *d)
{
	return d->s.state == SKS_ON_EMUL && !d->s.nr_held &&
	       !d->s.inflight[SKS_PV];
}

/* Is the PV disk held one that went away? */
static bool sksh_back_dead(struct sksh_disk *d)
{
	bool dead;

	mutex_lock(&d->pv_mutex);
	dead = d->pv && test_bit(GD_DEAD, &d->pv->bd_disk->state);
	mutex_unlock(&d->pv_mutex);
	return dead;
}

/* Let go of a PV disk that is dead, once nothing can reach it. */
static void sksh_back_release(struct sksh_disk *d)
{
	struct block_device *bdev = NULL;
	struct file *file = NULL;
	unsigned long flags;

	lockdep_assert_held(&d->pv_mutex);
	spin_lock_irqsave(&d->lock, flags);
	if (d->pv && test_bit(GD_DEAD, &d->pv->bd_disk->state) &&
	    sksh_back_settled(d)) {
		bdev = d->pv;
		file = d->pv_file;
		d->pv = NULL;
		d->pv_file = NULL;
	}
	spin_unlock_irqrestore(&d->lock, flags);
	if (!bdev)
		return;
	sksh_pv_put(d, file, bdev);
	pr_info(SKSH_NAME ": %s went away: let go, %pg stays on its emulated path until it comes back\n",
		d->pv_name, d->emul);
}

/* Take the disk @devt as the PV disk again.  Under d->pv_mutex. */
static int sksh_back_open(struct sksh_disk *d, dev_t devt)
{
	struct block_device *bdev;
	unsigned long flags;
	struct file *file;
	int err;

	lockdep_assert_held(&d->pv_mutex);
	if (d->pv)
		return -EALREADY;
	err = sksh_pv_get(d, devt, &file, &bdev);
	if (err)
		return err;
	err = -EINVAL;
	if (bdev_is_partition(bdev) || bdev->bd_disk == d->emul->bd_disk)
		goto put;
	err = sksh_position_check(d->emul, bdev);
	if (err)
		goto put;
	spin_lock_irqsave(&d->lock, flags);
	d->pv = bdev;
	d->pv_file = file;
	d->pv_returns++;
	spin_unlock_irqrestore(&d->lock, flags);
	pr_info(SKSH_NAME ": %pg is back: the PV disk of %pg again\n", bdev,
		d->emul);
	return 0;

put:
	sksh_pv_put(d, file, bdev);
	return err;
}

/*
 * The notified disk @dev, once it is added whole (GD_ADDED: live, its
 * partitions scanned); -EAGAIN while it is still being added, -ENODEV
 * once it is gone again.  Under d->pv_mutex.
 */
static int sksh_back_take_dev(struct sksh_disk *d, struct device *dev)
{
	struct gendisk *disk = dev_to_disk(dev);

	if (!device_is_registered(dev) || test_bit(GD_DEAD, &disk->state))
		return -ENODEV;
	if (!test_bit(GD_ADDED, &disk->state))
		return -EAGAIN;
	return sksh_back_open(d, dev->devt);
}

/* Done with @dev (NULL: whatever) if the last add notice still names it. */
static void sksh_back_forget(struct sksh_disk *d, struct device *dev)
{
	struct device *old = NULL;
	unsigned long flags;

	spin_lock_irqsave(&d->lock, flags);
	if (!dev || d->back_dev == dev) {
		old = d->back_dev;
		d->back_dev = NULL;
	}
	spin_unlock_irqrestore(&d->lock, flags);
	put_device(old);
}

/*
 * Let go of a dead PV disk; take a notified one that was added.  A disk
 * being added is announced before it can be opened (device_add() comes
 * before the block device is live): until the disk is added whole, try
 * again a little later; opening it earlier would fail and, on kernels
 * that autoload block majors, ask modprobe for a driver of its major
 * (xen-blkfront for xvd).
 */
static void sksh_back_work(struct work_struct *work)
{
	struct sksh_disk *d = container_of(to_delayed_work(work),
					   struct sksh_disk, back_work);
	struct device *dev;
	unsigned long flags;
	int err = -ENODEV;

	mutex_lock(&d->pv_mutex);
	sksh_back_release(d);
	spin_lock_irqsave(&d->lock, flags);
	dev = d->back_stopped ? NULL : d->back_dev;
	get_device(dev);
	spin_unlock_irqrestore(&d->lock, flags);
	if (dev)
		err = sksh_back_take_dev(d, dev);
	mutex_unlock(&d->pv_mutex);
	if (!dev)
		return;
	if (err == -EAGAIN) {
		put_device(dev);
		queue_delayed_work(system_unbound_wq, &d->back_work,
				   msecs_to_jiffies(SKSH_BACK_RETRY_MS));
		return;
	}
	/*
	 * A disk added while the dead one is still held (its fallback not
	 * settled yet): the settling PV bio runs this again (disk.c).
	 */
	if (err == -EALREADY && sksh_back_dead(d)) {
		put_device(dev);
		return;
	}
	sksh_back_forget(d, dev);
	put_device(dev);
	/* unload stops the work (sksh_back_stop()) before its drain */
	if (!err && d->auto_forward)
		sksh_disk_switch(d, SKS_PV);
	else if (err && err != -EALREADY)
		pr_warn(SKSH_NAME ": %s came back but cannot be the PV disk of %pg: %d\n",
			d->pv_name, d->emul, err);
}

/**
 * sksh_back_init() - set up the PV disk's return (before any notice).
 * @d: the disk, its PV disk open (sksh_disk_open()).
 *
 * Process context.
 */
void sksh_back_init(struct sksh_disk *d)
{
	mutex_init(&d->pv_mutex);
	INIT_DELAYED_WORK(&d->back_work, sksh_back_work);
	snprintf(d->pv_name, sizeof(d->pv_name), "%pg", d->pv);
}

/**
 * sksh_back_notice() - a block device was added or removed.
 * @d: the disk.
 * @dev: the device (a disk or a partition).
 * @added: added, or removed.
 *
 * Process context (the driver core's class interface, main.c).  A whole
 * disk with the PV disk's name is looked at by the work item: a removed
 * one is let go once the fallback has settled, an added one taken.
 */
void sksh_back_notice(struct sksh_disk *d, struct device *dev, bool added)
{
	struct device *old = NULL;
	unsigned long flags;

	if (strcmp(dev_name(dev), d->pv_name) ||
	    bdev_is_partition(dev_to_bdev(dev)))
		return;
	if (added) {
		spin_lock_irqsave(&d->lock, flags);
		if (!d->back_stopped) {
			old = d->back_dev;
			d->back_dev = get_device(dev);
		}
		spin_unlock_irqrestore(&d->lock, flags);
		put_device(old);
	}
	mod_delayed_work(system_unbound_wq, &d->back_work, 0);
}

/**
 * sksh_back_take() - before a switch to PV: take a PV disk that came back.
 * @d: the disk.
 *
 * Process context (sksh_disk_switch(): the control file's store, the
 * load with auto_switch=1, this file's work item).  pv= is looked up in
 * the caller's view of /dev (the work item's kernel thread finds nothing
 * there, and takes its notified disk itself).  A dead PV disk is let go
 * first, if the fallback has settled.
 *
 * Return: 0 when the shunt has a live PV disk (kept or taken); -ENODEV
 * while it holds one that went away (its fallback not settled yet), or
 * when unload began; else the error of looking up, opening or placing
 * pv= (-ENOENT, -ENXIO, -EBUSY, -EINVAL...).
 */
int sksh_back_take(struct sksh_disk *d)
{
	dev_t devt;
	int err = 0;

	mutex_lock(&d->pv_mutex);
	sksh_back_release(d);
	if (d->pv && test_bit(GD_DEAD, &d->pv->bd_disk->state))
		err = -ENODEV;
	else if (!d->pv && READ_ONCE(d->back_stopped))
		err = -ENODEV;
	else if (!d->pv) {
		err = lookup_bdev(d->pv_path, &devt);
		if (!err)
			err = sksh_back_open(d, devt);
	}
	mutex_unlock(&d->pv_mutex);
	return err;
}

/**
 * sksh_back_stop() - no more returns: before the drain at unload.
 * @d: the disk; no notice can come any more (main.c unregistered).
 *
 * Process context, waits for the work item.  Marks the disk stopped and
 * forgets the notified disk first, so that a run queued afterwards (by a
 * failing PV bio) may still let go of a dead disk but takes none and
 * switches nowhere; sksh_disk_close() stops it once more.
 */
void sksh_back_stop(struct sksh_disk *d)
{
	unsigned long flags;

	spin_lock_irqsave(&d->lock, flags);
	d->back_stopped = true;
	spin_unlock_irqrestore(&d->lock, flags);
	sksh_back_forget(d, NULL);
	cancel_delayed_work_sync(&d->back_work);
}
