// SPDX-License-Identifier: GPL-2.0
/*
 * splitkit_ring frontend channel set-up: negotiate ring size and queue
 * count with the backend, allocate and grant the rings, allocate event
 * channels and publish everything in XenStore, as blkfront does.  The
 * counterpart is ring/back.c in the backend domain.
 *
 * XenStore keys (all under the frontend's device directory, written here):
 *   ring-page-order         order, only when > 0
 *   multi-queue-num-queues  n, only when n > 1
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
#include "xs.h"

static int sk_front_negotiate(struct xenbus_device *dev,
			      const struct sk_chan_params *p,
			      unsigned int *order, unsigned int *nr)
{
	u32 peer_order, peer_queues;
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
	*nr = clamp(peer_queues, 1u, max(p->max_queues, 1u));
	return 0;
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
	return sk_chan_bind_front(ch);
}

/**
 * sk_link_front_alloc() - frontend: create the rings and event channels.
 * @dev: the frontend xenbus device; the backend's keys must be readable.
 * @p: channel parameters.
 *
 * Negotiates the order (the smaller of ours and the backend's
 * max-ring-page-order) and the queue count, allocates and grants 2^order
 * zeroed pages per queue, allocates and binds an event channel per queue.
 * Nothing is written to XenStore; see sk_link_front_publish().
 *
 * Return: the link or an ERR_PTR(); errors are also reported to XenStore.
 */
struct sk_link *sk_link_front_alloc(struct xenbus_device *dev,
				    const struct sk_chan_params *p)
{
	unsigned int order, nr, i;
	struct sk_link *l;
	int err;

	err = sk_front_negotiate(dev, p, &order, &nr);
	if (err)
		return ERR_PTR(err);
	l = sk_link_alloc(dev, p, true, order, nr);
	if (IS_ERR(l)) {
		xenbus_dev_fatal(dev, PTR_ERR(l), "allocating %u rings", nr);
		return l;
	}
	for (i = 0; i < nr; i++) {
		err = sk_front_alloc_chan(&l->chans[i]);
		if (err)
			goto destroy_link;
	}
	sk_stats_link_add(l);
	return l;

destroy_link:
	sk_link_destroy(l);
	return ERR_PTR(err);
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

/* Remove a key that may be left from an earlier connection. */
static int sk_front_rm(struct xenbus_transaction xbt, const char *dir,
		       const char *node)
{
	int err = xenbus_rm(xbt, dir, node);

	return err == -ENOENT ? 0 : err;
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
		err = sk_front_rm(xbt, dir, "ring-page-order");
	if (err)
		return err;
	if (l->nr_chans > 1)
		err = xenbus_printf(xbt, dir, "multi-queue-num-queues", "%u",
				    l->nr_chans);
	else
		err = sk_front_rm(xbt, dir, "multi-queue-num-queues");
	for (i = 0; i < l->nr_chans && !err; i++)
		err = sk_front_publish_chan(&l->chans[i], xbt);
	return err;
}
SPLITKIT_EXPORT(sk_link_front_publish);

/**
 * sk_link_front_setup() - frontend: allocate and publish in one step.
 * @dev: the frontend xenbus device.
 * @p: channel parameters.
 *
 * sk_link_front_alloc() plus sk_link_front_publish() in a XenStore
 * transaction of its own, retried while XenStore says -EAGAIN.
 *
 * Return: the link or an ERR_PTR(); errors are also reported to XenStore.
 */
struct sk_link *sk_link_front_setup(struct xenbus_device *dev,
				    const struct sk_chan_params *p)
{
	struct xenbus_transaction xbt;
	struct sk_link *l;
	int err;

	l = sk_link_front_alloc(dev, p);
	if (IS_ERR(l))
		return l;
	do {
		err = xenbus_transaction_start(&xbt);
		if (err) {
			xenbus_dev_fatal(dev, err, "starting transaction");
			goto destroy_link;
		}
		err = sk_link_front_publish(l, xbt);
		if (err) {
			xenbus_transaction_end(xbt, 1);
			xenbus_dev_fatal(dev, err, "writing ring keys");
			goto destroy_link;
		}
		err = xenbus_transaction_end(xbt, 0);
	} while (err == -EAGAIN);
	if (err) {
		xenbus_dev_fatal(dev, err, "completing transaction");
		goto destroy_link;
	}
	return l;

destroy_link:
	sk_link_destroy(l);
	return ERR_PTR(err);
}
SPLITKIT_EXPORT(sk_link_front_setup);
