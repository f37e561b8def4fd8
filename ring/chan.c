// SPDX-License-Identifier: GPL-2.0
/*
 * splitkit_ring data path: producing, notifying, consuming and polling one
 * channel.  The same code serves both ends; on the frontend the channel
 * produces requests and consumes responses, on the backend the reverse
 * (ring/front.c and ring/back.c set channels up, this file runs them).
 *
 * Where events are saved:
 *  - push: one req_prod/rsp_prod store per batch, and an event only when
 *    the peer's event index asks for it (io/ring.h hold-off);
 *  - consume: events are late-EOI'd, so while a consumer run is busy the
 *    event channel stays masked and the peer's further pushes cost nothing;
 *  - coalesce (frontend, sk_chan_params.rsp_coalesce): with many requests
 *    in flight a dry consumer asks for its event several answers ahead
 *    (at most 1 answer in SK_CHAN_COALESCE_DIV of those in flight), so
 *    one event brings a batch; a timer bounds what an answer waits for
 *    the others (SK_CHAN_COALESCE_NS); with fewer than 8 in flight every
 *    answer still gets its own event;
 *  - poll: when the ring runs dry the consumer spins for an adaptive window
 *    (struct sk_poll) before re-arming its event index; a peer pushing
 *    within the window is picked up without any event at all.
 * Hostile peers: indices are validated by ring/core/ring.c; a violation
 * stops the channel and reports "malicious or buggy peer" to XenStore.
 * Events that bring no work are EOI'd as spurious, which makes the event
 * core delay the next delivery (bounded storm cost), and are counted
 * against a rate limit that flags storms.  One consumer run handles at most
 * SK_CHAN_BUDGET messages, or runs SK_CHAN_RUN_NS, before it requeues
 * itself, so a peer that never stops pushing cannot monopolise a CPU.
 *
 * Polled channels (frontend, sk_chan_params.nr_polled) have no consumer
 * run: whoever polls (blk-mq's ->poll in splitkit_front) calls
 * sk_chan_reap(), which copies responses out and hands them to the msg
 * callback under the channel lock, so pollers on several CPUs may race.
 * Their ring never asks for an event (ring/front.c); one that arrives all
 * the same is counted as spurious and late-EOI'd as such.
 */
#include <linux/ktime.h>
#include <linux/log2.h>
#include <linux/processor.h>
#include <xen/events.h>
#include <xen/xenbus.h>

#include <splitkit/export.h>

#include "internal.h"

static size_t sk_chan_in_size(const struct sk_chan *ch)
{
	return ch->link->frontend ? ch->link->desc.rsp_size :
				    ch->link->desc.req_size;
}

static bool sk_chan_peek(const struct sk_chan *ch)
{
	return ch->link->frontend ? sk_front_peek(&ch->front) :
				    sk_back_peek(&ch->back);
}

static void sk_chan_fatal_work(struct work_struct *work)
{
	struct sk_chan *ch = container_of(work, struct sk_chan, fatal_work);

	if (ch->link->params.xb)
		sk_xb_ring_fatal(ch->link->params.xb);
	xenbus_dev_fatal(ch->link->dev, -EIO,
			 "malicious or buggy peer: ring %u protocol violation",
			 ch->index);
}

/*
 * Consumer context (pollers on several CPUs may get here at once: one of
 * them reports).  The ring refuses all further work by itself.
 */
static void sk_chan_peer_error(struct sk_chan *ch)
{
	if (xchg(&ch->broken, true))
		return;
	sk_stat_add(&ch->stats.peer_errors, 1);
	dev_err_ratelimited(&ch->link->dev->dev,
			    "malicious or buggy peer: ring %u index out of range, channel stopped\n",
			    ch->index);
	schedule_work(&ch->fatal_work);
	if (ch->link->params.ops->peer_error)
		ch->link->params.ops->peer_error(ch);
}

/*
 * Copy up to SK_CHAN_BATCH incoming messages into ch->scratch.
 * Return: messages copied, or -EIO if the peer broke the ring.
 */
static int sk_chan_fetch(struct sk_chan *ch)
{
	size_t sz = sk_chan_in_size(ch);
	unsigned long flags;
	int i, n = 0;

	spin_lock_irqsave(&ch->lock, flags);
	for (i = 0; i < SK_CHAN_BATCH; i++) {
		void *dst = ch->scratch + i * sz;

		n = ch->link->frontend ? sk_front_get_rsp(&ch->front, dst) :
					 sk_back_get_req(&ch->back, dst);
		if (n <= 0)
			break;
	}
	spin_unlock_irqrestore(&ch->lock, flags);
	return n < 0 ? n : i;
}

