// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests of splitkit_negotiate's state machines (negotiate/core/
 * state.c).  dom0's table is checked cell by cell against the table
 * Documentation/negotiate.rst prints; then stories as step tables, each
 * step an event with its input and the state, action and published
 * values expected after it: request, offers, select, applied; stale
 * selections (an old generation, a generation from before a reload of
 * dom0's module) never applied; a replayed or older request-gen; a guest
 * and a dom0 renegotiation; timeouts with and without an agreement; a
 * request nothing fits; the guest vanishing from every state.  Last, the
 * guest's table and its staleness checks.
 */
#include "ktap.h"
#include "negotiate_core.h"

#define R(str)	{ (str), (str) ? strlen(str) : 0 }
#define MS	1000000ull

/* ---- dom0's table, as the document prints it ---- */

struct cell {
	u8 state, event, action, next;
};

#define C(s, e, a, n) { SKN_##s, SKN_EV_##e, SKN_ACT_##a, SKN_##n }

static const struct cell doc_table[] = {
	C(IDLE, REQUEST, OFFER, OFFERED),
	C(IDLE, SELECT, IGNORE, IDLE),
	C(IDLE, STALE, IGNORE, IDLE),
	C(IDLE, BAD, REPORT, IDLE),
	C(IDLE, CAPACITY, NONE, IDLE),
	C(IDLE, TIMEOUT, NONE, IDLE),
	C(IDLE, WITHDRAW, NONE, IDLE),
	C(IDLE, GONE, NONE, IDLE),
	C(OFFERED, REQUEST, OFFER, OFFERED),
	C(OFFERED, SELECT, APPLY, APPLIED),
	C(OFFERED, STALE, IGNORE, OFFERED),
	C(OFFERED, BAD, REPORT, OFFERED),
	C(OFFERED, CAPACITY, OFFER, OFFERED),
	C(OFFERED, TIMEOUT, EXPIRE, IDLE),
	C(OFFERED, WITHDRAW, EXPIRE, IDLE),
	C(OFFERED, GONE, EXPIRE, IDLE),
	C(APPLIED, REQUEST, OFFER, RENEG),
	C(APPLIED, SELECT, IGNORE, APPLIED),
	C(APPLIED, STALE, IGNORE, APPLIED),
	C(APPLIED, BAD, REPORT, APPLIED),
	C(APPLIED, CAPACITY, OFFER, RENEG),
	C(APPLIED, TIMEOUT, NONE, APPLIED),
	C(APPLIED, WITHDRAW, REVOKE, IDLE),
	C(APPLIED, GONE, REVOKE, IDLE),
	C(RENEG, REQUEST, OFFER, RENEG),
	C(RENEG, SELECT, APPLY, APPLIED),
	C(RENEG, STALE, IGNORE, RENEG),
	C(RENEG, BAD, REPORT, RENEG),
	C(RENEG, CAPACITY, OFFER, RENEG),
	C(RENEG, TIMEOUT, FALLBACK, APPLIED),
	C(RENEG, WITHDRAW, REVOKE, IDLE),
	C(RENEG, GONE, REVOKE, IDLE),
};

static void table_matches_document(void)
{
	bool seen[SKN_NR_STATES][SKN_NR_EVENTS] = { { false } };
	size_t i;
	u32 s, e;

	for (i = 0; i < KTAP_ARRAY_SIZE(doc_table); i++) {
		const struct cell *c = &doc_table[i];
		struct skn_step st = skn_back_step(c->state, c->event);

		if (st.action != c->action || st.next != c->next)
			ktap_fail_at(__FILE__, __LINE__,
				     "%s + %s: action %u next %s, want %u %s",
				     skn_state_name(c->state),
				     skn_event_name(c->event), st.action,
				     skn_state_name(st.next), c->action,
				     skn_state_name(c->next));
		seen[c->state][c->event] = true;
	}
	for (s = 0; s < SKN_NR_STATES; s++)
		for (e = 0; e < SKN_NR_EVENTS; e++)
			KTAP_EXPECT(seen[s][e]);
	/* out of range (a bug of ours) is harmless */
	KTAP_EXPECT_EQ(skn_back_step(SKN_NR_STATES, 0).action, SKN_ACT_IGNORE);
	KTAP_EXPECT_EQ(skn_back_step(0, 99).next, SKN_IDLE);
	KTAP_EXPECT(!strcmp(skn_state_name(SKN_RENEG), "renegotiating"));
	KTAP_EXPECT(!strcmp(skn_state_name(77), "?"));
	KTAP_EXPECT(!strcmp(skn_action_name(SKN_ACT_APPLY), "apply"));
	KTAP_EXPECT(!strcmp(skn_action_name(SKN_NR_ACTIONS), "?"));
	KTAP_EXPECT(!strcmp(skn_fevent_name(SKN_FE_APPLIED), "applied"));
	KTAP_EXPECT(!strcmp(skn_fevent_name(SKN_NR_FEVENTS), "?"));
}

/* ---- stories: a played guest against dom0's slot ---- */

/* What the guest writes, or what else happens, at one step. */
enum op {
	REQ,		/* slot-<n>/request: resource target min max gen */
	SEL,		/* select-gen, select */
	CAP,		/* dom0's capacity changed; @avail is this slot's */
	TICK,		/* time passes (@ms) and the deadline is checked */
	WDRAW,		/* the guest removed the slot */
	GONE,		/* the guest's end went away */
	RELOAD,		/* dom0's module reloaded: new slot, gen kept */
};

struct step {
	u8 op;
	const char *a, *b, *c, *d, *e;	/* raw values for REQ / SEL */
	u64 avail;			/* REQ, CAP, TICK: available */
	u64 ms;				/* TICK */
	/* expected after the step */
	int event;			/* -1: no event at all */
	u8 action;			/* decided (concrete) */
	u8 state;
	u32 offer_gen;
	u32 nr_offers;
	u64 applied;
	int err;
};

#define NOEV	-1
#define X(op)	op

static void run_story(const char *name, const struct step *steps, size_t n)
{
	struct skn_slot s;
	u64 now = 1000 * MS;
	size_t i;

	skn_slot_init(&s, 0);
	for (i = 0; i < n; i++) {
		const struct step *t = &steps[i];
		struct skn_input in = { .available = t->avail };
		struct skn_decision d = { .action = SKN_ACT_NONE,
					  .next = s.state };
		struct skn_request req;
		const char *what;
		int event = NOEV, r;
		u32 sel = 0;

		switch (t->op) {
		case REQ: {
			struct skn_raw_request raw = {
				R(t->a), R(t->b), R(t->c), R(t->d), R(t->e),
			};

			r = skn_classify_request(&s, &raw, &req, &what);
			if (r < 0) {
				event = SKN_EV_BAD;
				in.err = r;
			} else if (r == SKN_MSG_NEW) {
				event = SKN_EV_REQUEST;
				in.req = &req;
			}
			break;
		}
		case SEL: {
			struct skn_raw g = R(t->a), x = R(t->b);

			r = skn_classify_select(&s, &g, &x, &sel, &what);
			if (r < 0) {
				event = SKN_EV_BAD;
				in.err = r;
			} else if (r == SKN_MSG_NEW) {
				event = SKN_EV_SELECT;
				in.select = sel;
			} else if (r == SKN_MSG_STALE) {
				event = SKN_EV_STALE;
			}
			break;
		}
		case CAP:
			event = SKN_EV_CAPACITY;
			break;
		case TICK:
			now += t->ms * MS;
			if (skn_slot_expired(&s, now))
				event = SKN_EV_TIMEOUT;
			break;
		case WDRAW:
			event = SKN_EV_WITHDRAW;
			break;
		case GONE:
			event = SKN_EV_GONE;
			break;
		case RELOAD:
			skn_slot_init(&s, s.offers.gen);
			break;
		}
		if (event != NOEV) {
			skn_back_decide(&s, event, &in, &d);
			skn_back_commit(&s, &d, now, 30000);
		}
		if (event != t->event || (event != NOEV &&
					  (d.action != t->action ||
					   d.err != t->err)) ||
		    s.state != t->state || s.offers.gen != t->offer_gen ||
		    s.offers.n != t->nr_offers ||
		    skn_slot_held(&s) != t->applied)
			ktap_fail_at(__FILE__, __LINE__,
				     "%s step %zu: event %s action %u err %d -> %s gen %u n %u held %llu",
				     name, i,
				     event == NOEV ? "none" :
				     skn_event_name((u32)event),
				     d.action, d.err, skn_state_name(s.state),
				     s.offers.gen, s.offers.n,
				     (unsigned long long)skn_slot_held(&s));
	}
}

#define STORY(steps)	run_story(__func__, steps, KTAP_ARRAY_SIZE(steps))
#define A(x)		SKN_ACT_##x
#define ST(x)		SKN_##x

static void request_offer_select_apply(void)
{
	static const struct step s[] = {
		{ REQ, "blk.iops", "51712", "100", "800", "1", .avail = 1000,
		  .event = SKN_EV_REQUEST, .action = A(OFFER),
		  .state = ST(OFFERED), .offer_gen = 1, .nr_offers = 4 },
		/* the watch fires again for the same request: nothing */
		{ REQ, "blk.iops", "51712", "100", "800", "1", .avail = 1000,
		  .event = NOEV, .state = ST(OFFERED), .offer_gen = 1,
		  .nr_offers = 4 },
		{ SEL, "1", "1", .event = SKN_EV_SELECT, .action = A(APPLY),
		  .state = ST(APPLIED), .offer_gen = 1, .applied = 600 },
		/* the selection seen again after it was applied: nothing */
		{ SEL, "1", "1", .event = NOEV, .state = ST(APPLIED),
		  .offer_gen = 1, .applied = 600 },
		/* withdrawn: revoked */
		{ WDRAW, .event = SKN_EV_WITHDRAW, .action = A(REVOKE),
		  .state = ST(IDLE), .offer_gen = 1 },
	};

	STORY(s);
}

static void stale_selections_never_applied(void)
{
	static const struct step s[] = {
		{ REQ, "blk.iops", "1", "100", "800", "1", .avail = 1000,
		  .event = SKN_EV_REQUEST, .action = A(OFFER),
		  .state = ST(OFFERED), .offer_gen = 1, .nr_offers = 4 },
		/* a newer request crosses the guest's selection */
		{ REQ, "blk.iops", "1", "250", "400", "2", .avail = 1000,
		  .event = SKN_EV_REQUEST, .action = A(OFFER),
		  .state = ST(OFFERED), .offer_gen = 2, .nr_offers = 2 },
		{ SEL, "1", "0", .event = SKN_EV_STALE, .action = A(IGNORE),
		  .state = ST(OFFERED), .offer_gen = 2, .nr_offers = 2 },
		/* a generation dom0 never published */
		{ SEL, "9", "0", .event = SKN_EV_STALE, .action = A(IGNORE),
		  .state = ST(OFFERED), .offer_gen = 2, .nr_offers = 2 },
		/* an index beyond the offers of the current generation */
		{ SEL, "2", "3", .event = SKN_EV_BAD, .action = A(REPORT),
		  .state = ST(OFFERED), .offer_gen = 2, .nr_offers = 2,
		  .err = -ERANGE },
		{ SEL, "2", "0", .event = SKN_EV_SELECT, .action = A(APPLY),
		  .state = ST(APPLIED), .offer_gen = 2, .applied = 400 },
		/* a selection while no offers stand */
		{ SEL, "3", "0", .event = SKN_EV_STALE, .action = A(IGNORE),
		  .state = ST(APPLIED), .offer_gen = 2, .applied = 400 },
	};

	STORY(s);
}

static void reload_keeps_generations(void)
{
	static const struct step s[] = {
		{ REQ, "blk.iops", "1", "100", "800", "5", .avail = 1000,
		  .event = SKN_EV_REQUEST, .action = A(OFFER),
		  .state = ST(OFFERED), .offer_gen = 1, .nr_offers = 4 },
		{ RELOAD, .event = NOEV, .state = ST(IDLE), .offer_gen = 1 },
		/* the standing request is answered again, a new generation */
		{ REQ, "blk.iops", "1", "100", "800", "5", .avail = 1000,
		  .event = SKN_EV_REQUEST, .action = A(OFFER),
		  .state = ST(OFFERED), .offer_gen = 2, .nr_offers = 4 },
		/* the selection made for the old module's offers */
		{ SEL, "1", "0", .event = SKN_EV_STALE, .action = A(IGNORE),
		  .state = ST(OFFERED), .offer_gen = 2, .nr_offers = 4 },
		{ SEL, "2", "0", .event = SKN_EV_SELECT, .action = A(APPLY),
		  .state = ST(APPLIED), .offer_gen = 2, .applied = 800 },
	};

	STORY(s);
}

static void request_generations(void)
{
	static const struct step s[] = {
		{ REQ, "blk.iops", "1", "100", "800", "7", .avail = 1000,
		  .event = SKN_EV_REQUEST, .action = A(OFFER),
		  .state = ST(OFFERED), .offer_gen = 1, .nr_offers = 4 },
		/* an older request-gen is a replay */
		{ REQ, "blk.iops", "1", "100", "900", "6", .avail = 1000,
		  .event = SKN_EV_BAD, .action = A(REPORT),
		  .state = ST(OFFERED), .offer_gen = 1, .nr_offers = 4,
		  .err = -ESTALE },
		/* garbage with the same gen is bad, not "nothing new" */
		{ REQ, "blk.iops", "1", "100", "-800", "7", .avail = 1000,
		  .event = SKN_EV_BAD, .action = A(REPORT),
		  .state = ST(OFFERED), .offer_gen = 1, .nr_offers = 4,
		  .err = -EINVAL },
		{ REQ, "blk.iops", "1", "100", "800", "8", .avail = 1000,
		  .event = SKN_EV_REQUEST, .action = A(OFFER),
		  .state = ST(OFFERED), .offer_gen = 2, .nr_offers = 4 },
	};

	STORY(s);
}

static void guest_renegotiates_upward(void)
{
	static const struct step s[] = {
		{ REQ, "blk.iops", "1", "100", "200", "1", .avail = 1000,
		  .event = SKN_EV_REQUEST, .action = A(OFFER),
		  .state = ST(OFFERED), .offer_gen = 1, .nr_offers = 3 },
		{ SEL, "1", "0", .event = SKN_EV_SELECT, .action = A(APPLY),
		  .state = ST(APPLIED), .offer_gen = 1, .applied = 200 },
		/* more, please: the agreement holds while renegotiating */
		{ REQ, "blk.iops", "1", "300", "900", "2", .avail = 1000,
		  .event = SKN_EV_REQUEST, .action = A(OFFER),
		  .state = ST(RENEG), .offer_gen = 2, .nr_offers = 3,
		  .applied = 200 },
		{ SEL, "2", "0", .event = SKN_EV_SELECT, .action = A(APPLY),
		  .state = ST(APPLIED), .offer_gen = 2, .applied = 900 },
	};

	STORY(s);
}

static void dom0_lowers_capacity(void)
{
	static const struct step s[] = {
		{ REQ, "blk.iops", "1", "100", "800", "1", .avail = 1000,
		  .event = SKN_EV_REQUEST, .action = A(OFFER),
		  .state = ST(OFFERED), .offer_gen = 1, .nr_offers = 4 },
		{ SEL, "1", "0", .event = SKN_EV_SELECT, .action = A(APPLY),
		  .state = ST(APPLIED), .offer_gen = 1, .applied = 800 },
		{ CAP, .avail = 500, .event = SKN_EV_CAPACITY,
		  .action = A(OFFER), .state = ST(RENEG), .offer_gen = 2,
		  .nr_offers = 4, .applied = 800 },
		{ SEL, "2", "1", .event = SKN_EV_SELECT, .action = A(APPLY),
		  .state = ST(APPLIED), .offer_gen = 2, .applied = 375 },
		/* below the guest's minimum: nothing fits, revoked */
		{ CAP, .avail = 50, .event = SKN_EV_CAPACITY,
		  .action = A(REVOKE), .state = ST(IDLE), .offer_gen = 3,
		  .err = -ENOSPC },
	};

	STORY(s);
}

static void renegotiation_timeouts(void)
{
	static const struct step s[] = {
		{ REQ, "blk.iops", "1", "100", "800", "1", .avail = 1000,
		  .event = SKN_EV_REQUEST, .action = A(OFFER),
		  .state = ST(OFFERED), .offer_gen = 1, .nr_offers = 4 },
		{ SEL, "1", "0", .event = SKN_EV_SELECT, .action = A(APPLY),
		  .state = ST(APPLIED), .offer_gen = 1, .applied = 800 },
		/* the guest asks for more, then falls silent */
		{ REQ, "blk.iops", "1", "100", "900", "2", .avail = 1000,
		  .event = SKN_EV_REQUEST, .action = A(OFFER),
		  .state = ST(RENEG), .offer_gen = 2, .nr_offers = 4,
		  .applied = 800 },
		{ TICK, .avail = 1000, .ms = 29999, .event = NOEV,
		  .state = ST(RENEG), .offer_gen = 2, .nr_offers = 4,
		  .applied = 800 },
		/* the old agreement still fits: kept */
		{ TICK, .avail = 1000, .ms = 1, .event = SKN_EV_TIMEOUT,
		  .action = A(NONE), .state = ST(APPLIED), .offer_gen = 2,
		  .applied = 800 },
		/* dom0 lowers capacity, the guest does not answer */
		{ CAP, .avail = 600, .event = SKN_EV_CAPACITY,
		  .action = A(OFFER), .state = ST(RENEG), .offer_gen = 3,
		  .nr_offers = 4, .applied = 800 },
		/* the largest offer is applied */
		{ TICK, .avail = 600, .ms = 30000, .event = SKN_EV_TIMEOUT,
		  .action = A(APPLY), .state = ST(APPLIED), .offer_gen = 3,
		  .applied = 600 },
		{ CAP, .avail = 400, .event = SKN_EV_CAPACITY,
		  .action = A(OFFER), .state = ST(RENEG), .offer_gen = 4,
		  .nr_offers = 4, .applied = 600 },
		/* by the deadline even that no longer fits: revoked */
		{ TICK, .avail = 300, .ms = 30000, .event = SKN_EV_TIMEOUT,
		  .action = A(REVOKE), .state = ST(IDLE), .offer_gen = 4 },
	};

	STORY(s);
}

static void offers_expire(void)
{
	static const struct step s[] = {
		{ REQ, "blk.iops", "1", "100", "800", "1", .avail = 1000,
		  .event = SKN_EV_REQUEST, .action = A(OFFER),
		  .state = ST(OFFERED), .offer_gen = 1, .nr_offers = 4 },
		{ TICK, .ms = 30000, .event = SKN_EV_TIMEOUT,
		  .action = A(EXPIRE), .state = ST(IDLE), .offer_gen = 1 },
		/* the late selection is stale */
		{ SEL, "1", "0", .event = SKN_EV_STALE, .action = A(IGNORE),
		  .state = ST(IDLE), .offer_gen = 1 },
		/* nothing more happens by itself */
		{ TICK, .ms = 90000, .event = NOEV, .state = ST(IDLE),
		  .offer_gen = 1 },
	};

	STORY(s);
}

static void nothing_fits(void)
{
	static const struct step s[] = {
		/* refused with an empty answer of a new generation */
		{ REQ, "blk.iops", "1", "600", "800", "1", .avail = 500,
		  .event = SKN_EV_REQUEST, .action = A(EXPIRE),
		  .state = ST(IDLE), .offer_gen = 1, .err = -ENOSPC },
		/* and not answered again */
		{ REQ, "blk.iops", "1", "600", "800", "1", .avail = 5000,
		  .event = NOEV, .state = ST(IDLE), .offer_gen = 1 },
		{ REQ, "blk.iops", "1", "500", "800", "2", .avail = 500,
		  .event = SKN_EV_REQUEST, .action = A(OFFER),
		  .state = ST(OFFERED), .offer_gen = 2, .nr_offers = 1 },
	};

	STORY(s);
}

static void guest_gone_everywhere(void)
{
	static const struct step from_offered[] = {
		{ REQ, "blk.iops", "1", "100", "800", "1", .avail = 1000,
		  .event = SKN_EV_REQUEST, .action = A(OFFER),
		  .state = ST(OFFERED), .offer_gen = 1, .nr_offers = 4 },
		{ GONE, .event = SKN_EV_GONE, .action = A(EXPIRE),
		  .state = ST(IDLE), .offer_gen = 1 },
	};
	static const struct step from_reneg[] = {
		{ REQ, "blk.iops", "1", "100", "800", "1", .avail = 1000,
		  .event = SKN_EV_REQUEST, .action = A(OFFER),
		  .state = ST(OFFERED), .offer_gen = 1, .nr_offers = 4 },
		{ SEL, "1", "3", .event = SKN_EV_SELECT, .action = A(APPLY),
		  .state = ST(APPLIED), .offer_gen = 1, .applied = 200 },
		{ CAP, .avail = 150, .event = SKN_EV_CAPACITY,
		  .action = A(OFFER), .state = ST(RENEG), .offer_gen = 2,
		  .nr_offers = 2, .applied = 200 },
		{ GONE, .event = SKN_EV_GONE, .action = A(REVOKE),
		  .state = ST(IDLE), .offer_gen = 2 },
		/* the guest comes back and starts over at gen 1 */
		{ REQ, "blk.iops", "1", "100", "800", "1", .avail = 1000,
		  .event = SKN_EV_REQUEST, .action = A(OFFER),
		  .state = ST(OFFERED), .offer_gen = 3, .nr_offers = 4 },
	};

	STORY(from_offered);
	STORY(from_reneg);
}

/* Every state and event, with any input, ends in a valid state. */
static void every_cell_settles(void)
{
	static const u64 avails[] = { 0, 99, 100, 450, 1000, ~0ull };
	struct skn_request req = { .provider = SKN_P_BLK_IOPS, .min = 100,
				   .max = 800, .gen = 3 };
	u32 st, ev, sel;
	size_t a;

	for (st = 0; st < SKN_NR_STATES; st++)
		for (ev = 0; ev < SKN_NR_EVENTS; ev++)
			for (a = 0; a < KTAP_ARRAY_SIZE(avails); a++)
				for (sel = 0; sel < 5; sel++) {
					struct skn_slot s;
					struct skn_decision d;
					struct skn_input in = {
						.req = &req, .select = sel,
						.available = avails[a],
					};

					skn_slot_init(&s, 10);
					s.state = st;
					s.req = req;
					/* offers stand only where they can */
					s.offers.n = st == SKN_OFFERED ||
						     st == SKN_RENEG ? 2 : 0;
					s.offers.v[0] = 500;
					s.offers.v[1] = 300;
					s.applied = st >= SKN_APPLIED ? 400 : 0;
					skn_back_decide(&s, ev, &in, &d);
					KTAP_EXPECT(d.action != SKN_ACT_FALLBACK);
					KTAP_EXPECT(d.action < SKN_NR_ACTIONS);
					skn_back_commit(&s, &d, 0, 1000);
					KTAP_EXPECT(s.state < SKN_NR_STATES);
					KTAP_EXPECT(s.offers.n <= SKN_MAX_OFFERS);
					KTAP_EXPECT(s.offers.gen >= 10);
					if (s.state == SKN_IDLE)
						KTAP_EXPECT(!skn_slot_held(&s) &&
							    !s.offers.n);
					if (s.state == SKN_APPLIED)
						KTAP_EXPECT(!s.offers.n);
					if (d.action == SKN_ACT_APPLY)
						KTAP_EXPECT(s.applied >= 100 &&
							    s.applied <= 800);
				}
}

/* ---- the guest ---- */

struct fcell {
	u8 state, event, action, next;
};

#define FC(s, e, a, n) { SKN_F_##s, SKN_FE_##e, SKN_FA_##a, SKN_F_##n }

static const struct fcell front_rows[] = {
	FC(IDLE, REQUEST, SEND_REQUEST, REQUESTED),
	FC(IDLE, SELECT, REFUSE, IDLE),
	FC(REQUESTED, OFFERS, RECORD, OFFERED),
	FC(REQUESTED, REFUSED, RESET, IDLE),
	FC(REQUESTED, TIMEOUT, RESET, IDLE),
	FC(REQUESTED, GONE, NONE, REQUESTED),
	FC(OFFERED, SELECT, SEND_SELECT, SELECTED),
	FC(SELECTED, OFFERS, RECORD, OFFERED),
	FC(SELECTED, APPLIED, RECORD, APPLIED),
	FC(APPLIED, OFFERS, RECORD, OFFERED),
	/* a revoke while connected: capacity gone, or a fallback's */
	FC(APPLIED, REVOKED, RESET, IDLE),
	FC(OFFERED, REVOKED, RESET, IDLE),
	FC(SELECTED, REVOKED, RESET, IDLE),
	FC(IDLE, REVOKED, NONE, IDLE),
	/* dom0's end gone: the request stands */
	FC(OFFERED, GONE, RESET, REQUESTED),
	FC(SELECTED, GONE, RESET, REQUESTED),
	FC(APPLIED, GONE, RESET, REQUESTED),
	FC(APPLIED, SELECT, REFUSE, APPLIED),
};

static void front_table(void)
{
	size_t i;

	for (i = 0; i < KTAP_ARRAY_SIZE(front_rows); i++) {
		const struct fcell *c = &front_rows[i];
		struct skn_step st = skn_front_step(c->state, c->event);

		if (st.action != c->action || st.next != c->next)
			ktap_fail_at(__FILE__, __LINE__, "row %zu: %u %u",
				     i, st.action, st.next);
	}
	KTAP_EXPECT_EQ(skn_front_step(SKN_F_NR_STATES, 0).next, SKN_F_IDLE);
	KTAP_EXPECT(!strcmp(skn_fstate_name(SKN_F_SELECTED), "selected"));
}

static void front_staleness(void)
{
	struct skn_fslot f = { .state = SKN_F_REQUESTED };
	struct skn_offers o = { .gen = 4, .for_gen = 2, .n = 2 };

	f.req.gen = 3;
	f.offers.gen = 3;
	/* offers for an older request of ours */
	KTAP_EXPECT_EQ(skn_front_offers_event(&f, &o), -1);
	o.for_gen = 3;
	KTAP_EXPECT_EQ(skn_front_offers_event(&f, &o), SKN_FE_OFFERS);
	/* a generation already seen (or older) */
	o.gen = 3;
	KTAP_EXPECT_EQ(skn_front_offers_event(&f, &o), -1);
	o.gen = 5;
	o.n = 0;
	KTAP_EXPECT_EQ(skn_front_offers_event(&f, &o), SKN_FE_REFUSED);
	/* applied */
	KTAP_EXPECT_EQ(skn_front_applied_event(&f, 0, 0), -1);
	KTAP_EXPECT_EQ(skn_front_applied_event(&f, 300, 4), SKN_FE_APPLIED);
	f.applied = 300;
	f.applied_gen = 4;
	KTAP_EXPECT_EQ(skn_front_applied_event(&f, 300, 4), -1);
	KTAP_EXPECT_EQ(skn_front_applied_event(&f, 200, 3), -1);
	KTAP_EXPECT_EQ(skn_front_applied_event(&f, 200, 6), SKN_FE_APPLIED);
	KTAP_EXPECT_EQ(skn_front_applied_event(&f, 0, 0), SKN_FE_REVOKED);
}

/* One agreement per (resource, target) per guest; a slot in use keeps its. */
static void request_conflicts(void)
{
	struct skn_slot slots[3];
	struct skn_request iops = { .provider = SKN_P_BLK_IOPS, .target = 51712 };
	struct skn_request iops2 = iops, bw = iops, mem = { .provider = SKN_P_MEMORY };
	const char *what = NULL;
	u32 n;

	iops2.target = 51728;
	bw.provider = SKN_P_BLK_BW;
	for (n = 0; n < 3; n++)
		skn_slot_init(&slots[n], 0);
	/* all idle: anything goes */
	KTAP_EXPECT_EQ(skn_request_conflict(slots, 3, 1, &iops, &what), 0);
	slots[0].state = SKN_APPLIED;
	slots[0].req = iops;
	/* slot 0 renegotiates its own: fine */
	KTAP_EXPECT_EQ(skn_request_conflict(slots, 3, 0, &iops, &what), 0);
	/* slot 0 turned to another resource or disk: withdraw first */
	KTAP_EXPECT_EQ(skn_request_conflict(slots, 3, 0, &bw, &what), -EBUSY);
	KTAP_EXPECT_EQ(skn_request_conflict(slots, 3, 0, &iops2, &what), -EBUSY);
	KTAP_EXPECT_EQ(skn_request_conflict(slots, 3, 0, &mem, &what), -EBUSY);
	/* another slot for the same disk's IOPS: refused, with a reason */
	what = NULL;
	KTAP_EXPECT_EQ(skn_request_conflict(slots, 3, 1, &iops, &what), -EBUSY);
	KTAP_EXPECT(what != NULL);
	/* the same disk's bandwidth, another disk, memory: fine */
	KTAP_EXPECT_EQ(skn_request_conflict(slots, 3, 1, &bw, &what), 0);
	KTAP_EXPECT_EQ(skn_request_conflict(slots, 3, 1, &iops2, &what), 0);
	KTAP_EXPECT_EQ(skn_request_conflict(slots, 3, 2, &mem, &what), 0);
	/* two memory slots: the second refused while the first is in use */
	slots[2].state = SKN_OFFERED;
	slots[2].req = mem;
	KTAP_EXPECT_EQ(skn_request_conflict(slots, 3, 1, &mem, &what), -EBUSY);
	/* an idle slot holds nothing */
	slots[2].state = SKN_IDLE;
	KTAP_EXPECT_EQ(skn_request_conflict(slots, 3, 1, &mem, &what), 0);
}

static const struct ktap_case cases[] = {
	KTAP_CASE(request_conflicts),
	KTAP_CASE(table_matches_document),
	KTAP_CASE(request_offer_select_apply),
	KTAP_CASE(stale_selections_never_applied),
	KTAP_CASE(reload_keeps_generations),
	KTAP_CASE(request_generations),
	KTAP_CASE(guest_renegotiates_upward),
	KTAP_CASE(dom0_lowers_capacity),
	KTAP_CASE(renegotiation_timeouts),
	KTAP_CASE(offers_expire),
	KTAP_CASE(nothing_fits),
	KTAP_CASE(guest_gone_everywhere),
	KTAP_CASE(every_cell_settles),
	KTAP_CASE(front_table),
	KTAP_CASE(front_staleness),
};

KTAP_MAIN(cases)
