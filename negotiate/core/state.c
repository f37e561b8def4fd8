// SPDX-License-Identifier: GPL-2.0
/*
 * splitkit_negotiate portable core: the state machines of one slot, as
 * tables.  skn_back_table is dom0's authoritative view (idle, offered,
 * applied, renegotiating); skn_front_table the guest's.  Around dom0's
 * table: turning what the guest wrote into an event (skn_classify_*(),
 * where the generation checks live), deciding what an event does given
 * what is available (skn_back_decide(), pure), and recording it once the
 * driver has done it (skn_back_commit()).  negotiate/back.c and
 * negotiate/front.c perform the actions; Documentation/negotiate.rst
 * ("States") prints the same tables.  Unit-tested row by row and fuzzed
 * (tests/unit/negotiate/).
 */
#include "negotiate_core.h"

#define S(a, n)	{ .action = SKN_ACT_##a, .next = SKN_##n }

/* dom0: [state][event] -> action, next state.  Every cell is defined. */
static const struct skn_step skn_back_table[SKN_NR_STATES][SKN_NR_EVENTS] = {
	[SKN_IDLE] = {
		[SKN_EV_REQUEST]  = S(OFFER, OFFERED),
		[SKN_EV_SELECT]   = S(IGNORE, IDLE),
		[SKN_EV_STALE]    = S(IGNORE, IDLE),
		[SKN_EV_BAD]      = S(REPORT, IDLE),
		[SKN_EV_CAPACITY] = S(NONE, IDLE),
		[SKN_EV_TIMEOUT]  = S(NONE, IDLE),
		[SKN_EV_WITHDRAW] = S(NONE, IDLE),
		[SKN_EV_GONE]     = S(NONE, IDLE),
	},
	[SKN_OFFERED] = {
		[SKN_EV_REQUEST]  = S(OFFER, OFFERED),
		[SKN_EV_SELECT]   = S(APPLY, APPLIED),
		[SKN_EV_STALE]    = S(IGNORE, OFFERED),
		[SKN_EV_BAD]      = S(REPORT, OFFERED),
		[SKN_EV_CAPACITY] = S(OFFER, OFFERED),
		[SKN_EV_TIMEOUT]  = S(EXPIRE, IDLE),
		[SKN_EV_WITHDRAW] = S(EXPIRE, IDLE),
		[SKN_EV_GONE]     = S(EXPIRE, IDLE),
	},
	[SKN_APPLIED] = {
		[SKN_EV_REQUEST]  = S(OFFER, RENEG),
		[SKN_EV_SELECT]   = S(IGNORE, APPLIED),
		[SKN_EV_STALE]    = S(IGNORE, APPLIED),
		[SKN_EV_BAD]      = S(REPORT, APPLIED),
		[SKN_EV_CAPACITY] = S(OFFER, RENEG),
		[SKN_EV_TIMEOUT]  = S(NONE, APPLIED),
		[SKN_EV_WITHDRAW] = S(REVOKE, IDLE),
		[SKN_EV_GONE]     = S(REVOKE, IDLE),
	},
	[SKN_RENEG] = {
		[SKN_EV_REQUEST]  = S(OFFER, RENEG),
		[SKN_EV_SELECT]   = S(APPLY, APPLIED),
		[SKN_EV_STALE]    = S(IGNORE, RENEG),
		[SKN_EV_BAD]      = S(REPORT, RENEG),
		[SKN_EV_CAPACITY] = S(OFFER, RENEG),
		[SKN_EV_TIMEOUT]  = S(FALLBACK, APPLIED),
		[SKN_EV_WITHDRAW] = S(REVOKE, IDLE),
		[SKN_EV_GONE]     = S(REVOKE, IDLE),
	},
};

#undef S

static const char *const skn_state_names[SKN_NR_STATES] = {
	[SKN_IDLE] = "idle",
	[SKN_OFFERED] = "offered",
	[SKN_APPLIED] = "applied",
	[SKN_RENEG] = "renegotiating",
};

