// SPDX-License-Identifier: GPL-2.0
/*
 * splitkit_ping_front: test frontend (domU) of the "ping" service, built on
 * splitkit_ring.  Its counterpart is back.c in dom0.
 *
 * When the link connects, one kernel thread per queue sends "count" pings,
 * pushing every "batch" of them, and the response callback checks that the
 * pongs come back in order with the right content.  Results and the ring
 * counters (events per message) are in
 * /sys/bus/xen/devices/splitkit-ping-<id>/ping_stats/, and in dmesg at the
 * end of a run.  Unbinding or unloading in the middle of traffic is part of
 * the test: disconnect stops the threads, then tears the link down.
 *
 * Locking: sk_xb.lock (the state helper) serialises setup / connect /
 * disconnect; per-queue counters are written by one context each (the
 * sender thread, or the channel's consumer) and read with READ_ONCE.
 */
#include <linux/kthread.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/wait.h>
#include <xen/xen.h>
#include <xen/xenbus.h>

#include <splitkit/export.h>
#include <splitkit/param.h>
#include <splitkit/ring.h>
#include <splitkit/stats.h>

#include "ping.h"

static unsigned long count = 1000000;
module_param(count, ulong, 0644);
MODULE_PARM_DESC(count, "pings per queue per connection (default 1000000)");

static unsigned int batch = 8;
SK_PARAM_UINT(batch, batch, 1, 4096, 0644,
	      "requests per push, 1-4096 (default 8)");

static unsigned int queues = 2;
SK_PARAM_UINT(queues, queues, 1, SK_PING_MAX_QUEUES, 0444,
	      "queues to ask for, 1-4 (default 2)");

static unsigned int order = 1;
SK_PARAM_UINT(order, order, 0, XENBUS_MAX_RING_GRANT_ORDER, 0444,
	      "largest ring-page-order to use, 0-4 (default 1)");

static unsigned int poll_ns = 20000;
SK_PARAM_UINT(poll_ns, poll_ns, 0, SK_CHAN_MAX_POLL_NS, 0444,
	      "longest adaptive poll window in ns, 0-1000000 (default 20000)");

static bool irq_context;
module_param(irq_context, bool, 0444);
MODULE_PARM_DESC(irq_context, "consume responses in hard IRQ (default n)");

/**
 * struct ping_queue - one queue's traffic.
 * @ch: the channel.
 * @thread: sender.
 * @target: pings to send in this connection ("count" when it started).
 * @sent: pings pushed (sender thread).
 * @received: pongs checked (consumer).
 * @errors: pongs out of order or corrupt, or send failures.
 * @start_ns: when the sender started.
 * @end_ns: when the last pong arrived.
 */
struct ping_queue {
	struct sk_chan *ch;
	struct task_struct *thread;
	u64 target;
	u64 sent;
	u64 received;
	u64 errors;
	u64 start_ns;
	u64 end_ns;
};

/**
 * struct ping_front - one splitkit-ping frontend device.
 * @xb: xenbus state helper.
 * @link: the channels while set up, else NULL.
 * @wq: senders wait here for ring space and for the last pong.
 * @nr: queues in use.
 * @q: per-queue state.
 * @runs: connections completed.
 */
struct ping_front {
	struct sk_xb xb;
	struct sk_link *link;
	wait_queue_head_t wq;
	unsigned int nr;
	struct ping_queue q[SK_PING_MAX_QUEUES];
	unsigned int runs;
};

static void ping_front_msg(struct sk_chan *ch, const void *msg)
{
	struct ping_front *pf = sk_link_priv(sk_chan_link(ch));
	struct ping_queue *q = &pf->q[sk_chan_index(ch)];
	const struct sk_ping_rsp *rsp = msg;
	u64 seq = q->received;
	u8 payload[SK_PING_PAYLOAD];
	u32 len = sk_ping_len(seq);

	sk_ping_fill(payload, seq, len);
	if (rsp->seq != seq || rsp->status ||
	    rsp->csum != ~sk_ping_csum(payload, len, seq))
		WRITE_ONCE(q->errors, q->errors + 1);
	WRITE_ONCE(q->received, seq + 1);
	if (seq + 1 == q->target)
		WRITE_ONCE(q->end_ns, ktime_get_ns());
}

