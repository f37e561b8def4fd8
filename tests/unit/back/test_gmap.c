// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests of splitkit_back's mapped-grant pool bookkeeping
 * (backend/core/gmap.c): hits and misses, a grant twice in one request,
 * the all-or-nothing refusal when too few slots are free or idle, the LRU
 * order of evictions, broken mappings, and a random run against a model
 * that checks the one rule that protects dom0: a slot with I/O in flight
 * is never evicted (its page never unmapped), and every grant the hash
 * finds is the one its slot holds.
 */
#include <stdlib.h>
#include <string.h>

#include "ktap.h"
#include "gmap.h"

#define CAP	8

struct pool {
	struct skb_gmap m;
	struct skb_gmap_slot slot[64];
	u32 bucket[64];
};

static void pool_init(struct pool *p, u32 cap)
{
	skb_gmap_init(&p->m, cap, p->slot, p->bucket);
}

static void segs_of(struct skb_seg *segs, const u32 *grefs, u32 n)
{
	u32 i;

	for (i = 0; i < n; i++) {
		segs[i].gref = grefs[i];
		segs[i].first = 0;
		segs[i].last = 7;
	}
}

static int take(struct pool *p, const u32 *grefs, u32 n, u32 *slot, u8 *act)
{
	struct skb_seg segs[64];

	segs_of(segs, grefs, n);
	return skb_gmap_take(&p->m, segs, n, slot, act);
}

static void put_all(struct pool *p, const u32 *slot, u32 n)
{
	u32 i;

	for (i = 0; i < n; i++)
		skb_gmap_put(&p->m, slot[i]);
}

static void hit_and_miss(void)
{
	static const u32 g[] = { 10, 11, 10 };
	struct pool p;
	u32 slot[3];
	u8 act[3];

	pool_init(&p, CAP);
	KTAP_ASSERT(take(&p, g, 3, slot, act) == 0);
	KTAP_EXPECT_EQ(act[0], SKB_GMAP_MAP);
	KTAP_EXPECT_EQ(act[1], SKB_GMAP_MAP);
	/* the same grant later in the same request hits the new slot */
	KTAP_EXPECT_EQ(act[2], SKB_GMAP_HIT);
	KTAP_EXPECT_EQ(slot[2], slot[0]);
	KTAP_EXPECT(slot[0] != slot[1]);
	KTAP_EXPECT_EQ(p.m.slot[slot[0]].users, 2);
	KTAP_EXPECT_EQ(p.m.nr_mapped, 2);
	KTAP_EXPECT_EQ(p.m.nr_idle, 0);
	put_all(&p, slot, 3);
	KTAP_EXPECT_EQ(p.m.nr_idle, 2);
	/* again: all hits, no new slot */
	KTAP_ASSERT(take(&p, g, 3, slot, act) == 0);
	KTAP_EXPECT_EQ(act[0], SKB_GMAP_HIT);
	KTAP_EXPECT_EQ(act[1], SKB_GMAP_HIT);
	KTAP_EXPECT_EQ(p.m.fresh, 2);
	KTAP_EXPECT_EQ(p.m.hits, 4);
	KTAP_EXPECT_EQ(p.m.misses, 2);
	KTAP_EXPECT_EQ(skb_gmap_find(&p.m, 11), slot[1]);
	KTAP_EXPECT_EQ(skb_gmap_find(&p.m, 12), SKB_GMAP_NONE);
}

static void full_refuses_whole_request(void)
{
	u32 g[CAP + 1], slot[CAP + 1], i;
	u8 act[CAP + 1];
	struct pool p;

	for (i = 0; i <= CAP; i++)
		g[i] = 100 + i;
	pool_init(&p, CAP);
	/* more segments than slots: refused, nothing taken */
	KTAP_EXPECT_EQ(take(&p, g, CAP + 1, slot, act), -ENOSPC);
	KTAP_EXPECT_EQ(p.m.fresh, 0);
	KTAP_EXPECT_EQ(p.m.full, 1);
	/* every slot in use: even one more segment is refused */
	KTAP_ASSERT(take(&p, g, CAP, slot, act) == 0);
	KTAP_EXPECT_EQ(take(&p, &g[CAP], 1, slot, act), -ENOSPC);
	KTAP_EXPECT_EQ(skb_gmap_find(&p.m, g[CAP]), SKB_GMAP_NONE);
	/* one idle: one more fits, by evicting it */
	skb_gmap_put(&p.m, slot[3]);
	{
		u32 s1;
		u8 a1;

		KTAP_ASSERT(take(&p, &g[CAP], 1, &s1, &a1) == 0);
		KTAP_EXPECT_EQ(a1, SKB_GMAP_EVICT);
		KTAP_EXPECT_EQ(s1, slot[3]);
		KTAP_EXPECT_EQ(skb_gmap_find(&p.m, g[3]), SKB_GMAP_NONE);
		KTAP_EXPECT_EQ(skb_gmap_find(&p.m, g[CAP]), s1);
	}
}

