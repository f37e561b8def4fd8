// SPDX-License-Identifier: GPL-2.0
/*
 * splitkit_back data path: every blkif request splitkit_ring copied out of
 * the ring comes here (skb_chan_msg(), in the channel's consumer context).
 * It is validated by the portable core (core/blkreq.c), its data is copied
 * from the frontend's grants into our own bounce pages with batched grant
 * copies (no foreign page is ever mapped, so a frontend cannot change data
 * under us or leave us holding its pages), and it is handed to the
 * block-device path (bdev.c) or the file path (file.c).  The completion
 * copies read data back, answers on the same channel and frees everything.
 * The frontend counterpart is xen-blkfront's blkif_queue_request() and
 * blkif_interrupt().
 *
 * WRITE_BARRIER is a flush (with or without data) that the consumer
 * orders against the rest of its ring; barrier.c explains how.
 *
 * A request that breaks the protocol is answered with SK_BLKIF_RSP_ERROR (or
 * SK_BLKIF_RSP_EOPNOTSUPP for an operation we never advertised) and counted;
 * ring-level violations are handled by splitkit_ring, which stops the
 * channel and reports to XenStore.
 */
#include <linux/highmem.h>
#include <linux/mm.h>
#include <linux/slab.h>

#include "common.h"

/* One bounce page per segment: a segment is one grant page. */
static_assert(PAGE_SIZE == SK_BLKIF_PAGE_SIZE);

/**
 * skb_build_limits() - fill in what the validator checks against.
 * @d: the device, its backing open.
 * @max_segs: feature-max-indirect-segments advertised (0: none).
 */
void skb_build_limits(struct skb_dev *d, unsigned int max_segs)
{
	d->lim.sectors = d->be.sectors;
	d->lim.max_segs = max_segs;
	d->lim.read_only = d->be.read_only;
	d->lim.discard = d->be.discard && !d->be.read_only;
	d->lim.flush = true;
	/* a barrier is a flush plus ordering: offered with it (barrier.c) */
	d->lim.barrier = d->lim.flush;
}

static void skb_put_rsp(struct sk_chan *ch, u64 id, u8 op, int status)
{
	struct sk_blkif_response rsp = {
		.id = id,
		.operation = op,
		.status = status,
	};

	/*
	 * Cannot fail while connected: the request this answers was
	 * consumed and has no response yet.  After a ring violation the
	 * ring refuses (-EIO), which is what we want.
	 */
	sk_chan_put(ch, &rsp);
}

static void skb_refuse(struct skb_dev *d, struct sk_chan *ch,
		       const struct skb_req_desc *desc, enum skb_reason r)
{
	atomic64_inc(&d->stats.refused);
	if ((unsigned int)r < SKB_NR_REASONS)
		atomic64_inc(&d->stats.reasons[r]);
	/* an operation we did not offer is the frontend's business only */
	if (r != SKB_NOT_SUPPORTED && r != SKB_READ_ONLY)
		dev_warn_ratelimited(&d->dev->dev,
				     "malicious or buggy frontend: request op %u id %llu refused: %s\n",
				     desc->op, desc->id, skb_reason_str(r));
	skb_put_rsp(ch, desc->id, desc->op, skb_reason_status(r));
}

static void skb_req_free(struct skb_req *req)
{
	unsigned int i;

	if (req->pages)
		for (i = 0; i < req->desc.nr_segs; i++)
			if (req->pages[i])
				__free_page(req->pages[i]);
	if (req->segs != req->desc.segs)
		kvfree(req->segs);
	kfree(req->pages);
	kfree(req->bvec);
	kfree(req);
}

/* Completion, process context: copy read data out, answer, release. */
static void skb_req_work(struct work_struct *work)
{
	struct skb_req *req = container_of(work, struct skb_req, work);
	struct skb_dev *d = req->d;
	struct sk_chan *ch = req->ch;
	int err = req->error;
	unsigned int i;

	if (!err && req->desc.kind == SKB_KIND_READ) {
		sk_gcopy_init(&req->gcopy, d->dev->otherend_id);
		for (i = 0; i < req->desc.nr_segs && !err; i++) {
			const struct skb_seg *s = &req->segs[i];
			u32 off = s->first << SECTOR_SHIFT;

			err = sk_gcopy_to_peer(&req->gcopy, s->gref, off,
					       page_address(req->pages[i]) +
					       off,
					       (s->last - s->first + 1) <<
					       SECTOR_SHIFT);
		}
		if (!err)
			err = sk_gcopy_flush(&req->gcopy);
		if (err)
			atomic64_inc(&d->stats.grant_errors);
	}
	/* a flush or barrier with data to a file: FUA by fsync after */
	if (!err && req->desc.kind == SKB_KIND_FLUSH && !req->d->be.bdev)
		err = skb_flush(d);
	if (err)
		atomic64_inc(&d->stats.io_errors);
	skb_put_rsp(ch, req->desc.id, req->desc.op,
		    err ? SK_BLKIF_RSP_ERROR : SK_BLKIF_RSP_OKAY);
	sk_chan_push(ch);
	skb_req_free(req);
	skb_inflight_put(d, ch);
}

