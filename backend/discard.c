// SPDX-License-Identifier: GPL-2.0
/*
 * splitkit_back discard (feature-discard): BLKIF_OP_DISCARD becomes a
 * device discard for a block device, or a hole punched in a regular file
 * (fallocate PUNCH_HOLE | KEEP_SIZE), which gives the space back to the
 * host filesystem.  Called from blkif.c in process context after the
 * range was validated against the disk; discard-secure is not offered.
 */
#include <linux/blkdev.h>
#include <linux/falloc.h>
#include <linux/fs.h>

#include "common.h"

/**
 * skb_discard() - discard a validated range.
 * @d: the device, connected, writable.
 * @sector: first 512-byte sector.
 * @nr_sectors: sectors; inside the disk.
 *
 * Process context.
 *
 * Return: 0, -EOPNOTSUPP if the backing refuses discards, or -errno.
 */
int skb_discard(struct skb_dev *d, u64 sector, u64 nr_sectors)
{
	if (!nr_sectors)
		return 0;
	if (d->be.bdev)
		return blkdev_issue_discard(d->be.bdev, sector, nr_sectors,
					    GFP_NOIO);
	/* vfs_fallocate() takes the freeze protection itself */
	return vfs_fallocate(d->be.file,
			     FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
			     sector << SECTOR_SHIFT, nr_sectors << SECTOR_SHIFT);
}
