// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests of splitkit_back's mapped-grant pool bookkeeping
 * (backend/core/gmap.c): hits and misses, a grant twice in one request,
 * copies when every slot is busy or idle too recently (no thrashing), the
 * LRU order of evictions, broken mappings, a mapping being made (PENDING)
 * that other requests must not use, and a random run against a model that
 * checks the rules that protect dom0: a slot with I/O in flight is never
 * evicted (its page never unmapped), no request does I/O on a slot that
 * another one is still mapping, and every grant the hash finds is the one
 * its slot holds; and grants a frontend chose to collide spread over the
 * hash's buckets (its secret seed).
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

static u32 take_pending(struct pool *p, const u32 *grefs, u32 n, u32 *slot,
			u8 *act)
{
	struct skb_seg segs[64];

	segs_of(segs, grefs, n);
	return skb_gmap_take(&p->m, segs, n, slot, act);
}

/* Mark what a take asked to map as mapped, as backend/gmap.c does. */
static void map_all(struct pool *p, const u32 *slot, const u8 *act, u32 n)
{
	u32 i;

	for (i = 0; i < n; i++)
		if (act[i] == SKB_GMAP_MAP || act[i] == SKB_GMAP_EVICT)
			skb_gmap_mapped(&p->m, slot[i]);
}

/* Take and map at once (one request, nothing else in between). */
static u32 take(struct pool *p, const u32 *grefs, u32 n, u32 *slot, u8 *act)
{
	u32 got = take_pending(p, grefs, n, slot, act);

	map_all(p, slot, act, n);
	return got;
}

static void put_all(struct pool *p, const u32 *slot, u32 n)
{
	u32 i;

	for (i = 0; i < n; i++)
		if (slot[i] != SKB_GMAP_NONE)
			skb_gmap_put(&p->m, slot[i]);
}

static void hit_and_miss(void)
{
	static const u32 g[] = { 10, 11, 10 };
	struct pool p;
	u32 slot[3];
	u8 act[3];

	pool_init(&p, CAP);
	KTAP_ASSERT(take(&p, g, 3, slot, act) == 3);
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
	KTAP_ASSERT(take(&p, g, 3, slot, act) == 3);
	KTAP_EXPECT_EQ(act[0], SKB_GMAP_HIT);
	KTAP_EXPECT_EQ(act[1], SKB_GMAP_HIT);
	KTAP_EXPECT_EQ(p.m.fresh, 2);
	KTAP_EXPECT_EQ(p.m.hits, 4);
	KTAP_EXPECT_EQ(p.m.misses, 2);
	KTAP_EXPECT_EQ(skb_gmap_find(&p.m, 11), slot[1]);
	KTAP_EXPECT_EQ(skb_gmap_find(&p.m, 12), SKB_GMAP_NONE);
}

static void full_copies_no_thrash(void)
{
	u32 g[CAP + 2], slot[CAP + 2], i, s1;
	u8 act[CAP + 2], a1;
	struct pool p;

	for (i = 0; i < CAP + 2; i++)
		g[i] = 100 + i;
	pool_init(&p, CAP);
	KTAP_EXPECT_EQ(p.m.age_min, 4 * CAP);
	/* more segments than slots: the excess is copied */
	KTAP_EXPECT_EQ(take(&p, g, CAP + 2, slot, act), CAP);
	KTAP_EXPECT_EQ(act[CAP], SKB_GMAP_COPY);
	KTAP_EXPECT_EQ(slot[CAP + 1], SKB_GMAP_NONE);
	KTAP_EXPECT_EQ(p.m.copies, 2);
	KTAP_EXPECT_EQ(skb_gmap_find(&p.m, g[CAP]), SKB_GMAP_NONE);
	/* one idle, but just put: not evicted, copied */
	skb_gmap_put(&p.m, slot[3]);
	KTAP_EXPECT_EQ(take(&p, &g[CAP], 1, &s1, &a1), 0);
	KTAP_EXPECT_EQ(a1, SKB_GMAP_COPY);
	KTAP_EXPECT_EQ(skb_gmap_find(&p.m, g[3]), slot[3]);
	/* age_min segments later it is old enough to give way */
	p.m.clock += p.m.age_min;
	KTAP_EXPECT_EQ(take(&p, &g[CAP], 1, &s1, &a1), 1);
	KTAP_EXPECT_EQ(a1, SKB_GMAP_EVICT);
	KTAP_EXPECT_EQ(s1, slot[3]);
	KTAP_EXPECT_EQ(skb_gmap_find(&p.m, g[3]), SKB_GMAP_NONE);
	KTAP_EXPECT_EQ(skb_gmap_find(&p.m, g[CAP]), s1);
	/* nothing idle at all: copied whatever the age */
	p.m.clock += p.m.age_min;
	KTAP_EXPECT_EQ(take(&p, &g[CAP + 1], 1, &s1, &a1), 0);
	KTAP_EXPECT_EQ(a1, SKB_GMAP_COPY);
}

