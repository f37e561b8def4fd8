// SPDX-License-Identifier: GPL-2.0
/*
 * splitkit_back zero copy: a frontend's persistent grants mapped once into
 * dom0 and kept mapped, one bounded pool per disk shared by its rings (a
 * frontend may use a granted page on any ring: splitkit_front's pool is
 * per disk), so that a request's I/O
 * runs on the guest's own pages - a bio built straight on them (bdev.c),
 * or the same pages in the kiocb's bvec iterator (file.c, and qcow2.c's
 * direct path; its engine path reads and writes them at their kernel
 * address) - with no bounce
 * page, no grant copy and, once the grants are mapped, no hypercall at
 * all.  The bookkeeping (which grant sits in which slot, the LRU of idle
 * mappings, a slot per segment, PENDING while being mapped) is the portable
 * core/gmap.c; this file does what it decides: the pages the mappings sit
 * on (gnttab_alloc_pages()), and the map and unmap hypercalls, batched
 * (gnttab_map_refs(), gnttab_unmap_refs_sync()).
 *
 * Used only when the module parameter zero_copy is on, the frontend wrote
 * feature-persistent = 1 (its grants stay granted, so a mapping stays
 * valid and is worth keeping), and the backing's ops say that their I/O
 * may run on mapped pages (skb_backing_ops.map_ok).  A segment that cannot
 * be mapped (the pool's slots all in use or used too recently to give way,
 * or a mapping the hypervisor refused) is done on a bounce page by grant
 * copy (req.c), the rest of its request on mapped pages: the pool bounds
 * dom0 memory without ever failing a request.
 * Documentation/block.rst says when each path is the cheaper one.
 *
 * Memory: at most max_grants x max_queues (as offered when the disk was
 * probed) slots per disk, shared by the rings the frontend connects
 * (xenbus.c, skb_gpools_create()), each grant mapped once however many
 * rings name it, each slot one dom0 page frame
 * (on a PV dom0 a ballooned page whose frame is given to the mapping) plus
 * about 40 bytes of bookkeeping.  The page budget (budget.c) does not count
 * them: they do not grow with what a guest sends, only with the pool.
 *
 * Lifetime and locking: a pool lives from connect to disconnect (xenbus.c).
 * Its lock protects the bookkeeping and is taken with interrupts off
 * (completions give slots back from bio end_io).  A slot's page and handle
 * belong to the request that took it to map (the bookkeeping keeps it
 * PENDING, so no other ring's request uses it, until the mapping is made
 * and reported under the lock); each ring's consumer (skb_chan_msg(), one
 * at a time per ring) has its own batch scratch.  Only consumers map or
 * unmap while connected; completions only give slots back
 * (skb_gpool_put()).  Disconnect destroys the pool after every request has
 * been answered and every consumer has stopped, so every slot is idle:
 * nothing is unmapped under I/O, and nothing stays mapped.
 */
#include <linux/mm.h>
#include <linux/random.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <xen/grant_table.h>

#include "common.h"

/* Map or unmap operations per hypercall batch. */
#define SKB_GPOOL_BATCH	32

/**
 * struct skb_gbatch - one ring consumer's scratch for a hypercall batch.
 * @map_ops: map operations.
 * @unmap_ops: unmap operations.
 * @pages: their pages.
 * @slot: their slots.
 * @unmap_q: gnttab_unmap_refs_sync()'s request for @unmap_ops.  Not on
 *	the stack: Linux initialises the delayed work in it (which retries
 *	while a page is still referenced) without the on-stack annotation,
 *	and CONFIG_DEBUG_OBJECTS reports every on-stack one ("ODEBUG: object
 *	... is on stack ..., but NOT annotated").
 */
struct skb_gbatch {
	struct gnttab_map_grant_ref map_ops[SKB_GPOOL_BATCH];
	struct gnttab_unmap_grant_ref unmap_ops[SKB_GPOOL_BATCH];
	struct page *pages[SKB_GPOOL_BATCH];
	u32 slot[SKB_GPOOL_BATCH];
	struct gntab_unmap_queue_data unmap_q;
};

/**
 * struct skb_gpool - one disk's mapped grants.
 * @lock: protects @m.
 * @m: the bookkeeping (core/gmap.c).
 * @d: the device, for its counters and messages.
 * @pages: per slot, the page its mapping sits on; NULL until it needs one.
 * @handle: per slot, the mapping's handle while MAPPED.
 * @nr_rings: rings that may use the pool (indices below it).
 * @batch: per ring, its consumer's batch scratch; one more for
 *	skb_gpool_destroy().
 */
