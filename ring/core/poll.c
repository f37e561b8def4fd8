// SPDX-License-Identifier: GPL-2.0
/*
 * splitkit portable ring core: adaptive poll window and event rate limit.
 *
 * Both are pure arithmetic on caller-supplied times so the unit tests can
 * drive them with synthetic clocks; ring/chan.c feeds them ktime values.
 * The poll window decides how long a consumer spins on an empty ring before
 * arming the event channel (trading a little CPU for a saved interrupt and
 * context switch); the rate limiter decides when events that brought no
 * work have become a storm from a malicious or buggy peer.
 */
#include <splitkit/ring_core.h>

/* The window starts at base = max / SK_POLL_BASE_DIV when it first grows. */
#define SK_POLL_BASE_DIV	8u

/**
 * sk_poll_init() - set up a poll window, initially closed.
 * @p: poll state.
 * @max_ns: longest window in nanoseconds; 0 disables polling.
 */
void sk_poll_init(struct sk_poll *p, u32 max_ns)
{
	p->cur_ns = 0;
	sk_poll_set_max(p, max_ns);
}

/**
 * sk_poll_set_max() - retune the longest window.
 * @p: poll state.
 * @max_ns: longest window in nanoseconds; 0 disables polling.
 *
 * The current window is clamped to the new maximum.
 */
void sk_poll_set_max(struct sk_poll *p, u32 max_ns)
{
	SK_WRITE_ONCE(p->max_ns, max_ns);
	p->base_ns = max_ns / SK_POLL_BASE_DIV ? max_ns / SK_POLL_BASE_DIV : 1;
	if (!max_ns)
		p->base_ns = 0;
	if (p->cur_ns > max_ns)
		SK_WRITE_ONCE(p->cur_ns, max_ns);
}

/**
 * sk_poll_update() - adapt the window to the length of an idle period.
 * @p: poll state.
 * @idle_ns: time from running out of work to finding work again, whether
 *	     the work was found by polling or announced by an event.
 *
 * Idle periods the current window covered leave it alone; those a window
 * of at most max_ns would have covered double it (starting from base_ns);
 * longer ones halve it, down to 0.
 */
void sk_poll_update(struct sk_poll *p, u64 idle_ns)
{
	u32 max = p->max_ns, cur = p->cur_ns;

	if (idle_ns <= cur)
		return;
	if (idle_ns <= max) {
		cur = cur < p->base_ns ? p->base_ns : cur;
		while (cur < idle_ns && cur < max)
			cur = cur > max / 2 ? max : cur * 2;
	} else {
		cur /= 2;
		if (cur < p->base_ns)
			cur = 0;
	}
	SK_WRITE_ONCE(p->cur_ns, cur);
}

/**
 * sk_ratelimit_init() - set up a token bucket, initially full.
 * @rl: limiter.
 * @per_sec: sustained events per second allowed (at least 1).
 * @burst: bucket size (at least 1).
 * @now_ns: current time.
 */
void sk_ratelimit_init(struct sk_ratelimit *rl, u32 per_sec, u32 burst,
		       u64 now_ns)
{
	rl->per_sec = per_sec ? per_sec : 1;
	rl->burst = burst ? burst : 1;
	rl->tokens = rl->burst;
	rl->last_ns = now_ns;
}

/**
 * sk_ratelimit_allow() - take one token if there is one.
 * @rl: limiter.
 * @now_ns: current time; a clock going backwards refills nothing.
 *
 * Return: true if the event is within the allowed rate.
 */
bool sk_ratelimit_allow(struct sk_ratelimit *rl, u64 now_ns)
{
	u64 elapsed, add;

	if (now_ns > rl->last_ns) {
		elapsed = now_ns - rl->last_ns;
		/* a full second refills at least the whole bucket */
		if (elapsed > 1000000000ull)
			elapsed = 1000000000ull;
		add = elapsed * rl->per_sec / 1000000000ull;
		if (add) {
			rl->tokens = add >= rl->burst - rl->tokens ?
				     rl->burst : rl->tokens + (u32)add;
			rl->last_ns = now_ns;
		}
	}
	if (!rl->tokens)
		return false;
	rl->tokens--;
	return true;
}
