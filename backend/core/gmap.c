// SPDX-License-Identifier: GPL-2.0
/*
 * splitkit_back mapped-grant pool, bookkeeping (see gmap.h): the hash of
 * mapped grants, the LRU list of idle mappings, the free stack of slots
 * without one, a request's slots (each segment decided on its own), and
 * the PENDING state that keeps other requests off a mapping being made.
 * Pure C over <splitkit/platform.h>; backend/gmap.c does the hypercalls.
 * Not thread safe: the caller serialises every call on one pool.
 */
#include "gmap.h"

/* The multiplier of a pool nobody seeded (host tests): Knuth's. */
#define SKB_GMAP_SEED_DEFAULT	2654435761U

/*
 * Multiply-shift (Dietzfelbinger et al.): the top bits of the grant times
 * an odd multiplier.  With the multiplier secret and random, two given
 * grants share a bucket with probability at most 2 / buckets, however the
 * frontend chose them, so it cannot make one chain long: chains are walked
 * under the pool's lock, interrupts off.  (The low bits of the product
 * depend on the grant's low bits only: grants a power of two apart would
 * all share one bucket whatever the multiplier.)  A shift of 32 (one
 * bucket) gives 0.
 */
static u32 skb_gmap_hash(const struct skb_gmap *m, u32 gref)
{
	return (u32)((u64)(u32)(gref * m->seed) >> m->shift);
}

/**
 * skb_gmap_init() - set up an empty pool.
 * @m: the pool.
 * @cap: slots, at least 1.
 * @slot: @cap slots, owned by @m from now on.
 * @bucket: skb_gmap_buckets(@cap) buckets, likewise.
 *
 * Its hash has a fixed multiplier until skb_gmap_seed() gives it a secret
 * one: dom0 always does.
 */
void skb_gmap_init(struct skb_gmap *m, u32 cap, struct skb_gmap_slot *slot,
		   u32 *bucket)
{
	u32 i, nb = skb_gmap_buckets(cap);

	memset(m, 0, sizeof(*m));
	m->cap = cap;
	m->age_min = 4ULL * cap;
	m->seed = SKB_GMAP_SEED_DEFAULT;
	m->shift = 32;
	for (i = nb; i > 1; i >>= 1)
		m->shift--;
	m->bucket = bucket;
	m->slot = slot;
	m->free = SKB_GMAP_NONE;
	m->lru_head = SKB_GMAP_NONE;
	m->lru_tail = SKB_GMAP_NONE;
	for (i = 0; i < nb; i++)
		bucket[i] = SKB_GMAP_NONE;
	memset(slot, 0, cap * sizeof(*slot));
}

/**
 * skb_gmap_seed() - key the pool's hash.
 * @m: the pool, just set up by skb_gmap_init(): no grant in its hash yet.
 * @seed: a random number the frontend never learns (the kernel passes
 *	get_random_u32(); a host test may pass any).
 *
 * Without it the pool hashes with a fixed multiplier that a frontend can
 * know, and so choose grants that all land in one chain.
 */
void skb_gmap_seed(struct skb_gmap *m, u32 seed)
{
	m->seed = seed | 1;
}

/**
 * skb_gmap_find() - the slot that maps a grant.
 * @m: the pool.
 * @gref: the frontend's grant reference.
 *
 * Return: the slot, or SKB_GMAP_NONE if @gref is not mapped.
 */
u32 skb_gmap_find(const struct skb_gmap *m, u32 gref)
{
	u32 s = m->bucket[skb_gmap_hash(m, gref)];

	while (s != SKB_GMAP_NONE && m->slot[s].gref != gref)
		s = m->slot[s].hnext;
	return s;
}

static void skb_gmap_hash_add(struct skb_gmap *m, u32 s)
{
	u32 *head = &m->bucket[skb_gmap_hash(m, m->slot[s].gref)];

	m->slot[s].hnext = *head;
	*head = s;
}

static void skb_gmap_hash_del(struct skb_gmap *m, u32 s)
{
	u32 *p = &m->bucket[skb_gmap_hash(m, m->slot[s].gref)];

	while (*p != s)
		p = &m->slot[*p].hnext;
	*p = m->slot[s].hnext;
	m->slot[s].hnext = SKB_GMAP_NONE;
}

static void skb_gmap_lru_add(struct skb_gmap *m, u32 s)
{
	m->slot[s].next = SKB_GMAP_NONE;
	m->slot[s].prev = m->lru_tail;
	if (m->lru_tail != SKB_GMAP_NONE)
		m->slot[m->lru_tail].next = s;
	else
		m->lru_head = s;
	m->lru_tail = s;
	m->nr_idle++;
}

static void skb_gmap_lru_del(struct skb_gmap *m, u32 s)
{
	struct skb_gmap_slot *x = &m->slot[s];

	if (x->prev != SKB_GMAP_NONE)
		m->slot[x->prev].next = x->next;
	else
		m->lru_head = x->next;
	if (x->next != SKB_GMAP_NONE)
		m->slot[x->next].prev = x->prev;
	else
		m->lru_tail = x->prev;
	x->prev = SKB_GMAP_NONE;
	x->next = SKB_GMAP_NONE;
	m->nr_idle--;
}

/*
 * A slot for a missed grant: a freed one, one never used, or the LRU's
 * oldest if it has been idle long enough; else SKB_GMAP_NONE (copy).
 */
