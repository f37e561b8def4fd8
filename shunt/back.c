// SPDX-License-Identifier: GPL-2.0
/*
 * splitkit_shunt's PV disk: taken at load, let go when it went away,
 * taken when it comes (back).  At load the disk pv= names is opened
 * exclusively and checked against the emulated disk (partitions, the
 * disk itself, its position in the domain's config: position.c); with
 * auto_switch=1 a disk that is not there yet (the vbd not connected, or
 * not claimed, see frontend/claim.c) is waited for by its kernel name,
 * the last part of pv=, and splitkit_front (if loaded) is asked to bind
 * the emulated disk's PV twin.  When the PV path fails because its
 * backend was detached, the frontend deletes the disk and the switch core
 * falls back to the emulated path (disk.c).  Once that fallback has settled (on the
 * emulated path, nothing held, no PV bio in flight) and the disk is dead,
 * the shunt lets go of it, so that its driver can free it and a
 * returning disk may take the same name.  When a whole disk of that name
 * is added (the block class's notification, main.c), the shunt opens it,
 * checks it like at load, takes it as its PV disk and, with
 * auto_switch=1, switches forward to it; that switch checks its size and
 * content like every switch.  A switch to PV asked for by hand (`echo
 * pv`) takes a disk that came or came back first too.  A PV disk that
 * failed a bio but stayed (a backend that answers errors, storage that
 * failed for a while) is asked for again with auto_switch=1: after 1 s,
 * then twice as late each time up to about a minute, its bytes compared
 * with the emulated disk's before anything is held (the retry work).
 *
 * Opens are by device number (the notified device's, or the one pv=
 * names, looked up in the caller's context): the work item's kernel
 * thread has no view of the guest's /dev.
 *
 * Context: process context throughout (the load, the work item, a switch
 * to PV, the driver core's add and remove of a device).  The driver core
 * calls sksh_back_notice() under the block class's mutex (and, for a
 * partition, its disk's open_mutex): it only takes the spinlock and
 * queues the work, and never waits for it.
 * Locking: sksh_disk.pv_mutex serialises taking and letting go; the PV
 * pointers change under sksh_disk.lock as well, and only while the disk
 * is settled on its emulated path with no PV bio in flight, so nothing
 * routed can see them change.
 */
#include <linux/blkdev.h>
#include <linux/device.h>
#include <linux/fs.h>
#include <linux/module.h>

#include <splitkit/claim.h>

#include "../frontend/core/check.h"

#include "common.h"

/* While a notified disk is being added: how often to try opening it. */
#define SKSH_BACK_RETRY_MS	50

/*
 * A PV disk that failed and stayed is asked for again (auto_switch=1)
 * after 1 s, then twice as late each time, up to once a minute.
 */
#define SKSH_RETRY_FIRST_MS	1000u
#define SKSH_RETRY_MAX_MS	64000u

/*
 * Nothing can reach the PV disk: on the emulated path with nothing held
 * and no PV bio; with the emulated disk unplugged, the PV path failing
 * (its bios held for the next PV disk) and no PV bio.  Under d->lock.
 */
static bool sksh_back_settled(const struct sksh_disk *d)
{
	if (d->s.emul_gone)
		return d->s.pv_broken && !d->s.inflight[SKS_PV];
	return d->s.state == SKS_ON_EMUL && !d->s.nr_held &&
	       !d->s.inflight[SKS_PV];
}

/* Is the PV disk held one that went away?  Under d->pv_mutex or d->lock. */
static bool sksh_back_dead_locked(const struct sksh_disk *d)
{
	return d->pv && test_bit(GD_DEAD, &d->pv->bd_disk->state);
}

static bool sksh_back_dead(struct sksh_disk *d)
{
	bool dead;

	mutex_lock(&d->pv_mutex);
	dead = sksh_back_dead_locked(d);
	mutex_unlock(&d->pv_mutex);
	return dead;
}

/* Unload began: nothing is taken or switched to any more. */
static bool sksh_back_is_stopped(struct sksh_disk *d)
{
	unsigned long flags;
	bool stopped;

	spin_lock_irqsave(&d->lock, flags);
	stopped = d->back_stopped;
	spin_unlock_irqrestore(&d->lock, flags);
	return stopped;
}