static const char *const skn_event_names[SKN_NR_EVENTS] = {
	[SKN_EV_REQUEST] = "request",
	[SKN_EV_SELECT] = "select",
	[SKN_EV_STALE] = "stale",
	[SKN_EV_BAD] = "bad",
	[SKN_EV_CAPACITY] = "capacity",
	[SKN_EV_TIMEOUT] = "timeout",
	[SKN_EV_WITHDRAW] = "withdraw",
	[SKN_EV_GONE] = "gone",
};

static const char *const skn_action_names[SKN_NR_ACTIONS] = {
	[SKN_ACT_NONE] = "none",
	[SKN_ACT_OFFER] = "offer",
	[SKN_ACT_APPLY] = "apply",
	[SKN_ACT_EXPIRE] = "expire",
	[SKN_ACT_REVOKE] = "revoke",
	[SKN_ACT_FALLBACK] = "fallback",
	[SKN_ACT_REPORT] = "report",
	[SKN_ACT_IGNORE] = "ignore",
};

/**
 * skn_back_step() - dom0's table.
 * @state: enum skn_state.
 * @event: enum skn_event.
 *
 * Return: the action and next state; an out-of-range argument (a bug, never
 * the guest's doing: it cannot name either) gives IGNORE and idle.
 */
struct skn_step skn_back_step(u32 state, u32 event)
{
	struct skn_step none = { SKN_ACT_IGNORE, SKN_IDLE };

	if (state >= SKN_NR_STATES || event >= SKN_NR_EVENTS)
		return none;
	return skn_back_table[state][event];
}

/**
 * skn_state_name() - the value of slot-<n>/status for a state.
 * @state: enum skn_state.
 *
 * Return: the name, "?" if out of range.
 */
const char *skn_state_name(u32 state)
{
	return state < SKN_NR_STATES ? skn_state_names[state] : "?";
}

/**
 * skn_event_name() - an event's name, for messages.
 * @event: enum skn_event.
 *
 * Return: the name, "?" if out of range.
 */
const char *skn_event_name(u32 event)
{
	return event < SKN_NR_EVENTS ? skn_event_names[event] : "?";
}

/**
 * skn_action_name() - an action's name, for dom0's trace of events.
 * @action: enum skn_action.
 *
 * Return: the name, "?" if out of range.
 */
const char *skn_action_name(u32 action)
{
	return action < SKN_NR_ACTIONS ? skn_action_names[action] : "?";
}

/**
 * skn_slot_init() - a slot with nothing in it.
 * @s: the slot.
 * @offer_gen: the last offer-gen this device ever published (0 if none):
 *	the next offers continue after it.
 */
void skn_slot_init(struct skn_slot *s, u32 offer_gen)
{
	memset(s, 0, sizeof(*s));
	s->state = SKN_IDLE;
	s->offers.gen = offer_gen;
}

/**
 * skn_classify_request() - is what the guest wrote in a slot a new request?
 * @s: the slot.
 * @raw: the request's keys (all absent: nothing requested).
 * @req: a new request, parsed.
 * @what: for an error, the key at fault.
 *
 * A request-gen above the last one answered is new; equal is nothing new;
 * below is stale (-ESTALE).  The generation is checked after the whole
 * request parses, so garbage never counts as "nothing new".
 *
 * Return: SKN_MSG_NEW, SKN_MSG_NONE, or a -errno (a BAD event).
 */
int skn_classify_request(const struct skn_slot *s,
			 const struct skn_raw_request *raw,
			 struct skn_request *req, const char **what)
{
	int err;

	*what = NULL;
	if (!raw->gen.s && !raw->resource.s && !raw->target.s &&
	    !raw->min.s && !raw->max.s)
		return SKN_MSG_NONE;
	err = skn_parse_request(raw, req, what);
	if (err)
		return err;
	if (req->gen == s->last_req)
		return SKN_MSG_NONE;
	if (req->gen < s->last_req) {
		*what = "request-gen";
		return -ESTALE;
	}
	return SKN_MSG_NEW;
}

