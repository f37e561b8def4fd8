/* SPDX-License-Identifier: GPL-2.0 */
/*
 * splitkit_ring: the transport every splitkit frontend (VSC) and backend
 * (VSP) driver is built on.
 *
 * A link is everything one xenbus device shares with its peer: one or more
 * channels, each a ring of 2^order grant-shared pages in the standard Xen
 * io/ring.h layout plus one event channel.  The frontend allocates, grants
 * and publishes (ring/front.c); the backend reads, validates, maps and binds
 * (ring/back.c).  Messages are fixed-size structs described by struct
 * sk_chan_params; the library copies each one out of the shared page before
 * the driver sees it and checks every peer-written index.  Incoming
 * messages are handed to sk_chan_ops.msg in batches, with event hold-off
 * and adaptive polling (ring/chan.c).  struct sk_xb (ring/xbstate.c) runs
 * the xenbus state machine for the driver.  Documentation/ring.rst has the
 * XenStore keys and the rules.
 */
#ifndef _SPLITKIT_RING_H
#define _SPLITKIT_RING_H

#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/types.h>
#include <xen/grant_table.h>
#include <xen/xenbus.h>

#include <splitkit/ring_core.h>

struct sk_chan;
struct sk_link;

/**
 * struct sk_chan_ops - what a driver does with its channels.
 * @msg: one incoming message (a response on the frontend, a request on the
 *	 backend), already copied into private memory; validate it before use.
 *	 Runs in the channel's consumer context: a work item, or the event
 *	 handler in hard-IRQ context with %SK_CHAN_IRQ_CONTEXT.  A backend may
 *	 answer at once with sk_chan_put(); responses are pushed once per
 *	 batch.
 * @batch_done: optional; called after each batch of @msg calls, e.g. to wake
 *	 a sender waiting for ring space.
 * @peer_error: optional; the peer broke the ring's indices and the channel
 *	 stopped (no more @msg calls).  Consumer context, once per channel;
 *	 lets the driver fail what it still waits for on this channel.
 */
struct sk_chan_ops {
	void (*msg)(struct sk_chan *ch, const void *msg);
	void (*batch_done)(struct sk_chan *ch);
	void (*peer_error)(struct sk_chan *ch);
};

/* Consume in the event handler (hard IRQ) instead of a work item. */
#define SK_CHAN_IRQ_CONTEXT	BIT(0)

/* Longest poll window a channel accepts, in nanoseconds. */
#define SK_CHAN_MAX_POLL_NS	1000000u

struct sk_xb;

/**
 * struct sk_chan_params - shape and behaviour of the channels of a link.
 * @name:      short name for IRQs and debugfs (e.g. "ping").
 * @req_size:  bytes of one request.
 * @rsp_size:  bytes of one response.
 * @ent_size:  bytes of one ring entry; SK_RING_ENT_SIZE(req_t, rsp_t).
 *	       SK_CHAN_SIZES() sets all three from the two types.
 * @max_order: largest ring-page-order we accept or offer
 *	       (at most XENBUS_MAX_RING_GRANT_ORDER).
 * @max_queues: most channels we accept or offer in all (at least 1).
 * @nr_event:  frontend: most event-driven channels wanted (0: as many as
 *	       @max_queues and the backend allow).
 * @nr_polled: frontend: polled channels wanted, after the event-driven
 *	       ones (see sk_chan_reap()); 0 for none.  The backend sees
 *	       ordinary channels.
 * @flags:     SK_CHAN_* flags.
 * @poll_ns:   initial longest poll window; 0 disables polling.
 * @rsp_coalesce: frontend: most answers one response event may stand for
 *	       when many requests are in flight (ring/chan.c); 0 or 1: an
 *	       event for every answer the consumer waits for.
 * @ops:       message callbacks.
 * @priv:      driver data, returned by sk_link_priv().
 * @xb:        optional: the device end's state helper, which keeps the
 *	       device Closing once a ring reported a protocol violation
 *	       (sk_xb_ring_fatal()); without it only XenStore is told.
 */
struct sk_chan_params {
	const char *name;
	size_t req_size;
	size_t rsp_size;
	size_t ent_size;
	unsigned int max_order;
	unsigned int max_queues;
	unsigned int nr_event;
	unsigned int nr_polled;
	unsigned int flags;
	u32 poll_ns;
	unsigned int rsp_coalesce;
	const struct sk_chan_ops *ops;
	void *priv;
	struct sk_xb *xb;
};