static void lru_order(void)
{
	u32 g[4] = { 1, 2, 3, 4 }, slot[4], s, n5 = 5;
	struct pool p;
	u8 act[4], a;

	pool_init(&p, 4);
	p.m.age_min = 0;	/* pure LRU */
	KTAP_ASSERT(take(&p, g, 4, slot, act) == 4);
	/* released in the order 3, 1, 4, 2: 3 is the least recently used */
	skb_gmap_put(&p.m, slot[2]);
	skb_gmap_put(&p.m, slot[0]);
	skb_gmap_put(&p.m, slot[3]);
	skb_gmap_put(&p.m, slot[1]);
	/* a hit on 3 makes it the most recent: 1 goes first */
	KTAP_ASSERT(take(&p, &g[2], 1, &s, &a) == 1);
	KTAP_EXPECT_EQ(a, SKB_GMAP_HIT);
	skb_gmap_put(&p.m, s);
	KTAP_ASSERT(take(&p, &n5, 1, &s, &a) == 1);
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
	KTAP_ASSERT(take(&p, g, 3, slot, act) == 3);
	skb_gmap_broken(&p.m, slot[0]);
	skb_gmap_broken(&p.m, slot[1]);	/* the same slot: idempotent */
	KTAP_EXPECT_EQ(skb_gmap_find(&p.m, 7), SKB_GMAP_NONE);
	KTAP_EXPECT_EQ(p.m.nr_mapped, 1);
	put_all(&p, slot, 3);
	KTAP_EXPECT_EQ(p.m.nr_free, 1);
	KTAP_EXPECT_EQ(p.m.nr_idle, 1);
	/* the broken slot is reused first, to be mapped afresh */
	KTAP_ASSERT(take(&p, &g[0], 1, &s, &a) == 1);
	KTAP_EXPECT_EQ(a, SKB_GMAP_MAP);
	KTAP_EXPECT_EQ(s, slot[0]);
	KTAP_EXPECT_EQ(p.m.nr_free, 0);
}

/*
 * Request A takes grant 5 and is still mapping it when request B (another
 * ring) names it: B copies.  A's own second segment with grant 5 shares
 * the slot.  Once mapped, B finds it.  A slot put while still PENDING is
 * taken as broken.
 */
static void pending_not_shared(void)
{
	static const u32 ga[] = { 5, 5 }, gb[] = { 5, 6 }, g9 = 9;
	u32 sa[2], sb[2], s;
	struct pool p;
	u8 aa[2], ab[2], a;

	pool_init(&p, CAP);
	KTAP_ASSERT(take_pending(&p, ga, 2, sa, aa) == 2);
	KTAP_EXPECT_EQ(aa[0], SKB_GMAP_MAP);
	KTAP_EXPECT_EQ(aa[1], SKB_GMAP_HIT);
	KTAP_EXPECT_EQ(p.m.slot[sa[0]].state, SKB_GMAP_PENDING);
	KTAP_EXPECT_EQ(take(&p, gb, 2, sb, ab), 1);
	KTAP_EXPECT_EQ(ab[0], SKB_GMAP_COPY);
	KTAP_EXPECT_EQ(sb[0], SKB_GMAP_NONE);
	KTAP_EXPECT_EQ(ab[1], SKB_GMAP_MAP);
	KTAP_EXPECT_EQ(p.m.busy, 1);
	KTAP_EXPECT_EQ(p.m.copies, 1);
	skb_gmap_mapped(&p.m, sa[0]);
	KTAP_EXPECT_EQ(p.m.slot[sa[0]].state, SKB_GMAP_MAPPED);
	KTAP_ASSERT(take(&p, gb, 1, &s, &a) == 1);
	KTAP_EXPECT_EQ(a, SKB_GMAP_HIT);
	KTAP_EXPECT_EQ(s, sa[0]);
	KTAP_EXPECT_EQ(p.m.slot[s].users, 3);
	/* never reported mapped: its last put frees it */
	KTAP_ASSERT(take_pending(&p, &g9, 1, &s, &a) == 1);
	skb_gmap_put(&p.m, s);
	KTAP_EXPECT_EQ(skb_gmap_find(&p.m, 9), SKB_GMAP_NONE);
	KTAP_EXPECT_EQ(p.m.slot[s].state, SKB_GMAP_EMPTY);
	KTAP_EXPECT_EQ(p.m.nr_mapped, 2);
}

/*
 * Random requests held in flight and released in random order; some stay
 * PENDING (their mapper slow) until they are released.
 */
