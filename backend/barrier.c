// SPDX-License-Identifier: GPL-2.0
/*
 * splitkit_back write barriers (feature-barrier), resting on the per-ring
 * in-flight counts of req.c.  BLKIF_OP_WRITE_BARRIER is what older frontends
 * (old Linux, some Windows PV drivers) send instead of FLUSH_DISKCACHE: a
 * write, possibly of no data, that is ordered against every other request
 * of its ring.  Its I/O is that of a flush, done by the backing's ops
 * (bdev.c: one write with REQ_PREFLUSH | REQ_FUA; file.c: fsync, write,
 * fsync; no data: the flush op); this file adds the ordering.
 *
 * Where the drain sits.  Each ring has one consumer (splitkit_ring's work
 * item, never two runs at once) that hands requests to skb_chan_msg() in
 * ring order.  Reads and writes are only submitted there and answered
 * later where their I/O completes, in bio end_io or the kiocb's
 * completion, or, for reads on bounce pages, by their ring's completion
 * work on skb_wq (req.c); a file's flush with data is also written in the
 * consumer (file.c); flushes without data and discards are done and
 * answered in the consumer.  The consumer is therefore already the one
 * point through which every request of a ring starts, and it may sleep.
 * A barrier is handled there, synchronously:
 *
 *  1. skb_barrier_drain(): wait until the ring's in-flight count is 1,
 *     the barrier itself - every request taken before it has been
 *     answered, so its I/O has completed;
 *  2. the flush I/O: the preflush (or the first fsync) makes those
 *     completed writes durable before the barrier's data is written, and
 *     FUA (or the second fsync) makes the barrier's data durable before it
 *     is answered;
 *  3. skb_barrier_wait(): wait until the ring's in-flight count is 0, the
 *     barrier answered.  Only then does skb_chan_msg() return and the
 *     consumer take the next request, so nothing behind the barrier starts
 *     before its write is done.
 *
 * Blocking the consumer needs no list of deferred requests, no state
 * machine and no lock: the requests behind the barrier simply stay in the
 * ring (or in the consumer's batch) until it returns.  The ring stalls for
 * the barrier's duration, which is what a barrier asks for; other rings and
 * disks go on (their consumers are other work items).  Nothing the consumer
 * waits for needs the consumer: completions are answered from bio end_io
 * or the kiocb's completion (or, for reads on bounce pages, from skb_wq's
 * work) with sk_chan_put()/sk_chan_push() under the ring's own spinlock.
 * The answers the consumer wrote itself (refusals, flushes, discards) are
 * published before each wait, not held back for the barrier's duration.
 * Disconnect waits for skb_dev.inflight, which counts the barrier too;
 * both waits end when the I/O ends.
 *
 * Linux's xen-blkback drains the same way (the ring's in-flight count) but
 * submits the barrier as a PREFLUSH write without FUA and goes on taking
 * requests while it runs; we wait for it and make it durable, so a
 * frontend may rely on every ordering the blkif barrier promises.
 * Barriers order one ring only, as in blkif: a frontend with several rings
 * orders across them itself.
 *
 * Locking: none.  skb_queue.inflight is raised only by its ring's consumer
 * and lowered by whoever answers; skb_queue.idle is a waitqueue with its
 * own lock.
 */
#include <linux/atomic.h>
#include <linux/wait.h>

#include "common.h"

/*
 * Sleep until at most @left requests of the ring are in flight; publish
 * the answers the consumer wrote on it first, if it is to sleep.
 */
static void skb_queue_wait(struct skb_dev *d, struct sk_chan *ch, int left)
{
	struct skb_queue *q = skb_queue(d, ch);

	if (atomic_read(&q->inflight) > left)
		sk_chan_push(ch);
	while (!wait_event_timeout(q->idle,
				   atomic_read(&q->inflight) <= left,
				   10 * HZ))
		dev_warn_ratelimited(&d->dev->dev,
				     "barrier on ring %u waits for %d request(s) in flight\n",
				     sk_chan_index(ch),
				     atomic_read(&q->inflight) - left);
}

/**
 * skb_barrier_drain() - wait for every earlier request of a barrier's ring.
 * @d: the device.
 * @ch: the ring; the barrier itself is counted in flight on it.
 *
 * Consumer context, sleeps.  On return every request taken from @ch before
 * the barrier has been answered.
 */
void skb_barrier_drain(struct skb_dev *d, struct sk_chan *ch)
{
	atomic64_inc(&d->stats.barriers);
	skb_queue_wait(d, ch, 1);
}

/**
 * skb_barrier_wait() - wait until a submitted barrier has been answered.
 * @d: the device.
 * @ch: the ring.
 *
 * Consumer context, sleeps.  The consumer takes no request from @ch before
 * this returns.
 */
void skb_barrier_wait(struct skb_dev *d, struct sk_chan *ch)
{
	skb_queue_wait(d, ch, 0);
}