/**
 * skn_classify_select() - is what the guest selected to be applied?
 * @s: the slot.
 * @gen: select-gen as read.
 * @index: select as read.
 * @sel: the offer index, for SKN_MSG_NEW.
 * @what: for an error, the key at fault.
 *
 * A selection is applied only if its generation is the one published now
 * and offers stand (offered, renegotiating); any other generation, or
 * a selection while no offers stand, is stale.  An index at or above
 * nr-offers of the current generation is an error.
 *
 * Return: SKN_MSG_NEW, SKN_MSG_STALE, SKN_MSG_NONE (no selection, or the
 * one already applied), or a -errno.
 */
int skn_classify_select(const struct skn_slot *s, const struct skn_raw *gen,
			const struct skn_raw *index, u32 *sel,
			const char **what)
{
	u32 g, i;
	int err;

	*what = NULL;
	if (!gen->s && !index->s)
		return SKN_MSG_NONE;
	err = skn_parse_select(gen, index, &g, &i, what);
	if (err)
		return err;
	if (g == s->applied_gen)
		return SKN_MSG_NONE;
	if ((s->state != SKN_OFFERED && s->state != SKN_RENEG) ||
	    g != s->offers.gen || !s->offers.n)
		return SKN_MSG_STALE;
	if (i >= s->offers.n) {
		*what = "select";
		return -ERANGE;
	}
	*sel = i;
	return SKN_MSG_NEW;
}

static u32 skn_next_gen(u32 gen)
{
	return gen + 1 ? gen + 1 : 1;
}

/*
 * The fallback of a renegotiation that ends without a selection: keep the
 * agreement if it still fits, else the largest offer, else revoke.
 */
static void skn_fallback(const struct skn_slot *s, const struct skn_input *in,
			 struct skn_decision *d, u32 n, const u64 *v)
{
	if (s->applied && s->applied <= in->available) {
		d->action = SKN_ACT_NONE;
		d->next = SKN_APPLIED;
	} else if (n && v[0] <= in->available) {
		d->action = SKN_ACT_APPLY;
		d->value = v[0];
		d->next = SKN_APPLIED;
	} else {
		d->action = SKN_ACT_REVOKE;
		d->next = SKN_IDLE;
	}
}

/**
 * skn_back_decide() - what dom0 does about one event of a slot.
 * @s: the slot (not changed).
 * @event: enum skn_event.
 * @in: what came with it.
 * @d: the decision.
 *
 * Looks the event up in skn_back_table and resolves the abstract actions:
 * OFFER computes the offers (and, when nothing fits the request's min,
 * becomes EXPIRE from offered or idle, or the fallback from applied or
 * renegotiating, with -ENOSPC); FALLBACK becomes keep, APPLY of the
 * largest standing offer, or REVOKE.
 */
void skn_back_decide(const struct skn_slot *s, u32 event,
		     const struct skn_input *in, struct skn_decision *d)
{
	struct skn_step st = skn_back_step(s->state, event);

	memset(d, 0, sizeof(*d));
	d->action = st.action;
	d->next = st.next;
	d->forget = event == SKN_EV_GONE;
	switch (st.action) {
	case SKN_ACT_OFFER:
		d->req = event == SKN_EV_REQUEST && in->req ? *in->req :
							       s->req;
		d->offers.gen = skn_next_gen(s->offers.gen);
		d->offers.for_gen = d->req.gen;
		d->offers.n = skn_make_offers(&d->req, in->available,
					      d->offers.v);
		if (d->offers.n)
			break;
		d->err = -ENOSPC;
		if (s->state == SKN_IDLE || s->state == SKN_OFFERED) {
			d->action = SKN_ACT_EXPIRE;
			d->next = SKN_IDLE;
		} else {
			skn_fallback(s, in, d, 0, NULL);
		}
		break;
	case SKN_ACT_APPLY:
		d->value = in->select < s->offers.n ? s->offers.v[in->select] :
						      s->offers.v[0];
		break;
	case SKN_ACT_FALLBACK:
		skn_fallback(s, in, d, s->offers.n, s->offers.v);
		break;
	case SKN_ACT_REPORT:
		d->err = in->err ? in->err : -EINVAL;
		break;
	default:
		break;
	}
}

