// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests of ring/core/state.c, the xenbus state machine: the normal
 * handshake, skipped states, repeated (spurious) watch events, peers that
 * restart or vanish, garbage peer states, and an exhaustive check that
 * re-asking after every action settles within a few steps from any pair.
 */
#include <splitkit/ring_core.h>
#include "ktap.h"

#define FRONT	true
#define BACK	false

/* Apply actions until settled; return the final local state or -1. */
static int settle(bool front, uint32_t local, uint32_t peer, int *steps)
{
	enum sk_xb_action a;
	int i;

	for (i = 0; i < 8; i++) {
		a = sk_xb_next(front, local, peer);
		if (a == SK_XB_NONE) {
			*steps = i;
			return (int)local;
		}
		local = sk_xb_target(front, a);
	}
	return -1;
}

static void test_handshake(void)
{
	/* backend probe: InitWait; frontend sees it and sets up */
	KTAP_EXPECT_EQ(sk_xb_next(FRONT, SK_XB_INITIALISING, SK_XB_INITWAIT),
		       SK_XB_SETUP);
	KTAP_EXPECT_EQ(sk_xb_next(BACK, SK_XB_INITWAIT, SK_XB_INITIALISED),
		       SK_XB_CONNECT);
	KTAP_EXPECT_EQ(sk_xb_next(FRONT, SK_XB_INITIALISED, SK_XB_CONNECTED),
		       SK_XB_CONNECT);
	KTAP_EXPECT_EQ(sk_xb_next(BACK, SK_XB_CONNECTED, SK_XB_CONNECTED),
		       SK_XB_NONE);
	/* frontend-initiated close */
	KTAP_EXPECT_EQ(sk_xb_next(BACK, SK_XB_CONNECTED, SK_XB_CLOSING),
		       SK_XB_DISCONNECT);
	KTAP_EXPECT_EQ(sk_xb_next(BACK, SK_XB_CLOSING, SK_XB_CLOSED),
		       SK_XB_CLOSE);
	/* backend-initiated close */
	KTAP_EXPECT_EQ(sk_xb_next(FRONT, SK_XB_CONNECTED, SK_XB_CLOSING),
		       SK_XB_CLOSE);
	KTAP_EXPECT_EQ(sk_xb_target(FRONT, SK_XB_SETUP), SK_XB_INITIALISED);
	KTAP_EXPECT_EQ(sk_xb_target(BACK, SK_XB_RESET), SK_XB_INITWAIT);
	KTAP_EXPECT_EQ(sk_xb_target(FRONT, SK_XB_RESET), SK_XB_INITIALISING);
}

static void test_repeated_events(void)
{
	static const uint32_t pairs[][2] = {
		{ SK_XB_INITIALISED, SK_XB_INITWAIT },
		{ SK_XB_CONNECTED, SK_XB_CONNECTED },
		{ SK_XB_CLOSED, SK_XB_CLOSED },
		{ SK_XB_INITIALISING, SK_XB_UNKNOWN },
		{ SK_XB_INITIALISING, SK_XB_INITIALISING },
	};
	size_t i;

	for (i = 0; i < KTAP_ARRAY_SIZE(pairs); i++)
		KTAP_EXPECT_EQ(sk_xb_next(FRONT, pairs[i][0], pairs[i][1]),
			       SK_XB_NONE);
	KTAP_EXPECT_EQ(sk_xb_next(BACK, SK_XB_INITWAIT, SK_XB_INITIALISING),
		       SK_XB_NONE);
	KTAP_EXPECT_EQ(sk_xb_next(BACK, SK_XB_CONNECTED, SK_XB_INITIALISED),
		       SK_XB_NONE);
	KTAP_EXPECT_EQ(sk_xb_next(BACK, SK_XB_CLOSING, SK_XB_CLOSING),
		       SK_XB_NONE);
}