/*
 * Frontend: the answers one response event may stand for.  Only with many
 * requests in flight (SK_CHAN_COALESCE_DIV answers of in-flight work per
 * answer waited for), so a lone request is never kept waiting for others.
 * Called with the lock held.
 */
static u32 sk_chan_rsp_batch(const struct sk_chan *ch)
{
	u32 batch = sk_front_inflight(&ch->front) / SK_CHAN_COALESCE_DIV;

	return clamp_t(u32, batch, 1, max(ch->link->params.rsp_coalesce, 1u));
}

/*
 * Frontend: a coalesced wait timed out (some in-flight requests are slow,
 * say writes held up while reads complete): ask for an event at the next
 * answer, and run the consumer for the answers that wait.  Hard IRQ.
 */
static enum hrtimer_restart sk_chan_coalesce_expired(struct hrtimer *t)
{
	struct sk_chan *ch = container_of(t, struct sk_chan, coalesce_timer);
	unsigned long flags;

	spin_lock_irqsave(&ch->lock, flags);
	/* under the lock: sk_chan_stop() cancels only after dead */
	if (!ch->dead) {
		sk_stat_add(&ch->stats.coalesce_expired, 1);
		if (sk_front_final_check_batch(&ch->front, 1))
			queue_work(sk_ring_wq, &ch->work);
	}
	spin_unlock_irqrestore(&ch->lock, flags);
	return HRTIMER_NORESTART;
}

/* Re-arm the event index; return messages found meanwhile or -EIO. */
static int sk_chan_final_check(struct sk_chan *ch)
{
	unsigned long flags;
	u32 batch;
	int n;

	spin_lock_irqsave(&ch->lock, flags);
	if (ch->link->frontend) {
		batch = sk_chan_rsp_batch(ch);
		n = sk_front_final_check_batch(&ch->front, batch);
		/* not once dead: sk_chan_stop() may have cancelled it */
		if (!n && batch > 1 && !ch->dead) {
			sk_stat_add(&ch->stats.coalesced, 1);
			/* answers in hand wait for the rest this long at most */
			hrtimer_start(&ch->coalesce_timer,
				      ns_to_ktime(SK_CHAN_COALESCE_NS),
				      HRTIMER_MODE_REL);
		}
	} else {
		n = sk_back_final_check(&ch->back);
	}
	spin_unlock_irqrestore(&ch->lock, flags);
	return n;
}

/* Spin for the poll window; return true if the peer produced meanwhile. */
static bool sk_chan_poll(struct sk_chan *ch)
{
	u32 window = sk_poll_window(&ch->poll);
	u64 t0, now;

	if (!window)
		return false;
	sk_stat_add(&ch->stats.polls, 1);
	t0 = ktime_get_ns();
	do {
		if (sk_chan_peek(ch)) {
			now = ktime_get_ns();
			sk_poll_update(&ch->poll, now - t0);
			sk_stat_add(&ch->stats.poll_hits, 1);
			return true;
		}
		cpu_relax();
		now = ktime_get_ns();
	} while (now - t0 < window && !READ_ONCE(ch->dead));
	return false;
}

static void sk_chan_account_run(struct sk_chan *ch, unsigned int msgs)
{
	unsigned int b;

	if (!msgs)
		return;
	b = min_t(unsigned int, ilog2(msgs),
		  ARRAY_SIZE(ch->stats.batch_hist) - 1);
	sk_stat_add(&ch->stats.batches, 1);
	sk_stat_add(&ch->stats.msgs_in, msgs);
	sk_stat_add(&ch->stats.batch_hist[b], 1);
}

/*
 * The run's budget (messages or time) is spent: publish, and have the
 * consumer run again (sk_chan_work()).  Return: true.
 */
static bool sk_chan_yield(struct sk_chan *ch, unsigned int msgs)
{
	sk_chan_push(ch);
	sk_stat_add(&ch->stats.budget_yields, 1);
	ch->resumed = true;
	sk_chan_account_run(ch, msgs);
	return true;
}

/*
 * One consumer run: hand every available message to the driver, publish
 * what the driver produced, poll, re-arm.
 * Return: true if the budget ran out and the run must be continued.
 */