struct skb_gpool {
	spinlock_t lock;
	struct skb_gmap m;
	struct skb_dev *d;
	struct page **pages;
	grant_handle_t *handle;
	unsigned int nr_rings;
	struct skb_gbatch *batch;
};

static unsigned long skb_gpool_vaddr(struct page *page)
{
	return (unsigned long)pfn_to_kaddr(page_to_pfn(page));
}

/**
 * skb_gpool_create() - an empty pool for one disk.
 * @d: the device.
 * @cap: slots (most grants mapped at once), at least 1.
 * @rings: the rings that will use it (indices 0 to @rings - 1).
 *
 * Process context.  No page is taken until a grant is mapped.
 *
 * Return: the pool, or NULL without memory.
 */
struct skb_gpool *skb_gpool_create(struct skb_dev *d, unsigned int cap,
				   unsigned int rings)
{
	struct skb_gmap_slot *slot;
	struct skb_gpool *gp;
	u32 *bucket;

	gp = kzalloc(sizeof(*gp), GFP_KERNEL);
	if (!gp)
		return NULL;
	slot = kvcalloc(cap, sizeof(*slot), GFP_KERNEL);
	bucket = kvcalloc(skb_gmap_buckets(cap), sizeof(*bucket), GFP_KERNEL);
	gp->pages = kvcalloc(cap, sizeof(*gp->pages), GFP_KERNEL);
	gp->handle = kvcalloc(cap, sizeof(*gp->handle), GFP_KERNEL);
	gp->batch = kvcalloc(rings + 1, sizeof(*gp->batch), GFP_KERNEL);
	if (!slot || !bucket || !gp->pages || !gp->handle || !gp->batch)
		goto free_arrays;
	spin_lock_init(&gp->lock);
	skb_gmap_init(&gp->m, cap, slot, bucket);
	/* a secret hash: the frontend chooses the grants it hashes */
	skb_gmap_seed(&gp->m, get_random_u32());
	gp->d = d;
	gp->nr_rings = rings;
	return gp;

free_arrays:
	kvfree(gp->batch);
	kvfree(gp->handle);
	kvfree(gp->pages);
	kvfree(bucket);
	kvfree(slot);
	kfree(gp);
	return NULL;
}

/*
 * Unmap @b->unmap_ops[0..@n) with their pages @b->pages in one batch and
 * wait: gnttab_unmap_refs_sync() waits until nobody holds a reference to
 * a page before it unmaps it.  May sleep.  Return: its error.
 */
static int skb_gbatch_unmap(struct skb_gbatch *b, unsigned int n)
{
	struct gntab_unmap_queue_data *q = &b->unmap_q;

	q->unmap_ops = b->unmap_ops;
	q->kunmap_ops = NULL;
	q->pages = b->pages;
	q->count = n;
	return gnttab_unmap_refs_sync(q);
}

/*
 * Unmap @n (at most SKB_GPOOL_BATCH) slots listed in @b->slot, in one
 * batch (skb_gbatch_unmap()).  Return: 0, or -EIO if the batch or one
 * of its operations failed: such a mapping is in an unknown state and its
 * page is given up (leaked) so that nothing reuses it.
 */
static int skb_gpool_unmap_batch(struct skb_gpool *gp, struct skb_gbatch *b,
				 unsigned int n)
{
	unsigned int i, bad = 0;
	int err;

	if (!n)
		return 0;
	for (i = 0; i < n; i++) {
		u32 s = b->slot[i];

		gnttab_set_unmap_op(&b->unmap_ops[i],
				    skb_gpool_vaddr(gp->pages[s]),
				    GNTMAP_host_map, gp->handle[s]);
		b->pages[i] = gp->pages[s];
	}
	err = skb_gbatch_unmap(b, n);
	atomic64_add(n, &gp->d->stats.gnt_unmaps);
	atomic64_sub(n, &gp->d->stats.grants_mapped);
	for (i = 0; i < n; i++) {
		if (!err && b->unmap_ops[i].status == GNTST_okay)
			continue;
		gp->pages[b->slot[i]] = NULL;
		bad++;
	}
	if (bad)
		dev_err_ratelimited(&gp->d->dev->dev,
				    "unmapping %u of %u grant(s) failed (%d): their pages are given up\n",
				    bad, n, err);
	return bad ? -EIO : 0;
}

