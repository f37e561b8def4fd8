// SPDX-License-Identifier: GPL-2.0
/*
 * splitkit_back and QEMU's image locks: a regular file splitkit_back
 * serves carries the same open file description (OFD) locks QEMU's
 * file-posix driver takes on an image it uses, so that a VM's QEMU (qdisk),
 * qemu-img, qemu-io and the splitkit tool (image/user/platform_user.c)
 * refuse an image a guest is using, and splitkit_back refuses one they
 * hold.  QEMU's convention (<splitkit/qemu_lock.h>): an open file
 * description holds a shared lock on byte 100 + n while it uses
 * permission n, and on byte 200 + n while it lets nobody else have
 * permission n (n: 0 consistent read, 1 write, 3 resize); a user first
 * takes its locks, then tests for a lock of someone else's that
 * conflicts.  This file applies it: which permissions a disk uses and
 * does not share, and taking, testing and dropping the bytes on one
 * struct file.  share.c keeps one such file per backing file for all our
 * disks on it, holding the union of their permissions (the locks of one
 * open file description never conflict with each other), and drops the
 * bytes explicitly rather than when a deferred fput() gets to them.
 */
#include <linux/fs.h>

#include <splitkit/vfs.h>

#include "common.h"

/* what another's lock on 200 + n (we use n) or 100 + n (we keep n) means */
static const char *const skb_perm_unshared[SK_QEMU_PERMS] = {
	[SK_QEMU_PERM_READ] = "does not share reading",
	[SK_QEMU_PERM_WRITE] = "does not share writing",
	[SK_QEMU_PERM_RESIZE] = "does not share resizing",
};

static const char *const skb_perm_used[SK_QEMU_PERMS] = {
	[SK_QEMU_PERM_READ] = "reads it",
	[SK_QEMU_PERM_WRITE] = "writes it",
	[SK_QEMU_PERM_RESIZE] = "may resize it",
};

/**
 * skb_qemu_perms() - the permissions a disk uses and does not share.
 * @be: the disk's backing (@be->read_only, @be->format, @be->share_write).
 * @used: set to the QEMU permissions it uses, BIT(n): reading always;
 *	writing on a writable disk; resizing on a writable qcow2 image,
 *	which grows its file as it allocates clusters.
 * @unshared: set to those it lets nobody else have, as a QEMU disk
 *	device: writing (unless mode "w!") and resizing.
 *
 * Any context.
 */
void skb_qemu_perms(const struct skb_backing *be, unsigned int *used,
		    unsigned int *unshared)
{
	*used = BIT(SK_QEMU_PERM_READ);
	if (!be->read_only)
		*used |= BIT(SK_QEMU_PERM_WRITE);
	if (!be->read_only && be->format == SKB_FMT_QCOW2)
		*used |= BIT(SK_QEMU_PERM_RESIZE);
	*unshared = BIT(SK_QEMU_PERM_RESIZE);
	if (!be->share_write)
		*unshared |= BIT(SK_QEMU_PERM_WRITE);
}

static void skb_qemu_fl(struct file_lock *fl, struct file *f,
			unsigned char type, loff_t start, loff_t end)
{
	locks_init_lock(fl);
	SK_FLC(fl, flags) = FL_POSIX | FL_OFDLCK;
	SK_FLC(fl, owner) = f;
	SK_FLC(fl, file) = f;
	SK_FLC(fl, pid) = current->tgid;
	SK_FLC(fl, type) = type;
	fl->fl_start = start;
	fl->fl_end = end;
}

static int skb_qemu_set(struct file *f, unsigned char type, loff_t start,
			loff_t end)
{
	struct file_lock fl;
	int err;

	skb_qemu_fl(&fl, f, type, start, end);
	err = vfs_lock_file(f, F_SETLK, &fl, NULL);
	locks_release_private(&fl);
	return err;
}

/* Does another open file description hold a lock on @byte? */
static int skb_qemu_held(struct file *f, loff_t byte, bool *held)
{
	struct file_lock fl;
	int err;

	skb_qemu_fl(&fl, f, F_WRLCK, byte, byte);
	err = vfs_test_lock(f, &fl);
	*held = !err && SK_FLC(&fl, type) != F_UNLCK;
	locks_release_private(&fl);
	return err;
}

