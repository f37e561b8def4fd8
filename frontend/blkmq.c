// SPDX-License-Identifier: GPL-2.0
/*
 * splitkit_front blk-mq side: the tag set and disk, and the mapping of one
 * block request onto one blkif ring request.  Its counterpart in dom0 is
 * the request parser of the backend (backend/, or xen-blkback's
 * dispatch_rw_block_io(), or QEMU's qdisk).
 *
 * Mapping: data goes through grant-pool pages (frontend/bounce.c), packed:
 * a request of N bytes uses ceil(N / 4096) pages, each a full page except
 * the last.
 * Up to 11 pages fit in a direct request; more go through indirect
 * descriptor pages (BLKIF_OP_INDIRECT) when the backend offers them.  The
 * request id is the blk-mq tag (the queue's slot number) with the slot's
 * generation in its high half (frontend/core/track.c tracks both), so a
 * replayed answer never completes the tag's next request.  Flush becomes
 * BLKIF_OP_FLUSH_DISKCACHE (or WRITE_BARRIER on backends that only have
 * barriers), discard BLKIF_OP_DISCARD.
 *
 * Context: ->queue_rq runs with the queue unquiesced only while the
 * device is connected (frontend/xenbus.c quiesces before it changes
 * dev->link, q->ch or the pool), so it reads them without a lock.
 */
#include <linux/bio.h>
#include <linux/blk-mq.h>
#include <linux/highmem.h>
#include <linux/major.h>
#include <xen/grant_table.h>

#include "common.h"
#include "compat.h"

/* Fill the segment descriptors of a read or write. */
static void skf_fill_segs(struct sk_blkif_segment *seg,
			  struct skf_req *r, u32 bytes, unsigned int first,
			  unsigned int n)
{
	unsigned int i;
	u8 fs, ls;

	for (i = 0; i < n; i++) {
		/* cannot fail: nr_pages = skf_nr_pages(bytes) */
		skf_seg_sectors(bytes, first + i, &fs, &ls);
		seg[i].gref = r->pages[first + i]->ref;
		seg[i].first_sect = fs;
		seg[i].last_sect = ls;
	}
}

/* Write the id where the request's operation keeps it. */
static void skf_set_id(struct sk_blkif_request *req, u64 id)
{
	switch (req->operation) {
	case SK_BLKIF_OP_INDIRECT:
		req->u.indirect.id = id;
		break;
	case SK_BLKIF_OP_DISCARD:
		req->u.discard.id = id;
		break;
	default:
		req->u.rw.id = id;
		break;
	}
}

/*
 * Build the ring request of a read or write.  Return: the operation
 * written, or a negative errno (-ENOMEM: retry later; -E2BIG: larger than
 * this connection's backend takes; -EIO: cannot map).
 */
static int skf_map_rw(struct skf_dev *dev, struct request *rq,
		      struct sk_blkif_request *req, u8 *alt_op)
{
	struct skf_req *r = blk_mq_rq_to_pdu(rq);
	u32 bytes = blk_rq_bytes(rq);
	u8 op = rq_data_dir(rq) == WRITE ? SK_BLKIF_OP_WRITE : SK_BLKIF_OP_READ;
	unsigned int n = skf_nr_pages(bytes), nind = 0, i;

	if (!bytes || bytes % 512)
		return -EIO;
	if (n > dev->feat.max_segs || n > dev->cap_segs)
		return -E2BIG;
	if (n > SK_BLKIF_MAX_DIRECT_SEGS)
		nind = DIV_ROUND_UP(n, SK_BLKIF_SEGS_PER_INDIRECT_PAGE);
	if (skf_bounce_get(dev, r, n, nind))
		return -ENOMEM;
	if (op == SK_BLKIF_OP_WRITE)
		skf_bounce_copy(r, rq, false);

