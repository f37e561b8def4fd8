// SPDX-License-Identifier: GPL-2.0
/*
 * splitkit_ping_back: test backend (dom0) of the "ping" service, built on
 * splitkit_ring.  Its counterpart is front.c in the domU.
 *
 * Every request is checked (length within bounds before the payload is
 * touched, per-queue sequence order, payload content) on the private copy
 * splitkit_ring hands us, and answered at once from the consumer context;
 * the library pushes the answers once per batch.  Counters are in
 * /sys/bus/xen-backend/devices/splitkit-ping-<dom>-<id>/ping_stats/ and in
 * splitkit_ring's debugfs; they describe the current connection, or the
 * last one until the next connects.  Unbinding in the middle of traffic is
 * part of the test.
 *
 * Locking: sk_xb.lock serialises connect / disconnect; the per-queue
 * counters are written by that queue's consumer only.
 */
#include <linux/module.h>
#include <linux/slab.h>
#include <xen/xen.h>
#include <xen/xenbus.h>

#include <splitkit/export.h>
#include <splitkit/param.h>
#include <splitkit/ring.h>
#include <splitkit/stats.h>

#include "ping.h"

static unsigned int max_order = XENBUS_MAX_RING_GRANT_ORDER;
SK_PARAM_UINT(max_order, max_order, 0, XENBUS_MAX_RING_GRANT_ORDER, 0444,
	      "largest ring-page-order accepted, 0-4 (default 4)");

static unsigned int poll_ns = 20000;
SK_PARAM_UINT(poll_ns, poll_ns, 0, SK_CHAN_MAX_POLL_NS, 0444,
	      "longest adaptive poll window in ns, 0-1000000 (default 20000)");

/**
 * struct ping_back_queue - what one queue's consumer has seen.
 * @next: sequence number expected next.
 * @errors: requests out of order, too long, or corrupt.
 */
struct ping_back_queue {
	u64 next;
	u64 errors;
};

/**
 * struct ping_back - one splitkit-ping backend device.
 * @xb: xenbus state helper.
 * @link: the channels while connected, else NULL.
 * @q: per-queue state (of the last connection, until the next one).
 * @connects: successful connections.
 * @last: ring counters of the last connection, saved at disconnect.
 */
struct ping_back {
	struct sk_xb xb;
	struct sk_link *link;
	struct ping_back_queue q[SK_PING_MAX_QUEUES];
	unsigned int connects;
	struct sk_chan_stats last;
};

/* Sum the ring counters of every channel of the current link. */
static void ping_back_sum(struct ping_back *pb, struct sk_chan_stats *sum)
{
	struct sk_chan_stats st;
	unsigned int i;

	memset(sum, 0, sizeof(*sum));
	for (i = 0; i < sk_link_nr_chans(pb->link); i++) {
		sk_chan_get_stats(sk_link_chan(pb->link, i), &st);
		sum->events += st.events;
		sum->notify_sent += st.notify_sent;
		sum->poll_hits += st.poll_hits;
		sum->peer_errors += st.peer_errors;
	}
}

static void ping_back_msg(struct sk_chan *ch, const void *msg)
{
	struct ping_back *pb = sk_link_priv(sk_chan_link(ch));
	struct ping_back_queue *q = &pb->q[sk_chan_index(ch)];
	const struct sk_ping_req *req = msg;	/* our private copy */
	u8 payload[SK_PING_PAYLOAD];
	struct sk_ping_rsp rsp = {
		.seq = req->seq,
		.csum = ~req->csum,
		.status = 0,
	};
	u32 len = req->len;

	if (len > SK_PING_PAYLOAD || req->seq != q->next ||
	    len != sk_ping_len(req->seq)) {
		rsp.status = -EIO;
	} else {
		sk_ping_fill(payload, req->seq, len);
		if (memcmp(payload, req->payload, len) ||
		    req->csum != sk_ping_csum(payload, len, req->seq))
			rsp.status = -EIO;
	}
	if (rsp.status)
		WRITE_ONCE(q->errors, q->errors + 1);
	q->next = req->seq + 1;
	/* cannot fail: we just consumed the request this answers */
	if (sk_chan_put(ch, &rsp))
		WRITE_ONCE(q->errors, q->errors + 1);
}

static const struct sk_chan_ops ping_back_chan_ops = {
	.msg = ping_back_msg,
};

static struct sk_chan_params ping_back_params(struct ping_back *pb)
{
	struct sk_chan_params p = {
		.name = "pingb",
		SK_CHAN_SIZES(struct sk_ping_req, struct sk_ping_rsp),
		.max_order = min_t(unsigned int, max_order,
				   XENBUS_MAX_RING_GRANT_ORDER),
		.max_queues = SK_PING_MAX_QUEUES,
		.poll_ns = poll_ns,
		.ops = &ping_back_chan_ops,
		.priv = pb,
	};