static bool sk_chan_consume(struct sk_chan *ch)
{
	const struct sk_chan_ops *ops = ch->link->params.ops;
	size_t sz = sk_chan_in_size(ch);
	u64 start = ktime_get_ns();
	bool resumed = ch->resumed;
	unsigned int msgs = 0;
	int n, i;

	ch->resumed = false;
	/* the event came: a coalesced wait's timer has nothing left to do */
	if (ch->link->frontend)
		hrtimer_try_to_cancel(&ch->coalesce_timer);

	if (ch->idle_since) {
		sk_poll_update(&ch->poll, ktime_get_ns() - ch->idle_since);
		ch->idle_since = 0;
	}
	while (!READ_ONCE(ch->dead) && !ch->broken &&
	       !READ_ONCE(ch->paused)) {
		n = sk_chan_fetch(ch);
		if (n > 0) {
			for (i = 0; i < n; i++)
				ops->msg(ch, ch->scratch + i * sz);
			if (ops->batch_done)
				ops->batch_done(ch);
			msgs += n;
			if (msgs >= SK_CHAN_BUDGET ||
			    ktime_get_ns() - start > SK_CHAN_RUN_NS)
				return sk_chan_yield(ch, msgs);
			continue;
		}
		if (n < 0) {
			sk_chan_peer_error(ch);
			break;
		}
		/* dry: publish our own output before waiting for more */
		sk_chan_push(ch);
		/*
		 * Never spin with interrupts off (SK_CHAN_IRQ_CONTEXT).  A
		 * poll's hit is unchecked (the peer may take it back): the
		 * run's time is checked here too.
		 */
		if (!in_hardirq() && sk_chan_poll(ch)) {
			if (ktime_get_ns() - start > SK_CHAN_RUN_NS)
				return sk_chan_yield(ch, msgs);
			continue;
		}
		n = sk_chan_final_check(ch);
		if (n > 0)
			continue;
		if (n < 0) {
			sk_chan_peer_error(ch);
			break;
		}
		ch->idle_since = ktime_get_ns();
		break;
	}
	/*
	 * A continuation may find the rest already taken: not spurious; nor
	 * is an event while paused (the peer's requests wait in the ring).
	 */
	ch->spurious_run = !msgs && !resumed && !READ_ONCE(ch->paused);
	sk_chan_account_run(ch, msgs);
	return false;
}

/*
 * EOI the event that started a run (@spurious: it found no work; the event
 * core then delays the next delivery).
 */
static void sk_chan_eoi(struct sk_chan *ch, bool spurious)
{
	unsigned int flags = 0;

	if (spurious) {
		flags = XEN_EOI_FLAG_SPURIOUS;
		sk_stat_add(&ch->stats.spurious, 1);
		if (!sk_ratelimit_allow(&ch->storm, ktime_get_ns())) {
			sk_stat_add(&ch->stats.storms, 1);
			dev_warn_ratelimited(&ch->link->dev->dev,
					     "malicious or buggy peer: event storm on ring %u\n",
					     ch->index);
		}
	}
	xen_irq_lateeoi(READ_ONCE(ch->irq), flags);
}

/*
 * End a consumer run; start another if someone found this one busy and
 * may have work for it (sk_chan_work()).
 */
static void sk_chan_unbusy(struct sk_chan *ch)
{
	clear_bit_unlock(SK_CHAN_BUSY, &ch->busy);	/* the run's stores first */
	smp_mb__after_atomic();	/* BUSY clear before RERUN test; pairs below */
	if (test_and_clear_bit(SK_CHAN_RERUN, &ch->busy))
		queue_work(sk_ring_wq, &ch->work);
}

/*
 * A consumer run the caller holds SK_CHAN_BUSY for, ended by
 * sk_chan_unbusy().  @spurious: whether the run found no work, read before
 * BUSY is released (a rerun started then overwrites ch->spurious_run).
 * Return: true if the budget ran out and the run must be continued.
 */
static bool sk_chan_run(struct sk_chan *ch, bool *spurious)
{
	bool more = sk_chan_consume(ch);

	*spurious = ch->spurious_run;
	sk_chan_unbusy(ch);
	return more;
}