static void ping_front_batch_done(struct sk_chan *ch)
{
	struct ping_front *pf = sk_link_priv(sk_chan_link(ch));

	wake_up(&pf->wq);
}

static const struct sk_chan_ops ping_front_chan_ops = {
	.msg = ping_front_msg,
	.batch_done = ping_front_batch_done,
};

static void ping_front_report(struct ping_front *pf, struct ping_queue *q)
{
	struct sk_chan_stats st;
	u64 ns = q->end_ns - q->start_ns;

	sk_chan_get_stats(q->ch, &st);
	dev_info(&pf->xb.dev->dev,
		 "q%u: %llu pings, %llu pongs, %llu errors, %llu us, events in %llu out %llu (%llu per 1000 msgs), poll hits %llu\n",
		 sk_chan_index(q->ch), q->sent, q->received, q->errors,
		 ns / 1000, st.events, st.notify_sent,
		 q->received ? (st.events + st.notify_sent) * 1000 /
			       q->received : 0,
		 st.poll_hits);
}

static int ping_front_sender(void *data)
{
	struct ping_queue *q = data;
	struct ping_front *pf = sk_link_priv(sk_chan_link(q->ch));
	struct sk_ping_req req;
	unsigned int k;
	int err;

	q->start_ns = ktime_get_ns();
	while (q->sent < q->target && !kthread_should_stop()) {
		wait_event_interruptible(pf->wq, sk_chan_space(q->ch) ||
					 kthread_should_stop());
		for (k = 0; k < max(batch, 1u) && q->sent < q->target; k++) {
			memset(&req, 0, sizeof(req));
			req.seq = q->sent;
			req.len = sk_ping_len(req.seq);
			sk_ping_fill(req.payload, req.seq, req.len);
			req.csum = sk_ping_csum(req.payload, req.len, req.seq);
			err = sk_chan_put(q->ch, &req);
			if (err == -ENOSPC)
				break;
			if (err) {
				WRITE_ONCE(q->errors, q->errors + 1);
				goto park;	/* torn down or broken */
			}
			WRITE_ONCE(q->sent, q->sent + 1);
		}
		sk_chan_push(q->ch);
		cond_resched();
	}
	wait_event_interruptible(pf->wq, READ_ONCE(q->received) >= q->sent ||
				 kthread_should_stop());
	if (!kthread_should_stop())
		ping_front_report(pf, q);
park:
	/* stay until disconnect: kthread_stop() needs a live thread */
	while (!kthread_should_stop()) {
		set_current_state(TASK_INTERRUPTIBLE);
		if (!kthread_should_stop())
			schedule();
		__set_current_state(TASK_RUNNING);
	}
	return 0;
}

static int ping_front_setup(struct sk_xb *xb)
{
	struct ping_front *pf = xb->priv;
	struct sk_chan_params p = {
		.name = "ping",
		SK_CHAN_SIZES(struct sk_ping_req, struct sk_ping_rsp),
		.max_order = order,
		.max_queues = clamp_t(unsigned int, queues, 1,
				      SK_PING_MAX_QUEUES),
		.flags = irq_context ? SK_CHAN_IRQ_CONTEXT : 0,
		.poll_ns = poll_ns,
		.ops = &ping_front_chan_ops,
		.priv = pf,
	};
	struct sk_link *l;
	unsigned int i;

	l = sk_link_front_setup(xb->dev, &p);
	if (IS_ERR(l))
		return PTR_ERR(l);
	pf->link = l;
	pf->nr = sk_link_nr_chans(l);
	for (i = 0; i < pf->nr; i++) {
		memset(&pf->q[i], 0, sizeof(pf->q[i]));
		pf->q[i].ch = sk_link_chan(l, i);
	}
	dev_info(&xb->dev->dev, "%u queues, ring-page-order %u, %u entries\n",
		 pf->nr, sk_link_order(l), sk_chan_nr_ents(pf->q[0].ch));
	return 0;
}