/**
 * skb_req_done() - one part of a request's I/O finished.
 * @req: the request.
 * @err: 0 or -errno of that part.
 *
 * Any context (bio end_io runs in interrupt context).  The last part queues
 * the completion work.
 */
void skb_req_done(struct skb_req *req, int err)
{
	if (err)
		cmpxchg(&req->error, 0, err);
	if (atomic_dec_and_test(&req->pending))
		queue_work(skb_wq, &req->work);
}

static struct skb_req *skb_req_alloc(struct skb_dev *d, struct sk_chan *ch,
				     const struct skb_req_desc *desc)
{
	unsigned int n = desc->nr_segs;
	struct skb_req *req;

	req = kzalloc(sizeof(*req), GFP_NOIO);
	if (!req)
		return NULL;
	req->d = d;
	req->ch = ch;
	req->desc = *desc;
	req->segs = req->desc.segs;
	INIT_WORK(&req->work, skb_req_work);
	atomic_set(&req->pending, 1);
	req->pages = kcalloc(n, sizeof(*req->pages), GFP_NOIO);
	req->bvec = kcalloc(n, sizeof(*req->bvec), GFP_NOIO);
	if (!req->pages || !req->bvec)
		goto free_req;
	if (desc->indirect) {
		req->segs = kvcalloc(n, sizeof(*req->segs), GFP_NOIO);
		if (!req->segs)
			goto free_req;
	}
	return req;

free_req:
	skb_req_free(req);
	return NULL;
}

/*
 * Copy the indirect pages into private memory and check every segment in
 * that copy.  Return: SKB_OK, a reason, or SKB_NR_REASONS if a grant copy
 * failed.
 */
static enum skb_reason skb_read_indirect(struct skb_req *req)
{
	struct skb_req_desc *d = &req->desc;
	enum skb_reason r = SKB_OK;
	unsigned int i;
	u8 *buf;
	int err = 0;

	buf = kmalloc_array(d->nr_indirect, SK_BLKIF_PAGE_SIZE, GFP_NOIO);
	if (!buf)
		return SKB_NR_REASONS;
	sk_gcopy_init(&req->gcopy, req->d->dev->otherend_id);
	for (i = 0; i < d->nr_indirect && !err; i++)
		err = sk_gcopy_from_peer(&req->gcopy, d->indirect_grefs[i], 0,
					 buf + i * SK_BLKIF_PAGE_SIZE,
					 SK_BLKIF_PAGE_SIZE);
	if (!err)
		err = sk_gcopy_flush(&req->gcopy);
	if (err) {
		atomic64_inc(&req->d->stats.grant_errors);
		r = SKB_NR_REASONS;
		goto free_buf;
	}
	for (i = 0; i < d->nr_segs && r == SKB_OK; i++)
		r = skb_seg_unpack(buf + i * SK_BLKIF_SEG_SIZE, &req->segs[i]);
	if (r == SKB_OK)
		r = skb_req_check_segs(d, req->segs, &req->d->lim);
free_buf:
	kfree(buf);
	return r;
}

