/* SPDX-License-Identifier: GPL-2.0 */
/*
 * splitkit_ring internals shared by the files of ring/: the link and
 * channel structs and the functions one file offers another.  Drivers see
 * only <splitkit/ring.h>.
 *
 * Lock hierarchy (outermost first):
 *   sk_xb.lock (mutex, xenbus state changes; ring/xbstate.c)
 *     sk_chan.lock (spinlock, irqsave; the private ring state)
 * The consumer of a channel runs in one context at a time: its work item,
 * or its event handler with SK_CHAN_IRQ_CONTEXT (an IRQ handler never runs
 * concurrently with itself, and the work item is non-reentrant).
 */
#ifndef _SPLITKIT_RING_INTERNAL_H
#define _SPLITKIT_RING_INTERNAL_H

#include <linux/hrtimer.h>
#include <linux/spinlock.h>
#include <linux/workqueue.h>
#include <xen/grant_table.h>

#include <splitkit/ring.h>

/* Bits in sk_chan.busy: a consumer run is on; run again when it ends. */
#define SK_CHAN_BUSY		0
#define SK_CHAN_RERUN		1

/* Messages copied out of the ring per lock hold. */
#define SK_CHAN_BATCH		16
/* Messages one consumer run handles before it yields the CPU. */
#define SK_CHAN_BUDGET		1024
/* ... or for this long (ns), counting poll windows that found work. */
#define SK_CHAN_RUN_NS		(1000 * 1000)
/* Coalesced response events wait for at most 1 in this many in flight, */
#define SK_CHAN_COALESCE_DIV	4
/* ... and an answer waits no longer than this (ns) for the rest. */
#define SK_CHAN_COALESCE_NS	(1000 * 1000)
/* Events without work tolerated per second before we call it a storm. */
#define SK_STORM_PER_SEC	10000
#define SK_STORM_BURST		1000

/**
 * struct sk_chan - one ring and its event channel.
 * @link:      owning link.
 * @index:     queue number.
 * @lock:      protects @front / @back (both producer and consumer halves).
 * @front:     ring state on the frontend (@link->frontend).
 * @back:      ring state on the backend.
 * @sring:     the shared pages (frontend: ours; backend: mapped).
 * @grefs:     grant references of @sring (frontend only).
 * @evtchn:    local event channel port.
 * @irq:       Linux IRQ bound to @evtchn, or 0.
 * @polled:    responses are reaped by sk_chan_reap() in the caller's
 *	       context; events are only counted (frontend only).
 * @dead:      set before teardown; producers and the consumer stop.
 * @paused:    the consumer takes no message (sk_chan_pause()); producers
 *	       go on.
 * @broken:    the peer broke the protocol (also in @front / @back).
 * @busy:      SK_CHAN_BUSY while a consumer run is in progress;
 *	       SK_CHAN_RERUN if the work item found it busy and must run
 *	       after it.
 * @eoi_owed:  an event was taken and not yet EOI'd.
 * @work:      consumer work item.
 * @fatal_work: reports a broken ring to XenStore from process context.
 * @poll:      adaptive poll window (consumer context; max tunable).
 * @storm:     spurious-event rate limiter (consumer context).
 * @idle_since: ktime (ns) the consumer went idle; 0 if busy.
 * @spurious_run: the current consumer run found no work at all.
 * @resumed: the next consumer run continues one the budget cut short, so
 *	finding nothing then is no sign of a spurious event.
 * @coalesce_timer: frontend: started when the consumer asks for one event
 *	       for several answers (SK_CHAN_COALESCE_NS); on expiry asks for an
 *	       event at the next answer and runs the consumer if answers wait.
 * @stats:     counters; each written in one context only (see stats.c).
 * @scratch:   SK_CHAN_BATCH private message copies (consumer context).
 * @name:      IRQ name.
 * @dbg:       debugfs directory.
 */
struct sk_chan {
	struct sk_link *link;
	unsigned int index;
	spinlock_t lock;
	struct sk_front front;
	struct sk_back back;
	struct sk_sring *sring;
	grant_ref_t grefs[XENBUS_MAX_RING_GRANTS];
	evtchn_port_t evtchn;
	int irq;
	bool polled;
	bool dead;
	bool paused;
	bool broken;
	unsigned long busy;
	bool eoi_owed;
	struct work_struct work;
	struct work_struct fatal_work;
	struct sk_poll poll;
	struct sk_ratelimit storm;
	u64 idle_since;
	bool spurious_run;
	bool resumed;
	struct hrtimer coalesce_timer;
	struct sk_chan_stats stats;
	u8 *scratch;
	char name[32];
	struct dentry *dbg;
};

/**
 * struct sk_link - every channel of one xenbus device end.
 * @dev:      the xenbus device.
 * @params:   copy of the driver's parameters.
 * @desc:     ring shape, same for every channel.
 * @frontend: which end we are.
 * @order:    negotiated ring-page-order.
 * @nr_chans: number of channels in @chans.
 * @nr_polled: the last @nr_polled of them are polled (sk_chan.polled).
 * @chans:    the channels.
 * @dbg:      debugfs directory of the link.
 */
struct sk_link {
	struct xenbus_device *dev;
	struct sk_chan_params params;
	struct sk_ring_desc desc;
	bool frontend;
	unsigned int order;
	unsigned int nr_chans;
	unsigned int nr_polled;
	struct sk_chan *chans;
	struct dentry *dbg;
};

/* ring/link.c */
struct sk_link *sk_link_alloc(struct xenbus_device *dev,
			      const struct sk_chan_params *p, bool frontend,
			      unsigned int order, unsigned int nr_chans,
			      unsigned int nr_polled);
struct sk_link *sk_link_build(struct xenbus_device *dev,
			      const struct sk_chan_params *p, bool frontend,
			      unsigned int order, unsigned int nr_chans,
			      unsigned int nr_polled,
			      int (*setup)(struct sk_chan *ch));
void sk_link_free(struct sk_link *l);

/* ring/chan.c */
int sk_chan_bind_front(struct sk_chan *ch);
void sk_chan_pause(struct sk_chan *ch);
int sk_chan_bind_back(struct sk_chan *ch, evtchn_port_t remote);
void sk_chan_stop(struct sk_chan *ch);
void sk_chan_drain(struct sk_chan *ch);
void sk_chan_start(struct sk_chan *ch);
void sk_chan_init(struct sk_chan *ch, struct sk_link *l, unsigned int index);

/* ring/stats.c */
int sk_stats_init(void);
void sk_stats_exit(void);
void sk_stats_link_add(struct sk_link *l);
void sk_stats_link_del(struct sk_link *l);

/* Single-writer counter update; readers use READ_ONCE. */
static inline void sk_stat_add(u64 *ctr, u64 v)
{
	WRITE_ONCE(*ctr, *ctr + v);
}

extern struct workqueue_struct *sk_ring_wq;

#endif /* _SPLITKIT_RING_INTERNAL_H */