/**
 * skn_back_commit() - record a decision the driver has carried out.
 * @s: the slot.
 * @d: the decision of skn_back_decide() for @s.
 * @now_ns: current time.
 * @timeout_ms: how long new offers stand.
 *
 * OFFER publishes the offers (the generation moves on) and sets their
 * deadline; APPLY puts the value in force and withdraws the offers; EXPIRE
 * withdraws them; REVOKE ends the agreement.  After GONE the guest's
 * request generations start over (a new frontend counts from 1); the
 * offer generation never does.
 */
void skn_back_commit(struct skn_slot *s, const struct skn_decision *d,
		     u64 now_ns, u32 timeout_ms)
{
	switch (d->action) {
	case SKN_ACT_OFFER:
		s->req = d->req;
		if (d->req.gen > s->last_req)
			s->last_req = d->req.gen;
		s->offers = d->offers;
		skn_slot_rearm(s, now_ns, timeout_ms);
		break;
	case SKN_ACT_APPLY:
		s->applied = d->value;
		s->applied_gen = s->offers.gen;
		s->offers.n = 0;
		break;
	case SKN_ACT_EXPIRE:
		s->offers.n = 0;
		break;
	case SKN_ACT_REVOKE:
		s->applied = 0;
		s->applied_gen = 0;
		s->offers.n = 0;
		break;
	default:
		break;
	}
	/*
	 * An OFFER that found nothing still answers the request: an empty
	 * set of offers of a new generation, which the guest reads as a
	 * refusal.
	 */
	if (d->err == -ENOSPC) {
		if (d->req.gen > s->last_req)
			s->last_req = d->req.gen;
		s->offers.gen = d->offers.gen;
		s->offers.for_gen = d->offers.for_gen;
		s->offers.n = 0;
	}
	if (d->next == SKN_APPLIED && d->action == SKN_ACT_NONE)
		s->offers.n = 0;	/* fallback kept the agreement */
	s->state = d->next;
	if (s->state == SKN_IDLE)
		s->offers.n = 0;
	if (d->forget)
		s->last_req = 0;
}

/**
 * skn_slot_rearm() - let the slot's offers stand another timeout.
 * @s: the slot.
 * @now_ns: current time.
 * @timeout_ms: how long offers stand.
 *
 * At every new set of offers (skn_back_commit()), and after a fallback
 * that could not be applied, which is then tried again when this runs out.
 */
void skn_slot_rearm(struct skn_slot *s, u64 now_ns, u32 timeout_ms)
{
	s->deadline_ns = now_ns + (u64)timeout_ms * 1000000ull;
}

/**
 * skn_slot_expired() - have the slot's offers run out of time?
 * @s: the slot.
 * @now_ns: current time.
 *
 * Return: true if offers stand (offered, renegotiating) past their deadline.
 */
bool skn_slot_expired(const struct skn_slot *s, u64 now_ns)
{
	return (s->state == SKN_OFFERED || s->state == SKN_RENEG) &&
	       now_ns >= s->deadline_ns;
}

/**
 * skn_slot_held() - what the slot's agreement takes from its provider.
 * @s: the slot.
 *
 * Return: the value in force, 0 if none.
 */
u64 skn_slot_held(const struct skn_slot *s)
{
	return s->state == SKN_APPLIED || s->state == SKN_RENEG ?
	       s->applied : 0;
}

/**
 * skn_request_conflict() - may slot @n of a guest make request @req?
 * @slots: the guest's slots.
 * @nr: their number.
 * @n: the slot the request is in, below @nr.
 * @req: the parsed request.
 * @what: set to the reason on a conflict.
 *
 * Not if slot @n is in use for another resource or target (the guest
 * withdraws it first), nor if another slot of the guest negotiates the
 * same resource for the same target: two agreements on one disk or one
 * domain's memory would each undo the other.
 *
 * Return: 0, or -EBUSY with @what.
 */