/* Let go of a PV disk that is dead, once nothing can reach it. */
static void sksh_back_release(struct sksh_disk *d)
{
	struct block_device *bdev = NULL;
	struct file *file = NULL;
	unsigned long flags;

	lockdep_assert_held(&d->pv_mutex);
	spin_lock_irqsave(&d->lock, flags);
	if (sksh_back_dead_locked(d) && sksh_back_settled(d)) {
		bdev = d->pv;
		file = d->pv_file;
		d->pv = NULL;
		d->pv_file = NULL;
		d->prechecked = NULL;
	}
	spin_unlock_irqrestore(&d->lock, flags);
	if (!bdev)
		return;
	sksh_pv_put(d, file, bdev);
	pr_info(SKSH_NAME ": %s went away: let go, %pg %s until it comes back\n",
		d->pv_name, d->emul, d->s.emul_gone ?
		"(unplugged) holds its bios" : "stays on its emulated path");
}

/*
 * Take the disk @devt as the PV disk: a whole disk other than the
 * emulated one, at the emulated disk's position in the domain's config.
 * Under d->pv_mutex.
 */
static int sksh_back_open(struct sksh_disk *d, dev_t devt)
{
	struct block_device *bdev;
	unsigned long flags;
	struct file *file;
	bool again;
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
	again = d->pv_taken;
	d->pv_taken = true;
	if (again)
		d->pv_returns++;
	spin_unlock_irqrestore(&d->lock, flags);
	if (again)
		pr_info(SKSH_NAME ": %pg is back: the PV disk of %pg again\n",
			bdev, d->emul);
	else if (d->pv_waited)
		pr_info(SKSH_NAME ": %pg came: the PV disk of %pg\n", bdev,
			d->emul);
	return 0;

put:
	sksh_pv_put(d, file, bdev);
	return err;
}

/* An error of looking up or opening pv= that says no disk is there. */
static bool sksh_back_absent(int err)
{
	return err == -ENOENT || err == -ENXIO;	/* no node; a node of none */
}

/* Take the disk pv= names, in the caller's view of /dev.  Under pv_mutex. */
static int sksh_back_open_path(struct sksh_disk *d)
{
	dev_t devt;
	int err;

	err = lookup_bdev(d->pv_path, &devt);
	if (!err)
		err = sksh_back_open(d, devt);
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
	if (!err && READ_ONCE(d->auto_forward))
		sksh_disk_switch(d, SKS_PV);
	else if (err && err != -EALREADY)
		pr_warn(SKSH_NAME ": %s came but cannot be the PV disk of %pg: %d\n",
			d->pv_name, d->emul, err);
}

/*
 * Waiting for the PV disk: ask splitkit_front, if it is loaded, to bind
 * the PV twin of the emulated disk's position (an HVM guest's frontend
 * leaves twins unbound until claimed: frontend/claim.c), if pv= names
 * that twin as the frontend names it (xvda for disk 0).  The claim is
 * dropped when the shunt goes (sksh_back_unclaim()).
 */
static void sksh_back_claim(struct sksh_disk *d)
{
	int (*claim)(unsigned int index);
	struct skf_vdev v = { };
	char twin[BDEVNAME_SIZE];
	int index, err;

	index = sksh_emul_index(d->emul);
	if (index < 0)
		return;		/* no emulated disk of QEMU's: no twin */
	v.index = index;
	if (skf_disk_name(&v, twin, sizeof(twin)) || strcmp(twin, d->pv_name)) {
		pr_info(SKSH_NAME ": %s is not %pg's PV twin %s: not claimed by the shunt\n",
			d->pv_name, d->emul, twin);
		return;
	}
	claim = symbol_get(skf_claim_disk);
	if (!claim) {
		pr_info(SKSH_NAME ": splitkit_front is not loaded: its PV twin of disk %d is not claimed by the shunt\n",
			index);
		return;
	}
	err = claim(index);
	symbol_put(skf_claim_disk);
	if (err) {
		pr_warn(SKSH_NAME ": asking splitkit_front for the PV twin of disk %d: %d\n",
			index, err);
		return;
	}
	d->claimed = index;
	pr_info(SKSH_NAME ": splitkit_front binds the PV twin of disk %d when it is there (claim disk%d)\n",
		index, index);
}

