// SPDX-License-Identifier: GPL-2.0
/*
 * splitkit_ring frontend channel set-up: negotiate ring size and queue
 * count with the backend, allocate and grant the rings, allocate event
 * channels and publish everything in XenStore, as blkfront does.  The
 * counterpart is ring/back.c in the backend domain.
 *
 * Polled channels are a mode of the same rings: the driver asks for N
 * event-driven plus M polled channels (sk_chan_params.nr_event/nr_polled),
 * all published here, once, as one multi-queue set; a polled ring never
 * asks for a response event (rsp_event stays 0) and is reaped by
 * sk_chan_reap() in the caller's context (ring/chan.c).
 *
 * XenStore keys (all under the frontend's device directory, written here):
 *   ring-page-order         order, only when > 0
 *   multi-queue-num-queues  n (event-driven + polled), only when n > 1
 *   [queue-%u/]ring-ref     the grant, when order == 0
 *   [queue-%u/]ring-ref%u   one grant per page, when order > 0
 *   [queue-%u/]event-channel  our unbound port
 * Read from the backend: max-ring-page-order, multi-queue-max-queues.
 */
#include <linux/slab.h>
#include <xen/grant_table.h>
#include <xen/xenbus.h>

#include <splitkit/export.h>

#include "internal.h"

static int sk_front_negotiate(struct xenbus_device *dev,
			      const struct sk_chan_params *p,
			      unsigned int *order, u32 *nr, u32 *nr_polled)
{
	u32 peer_order, peer_queues, max_total = max(p->max_queues, 1u);
	u32 nr_event;
	int err;

	err = sk_xs_read_u32(dev->otherend, "max-ring-page-order", U32_MAX, 0,
			     &peer_order);
	if (!err)
		err = sk_xs_read_u32(dev->otherend, "multi-queue-max-queues",
				     U32_MAX, 1, &peer_queues);
	if (err) {
		xenbus_dev_fatal(dev, err,
				 "malicious or buggy peer: bad max-ring-page-order or multi-queue-max-queues");
		return err;
	}
	*order = min3(peer_order, p->max_order,
		      (u32)XENBUS_MAX_RING_GRANT_ORDER);
	err = sk_xs_queues(peer_queues, max_total, p->nr_event ?: max_total,
			   p->nr_polled, &nr_event, nr_polled);
	*nr = nr_event + *nr_polled;
	return err;
}

static int sk_front_alloc_chan(struct sk_chan *ch)
{
	struct sk_link *l = ch->link;
	unsigned int nr_pages = 1u << l->order;
	void *ring;
	int err;

	err = xenbus_setup_ring(l->dev, GFP_NOIO | __GFP_HIGH, &ring, nr_pages,
				ch->grefs);
	if (err)
		return err;
	ch->sring = ring;
	sk_front_init(&ch->front, ch->sring, &l->desc);
	/*
	 * A polled ring never asks for a response event: the backend's
	 * pushes raise none until its index wraps 2^32 responses later.
	 */
	if (ch->polled)
		WRITE_ONCE(ch->sring->rsp_event, 0);
	return sk_chan_bind_front(ch);
}

/**
 * sk_link_front_alloc() - frontend: create the rings and event channels.
 * @dev: the frontend xenbus device; the backend's keys must be readable.
 * @p: channel parameters.
 *
 * Negotiates the order (the smaller of ours and the backend's
 * max-ring-page-order) and the queue count (sk_xs_queues(): event-driven
 * and polled channels within multi-queue-max-queues), allocates and grants
 * 2^order
 * zeroed pages per queue, allocates and binds an event channel per queue.
 * Nothing is written to XenStore; see sk_link_front_publish().
 *
 * Return: the link or an ERR_PTR(); errors are also reported to XenStore.
 */