int skn_request_conflict(const struct skn_slot *slots, u32 nr, u32 n,
			 const struct skn_request *req, const char **what)
{
	const struct skn_slot *s = &slots[n];
	u32 m;

	if (s->state != SKN_IDLE && (s->req.provider != req->provider ||
				     s->req.target != req->target)) {
		*what = "slot in use for another resource";
		return -EBUSY;
	}
	for (m = 0; m < nr; m++)
		if (m != n && slots[m].state != SKN_IDLE &&
		    slots[m].req.provider == req->provider &&
		    slots[m].req.target == req->target) {
			*what = "another slot negotiates it";
			return -EBUSY;
		}
	return 0;
}

/* ---- the guest ---- */

#define F(a, n)	{ .action = SKN_FA_##a, .next = SKN_F_##n }

/* guest: [state][event] -> action, next state.  Every cell is defined. */
static const struct skn_step skn_front_table[SKN_F_NR_STATES][SKN_NR_FEVENTS] = {
	[SKN_F_IDLE] = {
		[SKN_FE_REQUEST] = F(SEND_REQUEST, REQUESTED),
		[SKN_FE_SELECT]  = F(REFUSE, IDLE),
		[SKN_FE_OFFERS]  = F(NONE, IDLE),
		[SKN_FE_REFUSED] = F(NONE, IDLE),
		[SKN_FE_APPLIED] = F(RECORD, APPLIED),
		[SKN_FE_REVOKED] = F(NONE, IDLE),
		[SKN_FE_TIMEOUT] = F(NONE, IDLE),
		[SKN_FE_GONE]    = F(NONE, IDLE),
	},
	[SKN_F_REQUESTED] = {
		[SKN_FE_REQUEST] = F(SEND_REQUEST, REQUESTED),
		[SKN_FE_SELECT]  = F(REFUSE, REQUESTED),
		[SKN_FE_OFFERS]  = F(RECORD, OFFERED),
		[SKN_FE_REFUSED] = F(RESET, IDLE),
		[SKN_FE_APPLIED] = F(RECORD, REQUESTED),
		[SKN_FE_REVOKED] = F(RECORD, REQUESTED),
		[SKN_FE_TIMEOUT] = F(RESET, IDLE),
		[SKN_FE_GONE]    = F(NONE, REQUESTED),
	},
	[SKN_F_OFFERED] = {
		[SKN_FE_REQUEST] = F(SEND_REQUEST, REQUESTED),
		[SKN_FE_SELECT]  = F(SEND_SELECT, SELECTED),
		[SKN_FE_OFFERS]  = F(RECORD, OFFERED),
		[SKN_FE_REFUSED] = F(RESET, IDLE),
		[SKN_FE_APPLIED] = F(RECORD, APPLIED),
		[SKN_FE_REVOKED] = F(RESET, IDLE),
		[SKN_FE_TIMEOUT] = F(RESET, IDLE),
		[SKN_FE_GONE]    = F(RESET, REQUESTED),
	},
	[SKN_F_SELECTED] = {
		[SKN_FE_REQUEST] = F(SEND_REQUEST, REQUESTED),
		[SKN_FE_SELECT]  = F(SEND_SELECT, SELECTED),
		[SKN_FE_OFFERS]  = F(RECORD, OFFERED),
		[SKN_FE_REFUSED] = F(RESET, IDLE),
		[SKN_FE_APPLIED] = F(RECORD, APPLIED),
		[SKN_FE_REVOKED] = F(RESET, IDLE),
		[SKN_FE_TIMEOUT] = F(RESET, IDLE),
		[SKN_FE_GONE]    = F(RESET, REQUESTED),
	},
	[SKN_F_APPLIED] = {
		[SKN_FE_REQUEST] = F(SEND_REQUEST, REQUESTED),
		[SKN_FE_SELECT]  = F(REFUSE, APPLIED),
		[SKN_FE_OFFERS]  = F(RECORD, OFFERED),
		[SKN_FE_REFUSED] = F(NONE, APPLIED),
		[SKN_FE_APPLIED] = F(RECORD, APPLIED),
		[SKN_FE_REVOKED] = F(RESET, IDLE),
		[SKN_FE_TIMEOUT] = F(NONE, APPLIED),
		[SKN_FE_GONE]    = F(RESET, REQUESTED),
	},
};