/*
 * gnttab_map_refs() failed as a whole: the hypervisor refused the batch
 * part way (the hypercall's own error; a refused operation only sets its
 * status), and the operations it processed before may have mapped their
 * grant: status GNTST_okay, where every other keeps the positive value
 * gnttab_set_map_op() wrote.  Unmap those with their handles, so that no
 * page of the frontend stays mapped in dom0 (a domain with a page mapped
 * elsewhere can never be destroyed).  A page whose mapping is gone serves
 * again; one whose unmap the hypervisor did not confirm is given up
 * (leaked) so that nothing reuses it.  The caller marks every slot of
 * @slot broken.  Uses @b's unmap operations, and its pages from the
 * front, over the map's.
 */
static void skb_gpool_map_undo(struct skb_gpool *gp, struct skb_gbatch *b,
			       const u32 *slot, unsigned int k)
{
	unsigned int i, n = 0, bad = 0;
	u32 undo[SKB_GPOOL_BATCH];
	int err;

	for (i = 0; i < k; i++) {
		if (b->map_ops[i].status != GNTST_okay)
			continue;
		gnttab_set_unmap_op(&b->unmap_ops[n],
				    skb_gpool_vaddr(b->pages[i]),
				    GNTMAP_host_map, b->map_ops[i].handle);
		/* not GNTST_okay until the hypervisor has done it */
		b->unmap_ops[n].status = 1;
		b->pages[n] = b->pages[i];
		undo[n++] = slot[i];
	}
	if (!n)
		return;
	/*
	 * Its result may be an error although every unmap was done (on a PV
	 * dom0, the p2m entries the failed map never set): each operation's
	 * status says what became of its mapping.
	 */
	err = skb_gbatch_unmap(b, n);
	atomic64_add(n, &gp->d->stats.gnt_unmaps);
	for (i = 0; i < n; i++) {
		if (b->unmap_ops[i].status == GNTST_okay)
			continue;
		gp->pages[undo[i]] = NULL;
		bad++;
	}
	dev_err_ratelimited(&gp->d->dev->dev,
			    "mapping a batch of grants failed: %u grant(s) it mapped unmapped again, %u unconfirmed and their pages given up (%d)\n",
			    n, bad, err);
}

/*
 * Map @n slots listed in @b->slot, their grants as the bookkeeping has
 * them, in one batch.  A slot mapped is reported so (the other rings may
 * use it from then on), one that could not be mapped is marked broken.
 * Return: the number of slots that failed.
 */
static unsigned int skb_gpool_map_batch(struct skb_gpool *gp,
					struct skb_gbatch *b, unsigned int n)
{
	domid_t domid = gp->d->dev->otherend_id;
	unsigned int i, k = 0, failed = 0, mapped = 0;
	u32 ok_slot[SKB_GPOOL_BATCH];
	int err;
	unsigned long flags;

	for (i = 0; i < n; i++) {
		u32 s = b->slot[i];

		if (!gp->pages[s] && gnttab_alloc_pages(1, &gp->pages[s])) {
			gp->pages[s] = NULL;
			atomic64_inc(&gp->d->stats.nomem);
			spin_lock_irqsave(&gp->lock, flags);
			skb_gmap_broken(&gp->m, s);
			spin_unlock_irqrestore(&gp->lock, flags);
			failed++;
			continue;
		}
		gnttab_set_map_op(&b->map_ops[k], skb_gpool_vaddr(gp->pages[s]),
				  GNTMAP_host_map, gp->m.slot[s].gref, domid);
		b->pages[k] = gp->pages[s];
		ok_slot[k++] = s;
	}
	if (!k)
		return failed;
	err = gnttab_map_refs(b->map_ops, NULL, b->pages, k);
	atomic64_add(k, &gp->d->stats.gnt_maps);
	if (err)
		skb_gpool_map_undo(gp, b, ok_slot, k);
	else
		for (i = 0; i < k; i++)
			if (b->map_ops[i].status == GNTST_okay)
				gp->handle[ok_slot[i]] = b->map_ops[i].handle;
	spin_lock_irqsave(&gp->lock, flags);
	for (i = 0; i < k; i++) {
		if (!err && b->map_ops[i].status == GNTST_okay) {
			skb_gmap_mapped(&gp->m, ok_slot[i]);
			mapped++;
			continue;
		}
		skb_gmap_broken(&gp->m, ok_slot[i]);
		failed++;
	}
	spin_unlock_irqrestore(&gp->lock, flags);
	atomic64_add(mapped, &gp->d->stats.grants_mapped);
	if (failed)
		atomic64_add(failed, &gp->d->stats.grant_errors);
	return failed;
}

