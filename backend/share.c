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
 * Xen's block hotplug script makes the same checks for xen-blkback.  For
 * a regular file it also keeps QEMU's image locks (qemulock.c) for all
 * our disks on the file, taken before anything reads or writes it.
 *
 * Locking: skb_share_lock protects skb_share_users, every
 * skb_dev.share_node, skb_qlocks and every struct skb_qlock; it nests
 * inside skb_dev.xb.lock.
 */
#include <linux/file.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/slab.h>

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
 * struct skb_qlock - QEMU's image locks on one file, for all our disks on
 *	it.
 * @node: in skb_qlocks.
 * @inode: the file's inode: which file.
 * @file: owns the locks: a reference to the file of the first disk that
 *	took them, kept until the last disk goes, so that the locks outlive
 *	the disk that took them (a migration's source).  NULL where the
 *	filesystem has no OFD locks.
 * @users: our disks counted here.
 * @used: per QEMU permission n, how many of them use it.
 * @unshared: per permission, how many of them do not share it.
 *
 * The locks held are the union of the disks' (for each n with a count),
 * so that a disk joining with more - writing beside a reader, a "w!" disk
 * beside one that shares nothing - takes and tests what it adds.
 */
struct skb_qlock {
	struct list_head node;
	struct inode *inode;
	struct file *file;
	unsigned int users;
	unsigned int used[SK_QEMU_PERMS];
	unsigned int unshared[SK_QEMU_PERMS];
};

static LIST_HEAD(skb_qlocks);

/* The permissions with a count in @cnt, as a mask. */
static unsigned int skb_qlock_mask(const unsigned int *cnt)
{
	unsigned int n, m = 0;

	for (n = 0; n < SK_QEMU_PERMS; n++)
		if (cnt[n])
			m |= BIT(n);
	return m;
}

/* Count @mask's permissions in @cnt up (@delta 1) or down (-1). */
static void skb_qlock_count(unsigned int *cnt, unsigned int mask, int delta)
{
	unsigned int n;

	for (n = 0; n < SK_QEMU_PERMS; n++)
		if (mask & BIT(n))
			cnt[n] += delta;
}

static struct skb_qlock *skb_qlock_find(struct inode *inode)
{
	struct skb_qlock *q;

	list_for_each_entry(q, &skb_qlocks, node)
		if (q->inode == inode)
			return q;
	return NULL;
}

/**
 * skb_share_qemu_lock() - lock a backing file as QEMU would.
 * @be: a backing just opened, before anything reads or writes it; only
 *	a regular file is locked, and not one with @be->no_qemu_lock.
 *
 * Process context; may sleep; takes skb_share_lock.  Adds what this disk
 * uses and does not share (skb_qemu_perms()) to the locks our disks hold
 * on the file and tests the whole set against other processes' locks: a
 * VM's QEMU, qemu-img, qemu-io or the splitkit tool using the file in a
 * way that conflicts refuses the disk.  Between our own disks on one file
 * the sharing rules decide (skb_share_join()).  A filesystem without OFD
 * locks leaves the file unlocked (QEMU's locking=auto does the same).
 * Undone by skb_share_qemu_unlock().
 *
 * Return: 0, -EBUSY (@be->why says why), -ENOMEM, or the lock
 * operation's -errno.
 */
int skb_share_qemu_lock(struct skb_backing *be)
{
	struct inode *inode = file_inode(be->file);
	unsigned int used, unshared, add_used, add_unshared;
	struct skb_qlock *q;
	bool fresh = false;
	int err = 0;

	if (!S_ISREG(inode->i_mode) || be->no_qemu_lock)
		return 0;
	skb_qemu_perms(be, &used, &unshared);
	mutex_lock(&skb_share_lock);
	q = skb_qlock_find(inode);
	if (!q) {
		q = kzalloc(sizeof(*q), GFP_KERNEL);
		if (!q) {
			err = -ENOMEM;
			goto unlock;
		}
		q->inode = inode;
		/* no OFD locks on this filesystem: the file stays unlocked */
		if (skb_qemu_supported(be->file))
			q->file = get_file(be->file);
		list_add(&q->node, &skb_qlocks);
		fresh = true;
	}
	add_used = used & ~skb_qlock_mask(q->used);
	add_unshared = unshared & ~skb_qlock_mask(q->unshared);
	if (q->file)
		err = skb_qemu_take(q->file, add_used, add_unshared);
	if (err == -EBUSY)
		snprintf(be->why, sizeof(be->why),
			 "in use by another process in dom0, which holds a write lock on QEMU's lock bytes");
	if (!err && q->file)
		err = skb_qemu_test(q->file, used | skb_qlock_mask(q->used),
				    unshared | skb_qlock_mask(q->unshared),
				    be->why, sizeof(be->why));
	if (err)
		goto drop_added;
	skb_qlock_count(q->used, used, 1);
	skb_qlock_count(q->unshared, unshared, 1);
	q->users++;
	be->qlock = q;
	goto unlock;

drop_added:
	if (q->file)
		skb_qemu_drop(q->file, add_used, add_unshared);
	if (fresh) {
		list_del(&q->node);
		if (q->file)
			fput(q->file);
		kfree(q);
	}
unlock:
	mutex_unlock(&skb_share_lock);
	return err;
}

/**
 * skb_share_qemu_unlock() - undo skb_share_qemu_lock(); no-op if it took
 *	nothing.
 * @be: the backing, still open.
 *
 * Process context; takes skb_share_lock.  Drops the lock bytes no other
 * of our disks on the file needs; the last disk drops them all and the
 * file reference that owned them, at once rather than when a deferred
 * fput() gets to it: QEMU may be next.
 */
void skb_share_qemu_unlock(struct skb_backing *be)
{
	struct skb_qlock *q = be->qlock;
	unsigned int used, unshared, had_used, had_unshared;

	if (!q)
		return;
	skb_qemu_perms(be, &used, &unshared);
	mutex_lock(&skb_share_lock);
	had_used = skb_qlock_mask(q->used);
	had_unshared = skb_qlock_mask(q->unshared);
	skb_qlock_count(q->used, used, -1);
	skb_qlock_count(q->unshared, unshared, -1);
	if (q->file)
		skb_qemu_drop(q->file, had_used & ~skb_qlock_mask(q->used),
			      had_unshared & ~skb_qlock_mask(q->unshared));
	if (!--q->users) {
		list_del(&q->node);
		if (q->file)
			fput(q->file);
		kfree(q);
	}
	mutex_unlock(&skb_share_lock);
	be->qlock = NULL;
}

/**
 * skb_share_dm_twin() - may the guest's device model serve this disk too?
 * @dev: a vbd backend device.
 *
 * An HVM guest's device model (QEMU) is given the same file as an
 * emulated disk for some of its disks (skb_share_dm_disk() says which,
 * from the name in the backend's "dev" key).  QEMU takes its image locks
 * on that file, so ours would keep the device model from starting, or
 * refuse the vbd if it started first: such a disk is served without
 * QEMU's locks (its device model's own hold them while it runs).  The
 * guest's type is libxl's "/libxl/<domid>/type".
 *
 * Process context.  Return: true for a possible twin.
 */
bool skb_share_dm_twin(struct xenbus_device *dev)
{
	char path[32], *type, *vdev;
	bool twin = false;

	snprintf(path, sizeof(path), "/libxl/%d", dev->otherend_id);
	type = xenbus_read(XBT_NIL, path, "type", NULL);
	if (IS_ERR(type))
		return false;
	if (!strcmp(type, "hvm")) {
		vdev = xenbus_read(XBT_NIL, dev->nodename, "dev", NULL);
		twin = skb_share_dm_disk(IS_ERR(vdev) ? NULL : vdev);
		if (!IS_ERR(vdev))
			kfree(vdev);
	}
	kfree(type);
	return twin;
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
