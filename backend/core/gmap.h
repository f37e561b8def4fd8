/* SPDX-License-Identifier: GPL-2.0 */
/*
 * splitkit_back mapped-grant pool, bookkeeping: which of a frontend's
 * persistent grants one disk keeps mapped, in a fixed number of slots
 * shared by its rings, and which may be unmapped.  A slot holds at most
 * one mapping (one grant reference, one dom0 page); it is found by grant
 * reference in a hash keyed by a secret per pool (skb_gmap_seed()), it
 * counts the segments of requests in flight that use it (@users), and
 * while nobody uses it, it sits on an LRU list from which a miss takes the
 * least recently used one - but only once it has been idle for a while
 * (@age_min segments taken since), so that a working set larger than the
 * pool does not make every miss unmap a mapping about to be used again
 * (thrashing): such segments are copied instead.  A slot in use is never
 * handed out again, so a page with I/O in flight is never unmapped.  Each
 * segment of a request is decided on its own (skb_gmap_take()): mapped,
 * to be mapped, or to be copied.  A slot just taken for a grant is
 * PENDING until its taker has mapped it (skb_gmap_mapped()): other
 * requests (another ring's consumer) that name the grant meanwhile copy
 * rather than do I/O on a page not yet mapped.
 *
 * This file decides; backend/gmap.c does the hypercalls the decisions ask
 * for (map, unmap, the pages), the bookkeeping under its pool's lock.
 * Pure C over <splitkit/platform.h>: the unit tests
 * (tests/unit/back/test_gmap.c) run the very code dom0 runs.  The caller
 * provides the arrays (skb_gmap_init()), so the memory bound is the
 * caller's: one struct skb_gmap_slot and one bucket per slot.
 */
#ifndef _SPLITKIT_BACK_GMAP_H
#define _SPLITKIT_BACK_GMAP_H

#include <splitkit/platform.h>

#include "blkreq.h"

/* "No slot": list and chain terminator, and a missed lookup. */
#define SKB_GMAP_NONE	0xffffffffU

/* What the caller must do for one segment's slot (skb_gmap_take()). */
enum skb_gmap_act {
	SKB_GMAP_HIT,	/* mapped already: use it */
	SKB_GMAP_MAP,	/* no mapping: map the grant (a page first if none) */
	SKB_GMAP_EVICT,	/* unmap the slot's old grant, then map the new */
	SKB_GMAP_COPY,	/* no slot (SKB_GMAP_NONE): grant copy this one */
};

/* Slot states. */
enum skb_gmap_state {
	SKB_GMAP_EMPTY,		/* no mapping (it may have a page) */
	SKB_GMAP_MAPPED,	/* in the hash, mapped */
	SKB_GMAP_PENDING,	/* in the hash, its taker is mapping it */
	SKB_GMAP_BROKEN,	/* its mapping failed; free once unused */
};

/**
 * struct skb_gmap_slot - one mapping place.
 * @gref: the grant mapped (MAPPED, PENDING and BROKEN).
 * @users: segments of requests in flight that use it.
 * @last: @clock of the pool when its last user put it.
 * @hnext: next slot of its hash bucket (MAPPED, PENDING), or SKB_GMAP_NONE.
 * @prev: LRU (idle MAPPED) or free list (EMPTY) neighbour.
 * @next: likewise.
 * @taker: the skb_gmap_take() call (@takes) that made it PENDING (64
 *	bits: never the same for two calls while a mapping is pending).
 * @state: enum skb_gmap_state.
 */
struct skb_gmap_slot {
	u32 gref;
	u32 users;
	u64 last;
	u32 hnext;
	u32 prev;
	u32 next;
	u64 taker;
	u8 state;
};

/**
 * struct skb_gmap - the bookkeeping of one disk's mapped grants.
 * @cap: slots.
 * @seed: the hash's multiplier, odd: random per pool (skb_gmap_seed()),
 *	so that a frontend cannot choose grants that share one chain.
 * @shift: 32 - log2(hash buckets): the hash is the top bits of a product.
 * @bucket: first slot of each hash chain, or SKB_GMAP_NONE.
 * @slot: the slots.
 * @fresh: slots below it have been used at least once.
 * @free: EMPTY slots below @fresh, a singly linked stack through @next.
 * @lru_head: least recently used idle MAPPED slot.
 * @lru_tail: most recently used one.
 * @nr_free: slots on @free.
 * @nr_idle: slots on the LRU list.
 * @nr_mapped: slots MAPPED or PENDING (idle or in use).
 * @clock: segments taken so far (the pool's notion of time).
 * @takes: skb_gmap_take() calls so far.
 * @age_min: an idle mapping is evicted only if it was put at least this
 *	many segments ago (skb_gmap_init() sets 4 x @cap).
 * @hits: segments that found their grant mapped.
 * @misses: segments that had to map it.
 * @evictions: idle mappings given up for another grant.
 * @copies: segments left to grant copy: no free slot, no old idle one,
 *	or (@busy) their grant's slot PENDING for another request.
 * @busy: of @copies, those whose grant another request was mapping.
 */
struct skb_gmap {
	u32 cap;
	u32 seed;
	u32 shift;
	u32 *bucket;
	struct skb_gmap_slot *slot;
	u32 fresh;
	u32 free;
	u32 lru_head;
	u32 lru_tail;
	u32 nr_free;
	u32 nr_idle;
	u32 nr_mapped;
	u64 clock;
	u64 takes;
	u64 age_min;
	u64 hits;
	u64 misses;
	u64 evictions;
	u64 copies;
	u64 busy;
};

/* Hash buckets for @cap slots: the power of two at or above it. */
static inline u32 skb_gmap_buckets(u32 cap)
{
	u32 n = 1;

	while (n < cap && n < 0x80000000U)
		n <<= 1;
	return n;
}

void skb_gmap_init(struct skb_gmap *m, u32 cap, struct skb_gmap_slot *slot,
		   u32 *bucket);
void skb_gmap_seed(struct skb_gmap *m, u32 seed);
u32 skb_gmap_find(const struct skb_gmap *m, u32 gref);
u32 skb_gmap_take(struct skb_gmap *m, const struct skb_seg *segs, u32 n,
		  u32 *slot, u8 *act);
void skb_gmap_mapped(struct skb_gmap *m, u32 s);
void skb_gmap_broken(struct skb_gmap *m, u32 s);
void skb_gmap_put(struct skb_gmap *m, u32 s);

#endif /* _SPLITKIT_BACK_GMAP_H */
