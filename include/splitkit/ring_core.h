/* SPDX-License-Identifier: GPL-2.0 */
/*
 * splitkit portable ring core: typed, validated access to a Xen shared ring.
 *
 * The shared page keeps exactly the layout of DEFINE_RING_TYPES() in Xen's
 * io/ring.h (req_prod, req_event, rsp_prod, rsp_event, 48 bytes of padding,
 * then the entries), so a frontend or backend built on this core talks to
 * stock Linux drivers of the same protocol.  What differs from ring.h is the
 * access discipline: a ring descriptor carries entry sizes and count instead
 * of a generated type, every index the peer writes is read once and checked
 * against the ring size before it is used, and entries are copied out of the
 * shared page before the caller looks at them.
 *
 * The same file also declares the other peer-facing pure logic of splitkit:
 * adaptive poll windows, an event rate limiter, strict parsing of XenStore
 * numbers and the xenbus state machine.  Everything here is plain C over
 * <splitkit/platform.h>; tests/unit/ring/ runs it on the host.
 *
 * Concurrency: one struct sk_front / sk_back is driven by one producer
 * context and one consumer context at a time (they may differ); the caller
 * serialises each side, exactly as with ring.h.
 */
#ifndef _SPLITKIT_RING_CORE_H
#define _SPLITKIT_RING_CORE_H

#include <splitkit/platform.h>

/* ---- shared page layout (wire format, owned by Xen's io/ring.h) ---- */

/**
 * struct sk_sring - header of a shared ring page, as in Xen's io/ring.h.
 * @req_prod:  requests produced; written by the frontend only.
 * @req_event: the backend wants an event when req_prod passes this.
 * @rsp_prod:  responses produced; written by the backend only.
 * @rsp_event: the frontend wants an event when rsp_prod passes this.
 * @pad:       reserved, zero.
 * @ring:      the entries, each sk_ring_desc.ent_size bytes.
 */
struct sk_sring {
	u32 req_prod;
	u32 req_event;
	u32 rsp_prod;
	u32 rsp_event;
	u8 pad[48];
	u8 ring[];
};

#define SK_SRING_HDR_SIZE	64u
SK_STATIC_ASSERT(offsetof(struct sk_sring, ring) == SK_SRING_HDR_SIZE,
		 "sring header must match Xen io/ring.h");

/* Largest ring (in bytes) the core accepts: 2^SK_RING_MAX_ORDER pages. */
#define SK_RING_PAGE_SIZE	4096u
#define SK_RING_MAX_ORDER	9u

/**
 * struct sk_ring_desc - shape of one ring: what ring.h's types encode.
 * @req_size: bytes of one request.
 * @rsp_size: bytes of one response.
 * @ent_size: bytes of one entry (the size of ring.h's request/response union).
 * @nr_ents:  number of entries, a power of two.
 * @mask:     nr_ents - 1.
 */
struct sk_ring_desc {
	u32 req_size;
	u32 rsp_size;
	u32 ent_size;
	u32 nr_ents;
	u32 mask;
};

/* Size of the entry union ring.h would generate for these two types. */
#define SK_RING_ENT_SIZE(req_t, rsp_t) \
	sizeof(union { req_t __req; rsp_t __rsp; })

int sk_ring_desc_init(struct sk_ring_desc *d, size_t req_size,
		      size_t rsp_size, size_t ent_size, size_t ring_bytes);

#define sk_ring_desc_init_typed(d, req_t, rsp_t, bytes)			\
	sk_ring_desc_init(d, sizeof(req_t), sizeof(rsp_t),		\
			  SK_RING_ENT_SIZE(req_t, rsp_t), bytes)

/* Address of entry @idx (any free-running index; masked here). */
static inline void *sk_ring_ent(const struct sk_ring_desc *d,
				struct sk_sring *s, u32 idx)
{
	return s->ring + (size_t)(idx & d->mask) * d->ent_size;
}

/*
 * The event-index hold-off test of ring.h: after moving a producer index
 * from @old to @new, the peer needs an event iff its event index @event lies
 * in (old, new].  Unsigned wrap-around arithmetic.
 */
static inline bool sk_need_notify(u32 old, u32 new, u32 event)
{
	return (u32)(new - event) < (u32)(new - old);
}

/* ---- frontend: produces requests, consumes responses ---- */

/**
 * struct sk_front - private frontend state of one ring.
 * @sring:        the shared page (peer-writable).
 * @desc:         ring shape.
 * @req_prod_pvt: requests written locally, not necessarily published.
 * @req_pushed:   last req_prod we published (never read back from sring).
 * @rsp_cons:     responses consumed.
 * @rsp_seen:     last rsp_prod read and validated.
 * @broken:       the peer broke the protocol; the ring refuses all work.
 */
struct sk_front {
	struct sk_sring *sring;
	struct sk_ring_desc desc;
	u32 req_prod_pvt;
	u32 req_pushed;
	u32 rsp_cons;
	u32 rsp_seen;
	bool broken;
};