	*alt_op = op;
	if (!nind) {
		req->operation = op;
		req->u.rw.nr_segments = n;
		req->u.rw.handle = dev->handle;
		req->u.rw.sector_number = blk_rq_pos(rq);
		skf_fill_segs(req->u.rw.seg, r, bytes, 0, n);
		return op;
	}
	req->operation = SK_BLKIF_OP_INDIRECT;
	req->u.indirect.indirect_op = op;
	req->u.indirect.nr_segments = n;
	req->u.indirect.sector_number = blk_rq_pos(rq);
	req->u.indirect.handle = dev->handle;
	for (i = 0; i < nind; i++) {
		struct sk_gpage *ip = r->pages[n + i];
		unsigned int cnt = min(n - i * SK_BLKIF_SEGS_PER_INDIRECT_PAGE,
				       SK_BLKIF_SEGS_PER_INDIRECT_PAGE);

		skf_fill_segs(page_address(ip->page), r, bytes,
			      i * SK_BLKIF_SEGS_PER_INDIRECT_PAGE, cnt);
		req->u.indirect.indirect_grefs[i] = ip->ref;
	}
	return SK_BLKIF_OP_INDIRECT;
}

/**
 * skf_blkmq_reshape() - fit the queue to the backend just connected.
 * @dev: device, connected (under xb.lock).
 *
 * A backend after save/restore, migration or a restart may offer fewer
 * queues, take fewer segments per request, or have no flush or discard
 * any more.  blk-mq and the queue limits follow it from
 * skf_reshape_work(), which freezes the queue and so must not run under
 * xb.lock (the requests it waits for need the ring).  After the first
 * connection the same work adds the disk.
 */
void skf_blkmq_reshape(struct skf_dev *dev)
{
	queue_work(system_unbound_wq, &dev->reshape_work);
}

/*
 * Have blk-mq use as many hardware queues as this connection has rings,
 * of each kind (blk_mq_update_nr_hw_queues() freezes the queue and calls
 * ->map_queues, which reads dev->mq).  Until it has, requests of a hctx
 * without a ring of its kind go to ring 0 (skf_route()).
 */
static void skf_update_queues(struct skf_dev *dev)
{
	struct skf_layout now;
	bool connected;

	mutex_lock(&dev->xb.lock);
	connected = dev->connected;
	now = skf_now(dev);
	mutex_unlock(&dev->xb.lock);
	if (!connected || (now.nr_event == dev->mq.nr_event &&
			   now.nr_poll == dev->mq.nr_poll))
		return;
	dev->mq = now;
	blk_mq_update_nr_hw_queues(&dev->tag_set, now.nr_event + now.nr_poll);
	dev_info(&dev->xbdev->dev,
		 "%s: now %u queues (%u polled) for %u hardware queues\n",
		 dev->gd->disk_name, now.nr_event + now.nr_poll, now.nr_poll,
		 dev->tag_set.nr_hw_queues);
}

/* The limits the current connection calls for. */
static void skf_want_limits(struct skf_dev *dev, struct skf_limits *l)
{
	u32 segs = min(READ_ONCE(dev->feat.max_segs), dev->cap_segs);

	memset(l, 0, sizeof(*l));
	l->max_hw_sectors = segs * SK_BLKIF_SECTORS_PER_PAGE;
	l->write_cache = READ_ONCE(dev->feat.flush_op) != 0;
	if (READ_ONCE(dev->feat.discard)) {
		l->discard_sectors = UINT_MAX >> SECTOR_SHIFT;
		l->discard_gran = dev->feat.disc.granularity;
		l->discard_align = dev->feat.disc.alignment;
	}
}

/*
 * Add the disk, once, after the first connection (reshape work): not in
 * skf_connect(), because device_add_disk() reads the partition table from
 * the backend and waits for it, and the xenwatch thread that runs
 * skf_connect() holds xb.lock, which fatal_work and the remove need to
 * fail that read if the backend never answers it or breaks the protocol
 * (every xenbus device of the guest would wait behind it).  A failed add
 * closes our end (xenbus_dev_fatal()); the disk is not added again.
 */