static void sk_chan_work(struct work_struct *work)
{
	struct sk_chan *ch = container_of(work, struct sk_chan, work);
	bool more, spurious;

	/*
	 * With SK_CHAN_IRQ_CONTEXT the handler may be consuming right now,
	 * perhaps past its final check: whoever queued us (the coalescing
	 * timer) may have found answers it will not see.  Have it, or us,
	 * run once more.
	 */
	if (test_and_set_bit(SK_CHAN_BUSY, &ch->busy)) {
		set_bit(SK_CHAN_RERUN, &ch->busy);
		smp_mb__after_atomic();	/* RERUN before BUSY test */
		if (!test_bit(SK_CHAN_BUSY, &ch->busy) &&
		    test_and_clear_bit(SK_CHAN_RERUN, &ch->busy))
			queue_work(sk_ring_wq, &ch->work);
		return;
	}
	more = sk_chan_run(ch, &spurious);
	if (more) {
		queue_work(sk_ring_wq, &ch->work);	/* EOI still owed */
		return;
	}
	if (xchg(&ch->eoi_owed, false))
		sk_chan_eoi(ch, spurious);
}

/*
 * The event is late-EOI'd: the channel stays masked until sk_chan_eoi(),
 * so this handler never overlaps a consumer run that an event started.
 */
static irqreturn_t sk_chan_interrupt(int irq, void *dev_id)
{
	struct sk_chan *ch = dev_id;
	bool more, spurious;

	/*
	 * Xen marks a freshly bound interdomain port pending, so the first
	 * event can arrive inside the bind call, before sk_chan_bind_*()
	 * stored the IRQ: record it here, or that event's EOI (and with it
	 * the channel) would be lost.
	 */
	WRITE_ONCE(ch->irq, irq);
	sk_stat_add(&ch->stats.events, 1);
	if (ch->polled) {
		/*
		 * The poller reaps and the ring never asks for an event, so
		 * every event here is spurious: say so, and the event core
		 * delays the next delivery (a storming peer costs bounded
		 * CPU, the XSA-391 class).
		 */
		sk_stat_add(&ch->stats.spurious, 1);
		xen_irq_lateeoi(irq, XEN_EOI_FLAG_SPURIOUS);
		return IRQ_HANDLED;
	}
	if (READ_ONCE(ch->dead)) {
		xen_irq_lateeoi(irq, XEN_EOI_FLAG_SPURIOUS);
		return IRQ_HANDLED;
	}
	if (!(ch->link->params.flags & SK_CHAN_IRQ_CONTEXT) ||
	    test_and_set_bit(SK_CHAN_BUSY, &ch->busy)) {
		WRITE_ONCE(ch->eoi_owed, true);
		queue_work(sk_ring_wq, &ch->work);
		return IRQ_HANDLED;
	}
	more = sk_chan_run(ch, &spurious);
	if (more) {
		WRITE_ONCE(ch->eoi_owed, true);
		queue_work(sk_ring_wq, &ch->work);
	} else {
		sk_chan_eoi(ch, spurious);
	}
	return IRQ_HANDLED;
}

/**
 * sk_chan_put() - write one outgoing message into the ring, unpublished.
 * @ch: channel.
 * @msg: a request (frontend) or response (backend), of the link's size.
 *
 * Any context.  Call sk_chan_push() after the last message of a batch; on
 * the backend, responses written from the msg callback are pushed by the
 * library at the end of the batch.
 *
 * Return: 0; -ENOSPC if the ring is full (frontend) or every consumed
 * request already has its response (backend); -ENODEV after teardown;
 * -EIO if the peer broke the ring.
 */
int sk_chan_put(struct sk_chan *ch, const void *msg)
{
	return sk_chan_put_commit(ch, msg, NULL, NULL);
}
SPLITKIT_EXPORT(sk_chan_put);

/**
 * sk_chan_put_commit() - sk_chan_put(), and a callback once it is written.
 * @ch: channel.
 * @msg: a request (frontend) or response (backend), of the link's size.
 * @commit: called only if @msg was written, before the channel's lock is
 *	    released, so before any sk_chan_push() can publish @msg (NULL:
 *	    none).  Runs with the lock held and interrupts off: it must not
 *	    sleep or call into the channel.
 * @arg: @commit's argument.
 *
 * Any context.  A frontend marks its request in flight here, so that an
 * answer can never be taken for it before it is in the ring (a hostile
 * backend may guess the next id; an answer to a request not yet written
 * is a protocol violation).
 *
 * Return: as sk_chan_put().
 */