/**
 * sksh_back_unclaim() - drop the claim the shunt made, as it goes.
 * @d: the disk, its PV disk let go (sksh_disk_close()).
 *
 * Process context.  The twin the shunt asked for is unbound unless root
 * claimed it too or it is open; it must not stay bound, unheld, beside
 * the emulated disk.
 */
void sksh_back_unclaim(struct sksh_disk *d)
{
	int (*unclaim)(unsigned int index);
	int err;

	if (d->claimed < 0)
		return;
	/* no splitkit_front any more: its claims went with it */
	unclaim = symbol_get(skf_unclaim_disk);
	if (unclaim) {
		err = unclaim(d->claimed);
		symbol_put(skf_unclaim_disk);
		if (err)
			pr_warn(SKSH_NAME ": dropping the claim disk%d: %d\n",
				d->claimed, err);
	}
	d->claimed = -1;
}

/**
 * sksh_retry_failed() - the PV path just failed: when to ask for it again.
 * @d: the disk.
 * @now_ns: the time (ktime_get_ns()).
 *
 * Called under d->lock, from disk.c's completion (any context up to hard
 * IRQ), at the first failure of the PV path since it was last asked for.
 * With auto_switch=1 (or after an unplug) and unload not begun, marks the
 * disk retrying; a failure more than SKSH_RETRY_MAX_MS after the last
 * retry that brought the PV path back starts from the first delay again,
 * a sooner one (a disk that keeps failing) goes on doubling it.
 *
 * Return: the delay in jiffies to queue @d->retry_work with; 0 for no
 * retry.
 */
unsigned long sksh_retry_failed(struct sksh_disk *d, u64 now_ns)
{
	lockdep_assert_held(&d->lock);
	if (d->back_stopped || !READ_ONCE(d->auto_forward))
		return 0;
	if (!d->retrying &&
	    now_ns - d->retry_ok_ns > (u64)SKSH_RETRY_MAX_MS * NSEC_PER_MSEC)
		d->retry_ms = SKSH_RETRY_FIRST_MS;
	d->retrying = true;
	return msecs_to_jiffies(d->retry_ms);
}

/*
 * Ask for the PV path again while it failed and its disk stayed: its
 * bytes compared first, nothing held while it still fails
 * (sksh_disk_retry_pv()).  The next run finds the disk on its PV path
 * (done) or asks again, twice as late.  A PV disk that went away is left
 * to its return (sksh_back_work()); a run while the fallback or a switch
 * is still moving only looks again later.
 */
static void sksh_retry_work(struct work_struct *work)
{
	struct sksh_disk *d = container_of(to_delayed_work(work),
					   struct sksh_disk, retry_work);
	bool live, landed, settled;
	unsigned long flags, next;
	unsigned int delay_s;
	int err;

	mutex_lock(&d->pv_mutex);
	live = d->pv && !sksh_back_dead_locked(d);
	mutex_unlock(&d->pv_mutex);
	spin_lock_irqsave(&d->lock, flags);
	if (!live || d->back_stopped)
		d->retrying = false;
	if (!d->retrying) {
		spin_unlock_irqrestore(&d->lock, flags);
		return;
	}
	landed = d->s.state == SKS_ON_PV && !d->s.pv_broken;
	settled = !landed && sksh_back_settled(d);
	if (landed) {
		d->retrying = false;
		d->retry_ok_ns = ktime_get_ns();
	} else if (settled) {
		d->pv_retries++;
		d->retry_ms = min(d->retry_ms * 2, SKSH_RETRY_MAX_MS);
	}
	next = msecs_to_jiffies(d->retry_ms);
	delay_s = d->retry_ms / MSEC_PER_SEC;
	spin_unlock_irqrestore(&d->lock, flags);
	if (landed) {
		pr_info(SKSH_NAME ": %s carries %pg's bios again\n",
			d->pv_name, d->emul);
		return;
	}
	if (settled) {
		err = sksh_disk_retry_pv(d);
		if (err == -ECANCELED)
			return;
		if (err && err != -EALREADY)
			pr_info(SKSH_NAME ": %s still fails (%d): %pg asks for it again in %u s\n",
				d->pv_name, err, d->emul, delay_s);
	}
	queue_delayed_work(system_unbound_wq, &d->retry_work, next);
}

