// SPDX-License-Identifier: GPL-2.0
/*
 * splitkit_back requests: the life of one request from allocation to its
 * answer, and the in-flight counts that disconnect and barriers wait on.
 * A request that does I/O gets a struct skb_req with one page per
 * segment, once the page budget (budget.c) has let it in: it reserves
 * there, before anything is allocated, its bookkeeping (the struct and its
 * per-segment arrays, rounded up to pages), the buffer its indirect pages
 * are read into, and a bounce page for every segment; once it knows which
 * segments are done on mapped pages it gives back what it does not keep
 * (skb_req_set_bounce()), and the rest when it is freed.  Either its pages
 * are the frontend's own, mapped by its ring's pool of persistent grants
 * (gmap.c, zero copy: nothing to copy, and the slots are given back when
 * the request is freed), or they are bounce pages: a write's data is
 * grant-copied from the frontend into them before the backing sees it
 * (skb_req_fill()), and a read's data is grant-copied back out after the
 * I/O (skb_req_answer()), so no foreign page is mapped and a frontend
 * cannot change data under us.  The backing's I/O parts end in
 * skb_req_done().  A request with nothing left to copy (a write, a read
 * done on mapped pages, a failed read) is answered and pushed there and
 * then, in the completion's own context (bio end_io, often a hard
 * interrupt), as xen-blkback does: no hop to a worker, so no context
 * switch between the I/O and the answer.  A read on bounce pages needs a
 * grant copy out, too long for an interrupt: the last part puts it on its
 * ring's list of completed requests and, if the list was empty, queues the
 * ring's completion work; so does a request one of whose per-segment
 * arrays had to be vmalloc'ed (a large indirect request when memory is
 * fragmented): vfree() may sleep outside interrupts, and a completion may
 * run in task context with preemption off.  That work takes the whole
 * list, answers each request on the ring and releases it, then pushes the
 * answers once: one push, and at most one event to the frontend, for every
 * request that completed while the work was queued.  (Direct answers push
 * one by one, but a push only sends an event when the frontend asked for
 * one, so answers that come while it is still busy share its next one.)
 * Requests answered without I/O (refusals, flushes without data,
 * discards) go through skb_answer().
 *
 * Callers: blkif.c (allocation, filling, early answers), bdev.c, file.c and
 * qcow2.c (skb_req_done()); nothing here calls back into them.  The frontend
 * counterpart is xen-blkfront's blkif_completion().
 *
 * In-flight counts: every request the consumer takes is counted from
 * skb_inflight_get() in skb_chan_msg() until skb_inflight_put() right
 * after its answer, once on its ring (skb_queue.inflight, barrier.c waits
 * on it) and once on the device (skb_dev.inflight, disconnect waits on it).
 */
#include <linux/delay.h>
#include <linux/err.h>
#include <linux/highmem.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/slab.h>

#include "common.h"

/* One bounce page per segment: a segment is one grant page. */
static_assert(PAGE_SIZE == SK_BLKIF_PAGE_SIZE);

/* Completion work (reads on bounce pages): grant copy out, answer, release. */
static struct workqueue_struct *skb_wq;

static void skb_queue_done_work(struct work_struct *work);

#ifdef SKB_TEST_HOOKS
/*
 * Test builds only (not "make install"): a probe of the hand-over between
 * the last answer and disconnect (skb_inflight_put()).  The last answerer
 * marks the device "waking" from the count's fall to zero until its
 * wake-up is done, and waits test_drain_delay_ms in between; disconnect
 * complains if, once it saw the count at zero, the mark is still set - it
 * would go on to free a device someone is still waking.  The delay makes
 * that window wide enough for a detach under I/O to land in it whenever
 * it exists (scenario back-detach); with the hand-over under drain_lock it
 * never does.  The delay is spent with drain_lock held: test use only.
 */
static unsigned int test_drain_delay_ms;
module_param(test_drain_delay_ms, uint, 0644);
MODULE_PARM_DESC(test_drain_delay_ms,
		 "test builds only: ms the last answer waits before waking disconnect, at most 100, possibly in a hard interrupt (default 0)");