/* Allocate the bounce pages; for writes, copy the frontend's data in. */
static int skb_fill_pages(struct skb_req *req)
{
	bool write = req->desc.kind != SKB_KIND_READ;
	unsigned int i;
	int err = 0;

	if (write)
		sk_gcopy_init(&req->gcopy, req->d->dev->otherend_id);
	for (i = 0; i < req->desc.nr_segs; i++) {
		const struct skb_seg *s = &req->segs[i];
		u32 off = s->first << SECTOR_SHIFT;
		u32 len = (s->last - s->first + 1) << SECTOR_SHIFT;

		req->pages[i] = alloc_page(GFP_NOIO);
		if (!req->pages[i]) {
			atomic64_inc(&req->d->stats.nomem);
			return -ENOMEM;
		}
		req->bvec[i].bv_page = req->pages[i];
		req->bvec[i].bv_len = len;
		req->bvec[i].bv_offset = off;
		if (write && !err)
			err = sk_gcopy_from_peer(&req->gcopy, s->gref, off,
						 page_address(req->pages[i]) +
						 off, len);
	}
	if (write && !err)
		err = sk_gcopy_flush(&req->gcopy);
	if (err)
		atomic64_inc(&req->d->stats.grant_errors);
	return err;
}

/* Read, write, flush or barrier with data: validated; copy, submit. */
static void skb_start_rw(struct skb_dev *d, struct sk_chan *ch,
			 const struct skb_req_desc *desc)
{
	struct skb_req *req;
	enum skb_reason r;
	int err;

	req = skb_req_alloc(d, ch, desc);
	if (!req) {
		atomic64_inc(&d->stats.nomem);
		goto answer_error;
	}
	if (desc->indirect) {
		r = skb_read_indirect(req);
		if (r == SKB_NR_REASONS)
			goto free_req;
		if (r) {
			skb_refuse(d, ch, &req->desc, r);
			skb_req_free(req);
			skb_inflight_put(d, ch);
			return;
		}
	}
	err = skb_fill_pages(req);
	if (err)
		goto free_req;
	/*
	 * A flush or barrier with data to a file: earlier completed writes
	 * become durable first (a device gets REQ_PREFLUSH in bdev.c).
	 */
	if (desc->kind == SKB_KIND_FLUSH && !d->be.bdev) {
		err = skb_flush(d);
		if (err)
			goto free_req;
	}
	if (d->be.bdev)
		skb_bdev_submit(req);
	else
		skb_file_submit(req);
	return;

free_req:
	skb_req_free(req);
answer_error:
	atomic64_inc(&d->stats.io_errors);
	skb_put_rsp(ch, desc->id, desc->op, SK_BLKIF_RSP_ERROR);
	skb_inflight_put(d, ch);
}

/**
 * skb_chan_msg() - handle one request (sk_chan_ops.msg).
 * @ch: the channel.
 * @msg: our private copy of the request.
 *
 * Consumer context (a work item): may sleep.  Flushes and discards are
 * performed here synchronously; reads and writes are submitted and
 * answered by their completion.  A barrier first waits here for every
 * earlier request of @ch, then for its own answer (barrier.c).
 */
void skb_chan_msg(struct sk_chan *ch, const void *msg)
{
	struct skb_dev *d = sk_link_priv(sk_chan_link(ch));
	struct skb_req_desc desc;
	enum skb_reason r;
	int err;

	skb_inflight_get(d, ch);
	atomic64_inc(&d->stats.reqs);
	r = skb_req_parse(msg, &d->lim, &desc);
	if (READ_ONCE(d->stopping)) {
		skb_put_rsp(ch, desc.id, desc.op, SK_BLKIF_RSP_ERROR);
		goto done;
	}
	if (r) {
		skb_refuse(d, ch, &desc, r);
		goto done;
	}
	if (desc.barrier)
		skb_barrier_drain(d, ch);
	switch (desc.kind) {
	case SKB_KIND_DISCARD:
		err = skb_discard(d, desc.sector, desc.nr_sectors);
		if (err && err != -EOPNOTSUPP)
			atomic64_inc(&d->stats.io_errors);
		skb_put_rsp(ch, desc.id, desc.op,
			    err == -EOPNOTSUPP ? SK_BLKIF_RSP_EOPNOTSUPP :
			    err ? SK_BLKIF_RSP_ERROR : SK_BLKIF_RSP_OKAY);
		goto done;
	case SKB_KIND_FLUSH:
		if (desc.nr_segs)
			break;
		err = skb_flush(d);
		if (err)
			atomic64_inc(&d->stats.io_errors);
		skb_put_rsp(ch, desc.id, desc.op,
			    err ? SK_BLKIF_RSP_ERROR : SK_BLKIF_RSP_OKAY);
		goto done;
	default:
		break;
	}
	skb_start_rw(d, ch, &desc);	/* owns the inflight count now */
	if (desc.barrier)
		skb_barrier_wait(d, ch);
	return;

done:
	skb_inflight_put(d, ch);
}
