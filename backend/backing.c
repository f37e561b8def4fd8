// SPDX-License-Identifier: GPL-2.0
/*
 * splitkit_back backing store: open the file or block device the hotplug
 * script (tools/hotplug/splitkit) published, with the access mode xl asked
 * for, pick the struct skb_backing_ops of its kind (bdev.c for a block
 * device, file.c for a regular file) and let it work out what the disk
 * looks like to the frontend (size, sector sizes, discard).  Used by
 * xenbus.c; the data path reaches the backing only through its ops.
 */
#include <linux/fs.h>
#include <linux/slab.h>

#include "common.h"

/**
 * skb_backing_open() - open a disk's backing file or block device.
 * @be: zeroed descriptor to fill in.
 * @path: absolute path (from XenStore, written by dom0's toolstack).
 * @ro: open read-only.
 *
 * Process context.
 *
 * Return: 0, or -errno (-EINVAL for anything but a regular file or a block
 * device, -EROFS for a writable disk on a read-only device).
 */
int skb_backing_open(struct skb_backing *be, const char *path, bool ro)
{
	umode_t mode;
	int err;

	be->read_only = ro;
	be->path = kstrdup(path, GFP_KERNEL);
	if (!be->path)
		return -ENOMEM;
	be->file = filp_open(path, (ro ? O_RDONLY : O_RDWR) | O_LARGEFILE, 0);
	if (IS_ERR(be->file)) {
		err = PTR_ERR(be->file);
		be->file = NULL;
		goto free_path;
	}
	mode = file_inode(be->file)->i_mode;
	if (S_ISBLK(mode))
		be->ops = &skb_bdev_ops;
	else if (S_ISREG(mode))
		be->ops = &skb_file_ops;
	else {
		err = -EINVAL;
		goto close_file;
	}
	err = be->ops->describe(be);
	if (err)
		goto close_file;
	if (!be->sectors) {
		err = -ENOSPC;
		goto close_backing;
	}
	return 0;

close_backing:
	if (be->ops->close)
		be->ops->close(be);
close_file:
	filp_close(be->file, NULL);
	be->file = NULL;
	be->bdev = NULL;
	be->ops = NULL;
free_path:
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
	if (be->file)
		filp_close(be->file, NULL);
	kfree(be->path);
	memset(be, 0, sizeof(*be));
}