/* at most this long: the wait may be in a hard interrupt, with IRQs off */
#define SKB_TEST_DRAIN_DELAY_MAX_MS	100

static void skb_test_hand_over(struct skb_dev *d)
{
	unsigned int ms = min_t(unsigned int, READ_ONCE(test_drain_delay_ms),
				SKB_TEST_DRAIN_DELAY_MAX_MS);

	WRITE_ONCE(d->test_waking, true);
	if (ms)
		mdelay(ms);
}

static void skb_test_handed_over(struct skb_dev *d)
{
	WRITE_ONCE(d->test_waking, false);
}

/**
 * skb_test_drained() - disconnect saw no request in flight (test builds).
 * @d: the device.
 *
 * Complains if the last answer has not finished waking @d.
 */
void skb_test_drained(struct skb_dev *d)
{
	if (READ_ONCE(d->test_waking))
		dev_err(&d->dev->dev,
			"test: disconnect drained while the last answer was still waking it (use-after-free window)\n");
}
#else
static inline void skb_test_hand_over(struct skb_dev *d) { }
static inline void skb_test_handed_over(struct skb_dev *d) { }
#endif

/**
 * skb_req_init() - set up what requests need module-wide.
 *
 * Return: 0 or -ENOMEM.
 */
int skb_req_init(void)
{
	skb_wq = alloc_workqueue(SKB_NAME, WQ_MEM_RECLAIM | WQ_HIGHPRI, 0);
	return skb_wq ? 0 : -ENOMEM;
}

/**
 * skb_req_exit() - undo skb_req_init(); no request may be left.
 */
void skb_req_exit(void)
{
	destroy_workqueue(skb_wq);
}

/**
 * skb_queues_init() - set up the per-ring state of a new device.
 * @d: the device, being probed.
 */
void skb_queues_init(struct skb_dev *d)
{
	unsigned int i;

	BUILD_BUG_ON(ARRAY_SIZE(d->queues) != SKB_MAX_QUEUES);
	atomic_set(&d->inflight, 0);
	spin_lock_init(&d->drain_lock);
	init_waitqueue_head(&d->drain_wq);
	for (i = 0; i < SKB_MAX_QUEUES; i++) {
		atomic_set(&d->queues[i].inflight, 0);
		init_waitqueue_head(&d->queues[i].idle);
		init_llist_head(&d->queues[i].done);
		INIT_WORK(&d->queues[i].done_work, skb_queue_done_work);
	}
}

/**
 * skb_queues_quiesce() - wait until no ring's completion work runs.
 * @d: the device; nothing of it is in flight (skb_disconnect() drained it).
 *
 * May sleep.  The completion work ends its last request's in-flight count
 * before it returns (skb_queue_done_work()): the count seen at zero, it
 * may still be returning, and must not outlive the rings or the device.
 * (It is never pending then: it is queued only with a request on its
 * list, which holds the count until a run has answered it.)
 */
void skb_queues_quiesce(struct skb_dev *d)
{
	unsigned int i;

	for (i = 0; i < SKB_MAX_QUEUES; i++)
		flush_work(&d->queues[i].done_work);
}

/**
 * skb_inflight_get() - count a request the consumer just took.
 * @d: the device.
 * @ch: its ring.
 *
 * Consumer context.  Pairs with skb_inflight_put(), called once the request
 * has been answered.
 */
void skb_inflight_get(struct skb_dev *d, struct sk_chan *ch)
{
	atomic_inc(&skb_queue(d, ch)->inflight);
	atomic_inc(&d->inflight);
	/* pairs with the smp_mb() in skb_disconnect(): see it or be seen */
	smp_mb__after_atomic();
}

