// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests of what dom0 offers (negotiate/core/offer.c): the offers for
 * a request given what is available (count, order, every one within the
 * request's min .. max, nothing when the minimum does not fit), a slot's
 * share of a capacity that no longer covers every agreement (checked
 * against 128-bit arithmetic, never adding up to more than the capacity),
 * and the provider table.
 */
#include "ktap.h"
#include "negotiate_core.h"

struct offer_row {
	u64 min, max, available;
	u32 n;
	u64 v[SKN_MAX_OFFERS];
};

static const struct offer_row offer_rows[] = {
	/* plenty: max, then 3/4, 1/2, 1/4 of it */
	{ 100, 800, 1000000, 4, { 800, 600, 400, 200 } },
	/* the minimum cuts the ladder */
	{ 300, 800, 1000000, 3, { 800, 600, 400 } },
	{ 800, 800, 1000000, 1, { 800 } },
	/* less available than wanted: the ladder starts there */
	{ 100, 800, 500, 4, { 500, 375, 250, 125 } },
	{ 400, 800, 500, 1, { 500 } },
	{ 500, 800, 500, 1, { 500 } },
	/* the minimum does not fit: nothing */
	{ 501, 800, 500, 0, { 0 } },
	{ 10, 10, 0, 0, { 0 } },
	/* small values: no duplicates, strictly decreasing */
	{ 10, 13, 100, 1, { 13 } },
	{ 10, 16, 100, 2, { 16, 12 } },
	/* huge values do not overflow */
	{ 65536, 1ull << 40, ~0ull, 4,
	  { 1ull << 40, 3ull << 38, 1ull << 39, 1ull << 38 } },
};

static void offer_ladder(void)
{
	size_t i;
	u32 j;

	for (i = 0; i < KTAP_ARRAY_SIZE(offer_rows); i++) {
		const struct offer_row *t = &offer_rows[i];
		struct skn_request r = { .min = t->min, .max = t->max };
		u64 v[SKN_MAX_OFFERS] = { 0 };
		u32 n = skn_make_offers(&r, t->available, v);

		if (n != t->n) {
			ktap_fail_at(__FILE__, __LINE__, "row %zu: %u offers",
				     i, n);
			continue;
		}
		for (j = 0; j < n; j++) {
			if (v[j] < t->min || v[j] > t->max ||
			    v[j] > t->available || (j && v[j] >= v[j - 1]))
				ktap_fail_at(__FILE__, __LINE__,
					     "row %zu: offer %u = %llu", i, j,
					     (unsigned long long)v[j]);
			if (t->v[j] && v[j] != t->v[j])
				ktap_fail_at(__FILE__, __LINE__,
					     "row %zu: offer %u = %llu, want %llu",
					     i, j, (unsigned long long)v[j],
					     (unsigned long long)t->v[j]);
		}
	}
}

/* Every (min, max, available) on a small grid keeps the rules. */
static void offer_grid(void)
{
	u64 min, max, av, v[SKN_MAX_OFFERS];
	u32 n, j;

	for (min = 0; min < 40; min++)
		for (max = min; max < 40; max++)
			for (av = 0; av < 45; av++) {
				struct skn_request r = { .min = min,
							 .max = max };

				n = skn_make_offers(&r, av, v);
				KTAP_EXPECT_EQ(n == 0, av < min);
				for (j = 0; j < n; j++)
					if (v[j] < min || v[j] > max ||
					    v[j] > av ||
					    (j && v[j] >= v[j - 1]))
						ktap_fail_at(__FILE__, __LINE__,
							     "%llu..%llu av %llu",
							     (unsigned long long)min,
							     (unsigned long long)max,
							     (unsigned long long)av);
				if (n)
					KTAP_EXPECT_EQ(v[0],
						       max < av ? max : av);
			}
}

struct share_row {
	u64 value, capacity, held, want;
};

static const struct share_row share_rows[] = {
	{ 500, 1000, 800, 500 },	/* fits */
	{ 500, 1000, 1000, 500 },
	{ 500, 600, 1000, 300 },
	{ 1, 1, 3, 0 },			/* rounded down */
	{ 700, 0, 1000, 0 },
	{ 1000, 500, 1000, 500 },
	{ 2000, 500, 1000, 2000 },	/* more than held: left alone */
	{ 1ull << 40, (1ull << 41) - 1, 1ull << 42, (1ull << 39) - 1 },
	{ 5, 10, 1ull << 62, 0 },	/* beyond any real sum */
};

static void share_rows_test(void)
{
	size_t i;

	for (i = 0; i < KTAP_ARRAY_SIZE(share_rows); i++) {
		const struct share_row *t = &share_rows[i];
		u64 got = skn_share(t->value, t->capacity, t->held);

		if (got != t->want)
			ktap_fail_at(__FILE__, __LINE__,
				     "row %zu: %llu, want %llu", i,
				     (unsigned long long)got,
				     (unsigned long long)t->want);
	}
}

/* Against 128-bit arithmetic, and the shares never exceed the capacity. */
static void share_exact(void)
{
	u64 x = 0x9e3779b97f4a7c15ull;
	int i;

	for (i = 0; i < 20000; i++) {
		u64 a, b, c, cap, held, sum;

		x ^= x << 13; x ^= x >> 7; x ^= x << 17;
		a = x >> 24;
		x ^= x << 13; x ^= x >> 7; x ^= x << 17;
		b = x >> 24;
		x ^= x << 13; x ^= x >> 7; x ^= x << 17;
		c = x >> 24;
		held = a + b + c;
		cap = held ? x % held : 0;
		sum = skn_share(a, cap, held) + skn_share(b, cap, held) +
		      skn_share(c, cap, held);
		if (held > cap &&
		    skn_share(a, cap, held) !=
		    (u64)((unsigned __int128)a * cap / held))
			ktap_fail_at(__FILE__, __LINE__, "share of %llu",
				     (unsigned long long)a);
		if (held > cap && sum > cap)
			ktap_fail_at(__FILE__, __LINE__, "sum %llu > %llu",
				     (unsigned long long)sum,
				     (unsigned long long)cap);
	}
}

/*
 * dom0's ceiling for one agreement: 0 sets none; otherwise what is left
 * (or a share) is cut to it, and offers made from that stay under it.
 */
static void ceiling(void)
{
	struct skn_request req = { .provider = SKN_P_BLK_IOPS, .min = 10,
				   .max = 1000 };
	u64 v[SKN_MAX_OFFERS];
	u32 n, i;

	KTAP_EXPECT_EQ(skn_ceiling(500, 0), 500);
	KTAP_EXPECT_EQ(skn_ceiling(500, 200), 200);
	KTAP_EXPECT_EQ(skn_ceiling(200, 500), 200);
	KTAP_EXPECT_EQ(skn_ceiling(0, 500), 0);
	KTAP_EXPECT_EQ(skn_ceiling(~0ull, 1), 1);
	/* the offers of a request under a ceiling of 300, 5000 left */
	n = skn_make_offers(&req, skn_ceiling(5000, 300), v);
	KTAP_EXPECT(n >= 1);
	KTAP_EXPECT_EQ(v[0], 300);
	for (i = 0; i < n; i++)
		KTAP_EXPECT(v[i] <= 300 && v[i] >= req.min);
	/* a ceiling below the request's minimum: no offer */
	KTAP_EXPECT_EQ(skn_make_offers(&req, skn_ceiling(5000, 5), v), 0);
	/* a share above the ceiling is cut to it */
	KTAP_EXPECT_EQ(skn_ceiling(skn_share(600, 1000, 1200), 400), 400);
}

/*
 * A slot squeezed by another's agreement or a lower capacity: its share
 * bounds it only when it holds more than that share.  (The review's case:
 * capacity 1000, a guest offered 1000..250 while another applies 600:
 * 400 left, its share of nothing held is 0.)
 */
static void squeeze(void)
{
	u64 cap = 1000, held, share;

	/* offered, no agreement: what is left, not its share (0) */
	share = skn_share(0, cap, 600);
	KTAP_EXPECT_EQ(share, 0);
	KTAP_EXPECT_EQ(skn_squeeze(0, 400, share), 400);
	/* renegotiating upward from 100 with 300 free: not cut to 100 */
	share = skn_share(100, cap, 700);
	KTAP_EXPECT_EQ(skn_squeeze(100, 400, share), 400);
	/* over its share (capacity lowered to 600 under 500 + 500) */
	held = 500;
	share = skn_share(held, 600, 1000);
	KTAP_EXPECT_EQ(share, 300);
	KTAP_EXPECT_EQ(skn_squeeze(held, 100, share), 100);
	KTAP_EXPECT_EQ(skn_squeeze(held, 450, share), 300);
}

/* blk.ring: every offer a power of two, within the request, no repeats */
static void offer_pow2(void)
{
	static const struct {
		u64 min, max, available;
		u32 n;
		u64 v[SKN_MAX_OFFERS];
	} rows[] = {
		{ 1, 16, 1000, 3, { 16, 8, 4 } },
		{ 1, 16, 12, 3, { 8, 4, 2 } },
		{ 1, 16, 3, 2, { 2, 1 } },
		{ 5, 16, 16, 2, { 16, 8 } },
		{ 3, 3, 16, 0, { 0 } },
		{ 1, 1, 16, 1, { 1 } },
	};
	size_t i;
	u32 j, n;

	for (i = 0; i < KTAP_ARRAY_SIZE(rows); i++) {
		struct skn_request r = { .provider = SKN_P_BLK_RING,
					 .min = rows[i].min,
					 .max = rows[i].max };
		u64 v[SKN_MAX_OFFERS] = { 0 };

		n = skn_make_offers(&r, rows[i].available, v);
		KTAP_EXPECT_EQ(n, rows[i].n);
		for (j = 0; j < n && j < rows[i].n; j++)
			KTAP_EXPECT_EQ(v[j], rows[i].v[j]);
	}
	KTAP_EXPECT(skn_providers[SKN_P_BLK_RING].pow2);
	KTAP_EXPECT(!skn_providers[SKN_P_BLK_QUEUES].pow2);
}

static void providers(void)
{
	size_t i;

	KTAP_EXPECT_EQ(skn_provider_find("blk.iops", 8), SKN_P_BLK_IOPS);
	KTAP_EXPECT_EQ(skn_provider_find("blk.bandwidth", 13), SKN_P_BLK_BW);
	KTAP_EXPECT_EQ(skn_provider_find("blk.queues", 10), SKN_P_BLK_QUEUES);
	KTAP_EXPECT_EQ(skn_provider_find("blk.ring", 8), SKN_P_BLK_RING);
	KTAP_EXPECT_EQ(skn_provider_find("vcpus", 5), SKN_P_VCPUS);
	KTAP_EXPECT_EQ(skn_provider_find("blk.iop", 7), -ENOENT);
	KTAP_EXPECT_EQ(skn_provider_find("blk.iopss", 9), -ENOENT);
	KTAP_EXPECT_EQ(skn_provider_find("blk.iops", 0), -EINVAL);
	KTAP_EXPECT_EQ(skn_provider_find("blk_iops", 8), -EINVAL);
	for (i = 0; i < SKN_NR_PROVIDERS; i++) {
		const struct skn_provider *p = &skn_providers[i];

		KTAP_EXPECT(p->name && strlen(p->name) <= SKN_NAME_MAX);
		KTAP_EXPECT(p->min && p->min <= p->max);
		/* skn_make_offers() and skn_bucket need this headroom */
		KTAP_EXPECT(p->max <= 1ull << 40);
		KTAP_EXPECT_EQ(skn_provider_find(p->name, strlen(p->name)),
			       (long long)i);
	}
}

static const struct ktap_case cases[] = {
	KTAP_CASE(offer_ladder),
	KTAP_CASE(offer_grid),
	KTAP_CASE(share_rows_test),
	KTAP_CASE(share_exact),
	KTAP_CASE(ceiling),
	KTAP_CASE(squeeze),
	KTAP_CASE(offer_pow2),
	KTAP_CASE(providers),
};

KTAP_MAIN(cases)