static void skf_add_disk(struct skf_dev *dev)
{
	int err;

	if (READ_ONCE(dev->dead))
		return;
	err = device_add_disk(&dev->xbdev->dev, dev->gd, NULL);
	if (!err) {
		WRITE_ONCE(dev->added, true);
		return;
	}
	/* our end goes Closing: the state helper disconnects as the peer closes */
	mutex_lock(&dev->xb.lock);
	if (!READ_ONCE(dev->dead))
		xenbus_dev_fatal(dev->xbdev, err, "adding the disk");
	mutex_unlock(&dev->xb.lock);
}

/**
 * skf_reshape_work() - apply the current backend's queues and limits, then
 *			submit again the bios of requests that were too large.
 * @work: skf_dev.reshape_work.
 *
 * Process context, one run at a time; takes xb.lock briefly, never while
 * the queue is frozen.  The queues and the limits change under a frozen
 * queue; freezing waits for every request, and a request too large for the
 * new backend gives its bios to @dev->resubmit and completes
 * (skf_resplit_rq()), so it never blocks the freeze.  Bios submitted
 * again are split by the block layer to the new limits.
 */
void skf_reshape_work(struct work_struct *work)
{
	struct skf_dev *dev = container_of(work, struct skf_dev, reshape_work);
	struct request_queue *q = dev->gd->queue;
	struct skf_limits want;
	struct bio_list bios;
	struct bio *bio;

	if (!dev->add_tried) {
		dev->add_tried = true;
		skf_add_disk(dev);
	}
	skf_update_queues(dev);
	skf_want_limits(dev, &want);
	if (want.max_hw_sectors != dev->lim_segs * SK_BLKIF_SECTORS_PER_PAGE ||
	    want.write_cache != skf_write_cache_on(q) ||
	    want.discard_sectors != q->limits.max_hw_discard_sectors) {
		blk_mq_freeze_queue(q);
		if (skf_update_limits(q, &want))
			dev_warn(&dev->xbdev->dev,
				 "could not update the queue limits\n");
		else
			dev->lim_segs = want.max_hw_sectors /
					SK_BLKIF_SECTORS_PER_PAGE;
		blk_mq_unfreeze_queue(q);
		dev_info(&dev->xbdev->dev,
			 "%s: requests now up to %u segments, flush %s, discard %s\n",
			 dev->gd->disk_name, dev->lim_segs,
			 want.write_cache ? "on" : "off",
			 want.discard_sectors ? "on" : "off");
	}

	spin_lock_irq(&dev->resubmit_lock);
	bios = dev->resubmit;
	bio_list_init(&dev->resubmit);
	spin_unlock_irq(&dev->resubmit_lock);
	while ((bio = bio_list_pop(&bios)))
		submit_bio_noacct(bio);
}

/*
 * A request larger than the connected backend takes (built for an earlier,
 * larger one and requeued across a reconnect, or split with limits that
 * were being updated): hand its bios back to the block layer, which splits
 * them to the new limits, and complete the now empty request.  As
 * xen-blkfront does on resume.  The bios leave a polled queue: they
 * complete by event (as nvme multipath does), and may wait for a frozen
 * queue (not REQ_NOWAIT).
 */
static void skf_resplit_rq(struct skf_queue *q, struct request *rq)
{
	struct skf_dev *dev = q->dev;
	struct bio_list bios;
	unsigned long flags;
	struct bio *bio;

	bio_list_init(&bios);
	blk_steal_bios(&bios, rq);
	bio_list_for_each(bio, &bios) {
		bio->bi_opf &= ~(REQ_POLLED | REQ_NOWAIT);
		bio->bi_cookie = BLK_QC_T_NONE;
	}
	spin_lock_irqsave(&dev->resubmit_lock, flags);
	bio_list_merge(&dev->resubmit, &bios);
	spin_unlock_irqrestore(&dev->resubmit_lock, flags);
	WRITE_ONCE(q->stats.resplit, q->stats.resplit + 1);
	blk_mq_end_request(rq, BLK_STS_OK);
	queue_work(system_unbound_wq, &dev->reshape_work);
}

/* A request's slot, put in flight once the request is in its ring. */
struct skf_commit {
	struct skf_track *track;
	u32 slot;
};

