// SPDX-License-Identifier: GPL-2.0
/*
 * splitkit_ring grant helpers shared by drivers.
 *
 * Persistent-grant pool (frontend side): pages granted to the backend once
 * and reused for request after request, instead of a grant and an end of
 * access (two grant-table updates, and a map/unmap in the backend) per
 * request.  The pool is bounded (max_pages granted at once) and keeps at
 * most max_free idle pages; idle pages beyond that are reclaimed least
 * recently used first, by ending foreign access.  A page the backend still
 * maps then (it should have unmapped it before answering, or it keeps a
 * persistent grant it was told is gone) is held back: never reused, still
 * counted against max_pages, and freed once a later try finds it unmapped;
 * so a backend that never unmaps stalls its own disk at max_pages and
 * cannot make the guest grant page after page.
 *
 * Batched grant copy (backend side): the hypervisor copies between the
 * frontend's granted pages and our memory, SK_GCOPY_BATCH segments per
 * hypercall, without mapping anything.  Every segment the frontend names is
 * bounds-checked with sk_seg_check() before it is queued, and every copy's
 * status is checked after the hypercall.
 *
 * Locking: sk_gpool.lock (spinlock, irqsave) protects the pool's lists and
 * counts; it nests inside nothing of ours.  struct sk_gcopy is owned by one
 * context at a time.
 */
#include <linux/gfp.h>
#include <linux/list.h>
#include <linux/mm.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <xen/grant_table.h>
#include <xen/page.h>

#include <splitkit/export.h>
#include <splitkit/ring.h>

/**
 * struct sk_gpool - a bounded pool of persistently granted pages.
 * @peer:      domain the pages are granted to.
 * @readonly:  grant read-only access.
 * @max_pages: most pages granted at any time.
 * @max_free:  most idle pages kept granted.
 * @lock:      protects the fields below.
 * @free:      idle pages, most recently used first.
 * @held:      pages whose grant could not be ended: the peer maps them.
 * @nr_total:  pages granted (idle, in use or held).
 * @nr_free:   pages on @free.
 * @nr_held:   pages on @held.
 * @stats:     hits, misses, reclaimed, held.
 */
struct sk_gpool {
	domid_t peer;
	bool readonly;
	unsigned int max_pages;
	unsigned int max_free;
	spinlock_t lock;
	struct list_head free;
	struct list_head held;
	unsigned int nr_total;
	unsigned int nr_free;
	unsigned int nr_held;
	struct sk_gpool_stats stats;
};

/**
 * sk_gpool_create() - create a persistent-grant pool.
 * @peer: domain to grant to (the backend's, xenbus_device.otherend_id).
 * @max_pages: most pages granted at once (at least 1).
 * @max_free: most idle pages kept granted (at most @max_pages).
 * @readonly: grant the backend read-only access.
 *
 * Return: the pool, or NULL if out of memory or the bounds are invalid.
 */
struct sk_gpool *sk_gpool_create(domid_t peer, unsigned int max_pages,
				 unsigned int max_free, bool readonly)
{
	struct sk_gpool *gp;

	if (!max_pages || max_free > max_pages)
		return NULL;
	gp = kzalloc(sizeof(*gp), GFP_KERNEL);
	if (!gp)
		return NULL;
	gp->peer = peer;
	gp->readonly = readonly;
	gp->max_pages = max_pages;
	gp->max_free = max_free;
	spin_lock_init(&gp->lock);
	INIT_LIST_HEAD(&gp->free);
	INIT_LIST_HEAD(&gp->held);
	return gp;
}
SPLITKIT_EXPORT(sk_gpool_create);

/*
 * End foreign access to pages taken off the pool (sk_gpool_trim(), or
 * @gp->held again) and free them; a page the peer still maps goes (back)
 * to @gp->held.  Any context; takes @gp->lock.
 */
static void sk_gpool_release(struct sk_gpool *gp, struct list_head *victims)
{
	unsigned int freed = 0, held = 0;
	struct sk_gpage *pg, *tmp;
	unsigned long flags;

	list_for_each_entry_safe(pg, tmp, victims, lru) {
		if (!gnttab_try_end_foreign_access(pg->ref)) {
			held++;
			continue;
		}
		list_del(&pg->lru);
		__free_page(pg->page);
		kfree(pg);
		freed++;
	}
	if (!freed && !held)
		return;
	spin_lock_irqsave(&gp->lock, flags);
	gp->nr_total -= freed;
	list_splice_tail(victims, &gp->held);
	gp->nr_held += held;
	spin_unlock_irqrestore(&gp->lock, flags);
}

/* Held pages one try on the I/O path looks at (atomic context). */
#define SK_GPOOL_RETRY_BATCH	32

/*
 * Try again to end the grants of up to @max held pages, oldest first (the
 * peer may be done with them).  Any context; takes @gp->lock.
 */
static void sk_gpool_retry_held(struct sk_gpool *gp, unsigned int max)
{
	LIST_HEAD(again);
	unsigned long flags;
	unsigned int n = 0;

	spin_lock_irqsave(&gp->lock, flags);
	while (n < max && !list_empty(&gp->held)) {
		list_move_tail(gp->held.next, &again);
		n++;
	}
	gp->nr_held -= n;
	spin_unlock_irqrestore(&gp->lock, flags);
	sk_gpool_release(gp, &again);
}