struct sk_link *sk_link_front_alloc(struct xenbus_device *dev,
				    const struct sk_chan_params *p)
{
	unsigned int order;
	u32 nr, nr_polled;
	int err;

	err = sk_front_negotiate(dev, p, &order, &nr, &nr_polled);
	if (err)
		return ERR_PTR(err);
	return sk_link_build(dev, p, true, order, nr, nr_polled,
			     sk_front_alloc_chan);
}
SPLITKIT_EXPORT(sk_link_front_alloc);

static int sk_front_publish_chan(struct sk_chan *ch,
				 struct xenbus_transaction xbt)
{
	struct sk_link *l = ch->link;
	const char *dir = l->dev->nodename;
	char *qdir = NULL, key[20];
	unsigned int i;
	int err;

	if (l->nr_chans > 1) {
		qdir = kasprintf(GFP_KERNEL, "%s/queue-%u", dir, ch->index);
		if (!qdir)
			return -ENOMEM;
		dir = qdir;
	}
	if (!l->order) {
		err = xenbus_printf(xbt, dir, "ring-ref", "%u", ch->grefs[0]);
	} else {
		for (i = 0, err = 0; i < (1u << l->order) && !err; i++) {
			snprintf(key, sizeof(key), "ring-ref%u", i);
			err = xenbus_printf(xbt, dir, key, "%u", ch->grefs[i]);
		}
	}
	if (!err)
		err = xenbus_printf(xbt, dir, "event-channel", "%u",
				    ch->evtchn);
	kfree(qdir);
	return err;
}

/**
 * sk_link_front_publish() - frontend: write the link's keys to XenStore.
 * @l: link from sk_link_front_alloc().
 * @xbt: transaction the caller also writes its own keys in.
 *
 * Also removes ring-page-order / multi-queue-num-queues when they do not
 * apply, in case an earlier connection wrote them.
 *
 * Return: 0 or the xenbus error (-EAGAIN: restart the transaction).
 */
int sk_link_front_publish(struct sk_link *l, struct xenbus_transaction xbt)
{
	const char *dir = l->dev->nodename;
	unsigned int i;
	int err;

	/*
	 * Keys of an earlier connection with a larger order or more queues
	 * must not survive: the backend would map stale grants.
	 */
	if (l->order)
		err = xenbus_printf(xbt, dir, "ring-page-order", "%u",
				    l->order);
	else
		err = sk_xs_rm(xbt, dir, "ring-page-order");
	if (err)
		return err;
	if (l->nr_chans > 1)
		err = xenbus_printf(xbt, dir, "multi-queue-num-queues", "%u",
				    l->nr_chans);
	else
		err = sk_xs_rm(xbt, dir, "multi-queue-num-queues");
	for (i = 0; i < l->nr_chans && !err; i++)
		err = sk_front_publish_chan(&l->chans[i], xbt);
	return err;
}
SPLITKIT_EXPORT(sk_link_front_publish);

static int sk_front_publish_xbt(struct xenbus_transaction xbt, void *l)
{
	return sk_link_front_publish(l, xbt);
}

/**
 * sk_link_front_setup() - frontend: allocate and publish in one step.
 * @dev: the frontend xenbus device.
 * @p: channel parameters.
 *
 * sk_link_front_alloc() plus sk_link_front_publish() in a XenStore
 * transaction of its own (sk_xs_transact()).
 *
 * Return: the link or an ERR_PTR(); errors are also reported to XenStore.
 */
struct sk_link *sk_link_front_setup(struct xenbus_device *dev,
				    const struct sk_chan_params *p)
{
	struct sk_link *l;
	int err;

	l = sk_link_front_alloc(dev, p);
	if (IS_ERR(l))
		return l;
	err = sk_xs_transact(sk_front_publish_xbt, l);
	if (err) {
		xenbus_dev_fatal(dev, err, "writing ring keys");
		sk_link_destroy(l);
		return ERR_PTR(err);
	}
	return l;
}
SPLITKIT_EXPORT(sk_link_front_setup);