static void random_against_model(void)
{
	enum { NREQ = 6, MAXN = 5, CAPR = 12, ROUNDS = 20000 };
	u32 slot[NREQ][MAXN], nseg[NREQ] = { 0 }, users[CAPR];
	u32 i, j, r, k, s, mapped;
	u8 act[NREQ][MAXN], slow[NREQ] = { 0 };
	struct pool p;

	srand(14);
	pool_init(&p, CAPR);
	p.m.age_min = 6;
	for (k = 0; k < ROUNDS; k++) {
		r = rand() % NREQ;
		if (nseg[r]) {
			if (slow[r])
				map_all(&p, slot[r], act[r], nseg[r]);
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
					if (slot[j][i] != SKB_GMAP_NONE)
						users[slot[j][i]]++;
			{
				u32 idle = p.m.nr_idle, head = p.m.lru_head;
				u32 nfree = p.m.nr_free + (CAPR - p.m.fresh);
				u64 c1 = p.m.clock + 1;	/* seg 0's time */

				u32 hs = skb_gmap_find(&p.m, g[0]);
				bool busy0 = hs != SKB_GMAP_NONE &&
					     p.m.slot[hs].state == SKB_GMAP_PENDING;

				take_pending(&p, g, n, slot[r], act[r]);
				/* a copy only when nothing free or old idle */
				if (act[r][0] == SKB_GMAP_COPY && !busy0 &&
				    (nfree || (idle && c1 - p.m.slot[head].last >=
						      p.m.age_min)))
					ktap_fail_at(__FILE__, __LINE__,
						     "round %u: copied with %u free, %u idle",
						     k, nfree, idle);
			}
			for (i = 0; i < n; i++) {
				s = slot[r][i];
				/* a hit on a slot being mapped: only its taker's */
				if (act[r][i] == SKB_GMAP_HIT &&
				    p.m.slot[s].state == SKB_GMAP_PENDING) {
					for (j = 0; j < i; j++)
						if (slot[r][j] == s &&
						    act[r][j] != SKB_GMAP_HIT)
							break;
					if (j == i)
						ktap_fail_at(__FILE__, __LINE__,
							     "round %u: slot %u used while another request maps it",
							     k, s);
				}
				if (act[r][i] == SKB_GMAP_COPY) {
					if (s != SKB_GMAP_NONE)
						ktap_fail_at(__FILE__, __LINE__,
							     "round %u: a copy with a slot",
							     k);
					continue;
				}
				/* never evict a slot with I/O in flight */
				if (act[r][i] == SKB_GMAP_EVICT && users[s])
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
			if (rand() % 16 == 0 && slot[r][0] != SKB_GMAP_NONE)
				skb_gmap_broken(&p.m, slot[r][0]);
			/* a quarter of the requests map only when released */
			slow[r] = rand() % 4 == 0;
			if (!slow[r])
				map_all(&p, slot[r], act[r], n);
			nseg[r] = n;
		}
		mapped = 0;
		for (s = 0; s < p.m.fresh; s++)
			mapped += p.m.slot[s].state == SKB_GMAP_MAPPED ||
				  p.m.slot[s].state == SKB_GMAP_PENDING;
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
	KTAP_EXPECT(p.m.copies > 0);
	KTAP_EXPECT(p.m.busy > 0);
}

/*
 * A frontend chooses its grant references: with the pool's secret seed,
 * grants it picks to collide (all a page's worth apart, which the low
 * bits of a plain multiplicative hash put in one bucket) still spread
 * over the buckets, for every seed tried.
 */
#define BIG	4096
#define BATCH	32

static u32 longest_chain(const struct skb_gmap *m, u32 nb)
{
	u32 b, i, len, most = 0;

	for (b = 0; b < nb; b++) {
		len = 0;
		for (i = m->bucket[b]; i != SKB_GMAP_NONE; i = m->slot[i].hnext)
			len++;
		if (len > most)
			most = len;
	}
	return most;
}

static void chosen_grefs_short_chains(void)
{
	u32 nb = skb_gmap_buckets(BIG), k, i, j, most;
	struct skb_gmap_slot *slot = calloc(BIG, sizeof(*slot));
	u32 *bucket = calloc(nb, sizeof(*bucket));
	struct skb_seg segs[BATCH];
	u32 got[BATCH];
	u8 act[BATCH];
	struct skb_gmap m;

	KTAP_ASSERT(slot && bucket);
	srand(7);
	for (k = 0; k < 8; k++) {
		skb_gmap_init(&m, BIG, slot, bucket);
		skb_gmap_seed(&m, (u32)rand() << 1 ^ (u32)rand());
		for (i = 0; i < BIG; i += BATCH) {
			for (j = 0; j < BATCH; j++) {
				segs[j].gref = (i + j) << 12;
				segs[j].first = 0;
				segs[j].last = 7;
			}
			KTAP_ASSERT(skb_gmap_take(&m, segs, BATCH, got, act) ==
				    BATCH);
			for (j = 0; j < BATCH; j++) {
				skb_gmap_mapped(&m, got[j]);
				skb_gmap_put(&m, got[j]);
			}
		}
		KTAP_EXPECT_EQ(m.nr_mapped, BIG);
		most = longest_chain(&m, nb);
		if (most > 16)
			ktap_fail_at(__FILE__, __LINE__,
				     "seed %u: a chain of %u grants (of %u in %u buckets)",
				     k, most, BIG, nb);
	}
	free(slot);
	free(bucket);
}

static const struct ktap_case cases[] = {
	KTAP_CASE(hit_and_miss),
	KTAP_CASE(full_copies_no_thrash),
	KTAP_CASE(lru_order),
	KTAP_CASE(broken_mapping),
	KTAP_CASE(pending_not_shared),
	KTAP_CASE(random_against_model),
	KTAP_CASE(chosen_grefs_short_chains),
};

KTAP_MAIN(cases)