int sk_chan_put_commit(struct sk_chan *ch, const void *msg,
		       void (*commit)(void *arg), void *arg)
{
	unsigned long flags;
	int err;

	spin_lock_irqsave(&ch->lock, flags);
	if (ch->dead)
		err = -ENODEV;
	else if (ch->link->frontend)
		err = sk_front_put_req(&ch->front, msg);
	else
		err = sk_back_put_rsp(&ch->back, msg);
	if (!err) {
		sk_stat_add(&ch->stats.msgs_out, 1);
		if (commit)
			commit(arg);
	}
	spin_unlock_irqrestore(&ch->lock, flags);
	return err;
}
SPLITKIT_EXPORT(sk_chan_put_commit);

/**
 * sk_chan_push() - publish the messages written so far, notify if asked.
 * @ch: channel.
 *
 * Any context.  The peer gets an event only if its event index says it is
 * waiting; otherwise it will find the messages by itself.
 *
 * Return: true if an event was sent.
 */
bool sk_chan_push(struct sk_chan *ch)
{
	unsigned long flags;
	bool notify = false, pushed;
	u32 before;

	spin_lock_irqsave(&ch->lock, flags);
	if (ch->dead)
		goto unlock;
	if (ch->link->frontend) {
		before = ch->front.req_pushed;
		notify = sk_front_push(&ch->front);
		pushed = before != ch->front.req_pushed;
	} else {
		before = ch->back.rsp_pushed;
		notify = sk_back_push(&ch->back);
		pushed = before != ch->back.rsp_pushed;
	}
	if (pushed)
		sk_stat_add(&ch->stats.pushes, 1);
	if (notify) {
		/* under the lock: teardown unbinds only after marking dead */
		notify_remote_via_irq(READ_ONCE(ch->irq));
		sk_stat_add(&ch->stats.notify_sent, 1);
	} else if (pushed) {
		sk_stat_add(&ch->stats.notify_suppressed, 1);
	}
unlock:
	spin_unlock_irqrestore(&ch->lock, flags);
	return notify;
}
SPLITKIT_EXPORT(sk_chan_push);

/**
 * sk_chan_space() - room for outgoing messages.
 * @ch: channel.
 *
 * Return: on the frontend, free request slots; on the backend, responses
 * owed (requests consumed and not yet answered).  0 after teardown.
 */
unsigned int sk_chan_space(struct sk_chan *ch)
{
	unsigned long flags;
	unsigned int n = 0;

	spin_lock_irqsave(&ch->lock, flags);
	if (!ch->dead)
		n = ch->link->frontend ? sk_front_free(&ch->front) :
					 sk_back_owed(&ch->back);
	spin_unlock_irqrestore(&ch->lock, flags);
	return n;
}
SPLITKIT_EXPORT(sk_chan_space);

/**
 * sk_chan_nr_ents() - entries in the channel's ring.
 * @ch: channel.
 *
 * Return: the ring size in entries (a power of two).
 */
unsigned int sk_chan_nr_ents(const struct sk_chan *ch)
{
	return ch->link->desc.nr_ents;
}
SPLITKIT_EXPORT(sk_chan_nr_ents);

/**
 * sk_chan_link() - the link a channel belongs to.
 * @ch: channel.
 *
 * Return: the link.
 */
struct sk_link *sk_chan_link(const struct sk_chan *ch)
{
	return ch->link;
}
SPLITKIT_EXPORT(sk_chan_link);

/**
 * sk_chan_index() - queue number of a channel.
 * @ch: channel.
 *
 * Return: 0 .. sk_link_nr_chans() - 1.
 */
unsigned int sk_chan_index(const struct sk_chan *ch)
{
	return ch->index;
}
SPLITKIT_EXPORT(sk_chan_index);

/**
 * sk_chan_broken() - has the peer broken this channel's protocol?
 * @ch: channel.
 *
 * Return: true once a malicious or buggy peer index was seen.
 */
bool sk_chan_broken(const struct sk_chan *ch)
{
	return READ_ONCE(ch->broken);
}
SPLITKIT_EXPORT(sk_chan_broken);

/**
 * sk_chan_polled() - is this a polled channel?
 * @ch: channel.
 *
 * Return: true if its responses are reaped by sk_chan_reap().
 */
bool sk_chan_polled(const struct sk_chan *ch)
{
	return ch->polled;
}
SPLITKIT_EXPORT(sk_chan_polled);