static void test_skipped_states(void)
{
	int steps, st;

	/* we published rings, missed InitWait, backend is Connected */
	st = settle(FRONT, SK_XB_INITIALISED, SK_XB_CONNECTED, &steps);
	KTAP_EXPECT_EQ(st, SK_XB_CONNECTED);
	KTAP_EXPECT_EQ(steps, 1);
	/* frontend Initialised before our probe reached InitWait */
	st = settle(BACK, SK_XB_INITIALISING, SK_XB_INITIALISED, &steps);
	KTAP_EXPECT_EQ(st, SK_XB_CONNECTED);
	/* backend's InitWait missed, frontend saw it Connected: connect */
	st = settle(FRONT, SK_XB_INITIALISED, SK_XB_CONNECTED, &steps);
	KTAP_EXPECT_EQ(st, SK_XB_CONNECTED);
	/* frontend went straight to Closed: backend closes, no Closing */
	st = settle(BACK, SK_XB_CONNECTED, SK_XB_CLOSED, &steps);
	KTAP_EXPECT_EQ(st, SK_XB_CLOSED);
	KTAP_EXPECT_EQ(steps, 1);
}

static void test_restart(void)
{
	int steps, st;

	/* backend reloaded under a connected frontend */
	st = settle(FRONT, SK_XB_CONNECTED, SK_XB_INITWAIT, &steps);
	KTAP_EXPECT_EQ(st, SK_XB_INITIALISED);
	KTAP_EXPECT_EQ(steps, 3);	/* close, reset, setup */
	/* frontend reconnects after a close */
	st = settle(BACK, SK_XB_CLOSED, SK_XB_INITIALISING, &steps);
	KTAP_EXPECT_EQ(st, SK_XB_INITWAIT);
	st = settle(BACK, SK_XB_CLOSED, SK_XB_INITIALISED, &steps);
	KTAP_EXPECT_EQ(st, SK_XB_CONNECTED);
	/* peer vanished (its XenStore directory is gone) */
	st = settle(BACK, SK_XB_CONNECTED, SK_XB_UNKNOWN, &steps);
	KTAP_EXPECT_EQ(st, SK_XB_CLOSED);
	st = settle(FRONT, SK_XB_CONNECTED, SK_XB_UNKNOWN, &steps);
	KTAP_EXPECT_EQ(st, SK_XB_CLOSED);
	/*
	 * a paused guest destroyed before its frontend ever ran: the
	 * backend, still waiting, says Closed at once (libxl waits 10 s
	 * for that otherwise)
	 */
	st = settle(BACK, SK_XB_INITWAIT, SK_XB_UNKNOWN, &steps);
	KTAP_EXPECT_EQ(st, SK_XB_CLOSED);
	KTAP_EXPECT_EQ(steps, 1);
	/* ... and a frontend that comes back resets it */
	st = settle(BACK, SK_XB_CLOSED, SK_XB_INITIALISING, &steps);
	KTAP_EXPECT_EQ(st, SK_XB_INITWAIT);
}

/* One step of a story between the two ends, and what it must give. */
struct xb_step {
	enum { NEXT, SETTLE } check;	/* sk_xb_next(), or settle()'s end */
	bool front;
	u32 local, peer;
	int want;			/* the action, or the settled state */
};

static void walk_steps(const struct xb_step *s, size_t n)
{
	int got, steps;
	size_t i;

	for (i = 0; i < n; i++) {
		if (s[i].check == SETTLE)
			got = settle(s[i].front, s[i].local, s[i].peer, &steps);
		else
			got = sk_xb_next(s[i].front, s[i].local, s[i].peer);
		if (got != s[i].want)
			ktap_fail_at(__FILE__, __LINE__,
				     "step %zu: %s %s, local %u, peer %u: %d, expected %d",
				     i, s[i].check == SETTLE ? "settle" : "next",
				     s[i].front ? "frontend" : "backend",
				     s[i].local, s[i].peer, got, s[i].want);
	}
}

/*
 * An end rebound faster than its peer notices sees the peer still
 * Connected from the earlier connection: it must wait, never set up or map
 * against those stale rings.
 */