/* sk_chan_put_commit() callback: under the ring's lock, IRQs off. */
static void skf_commit(void *arg)
{
	const struct skf_commit *c = arg;

	skf_track_commit(c->track, c->slot);
}

static blk_status_t skf_queue_rq(struct blk_mq_hw_ctx *hctx,
				 const struct blk_mq_queue_data *bd)
{
	struct skf_queue *hq = hctx->driver_data, *q;
	struct skf_dev *dev = hq->dev;
	struct request *rq = bd->rq;
	struct sk_blkif_request req;
	struct skf_commit commit;
	unsigned int copied;
	struct skf_layout now;
	u32 ring, slot;
	bool own;
	u8 alt_op;
	int op, err;

	blk_mq_start_request(rq);
	if (READ_ONCE(dev->dead) || READ_ONCE(dev->broken))
		return BLK_STS_IOERR;
	if (!dev->connected)
		return BLK_STS_DEV_RESOURCE;	/* xenbus.c kicks at connect */

	memset(&req, 0, sizeof(req));
	switch (req_op(rq)) {
	case REQ_OP_READ:
	case REQ_OP_WRITE:
		/* sets alt_op: an indirect request's inner read or write */
		op = skf_map_rw(dev, rq, &req, &alt_op);
		if (op == -ENOMEM)
			return BLK_STS_RESOURCE;
		if (op == -E2BIG) {
			skf_resplit_rq(hq, rq);
			return BLK_STS_OK;
		}
		if (op < 0) {
			dev_err_ratelimited(&dev->xbdev->dev,
					    "request of %u bytes exceeds %u segments\n",
					    blk_rq_bytes(rq), dev->feat.max_segs);
			return BLK_STS_IOERR;
		}
		break;
	case REQ_OP_FLUSH:
		/*
		 * A backend without flush has no volatile cache: nothing to
		 * do (the queue loses its write cache in skf_reshape_work()).
		 * One that refused a flush it offered: fail it.
		 */
		/* once: a refusal may clear it meanwhile (skf_not_supported()) */
		op = READ_ONCE(dev->feat.flush_op);
		if (!op) {
			if (READ_ONCE(dev->feat.flush_refused))
				return BLK_STS_NOTSUPP;
			blk_mq_end_request(rq, BLK_STS_OK);
			return BLK_STS_OK;
		}
		alt_op = op;
		req.operation = op;
		req.u.rw.handle = dev->handle;
		req.u.rw.nr_segments = 0;
		break;
	case REQ_OP_DISCARD:
		if (!dev->feat.discard)
			return BLK_STS_NOTSUPP;
		op = SK_BLKIF_OP_DISCARD;
		alt_op = op;
		req.operation = op;
		req.u.discard.sector_number = blk_rq_pos(rq);
		req.u.discard.nr_sectors = blk_rq_sectors(rq);
		break;
	default:
		return BLK_STS_NOTSUPP;
	}

	/*
	 * Its own ring, or ring 0 if this backend gave the hctx none of its
	 * kind (until skf_reshape_work() has blk-mq use fewer queues).
	 */
	now = skf_now(dev);
	own = skf_route(&now, dev->depth, hctx->queue_num,
			hctx->type == HCTX_TYPE_POLL, rq->tag, &ring, &slot);
	q = &dev->queues[ring];
	err = skf_track_issue(&q->track, slot, op, alt_op);
	if (WARN_ON_ONCE(err)) {
		skf_bounce_put(dev, rq);
		return BLK_STS_IOERR;
	}
	skf_set_id(&req, skf_track_id(&q->track, slot));
	/*
	 * Counted before the put: from there the request belongs to the
	 * consumer, which may complete it at once (an event handled on
	 * this CPU as the put unlocks, irq_completion).
	 */
	copied = req_op(rq) == REQ_OP_WRITE ? blk_rq_bytes(rq) : 0;
	q->rqs[slot] = rq;
	commit = (struct skf_commit){ .track = &q->track, .slot = slot };
	err = sk_chan_put_commit(q->ch, &req, skf_commit, &commit);
	if (err) {
		/* never in flight: no answer can have been taken for it */
		q->rqs[slot] = NULL;
		skf_bounce_put(dev, rq);
		if (err == -ENOSPC)
			return BLK_STS_RESOURCE;
		dev_err_ratelimited(&dev->xbdev->dev,
				    "queue %u: ring refused a request: %d\n",
				    q->index, err);
		return BLK_STS_IOERR;
	}
	WRITE_ONCE(q->stats.issued, q->stats.issued + 1);
	if (!own)
		WRITE_ONCE(hq->stats.rerouted, hq->stats.rerouted + 1);
	if (copied)	/* skf_map_rw() copied it */
		WRITE_ONCE(q->stats.copied_w, q->stats.copied_w + copied);
	if (bd->last || !own)
		sk_chan_push(q->ch);	/* ->commit_rqs pushes own rings only */
	return BLK_STS_OK;
}