/*
 * Unmap the old grants of @req's evicted slots, batched.  Return: 0, or
 * -EIO if a batch failed (its pages are given up).
 */
static int skb_gpool_unmap_evicted(struct skb_gpool *gp, struct skb_gbatch *b,
				   struct skb_req *req)
{
	unsigned int i, n = 0;
	int err = 0;

	for (i = 0; i < req->desc.nr_segs; i++) {
		if (req->gact[i] != SKB_GMAP_EVICT)
			continue;
		b->slot[n++] = req->gslot[i];
		if (n == SKB_GPOOL_BATCH) {
			err |= skb_gpool_unmap_batch(gp, b, n);
			n = 0;
		}
	}
	err |= skb_gpool_unmap_batch(gp, b, n);
	return err ? -EIO : 0;
}

/*
 * Map the grants of @req's missed slots, batched.  Those that fail are
 * marked broken; the others are mapped and stay.
 */
static void skb_gpool_map_missed(struct skb_gpool *gp, struct skb_gbatch *b,
				 struct skb_req *req)
{
	unsigned int i, n = 0;

	for (i = 0; i < req->desc.nr_segs; i++) {
		if (req->gact[i] != SKB_GMAP_MAP &&
		    req->gact[i] != SKB_GMAP_EVICT)
			continue;
		b->slot[n++] = req->gslot[i];
		if (n == SKB_GPOOL_BATCH) {
			skb_gpool_map_batch(gp, b, n);
			n = 0;
		}
	}
	skb_gpool_map_batch(gp, b, n);
}

/* An unmap failed before anything was mapped: no missed slot is mapped. */
static void skb_gpool_break_missed(struct skb_gpool *gp, struct skb_req *req)
{
	unsigned int i;
	unsigned long flags;

	spin_lock_irqsave(&gp->lock, flags);
	for (i = 0; i < req->desc.nr_segs; i++)
		if (req->gact[i] == SKB_GMAP_MAP ||
		    req->gact[i] == SKB_GMAP_EVICT)
			skb_gmap_broken(&gp->m, req->gslot[i]);
	spin_unlock_irqrestore(&gp->lock, flags);
}

/*
 * Segments whose slot could not be mapped (broken; also a later segment
 * that hit the same slot) give it back and are copied instead.  Return:
 * how many.
 */
static unsigned int skb_gpool_drop_broken(struct skb_gpool *gp,
					  struct skb_req *req)
{
	unsigned int i, dropped = 0;
	u32 s;
	unsigned long flags;

	spin_lock_irqsave(&gp->lock, flags);
	for (i = 0; i < req->desc.nr_segs; i++) {
		s = req->gslot[i];
		if (s == SKB_GMAP_NONE ||
		    gp->m.slot[s].state == SKB_GMAP_MAPPED)
			continue;
		skb_gmap_put(&gp->m, s);
		req->gslot[i] = SKB_GMAP_NONE;
		req->gact[i] = SKB_GMAP_COPY;
		dropped++;
	}
	spin_unlock_irqrestore(&gp->lock, flags);
	return dropped;
}

/**
 * skb_gpool_map() - put a request's segments on the frontend's mapped pages.
 * @gp: its disk's pool.
 * @req: a validated read or write, its segments checked, no pages yet; of
 *	a ring below the pool's @nr_rings (skb_gpool_create()'s @rings).
 *
 * Consumer context of @req's ring (may sleep: an unmap waits for the
 * page's last user).
 * Finds or makes a slot per segment (core/gmap.c), unmaps the evicted
 * ones and maps the missing ones, batched, and points those segments'
 * @req->pages and @req->bvec at the mapped pages.  A segment without a
 * slot (the pool full of mappings in use or recently used, or its grant
 * being mapped by another ring's request) or whose mapping failed is left
 * with no page and SKB_GMAP_NONE in @req->gslot: the caller copies it
 * (skb_req_fill()).  skb_req_free() gives the slots
 * back.
 *
 * Return: the segments left to copy.
 */