/**
 * sk_gpool_get() - take a granted page, reusing an idle one if possible.
 * @gp: pool.
 * @gfp: allocation flags for a new page.
 *
 * The most recently used idle page is preferred (warm in caches and, on the
 * backend, most likely still mapped).  Without an idle page a new one is
 * allocated and granted while the pool is below max_pages.
 *
 * Return: the page, or NULL if the pool is at its bound or out of memory
 * or grant references; the caller then falls back to a one-off grant or
 * waits.
 */
struct sk_gpage *sk_gpool_get(struct sk_gpool *gp, gfp_t gfp)
{
	struct sk_gpage *pg = NULL;
	unsigned long flags;
	int ref;

	spin_lock_irqsave(&gp->lock, flags);
	if (!list_empty(&gp->free)) {
		pg = list_first_entry(&gp->free, struct sk_gpage, lru);
		list_del(&pg->lru);
		gp->nr_free--;
		gp->stats.hits++;
	} else if (gp->nr_total < gp->max_pages) {
		gp->nr_total++;		/* reserve; undone on failure */
		gp->stats.misses++;
	} else {
		bool held = gp->nr_held;

		gp->stats.exhausted++;
		spin_unlock_irqrestore(&gp->lock, flags);
		/* the next get may find room (not this one: keep it short) */
		if (held)
			sk_gpool_retry_held(gp, SK_GPOOL_RETRY_BATCH);
		return NULL;
	}
	spin_unlock_irqrestore(&gp->lock, flags);
	if (pg)
		return pg;

	pg = kzalloc(sizeof(*pg), gfp);
	if (!pg)
		goto unreserve;
	pg->page = alloc_page(gfp | __GFP_ZERO);
	if (!pg->page)
		goto free_pg;
	ref = gnttab_grant_foreign_access(gp->peer, xen_page_to_gfn(pg->page),
					  gp->readonly);
	if (ref < 0)
		goto free_page;
	pg->ref = ref;
	return pg;

free_page:
	__free_page(pg->page);
free_pg:
	kfree(pg);
unreserve:
	spin_lock_irqsave(&gp->lock, flags);
	gp->nr_total--;
	spin_unlock_irqrestore(&gp->lock, flags);
	return NULL;
}
SPLITKIT_EXPORT(sk_gpool_get);

/* Move idle pages beyond @keep, least recently used first, to @victims. */
static void sk_gpool_trim(struct sk_gpool *gp, unsigned int keep,
			  struct list_head *victims)
{
	struct sk_gpage *pg;

	lockdep_assert_held(&gp->lock);
	while (gp->nr_free > keep) {
		pg = list_last_entry(&gp->free, struct sk_gpage, lru);
		list_move(&pg->lru, victims);
		gp->nr_free--;
		gp->stats.reclaimed++;
	}
}

/**
 * sk_gpool_put() - return a page to the pool once the peer is done with it.
 * @gp: pool.
 * @pg: page from sk_gpool_get().
 *
 * Any context.  If more than max_free pages are idle, the least recently
 * used are reclaimed.
 */
void sk_gpool_put(struct sk_gpool *gp, struct sk_gpage *pg)
{
	LIST_HEAD(victims);
	unsigned long flags;

	spin_lock_irqsave(&gp->lock, flags);
	list_add(&pg->lru, &gp->free);
	gp->nr_free++;
	sk_gpool_trim(gp, gp->max_free, &victims);
	spin_unlock_irqrestore(&gp->lock, flags);
	sk_gpool_release(gp, &victims);
}
SPLITKIT_EXPORT(sk_gpool_put);

/**
 * sk_gpool_reclaim() - shrink the idle part of the pool.
 * @gp: pool.
 * @keep: idle pages to keep granted (0: all idle pages go).
 *
 * Any context; e.g. from a shrinker or a timer when the device is quiet.
 */
void sk_gpool_reclaim(struct sk_gpool *gp, unsigned int keep)
{
	LIST_HEAD(victims);
	unsigned long flags;

	spin_lock_irqsave(&gp->lock, flags);
	sk_gpool_trim(gp, keep, &victims);
	spin_unlock_irqrestore(&gp->lock, flags);
	sk_gpool_release(gp, &victims);
	sk_gpool_retry_held(gp, UINT_MAX);
}
SPLITKIT_EXPORT(sk_gpool_reclaim);

/**
 * sk_gpool_get_stats() - counters of a pool.
 * @gp: pool.
 * @st: filled in; in_use and idle are the current page counts.
 */
void sk_gpool_get_stats(struct sk_gpool *gp, struct sk_gpool_stats *st)
{
	unsigned long flags;

	spin_lock_irqsave(&gp->lock, flags);
	*st = gp->stats;
	st->idle = gp->nr_free;
	st->held = gp->nr_held;
	st->in_use = gp->nr_total - gp->nr_free - gp->nr_held;
	spin_unlock_irqrestore(&gp->lock, flags);
}
SPLITKIT_EXPORT(sk_gpool_get_stats);

