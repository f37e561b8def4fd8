// SPDX-License-Identifier: GPL-2.0
/*
 * splitkit_front polled queues: blk-mq glue for HCTX_TYPE_POLL.  Responses
 * of a polled queue are reaped by blk-mq's ->poll (io_uring
 * IORING_SETUP_IOPOLL, preadv2 RWF_HIPRI) in the submitting task, with no
 * interrupt, no work item and no context switch.  Linux's xen-blkfront has
 * no poll queues.
 *
 * The rings themselves are splitkit_ring channels in polled mode
 * (sk_chan_params.nr_polled, ring/front.c and ring/chan.c): set up,
 * published and checked exactly like the event-driven ones, after them in
 * the same multi-queue set, so any blkif backend with multi-queue serves
 * them.  What is left here is the lifetime rule: ->poll may run at any
 * time, even while the queue is quiesced, so it finds its channel under
 * RCU (skf_queue.poll_ch), and a channel is unpublished and a grace period
 * waited out before the link is destroyed.
 */
#include <linux/rcupdate.h>

#include "common.h"

/**
 * skf_pollq_attach() - publish the polled channels to ->poll.
 * @dev: device whose link was just set up.  Under xb.lock.
 */
void skf_pollq_attach(struct skf_dev *dev)
{
	unsigned int i;

	for (i = dev->nr_queues - dev->nr_poll; i < dev->nr_queues; i++)
		rcu_assign_pointer(dev->queues[i].poll_ch, dev->queues[i].ch);
}

/**
 * skf_pollq_detach() - unpublish the polled channels before teardown.
 * @dev: device.  Under xb.lock, queue quiesced.
 *
 * After return no ->poll uses a channel of the current link, and each
 * polled channel's event counts are kept in its queue's counters.
 */
void skf_pollq_detach(struct skf_dev *dev)
{
	struct sk_chan_stats st;
	struct sk_chan *ch;
	bool any = false;
	unsigned int i;

	for (i = 0; dev->queues && i < dev->cap_queues; i++) {
		ch = rcu_dereference_protected(dev->queues[i].poll_ch,
					       lockdep_is_held(&dev->xb.lock));
		if (!ch)
			continue;
		RCU_INIT_POINTER(dev->queues[i].poll_ch, NULL);
		sk_chan_get_stats(ch, &st);
		WRITE_ONCE(dev->queues[i].stats.events,
			   dev->queues[i].stats.events + st.events);
		WRITE_ONCE(dev->queues[i].stats.spurious,
			   dev->queues[i].stats.spurious + st.spurious);
		any = true;
	}
	if (any)
		synchronize_rcu();	/* pollers that saw a channel are gone */
}

/**
 * skf_pollq_reap() - blk-mq ->poll: complete every response ready.
 * @q: a polled queue.
 * @iob: blk-mq's completion batch (unused: requests end one by one).
 *
 * Any task context, possibly several CPUs at once for one queue.
 *
 * Return: responses handled.
 */
int skf_pollq_reap(struct skf_queue *q, struct io_comp_batch *iob)
{
	struct sk_chan *ch;
	int n = 0;

	WRITE_ONCE(q->stats.poll_calls, q->stats.poll_calls + 1);
	rcu_read_lock();
	ch = rcu_dereference(q->poll_ch);
	if (ch)
		n = sk_chan_reap(ch);
	rcu_read_unlock();
	/* a broken ring was reported through skf_chan_ops.peer_error */
	return max(n, 0);
}