void sk_front_init(struct sk_front *f, struct sk_sring *s,
		   const struct sk_ring_desc *d);
u32 sk_front_free(const struct sk_front *f);
void *sk_front_next_req(struct sk_front *f);
int sk_front_put_req(struct sk_front *f, const void *req);
bool sk_front_push(struct sk_front *f);
int sk_front_poll_rsp(struct sk_front *f);
int sk_front_get_rsp(struct sk_front *f, void *rsp);
int sk_front_final_check(struct sk_front *f);
int sk_front_final_check_batch(struct sk_front *f, u32 batch);

/*
 * Unvalidated hint for pollers: has the backend moved rsp_prod?  Only
 * sk_front_get_rsp() / sk_front_poll_rsp() may act on the value.
 */
static inline bool sk_front_peek(const struct sk_front *f)
{
	return SK_READ_ONCE(f->sring->rsp_prod) != f->rsp_cons;
}

/* Requests published but not yet answered. */
static inline u32 sk_front_inflight(const struct sk_front *f)
{
	return f->req_pushed - f->rsp_cons;
}

/* ---- backend: consumes requests, produces responses ---- */

/**
 * struct sk_back - private backend state of one ring.
 * @sring:        the shared page (peer-writable).
 * @desc:         ring shape.
 * @rsp_prod_pvt: responses written locally, not necessarily published.
 * @rsp_pushed:   last rsp_prod we published.
 * @req_cons:     requests consumed.
 * @req_seen:     last req_prod read and validated.
 * @broken:       the peer broke the protocol; the ring refuses all work.
 */
struct sk_back {
	struct sk_sring *sring;
	struct sk_ring_desc desc;
	u32 rsp_prod_pvt;
	u32 rsp_pushed;
	u32 req_cons;
	u32 req_seen;
	bool broken;
};

void sk_back_init(struct sk_back *b, struct sk_sring *s,
		  const struct sk_ring_desc *d);
int sk_back_poll_req(struct sk_back *b);
int sk_back_get_req(struct sk_back *b, void *req);
void *sk_back_next_rsp(struct sk_back *b);
int sk_back_put_rsp(struct sk_back *b, const void *rsp);
bool sk_back_push(struct sk_back *b);
int sk_back_final_check(struct sk_back *b);

/* Unvalidated hint for pollers: has the frontend moved req_prod? */
static inline bool sk_back_peek(const struct sk_back *b)
{
	return SK_READ_ONCE(b->sring->req_prod) != b->req_cons;
}

/* Responses owed: requests consumed and not yet answered. */
static inline u32 sk_back_owed(const struct sk_back *b)
{
	return b->req_cons - b->rsp_prod_pvt;
}

/* ---- adaptive polling (ring/core/poll.c) ---- */

/**
 * struct sk_poll - adaptive poll window of one consumer.
 * @max_ns:  longest window; 0 disables polling.  Tunable at any time.
 * @base_ns: first non-zero window after growing from 0.
 * @cur_ns:  current window.
 *
 * The consumer, when it runs out of work, polls the ring for cur_ns before
 * arming the event.  The window follows how long the consumer was idle:
 * idle periods that a window up to max_ns would have covered grow it, idle
 * periods longer than max_ns shrink it (polling them only burns CPU).
 */
struct sk_poll {
	u32 max_ns;
	u32 base_ns;
	u32 cur_ns;
};

void sk_poll_init(struct sk_poll *p, u32 max_ns);
void sk_poll_set_max(struct sk_poll *p, u32 max_ns);
void sk_poll_update(struct sk_poll *p, u64 idle_ns);

static inline u32 sk_poll_window(const struct sk_poll *p)
{
	return SK_READ_ONCE(p->cur_ns);
}

/* ---- event rate limiting (ring/core/poll.c) ---- */

/**
 * struct sk_ratelimit - token bucket for events that brought no work.
 * @per_sec: sustained rate allowed.
 * @burst:   bucket size.
 * @tokens:  tokens left.
 * @last_ns: time of the last refill.
 */
struct sk_ratelimit {
	u32 per_sec;
	u32 burst;
	u32 tokens;
	u64 last_ns;
};

void sk_ratelimit_init(struct sk_ratelimit *rl, u32 per_sec, u32 burst,
		       u64 now_ns);
bool sk_ratelimit_allow(struct sk_ratelimit *rl, u64 now_ns);

/* ---- XenStore values written by the peer (ring/core/parse.c) ---- */

int sk_parse_u32(const char *s, size_t len, u32 max, u32 *out);
int sk_parse_u64(const char *s, size_t len, u64 max, u64 *out);
int sk_seg_check(u32 off, u32 len, u32 page_size);

/* ---- XenStore key tables (ring/core/xs.c) ---- */