/**
 * sk_chan_reap() - polled channel: consume every response ready now.
 * @ch: a polled channel (sk_chan_polled()).
 *
 * Any task context, possibly on several CPUs at once for one channel.  The
 * msg callback runs under the channel lock (irqsave), so it must not put
 * or push on @ch.  The caller keeps @ch alive (e.g. RCU around the call,
 * synchronize_rcu() before sk_link_destroy()).
 *
 * Return: responses handled; -EIO if the peer broke the ring (the channel
 * is stopped and the error reported to XenStore); -EINVAL if @ch is not
 * polled.
 */
int sk_chan_reap(struct sk_chan *ch)
{
	const struct sk_chan_ops *ops = ch->link->params.ops;
	size_t sz = sk_chan_in_size(ch);
	unsigned long flags;
	int n, i, r = 0, found = 0;

	if (WARN_ON_ONCE(!ch->polled))
		return -EINVAL;
	do {
		spin_lock_irqsave(&ch->lock, flags);
		for (n = 0; n < SK_CHAN_BATCH && !ch->dead; n++) {
			r = sk_front_get_rsp(&ch->front, ch->scratch + n * sz);
			if (r <= 0)
				break;
		}
		/* judged under the lock: pollers on other CPUs race here */
		for (i = 0; i < n; i++)
			ops->msg(ch, ch->scratch + i * sz);
		sk_chan_account_run(ch, n);
		spin_unlock_irqrestore(&ch->lock, flags);
		found += n;
	} while (n == SK_CHAN_BATCH);
	if (r < 0) {
		sk_chan_peer_error(ch);
		return -EIO;
	}
	return found;
}
SPLITKIT_EXPORT(sk_chan_reap);

/**
 * sk_chan_set_poll_ns() - tune the longest adaptive poll window.
 * @ch: channel.
 * @ns: nanoseconds, clamped to SK_CHAN_MAX_POLL_NS; 0 disables polling.
 *
 * Takes effect at the consumer's next poll.
 */
void sk_chan_set_poll_ns(struct sk_chan *ch, u32 ns)
{
	unsigned long flags;

	/* the consumer reads the window locklessly; writers serialise here */
	spin_lock_irqsave(&ch->lock, flags);
	sk_poll_set_max(&ch->poll, min(ns, SK_CHAN_MAX_POLL_NS));
	spin_unlock_irqrestore(&ch->lock, flags);
}
SPLITKIT_EXPORT(sk_chan_set_poll_ns);

/**
 * sk_chan_get_stats() - snapshot a channel's counters.
 * @ch: channel.
 * @st: filled with the counters (each read once, not atomically together).
 */
void sk_chan_get_stats(const struct sk_chan *ch, struct sk_chan_stats *st)
{
	const u64 *src = (const u64 *)&ch->stats;
	u64 *dst = (u64 *)st;
	size_t i;

	BUILD_BUG_ON(sizeof(*st) % sizeof(u64));
	for (i = 0; i < sizeof(*st) / sizeof(u64); i++)
		dst[i] = READ_ONCE(src[i]);
}
SPLITKIT_EXPORT(sk_chan_get_stats);

/**
 * sk_chan_bind_front() - allocate and bind the frontend's event channel.
 * @ch: channel.
 *
 * Return: 0 or -errno (also reported with xenbus_dev_fatal()).
 */
int sk_chan_bind_front(struct sk_chan *ch)
{
	struct xenbus_device *dev = ch->link->dev;
	int err, irq;

	err = xenbus_alloc_evtchn(dev, &ch->evtchn);
	if (err)
		return err;
	irq = bind_evtchn_to_irqhandler_lateeoi(ch->evtchn, sk_chan_interrupt,
						0, ch->name, ch);
	if (irq < 0) {
		xenbus_dev_fatal(dev, irq, "binding event channel %u",
				 ch->evtchn);
		goto free_evtchn;
	}
	WRITE_ONCE(ch->irq, irq);
	return 0;

free_evtchn:
	xenbus_free_evtchn(dev, ch->evtchn);
	return irq;
}

/**
 * sk_chan_bind_back() - bind the backend to the frontend's event channel.
 * @ch: channel.
 * @remote: the port the frontend published.
 *
 * Return: 0 or -errno (also reported with xenbus_dev_fatal()).
 */
