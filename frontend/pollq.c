// SPDX-License-Identifier: GPL-2.0
/*
 * splitkit_front polled queues: rings whose responses are reaped by
 * blk-mq's ->poll (io_uring IORING_SETUP_IOPOLL, preadv2 RWF_HIPRI) in the
 * submitting task, with no interrupt, no work item and no context switch.
 * Linux's xen-blkfront has no poll queues.  The backend sees ordinary
 * blkif rings: queues "queue-<n>/" after the interrupt-driven ones, in the
 * same multi-queue set, so any blkif backend with multi-queue serves them.
 *
 * How events are avoided: the backend sends an event only when rsp_prod
 * crosses our rsp_event (io/ring.h hold-off).  A polled ring sets rsp_event
 * to 0 and never re-arms it, so the backend's pushes raise no event until
 * its index wraps 2^32 responses later; an event that does arrive is only
 * counted.  Requests still get an event to the backend when it asks.
 *
 * The rings are allocated, granted and published here because
 * splitkit_ring's links are always event-driven (Documentation/block.rst,
 * "Poll queues"); the index handling and peer checks are the ring core's,
 * which splitkit_ring exports (ring/core_export.c), so a polled ring is
 * exactly as strict as a splitkit_ring channel: rsp_prod is read once and
 * validated, responses are copied out before they are judged, and a
 * violation stops the ring.
 *
 * Locking: skf_pollring.lock (irqsave) protects the ring state; issuers
 * (queue_rq, commit_rqs) and pollers on any CPU take it.  Responses are
 * copied out under it and completed after dropping it.
 */
#include <linux/rcupdate.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <xen/events.h>
#include <xen/grant_table.h>
#include <xen/page.h>
#include <xen/xenbus.h>

#include "common.h"

/* Responses copied out per lock hold. */
#define SKF_POLL_BATCH	16

/**
 * struct skf_pollring - one polled ring.
 * @q:      its queue.
 * @lock:   protects @front and @dead.
 * @front:  ring-core frontend state of the shared page.
 * @sring:  the shared pages.
 * @order:  ring-page-order.
 * @grefs:  grants of the pages.
 * @evtchn: our event channel port.
 * @irq:    IRQ bound to @evtchn (events only counted), or 0.
 * @dead:   being torn down: no more puts, pushes or reaps.
 * @name:   IRQ name.
 */
struct skf_pollring {
	struct skf_queue *q;
	spinlock_t lock;
	struct sk_front front;
	struct sk_sring *sring;
	unsigned int order;
	grant_ref_t grefs[XENBUS_MAX_RING_GRANTS];
	evtchn_port_t evtchn;
	int irq;
	bool dead;
	char name[32];
};

static irqreturn_t skf_pollq_interrupt(int irq, void *data)
{
	struct skf_pollring *pr = data;

	/* the poller reaps; an event here only means rsp_prod wrapped */
	WRITE_ONCE(pr->q->stats.events, pr->q->stats.events + 1);
	xen_irq_lateeoi(irq, 0);
	return IRQ_HANDLED;
}

static void skf_pollring_free(struct skf_pollring *pr)
{
	unsigned int i;
	unsigned long flags;

	spin_lock_irqsave(&pr->lock, flags);
	pr->dead = true;
	spin_unlock_irqrestore(&pr->lock, flags);
	if (pr->irq > 0)
		unbind_from_irqhandler(pr->irq, pr);	/* closes the port */
	else if (pr->evtchn)
		xenbus_free_evtchn(pr->q->dev->xbdev, pr->evtchn);
	if (pr->sring) {
		/*
		 * Page by page: a page the backend still maps is freed by the
		 * grant table only when the mapping goes away.
		 */
		for (i = 0; i < (1u << pr->order); i++) {
			struct page *pg = virt_to_page((u8 *)pr->sring +
						       i * XEN_PAGE_SIZE);

			if (pr->grefs[i] != INVALID_GRANT_REF)
				gnttab_end_foreign_access(pr->grefs[i], pg);
		}
	}
	kfree(pr);
}

