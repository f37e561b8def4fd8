// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests of ring/core/poll.c (adaptive poll window, event rate limit)
 * and ring/core/parse.c (peer-written XenStore numbers), table-driven.
 */
#include <splitkit/ring_core.h>
#include "ktap.h"

static void test_poll_window(void)
{
	struct sk_poll p;

	sk_poll_init(&p, 32000);
	KTAP_EXPECT_EQ(sk_poll_window(&p), 0);		/* starts closed */
	sk_poll_update(&p, 1000);			/* short idle: grow */
	KTAP_EXPECT_EQ(sk_poll_window(&p), 4000);	/* base = max/8 */
	sk_poll_update(&p, 3000);			/* covered: keep */
	KTAP_EXPECT_EQ(sk_poll_window(&p), 4000);
	sk_poll_update(&p, 10000);			/* grow to cover */
	KTAP_EXPECT_EQ(sk_poll_window(&p), 16000);
	sk_poll_update(&p, 31000);
	KTAP_EXPECT_EQ(sk_poll_window(&p), 32000);	/* capped */
	sk_poll_update(&p, 1000000);			/* long idle: shrink */
	KTAP_EXPECT_EQ(sk_poll_window(&p), 16000);
	sk_poll_update(&p, 1000000);
	sk_poll_update(&p, 1000000);
	KTAP_EXPECT_EQ(sk_poll_window(&p), 4000);
	sk_poll_update(&p, 1000000);			/* below base: off */
	KTAP_EXPECT_EQ(sk_poll_window(&p), 0);
	sk_poll_update(&p, ~0ull);
	KTAP_EXPECT_EQ(sk_poll_window(&p), 0);
}

static void test_poll_tuning(void)
{
	struct sk_poll p;

	sk_poll_init(&p, 0);				/* disabled */
	sk_poll_update(&p, 1);
	KTAP_EXPECT_EQ(sk_poll_window(&p), 0);
	sk_poll_set_max(&p, 80000);
	sk_poll_update(&p, 70000);
	KTAP_EXPECT_EQ(sk_poll_window(&p), 80000);
	sk_poll_set_max(&p, 5000);			/* clamp on retune */
	KTAP_EXPECT_EQ(sk_poll_window(&p), 5000);
	sk_poll_set_max(&p, 0xffffffffu);		/* no overflow */
	sk_poll_update(&p, 0xfffffff0u);
	KTAP_EXPECT(sk_poll_window(&p) >= 0xfffffff0u);
	sk_poll_set_max(&p, 7);				/* tiny max */
	sk_poll_update(&p, 1000);
	sk_poll_update(&p, 1000);
	sk_poll_update(&p, 1000);
	sk_poll_update(&p, 1000);
	KTAP_EXPECT_EQ(sk_poll_window(&p), 0);
	sk_poll_update(&p, 6);
	KTAP_EXPECT(sk_poll_window(&p) >= 6 && sk_poll_window(&p) <= 7);
}

static void test_ratelimit(void)
{
	struct sk_ratelimit rl;
	uint64_t t = 5000000000ull;
	int i, allowed = 0;

	sk_ratelimit_init(&rl, 1000, 10, t);
	for (i = 0; i < 100; i++)
		allowed += sk_ratelimit_allow(&rl, t);
	KTAP_EXPECT_EQ(allowed, 10);			/* the burst */
	KTAP_EXPECT(!sk_ratelimit_allow(&rl, t + 500000)); /* 0.5 token */
	KTAP_EXPECT(sk_ratelimit_allow(&rl, t + 1000000));  /* 1 token */
	KTAP_EXPECT(!sk_ratelimit_allow(&rl, t + 1000000));
	/* one second later the bucket is full again, not more */
	allowed = 0;
	for (i = 0; i < 100; i++)
		allowed += sk_ratelimit_allow(&rl, t + 3000000000ull);
	KTAP_EXPECT_EQ(allowed, 10);
	/* a clock going backwards refills nothing */
	KTAP_EXPECT(!sk_ratelimit_allow(&rl, t));
	/* sustained storm: about per_sec per second get through */
	sk_ratelimit_init(&rl, 1000, 10, 0);
	allowed = 0;
	for (i = 0; i < 1000000; i++)
		allowed += sk_ratelimit_allow(&rl, (uint64_t)i * 1000);
	KTAP_EXPECT(allowed >= 1000 && allowed <= 1011);
}

static void test_parse(void)
{
	static const struct {
		const char *s; uint32_t max; int rc; uint32_t val;
	} v[] = {
		{ "0", 10, 0, 0 },
		{ "7", 10, 0, 7 },
		{ "10", 10, 0, 10 },
		{ "11", 10, -ERANGE, 0 },
		{ "4294967295", 0xffffffffu, 0, 0xffffffffu },
		{ "4294967296", 0xffffffffu, -ERANGE, 0 },
		{ "99999999999", 0xffffffffu, -EINVAL, 0 },
		{ "00000000001", 0xffffffffu, -EINVAL, 0 },
		{ "0008", 10, 0, 8 },
		{ "", 10, -EINVAL, 0 },
		{ "-1", 10, -EINVAL, 0 },
		{ "+1", 10, -EINVAL, 0 },
		{ " 1", 10, -EINVAL, 0 },
		{ "1 ", 10, -EINVAL, 0 },
		{ "1\n", 10, -EINVAL, 0 },
		{ "0x10", 100, -EINVAL, 0 },
		{ "1a", 100, -EINVAL, 0 },
	};
	uint32_t out;
	size_t i;

	for (i = 0; i < KTAP_ARRAY_SIZE(v); i++) {
		out = 12345;
		KTAP_EXPECT_EQ(sk_parse_u32(v[i].s, strlen(v[i].s), v[i].max,
					    &out), v[i].rc);
		KTAP_EXPECT_EQ(out, v[i].rc ? 12345 : v[i].val);
	}
	/* length bounds the read; a NUL ends it early */
	KTAP_EXPECT_EQ(sk_parse_u32("12345", 2, 100, &out), 0);
	KTAP_EXPECT_EQ(out, 12);
	KTAP_EXPECT_EQ(sk_parse_u32("3\0" "9", 3, 100, &out), 0);
	KTAP_EXPECT_EQ(out, 3);
}

static void test_seg_check(void)
{
	static const struct { uint32_t off, len; int rc; } v[] = {
		{ 0, 4096, 0 },
		{ 0, 1, 0 },
		{ 4095, 1, 0 },
		{ 512, 3584, 0 },
		{ 0, 0, -EINVAL },
		{ 4095, 2, -EINVAL },
		{ 4096, 1, -EINVAL },
		{ 1, 4096, -EINVAL },
		{ 0xffffffffu, 2, -EINVAL },
		{ 100, 0xffffffffu, -EINVAL },
		{ 0xfffff000u, 0x2000, -EINVAL },
	};
	size_t i;

	for (i = 0; i < KTAP_ARRAY_SIZE(v); i++)
		KTAP_EXPECT_EQ(sk_seg_check(v[i].off, v[i].len, 4096), v[i].rc);
}

static const struct ktap_case cases[] = {
	KTAP_CASE(test_seg_check),
	KTAP_CASE(test_poll_window),
	KTAP_CASE(test_poll_tuning),
	KTAP_CASE(test_ratelimit),
	KTAP_CASE(test_parse),
};

KTAP_MAIN(cases)