/**
 * skb_inflight_put() - a request has been answered.
 * @d: the device.
 * @ch: its ring.
 *
 * Any context.  The device count goes last: once it reaches zero,
 * disconnect may tear the rings down and the device may be freed.
 *
 * That last step is a hand-over, and it is done under @d->drain_lock: the
 * count falls to zero and the waiter is woken with the lock held
 * (atomic_dec_and_lock_irqsave()), and skb_disconnect() checks the count
 * under the same lock (wait_event_lock_irq_timeout()).  So the
 * waiter cannot see zero, return and let the device be freed before this
 * function has released the lock, which is its last access to @d.  (Done
 * the obvious way, atomic_dec_and_test() then wake_up(), the waiter may
 * see zero between the two - it re-checks its condition before it sleeps,
 * or wakes for another reason - and wake_up() then takes the lock of a
 * freed waitqueue: a use after free.)  The ring count needs no such care:
 * while it falls, the device count still holds the device.
 */
void skb_inflight_put(struct skb_dev *d, struct sk_chan *ch)
{
	struct skb_queue *q = skb_queue(d, ch);
	unsigned long flags;

	/* fully ordered: a waiter that missed the new count is seen here */
	if (atomic_dec_return(&q->inflight) <= 1 && wq_has_sleeper(&q->idle))
		wake_up(&q->idle);
	if (atomic_dec_and_lock_irqsave(&d->inflight, &d->drain_lock, flags)) {
		skb_test_hand_over(d);
		wake_up(&d->drain_wq);
		skb_test_handed_over(d);
		spin_unlock_irqrestore(&d->drain_lock, flags);
	}
}

/*
 * Every byte of the response is written here (skb_rsp_pack()), padding
 * included, into a buffer the ring then copies whole into the shared page:
 * no byte of dom0's stack reaches the frontend (see skb_rsp_pack()).
 */
static void skb_put_rsp(struct sk_chan *ch, u64 id, u8 op, int status)
{
	u8 rsp[SK_BLKIF_RSP_SIZE];

	skb_rsp_pack(rsp, id, op, status);
	/*
	 * Cannot fail while connected: the request this answers was
	 * consumed and has no response yet.  After a ring violation the
	 * ring refuses (-EIO), which is what we want.
	 */
	sk_chan_put(ch, rsp);
}

/**
 * skb_answer() - answer a request the consumer is done with.
 * @d: the device.
 * @ch: the request's channel.
 * @desc: the request (its id and operation are echoed).
 * @status: SK_BLKIF_RSP_*.
 *
 * Consumer context; the consumer publishes the answer with the rest of
 * its batch.  Ends the request's in-flight count.
 */
void skb_answer(struct skb_dev *d, struct sk_chan *ch,
		const struct skb_req_desc *desc, int status)
{
	skb_put_rsp(ch, desc->id, desc->op, status);
	skb_inflight_put(d, ch);
}

/* Whether any of @req's per-segment arrays is vmalloc'ed (kvcalloc()). */
static bool skb_req_vmalloced(const struct skb_req *req)
{
	return is_vmalloc_addr(req->segs) || is_vmalloc_addr(req->pages) ||
	       is_vmalloc_addr(req->bvec) || is_vmalloc_addr(req->gslot) ||
	       is_vmalloc_addr(req->gact);
}

/**
 * skb_req_free() - release a request, its bounce pages and its budget.
 * @req: the request; its answer, if any, is someone else's business.
 *
 * Any context, hard interrupt included (skb_req_done()), if none of its
 * arrays was vmalloc'ed; process context otherwise.  Gives everything it
 * reserved back to the page budget (budget.c) before the caller ends its
 * in-flight count, while the device is sure to exist.
 */
void skb_req_free(struct skb_req *req)
{
	unsigned int i;

	/* mapped pages are not ours to free */
	if (req->pages)
		for (i = 0; i < req->desc.nr_segs; i++)
			if (req->pages[i] && !skb_gpool_mapped(req, i))
				__free_page(req->pages[i]);
	if (req->gpool)
		skb_gpool_put(req);
	kvfree(req->gslot);
	kvfree(req->gact);
	if (req->segs != req->desc.segs)
		kvfree(req->segs);
	kvfree(req->pages);
	kvfree(req->bvec);
	if (req->budget)
		skb_pages_put(req->d, req->budget);
	kfree(req);
}