/**
 * SK_CHAN_SIZES() - the sizes of a struct sk_chan_params, from its types.
 * @req_t: the protocol's request type.
 * @rsp_t: its response type.
 *
 * Designated initializers of @req_size, @rsp_size and @ent_size.
 */
#define SK_CHAN_SIZES(req_t, rsp_t)					\
	.req_size = sizeof(req_t),					\
	.rsp_size = sizeof(rsp_t),					\
	.ent_size = SK_RING_ENT_SIZE(req_t, rsp_t)

/* ring/front.c */
struct sk_link *sk_link_front_alloc(struct xenbus_device *dev,
				    const struct sk_chan_params *p);
int sk_link_front_publish(struct sk_link *l, struct xenbus_transaction xbt);
struct sk_link *sk_link_front_setup(struct xenbus_device *dev,
				    const struct sk_chan_params *p);

/* ring/back.c */
int sk_link_back_advertise(struct xenbus_device *dev,
			   const struct sk_chan_params *p);
struct sk_link *sk_link_back_connect(struct xenbus_device *dev,
				     const struct sk_chan_params *p);

/* ring/link.c */
void sk_link_destroy(struct sk_link *l);
void sk_link_drain(struct sk_link *l);
void sk_link_pause(struct sk_link *l);
unsigned int sk_link_nr_chans(const struct sk_link *l);
unsigned int sk_link_nr_polled(const struct sk_link *l);
unsigned int sk_link_order(const struct sk_link *l);
struct sk_chan *sk_link_chan(struct sk_link *l, unsigned int i);
void *sk_link_priv(const struct sk_link *l);

/* ring/chan.c */
int sk_chan_put(struct sk_chan *ch, const void *msg);
int sk_chan_put_commit(struct sk_chan *ch, const void *msg,
		       void (*commit)(void *arg), void *arg);
bool sk_chan_push(struct sk_chan *ch);
unsigned int sk_chan_space(struct sk_chan *ch);
unsigned int sk_chan_nr_ents(const struct sk_chan *ch);
struct sk_link *sk_chan_link(const struct sk_chan *ch);
unsigned int sk_chan_index(const struct sk_chan *ch);
void sk_chan_set_poll_ns(struct sk_chan *ch, u32 ns);
bool sk_chan_broken(const struct sk_chan *ch);
bool sk_chan_polled(const struct sk_chan *ch);
int sk_chan_reap(struct sk_chan *ch);

/**
 * struct sk_chan_stats - counters of one channel, as shown in debugfs.
 * @notify_sent:       events we sent after a push.
 * @notify_suppressed: pushes the peer's event index let us skip.
 * @pushes:            pushes that published at least one message.
 * @msgs_out:          messages we produced.
 * @events:            events received.
 * @spurious:          events that found no work.
 * @storms:            spurious events beyond the allowed rate.
 * @polls:             poll windows spun.
 * @poll_hits:         poll windows that found work (an event saved).
 * @coalesced:         frontend: waits that asked for one event for several
 *		       answers (rsp_coalesce).
 * @coalesce_expired:  frontend: of those, the ones whose timer ran out
 *		       before the event came.
 * @batches:           batches consumed.
 * @msgs_in:           messages consumed.
 * @batch_hist:        batches by size: 1, 2-3, 4-7, ... 128 and more.
 * @budget_yields:     consumer runs cut short by the budget.
 * @peer_errors:       protocol violations by a malicious or buggy peer.
 */
struct sk_chan_stats {
	u64 notify_sent;
	u64 notify_suppressed;
	u64 pushes;
	u64 msgs_out;
	u64 events;
	u64 spurious;
	u64 storms;
	u64 polls;
	u64 poll_hits;
	u64 coalesced;
	u64 coalesce_expired;
	u64 batches;
	u64 msgs_in;
	u64 batch_hist[8];
	u64 budget_yields;
	u64 peer_errors;
};

void sk_chan_get_stats(const struct sk_chan *ch, struct sk_chan_stats *st);

/* ring/xs.c: the XenStore layer (decisions in ring/core/xs.c) */
int sk_xs_read_u32(const char *dir, const char *node, u32 max, u32 def,
		   u32 *out);
int sk_xs_read_u64(const char *dir, const char *node, u64 max, u64 def,
		   u64 *out);