int sk_chan_bind_back(struct sk_chan *ch, evtchn_port_t remote)
{
	struct xenbus_device *dev = ch->link->dev;
	int irq;

	irq = bind_interdomain_evtchn_to_irqhandler_lateeoi(dev, remote,
							    sk_chan_interrupt,
							    0, ch->name, ch);
	if (irq < 0) {
		xenbus_dev_fatal(dev, irq,
				 "binding event channel %u of the frontend",
				 remote);
		return irq;
	}
	WRITE_ONCE(ch->irq, irq);
	return 0;
}

/**
 * sk_chan_start() - pick up work the peer queued before we were bound.
 * @ch: a bound channel.
 */
void sk_chan_start(struct sk_chan *ch)
{
	queue_work(sk_ring_wq, &ch->work);
}

/**
 * sk_chan_stop() - stop a channel for good: no more callbacks, no IRQ.
 * @ch: channel, bound or not.
 *
 * Process context.  Marks the channel dead (producers get -ENODEV), masks
 * and waits out its event handler, waits for the consumer work, then
 * unbinds and closes the event channel.  The ring memory is left to the
 * caller.
 */
void sk_chan_stop(struct sk_chan *ch)
{
	unsigned long flags;

	spin_lock_irqsave(&ch->lock, flags);
	WRITE_ONCE(ch->dead, true);
	spin_unlock_irqrestore(&ch->lock, flags);
	if (ch->irq > 0)
		disable_irq(ch->irq);	/* waits for a running handler */
	cancel_work_sync(&ch->work);
	cancel_work_sync(&ch->fatal_work);
	/* started by no consumer once dead; its callback queues no work */
	hrtimer_cancel(&ch->coalesce_timer);
	if (ch->irq > 0) {
		unbind_from_irqhandler(ch->irq, ch);
		ch->irq = 0;
	}
}

/**
 * sk_chan_pause() - no consumer run takes a message of @ch any more.
 * @ch: a bound, event-driven channel.
 *
 * Process context.  Runs already going (in the event handler, in the
 * work item) are waited for; later ones see @paused and take nothing.
 */
void sk_chan_pause(struct sk_chan *ch)
{
	WRITE_ONCE(ch->paused, true);
	smp_mb();	/* the flag before the waits: later runs see it */
	if (ch->irq > 0)
		synchronize_irq(ch->irq);
	flush_work(&ch->work);
}

/**
 * sk_chan_drain() - stop a channel, then consume what its peer left in it.
 * @ch: channel whose peer has stopped producing (sk_link_drain()).
 *
 * Process context.  After sk_chan_stop() no other consumer runs, so the
 * messages go to the msg callback here, without the channel lock; a ring
 * whose indices are out of range goes to the driver's peer_error (the
 * link is going away: nothing is reported to XenStore from here).
 */
void sk_chan_drain(struct sk_chan *ch)
{
	const struct sk_chan_ops *ops = ch->link->params.ops;
	size_t sz = sk_chan_in_size(ch);
	int n, i;

	sk_chan_stop(ch);
	if (!ch->sring || ch->broken)
		return;
	while ((n = sk_chan_fetch(ch)) > 0) {
		for (i = 0; i < n; i++)
			ops->msg(ch, ch->scratch + i * sz);
		sk_chan_account_run(ch, n);
	}
	if (n < 0) {
		WRITE_ONCE(ch->broken, true);	/* a second drain: nothing */
		if (ops->peer_error)
			ops->peer_error(ch);
	}
}

/**
 * sk_chan_init() - initialise the software state of a channel.
 * @ch: zeroed channel memory.
 * @l: owning link.
 * @index: queue number.
 */
void sk_chan_init(struct sk_chan *ch, struct sk_link *l, unsigned int index)
{
	ch->link = l;
	ch->index = index;
	spin_lock_init(&ch->lock);
	INIT_WORK(&ch->work, sk_chan_work);
	INIT_WORK(&ch->fatal_work, sk_chan_fatal_work);
	hrtimer_init(&ch->coalesce_timer, CLOCK_MONOTONIC, HRTIMER_MODE_REL);
	ch->coalesce_timer.function = sk_chan_coalesce_expired;
	sk_poll_init(&ch->poll, min(l->params.poll_ns, SK_CHAN_MAX_POLL_NS));
	sk_ratelimit_init(&ch->storm, SK_STORM_PER_SEC, SK_STORM_BURST,
			  ktime_get_ns());
	snprintf(ch->name, sizeof(ch->name), "sk-%s-q%u", l->params.name,
		 index);
}