static struct skf_pollring *skf_pollring_alloc(struct skf_queue *q,
					       unsigned int order)
{
	struct xenbus_device *xbdev = q->dev->xbdev;
	struct sk_ring_desc desc;
	struct skf_pollring *pr;
	void *ring;
	int err, irq;

	err = sk_ring_desc_init(&desc, sizeof(struct blkif_request),
				sizeof(struct blkif_response),
				SK_RING_ENT_SIZE(struct blkif_request,
						 struct blkif_response),
				XEN_PAGE_SIZE << order);
	if (err)
		return ERR_PTR(err);
	pr = kzalloc(sizeof(*pr), GFP_KERNEL);
	if (!pr)
		return ERR_PTR(-ENOMEM);
	pr->q = q;
	pr->order = order;
	spin_lock_init(&pr->lock);
	snprintf(pr->name, sizeof(pr->name), "skf-%u-poll%u", q->dev->handle,
		 q->index);
	err = xenbus_setup_ring(xbdev, GFP_NOIO | __GFP_HIGH, &ring,
				1u << order, pr->grefs);
	if (err) {
		kfree(pr);
		return ERR_PTR(err);
	}
	pr->sring = ring;
	sk_front_init(&pr->front, pr->sring, &desc);
	/* never ask for a response event: the poller reaps (see above) */
	WRITE_ONCE(pr->sring->rsp_event, 0);

	err = xenbus_alloc_evtchn(xbdev, &pr->evtchn);
	if (err)
		goto free_ring;
	irq = bind_evtchn_to_irqhandler_lateeoi(pr->evtchn,
						skf_pollq_interrupt, 0,
						pr->name, pr);
	if (irq < 0) {
		err = irq;
		xenbus_dev_fatal(xbdev, err, "binding event channel %u",
				 pr->evtchn);
		goto free_ring;
	}
	pr->irq = irq;
	return pr;

free_ring:
	skf_pollring_free(pr);
	return ERR_PTR(err);
}

/**
 * skf_pollq_alloc() - allocate the polled rings of queues first..first+nr-1.
 * @dev: device; dev->queues holds them.  Under xb.lock.
 * @first: index of the first polled queue.
 * @nr: number of polled queues.
 * @order: ring-page-order (the link's).
 *
 * Return: 0 or -errno; on error nothing is left allocated.
 */
int skf_pollq_alloc(struct skf_dev *dev, unsigned int first,
		    unsigned int nr, unsigned int order)
{
	unsigned int i;
	struct skf_pollring *pr;

	for (i = 0; i < nr; i++) {
		pr = skf_pollring_alloc(&dev->queues[first + i], order);
		if (IS_ERR(pr)) {
			skf_pollq_free(dev);
			return PTR_ERR(pr);
		}
		rcu_assign_pointer(dev->queues[first + i].pr, pr);
	}
	return 0;
}

/**
 * skf_pollq_free() - tear down every polled ring of a device.
 * @dev: device.  Under xb.lock, queue quiesced.  blk-mq's ->poll may
 *	 still run (a task polling for its request); it finds the ring
 *	 under RCU, so each ring is unpublished first and freed after a
 *	 grace period.
 */
void skf_pollq_free(struct skf_dev *dev)
{
	struct skf_pollring *pr;
	unsigned int i;

	for (i = 0; dev->queues && i < dev->nr_queues; i++) {
		pr = rcu_dereference_protected(dev->queues[i].pr,
					       lockdep_is_held(&dev->xb.lock));
		if (!pr)
			continue;
		RCU_INIT_POINTER(dev->queues[i].pr, NULL);
		synchronize_rcu();	/* pollers that saw @pr are gone */
		skf_pollring_free(pr);
	}
}

/* Copy a key of the single-ring layout into queue-0/ and remove it. */
static int skf_move_key(struct xenbus_transaction xbt, const char *dir,
			const char *qdir, const char *key)
{
	char *val;
	int err;

	val = xenbus_read(xbt, dir, key, NULL);
	if (IS_ERR(val))
		return PTR_ERR(val);
	err = xenbus_write(xbt, qdir, key, val);
	kfree(val);
	if (!err)
		err = xenbus_rm(xbt, dir, key);
	return err;
}

/**
 * skf_pollq_publish() - write the polled rings' keys into XenStore.
 * @dev: device.
 * @xbt: the transaction sk_link_front_publish() just wrote the link in.
 * @first: number of event-driven rings (the link's channels).
 *
 * The link published "multi-queue-num-queues" for its own rings only; it
 * is rewritten with the total.  A link of one ring wrote its keys in the
 * device directory, the single-queue layout: they move to queue-0/.
 *
 * Return: 0 or the xenbus error.
 */