static int ping_front_connect(struct sk_xb *xb)
{
	struct ping_front *pf = xb->priv;
	struct ping_queue *q;
	unsigned int i;

	for (i = 0; i < pf->nr; i++) {
		q = &pf->q[i];
		q->target = READ_ONCE(count);
		q->thread = kthread_run(ping_front_sender, q, "sk-ping-%u", i);
		if (IS_ERR(q->thread)) {
			int err = PTR_ERR(q->thread);

			q->thread = NULL;
			return err;	/* disconnect stops the others */
		}
	}
	return 0;
}

static void ping_front_disconnect(struct sk_xb *xb)
{
	struct ping_front *pf = xb->priv;
	unsigned int i;

	for (i = 0; i < pf->nr; i++) {
		if (pf->q[i].thread) {
			kthread_stop(pf->q[i].thread);
			pf->q[i].thread = NULL;
		}
	}
	if (pf->link) {
		sk_link_destroy(pf->link);
		pf->link = NULL;
		pf->runs++;
	}
	for (i = 0; i < pf->nr; i++)
		pf->q[i].ch = NULL;
}

static const struct sk_xb_ops ping_front_xb_ops = {
	.setup = ping_front_setup,
	.connect = ping_front_connect,
	.disconnect = ping_front_disconnect,
};

/* sysfs: ping_stats/<name>, one value per file (<splitkit/stats.h>). */
#define PING_FRONT_STATS(X)						\
	X(pf, connected) X(pf, queues) X(pf, target) X(pf, sent)	\
	X(pf, received) X(pf, errors) X(pf, events_in)			\
	X(pf, notify_out) X(pf, poll_hits) X(pf, runs)
SK_STATS_ENUM(pf, PING_FRONT_STATS);

static void ping_front_stats(struct device *d, u64 *v)
{
	struct ping_front *pf = sk_xb_from_dev(d)->priv;
	struct sk_chan_stats st;
	unsigned int i;
	bool connected;

	mutex_lock(&pf->xb.lock);
	connected = pf->link != NULL;
	v[pf_st_connected] = connected;
	v[pf_st_queues] = connected ? pf->nr : 0;
	v[pf_st_runs] = pf->runs;
	for (i = 0; connected && i < pf->nr; i++) {
		v[pf_st_target] += READ_ONCE(pf->q[i].target);
		v[pf_st_sent] += READ_ONCE(pf->q[i].sent);
		v[pf_st_received] += READ_ONCE(pf->q[i].received);
		v[pf_st_errors] += READ_ONCE(pf->q[i].errors);
		sk_chan_get_stats(pf->q[i].ch, &st);
		v[pf_st_events_in] += st.events;
		v[pf_st_notify_out] += st.notify_sent;
		v[pf_st_poll_hits] += st.poll_hits;
	}
	mutex_unlock(&pf->xb.lock);
}
SK_STATS_GROUP(pf, "ping_stats", PING_FRONT_STATS, ping_front_stats);

static const struct attribute_group *ping_front_groups[] = {
	&pf_stats_group,
	NULL
};

static int ping_front_probe(struct xenbus_device *dev, struct sk_xb **xb)
{
	struct ping_front *pf;

	pf = kzalloc(sizeof(*pf), GFP_KERNEL);
	if (!pf)
		return -ENOMEM;
	init_waitqueue_head(&pf->wq);
	sk_xb_init(&pf->xb, dev, true, &ping_front_xb_ops, pf);
	*xb = &pf->xb;
	return 0;
}

static void ping_front_free(struct sk_xb *xb)
{
	kfree(xb->priv);
}

static const struct xenbus_device_id ping_front_ids[] = {
	{ SK_PING_DEVTYPE },
	{ "" }
};

static struct sk_xb_driver ping_front_driver = {
	.drv = {
		.ids = ping_front_ids,
		.not_essential = true,
	},
	.frontend = true,
	.probe = ping_front_probe,
	.free = ping_front_free,
	.groups = ping_front_groups,
};

module_sk_xb_driver(ping_front_driver);

MODULE_DESCRIPTION("splitkit ping test service: frontend");
MODULE_LICENSE("GPL");
MODULE_ALIAS("xen:" SK_PING_DEVTYPE);
SPLITKIT_IMPORT_NS();
