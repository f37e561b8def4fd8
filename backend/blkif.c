// SPDX-License-Identifier: GPL-2.0
/*
 * splitkit_back data path, ring side: every blkif request splitkit_ring
 * copied out of the ring comes here (skb_chan_msg(), in the channel's
 * consumer context).  It is validated by the portable core
 * (core/blkreq.c; an indirect request's segments once its pages are
 * copied in) and dispatched by kind: a read, a write or a flush with data
 * becomes a struct skb_req handed to the backing's submit op, its data on
 * the frontend's own pages where the ring keeps its persistent grants
 * mapped (gmap.c: zero copy), else on bounce pages filled and emptied by
 * grant copy (req.c); a flush without data and a discard
 * are the backing's flush and discard ops, done and answered here.  The
 * backing ops are bdev.c, file.c and qcow2.c (struct skb_backing_ops);
 * this file never asks which one it has.  Answers written here are
 * published with the rest of the consumer's batch, or before the consumer
 * sleeps (a synchronous flush or discard, the page budget, an I/O limit,
 * a barrier), so that none waits for another request.  The frontend
 * counterpart is xen-blkfront's blkif_queue_request() and
 * blkif_interrupt().
 *
 * WRITE_BARRIER is a flush (with or without data) that the consumer
 * orders against the rest of its ring; barrier.c explains how.
 *
 * A request that breaks the protocol is answered with BLKIF_RSP_ERROR (or
 * BLKIF_RSP_EOPNOTSUPP for an operation we never advertised) and counted;
 * ring-level violations are handled by splitkit_ring, which stops the
 * channel and reports to XenStore.
 */
#include <linux/err.h>
#include <linux/slab.h>

#include "common.h"
#include "limit.h"

/**
 * skb_build_limits() - fill in what the validator checks against.
 * @d: the device, its backing open.
 * @max_segs: feature-max-indirect-segments advertised (0: none).
 */
void skb_build_limits(struct skb_dev *d, unsigned int max_segs)
{
	struct skb_offer o;

	/* what XenStore offers (skb_write_disk_xbt, once the backing is open) */
	skb_backing_offer(&d->be, &o);
	d->lim.sectors = d->be.sectors;
	d->lim.sector_size = d->be.sector_size;
	d->lim.max_segs = max_segs;
	d->lim.read_only = d->be.read_only;
	d->lim.discard = o.discard;
	d->lim.flush = o.flush;
	d->lim.barrier = o.barrier;
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
	skb_answer(d, ch, desc, skb_reason_status(r));
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
	/* only the descriptors in use are copied: the last page may be part */
	u32 left = d->nr_segs * SK_BLKIF_SEG_SIZE, len;
	u8 *buf;
	int err = 0;

	/* reserved in the page budget with the request (skb_req_alloc()) */
	buf = kvmalloc_array(d->nr_indirect, SK_BLKIF_PAGE_SIZE, GFP_NOIO);
	if (!buf)
		return SKB_NR_REASONS;
	sk_gcopy_init(&req->gcopy, req->d->dev->otherend_id);
	for (i = 0; i < d->nr_indirect && !err && left; i++) {
		len = min_t(u32, left, SK_BLKIF_PAGE_SIZE);
		err = sk_gcopy_from_peer(&req->gcopy, d->indirect_grefs[i], 0,
					 buf + i * SK_BLKIF_PAGE_SIZE, len);
		atomic64_inc(&req->d->stats.gcopy_segs);
		atomic64_add(len, &req->d->stats.gcopy_bytes);
		left -= len;
	}
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
	kvfree(buf);
	return r;
}

/*
 * A request that has not run and cannot now, because the device is
 * stopping: in a reconfiguration's drain (skb_reconnect()) it is left
 * unanswered, freed with @req if it has one, and the frontend issues it
 * again on its new rings.  Return: true if it was, false if it is to be
 * failed (any other stop).
 */
static bool skb_left_to_frontend(struct skb_dev *d, struct sk_chan *ch,
				 struct skb_req *req)
{
	if (!READ_ONCE(d->stopping))
		return false;
	smp_rmb();	/* pairs with skb_reconnect()'s smp_wmb() */
	if (!READ_ONCE(d->reconfiguring))
		return false;
	if (req)
		skb_req_free(req);
	atomic64_inc(&d->stats.left_to_frontend);
	skb_inflight_put(d, ch);
	return true;
}

/*
 * Read, write, flush or barrier with data: validated; its pages reserved
 * (req.c, may wait for the budget), each segment on the frontend's mapped
 * page where the disk's pool has one (gmap.c), the rest on bounce pages
 * (copy in), then submit.
 */