/**
 * enum sk_xs_type - how a key's value is spelt and stored.
 * @SK_XS_U32:  decimal, a u32 field.
 * @SK_XS_U64:  decimal, a u64 field.
 * @SK_XS_BOOL: decimal, a bool field: read as any number in range, true if
 *		not 0 (what xen-blkfront does); written "0" or "1".
 * @SK_XS_STR:  text, a char array field of @max + 1 bytes; @min and @max
 *		bound its length.
 */
enum sk_xs_type {
	SK_XS_U32,
	SK_XS_U64,
	SK_XS_BOOL,
	SK_XS_STR,
};

/**
 * enum sk_xs_owner - who writes a key (the other end only reads it).
 * @SK_XS_FRONTEND:  the frontend driver, in its own directory.
 * @SK_XS_BACKEND:   the backend driver, in its own directory.
 * @SK_XS_TOOLSTACK: xl / libxl or the hotplug script.
 */
enum sk_xs_owner {
	SK_XS_FRONTEND,
	SK_XS_BACKEND,
	SK_XS_TOOLSTACK,
};

/* Key flags: absent is an error; a malformed value reads as the default. */
#define SK_XS_REQUIRED	0x1u
#define SK_XS_LENIENT	0x2u

/**
 * struct sk_xs_key - one XenStore key of a driver's key table.
 * @name:   the key, relative to the device directory.
 * @type:   enum sk_xs_type.
 * @owner:  enum sk_xs_owner: who writes it.
 * @flags:  SK_XS_REQUIRED, SK_XS_LENIENT.
 * @offset: of the value's field in the driver's struct.
 * @min:    smallest accepted value (string: length).
 * @max:    largest accepted value (string: length).
 * @def:    value when absent (numbers and bools; strings become "").
 *
 * A driver lists the keys it reads or writes in one table, the way Xen's
 * io/blkif.h lists them in prose; reading and writing go through the
 * table (ring/xs.c), never through ad-hoc xenbus_printf()/scanf().
 */
struct sk_xs_key {
	const char *name;
	u8 type;
	u8 owner;
	u8 flags;
	u32 offset;
	u64 min;
	u64 max;
	u64 def;
};

#define SK_XS_KEY(_name, _type, _owner, _flags, _st, _field, _min, _max, \
		  _def)							 \
	{ .name = (_name), .type = (_type), .owner = (_owner),		 \
	  .flags = (_flags), .offset = offsetof(_st, _field),		 \
	  .min = (_min), .max = (_max), .def = (_def) }

/* sk_xs_key_apply() results besides 0 (read) and -errno */
#define SK_XS_ABSENT	1	/* absent: the default was stored */
#define SK_XS_REJECTED	2	/* malformed, SK_XS_LENIENT: default stored */

int sk_xs_key_apply(const struct sk_xs_key *k, const char *val, size_t len,
		    void *base);
int sk_xs_key_format(const struct sk_xs_key *k, const void *base, char *buf,
		     size_t size);
int sk_xs_queues(u32 peer_max, u32 max_total, u32 want_event,
		 u32 want_polled, u32 *nr_event, u32 *nr_polled);

/* ---- xenbus state machine (ring/core/state.c) ---- */

/* Values of enum xenbus_state (Xen io/xenbus.h), the XenStore "state". */
enum sk_xb_state {
	SK_XB_UNKNOWN = 0,
	SK_XB_INITIALISING = 1,
	SK_XB_INITWAIT = 2,
	SK_XB_INITIALISED = 3,
	SK_XB_CONNECTED = 4,
	SK_XB_CLOSING = 5,
	SK_XB_CLOSED = 6,
	SK_XB_RECONFIGURING = 7,
	SK_XB_RECONFIGURED = 8,
	SK_XB_NR_STATES
};

/**
 * enum sk_xb_action - what a driver does next, and the state it then enters.
 * @SK_XB_NONE:       nothing; the event was repeated or irrelevant.
 * @SK_XB_SETUP:      frontend: allocate and publish rings -> Initialised.
 * @SK_XB_CONNECT:    backend: map rings and bind events; frontend: start
 *                    traffic -> Connected.
 * @SK_XB_DISCONNECT: stop traffic, tear down rings -> Closing.
 * @SK_XB_CLOSE:      tear down rings if still there -> Closed.
 * @SK_XB_RESET:      peer starts over after a close: backend -> InitWait,
 *                    frontend -> Initialising.
 * @SK_XB_RECONFIGURE: the peer reconfigures a live connection: adapt ->
 *                    Reconfigured.
 * @SK_XB_RECONNECT:  the reconfiguration is over -> Connected.
 */
enum sk_xb_action {
	SK_XB_NONE,
	SK_XB_SETUP,
	SK_XB_CONNECT,
	SK_XB_DISCONNECT,
	SK_XB_CLOSE,
	SK_XB_RESET,
	SK_XB_RECONFIGURE,
	SK_XB_RECONNECT,
};

enum sk_xb_action sk_xb_next(bool frontend, u32 local, u32 peer);
enum sk_xb_state sk_xb_target(bool frontend, enum sk_xb_action act);

#endif /* _SPLITKIT_RING_CORE_H */
