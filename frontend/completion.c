// SPDX-License-Identifier: GPL-2.0
/*
 * splitkit_front completion side: every response the backend writes is
 * judged by the portable core (frontend/core/track.c) before it touches a
 * request, then the request is finished (reads copied out of the granted
 * pages, pages given back, blk-mq told).  Its counterpart in dom0 is the
 * backend's response producer (backend/, xen-blkback's make_response(),
 * QEMU's qdisk).
 *
 * Never trusting the backend: a response whose id is not an in-flight
 * slot, whose operation is not the one sent, or whose status blkif does not
 * define is a protocol violation.  The request it names (if any) fails with
 * an I/O error, the device is marked broken (all further I/O fails at
 * once), dmesg says "malicious or buggy backend" and the error goes to
 * XenStore from process context, which closes the device and fails every
 * request still in flight, even if the backend stays Connected; the
 * device works again once a backend connects afresh.  Nothing a
 * backend writes can make us index out of bounds, complete a request twice
 * or crash.
 *
 * Context: skf_chan_ops.msg runs in the ring's consumer context, one at a
 * time per queue: the event handler in hard-IRQ context (irq_completion=1,
 * the default, as xen-blkfront: no work item, no context switch), or the
 * splitkit_ring work item when the handler found the ring busy, a run used
 * up its budget or irq_completion=0; for a polled queue
 * it runs from blk-mq's ->poll (sk_chan_reap()) under the channel lock.
 * skf_recover_inflight() runs under xb.lock after the rings are gone.
 */
#include <linux/blk-mq.h>
#include <xen/xenbus.h>

#include "common.h"

/**
 * skf_backend_broken() - the backend broke the protocol: stop the device.
 * @dev: device.
 * @q: queue the violation was seen on; NULL before the connection's
 *	queues are laid out.
 * @why: what was wrong.
 * @id: the response's id.
 * @op: the response's operation.
 * @status: the response's status.
 *
 * Any context.  From now on every request fails with an I/O error, and
 * skf_dev.fatal_work (xenbus.c) stops the connection, failing the requests
 * still in flight, until a backend connects afresh.
 */
void skf_backend_broken(struct skf_dev *dev, struct skf_queue *q,
			const char *why, u64 id, unsigned int op, int status)
{
	if (q)
		WRITE_ONCE(q->stats.violations, q->stats.violations + 1);
	dev_err_ratelimited(&dev->xbdev->dev,
			    "malicious or buggy backend: %s (queue %d, id %llu, op %u, status %d)\n",
			    why, q ? (int)q->index : -1, id, op, status);
	if (!xchg(&dev->broken, true))
		schedule_work(&dev->fatal_work);
}

static const char *const skf_verdict_why[] = {
	[SKF_V_BAD_ID] = "response id out of range",
	[SKF_V_STALE] = "response for no pending request",
	[SKF_V_BAD_OP] = "response has the wrong operation",
	[SKF_V_BAD_STATUS] = "response has an undefined status",
};

/* The backend refuses an operation: stop sending it. */
static void skf_not_supported(struct skf_dev *dev, u8 op)
{
	switch (op) {
	case SK_BLKIF_OP_FLUSH_DISKCACHE:
	case SK_BLKIF_OP_WRITE_BARRIER:
		WRITE_ONCE(dev->feat.flush_refused, true);
		if (xchg(&dev->feat.flush_op, 0))
			dev_warn(&dev->xbdev->dev,
				 "backend refused flush; flushes now fail with EOPNOTSUPP\n");
		break;
	case SK_BLKIF_OP_DISCARD:
		if (xchg(&dev->feat.discard, false))
			dev_warn(&dev->xbdev->dev,
				 "backend refused discard; discards now fail with EOPNOTSUPP\n");
		break;
	}
}

/**
 * skf_complete_rsp() - judge one response and finish its request.
 * @q: the queue whose ring carried it.
 * @rsp: private copy of the response.
 * @polled: reaped by ->poll (counted separately).
 *
 * Consumer context of @q (one at a time): hard IRQ, a work item, or
 * ->poll under the channel lock.  Takes only irqsave locks (the grant
 * pool's) and never sleeps.
 */