static void skf_commit_rqs(struct blk_mq_hw_ctx *hctx)
{
	struct skf_queue *q = hctx->driver_data;
	struct skf_layout now;
	u32 ring, slot;

	if (!q->dev->connected)
		return;
	now = skf_now(q->dev);
	if (skf_route(&now, q->dev->depth, hctx->queue_num,
		      hctx->type == HCTX_TYPE_POLL, 0, &ring, &slot))
		sk_chan_push(q->ch);
}

static int skf_init_hctx(struct blk_mq_hw_ctx *hctx, void *data,
			 unsigned int index)
{
	struct skf_dev *dev = data;

	if (index >= dev->cap_queues)
		return -EINVAL;
	hctx->driver_data = &dev->queues[index];
	return 0;
}

/*
 * CPUs to hardware queues, for the layout of dev->mq (the rings blk-mq is
 * being set up for; skf_reshape_work()), within the hardware queues blk-mq
 * really has (fewer if it fell back from a failed update).
 */
static void skf_map_queues(struct blk_mq_tag_set *set)
{
	struct skf_dev *dev = set->driver_data;
	struct blk_mq_queue_map *def = &set->map[HCTX_TYPE_DEFAULT];
	unsigned int nr = set->nr_hw_queues;
	unsigned int nr_event = clamp(dev->mq.nr_event, 1u, nr);
	unsigned int nr_poll = min(dev->mq.nr_poll, nr - nr_event);

	def->nr_queues = nr_event;
	def->queue_offset = 0;
	blk_mq_map_queues(def);
	if (set->nr_maps <= HCTX_TYPE_POLL)
		return;
	set->map[HCTX_TYPE_READ].nr_queues = 0;
	set->map[HCTX_TYPE_POLL].nr_queues = nr_poll;
	set->map[HCTX_TYPE_POLL].queue_offset = nr_event;
	/* none left: blk-mq sends polled I/O to the default queues */
	if (nr_poll)
		blk_mq_map_queues(&set->map[HCTX_TYPE_POLL]);
}

static int skf_poll(struct blk_mq_hw_ctx *hctx, struct io_comp_batch *iob)
{
	struct skf_queue *q = hctx->driver_data;

	if (!q->poll)
		return 0;
	return skf_pollq_reap(q, iob);
}

static const struct blk_mq_ops skf_mq_ops = {
	.queue_rq = skf_queue_rq,
	.commit_rqs = skf_commit_rqs,
	.init_hctx = skf_init_hctx,
	.map_queues = skf_map_queues,
	.poll = skf_poll,
};

static const struct block_device_operations skf_fops = {
	.owner = THIS_MODULE,
};

/**
 * skf_blkmq_create() - create the tag set and disk at the first connection.
 * @dev: device; dev->queues, cap, mq, depth, cap_segs, geom and feat are
 *	 set.  Called under xb.lock.
 *
 * The disk is not added yet (frontend/xenbus.c adds it once the rings run).
 *
 * Return: 0 or -errno.
 */
