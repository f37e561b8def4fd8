// SPDX-License-Identifier: GPL-2.0
/*
 * splitkit_back online resize: a raw backing whose size changes in dom0
 * while the guest runs (a logical volume extended, "losetup -c" after its
 * file grew, a file served in place truncated longer) is announced the way
 * xen-blkback's xen_vbd_resize() announces it: "sectors" rewritten and
 * "state" written Connected again in one XenStore transaction, both ends
 * staying Connected.  xen-blkfront (blkfront_connect() on a connected
 * device) and splitkit_front (skf_connected()) take up the new capacity
 * without a reconnect.
 *
 * A change is noticed by the data path (skb_resize_check(), per request:
 * one read of the size the block layer or the inode keeps, no lock) and,
 * for a guest that does no I/O, by a look once a second while connected
 * (xen-blkback's thread looks every 100 ms); the work item below does the
 * rest in process context, under the device's xb.lock.  The validator's
 * limit moves first, so a grown disk takes requests in its new sectors as
 * soon as the guest sees them and a shrunk one refuses requests past its
 * new end; a write to a file that is past its end (the shrink not yet
 * seen) fails instead of making the file longer again (file.c).  "state"
 * is written Connected again only if XenStore still says Connected, read
 * in the same transaction, so a Closing that the toolstack or a fatal
 * error wrote meanwhile stands.  A failed announcement is tried again at
 * the next look; a disk that connects takes the backing's size then
 * (skb_resize_connect()), so a size that changed while it was not
 * connected reaches the guest too.  A size of zero or one that is not a
 * whole number of the disk's sectors is not announced: the guest keeps the
 * size it has, and dom0's log says why.  A qcow2 image's virtual size does
 * not change while it is attached (its ops have no size_now).
 */
#include <linux/workqueue.h>
#include <xen/xenbus.h>

#include <splitkit/blkif_keys.h>

#include "common.h"

/* How often a connected disk's backing is looked at without I/O. */
#define SKB_RESIZE_POLL		HZ

/* The disk's "sectors" key: @sectors (512-byte units). */
static int skb_resize_write(struct xenbus_transaction xbt, struct skb_dev *d,
			    u64 sectors)
{
	struct sk_blkif_disk k = { .sectors = sectors };

	return sk_xs_write_keys(xbt, d->dev->nodename, SK_XS_BACKEND,
				sk_blkif_disk_keys, SK_BLKIF_NR_KEYS, &k,
				BIT_ULL(SK_BLKIF_SECTORS));
}

/* "sectors", then "state" Connected again if XenStore says Connected. */
static int skb_resize_xbt(struct xenbus_transaction xbt, void *arg)
{
	struct skb_dev *d = arg;
	int state, err;

	err = skb_resize_write(xbt, d, d->be.sectors);
	if (err)
		return err;
	/* read in the transaction: a Closing written meanwhile conflicts */
	if (xenbus_scanf(xbt, d->dev->nodename, "state", "%d", &state) != 1 ||
	    state != XenbusStateConnected)
		return 0;
	/* not xenbus_switch_state(): our state stays what it is */
	return xenbus_printf(xbt, d->dev->nodename, "state", "%d",
			     XenbusStateConnected);
}

/* Can @sectors (512-byte units) be the disk's size? */
static bool skb_resize_ok(const struct skb_backing *be, u64 sectors)
{
	u32 lbs = be->sector_size ?: SECTOR_SIZE;

	return sectors && !((sectors << SECTOR_SHIFT) & (lbs - 1));
}

static void skb_resize_refused(struct skb_dev *d, u64 now)
{
	dev_warn(&d->dev->dev,
		 "%s now has %llu sectors, not a size for a disk of %u-byte sectors: domain %d keeps %llu\n",
		 d->be.path, now, d->be.sector_size, d->dev->otherend_id,
		 d->be.sectors);
}

static void skb_resize_work(struct work_struct *work)
{
	struct skb_dev *d = container_of(work, struct skb_dev, resize_work);
	struct skb_backing *be = &d->be;
	u64 now, old;
	int err;

	mutex_lock(&d->xb.lock);
	/* a disk that connects takes the size then (skb_resize_connect()) */
	if (!d->link)
		goto unlock;
	now = be->ops->size_now(be);
	if (now == READ_ONCE(d->sectors_seen))
		goto unlock;
	WRITE_ONCE(d->sectors_seen, now);
	old = be->sectors;
	if (now == old)
		goto unlock;	/* back to the size the guest has */
	if (!skb_resize_ok(be, now)) {
		skb_resize_refused(d, now);
		goto unlock;
	}
	/* requests to the new sectors are valid before the guest sees them */
	WRITE_ONCE(d->lim.sectors, now);
	be->sectors = now;
	err = sk_xs_transact(skb_resize_xbt, d);
	if (err) {
		be->sectors = old;
		WRITE_ONCE(d->sectors_seen, old);	/* the next look retries */
		dev_warn(&d->dev->dev,
			 "%s resized from %llu to %llu sectors, announcing it failed (%d): tried again\n",
			 be->path, old, now, err);
		goto unlock;
	}
	atomic64_inc(&d->stats.resized);
	dev_info(&d->dev->dev,
		 "%s resized from %llu to %llu sectors: announced to domain %d\n",
		 be->path, old, now, d->dev->otherend_id);
unlock:
	mutex_unlock(&d->xb.lock);
}