static void skb_start_rw(struct skb_dev *d, struct sk_chan *ch,
			 const struct skb_req_desc *desc)
{
	struct skb_gpool *gp = skb_queue(d, ch)->gp;
	struct skb_req *req;
	enum skb_reason r;
	unsigned int n;

	/* may wait for pages other requests give back (budget.c) */
	req = skb_req_alloc(d, ch, desc);
	if (IS_ERR(req)) {
		/* -ESHUTDOWN: the device stopped while it waited */
		if (PTR_ERR(req) == -ESHUTDOWN &&
		    skb_left_to_frontend(d, ch, NULL))
			return;
		if (PTR_ERR(req) == -ENOMEM)
			atomic64_inc(&d->stats.nomem);
		goto answer_error;
	}
	if (desc->indirect) {
		r = skb_read_indirect(req);
		if (r == SKB_NR_REASONS)
			goto free_req;
		if (r) {
			skb_req_free(req);
			skb_refuse(d, ch, desc, r);
			return;
		}
	}
	/* segments left to copy: all of them without a pool */
	n = gp ? skb_gpool_map(gp, req) : desc->nr_segs;
	/* the budget reserved for the others goes back at once */
	skb_req_set_bounce(req, n);
	if (n && skb_req_fill(req))
		goto free_req;
	/* answered by its completion (req.c) */
	d->be.ops->submit(req);
	return;

free_req:
	skb_req_free(req);
answer_error:
	atomic64_inc(&d->stats.io_errors);
	skb_answer(d, ch, desc, SK_BLKIF_RSP_ERROR);
}

/*
 * Flush or barrier: without data a backing flush, else a write.  Either
 * may sleep here, in the consumer, for the whole flush (the flush op; a
 * file's fsync, file.c): the answers written so far are published first.
 */
static void skb_start_flush(struct skb_dev *d, struct sk_chan *ch,
			    const struct skb_req_desc *desc)
{
	int err;

	sk_chan_push(ch);
	if (desc->nr_segs) {
		skb_start_rw(d, ch, desc);
		return;
	}
	err = d->be.ops->flush(&d->be);
	if (err)
		atomic64_inc(&d->stats.io_errors);
	skb_answer(d, ch, desc, err ? SK_BLKIF_RSP_ERROR : SK_BLKIF_RSP_OKAY);
}

static void skb_start_discard(struct skb_dev *d, struct sk_chan *ch,
			      const struct skb_req_desc *desc)
{
	int err = 0;

	if (desc->nr_sectors) {
		/* it sleeps here: publish the answers written so far */
		sk_chan_push(ch);
		err = d->be.ops->discard(&d->be, desc->sector,
					 desc->nr_sectors);
	}
	if (err && err != -EOPNOTSUPP)
		atomic64_inc(&d->stats.io_errors);
	skb_answer(d, ch, desc,
		   err == -EOPNOTSUPP ? SK_BLKIF_RSP_EOPNOTSUPP :
		   err ? SK_BLKIF_RSP_ERROR : SK_BLKIF_RSP_OKAY);
}

/* How each kind of validated request starts; each ends in an answer. */
static void (*const skb_start[])(struct skb_dev *d, struct sk_chan *ch,
				 const struct skb_req_desc *desc) = {
	[SKB_KIND_READ] = skb_start_rw,
	[SKB_KIND_WRITE] = skb_start_rw,
	[SKB_KIND_FLUSH] = skb_start_flush,
	[SKB_KIND_DISCARD] = skb_start_discard,
};

/**
 * skb_chan_msg() - handle one request (sk_chan_ops.msg).
 * @ch: the channel.
 * @msg: our private copy of the request.
 *
 * Consumer context (a work item): may sleep.  Flushes without data and
 * discards are performed here synchronously; requests with data are
 * submitted and answered by their completion.  A barrier first waits here
 * for every earlier request of @ch, then for its own answer (barrier.c).
 */
void skb_chan_msg(struct sk_chan *ch, const void *msg)
{
	struct skb_dev *d = sk_link_priv(sk_chan_link(ch));
	struct skb_req_desc desc;
	enum skb_reason r;

	skb_inflight_get(d, ch);
	atomic64_inc(&d->stats.reqs);
	skb_resize_check(d);	/* as xen-blkback, on the guest's I/O */
	r = skb_req_parse(msg, &d->lim, &desc);
	if (READ_ONCE(d->stopping)) {
		if (!skb_left_to_frontend(d, ch, NULL))
			skb_answer(d, ch, &desc, SK_BLKIF_RSP_ERROR);
		return;
	}
	if (r) {
		skb_refuse(d, ch, &desc, r);
		return;
	}
	/*
	 * Agreed I/O limits (limit.c), before the request holds anything of
	 * the page budget: a throttled guest must not hold pages that other
	 * disks wait for.
	 */
	skb_limit_wait(d, ch, &desc);
	if (desc.barrier)
		skb_barrier_drain(d, ch);
	skb_start[desc.kind](d, ch, &desc);
	if (desc.barrier)
		skb_barrier_wait(d, ch);
}