int skf_blkmq_create(struct skf_dev *dev)
{
	struct blk_mq_tag_set *set = &dev->tag_set;
	struct skf_limits lim = {
		.lbs = dev->geom.sector_size,
		.pbs = dev->geom.phys_size,
		.max_hw_sectors = dev->cap_segs * SK_BLKIF_SECTORS_PER_PAGE,
		/*
		 * Data is copied into packed pages, so a request's bio
		 * segments cost nothing; but a cap of BLK_MAX_SEGMENTS (128)
		 * would hold requests from scattered page-sized buffers to
		 * 512 KiB, below what the backend takes.  As xen-blkfront:
		 * one segment per page of the largest request.
		 */
		.max_segments = max_t(unsigned int, dev->cap_segs,
				      BLK_MAX_SEGMENTS),
		.write_cache = dev->feat.flush_op != 0,
		.fua = false,	/* blk-mq emulates FUA with a post-flush */
	};
	struct gendisk *gd;
	char name[DISK_NAME_LEN];
	int err;

	if (dev->feat.discard) {
		lim.discard_sectors = UINT_MAX >> SECTOR_SHIFT;
		lim.discard_gran = dev->feat.disc.granularity;
		lim.discard_align = dev->feat.disc.alignment;
	}
	err = skf_disk_name(&dev->vdev, name, sizeof(name));
	if (err)
		return err;

	memset(set, 0, sizeof(*set));
	set->ops = &skf_mq_ops;
	/*
	 * The first connection's rings; later ones change it (up to
	 * cap_queues) with blk_mq_update_nr_hw_queues(), which does nothing
	 * for an unchanged count with a single map: starting at cap_queues
	 * would make a later growth to it a no-op, its CPUs never remapped.
	 */
	set->nr_hw_queues = dev->mq.nr_event + dev->mq.nr_poll;
	set->nr_maps = dev->cap.nr_poll ? HCTX_MAX_TYPES : 1;
	set->queue_depth = dev->depth;
	set->numa_node = NUMA_NO_NODE;
	set->flags = BLK_MQ_F_SHOULD_MERGE;
	set->cmd_size = sizeof(struct skf_req) +
			(dev->cap_segs + SK_BLKIF_MAX_INDIRECT_PAGES) *
			sizeof(struct sk_gpage *);
	set->driver_data = dev;
	err = blk_mq_alloc_tag_set(set);
	if (err)
		return err;

	gd = skf_alloc_disk(set, &lim, dev);
	if (IS_ERR(gd)) {
		err = PTR_ERR(gd);
		goto free_tag_set;
	}
	strscpy(gd->disk_name, name, sizeof(gd->disk_name));
	gd->major = XENVBD_MAJOR;
	gd->first_minor = dev->vdev.minor;
	gd->minors = dev->vdev.nr_minors;
	gd->fops = &skf_fops;
	gd->private_data = dev;
	set_capacity(gd, dev->geom.sectors);
	if (dev->info & VDISK_READONLY)
		set_disk_ro(gd, true);
	if (dev->info & VDISK_REMOVABLE)
		gd->flags |= GENHD_FL_REMOVABLE;
	/* read without the state helper's lock by claim.c */
	smp_store_release(&dev->gd, gd);
	dev->lim_segs = dev->cap_segs;
	return 0;

free_tag_set:
	blk_mq_free_tag_set(set);
	return err;
}

/**
 * skf_blkmq_destroy() - remove the disk and free the tag set.
 * @dev: device being removed; dev->dead is set so any request still
 *	 queued fails.  Called under xb.lock.
 */
void skf_blkmq_destroy(struct skf_dev *dev)
{
	if (!dev->gd)
		return;
	blk_mark_disk_dead(dev->gd);
	if (dev->quiesced) {
		/* requeued requests now reach queue_rq and fail */
		blk_mq_unquiesce_queue(dev->gd->queue);
		dev->quiesced = false;
	}
	blk_mq_kick_requeue_list(dev->gd->queue);
	if (dev->added)
		del_gendisk(dev->gd);
	put_disk(dev->gd);
	dev->gd = NULL;
	blk_mq_free_tag_set(&dev->tag_set);
}