	return p;
}

static int ping_back_connect(struct sk_xb *xb)
{
	struct ping_back *pb = xb->priv;
	struct sk_chan_params p = ping_back_params(pb);
	struct sk_link *l;

	memset(pb->q, 0, sizeof(pb->q));
	memset(&pb->last, 0, sizeof(pb->last));
	l = sk_link_back_connect(xb->dev, &p);
	if (IS_ERR(l))
		return PTR_ERR(l);
	pb->link = l;
	pb->connects++;
	dev_info(&xb->dev->dev, "connected: %u queues, ring-page-order %u\n",
		 sk_link_nr_chans(l), sk_link_order(l));
	return 0;
}

static void ping_back_disconnect(struct sk_xb *xb)
{
	struct ping_back *pb = xb->priv;
	unsigned int i;

	if (!pb->link)
		return;
	ping_back_sum(pb, &pb->last);
	for (i = 0; i < sk_link_nr_chans(pb->link); i++)
		dev_info(&xb->dev->dev,
			 "q%u: %llu requests checked, %llu errors\n", i,
			 pb->q[i].next, pb->q[i].errors);
	sk_link_destroy(pb->link);
	pb->link = NULL;
}

static const struct sk_xb_ops ping_back_xb_ops = {
	.connect = ping_back_connect,
	.disconnect = ping_back_disconnect,
};

/* sysfs: ping_stats/<name>, one value per file (<splitkit/stats.h>). */
#define PING_BACK_STATS(X)						\
	X(pb, connected) X(pb, requests) X(pb, errors) X(pb, events_in)	\
	X(pb, notify_out) X(pb, poll_hits) X(pb, peer_errors)		\
	X(pb, connects)
SK_STATS_ENUM(pb, PING_BACK_STATS);

static void ping_back_stats(struct device *d, u64 *v)
{
	struct ping_back *pb = sk_xb_from_dev(d)->priv;
	struct sk_chan_stats st;
	unsigned int i;
	bool connected;

	mutex_lock(&pb->xb.lock);
	connected = pb->link != NULL;
	if (connected)
		ping_back_sum(pb, &st);
	else
		st = pb->last;
	for (i = 0; i < SK_PING_MAX_QUEUES; i++) {
		v[pb_st_requests] += READ_ONCE(pb->q[i].next);
		v[pb_st_errors] += READ_ONCE(pb->q[i].errors);
	}
	v[pb_st_connected] = connected;
	v[pb_st_events_in] = st.events;
	v[pb_st_notify_out] = st.notify_sent;
	v[pb_st_poll_hits] = st.poll_hits;
	v[pb_st_peer_errors] = st.peer_errors;
	v[pb_st_connects] = pb->connects;
	mutex_unlock(&pb->xb.lock);
}
SK_STATS_GROUP(pb, "ping_stats", PING_BACK_STATS, ping_back_stats);

static const struct attribute_group *ping_back_groups[] = {
	&pb_stats_group,
	NULL
};

static int ping_back_probe(struct xenbus_device *dev, struct sk_xb **xb)
{
	struct ping_back *pb;
	struct sk_chan_params p;
	int err;

	pb = kzalloc(sizeof(*pb), GFP_KERNEL);
	if (!pb)
		return -ENOMEM;
	sk_xb_init(&pb->xb, dev, false, &ping_back_xb_ops, pb);
	p = ping_back_params(pb);
	err = sk_link_back_advertise(dev, &p);
	if (err) {
		kfree(pb);
		return err;
	}
	*xb = &pb->xb;
	return 0;
}

static void ping_back_free(struct sk_xb *xb)
{
	kfree(xb->priv);
}

static const struct xenbus_device_id ping_back_ids[] = {
	{ SK_PING_DEVTYPE },
	{ "" }
};

static struct sk_xb_driver ping_back_driver = {
	.drv = {
		.ids = ping_back_ids,
	},
	.probe = ping_back_probe,
	.free = ping_back_free,
	.groups = ping_back_groups,
};

static int __init ping_back_init(void)
{
	if (!xen_initial_domain())
		return -ENODEV;
	return sk_xb_driver_register(&ping_back_driver);
}

static void __exit ping_back_exit(void)
{
	sk_xb_driver_unregister(&ping_back_driver);
}

module_init(ping_back_init);
module_exit(ping_back_exit);

MODULE_DESCRIPTION("splitkit ping test service: backend");
MODULE_LICENSE("GPL");
MODULE_ALIAS("xen-backend:" SK_PING_DEVTYPE);
SPLITKIT_IMPORT_NS();