int skf_pollq_publish(struct skf_dev *dev, struct xenbus_transaction xbt,
		      unsigned int first)
{
	const char *dir = dev->xbdev->nodename;
	struct skf_pollring *pr;
	char qdir[128], key[24];
	unsigned int i, p, order;
	int err;

	if (dev->nr_poll == 0)
		return 0;
	pr = rcu_dereference_protected(dev->queues[first].pr,
				       lockdep_is_held(&dev->xb.lock));
	order = pr->order;
	err = xenbus_printf(xbt, dir, "multi-queue-num-queues", "%u",
			    dev->nr_queues);
	if (err)
		return err;
	if (first == 1) {
		snprintf(qdir, sizeof(qdir), "%s/queue-0", dir);
		if (!order) {
			err = skf_move_key(xbt, dir, qdir, "ring-ref");
		} else {
			for (p = 0; p < (1u << order) && !err; p++) {
				snprintf(key, sizeof(key), "ring-ref%u", p);
				err = skf_move_key(xbt, dir, qdir, key);
			}
		}
		if (!err)
			err = skf_move_key(xbt, dir, qdir, "event-channel");
		if (err)
			return err;
	}
	for (i = first; i < dev->nr_queues; i++) {
		pr = rcu_dereference_protected(dev->queues[i].pr,
					       lockdep_is_held(&dev->xb.lock));

		snprintf(qdir, sizeof(qdir), "%s/queue-%u", dir, i);
		if (!order) {
			err = xenbus_printf(xbt, qdir, "ring-ref", "%u",
					    pr->grefs[0]);
		} else {
			for (p = 0; p < (1u << order) && !err; p++) {
				snprintf(key, sizeof(key), "ring-ref%u", p);
				err = xenbus_printf(xbt, qdir, key, "%u",
						    pr->grefs[p]);
			}
		}
		if (!err)
			err = xenbus_printf(xbt, qdir, "event-channel", "%u",
					    pr->evtchn);
		if (err)
			return err;
	}
	return 0;
}

/**
 * skf_pollq_put() - write one request into a polled ring, unpublished.
 * @q: a polled queue.
 * @req: the request.
 *
 * Return: 0, -ENOSPC (ring full), -ENODEV (torn down), -EIO (broken).
 */
int skf_pollq_put(struct skf_queue *q, const struct blkif_request *req)
{
	struct skf_pollring *pr;
	unsigned long flags;
	int err = -ENODEV;

	rcu_read_lock();
	pr = rcu_dereference(q->pr);
	if (pr) {
		spin_lock_irqsave(&pr->lock, flags);
		if (!pr->dead)
			err = sk_front_put_req(&pr->front, req);
		spin_unlock_irqrestore(&pr->lock, flags);
	}
	rcu_read_unlock();
	return err;
}

/**
 * skf_pollq_push() - publish a polled ring's requests, notify if asked.
 * @q: a polled queue.
 */
void skf_pollq_push(struct skf_queue *q)
{
	struct skf_pollring *pr;
	unsigned long flags;

	rcu_read_lock();
	pr = rcu_dereference(q->pr);
	if (pr) {
		spin_lock_irqsave(&pr->lock, flags);
		if (!pr->dead && sk_front_push(&pr->front))
			notify_remote_via_irq(pr->irq);
		spin_unlock_irqrestore(&pr->lock, flags);
	}
	rcu_read_unlock();
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
	struct blkif_response rsp[SKF_POLL_BATCH];
	struct skf_pollring *pr;
	unsigned long flags;
	int n, i, found = 0;
	bool broken = false;

	WRITE_ONCE(q->stats.poll_calls, q->stats.poll_calls + 1);
	rcu_read_lock();
	pr = rcu_dereference(q->pr);
	if (!pr) {
		rcu_read_unlock();
		return 0;
	}
	do {
		spin_lock_irqsave(&pr->lock, flags);
		for (n = 0; n < SKF_POLL_BATCH && !pr->dead; n++) {
			int r = sk_front_get_rsp(&pr->front, &rsp[n]);

			if (r < 0)
				broken = true;
			if (r <= 0)
				break;
		}
		/* judged under the lock: pollers on other CPUs race here */
		for (i = 0; i < n; i++)
			skf_complete_rsp(q, &rsp[i], true);
		spin_unlock_irqrestore(&pr->lock, flags);
		found += n;
	} while (n == SKF_POLL_BATCH);
	rcu_read_unlock();
	if (broken)
		skf_backend_broken(q->dev, q, "response index out of range",
				   0, 0, 0);
	return found;
}
