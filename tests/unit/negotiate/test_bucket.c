// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests of the token bucket (include/splitkit/bucket.h) with a played
 * clock: a full bucket lets exactly its burst through, refuses the next
 * without charging it and says how long to wait; time refills it at the
 * rate and never beyond the burst; a clock going backwards refills
 * nothing; the delaying form (sk_bucket_take()) holds a stream of costs to
 * the rate over a long run, whatever the costs; huge costs and rates do
 * not overflow.
 */
#include "ktap.h"
#include <splitkit/bucket.h>

#define MS	1000000ull

static void burst_then_refuse(void)
{
	struct sk_bucket b;
	u64 now = 5 * SK_NSEC_PER_SEC;
	int i;

	sk_bucket_init(&b, 4, 8, now);	/* 4/s, burst 8: 250 ms each */
	for (i = 0; i < 8; i++)
		KTAP_EXPECT_EQ(sk_bucket_try(&b, 1, now), 0);
	KTAP_EXPECT_EQ(sk_bucket_try(&b, 1, now), 250 * MS);
	/* a refusal costs nothing: the same answer again */
	KTAP_EXPECT_EQ(sk_bucket_try(&b, 1, now), 250 * MS);
	KTAP_EXPECT_EQ(sk_bucket_try(&b, 1, now + 249 * MS), 1 * MS);
	KTAP_EXPECT_EQ(sk_bucket_try(&b, 1, now + 250 * MS), 0);
	KTAP_EXPECT(sk_bucket_try(&b, 1, now + 250 * MS) != 0);
}

static void refill_capped(void)
{
	struct sk_bucket b;
	u64 now = 0;
	int i, n = 0;

	sk_bucket_init(&b, 10, 5, now);
	for (i = 0; i < 5; i++)
		KTAP_EXPECT_EQ(sk_bucket_try(&b, 1, now), 0);
	/* an hour idle refills the burst, not 36000 tokens */
	now += 3600 * SK_NSEC_PER_SEC;
	while (!sk_bucket_try(&b, 1, now))
		n++;
	KTAP_EXPECT_EQ(n, 5);
	/* half a second more: 5 more */
	now += 500 * MS;
	n = 0;
	while (!sk_bucket_try(&b, 1, now))
		n++;
	KTAP_EXPECT_EQ(n, 5);
}

static void clock_backwards(void)
{
	struct sk_bucket b;
	u64 now = 10 * SK_NSEC_PER_SEC;

	sk_bucket_init(&b, 1, 1, now);
	KTAP_EXPECT_EQ(sk_bucket_try(&b, 1, now), 0);
	KTAP_EXPECT(sk_bucket_try(&b, 1, now - 5 * SK_NSEC_PER_SEC) != 0);
	KTAP_EXPECT(sk_bucket_try(&b, 1, 0) != 0);
	KTAP_EXPECT_EQ(sk_bucket_try(&b, 1, now + SK_NSEC_PER_SEC), 0);
}

/* 1000 requests/s for 10 simulated seconds: the stream gets 10000 (+ burst) */
static void take_holds_rate(void)
{
	struct sk_bucket b;
	u64 now = 0, end = 10 * SK_NSEC_PER_SEC, done = 0;

	sk_bucket_init(&b, 1000, 100, now);
	while (now < end) {
		now += sk_bucket_take(&b, 1, now);	/* wait, then go */
		if (now < end)
			done++;
	}
	KTAP_EXPECT(done >= 10000 && done <= 10100);
}

/* bytes: 4 KiB and 128 KiB requests mixed, 10 MB/s */
static void take_bytes(void)
{
	struct sk_bucket b;
	u64 now = 0, end = 20 * SK_NSEC_PER_SEC, bytes = 0;
	int i = 0;

	sk_bucket_init(&b, 10000000, 1000000, now);
	while (now < end) {
		u64 cost = i++ % 3 ? 4096 : 131072;

		now += sk_bucket_take(&b, cost, now);
		if (now < end)
			bytes += cost;
	}
	KTAP_EXPECT(bytes <= 200000000ull + 1000000 + 131072);
	KTAP_EXPECT(bytes >= 200000000ull - 131072);
}

static void extremes(void)
{
	struct sk_bucket b;

	sk_bucket_init(&b, 0, 0, 0);	/* taken as 1/s, burst 1 */
	KTAP_EXPECT_EQ(b.rate, 1);
	KTAP_EXPECT_EQ(sk_bucket_try(&b, 1, 0), 0);
	KTAP_EXPECT_EQ(sk_bucket_try(&b, 1, 0), SK_NSEC_PER_SEC);
	/* a cost beyond the cap is the cap, no overflow */
	sk_bucket_init(&b, 1ull << 40, 1, 0);
	KTAP_EXPECT_EQ(sk_bucket_interval(b.rate, ~0ull),
		       sk_bucket_interval(b.rate, SK_BUCKET_MAX_COST));
	KTAP_EXPECT(sk_bucket_take(&b, ~0ull, 0) > 0);
	/* rounding up: 1 byte at 2^40/s still costs 1 ns */
	KTAP_EXPECT_EQ(sk_bucket_interval(1ull << 40, 1), 1);
	KTAP_EXPECT_EQ(sk_bucket_interval(3, 1), 333333334);
}

static const struct ktap_case cases[] = {
	KTAP_CASE(burst_then_refuse),
	KTAP_CASE(refill_capped),
	KTAP_CASE(clock_backwards),
	KTAP_CASE(take_holds_rate),
	KTAP_CASE(take_bytes),
	KTAP_CASE(extremes),
};

KTAP_MAIN(cases)