static void test_stale_connected_peer(void)
{
	static const struct xb_step s[] = {
		/* frontend rebound: backend still Connected to the old rings */
		{ NEXT, FRONT, SK_XB_INITIALISING, SK_XB_CONNECTED, SK_XB_NONE },
		{ NEXT, FRONT, SK_XB_CLOSED, SK_XB_CONNECTED, SK_XB_NONE },
		/* the backend then sees the frontend starting over */
		{ SETTLE, BACK, SK_XB_CONNECTED, SK_XB_INITIALISING,
		  SK_XB_INITWAIT },
		{ NEXT, FRONT, SK_XB_INITIALISING, SK_XB_INITWAIT, SK_XB_SETUP },
		/* backend rebound: frontend still Connected to the old backend */
		{ NEXT, BACK, SK_XB_INITWAIT, SK_XB_CONNECTED, SK_XB_NONE },
		{ SETTLE, BACK, SK_XB_CLOSED, SK_XB_CONNECTED, SK_XB_INITWAIT },
		/* the frontend then sees InitWait: close, reset, set up anew */
		{ SETTLE, FRONT, SK_XB_CONNECTED, SK_XB_INITWAIT,
		  SK_XB_INITIALISED },
		{ NEXT, BACK, SK_XB_INITWAIT, SK_XB_INITIALISED, SK_XB_CONNECT },
	};

	walk_steps(s, KTAP_ARRAY_SIZE(s));
}

/*
 * A rebound end starts in its initial state while its peer is Closed from
 * the earlier connection.  It must wait for the peer to notice it; closing
 * as well would leave both ends Closed for good.
 */
static void test_rebind_against_closed_peer(void)
{
	static const struct xb_step s[] = {
		/* backend rebound (InitWait), frontend Closed */
		{ NEXT, BACK, SK_XB_INITWAIT, SK_XB_CLOSED, SK_XB_NONE },
		{ NEXT, BACK, SK_XB_INITWAIT, SK_XB_CLOSING, SK_XB_NONE },
		{ SETTLE, FRONT, SK_XB_CLOSED, SK_XB_INITWAIT,
		  SK_XB_INITIALISED },
		/* frontend rebound (Initialising), backend Closed */
		{ NEXT, FRONT, SK_XB_INITIALISING, SK_XB_CLOSED, SK_XB_NONE },
		{ NEXT, FRONT, SK_XB_INITIALISING, SK_XB_CLOSING, SK_XB_NONE },
		{ SETTLE, BACK, SK_XB_CLOSED, SK_XB_INITIALISING,
		  SK_XB_INITWAIT },
		/* a live end still closes when its peer does */
		{ NEXT, BACK, SK_XB_CONNECTED, SK_XB_CLOSED, SK_XB_CLOSE },
		{ NEXT, FRONT, SK_XB_INITIALISED, SK_XB_CLOSED, SK_XB_CLOSE },
	};

	walk_steps(s, KTAP_ARRAY_SIZE(s));
}

static void test_garbage_peer_state(void)
{
	static const uint32_t bad[] = { 9, 42, 0x7fffffff, 0xffffffffu };
	size_t i;

	for (i = 0; i < KTAP_ARRAY_SIZE(bad); i++) {
		KTAP_EXPECT_EQ(sk_xb_next(FRONT, SK_XB_CONNECTED, bad[i]),
			       SK_XB_CLOSE);
		KTAP_EXPECT_EQ(sk_xb_next(BACK, SK_XB_CONNECTED, bad[i]),
			       SK_XB_CLOSE);
		KTAP_EXPECT_EQ(sk_xb_next(BACK, SK_XB_CLOSED, bad[i]),
			       SK_XB_NONE);
	}
	KTAP_EXPECT_EQ(sk_xb_next(FRONT, 99, SK_XB_CONNECTED), SK_XB_CLOSE);
}