/*
 * Whether @req's answer needs a grant copy out first: a read that
 * succeeded on at least one bounce page (@req->bounce counts them).
 */
static bool skb_req_copies_out(const struct skb_req *req)
{
	return req->desc.kind == SKB_KIND_READ && req->bounce &&
	       !READ_ONCE(req->error);
}

/*
 * Completion: copy a read's data out, write the answer (not pushed) and
 * release the request.  Process context if skb_req_copies_out(), any
 * context otherwise.  Its in-flight count is the caller's to end, after
 * the push.
 */
static void skb_req_answer(struct skb_req *req)
{
	struct skb_dev *d = req->d;
	struct sk_chan *ch = req->ch;
	int err = req->error;
	unsigned int i;

	/* on a mapped page a read's data is in the frontend's page already */
	if (skb_req_copies_out(req)) {
		unsigned int segs = 0;
		u64 bytes = 0;

		sk_gcopy_init(&req->gcopy, d->dev->otherend_id);
		for (i = 0; i < req->desc.nr_segs && !err; i++) {
			const struct skb_seg *s = &req->segs[i];
			u32 off = s->first << SECTOR_SHIFT;
			u32 len = (s->last - s->first + 1) << SECTOR_SHIFT;

			if (skb_gpool_mapped(req, i))
				continue;
			err = sk_gcopy_to_peer(&req->gcopy, s->gref, off,
					       page_address(req->pages[i]) +
					       off, len);
			segs++;
			bytes += len;
		}
		atomic64_add(segs, &d->stats.gcopy_segs);
		atomic64_add(bytes, &d->stats.gcopy_bytes);
		if (!err)
			err = sk_gcopy_flush(&req->gcopy);
		if (err)
			atomic64_inc(&d->stats.grant_errors);
	}
	if (err)
		atomic64_inc(&d->stats.io_errors);
	skb_put_rsp(ch, req->desc.id, req->desc.op,
		    err ? SK_BLKIF_RSP_ERROR : SK_BLKIF_RSP_OKAY);
	skb_req_free(req);
}

/* A long run pushes what it has answered so far every this many answers. */
#define SKB_PUSH_EVERY	32

/*
 * A ring's completion work: answer every request that completed since the
 * last run, in the order they completed, then push once (and every
 * SKB_PUSH_EVERY answers on the way, so the first answers of a long run
 * do not wait for the last).  The in-flight counts end after the last
 * push: the last one may let disconnect tear the ring and the device down
 * (skb_inflight_put()), so nothing of them is touched after it but what
 * skb_queues_quiesce() waits for (this function's return).  Every request
 * on the list is of this ring (skb_queue()).  The list is never empty
 * when a run starts (the work is queued only by the request that made it
 * non-empty, and only a run empties it); the check is defensive.
 */
static void skb_queue_done_work(struct work_struct *work)
{
	struct skb_queue *q = container_of(work, struct skb_queue, done_work);
	struct llist_node *list = llist_reverse_order(llist_del_all(&q->done));
	struct skb_req *req, *next;
	struct skb_dev *d = NULL;
	struct sk_chan *ch = NULL;
	unsigned int n = 0;

	llist_for_each_entry_safe(req, next, list, done_node) {
		WARN_ON_ONCE(ch && req->ch != ch);
		d = req->d;
		ch = req->ch;
		skb_req_answer(req);
		if (!(++n % SKB_PUSH_EVERY))
			sk_chan_push(ch);
		cond_resched();
	}
	if (WARN_ON_ONCE(!n))
		return;
	sk_chan_push(ch);
	atomic64_inc(&d->stats.completion_runs);
	while (n--)
		skb_inflight_put(d, ch);
}