static void lru_order(void)
{
	u32 g[4] = { 1, 2, 3, 4 }, slot[4], s, n5 = 5;
	struct pool p;
	u8 act[4], a;

	pool_init(&p, 4);
	KTAP_ASSERT(take(&p, g, 4, slot, act) == 0);
	/* released in the order 3, 1, 4, 2: 3 is the least recently used */
	skb_gmap_put(&p.m, slot[2]);
	skb_gmap_put(&p.m, slot[0]);
	skb_gmap_put(&p.m, slot[3]);
	skb_gmap_put(&p.m, slot[1]);
	/* a hit on 3 makes it the most recent: 1 goes first */
	KTAP_ASSERT(take(&p, &g[2], 1, &s, &a) == 0);
	KTAP_EXPECT_EQ(a, SKB_GMAP_HIT);
	skb_gmap_put(&p.m, s);
	KTAP_ASSERT(take(&p, &n5, 1, &s, &a) == 0);
	KTAP_EXPECT_EQ(a, SKB_GMAP_EVICT);
	KTAP_EXPECT_EQ(s, slot[0]);
	KTAP_EXPECT_EQ(p.m.evictions, 1);
	KTAP_EXPECT_EQ(skb_gmap_find(&p.m, 1), SKB_GMAP_NONE);
}

static void broken_mapping(void)
{
	static const u32 g[] = { 7, 7, 8 };
	u32 slot[3], s;
	struct pool p;
	u8 act[3], a;

	pool_init(&p, CAP);
	KTAP_ASSERT(take(&p, g, 3, slot, act) == 0);
	skb_gmap_broken(&p.m, slot[0]);
	skb_gmap_broken(&p.m, slot[1]);	/* the same slot: idempotent */
	KTAP_EXPECT_EQ(skb_gmap_find(&p.m, 7), SKB_GMAP_NONE);
	KTAP_EXPECT_EQ(p.m.nr_mapped, 1);
	put_all(&p, slot, 3);
	KTAP_EXPECT_EQ(p.m.nr_free, 1);
	KTAP_EXPECT_EQ(p.m.nr_idle, 1);
	/* the broken slot is reused first, to be mapped afresh */
	KTAP_ASSERT(take(&p, &g[0], 1, &s, &a) == 0);
	KTAP_EXPECT_EQ(a, SKB_GMAP_MAP);
	KTAP_EXPECT_EQ(s, slot[0]);
	KTAP_EXPECT_EQ(p.m.nr_free, 0);
}

/* Random requests held in flight and released in random order. */
static void random_against_model(void)
{
	enum { NREQ = 6, MAXN = 5, CAPR = 12, ROUNDS = 20000 };
	u32 slot[NREQ][MAXN], nseg[NREQ] = { 0 }, users[CAPR];
	u32 i, j, r, k, s, mapped;
	struct pool p;
	u8 act[MAXN];

	srand(14);
	pool_init(&p, CAPR);
	for (k = 0; k < ROUNDS; k++) {
		r = rand() % NREQ;
		if (nseg[r]) {
			put_all(&p, slot[r], nseg[r]);
			nseg[r] = 0;
			continue;
		}
		{
			u32 g[MAXN], n = 1 + rand() % MAXN;

			for (i = 0; i < n; i++)
				g[i] = rand() % 24;
			memset(users, 0, sizeof(users));
			for (j = 0; j < NREQ; j++)
				for (i = 0; i < nseg[j]; i++)
					users[slot[j][i]]++;
			if (take(&p, g, n, slot[r], act))
				continue;
			for (i = 0; i < n; i++) {
				s = slot[r][i];
				/* never evict a slot with I/O in flight */
				if (act[i] == SKB_GMAP_EVICT && users[s])
					ktap_fail_at(__FILE__, __LINE__,
						     "round %u: evicted slot %u with %u users",
						     k, s, users[s]);
				if (p.m.slot[s].gref != g[i] ||
				    skb_gmap_find(&p.m, g[i]) != s)
					ktap_fail_at(__FILE__, __LINE__,
						     "round %u: grant %u not in slot %u",
						     k, g[i], s);
			}
			/* now and then a mapping fails */
			if (rand() % 16 == 0)
				skb_gmap_broken(&p.m, slot[r][0]);
			nseg[r] = n;
		}
		mapped = 0;
		for (s = 0; s < p.m.fresh; s++)
			mapped += p.m.slot[s].state == SKB_GMAP_MAPPED;
		if (mapped != p.m.nr_mapped ||
		    p.m.nr_idle + p.m.nr_free > p.m.fresh) {
			ktap_fail_at(__FILE__, __LINE__,
				     "round %u: %u mapped, counted %u; idle %u free %u fresh %u",
				     k, mapped, p.m.nr_mapped, p.m.nr_idle,
				     p.m.nr_free, p.m.fresh);
			return;
		}
	}
	for (r = 0; r < NREQ; r++)
		put_all(&p, slot[r], nseg[r]);
	/* all idle again: every used slot is on the LRU or free */
	KTAP_EXPECT_EQ(p.m.nr_idle + p.m.nr_free, p.m.fresh);
	KTAP_EXPECT_EQ(p.m.nr_idle, p.m.nr_mapped);
	KTAP_EXPECT(p.m.evictions > 0);
	KTAP_EXPECT(p.m.full > 0);
}

static const struct ktap_case cases[] = {
	KTAP_CASE(hit_and_miss),
	KTAP_CASE(full_refuses_whole_request),
	KTAP_CASE(lru_order),
	KTAP_CASE(broken_mapping),
	KTAP_CASE(random_against_model),
};

KTAP_MAIN(cases)