/**
 * sk_gpool_destroy() - end every grant of a pool and free it.
 * @gp: pool, or NULL; every page must have been put back.
 *
 * Pages still mapped by the backend (held) are left to the grant table,
 * which frees them when the mapping goes away: at most max_pages per pool.
 */
void sk_gpool_destroy(struct sk_gpool *gp)
{
	struct sk_gpage *pg, *tmp;

	if (!gp)
		return;
	sk_gpool_reclaim(gp, 0);
	list_for_each_entry_safe(pg, tmp, &gp->held, lru) {
		list_del(&pg->lru);
		gnttab_end_foreign_access(pg->ref, pg->page);
		kfree(pg);
		gp->nr_total--;
	}
	WARN_ON(gp->nr_total);	/* a page not put back is leaked */
	kfree(gp);
}
SPLITKIT_EXPORT(sk_gpool_destroy);

/**
 * sk_gcopy_init() - start an empty batch of grant copies.
 * @c: batch.
 * @peer: the domain whose grants the copies name.
 */
void sk_gcopy_init(struct sk_gcopy *c, domid_t peer)
{
	c->peer = peer;
	c->n = 0;
	c->failed = 0;
}
SPLITKIT_EXPORT(sk_gcopy_init);

static int sk_gcopy_queue(struct sk_gcopy *c, bool from_peer, grant_ref_t ref,
			  u32 off, void *local, u32 len)
{
	struct gnttab_copy *op;
	u32 chunk, loff;
	int err;

	if (sk_seg_check(off, len, XEN_PAGE_SIZE))
		return -EINVAL;
	while (len) {
		/* one op may not cross a page of local memory */
		loff = offset_in_page(local);
		chunk = min_t(u32, len, XEN_PAGE_SIZE - loff);
		if (c->n == SK_GCOPY_BATCH) {
			err = sk_gcopy_flush(c);
			if (err)
				return err;
		}
		op = &c->ops[c->n++];
		memset(op, 0, sizeof(*op));
		if (from_peer) {
			op->source.u.ref = ref;
			op->source.domid = c->peer;
			op->source.offset = off;
			op->dest.u.gmfn = virt_to_gfn(local);
			op->dest.domid = DOMID_SELF;
			op->dest.offset = loff;
			op->flags = GNTCOPY_source_gref;
		} else {
			op->source.u.gmfn = virt_to_gfn(local);
			op->source.domid = DOMID_SELF;
			op->source.offset = loff;
			op->dest.u.ref = ref;
			op->dest.domid = c->peer;
			op->dest.offset = off;
			op->flags = GNTCOPY_dest_gref;
		}
		op->len = chunk;
		off += chunk;
		local = (u8 *)local + chunk;
		len -= chunk;
	}
	return 0;
}

/**
 * sk_gcopy_from_peer() - queue a copy from a peer's granted page.
 * @c: batch.
 * @ref: the peer's grant reference.
 * @off: offset in the granted page.
 * @dst: our memory (linear map: kmalloc or page memory, not vmalloc).
 * @len: bytes.
 *
 * @ref, @off and @len usually come from a request the peer wrote: the
 * segment must lie within one page or nothing is queued.  A full batch is
 * flushed first.
 *
 * Return: 0, -EINVAL for a segment outside the page, or the error of an
 * implicit flush.
 */
int sk_gcopy_from_peer(struct sk_gcopy *c, grant_ref_t ref, u32 off,
		       void *dst, u32 len)
{
	return sk_gcopy_queue(c, true, ref, off, dst, len);
}
SPLITKIT_EXPORT(sk_gcopy_from_peer);

/**
 * sk_gcopy_to_peer() - queue a copy into a peer's granted page.
 * @c: batch.
 * @ref: the peer's grant reference.
 * @off: offset in the granted page.
 * @src: our memory (linear map).
 * @len: bytes.
 *
 * Return: as sk_gcopy_from_peer().
 */
int sk_gcopy_to_peer(struct sk_gcopy *c, grant_ref_t ref, u32 off,
		     const void *src, u32 len)
{
	return sk_gcopy_queue(c, false, ref, off, (void *)src, len);
}
SPLITKIT_EXPORT(sk_gcopy_to_peer);

/**
 * sk_gcopy_flush() - perform every queued copy in one hypercall batch.
 * @c: batch; empty afterwards.
 *
 * A copy the hypervisor refuses (bad grant reference, no access) means a
 * malicious or buggy peer; the count is kept in @c->failed.
 *
 * Return: 0 if every copy succeeded, else -EIO.
 */
int sk_gcopy_flush(struct sk_gcopy *c)
{
	unsigned int i, bad = 0;

	if (!c->n)
		return 0;
	gnttab_batch_copy(c->ops, c->n);
	for (i = 0; i < c->n; i++)
		if (c->ops[i].status != GNTST_okay)
			bad++;
	c->n = 0;
	c->failed += bad;
	return bad ? -EIO : 0;
}
SPLITKIT_EXPORT(sk_gcopy_flush);