/*
 * Answer @req where its I/O completed, push, and end its in-flight count:
 * the same steps as a run of the completion work, for one request that
 * needs no copy.  Nothing of @req, its ring or its device is touched
 * after skb_inflight_put().
 */
static void skb_req_answer_now(struct skb_req *req)
{
	struct skb_dev *d = req->d;
	struct sk_chan *ch = req->ch;

	skb_req_answer(req);
	sk_chan_push(ch);
	atomic64_inc(&d->stats.direct_answers);
	skb_inflight_put(d, ch);
}

/**
 * skb_req_done() - one part of a request's I/O finished.
 * @req: the request.
 * @err: 0 or -errno of that part.
 *
 * Any context (bio end_io may run in a hard interrupt).  The last part
 * answers the request at once if it has nothing to copy out (and none of
 * its arrays is vmalloc'ed); otherwise it puts it on its ring's list
 * of completed requests, and the first on an empty list queues the ring's
 * completion work.
 */
void skb_req_done(struct skb_req *req, int err)
{
	struct skb_queue *q;

	if (err)
		cmpxchg(&req->error, 0, err);
	if (!atomic_dec_and_test(&req->pending))
		return;
	if (!skb_req_copies_out(req) && !skb_req_vmalloced(req)) {
		skb_req_answer_now(req);
		return;
	}
	q = skb_queue(req->d, req->ch);
	if (llist_add(&req->done_node, &q->done))
		queue_work(skb_wq, &q->done_work);
}

/*
 * Pages of the page budget that the bookkeeping of a request of @n
 * segments takes (skb_req_alloc()): the struct, which embeds its grant
 * copy batch, and its per-segment arrays - pages and bvec; with a pool of
 * mapped grants (@gp), gslot and gact; @indirect, its own segment list -
 * their bytes rounded up to whole pages (at 4096 segments about 150 KiB,
 * 38 pages).
 */
static unsigned int skb_req_meta_pages(unsigned int n, bool gp,
				       bool indirect)
{
	size_t seg = sizeof(struct page *) + sizeof(struct bio_vec);

	if (gp)
		seg += sizeof(u32) + sizeof(u8);
	if (indirect)
		seg += sizeof(struct skb_seg);
	return DIV_ROUND_UP(sizeof(struct skb_req) + n * seg, PAGE_SIZE);
}

/**
 * skb_req_alloc() - allocate a validated request that carries data.
 * @d: the device.
 * @ch: the channel it came from.
 * @desc: the request as validated (indirect: up to its page references).
 *
 * Consumer context; may sleep.  First reserves in the page budget, in one
 * go, everything the request may hold: its bookkeeping (the struct and
 * its per-segment arrays), the buffer blkif.c reads its indirect pages
 * into, and a bounce page per segment; it waits there while the
 * budget is short (budget.c).  One reservation, not one per part, so that
 * a consumer never waits while holding pages.  What the request turns out
 * not to need is given back by skb_req_set_bounce(), the rest by
 * skb_req_free().  The request holds one reference on its I/O for the
 * submitter (see struct skb_backing_ops.submit).  On a ring with a pool of
 * mapped grants it also gets room for its segments' slots (gmap.c).  The
 * per-segment arrays may be vmalloc'ed (kvcalloc()).
 *
 * Return: the request; ERR_PTR(-ESHUTDOWN) if @d stopped while it waited
 * for the budget, ERR_PTR(-ENOMEM) without memory.
 */
