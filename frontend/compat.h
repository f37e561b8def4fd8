/* SPDX-License-Identifier: GPL-2.0 */
/*
 * splitkit_front compatibility between the block-layer APIs of the kernels
 * we build for (Debian 12's 6.1 and the 6.12 backport).  Linux 6.9 moved
 * queue limits into struct queue_limits handed to blk_mq_alloc_disk() and
 * removed most blk_queue_*() setters; frontend/Kbuild probes
 * <linux/blk-mq.h> and defines SKF_HAVE_QUEUE_LIMITS for the new form.
 * Only this header knows the difference.
 */
#ifndef _SPLITKIT_FRONT_COMPAT_H
#define _SPLITKIT_FRONT_COMPAT_H

#include <linux/blk-mq.h>
#include <linux/blkdev.h>

/**
 * struct skf_limits - the queue limits splitkit_front sets.
 * @lbs:            logical block size, bytes; also the DMA alignment, so
 *                  that no segment holds part of a block (a backend
 *                  refuses those, as xen-blkback does).
 * @pbs:            physical block size, bytes.
 * @max_hw_sectors: largest request, 512-byte sectors.
 * @max_segments:   most bio segments per request.
 * @discard_sectors: largest discard, 0 when discard is off.
 * @discard_gran:   discard granularity, bytes.
 * @discard_align:  discard alignment, bytes.
 * @write_cache:    the device has a volatile cache (flush supported).
 * @fua:            FUA writes supported natively.
 */
struct skf_limits {
	unsigned int lbs;
	unsigned int pbs;
	unsigned int max_hw_sectors;
	unsigned int max_segments;
	unsigned int discard_sectors;
	unsigned int discard_gran;
	unsigned int discard_align;
	bool write_cache;
	bool fua;
};

#ifdef SKF_HAVE_QUEUE_LIMITS

static inline struct gendisk *skf_alloc_disk(struct blk_mq_tag_set *set,
					     const struct skf_limits *l,
					     void *data)
{
	struct queue_limits lim = {
		.logical_block_size = l->lbs,
		.physical_block_size = l->pbs,
		.dma_alignment = l->lbs - 1,
		.max_hw_sectors = l->max_hw_sectors,
		.max_segments = l->max_segments,
		.max_hw_discard_sectors = l->discard_sectors,
		.discard_granularity = l->discard_gran,
		.discard_alignment = l->discard_align,
	};

	if (l->write_cache)
		lim.features |= BLK_FEAT_WRITE_CACHE;
	if (l->fua)
		lim.features |= BLK_FEAT_FUA;
	return blk_mq_alloc_disk(set, &lim, data);
}

/*
 * After a reconnect to a backend that offers less (or more again): the
 * request size, write cache and discard limits.  The caller has frozen
 * the queue.
 */
static inline int skf_update_limits(struct request_queue *q,
				    const struct skf_limits *l)
{
	struct queue_limits lim = queue_limits_start_update(q);

	lim.max_hw_sectors = l->max_hw_sectors;
	lim.max_hw_discard_sectors = l->discard_sectors;
	if (l->discard_sectors) {
		lim.discard_granularity = l->discard_gran;
		lim.discard_alignment = l->discard_align;
	}
	if (l->write_cache)
		lim.features |= BLK_FEAT_WRITE_CACHE;
	else
		lim.features &= ~BLK_FEAT_WRITE_CACHE;
	return queue_limits_commit_update(q, &lim);
}

static inline bool skf_write_cache_on(struct request_queue *q)
{
	return q->limits.features & BLK_FEAT_WRITE_CACHE;
}

#else /* blk_queue_*() setters */

static inline struct gendisk *skf_alloc_disk(struct blk_mq_tag_set *set,
					     const struct skf_limits *l,
					     void *data)
{
	struct gendisk *gd = blk_mq_alloc_disk(set, data);
	struct request_queue *q;

	if (IS_ERR(gd))
		return gd;
	q = gd->queue;
	blk_queue_logical_block_size(q, l->lbs);
	blk_queue_physical_block_size(q, l->pbs);
	blk_queue_dma_alignment(q, l->lbs - 1);
	blk_queue_max_hw_sectors(q, l->max_hw_sectors);
	blk_queue_max_segments(q, l->max_segments);
	if (l->discard_sectors) {
		blk_queue_max_discard_sectors(q, l->discard_sectors);
		q->limits.discard_granularity = l->discard_gran;
		q->limits.discard_alignment = l->discard_align;
	}
	blk_queue_write_cache(q, l->write_cache, l->fua);
	return gd;
}

/* See the other skf_update_limits(); the queue is frozen. */
static inline int skf_update_limits(struct request_queue *q,
				    const struct skf_limits *l)
{
	blk_queue_max_hw_sectors(q, l->max_hw_sectors);
	blk_queue_max_discard_sectors(q, l->discard_sectors);
	if (l->discard_sectors) {
		q->limits.discard_granularity = l->discard_gran;
		q->limits.discard_alignment = l->discard_align;
	}
	blk_queue_write_cache(q, l->write_cache, false);
	return 0;
}

static inline bool skf_write_cache_on(struct request_queue *q)
{
	return test_bit(QUEUE_FLAG_WC, &q->queue_flags);
}

#endif /* SKF_HAVE_QUEUE_LIMITS */

#endif /* _SPLITKIT_FRONT_COMPAT_H */