int sk_xs_read_bool(const char *dir, const char *node, bool def, bool *out);
char *sk_xs_read_str(const char *dir, const char *node, size_t max_len);
int sk_xs_read_keys(struct xenbus_device *dev, const char *dir,
		    const struct sk_xs_key *keys, unsigned int n, void *base,
		    u64 *present);
int sk_xs_write_keys(struct xenbus_transaction xbt, const char *dir,
		     unsigned int self, const struct sk_xs_key *keys,
		     unsigned int n, const void *base, u64 mask);
int sk_xs_rm(struct xenbus_transaction xbt, const char *dir,
	     const char *node);
int sk_xs_transact(int (*fn)(struct xenbus_transaction xbt, void *arg),
		   void *arg);

/* ring/xbstate.c */


/**
 * struct sk_xb_ops - a driver's part of the xenbus handshake.
 * @setup:      frontend only: allocate and publish rings.  Return 0 or -errno.
 * @connect:    backend: map rings, bind events; frontend: start traffic.
 *		Return 0 or -errno.
 * @disconnect: stop traffic and tear everything down.  Called with nothing
 *		set up too, and possibly twice: must be idempotent.
 * @ready:      optional, backend: false while connecting must wait for
 *		something outside the handshake (e.g. the hotplug script);
 *		the driver calls sk_xb_peer_changed() again once it is there.
 * @reconfigure: optional: the peer entered Reconfiguring; adapt to its new
 *		keys.  Return 0 (we enter Reconfigured) or -errno (fatal).
 *		Without it Reconfiguring is ignored.
 * @reconnect:	optional: a reconfiguration ends.  On the end that started
 *		it, the peer says Reconfigured (take up the keys it wrote);
 *		on the other, the peer is Connected again (what it set up in
 *		@reconfigure is in use now).  Return 0 (we enter Connected)
 *		or -errno (fatal).
 * @connected:	optional: called under @lock after a peer state change that
 *		leaves both ends Connected (also a repeated one): work held
 *		back until then may start (e.g. a reconfiguration).
 * @release:	optional, backend: called under @lock after @disconnect
 *		when the device closes for good (its "online" key is 0: the
 *		toolstack is removing it) and before Closed is written:
 *		give back what the device holds of dom0 (its backing file,
 *		locks) now, since the toolstack deems them free once it
 *		reads Closed, while the driver's remove comes only after the
 *		toolstack deleted the device's XenStore directory.  Must
 *		leave the device unable to connect again.
 */
struct sk_xb_ops {
	int (*setup)(struct sk_xb *xb);
	int (*connect)(struct sk_xb *xb);
	void (*disconnect)(struct sk_xb *xb);
	bool (*ready)(struct sk_xb *xb);
	int (*reconfigure)(struct sk_xb *xb);
	int (*reconnect)(struct sk_xb *xb);
	void (*connected)(struct sk_xb *xb);
	void (*release)(struct sk_xb *xb);
};

/**
 * struct sk_xb - xenbus state helper of one device end.
 * @dev:      the xenbus device.
 * @ops:      driver callbacks.
 * @frontend: which end we are.
 * @lock:     serialises state changes and the ops; taken by
 *	      sk_xb_peer_changed() and sk_xb_remove().
 * @priv:     driver data.
 * @ring_fatal: a ring of the device broke the protocol since the last
 *	      disconnect (sk_xb_ring_fatal()); set without @lock, cleared
 *	      under it once the driver's disconnect stopped the rings.
 */
struct sk_xb {
	struct xenbus_device *dev;
	const struct sk_xb_ops *ops;
	bool frontend;
	struct mutex lock;
	void *priv;
	bool ring_fatal;
};

void sk_xb_init(struct sk_xb *xb, struct xenbus_device *dev, bool frontend,
		const struct sk_xb_ops *ops, void *priv);
int sk_xb_start(struct sk_xb *xb);
void sk_xb_peer_changed(struct sk_xb *xb, enum xenbus_state peer);
void sk_xb_remove(struct sk_xb *xb);
int sk_xb_reconfigure(struct sk_xb *xb, int (*write)(struct sk_xb *xb));
void sk_xb_ring_fatal(struct sk_xb *xb);

/* ring/driver.c: the xenbus driver skeleton */