struct skb_req *skb_req_alloc(struct skb_dev *d, struct sk_chan *ch,
			      const struct skb_req_desc *desc)
{
	unsigned int n = desc->nr_segs;
	bool gp = skb_queue(d, ch)->gp;
	struct skb_req *req;
	unsigned int meta, cost;
	int err;

	meta = skb_req_meta_pages(n, gp, desc->indirect);
	cost = meta + n;
	if (desc->indirect)
		cost += desc->nr_indirect;
	err = skb_pages_get(d, ch, cost);
	if (err)
		return ERR_PTR(err);
	req = kzalloc(sizeof(*req), GFP_NOIO);
	if (!req) {
		skb_pages_put(d, cost);
		return ERR_PTR(-ENOMEM);
	}
	req->budget = cost;	/* given back by skb_req_free() */
	req->meta_pages = meta;
	req->d = d;
	req->ch = ch;
	req->desc = *desc;
	req->segs = req->desc.segs;
	atomic_set(&req->pending, 1);
	req->pages = kvcalloc(n, sizeof(*req->pages), GFP_NOIO);
	req->bvec = kvcalloc(n, sizeof(*req->bvec), GFP_NOIO);
	if (!req->pages || !req->bvec)
		goto free_req;
	if (gp) {
		req->gslot = kvcalloc(n, sizeof(*req->gslot), GFP_NOIO);
		req->gact = kvcalloc(n, sizeof(*req->gact), GFP_NOIO);
		if (!req->gslot || !req->gact)
			goto free_req;
	}
	if (desc->indirect) {
		req->segs = kvcalloc(n, sizeof(*req->segs), GFP_NOIO);
		if (!req->segs)
			goto free_req;
	}
	return req;

free_req:
	skb_req_free(req);
	return ERR_PTR(-ENOMEM);
}

/**
 * skb_req_set_bounce() - keep the budget of the bounce pages a request uses.
 * @req: the request, its indirect pages read (their buffer freed) and its
 *	segments put on mapped pages where they could be (skb_gpool_map()).
 * @n: its segments left on bounce pages (skb_req_fill() allocates them).
 *
 * Consumer context.  Of what skb_req_alloc() reserved, keeps the
 * bookkeeping's pages and @n bounce pages, and gives back the rest at once:
 * the indirect buffer's pages and a bounce page per segment on a mapped
 * page.  Call it once.
 */
void skb_req_set_bounce(struct skb_req *req, unsigned int n)
{
	unsigned int keep = req->meta_pages + n;

	req->bounce = n;
	if (WARN_ON_ONCE(keep > req->budget) || keep == req->budget)
		return;
	skb_pages_put(req->d, req->budget - keep);
	req->budget = keep;
}

/**
 * skb_req_fill() - allocate the bounce pages; for writes, copy the data in.
 * @req: the request, its segments checked; those skb_gpool_map() put on
 *	mapped pages are left alone.
 *
 * Consumer context.  Each page gets the data at the segment's offset, and
 * @req->bvec describes the same bytes.
 *
 * Return: 0, -ENOMEM, or the grant copy's -errno (counted).
 */
int skb_req_fill(struct skb_req *req)
{
	bool write = req->desc.kind != SKB_KIND_READ;
	unsigned int i, segs = 0;
	u64 bytes = 0;
	int err = 0;

	if (write)
		sk_gcopy_init(&req->gcopy, req->d->dev->otherend_id);
	for (i = 0; i < req->desc.nr_segs; i++) {
		const struct skb_seg *s = &req->segs[i];
		u32 off = s->first << SECTOR_SHIFT;
		u32 len = (s->last - s->first + 1) << SECTOR_SHIFT;

		if (skb_gpool_mapped(req, i))
			continue;
		req->pages[i] = alloc_page(GFP_NOIO);
		if (!req->pages[i]) {
			atomic64_inc(&req->d->stats.nomem);
			return -ENOMEM;
		}
		req->bvec[i].bv_page = req->pages[i];
		req->bvec[i].bv_len = len;
		req->bvec[i].bv_offset = off;
		if (write && !err) {
			err = sk_gcopy_from_peer(&req->gcopy, s->gref, off,
						 page_address(req->pages[i]) +
						 off, len);
			segs++;
			bytes += len;
		}
	}
	atomic64_add(segs, &req->d->stats.gcopy_segs);
	atomic64_add(bytes, &req->d->stats.gcopy_bytes);
	if (write && !err)
		err = sk_gcopy_flush(&req->gcopy);
	if (err)
		atomic64_inc(&req->d->stats.grant_errors);
	return err;
}
