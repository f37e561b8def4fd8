// SPDX-License-Identifier: GPL-2.0
/*
 * splitkit_back sharing safety: which disks of this dom0 use which backing
 * file or block device, and whether one more may.  The decision is the
 * portable policy of core/share.c (a writable backing is served to one
 * domain at a time, except to two domains of one VM during a migration,
 * or when the toolstack asked for sharing with mode "w!"); this file keeps
 * the list of users it is applied to and, for a writable block device,
 * claims the device exclusively so that dom0 itself cannot have it
 * mounted (or in use by swap, device-mapper or md) while a guest writes
 * it.  A refusal is -EBUSY, reported with xenbus_dev_fatal() naming the
 * holder.  Used by xenbus.c when it opens a backing and frees a device.
 * Xen's block hotplug script makes the same checks for xen-blkback.
 *
 * Locking: skb_share_lock protects skb_share_users and every
 * skb_dev.share_node; it nests inside skb_dev.xb.lock.
 */
#include <linux/list.h>
#include <linux/mutex.h>

#include "common.h"

static LIST_HEAD(skb_share_users);
static DEFINE_MUTEX(skb_share_lock);

/* What identifies a backing: its block device, or the file's inode. */
static const void *skb_share_key(const struct skb_backing *be)
{
	if (be->bdev)
		return be->bdev;
	return file_inode(be->file);
}

/**
 * skb_share_join() - become a user of the disk's backing, if allowed.
 * @d: the device: @d->be open, @d->user filled in.
 *
 * Process context, under @d->xb.lock.  The first user of a writable block
 * device (not "w!") claims it exclusively (skb_backing_claim()).
 *
 * Return: 0, or -EBUSY (or the claim's -errno), already reported to
 * XenStore and dmesg.
 */
int skb_share_join(struct skb_dev *d)
{
	const void *key = skb_share_key(&d->be);
	bool alone = true;
	struct skb_dev *o;
	int err = 0;

	mutex_lock(&skb_share_lock);
	list_for_each_entry(o, &skb_share_users, share_node) {
		if (skb_share_key(&o->be) != key)
			continue;
		if (!skb_share_ok(&d->user, &o->user)) {
			err = -EBUSY;
			xenbus_dev_fatal(d->dev, err,
					 "%s is in use by domain %d (%s, %s): a disk written by one domain is not shared with another (mode w! would allow it)",
					 d->be.path, o->user.domid,
					 o->dev->nodename,
					 o->user.mode.writable ? "writable" :
					 "read-only");
			goto unlock;
		}
		alone = false;
	}
	/*
	 * With other users (same VM, or "w!") the first one holds the
	 * claim; a second exclusive open would fail against it.
	 */
	if (alone && d->user.mode.writable && !d->user.mode.force) {
		err = skb_backing_claim(&d->be);
		if (err == -EBUSY)
			xenbus_dev_fatal(d->dev, err,
					 "%s is in use in dom0 (mounted, or held by swap, device-mapper, md or another exclusive user)",
					 d->be.path);
		else if (err)
			xenbus_dev_fatal(d->dev, err, "claiming %s",
					 d->be.path);
		if (err)
			goto unlock;
	}
	list_add_tail(&d->share_node, &skb_share_users);
	d->sharing = true;
unlock:
	mutex_unlock(&skb_share_lock);
	return err;
}

/**
 * skb_share_leave() - undo skb_share_join(); no-op if it failed or never ran.
 * @d: the device, before its backing is closed.
 */
void skb_share_leave(struct skb_dev *d)
{
	mutex_lock(&skb_share_lock);
	if (d->sharing)
		list_del(&d->share_node);
	d->sharing = false;
	mutex_unlock(&skb_share_lock);
}