unsigned int skb_gpool_map(struct skb_gpool *gp, struct skb_req *req)
{
	struct skb_gbatch *b = &gp->batch[sk_chan_index(req->ch)];
	struct skb_stats *st = &req->d->stats;
	unsigned int i, n = req->desc.nr_segs, hits = 0, evicted = 0;
	unsigned int full, failed, mapped = 0;
	unsigned long flags;

	spin_lock_irqsave(&gp->lock, flags);
	full = n - skb_gmap_take(&gp->m, req->segs, n, req->gslot, req->gact);
	spin_unlock_irqrestore(&gp->lock, flags);
	req->gpool = gp;
	if (skb_gpool_unmap_evicted(gp, b, req))
		skb_gpool_break_missed(gp, req);
	else
		skb_gpool_map_missed(gp, b, req);
	failed = skb_gpool_drop_broken(gp, req);
	for (i = 0; i < n; i++) {
		const struct skb_seg *s = &req->segs[i];

		if (req->gslot[i] == SKB_GMAP_NONE)
			continue;
		hits += req->gact[i] == SKB_GMAP_HIT;
		evicted += req->gact[i] == SKB_GMAP_EVICT;
		mapped++;
		req->pages[i] = gp->pages[req->gslot[i]];
		req->bvec[i].bv_page = req->pages[i];
		req->bvec[i].bv_offset = s->first << SECTOR_SHIFT;
		req->bvec[i].bv_len = (s->last - s->first + 1) << SECTOR_SHIFT;
	}
	atomic64_add(mapped, &st->zc_segs);
	atomic64_add(full, &st->zc_full);
	atomic64_add(failed, &st->zc_failed);
	atomic64_add(hits, &st->gnt_map_hits);
	atomic64_add(evicted, &st->grant_evictions);
	return n - mapped;
}

/**
 * skb_gpool_mapped() - whether a request's segment is on a mapped page.
 * @req: the request.
 * @i: the segment.
 *
 * Return: true if skb_gpool_map() gave segment @i a mapped page.
 */
bool skb_gpool_mapped(const struct skb_req *req, unsigned int i)
{
	return req->gpool && req->gslot[i] != SKB_GMAP_NONE;
}

/**
 * skb_gpool_put() - a request's I/O is over: give its slots back.
 * @req: a request skb_gpool_map() was called on.
 *
 * Any context (takes the pool's lock with interrupts off).  The mappings
 * stay, idle, for the next request that names the same grants.
 */
void skb_gpool_put(struct skb_req *req)
{
	struct skb_gpool *gp = req->gpool;
	unsigned int i;
	unsigned long flags;

	spin_lock_irqsave(&gp->lock, flags);
	for (i = 0; i < req->desc.nr_segs; i++)
		if (req->gslot[i] != SKB_GMAP_NONE)
			skb_gmap_put(&gp->m, req->gslot[i]);
	spin_unlock_irqrestore(&gp->lock, flags);
	req->gpool = NULL;
}

/**
 * skb_gpool_destroy() - unmap every grant and free the pool.
 * @gp: the pool, or NULL.
 *
 * Process context, sleeps.  Every request of its rings has been answered
 * and their consumers have stopped: every slot is idle.  A slot still in use
 * (a bug) keeps its mapping and page, leaked, rather than be unmapped
 * under I/O.
 */
void skb_gpool_destroy(struct skb_gpool *gp)
{
	struct skb_gbatch *b;
	unsigned int n = 0;
	u32 s;

	if (!gp)
		return;
	b = &gp->batch[gp->nr_rings];
	for (s = 0; s < gp->m.fresh; s++) {
		struct skb_gmap_slot *x = &gp->m.slot[s];

		if (x->users) {
			dev_err(&gp->d->dev->dev,
				"grant slot %u still in use at disconnect: left mapped\n",
				s);
			gp->pages[s] = NULL;
			continue;
		}
		if (x->state != SKB_GMAP_MAPPED || !gp->pages[s])
			continue;
		b->slot[n++] = s;
		if (n == SKB_GPOOL_BATCH) {
			skb_gpool_unmap_batch(gp, b, n);
			n = 0;
		}
	}
	skb_gpool_unmap_batch(gp, b, n);
	for (s = 0; s < gp->m.fresh; s++)
		if (gp->pages[s])
			gnttab_free_pages(1, &gp->pages[s]);
	kvfree(gp->batch);
	kvfree(gp->handle);
	kvfree(gp->pages);
	kvfree(gp->m.bucket);
	kvfree(gp->m.slot);
	kfree(gp);
}