/* The look once a second, while connected. */
static void skb_resize_poll(struct work_struct *work)
{
	struct skb_dev *d = container_of(to_delayed_work(work), struct skb_dev,
					 resize_poll);

	if (!READ_ONCE(d->link))
		return;
	skb_resize_check(d);
	schedule_delayed_work(&d->resize_poll, SKB_RESIZE_POLL);
}

/**
 * skb_resize_init() - prepare a probed device's resize work.
 * @d: the device, zeroed.
 */
void skb_resize_init(struct skb_dev *d)
{
	INIT_WORK(&d->resize_work, skb_resize_work);
	INIT_DELAYED_WORK(&d->resize_poll, skb_resize_poll);
}

/**
 * skb_resize_connect() - a disk connects: "sectors" as the backing is now.
 * @d: the device, its backing open, not yet connected.
 *
 * A size that changed while the disk was not connected (a backing resized
 * between a guest's save and restore, or an announcement that failed) is
 * written before the frontend reads it.  Context: process, under
 * @d->xb.lock, before the limits are built (skb_build_limits()).
 *
 * Return: 0, or the XenStore error.
 */
int skb_resize_connect(struct skb_dev *d)
{
	struct skb_backing *be = &d->be;
	u64 now;
	int err;

	if (!be->ops->size_now)
		return 0;
	now = be->ops->size_now(be);
	WRITE_ONCE(d->sectors_seen, now);
	if (now == be->sectors)
		return 0;
	if (!skb_resize_ok(be, now)) {
		skb_resize_refused(d, now);
		return 0;
	}
	err = skb_resize_write(XBT_NIL, d, now);
	if (err)
		return err;
	dev_info(&d->dev->dev, "%s resized from %llu to %llu sectors\n",
		 be->path, be->sectors, now);
	be->sectors = now;
	atomic64_inc(&d->stats.resized);
	return 0;
}

/**
 * skb_resize_start() - watch the size of a just-opened backing.
 * @d: the device, its backing open and its disk keys (with "sectors")
 *	written.
 *
 * Context: process, under @d->xb.lock or before the device can connect.
 */
void skb_resize_start(struct skb_dev *d)
{
	WRITE_ONCE(d->sectors_seen, d->be.sectors);
}

/**
 * skb_resize_watch() - look at the backing's size once a second.
 * @d: a device that just connected (@d->link set).
 *
 * Context: any; the looks stop by themselves once @d->link is NULL.
 */
void skb_resize_watch(struct skb_dev *d)
{
	if (d->be.ops->size_now)
		schedule_delayed_work(&d->resize_poll, SKB_RESIZE_POLL);
}

/**
 * skb_resize_check() - start announcing a backing whose size changed.
 * @d: a connected device.
 *
 * Consumer context (per request) or the look once a second: a read of the
 * backing's size and a comparison; on a change, the resize work is queued
 * (once while it is pending).
 */
void skb_resize_check(struct skb_dev *d)
{
	u64 (*size_now)(const struct skb_backing *be) = d->be.ops->size_now;

	if (size_now && unlikely(size_now(&d->be) != READ_ONCE(d->sectors_seen)))
		schedule_work(&d->resize_work);
}

/**
 * skb_resize_unwatch() - no look once a second runs or starts after.
 * @d: a disconnected device (@d->link NULL).
 *
 * Context: process, may sleep; also under @d->xb.lock (the look does not
 * take it).  The resize work may still run; it does nothing on a
 * disconnected device.
 */
void skb_resize_unwatch(struct skb_dev *d)
{
	cancel_delayed_work_sync(&d->resize_poll);
}

/**
 * skb_resize_stop() - no look and no announcement runs or starts after.
 * @d: the device, disconnected for good (no request calls
 *	skb_resize_check()).
 *
 * Context: process, may sleep; not under @d->xb.lock (the work takes it).
 */
void skb_resize_stop(struct skb_dev *d)
{
	cancel_delayed_work_sync(&d->resize_poll);
	cancel_work_sync(&d->resize_work);
}
