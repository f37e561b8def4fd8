// SPDX-License-Identifier: GPL-2.0
/*
 * splitkit_back backing store: open the file or block device the hotplug
 * script (tools/hotplug/splitkit) published, with the access mode xl asked
 * for, and work out what the disk looks like to the frontend (size, sector
 * sizes, discard).  Used by xenbus.c; the I/O paths are bdev.c and file.c.
 *
 * A block device is opened as a special file and its struct block_device
 * taken from the inode, which works the same on Linux 6.1 and 6.12; bios
 * then go straight to it.  A regular file is used in place: direct I/O
 * where the filesystem allows it, the page cache otherwise.
 */
#include <linux/blkdev.h>
#include <linux/fs.h>
#include <linux/slab.h>

#include "common.h"

static int skb_backing_bdev(struct skb_backing *be)
{
	struct block_device *bdev = I_BDEV(be->file->f_mapping->host);

	if (!be->read_only && bdev_read_only(bdev))
		return -EROFS;
	be->bdev = bdev;
	be->sectors = bdev_nr_sectors(bdev);
	be->sector_size = bdev_logical_block_size(bdev);
	be->phys_sector_size = bdev_physical_block_size(bdev);
	be->discard = bdev_max_discard_sectors(bdev) > 0;
	be->discard_granularity = bdev_discard_granularity(bdev);
	be->discard_alignment = bdev_discard_alignment(bdev);
	return 0;
}

static void skb_backing_file(struct skb_backing *be)
{
	struct inode *inode = file_inode(be->file);
	struct super_block *sb = inode->i_sb;

	be->sectors = i_size_read(inode) >> SECTOR_SHIFT;
	be->sector_size = SECTOR_SIZE;
	be->phys_sector_size = SECTOR_SIZE;
	/* O_DIRECT needs the host device's alignment: ours is 512 bytes */
	be->direct = (be->file->f_mode & FMODE_CAN_ODIRECT) &&
		     (!sb->s_bdev ||
		      bdev_logical_block_size(sb->s_bdev) <= SECTOR_SIZE);
	be->discard = be->file->f_op->fallocate != NULL;
	be->discard_granularity = i_blocksize(inode);
	be->discard_alignment = 0;
}

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
	if (S_ISBLK(mode)) {
		err = skb_backing_bdev(be);
		if (err)
			goto close_file;
	} else if (S_ISREG(mode)) {
		skb_backing_file(be);
	} else {
		err = -EINVAL;
		goto close_file;
	}
	if (!be->sectors) {
		err = -ENOSPC;
		goto close_file;
	}
	return 0;

close_file:
	filp_close(be->file, NULL);
	be->file = NULL;
	be->bdev = NULL;
free_path:
	kfree(be->path);
	be->path = NULL;
	return err;
}

/**
 * skb_backing_close() - close what skb_backing_open() opened.
 * @be: descriptor; may be unopened.  Zeroed on return.
 *
 * Process context; no I/O may be in flight.
 */
void skb_backing_close(struct skb_backing *be)
{
	if (be->file)
		filp_close(be->file, NULL);
	kfree(be->path);
	memset(be, 0, sizeof(*be));
}