#undef F

static const char *const skn_fstate_names[SKN_F_NR_STATES] = {
	[SKN_F_IDLE] = "idle",
	[SKN_F_REQUESTED] = "requested",
	[SKN_F_OFFERED] = "offered",
	[SKN_F_SELECTED] = "selected",
	[SKN_F_APPLIED] = "applied",
};

/**
 * skn_front_step() - the guest's table.
 * @state: enum skn_fstate.
 * @event: enum skn_fevent.
 *
 * Return: the action (enum skn_faction) and next state; out of range gives
 * NONE and idle.
 */
struct skn_step skn_front_step(u32 state, u32 event)
{
	struct skn_step none = { SKN_FA_NONE, SKN_F_IDLE };

	if (state >= SKN_F_NR_STATES || event >= SKN_NR_FEVENTS)
		return none;
	return skn_front_table[state][event];
}

static const char *const skn_fevent_names[SKN_NR_FEVENTS] = {
	[SKN_FE_REQUEST] = "request",
	[SKN_FE_SELECT] = "select",
	[SKN_FE_OFFERS] = "offers",
	[SKN_FE_REFUSED] = "refused",
	[SKN_FE_APPLIED] = "applied",
	[SKN_FE_REVOKED] = "revoked",
	[SKN_FE_TIMEOUT] = "timeout",
	[SKN_FE_GONE] = "gone",
};

/**
 * skn_fevent_name() - a guest event's name, for the guest's trace.
 * @event: enum skn_fevent.
 *
 * Return: the name, "?" if out of range.
 */
const char *skn_fevent_name(u32 event)
{
	return event < SKN_NR_FEVENTS ? skn_fevent_names[event] : "?";
}

/**
 * skn_fstate_name() - a guest state's name, for sysfs.
 * @state: enum skn_fstate.
 *
 * Return: the name, "?" if out of range.
 */
const char *skn_fstate_name(u32 state)
{
	return state < SKN_F_NR_STATES ? skn_fstate_names[state] : "?";
}

/**
 * skn_front_offers_event() - what dom0's offers mean to the guest's slot.
 * @f: the guest's slot.
 * @o: the offers as parsed (skn_parse_offers()).
 *
 * Only a generation newer than the last one seen counts, and only if it
 * answers our latest request (offer-for): offers for an older request of
 * ours are stale and ignored.
 *
 * Return: SKN_FE_OFFERS, SKN_FE_REFUSED (an empty answer), or -1 (nothing
 * new or stale).
 */
int skn_front_offers_event(const struct skn_fslot *f,
			   const struct skn_offers *o)
{
	if (o->gen <= f->offers.gen || o->for_gen != f->req.gen)
		return -1;
	return o->n ? SKN_FE_OFFERS : SKN_FE_REFUSED;
}

/**
 * skn_front_applied_event() - what dom0's applied keys mean to the guest.
 * @f: the guest's slot.
 * @applied: slot-<n>/applied.
 * @gen: slot-<n>/applied-gen.
 *
 * Return: SKN_FE_APPLIED (a newer agreement), SKN_FE_REVOKED (the one we
 * had ended), or -1 (nothing new, or an older generation).
 */
int skn_front_applied_event(const struct skn_fslot *f, u64 applied, u32 gen)
{
	if (!gen)
		return f->applied_gen ? SKN_FE_REVOKED : -1;
	if (gen < f->applied_gen ||
	    (gen == f->applied_gen && applied == f->applied))
		return -1;
	return SKN_FE_APPLIED;
}
