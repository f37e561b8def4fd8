/* SPDX-License-Identifier: GPL-2.0 */
/*
 * splitkit_negotiate portable core: the protocol of Documentation/
 * negotiate.rst as plain C over <splitkit/platform.h>, with no kernel
 * header, so that the same files build into splitkit_negotiate.ko and into
 * the host unit tests and fuzzer (tests/unit/negotiate/).
 *
 * state.c  both state tables (dom0's slot, the guest's slot), the
 *          decision for each event and its commit; generation checks.
 * parse.c  strict parsers of every value the other domain writes (dom0
 *          parses the guest's request and selection; the guest parses
 *          dom0's offers), error messages.
 * offer.c  the provider table, offers, capacity shares, the fallback.
 *
 * Time is always the caller's (ns); the core never reads a clock.
 */
#ifndef _SPLITKIT_NEGOTIATE_CORE_H
#define _SPLITKIT_NEGOTIATE_CORE_H

#include <splitkit/platform.h>
#include <splitkit/bucket.h>

/*
 * The xenbus device type.  Linux names a xenbus device "<type>-<id>" in
 * the guest and "<type>-<domid>-<id>" in dom0 in a buffer of
 * XEN_BUS_ID_SIZE (20, drivers/xen/xenbus/xenbus.h, private to Linux)
 * bytes and silently creates no device when the name does not fit ("bad
 * frontend" at most): the type must leave room for a 5-digit domid and a
 * device id.  SKN_BUS_ID_FITS() is checked at build time.
 */
#define SKN_DEVTYPE		"sk-neg"
#define SKN_XEN_BUS_ID_SIZE	20
#define SKN_BUS_ID_FITS	\
	(sizeof(SKN_DEVTYPE "-32767-0") < SKN_XEN_BUS_ID_SIZE)
#define SKN_VERSION		1
#define SKN_MAX_SLOTS		8
#define SKN_MAX_OFFERS		4
#define SKN_NAME_MAX		31	/* provider name, characters */
#define SKN_PROVIDERS_MAX	63	/* the "providers" key, characters */
#define SKN_ERR_MAX		63	/* slot-<n>/error, characters */
#define SKN_TARGET_MAX		0x7fffffffu
#define SKN_TIMEOUT_MIN_MS	1000u
#define SKN_TIMEOUT_MAX_MS	600000u
#define SKN_READ_TRIES		3	/* re-reads of a slot torn by a write */

/* ---- providers (offer.c) ---- */

/**
 * struct skn_provider - one negotiable resource, its portable part.
 * @name:       the value of slot-<n>/resource, e.g. "blk.iops".
 * @unit:       what the numbers count, for messages.
 * @min:        smallest value a request may name.
 * @max:        largest value a request may name.
 * @target_max: largest slot-<n>/target (0: the target must be 0).
 * @pow2:       only powers of two can be applied: every offer is one.
 */
struct skn_provider {
	const char *name;
	const char *unit;
	u64 min;
	u64 max;
	u32 target_max;
	bool pow2;
};

enum skn_provider_id {
	SKN_P_BLK_IOPS,
	SKN_P_BLK_BW,
	SKN_P_MEMORY,
	SKN_P_BLK_QUEUES,
	SKN_P_BLK_RING,
	SKN_P_VCPUS,
	SKN_NR_PROVIDERS
};

extern const struct skn_provider skn_providers[SKN_NR_PROVIDERS];

int skn_provider_find(const char *name, size_t len);

/* ---- messages ---- */

/**
 * struct skn_request - a guest's request, parsed.
 * @provider: enum skn_provider_id.
 * @target:   instance (a disk's virtual-device number).
 * @min:      least accepted.
 * @max:      most wanted.
 * @gen:      request-gen.
 */
struct skn_request {
	u32 provider;
	u32 target;
	u64 min;
	u64 max;
	u32 gen;
};

/**
 * struct skn_offers - offers published for a slot.
 * @gen:     offer-gen (0: none ever published).
 * @for_gen: the request-gen they answer.
 * @n:       number of offers, 0 to SKN_MAX_OFFERS.
 * @v:       the offers, largest first.
 */
struct skn_offers {
	u32 gen;
	u32 for_gen;
	u32 n;
	u64 v[SKN_MAX_OFFERS];
};