/**
 * skb_qemu_supported() - does the file's filesystem have OFD locks?
 * @f: a regular file.
 *
 * Process context.  A test of byte 100, which takes nothing: filesystems
 * without OFD locks (or mounted without locking) answer -EINVAL,
 * -EOPNOTSUPP or -ENOLCK.
 *
 * Return: true if they can be taken.
 */
bool skb_qemu_supported(struct file *f)
{
	bool held;
	int err = skb_qemu_held(f, SK_QEMU_LOCK_USED + SK_QEMU_PERM_READ, &held);

	return err != -EINVAL && err != -EOPNOTSUPP && err != -ENOLCK;
}

/**
 * skb_qemu_take() - take the lock bytes of permissions on a file.
 * @f: the file owning the locks (a regular file, opened for reading).
 * @used: permissions to take byte 100 + n of.
 * @unshared: permissions to take byte 200 + n of.
 *
 * Process context.  Shared locks never wait.
 *
 * Return: 0; -EBUSY if another process holds a write lock on a byte
 * (none of QEMU's, which are all shared); another -errno of the lock
 * operation.  On an error the bytes taken here may be left:
 * skb_qemu_drop() them.
 */
int skb_qemu_take(struct file *f, unsigned int used, unsigned int unshared)
{
	unsigned int n;
	int err;

	for (n = 0; n < SK_QEMU_PERMS; n++) {
		err = 0;
		if (used & BIT(n))
			err = skb_qemu_set(f, F_RDLCK, SK_QEMU_LOCK_USED + n,
					   SK_QEMU_LOCK_USED + n);
		if (!err && (unshared & BIT(n)))
			err = skb_qemu_set(f, F_RDLCK, SK_QEMU_LOCK_UNSHARED + n,
					   SK_QEMU_LOCK_UNSHARED + n);
		if (err)
			return err == -EAGAIN ? -EBUSY : err;
	}
	return 0;
}

/**
 * skb_qemu_drop() - release the lock bytes of permissions on a file.
 * @f: the file owning the locks.
 * @used: permissions whose byte 100 + n goes.
 * @unshared: permissions whose byte 200 + n goes.
 *
 * Process context.
 */
void skb_qemu_drop(struct file *f, unsigned int used, unsigned int unshared)
{
	unsigned int n;

	for (n = 0; n < SK_QEMU_PERMS; n++) {
		if (used & BIT(n))
			skb_qemu_set(f, F_UNLCK, SK_QEMU_LOCK_USED + n,
				     SK_QEMU_LOCK_USED + n);
		if (unshared & BIT(n))
			skb_qemu_set(f, F_UNLCK, SK_QEMU_LOCK_UNSHARED + n,
				     SK_QEMU_LOCK_UNSHARED + n);
	}
}

/**
 * skb_qemu_test() - does another process hold a conflicting lock?
 * @f: the file owning our locks (whose own locks never conflict).
 * @used: the permissions we use: another's byte 200 + n refuses us.
 * @unshared: those we do not share: another's byte 100 + n refuses us.
 * @why: set to what the other one does, for the xenbus error.
 * @len: size of @why.
 *
 * Process context.
 *
 * Return: 0, -EBUSY (@why set), or the lock test's -errno.
 */
int skb_qemu_test(struct file *f, unsigned int used, unsigned int unshared,
		  char *why, size_t len)
{
	const char *what = NULL;
	unsigned int n;
	bool held;
	int err;

	for (n = 0; n < SK_QEMU_PERMS && !what; n++) {
		if (used & BIT(n)) {
			err = skb_qemu_held(f, SK_QEMU_LOCK_UNSHARED + n, &held);
			if (err)
				return err;
			if (held)
				what = skb_perm_unshared[n];
		}
		if (!what && (unshared & BIT(n))) {
			err = skb_qemu_held(f, SK_QEMU_LOCK_USED + n, &held);
			if (err)
				return err;
			if (held)
				what = skb_perm_used[n];
		}
	}
	if (!what)
		return 0;
	snprintf(why, len,
		 "in use by another process in dom0 (a VM's QEMU, qemu-img, qemu-io or splitkit img), which %s",
		 what);
	return -EBUSY;
}