void skf_complete_rsp(struct skf_queue *q, const struct sk_blkif_response *rsp,
		      bool polled)
{
	struct skf_dev *dev = q->dev;
	enum skf_verdict v;
	struct request *rq;
	blk_status_t st;
	u8 sent_op;
	u32 slot;

	v = skf_track_complete(&q->track, rsp->id, rsp->operation, rsp->status,
			       &slot);
	if (skf_verdict_violation(v))
		skf_backend_broken(dev, q, skf_verdict_why[v], rsp->id,
				   rsp->operation, rsp->status);
	if (!skf_verdict_retires(v))
		return;

	rq = q->rqs[slot];
	q->rqs[slot] = NULL;
	if (WARN_ON_ONCE(!rq))
		return;
	sent_op = q->slots[slot].op;
	switch (v) {
	case SKF_V_OK:
		st = BLK_STS_OK;
		if (req_op(rq) == REQ_OP_READ) {
			skf_bounce_copy(blk_mq_rq_to_pdu(rq), rq, true);
			WRITE_ONCE(q->stats.copied_r,
				   q->stats.copied_r + blk_rq_bytes(rq));
		}
		break;
	case SKF_V_NOTSUPP:
		skf_not_supported(dev, sent_op);
		st = BLK_STS_NOTSUPP;
		break;
	default:
		st = BLK_STS_IOERR;
		dev_err_ratelimited(&dev->xbdev->dev,
				    "backend I/O error: op %u (sent %u), sector %llu, %u sectors, status %d\n",
				    rsp->operation, sent_op,
				    (unsigned long long)blk_rq_pos(rq),
				    blk_rq_sectors(rq), rsp->status);
		break;
	}
	skf_bounce_put(dev, rq);
	WRITE_ONCE(q->stats.completed, q->stats.completed + 1);
	if (polled) {
		WRITE_ONCE(q->stats.poll_done, q->stats.poll_done + 1);
	} else {
		WRITE_ONCE(q->stats.irq_done, q->stats.irq_done + 1);
		if (!in_hardirq())	/* the ring's work item */
			WRITE_ONCE(q->stats.work_done,
				   q->stats.work_done + 1);
	}
	if (st != BLK_STS_OK)
		WRITE_ONCE(q->stats.errors, q->stats.errors + 1);
	blk_mq_end_request(rq, st);
}

static void skf_chan_msg(struct sk_chan *ch, const void *msg)
{
	struct skf_dev *dev = sk_link_priv(sk_chan_link(ch));
	unsigned int i = sk_chan_index(ch);

	/*
	 * Rings set up for a reconfiguration carry nothing until they are
	 * the connection's (the backend maps them first, we send first).
	 */
	if (sk_chan_link(ch) != READ_ONCE(dev->link)) {
		skf_backend_broken(dev, &dev->queues[0],
				   "response on a ring not in use yet", 0, 0,
				   0);
		return;
	}
	if (WARN_ON_ONCE(i >= dev->nr_queues))
		return;
	skf_complete_rsp(&dev->queues[i], msg, sk_chan_polled(ch));
}

/* The ring's indices went out of range: the channel stopped by itself. */
static void skf_chan_peer_error(struct sk_chan *ch)
{
	struct skf_dev *dev = sk_link_priv(sk_chan_link(ch));
	unsigned int i = sk_chan_index(ch);

	if (sk_chan_link(ch) != READ_ONCE(dev->link))
		i = 0;	/* a reconfiguration's new ring */
	/* the first connection's rings may run before they are laid out */
	skf_backend_broken(dev, i < dev->nr_queues ? &dev->queues[i] : NULL,
			   "response index out of range", 0, 0, 0);
}

const struct sk_chan_ops skf_chan_ops = {
	.msg = skf_chan_msg,
	.peer_error = skf_chan_peer_error,
};

/**
 * skf_recover_inflight() - take back every request the rings still held.
 * @dev: device whose rings are gone (no consumer runs any more).
 *
 * Under xb.lock, with the queue quiesced.  A request still in flight is
 * re-issued on the next connection (save/restore, backend restart), or
 * fails with an I/O error if the device is broken or going away.
 */
void skf_recover_inflight(struct skf_dev *dev)
{
	bool fail = READ_ONCE(dev->dead) || READ_ONCE(dev->broken);
	unsigned int i, s;

	for (i = 0; i < dev->cap_queues; i++) {
		struct skf_queue *q = &dev->queues[i];

		for (s = 0; s < q->track.nr; s++) {
			struct request *rq = q->rqs[s];

			if (!q->slots[s].busy || !rq)
				continue;
			q->rqs[s] = NULL;
			skf_bounce_put(dev, rq);
			if (fail) {
				WRITE_ONCE(q->stats.errors,
					   q->stats.errors + 1);
				blk_mq_end_request(rq, BLK_STS_IOERR);
			} else {
				WRITE_ONCE(q->stats.requeued,
					   q->stats.requeued + 1);
				blk_mq_requeue_request(rq, false);
			}
		}
		skf_track_reset(&q->track);
	}
}