/**
 * sksh_back_init() - take the PV disk at load, or wait for it.
 * @d: the disk, its emulated disk open (sksh_disk_open()).
 * @pv: the PV disk's device node (pv=), kept for later lookups.
 *
 * Process context (may sleep).  A disk that is not there yet (no node,
 * or a node of no disk) is waited for with @d->auto_forward: by the last
 * part of @pv, the kernel's name of the disk (devtmpfs names its nodes
 * so), splitkit_front asked to bind the twin (skf_claim_disk()); without,
 * it is an error as any other.
 *
 * Return: 0 (@d->pv set, or NULL while waiting) or -errno: -ENOENT,
 * -ENXIO (no such disk), -EBUSY (in use), -EINVAL (a partition, the
 * emulated disk itself or another disk of the domain), -ENODEV (a vbd
 * beside a disk that is no emulated one of QEMU's).
 */
int sksh_back_init(struct sksh_disk *d, const char *pv)
{
	int err;

	mutex_init(&d->pv_mutex);
	INIT_DELAYED_WORK(&d->back_work, sksh_back_work);
	INIT_DELAYED_WORK(&d->retry_work, sksh_retry_work);
	d->retry_ms = SKSH_RETRY_FIRST_MS;
	d->pv_path = pv;
	d->claimed = -1;
	mutex_lock(&d->pv_mutex);
	err = sksh_back_open_path(d);
	mutex_unlock(&d->pv_mutex);
	/* set once, before any notice can compare it */
	if (d->pv)
		snprintf(d->pv_name, sizeof(d->pv_name), "%pg", d->pv);
	else
		strscpy(d->pv_name, kbasename(pv), sizeof(d->pv_name));
	if (sksh_back_absent(err) && d->auto_forward) {
		d->pv_waited = true;
		pr_info(SKSH_NAME ": %s is not there yet: %pg switches to it when it comes (auto_switch=1)\n",
			d->pv_name, d->emul);
		sksh_back_claim(d);
		return 0;
	}
	return err;
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
 * sksh_back_take() - before a switch to PV: take a PV disk that came.
 * @d: the disk.
 *
 * Process context (sksh_disk_switch(): the control file's store, the
 * load with auto_switch=1, this file's work item).  pv= is looked up in
 * the caller's view of /dev (the work item's kernel thread finds nothing
 * there, and takes its notified disk itself).  A dead PV disk is let go
 * first, if the fallback has settled.
 *
 * Return: 0 when the shunt has a live PV disk (kept or taken); -ENODEV
 * while it holds one that went away (its fallback not settled yet), when
 * there is none (pv= names no disk: not come yet, or gone), or when
 * unload began; else the error of opening or placing pv= (-EBUSY,
 * -EINVAL, -ENODEV...).
 */
int sksh_back_take(struct sksh_disk *d)
{
	int err = 0;

	mutex_lock(&d->pv_mutex);
	sksh_back_release(d);
	if (sksh_back_dead_locked(d))
		err = -ENODEV;
	else if (!d->pv && sksh_back_is_stopped(d))
		err = -ENODEV;
	else if (!d->pv)
		err = sksh_back_open_path(d);
	mutex_unlock(&d->pv_mutex);
	/* not there (yet, or any more) */
	return sksh_back_absent(err) ? -ENODEV : err;
}

/**
 * sksh_back_stop() - no more returns: before the drain at unload.
 * @d: the disk; no notice can come any more (main.c unregistered).
 *
 * Process context, waits for the work items.  Marks the disk stopped and
 * forgets the notified disk first, so that a run queued afterwards (by a
 * failing PV bio) may still let go of a dead disk but takes none and
 * switches nowhere, and no retry is queued any more; sksh_disk_close()
 * stops them once more.
 */
void sksh_back_stop(struct sksh_disk *d)
{
	unsigned long flags;

	spin_lock_irqsave(&d->lock, flags);
	d->back_stopped = true;
	spin_unlock_irqrestore(&d->lock, flags);
	sksh_back_forget(d, NULL);
	cancel_delayed_work_sync(&d->back_work);
	cancel_delayed_work_sync(&d->retry_work);
}
