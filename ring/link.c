// SPDX-License-Identifier: GPL-2.0
/*
 * splitkit_ring links: allocation, lookup and teardown of the channels of
 * one xenbus device end.  ring/front.c and ring/back.c fill a link in; the
 * teardown here undoes whatever part of that was done, from either end and
 * at any moment (peer crash, xl destroy, module unload): stop every channel
 * (no callbacks or IRQs after this), then give back the ring memory.
 */
#include <linux/slab.h>
#include <xen/grant_table.h>
#include <xen/page.h>

#include <splitkit/export.h>

#include "internal.h"

/**
 * sk_link_alloc() - allocate a link and the software state of its channels.
 * @dev: xenbus device.
 * @p: driver parameters (copied).
 * @frontend: which end we are.
 * @order: ring-page-order of every channel.
 * @nr_chans: number of channels.
 * @nr_polled: how many of them, the last ones, are polled.
 *
 * Return: the link or an ERR_PTR().
 */
struct sk_link *sk_link_alloc(struct xenbus_device *dev,
			      const struct sk_chan_params *p, bool frontend,
			      unsigned int order, unsigned int nr_chans,
			      unsigned int nr_polled)
{
	struct sk_link *l;
	size_t scratch;
	unsigned int i;
	int err;

	if (!p->ops || !p->ops->msg || !p->name || !nr_chans ||
	    nr_polled >= nr_chans || (nr_polled && !frontend) ||
	    order > XENBUS_MAX_RING_GRANT_ORDER)
		return ERR_PTR(-EINVAL);
	l = kzalloc(sizeof(*l), GFP_KERNEL);
	if (!l)
		return ERR_PTR(-ENOMEM);
	l->dev = dev;
	l->params = *p;
	l->frontend = frontend;
	l->order = order;
	err = sk_ring_desc_init(&l->desc, p->req_size, p->rsp_size,
				p->ent_size, XEN_PAGE_SIZE << order);
	if (err)
		goto free_link;
	l->chans = kcalloc(nr_chans, sizeof(*l->chans), GFP_KERNEL);
	if (!l->chans) {
		err = -ENOMEM;
		goto free_link;
	}
	l->nr_chans = nr_chans;
	l->nr_polled = nr_polled;
	scratch = SK_CHAN_BATCH * max(p->req_size, p->rsp_size);
	for (i = 0; i < nr_chans; i++) {
		sk_chan_init(&l->chans[i], l, i);
		l->chans[i].polled = i >= nr_chans - nr_polled;
		l->chans[i].scratch = kmalloc(scratch, GFP_KERNEL);
		if (!l->chans[i].scratch) {
			err = -ENOMEM;
			goto free_chans;
		}
	}
	return l;

free_chans:
	sk_link_free(l);
	return ERR_PTR(err);
free_link:
	kfree(l);
	return ERR_PTR(err);
}

/**
 * sk_link_build() - allocate a link and set each of its channels up.
 * @dev: xenbus device.
 * @p: driver parameters.
 * @frontend: which end we are.
 * @order: ring-page-order of every channel.
 * @nr_chans: number of channels.
 * @nr_polled: how many of them, the last ones, are polled.
 * @setup: sets one channel up (frontend: grant and bind; backend: map and
 *	   bind); reports its own errors.
 *
 * Return: the link, in debugfs, or an ERR_PTR() with nothing left behind;
 * an allocation failure is reported to XenStore.
 */
struct sk_link *sk_link_build(struct xenbus_device *dev,
			      const struct sk_chan_params *p, bool frontend,
			      unsigned int order, unsigned int nr_chans,
			      unsigned int nr_polled,
			      int (*setup)(struct sk_chan *ch))
{
	struct sk_link *l;
	unsigned int i;
	int err;

	l = sk_link_alloc(dev, p, frontend, order, nr_chans, nr_polled);
	if (IS_ERR(l)) {
		xenbus_dev_fatal(dev, PTR_ERR(l), "allocating %u rings",
				 nr_chans);
		return l;
	}
	for (i = 0; i < nr_chans; i++) {
		err = setup(&l->chans[i]);
		if (err) {
			sk_link_destroy(l);
			return ERR_PTR(err);
		}
	}
	sk_stats_link_add(l);
	return l;
}

/**
 * sk_link_free() - free the memory of a link whose channels are stopped.
 * @l: link.
 */
void sk_link_free(struct sk_link *l)
{
	unsigned int i;

	for (i = 0; i < l->nr_chans; i++)
		kfree(l->chans[i].scratch);
	kfree(l->chans);
	kfree(l);
}

/*
 * Frontend: end foreign access page by page.  A page the backend still maps
 * is not freed now: the grant table frees it when the mapping goes away,
 * so a crashed or slow backend can never write into reused memory.
 */