/*
 * A raw value as read from XenStore: @s points at @len characters, or is
 * NULL when the key is absent.
 */
struct skn_raw {
	const char *s;
	size_t len;
};

/* The keys of one request, as the guest wrote them. */
struct skn_raw_request {
	struct skn_raw resource;
	struct skn_raw target;
	struct skn_raw min;
	struct skn_raw max;
	struct skn_raw gen;
};

/* The keys of one slot's offers, as dom0 wrote them. */
struct skn_raw_offers {
	struct skn_raw gen;
	struct skn_raw for_gen;
	struct skn_raw n;
	struct skn_raw v[SKN_MAX_OFFERS];
};

/* ---- parsers (parse.c) ---- */

int skn_parse_request(const struct skn_raw_request *raw,
		      struct skn_request *out, const char **what);
int skn_parse_select(const struct skn_raw *gen, const struct skn_raw *index,
		     u32 *sel_gen, u32 *sel_index, const char **what);
int skn_parse_offers(const struct skn_raw_offers *raw,
		     const struct skn_request *req, struct skn_offers *out,
		     const char **what);
int skn_format_error(char *buf, size_t size, int err, const char *what);
const char *skn_errno_name(int err);

/* ---- offers (offer.c) ---- */

u32 skn_make_offers(const struct skn_request *req, u64 available,
		    u64 *v);
u64 skn_share(u64 value, u64 capacity, u64 held);
u64 skn_squeeze(u64 held, u64 available, u64 share);
u64 skn_ceiling(u64 value, u64 ceiling);

/* ---- dom0's slot (state.c) ---- */

enum skn_state {
	SKN_IDLE,
	SKN_OFFERED,
	SKN_APPLIED,
	SKN_RENEG,
	SKN_NR_STATES
};

enum skn_event {
	SKN_EV_REQUEST,
	SKN_EV_SELECT,
	SKN_EV_STALE,
	SKN_EV_BAD,
	SKN_EV_CAPACITY,
	SKN_EV_TIMEOUT,
	SKN_EV_WITHDRAW,
	SKN_EV_GONE,
	SKN_NR_EVENTS
};

/*
 * The table's actions; FALLBACK is resolved by skn_back_decide() into
 * APPLY, REVOKE or NONE (keep), and an OFFER that finds nothing to offer
 * into EXPIRE or a fallback, with -ENOSPC.
 */
enum skn_action {
	SKN_ACT_NONE,
	SKN_ACT_OFFER,
	SKN_ACT_APPLY,
	SKN_ACT_EXPIRE,
	SKN_ACT_REVOKE,
	SKN_ACT_FALLBACK,
	SKN_ACT_REPORT,
	SKN_ACT_IGNORE,
	SKN_NR_ACTIONS
};

struct skn_step {
	u8 action;
	u8 next;
};

/**
 * struct skn_slot - dom0's view of one slot.
 * @state:       enum skn_state.
 * @req:         the request being answered or in force (valid unless idle).
 * @last_req:    highest request-gen answered; 0 after a reset.
 * @offers:      the offers published (@offers.gen survives resets).
 * @applied:     the value in force, 0 if none.
 * @applied_gen: the offer-gen it came from, 0 if none.
 * @deadline_ns: when the offers expire (offered, renegotiating).
 */
struct skn_slot {
	u8 state;
	struct skn_request req;
	u32 last_req;
	struct skn_offers offers;
	u64 applied;
	u32 applied_gen;
	u64 deadline_ns;
};

/**
 * struct skn_input - what came with an event.
 * @req:       REQUEST: the parsed request.
 * @select:    SELECT: the offer index (already checked against the gen).
 * @available: what the slot's provider can give this slot (capacity less
 *             the other agreements), for REQUEST, CAPACITY, TIMEOUT.
 * @err:       BAD: the error to report.
 */
struct skn_input {
	const struct skn_request *req;
	u32 select;
	u64 available;
	int err;
};

/**
 * struct skn_decision - what to do about one event.
 * @action: concrete enum skn_action (never FALLBACK).
 * @next:   the state after commit.
 * @err:    0 or the -errno to report along with the action.
 * @value:  APPLY: the value to apply.
 * @req:    OFFER: the request the offers answer.
 * @offers: OFFER: the offers to publish (gen already the next one).
 * @forget: the guest's end went away: its request generations start over.
 */
