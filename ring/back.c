// SPDX-License-Identifier: GPL-2.0
/*
 * splitkit_ring backend channel set-up: advertise what we accept, then read
 * the frontend's keys, validate every one of them, map the (multi-page)
 * rings and bind the event channels, as blkback does.  The counterpart is
 * ring/front.c in the frontend domain; the key list is there and in
 * Documentation/ring.rst.
 *
 * Everything read here is written by a possibly malicious or buggy
 * frontend: numbers go through the strict parser, the order and queue
 * count are checked against what we advertised, and a failure leaves
 * nothing mapped or bound.
 */
#include <linux/slab.h>
#include <xen/xenbus.h>

#include <splitkit/export.h>

#include "internal.h"

/**
 * sk_link_back_advertise() - backend: publish the limits we accept.
 * @dev: the backend xenbus device (call from probe, before InitWait).
 * @p: channel parameters (max_order, max_queues).
 *
 * Writes max-ring-page-order and multi-queue-max-queues.
 *
 * Return: 0 or the xenbus error.
 */
int sk_link_back_advertise(struct xenbus_device *dev,
			   const struct sk_chan_params *p)
{
	unsigned int order = min_t(unsigned int, p->max_order,
				   XENBUS_MAX_RING_GRANT_ORDER);
	int err;

	err = xenbus_printf(XBT_NIL, dev->nodename, "max-ring-page-order",
			    "%u", order);
	if (!err)
		err = xenbus_printf(XBT_NIL, dev->nodename,
				    "multi-queue-max-queues", "%u",
				    max(p->max_queues, 1u));
	if (err)
		xenbus_dev_fatal(dev, err, "writing ring limits");
	return err;
}
SPLITKIT_EXPORT(sk_link_back_advertise);

static int sk_back_read_refs(struct sk_chan *ch, const char *dir,
			     grant_ref_t *refs, evtchn_port_t *port)
{
	unsigned int nr_pages = 1u << ch->link->order, i;
	char key[20];
	u32 v;
	int err;

	for (i = 0; i < nr_pages; i++) {
		if (!ch->link->order)
			strscpy(key, "ring-ref", sizeof(key));
		else
			snprintf(key, sizeof(key), "ring-ref%u", i);
		err = sk_xs_read_u32(dir, key, U32_MAX, U32_MAX, &v);
		if (err || v == U32_MAX)
			return err ? err : -ENOENT;
		refs[i] = v;
	}
	err = sk_xs_read_u32(dir, "event-channel", U32_MAX, U32_MAX, &v);
	if (err || v == U32_MAX)
		return err ? err : -ENOENT;
	*port = v;
	return 0;
}

static int sk_back_map_chan(struct sk_chan *ch)
{
	struct sk_link *l = ch->link;
	struct xenbus_device *dev = l->dev;
	grant_ref_t refs[XENBUS_MAX_RING_GRANTS];
	evtchn_port_t port;
	char *qdir = NULL;
	const char *dir = dev->otherend;
	void *ring;
	int err;

	if (l->nr_chans > 1) {
		qdir = kasprintf(GFP_KERNEL, "%s/queue-%u", dev->otherend,
				 ch->index);
		if (!qdir)
			return -ENOMEM;
		dir = qdir;
	}
	err = sk_back_read_refs(ch, dir, refs, &port);
	if (err) {
		xenbus_dev_fatal(dev, err,
				 "malicious or buggy peer: missing or bad ring-ref/event-channel in %s",
				 dir);
		goto free_qdir;
	}
	err = xenbus_map_ring_valloc(dev, refs, 1u << l->order, &ring);
	if (err)
		goto free_qdir;	/* xenbus_map_ring_valloc reported it */
	ch->sring = ring;
	sk_back_init(&ch->back, ch->sring, &l->desc);
	err = sk_chan_bind_back(ch, port);
free_qdir:
	kfree(qdir);
	return err;
}

/**
 * sk_link_back_connect() - backend: map and bind the frontend's channels.
 * @dev: the backend xenbus device; the frontend's keys must be written.
 * @p: channel parameters (the same as given to sk_link_back_advertise()).
 *
 * Reads ring-page-order (default 0) and multi-queue-num-queues (default 1),
 * refusing values above what we advertised, then every queue's ring-ref(s)
 * and event-channel; maps each ring and binds each event channel.  Any
 * request the frontend queued before we got here is picked up at once.
 *
 * Return: the link or an ERR_PTR(); errors are also reported to XenStore.
 */
struct sk_link *sk_link_back_connect(struct xenbus_device *dev,
				     const struct sk_chan_params *p)
{
	u32 order, nr, max_order;
	struct sk_link *l;
	unsigned int i;
	int err;

	max_order = min_t(u32, p->max_order, XENBUS_MAX_RING_GRANT_ORDER);
	err = sk_xs_read_u32(dev->otherend, "ring-page-order", max_order, 0,
			     &order);
	if (!err)
		err = sk_xs_read_u32(dev->otherend, "multi-queue-num-queues",
				     max(p->max_queues, 1u), 1, &nr);
	if (!err && !nr)
		err = -EINVAL;
	if (err) {
		xenbus_dev_fatal(dev, err,
				 "malicious or buggy peer: bad ring-page-order or multi-queue-num-queues");
		return ERR_PTR(err);
	}
	l = sk_link_build(dev, p, false, order, nr, 0, sk_back_map_chan);
	if (IS_ERR(l))
		return l;
	for (i = 0; i < nr; i++)
		sk_chan_start(&l->chans[i]);
	return l;
}
SPLITKIT_EXPORT(sk_link_back_connect);
