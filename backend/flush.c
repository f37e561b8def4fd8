// SPDX-License-Identifier: GPL-2.0
/*
 * splitkit_back flush (feature-flush-cache): BLKIF_OP_FLUSH_DISKCACHE
 * without data makes every write answered before it durable - a cache
 * flush of the backing device, or fsync of the backing file.  Called from
 * blkif.c in process context; flushes with data are in bdev.c (PREFLUSH |
 * FUA bios) and blkif.c (fsync around the file write).
 */
#include <linux/blkdev.h>
#include <linux/fs.h>

#include "common.h"

/**
 * skb_flush() - make completed writes durable.
 * @d: the device, connected.
 *
 * Process context; sleeps until the flush finished.
 *
 * Return: 0 or -errno.
 */
int skb_flush(struct skb_dev *d)
{
	if (d->be.bdev)
		return blkdev_issue_flush(d->be.bdev);
	return vfs_fsync(d->be.file, 0);
}