static void test_always_settles(void)
{
	uint32_t local, peer;
	int steps, st;
	bool front;

	for (front = false; ; front = true) {
		for (local = 0; local < SK_XB_NR_STATES; local++)
			for (peer = 0; peer < SK_XB_NR_STATES + 2; peer++) {
				st = settle(front, local, peer, &steps);
				KTAP_EXPECT(st >= 0);
				KTAP_EXPECT(steps <= 3);
			}
		if (front)
			break;
	}
}

/* Reconfiguring / Reconfigured on a live connection, from either end. */
static void test_reconfigure(void)
{
	static const struct {
		bool front;
		u32 local, peer;
		enum sk_xb_action act;
		u32 next;
	} t[] = {
		/* the backend reconfigures: the frontend adapts */
		{ FRONT, SK_XB_CONNECTED, SK_XB_RECONFIGURING,
		  SK_XB_RECONFIGURE, SK_XB_RECONFIGURED },
		{ BACK, SK_XB_RECONFIGURING, SK_XB_RECONFIGURED,
		  SK_XB_RECONNECT, SK_XB_CONNECTED },
		{ FRONT, SK_XB_RECONFIGURED, SK_XB_RECONFIGURING, SK_XB_NONE,
		  0 },
		{ FRONT, SK_XB_RECONFIGURED, SK_XB_CONNECTED, SK_XB_RECONNECT,
		  SK_XB_CONNECTED },
		/* the frontend reconfigures: the backend adapts */
		{ BACK, SK_XB_CONNECTED, SK_XB_RECONFIGURING,
		  SK_XB_RECONFIGURE, SK_XB_RECONFIGURED },
		{ FRONT, SK_XB_RECONFIGURING, SK_XB_RECONFIGURED,
		  SK_XB_RECONNECT, SK_XB_CONNECTED },
		{ BACK, SK_XB_RECONFIGURED, SK_XB_CONNECTED, SK_XB_RECONNECT,
		  SK_XB_CONNECTED },
		/* the initiator waits for the peer */
		{ BACK, SK_XB_RECONFIGURING, SK_XB_CONNECTED, SK_XB_NONE, 0 },
		/* only a live connection reconfigures */
		{ FRONT, SK_XB_INITIALISED, SK_XB_RECONFIGURING, SK_XB_NONE,
		  0 },
		{ BACK, SK_XB_INITWAIT, SK_XB_RECONFIGURING, SK_XB_NONE, 0 },
		/* a peer that closes mid-way closes us too */
		{ FRONT, SK_XB_RECONFIGURED, SK_XB_CLOSING, SK_XB_CLOSE,
		  SK_XB_CLOSED },
		{ BACK, SK_XB_RECONFIGURING, SK_XB_CLOSING, SK_XB_DISCONNECT,
		  SK_XB_CLOSING },
		{ FRONT, SK_XB_RECONFIGURING, SK_XB_UNKNOWN, SK_XB_CLOSE,
		  SK_XB_CLOSED },
	};
	size_t i;

	for (i = 0; i < KTAP_ARRAY_SIZE(t); i++) {
		enum sk_xb_action a = sk_xb_next(t[i].front, t[i].local,
						 t[i].peer);

		if (a != t[i].act)
			ktap_fail_at(__FILE__, __LINE__,
				     "row %zu: action %d, expected %d", i, a,
				     t[i].act);
		else if (a != SK_XB_NONE &&
			 sk_xb_target(t[i].front, a) != t[i].next)
			ktap_fail_at(__FILE__, __LINE__,
				     "row %zu: state %d, expected %u", i,
				     sk_xb_target(t[i].front, a), t[i].next);
	}
}

static const struct ktap_case cases[] = {
	KTAP_CASE(test_handshake),
	KTAP_CASE(test_repeated_events),
	KTAP_CASE(test_skipped_states),
	KTAP_CASE(test_restart),
	KTAP_CASE(test_stale_connected_peer),
	KTAP_CASE(test_rebind_against_closed_peer),
	KTAP_CASE(test_garbage_peer_state),
	KTAP_CASE(test_always_settles),
	KTAP_CASE(test_reconfigure),
};

KTAP_MAIN(cases)
