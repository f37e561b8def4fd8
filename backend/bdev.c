// SPDX-License-Identifier: GPL-2.0
/*
 * splitkit_back block-device backing (struct skb_backing_ops): a validated
 * read or write goes straight to the backing device as bios built over our
 * bounce pages, no loop device and no page cache in between.  A flush
 * carrying data (FLUSH_DISKCACHE or WRITE_BARRIER) becomes a write with
 * REQ_PREFLUSH | REQ_FUA: everything completed before it is durable first,
 * and it is durable itself when answered.  A flush without data is a cache
 * flush of the device, a discard a device discard.  Counterpart of file.c
 * for regular files; completion goes to req.c (skb_req_done()).
 *
 * The block device is opened as a special file (backing.c) and its struct
 * block_device taken from the inode, which works the same on Linux 6.1
 * and 6.12.  dom0's page cache of the device is kept coherent with our
 * bios (skb_bdev_cache_sync()).
 */
#include <linux/bio.h>
#include <linux/blkdev.h>
#include <linux/fs.h>
#include <linux/pagemap.h>

#include "common.h"

static int skb_bdev_describe(struct skb_backing *be)
{
	struct block_device *bdev = I_BDEV(be->file->f_mapping->host);

	if (!be->read_only && bdev_read_only(bdev))
		return -EROFS;
	be->bdev = bdev;
	be->io = "bio";
	be->sectors = bdev_nr_sectors(bdev);
	be->sector_size = bdev_logical_block_size(bdev);
	be->phys_sector_size = bdev_physical_block_size(bdev);
	be->discard = bdev_max_discard_sectors(bdev) > 0;
	be->write_cache = bdev_write_cache(bdev);
	be->discard_granularity = bdev_discard_granularity(bdev);
	be->discard_alignment = bdev_discard_alignment(bdev);
	return 0;
}

static void skb_bio_end_io(struct bio *bio)
{
	struct skb_req *req = bio->bi_private;
	int err = blk_status_to_errno(bio->bi_status);

	bio_put(bio);
	skb_req_done(req, err);
}

static struct bio *skb_bio_new(struct skb_req *req, unsigned int left,
			       blk_opf_t opf, sector_t sector)
{
	struct bio *bio;

	/* GFP_NOIO from the bio_set mempool: never fails */
	bio = bio_alloc(req->d->be.bdev, min_t(unsigned int, left,
					       BIO_MAX_VECS), opf, GFP_NOIO);
	bio->bi_iter.bi_sector = sector;
	bio->bi_end_io = skb_bio_end_io;
	bio->bi_private = req;
	return bio;
}

/*
 * Our bios bypass dom0's page cache of the device, which holds pages only
 * when something in dom0 reads or writes the device through it: the
 * device model's emulated face of the same disk (an HVM guest's IDE disk,
 * which QEMU opens with the page cache; splitkit_shunt moves a guest
 * between the two), a dd, blkid.  As the kernel's own O_DIRECT does, the
 * range's dirty pages are written before our bio reads or overwrites it,
 * and before a write or a discard its cached pages are dropped, so that
 * nobody reads through the cache what the guest has overwritten.  A
 * single load when nothing is cached.  Consumer context, sleeps.
 */
static void skb_bdev_cache_sync(struct skb_backing *be, u64 sector,
				u64 nr_sectors, bool drop)
{
	struct address_space *mapping = be->file->f_mapping;
	loff_t start = sector << SECTOR_SHIFT;
	loff_t end = start + (nr_sectors << SECTOR_SHIFT) - 1;
	int err;

	if (!nr_sectors || !READ_ONCE(mapping->nrpages))
		return;
	err = filemap_write_and_wait_range(mapping, start, end);
	if (!err && drop)
		err = invalidate_inode_pages2_range(mapping,
						    start >> PAGE_SHIFT,
						    end >> PAGE_SHIFT);
	if (err)
		pr_warn_ratelimited("%s: dom0's page cache of %s at sector %llu: %d (a buffered user of the device may see stale data)\n",
				    SKB_NAME, be->path, sector, err);
}

/*
 * Submit a validated request as bios (skb_backing_ops.submit).  Completion
 * reaches skb_req_done() once per bio; the submitter's own reference on
 * @req->pending is dropped here.
 */
static void skb_bdev_submit(struct skb_req *req)
{
	const struct skb_req_desc *desc = &req->desc;
	sector_t sector = desc->sector;
	struct bio *bio = NULL;
	struct blk_plug plug;
	blk_opf_t opf;
	unsigned int i;

	if (desc->kind == SKB_KIND_READ)
		opf = REQ_OP_READ;
	else if (desc->kind == SKB_KIND_FLUSH)
		opf = REQ_OP_WRITE | REQ_SYNC | REQ_PREFLUSH | REQ_FUA;
	else
		opf = REQ_OP_WRITE;

	skb_bdev_cache_sync(&req->d->be, desc->sector, desc->nr_sectors,
			    desc->kind != SKB_KIND_READ);
	blk_start_plug(&plug);
	for (i = 0; i < desc->nr_segs; i++) {
		struct bio_vec *bv = &req->bvec[i];

		if (!bio)
			bio = skb_bio_new(req, desc->nr_segs - i, opf, sector);
		if (bio_add_page(bio, bv->bv_page, bv->bv_len,
				 bv->bv_offset) != bv->bv_len) {
			/* full: send it and start the next one */
			atomic_inc(&req->pending);
			submit_bio(bio);
			bio = skb_bio_new(req, desc->nr_segs - i, opf, sector);
			/* an empty bio always takes one segment */
			__bio_add_page(bio, bv->bv_page, bv->bv_len,
				       bv->bv_offset);
		}
		sector += bv->bv_len >> SECTOR_SHIFT;
	}
	if (bio) {
		atomic_inc(&req->pending);
		submit_bio(bio);
	}
	blk_finish_plug(&plug);
	skb_req_done(req, 0);
}

static int skb_bdev_flush(struct skb_backing *be)
{
	return blkdev_issue_flush(be->bdev);
}

static int skb_bdev_discard(struct skb_backing *be, u64 sector,
			    u64 nr_sectors)
{
	skb_bdev_cache_sync(be, sector, nr_sectors, true);
	return blkdev_issue_discard(be->bdev, sector, nr_sectors, GFP_NOIO);
}

/* An LV extended, a loop device after losetup -c (set_capacity()). */
static u64 skb_bdev_size_now(const struct skb_backing *be)
{
	return bdev_nr_sectors(be->bdev);
}

const struct skb_backing_ops skb_bdev_ops = {
	.name = "block device",
	.describe = skb_bdev_describe,
	.submit = skb_bdev_submit,
	.flush = skb_bdev_flush,
	.discard = skb_bdev_discard,
	/* its I/O only goes through req->bvec: fine on mapped grants */
	.map_ok = true,
	.size_now = skb_bdev_size_now,
};
