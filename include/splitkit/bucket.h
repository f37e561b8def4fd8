/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Token bucket with an injected clock, header-only and portable (plain C
 * over <splitkit/platform.h>).  Owned by splitkit_negotiate: its request
 * rate limit (negotiate/core/) and the I/O limits it agrees with a guest,
 * which splitkit_back enforces per disk (backend/limit.c) with the same
 * code.  Unit-tested in tests/unit/negotiate/test_bucket.c.
 *
 * It is a theoretical-arrival-time limiter (GCRA): @tat is when the bucket
 * would be full again.  Each cost moves @tat on by cost / rate seconds; a
 * cost is within the limit while @tat stays at most @burst_ns ahead of now.
 * That is exactly a token bucket of burst_ns * rate tokens refilled at
 * @rate per second, with no refill arithmetic and no rounding drift: the
 * interval of each cost is rounded up, so the long-run rate never exceeds
 * @rate.  The clock is a caller's nanosecond count (ktime_get_ns() in the
 * kernel, a variable in the tests); a clock going backwards refills
 * nothing.
 */
#ifndef _SPLITKIT_BUCKET_H
#define _SPLITKIT_BUCKET_H

#include <splitkit/platform.h>

#define SK_NSEC_PER_SEC		1000000000ull
/* Costs are capped so that cost * 10^9 fits in 64 bits. */
#define SK_BUCKET_MAX_COST	0xffffffffull

/**
 * struct sk_bucket - a rate limit.
 * @rate:     units per second, at least 1.
 * @burst_ns: how far ahead of now @tat may run: the burst, as time.
 * @tat:      theoretical arrival time of the next unit, ns.
 */
struct sk_bucket {
	u64 rate;
	u64 burst_ns;
	u64 tat;
};

/* Nanoseconds @cost units take at @rate, rounded up. */
static inline u64 sk_bucket_interval(u64 rate, u64 cost)
{
	if (cost > SK_BUCKET_MAX_COST)
		cost = SK_BUCKET_MAX_COST;
	return (cost * SK_NSEC_PER_SEC + rate - 1) / rate;
}

/**
 * sk_bucket_init() - a full bucket.
 * @b: the bucket.
 * @rate: units per second (0 is taken as 1).
 * @burst: units that may pass at once (0 is taken as 1).
 * @now_ns: current time.
 */
static inline void sk_bucket_init(struct sk_bucket *b, u64 rate, u64 burst,
				  u64 now_ns)
{
	b->rate = rate ? rate : 1;
	if (!burst)
		burst = 1;
	b->burst_ns = sk_bucket_interval(b->rate, burst);
	b->tat = now_ns;
}

/**
 * sk_bucket_try() - take @cost units if the bucket holds them.
 * @b: the bucket.
 * @cost: units.
 * @now_ns: current time.
 *
 * Nothing is taken when the answer is no.
 *
 * Return: 0 if taken, else the nanoseconds until it would be (at least 1).
 */
static inline u64 sk_bucket_try(struct sk_bucket *b, u64 cost, u64 now_ns)
{
	u64 start = b->tat > now_ns ? b->tat : now_ns;
	u64 tat = start + sk_bucket_interval(b->rate, cost);

	if (tat - now_ns > b->burst_ns)
		return tat - now_ns - b->burst_ns;
	b->tat = tat;
	return 0;
}

/**
 * sk_bucket_take() - take @cost units, going into debt if need be.
 * @b: the bucket.
 * @cost: units.
 * @now_ns: current time.
 *
 * For a limiter that delays instead of refusing: the caller waits the
 * returned time before acting.  Successive callers queue up behind each
 * other, so the long-run rate is @rate whatever the costs.
 *
 * Return: the nanoseconds to wait before the cost is paid (0: now).
 */
static inline u64 sk_bucket_take(struct sk_bucket *b, u64 cost, u64 now_ns)
{
	u64 start = b->tat > now_ns ? b->tat : now_ns;
	u64 tat = start + sk_bucket_interval(b->rate, cost);

	b->tat = tat;
	return tat - now_ns > b->burst_ns ? tat - now_ns - b->burst_ns : 0;
}

#endif /* _SPLITKIT_BUCKET_H */
