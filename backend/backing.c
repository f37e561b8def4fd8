// SPDX-License-Identifier: GPL-2.0
/*
 * splitkit_back backing store: open the file or block device the hotplug
 * script (tools/hotplug/splitkit) published, with the access mode xl asked
 * for, pick the struct skb_backing_ops of its kind (bdev.c for a block
 * device, file.c for a regular file, qcow2.c for a regular file the config
 * says is qcow2: the format is never guessed) and let it work out what the disk
 * looks like to the frontend (size, sector sizes, discard).  Used by
 * xenbus.c; the data path reaches the backing only through its ops.
 */
#include <linux/fs.h>
#include <linux/slab.h>

#include "common.h"

/**
 * skb_backing_offer() - the optional operations a disk offers.
 * @be: the disk's backing, open (its discard may have been turned off by
 *	the toolstack's discard-enable since).
 * @o: filled in.
 *
 * As xen-blkback: flush and barrier only over a volatile cache (a file's
 * page cache, a block device whose queue says "write back"), also on a
 * read-only disk, where an empty barrier is performed like an empty flush
 * and one with data is refused (barrier.c); discard only on a writable
 * disk whose backing can discard.  Any context.
 */
void skb_backing_offer(const struct skb_backing *be, struct skb_offer *o)
{
	o->flush = be->write_cache;
	o->barrier = o->flush;
	o->discard = be->discard && !be->read_only;
}

/**
 * skb_backing_open() - open a disk's backing file or block device.
 * @be: zeroed descriptor to fill in.
 * @path: absolute path (from XenStore, written by dom0's toolstack).
 * @ro: open read-only.
 * @at: the format the config gave and the guest's identity.
 *
 * Process context.  The format is @at's: a file's contents never choose
 * it.  On a refusal @be->why may say why (for the xenbus error).
 *
 * Return: 0, or -errno (-EINVAL for anything but a regular file or a block
 * device, or a qcow2 image that is not a regular file; -EROFS for a
 * writable disk on a read-only device; the qcow2 attach's refusals).
 */
int skb_backing_open(struct skb_backing *be, const char *path, bool ro,
		     const struct skb_attach *at)
{
	umode_t mode;
	int err;

	be->read_only = ro;
	be->format = at->format;
	be->backing_raw = at->backing_raw;
	be->qcow2_direct = at->qcow2_direct;
	be->qcow2_writeback = at->qcow2_writeback;
	be->share_write = at->share_write;
	be->no_qemu_lock = at->no_qemu_lock;
	if (at->dom_uuid)
		strscpy(be->dom_uuid, at->dom_uuid, sizeof(be->dom_uuid));
	be->path = kstrdup(path, GFP_KERNEL);
	be->dom_name = at->dom_name ? kstrdup(at->dom_name, GFP_KERNEL) : NULL;
	if (!be->path || (at->dom_name && !be->dom_name)) {
		err = -ENOMEM;
		goto free_path;
	}
	be->file = filp_open(path, (ro ? O_RDONLY : O_RDWR) | O_LARGEFILE, 0);
	if (IS_ERR(be->file)) {
		err = PTR_ERR(be->file);
		be->file = NULL;
		goto free_path;
	}
	mode = file_inode(be->file)->i_mode;
	if (be->format == SKB_FMT_QCOW2 && S_ISREG(mode))
		be->ops = &skb_qcow2_ops;
	else if (be->format == SKB_FMT_QCOW2) {
		snprintf(be->why, sizeof(be->why),
			 "a qcow2 image must be a regular file");
		err = -EINVAL;
		goto close_file;
	} else if (S_ISBLK(mode))
		be->ops = &skb_bdev_ops;
	else if (S_ISREG(mode))
		be->ops = &skb_file_ops;
	else {
		err = -EINVAL;
		goto close_file;
	}
	/* before the image engine reads (or records the attach in) the file */
	err = skb_share_qemu_lock(be);
	if (err)
		goto close_file;
	err = be->ops->describe(be);
	if (err)
		goto unlock_file;
	if (!be->sectors) {
		err = -ENOSPC;
		goto close_backing;
	}
	return 0;

close_backing:
	if (be->ops->close)
		be->ops->close(be);
unlock_file:
	skb_share_qemu_unlock(be);
close_file:
	filp_close(be->file, NULL);
	be->file = NULL;
	be->bdev = NULL;
	be->ops = NULL;
free_path:
	kfree(be->dom_name);
	be->dom_name = NULL;
	kfree(be->path);
	be->path = NULL;
	return err;
}

/**
 * skb_backing_claim() - reopen a writable block device exclusively.
 * @be: an open backing.
 *
 * Process context.  An exclusive open (O_EXCL on a block device special
 * file) fails with -EBUSY while the device is mounted, used for swap, part
 * of a device-mapper or md device, or claimed by any other exclusive user -
 * so nothing in dom0 writes it under the guest.  Nothing to do for a file
 * or a read-only disk.
 *
 * Return: 0, -EBUSY, or the open's -errno.
 */
int skb_backing_claim(struct skb_backing *be)
{
	struct file *f;

	if (!be->bdev || be->read_only)
		return 0;
	f = filp_open(be->path, O_RDWR | O_EXCL | O_LARGEFILE, 0);
	if (IS_ERR(f))
		return PTR_ERR(f);
	/* the path may have been pointed elsewhere since the first open */
	if (!S_ISBLK(file_inode(f)->i_mode) ||
	    I_BDEV(f->f_mapping->host) != be->bdev) {
		filp_close(f, NULL);
		return -ESTALE;
	}
	filp_close(be->file, NULL);
	be->file = f;
	return 0;
}

/**
 * skb_backing_close() - close what skb_backing_open() opened.
 * @be: descriptor; may be unopened.  Zeroed on return.
 *
 * Process context; no I/O may be in flight.
 */
void skb_backing_close(struct skb_backing *be)
{
	if (be->ops && be->ops->close)
		be->ops->close(be);
	skb_share_qemu_unlock(be);
	if (be->file)
		filp_close(be->file, NULL);
	kfree(be->dom_name);
	kfree(be->path);
	memset(be, 0, sizeof(*be));
}