/**
 * struct sk_xb_driver - one splitkit xenbus driver.
 * @drv:      the xenbus driver: a driver sets .name, .ids and
 *	      .not_essential; sk_xb_driver_register() sets the callbacks.
 * @frontend: register as a frontend (else a backend).
 * @probe:    allocate the device's state, sk_xb_init() its struct sk_xb and
 *	      do what must precede the first state change (a backend
 *	      advertises its limits); store the helper in @xb.  Return 0 or
 *	      -errno with nothing left allocated.
 * @stop:     optional: first step of remove, before the helper tears the
 *	      connection down (mark the device dead, stop watches).
 * @free:     last step of remove, after the connection is gone; also
 *	      undoes a @probe whose device could not be announced.
 * @resume:   optional, frontend: after save/restore, before the state
 *	      helper sets up a new connection.
 * @groups:   optional sysfs attribute groups of the device.
 *
 * The skeleton keeps the struct sk_xb as the device's drvdata, creates and
 * removes @groups, announces the device (sk_xb_start()) and routes
 * otherend_changed to sk_xb_peer_changed().
 */
struct sk_xb_driver {
	struct xenbus_driver drv;
	bool frontend;
	int (*probe)(struct xenbus_device *dev, struct sk_xb **xb);
	void (*stop)(struct sk_xb *xb);
	void (*free)(struct sk_xb *xb);
	void (*resume)(struct sk_xb *xb);
	const struct attribute_group **groups;
};

int __sk_xb_driver_register(struct sk_xb_driver *d, struct module *owner,
			    const char *mod_name);
void sk_xb_driver_unregister(struct sk_xb_driver *d);
struct sk_xb *sk_xb_from_dev(struct device *dev);

#define sk_xb_driver_register(d) \
	__sk_xb_driver_register(d, THIS_MODULE, KBUILD_MODNAME)

/* A module whose init and exit only register and unregister @d. */
#define module_sk_xb_driver(d) \
	module_driver(d, sk_xb_driver_register, sk_xb_driver_unregister)

/* ring/grant.c: persistent-grant pool (frontend) */

struct sk_gpool;

/**
 * struct sk_gpage - one persistently granted page.
 * @lru:  pool list linkage (owned by the pool while the page is idle).
 * @page: the page.
 * @ref:  its grant reference, valid for the pool's peer.
 */
struct sk_gpage {
	struct list_head lru;
	struct page *page;
	grant_ref_t ref;
};

/**
 * struct sk_gpool_stats - counters of a persistent-grant pool.
 * @hits:      gets served by an idle page (a grant saved).
 * @misses:    gets that granted a new page.
 * @exhausted: gets refused at the max_pages bound.
 * @reclaimed: idle pages taken off the pool to end their grant (LRU).
 * @in_use:    pages currently handed out.
 * @idle:      pages currently idle in the pool.
 * @held:      pages whose grant could not be ended because the peer still
 *             maps them: not reused, counted against max_pages, freed
 *             when found unmapped.
 */
struct sk_gpool_stats {
	u64 hits;
	u64 misses;
	u64 exhausted;
	u64 reclaimed;
	unsigned int in_use;
	unsigned int idle;
	unsigned int held;
};

struct sk_gpool *sk_gpool_create(domid_t peer, unsigned int max_pages,
				 unsigned int max_free, bool readonly);
struct sk_gpage *sk_gpool_get(struct sk_gpool *gp, gfp_t gfp);
void sk_gpool_put(struct sk_gpool *gp, struct sk_gpage *pg);
void sk_gpool_reclaim(struct sk_gpool *gp, unsigned int keep);
void sk_gpool_get_stats(struct sk_gpool *gp, struct sk_gpool_stats *st);
void sk_gpool_destroy(struct sk_gpool *gp);

/* ring/grant.c: batched grant copy (backend) */

#define SK_GCOPY_BATCH	32

/**
 * struct sk_gcopy - a batch of grant copies, flushed in one hypercall.
 * @peer:   the domain whose grants are named.
 * @n:      copies queued.
 * @failed: copies the hypervisor refused, over the batch's life.
 * @ops:    the queued copies.
 */
struct sk_gcopy {
	domid_t peer;
	unsigned int n;
	unsigned int failed;
	struct gnttab_copy ops[SK_GCOPY_BATCH];
};

void sk_gcopy_init(struct sk_gcopy *c, domid_t peer);
int sk_gcopy_from_peer(struct sk_gcopy *c, grant_ref_t ref, u32 off,
		       void *dst, u32 len);
int sk_gcopy_to_peer(struct sk_gcopy *c, grant_ref_t ref, u32 off,
		     const void *src, u32 len);
int sk_gcopy_flush(struct sk_gcopy *c);

#endif /* _SPLITKIT_RING_H */