static u32 skb_gmap_grab(struct skb_gmap *m, u8 *act)
{
	u32 s;

	*act = SKB_GMAP_MAP;
	if (m->nr_free) {
		s = m->free;
		m->free = m->slot[s].next;
		m->nr_free--;
		return s;
	}
	if (m->fresh < m->cap)
		return m->fresh++;
	s = m->lru_head;
	if (s == SKB_GMAP_NONE || m->clock - m->slot[s].last < m->age_min) {
		*act = SKB_GMAP_COPY;
		return SKB_GMAP_NONE;
	}
	skb_gmap_lru_del(m, s);
	skb_gmap_hash_del(m, s);
	m->nr_mapped--;
	m->evictions++;
	*act = SKB_GMAP_EVICT;
	return s;
}

/**
 * skb_gmap_take() - find or make the slots of a request's segments.
 * @m: the pool.
 * @segs: the segments, checked (blkreq.c).
 * @n: how many.
 * @slot: set to each segment's slot, SKB_GMAP_NONE for one to copy.
 * @act: set to what the caller must do for each (enum skb_gmap_act).
 *
 * A hit uses the slot that maps the grant; a grant whose slot another
 * request took and has not yet mapped (PENDING) is copied.  A miss takes
 * a free slot, or
 * evicts the least recently used idle mapping if it was put at least
 * @m->age_min segments ago, and enters its grant in the hash at once, so
 * a later segment of the same request with the same grant hits it; with
 * neither, the segment is to be copied.  The caller maps every
 * SKB_GMAP_MAP and SKB_GMAP_EVICT slot (after unmapping each SKB_GMAP_EVICT
 * slot's old grant) before any I/O, reports each mapping made with
 * skb_gmap_mapped() and each that failed with skb_gmap_broken(), and
 * gives every segment's slot back with skb_gmap_put() once its I/O is
 * over.  An evicted slot always had no
 * users, so no I/O is in flight on its page.
 *
 * Return: the segments that have a slot (the others are SKB_GMAP_COPY).
 */
u32 skb_gmap_take(struct skb_gmap *m, const struct skb_seg *segs, u32 n,
		  u32 *slot, u8 *act)
{
	u32 i, s, got = 0;

	m->takes++;
	for (i = 0; i < n; i++) {
		m->clock++;
		s = skb_gmap_find(m, segs[i].gref);
		if (s != SKB_GMAP_NONE && m->slot[s].state == SKB_GMAP_PENDING &&
		    m->slot[s].taker != m->takes) {
			/* another request is mapping it: not usable yet */
			slot[i] = SKB_GMAP_NONE;
			act[i] = SKB_GMAP_COPY;
			m->copies++;
			m->busy++;
			continue;
		}
		if (s != SKB_GMAP_NONE) {
			if (!m->slot[s].users)
				skb_gmap_lru_del(m, s);
			m->slot[s].users++;
			m->hits++;
			slot[i] = s;
			act[i] = SKB_GMAP_HIT;
			got++;
			continue;
		}
		s = skb_gmap_grab(m, &act[i]);
		slot[i] = s;
		if (s == SKB_GMAP_NONE) {
			m->copies++;
			continue;
		}
		m->slot[s].gref = segs[i].gref;
		m->slot[s].users = 1;
		m->slot[s].state = SKB_GMAP_PENDING;
		m->slot[s].taker = m->takes;
		m->slot[s].prev = SKB_GMAP_NONE;
		m->slot[s].next = SKB_GMAP_NONE;
		skb_gmap_hash_add(m, s);
		m->nr_mapped++;
		m->misses++;
		got++;
	}
	return got;
}

/**
 * skb_gmap_mapped() - the mapping of a PENDING slot has been made.
 * @m: the pool.
 * @s: a slot skb_gmap_take() asked to map (SKB_GMAP_MAP or SKB_GMAP_EVICT).
 *
 * From now on any request that names its grant uses it.  A slot that is
 * not PENDING (marked broken meanwhile) is left as it is.
 */
void skb_gmap_mapped(struct skb_gmap *m, u32 s)
{
	if (m->slot[s].state == SKB_GMAP_PENDING)
		m->slot[s].state = SKB_GMAP_MAPPED;
}

/**
 * skb_gmap_broken() - a slot's mapping could not be made.
 * @m: the pool.
 * @s: a slot skb_gmap_take() asked to map; it has users.
 *
 * Its grant leaves the hash at once (no later request finds it); the slot
 * becomes free when its last user puts it.  Idempotent.
 */
void skb_gmap_broken(struct skb_gmap *m, u32 s)
{
	if (m->slot[s].state != SKB_GMAP_MAPPED &&
	    m->slot[s].state != SKB_GMAP_PENDING)
		return;
	skb_gmap_hash_del(m, s);
	m->slot[s].state = SKB_GMAP_BROKEN;
	m->nr_mapped--;
}

/**
 * skb_gmap_put() - one segment's I/O on a slot is over.
 * @m: the pool.
 * @s: the slot skb_gmap_take() gave that segment.
 *
 * The last user makes a mapped slot the LRU's most recent idle one, a
 * broken slot free; so too a slot still PENDING (its mapping was never
 * reported made: it is taken as failed).
 */
void skb_gmap_put(struct skb_gmap *m, u32 s)
{
	struct skb_gmap_slot *x = &m->slot[s];

	if (--x->users)
		return;
	x->last = m->clock;
	if (x->state == SKB_GMAP_PENDING)
		skb_gmap_broken(m, s);
	if (x->state == SKB_GMAP_MAPPED) {
		skb_gmap_lru_add(m, s);
		return;
	}
	x->state = SKB_GMAP_EMPTY;
	x->next = m->free;
	m->free = s;
	m->nr_free++;
}