static void sk_link_release_front(struct sk_chan *ch, unsigned int nr_pages)
{
	unsigned int i;

	if (!ch->sring)
		return;
	for (i = 0; i < nr_pages; i++) {
		struct page *pg = virt_to_page((u8 *)ch->sring +
					       i * XEN_PAGE_SIZE);

		if (ch->grefs[i] == INVALID_GRANT_REF)
			continue;
		gnttab_end_foreign_access(ch->grefs[i], pg);
		ch->grefs[i] = INVALID_GRANT_REF;
	}
	ch->sring = NULL;
}

static void sk_link_release_back(struct sk_chan *ch)
{
	if (!ch->sring)
		return;
	xenbus_unmap_ring_vfree(ch->link->dev, ch->sring);
	ch->sring = NULL;
}

/* Calls @fn on each channel of @l, in order. */
static void sk_link_each_chan(struct sk_link *l,
			      void (*fn)(struct sk_chan *ch))
{
	unsigned int i;

	for (i = 0; i < l->nr_chans; i++)
		fn(&l->chans[i]);
}

/**
 * sk_link_destroy() - tear a link down from either end, at any moment.
 * @l: link, or NULL (nothing to do).
 *
 * Process context; may sleep.  After return no callback of the link runs
 * any more, its IRQs and event channels are closed, its grants ended (or
 * handed to the grant table's deferred list while the peer still maps
 * them), its mappings undone and its memory freed.
 */
void sk_link_destroy(struct sk_link *l)
{
	unsigned int i;

	if (!l)
		return;
	sk_stats_link_del(l);
	sk_link_each_chan(l, sk_chan_stop);
	for (i = 0; i < l->nr_chans; i++) {
		if (l->frontend)
			sk_link_release_front(&l->chans[i], 1u << l->order);
		else
			sk_link_release_back(&l->chans[i]);
	}
	sk_link_free(l);
}
SPLITKIT_EXPORT(sk_link_destroy);

/**
 * sk_link_drain() - take the last messages of a peer that stopped producing.
 * @l: link, or NULL (nothing to do).
 *
 * For a peer that said through XenStore that it will put nothing more on
 * these rings (a backend that has drained them before a reconfiguration
 * took effect): stops every channel (no event handler or consumer work runs
 * after this), then hands whatever the peer left in each ring to the msg
 * callback, here, in process context.  A ring whose indices are out of
 * range is left alone and reported through the driver's peer_error.
 * Polled channels' pollers must be gone (the driver's RCU grace period).
 * Call sk_link_destroy() afterwards.  May sleep.
 */
void sk_link_drain(struct sk_link *l)
{
	if (l)
		sk_link_each_chan(l, sk_chan_drain);
}
SPLITKIT_EXPORT(sk_link_drain);

/**
 * sk_link_pause() - stop taking the peer's messages, keep answering.
 * @l: link, or NULL (nothing to do).
 *
 * For a driver about to wait for the answers of what it has taken (a
 * backend's disconnect): after return no consumer run is in progress and
 * none takes another message, so what the peer puts on the rings meanwhile
 * stays there, unconsumed, and cannot keep the wait going; producers
 * (sk_chan_put(), sk_chan_push()) and events go on as before.  Event-driven
 * channels only (a backend's): polled channels' pollers are the driver's.
 * Ends with sk_link_destroy().  Process context; may sleep.
 */
void sk_link_pause(struct sk_link *l)
{
	if (l)
		sk_link_each_chan(l, sk_chan_pause);
}
SPLITKIT_EXPORT(sk_link_pause);

/**
 * sk_link_nr_chans() - number of channels (queues) of a link.
 * @l: link.
 *
 * Return: at least 1.
 */
unsigned int sk_link_nr_chans(const struct sk_link *l)
{
	return l->nr_chans;
}
SPLITKIT_EXPORT(sk_link_nr_chans);

/**
 * sk_link_nr_polled() - number of polled channels of a link.
 * @l: link.
 *
 * Return: how many of the last channels are polled (sk_chan_reap()).
 */
unsigned int sk_link_nr_polled(const struct sk_link *l)
{
	return l->nr_polled;
}
SPLITKIT_EXPORT(sk_link_nr_polled);

/**
 * sk_link_order() - negotiated ring-page-order of a link.
 * @l: link.
 *
 * Return: each ring is 2^order pages.
 */
unsigned int sk_link_order(const struct sk_link *l)
{
	return l->order;
}
SPLITKIT_EXPORT(sk_link_order);

/**
 * sk_link_chan() - one channel of a link.
 * @l: link.
 * @i: queue number, below sk_link_nr_chans().
 *
 * Return: the channel, or NULL if @i is out of range.
 */
struct sk_chan *sk_link_chan(struct sk_link *l, unsigned int i)
{
	return i < l->nr_chans ? &l->chans[i] : NULL;
}
SPLITKIT_EXPORT(sk_link_chan);

/**
 * sk_link_priv() - driver data given in sk_chan_params.priv.
 * @l: link.
 *
 * Return: the pointer.
 */
void *sk_link_priv(const struct sk_link *l)
{
	return l->params.priv;
}
SPLITKIT_EXPORT(sk_link_priv);