struct skn_decision {
	u8 action;
	u8 next;
	bool forget;
	int err;
	u64 value;
	struct skn_request req;
	struct skn_offers offers;
};

struct skn_step skn_back_step(u32 state, u32 event);
const char *skn_state_name(u32 state);
const char *skn_event_name(u32 event);
const char *skn_action_name(u32 action);
void skn_slot_init(struct skn_slot *s, u32 offer_gen);
int skn_classify_request(const struct skn_slot *s,
			 const struct skn_raw_request *raw,
			 struct skn_request *req, const char **what);
int skn_classify_select(const struct skn_slot *s, const struct skn_raw *gen,
			const struct skn_raw *index, u32 *sel,
			const char **what);
void skn_back_decide(const struct skn_slot *s, u32 event,
		     const struct skn_input *in, struct skn_decision *d);
void skn_back_commit(struct skn_slot *s, const struct skn_decision *d,
		     u64 now_ns, u32 timeout_ms);
void skn_slot_rearm(struct skn_slot *s, u64 now_ns, u32 timeout_ms);
bool skn_slot_expired(const struct skn_slot *s, u64 now_ns);
u64 skn_slot_held(const struct skn_slot *s);
int skn_request_conflict(const struct skn_slot *slots, u32 nr, u32 n,
			 const struct skn_request *req, const char **what);

/* skn_classify_*() results besides -errno (BAD) */
#define SKN_MSG_NONE	0	/* nothing new */
#define SKN_MSG_NEW	1	/* a new request / a selection to apply */
#define SKN_MSG_STALE	2	/* a selection of another generation */

/* ---- the guest's slot (state.c) ---- */

enum skn_fstate {
	SKN_F_IDLE,
	SKN_F_REQUESTED,
	SKN_F_OFFERED,
	SKN_F_SELECTED,
	SKN_F_APPLIED,
	SKN_F_NR_STATES
};

enum skn_fevent {
	SKN_FE_REQUEST,		/* the user asks */
	SKN_FE_SELECT,		/* the user selects */
	SKN_FE_OFFERS,		/* new offers for our latest request */
	SKN_FE_REFUSED,		/* dom0 answered our request with no offer */
	SKN_FE_APPLIED,		/* dom0 applied a new agreement */
	SKN_FE_REVOKED,		/* dom0 ended the agreement */
	SKN_FE_TIMEOUT,		/* dom0 did not answer in time */
	SKN_FE_GONE,		/* dom0's end went away */
	SKN_NR_FEVENTS
};

enum skn_faction {
	SKN_FA_NONE,
	SKN_FA_SEND_REQUEST,
	SKN_FA_SEND_SELECT,
	SKN_FA_RECORD,		/* take dom0's keys as they are */
	SKN_FA_RESET,		/* back to idle, nothing in force */
	SKN_FA_REFUSE,		/* the user's command makes no sense now */
	SKN_NR_FACTIONS
};

/**
 * struct skn_fslot - the guest's view of one slot.
 * @state:       enum skn_fstate.
 * @req:         our latest request (@req.gen: its request-gen).
 * @offers:      the latest offers seen for it.
 * @select_gen:  the generation we selected from.
 * @select:      the index we selected.
 * @applied:     the agreement dom0 says is in force, 0 if none.
 * @applied_gen: its generation.
 * @deadline_ns: when we stop waiting for dom0.
 */
struct skn_fslot {
	u8 state;
	struct skn_request req;
	struct skn_offers offers;
	u32 select_gen;
	u32 select;
	u64 applied;
	u32 applied_gen;
	u64 deadline_ns;
};

struct skn_step skn_front_step(u32 state, u32 event);
int skn_front_offers_event(const struct skn_fslot *f,
			   const struct skn_offers *o);
int skn_front_applied_event(const struct skn_fslot *f, u64 applied, u32 gen);
const char *skn_fstate_name(u32 state);
const char *skn_fevent_name(u32 event);

#endif /* _SPLITKIT_NEGOTIATE_CORE_H */
