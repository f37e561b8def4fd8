// SPDX-License-Identifier: GPL-2.0
/*
 * splitkit_front control plane: the "vbd" xenbus driver.  Probe decodes
 * "virtual-device" into the xvdX name xen-blkfront would give; the xenbus
 * handshake is splitkit_ring's state helper (struct sk_xb) calling
 *   setup:      negotiate and publish rings (event-driven ones through
 *               splitkit_ring, polled ones from pollq.c), "protocol" and
 *               "feature-persistent", in one XenStore transaction;
 *   connect:    read and check the backend's geometry and features, create
 *               the disk the first time, start (or restart) I/O;
 *   disconnect: stop I/O, tear the rings down, take in-flight requests
 *               back for re-issue (or fail them if the device is broken
 *               or going away).
 * Save/restore: ->resume tears down the old connection (its grants and
 * event channels died with the old domain) and the state helper sets up
 * a new one with the backend the toolstack recreated; requests that were
 * in flight are re-issued there.  The counterpart in dom0 is the backend's
 * xenbus.c (backend/, xen-blkback, QEMU's qdisk).
 *
 * XenStore keys read from the backend (all optional unless noted):
 *   sectors, info, sector-size (required), physical-sector-size,
 *   feature-flush-cache, feature-barrier, feature-discard,
 *   discard-granularity, discard-alignment, feature-persistent,
 *   feature-max-indirect-segments, multi-queue-max-queues,
 *   max-ring-page-order.
 * Written by us: ring keys (Documentation/ring.rst), protocol,
 * feature-persistent.  Documentation/block.rst has the details.
 */
#include <linux/blk-mq.h>
#include <linux/slab.h>
#include <xen/interface/io/protocols.h>
#include <xen/platform_pci.h>
#include <xen/xen.h>
#include <xen/xenbus.h>

#include <splitkit/blkif_keys.h>
#include <splitkit/stats.h>

#include "common.h"

/* Our own keys besides the ring's, written in the ring's transaction. */
struct skf_front_keys {
	char protocol[16];
	bool persistent;
	bool reconfigure;
};

static const struct sk_xs_key skf_front_keys[] = {
	SK_XS_KEY("protocol", SK_XS_STR, SK_XS_FRONTEND, 0,
		  struct skf_front_keys, protocol, 1, 15, 0),
	SK_XS_KEY("feature-persistent", SK_XS_BOOL, SK_XS_FRONTEND, 0,
		  struct skf_front_keys, persistent, 0, 1, 0),
	/* splitkit's own: we follow Reconfiguring (skf_reconfigure()) */
	SK_XS_KEY(SK_BLKIF_FEATURE_RECONFIGURE, SK_XS_BOOL, SK_XS_FRONTEND, 0,
		  struct skf_front_keys, reconfigure, 0, 1, 0),
};

static void skf_free_queues(struct skf_dev *dev)
{
	unsigned int i;

	if (!dev->queues)
		return;
	for (i = 0; i < dev->cap_queues; i++) {
		kfree(dev->queues[i].slots);
		kfree(dev->queues[i].rqs);
	}
	kfree(dev->queues);
	dev->queues = NULL;
}

/*
 * First connection: the queues and their slots, fixed from now on.  There
 * are as many as we would use with any backend (@p: our queue wish), not
 * only what this one allows, so that a backend that later allows more (a
 * reconfiguration, or a reconnection to another backend) can have them:
 * every connection's rings are a subset (skf_lay_out()).  The tags (@depth)
 * fill this connection's rings: a later, larger ring holds no more
 * requests in flight, a smaller one makes the excess wait for ring space.
 */
static int skf_alloc_queues(struct skf_dev *dev, const struct sk_chan_params *p,
			    unsigned int depth)
{
	unsigned int nr = p->nr_event + p->nr_polled, i;

	dev->queues = kcalloc(nr, sizeof(*dev->queues), GFP_KERNEL);
	if (!dev->queues)
		return -ENOMEM;
	dev->cap.nr_event = p->nr_event;
	dev->cap.nr_poll = p->nr_polled;
	dev->cap_queues = nr;
	dev->depth = depth;
	for (i = 0; i < nr; i++) {
		struct skf_queue *q = &dev->queues[i];
		u32 slots = skf_ring_slots(i, depth, nr);

		q->dev = dev;
		q->index = i;
		q->slots = kcalloc(slots, sizeof(*q->slots), GFP_KERNEL);
		q->rqs = kcalloc(slots, sizeof(*q->rqs), GFP_KERNEL);
		if (!q->slots || !q->rqs) {
			skf_free_queues(dev);
			return -ENOMEM;
		}
		skf_track_init(&q->track, q->slots, slots);
	}
	return 0;
}

/*
 * The rings of this connection: event-driven ones on queues 0.., polled
 * ones after them, as at the first connection but perhaps fewer.
 */
static void skf_lay_out(struct skf_dev *dev, unsigned int nr_irq,
			unsigned int nr_poll)
{
	unsigned int i;

	dev->nr_queues = nr_irq + nr_poll;
	dev->nr_poll = nr_poll;
	for (i = 0; i < dev->cap_queues; i++) {
		dev->queues[i].poll = i >= nr_irq && i < dev->nr_queues;
		dev->queues[i].ch = i < dev->nr_queues ?
				    sk_link_chan(dev->link, i) : NULL;
	}
}

/* What skf_publish_xbt() writes: @link's keys and ours. */
struct skf_publish {
	struct skf_dev *dev;
	struct sk_link *link;
};

static int skf_publish_xbt(struct xenbus_transaction xbt, void *arg)
{
	const struct skf_publish *pub = arg;
	struct skf_dev *dev = pub->dev;
	struct skf_front_keys k = {
		.persistent = skf_persistent_grants,
		.reconfigure = true,
	};
	int err;

	strscpy(k.protocol, XEN_IO_PROTO_ABI_NATIVE, sizeof(k.protocol));
	err = sk_link_front_publish(pub->link, xbt);
	if (!err)
		err = sk_xs_write_keys(xbt, dev->xbdev->nodename,
				       SK_XS_FRONTEND, skf_front_keys,
				       ARRAY_SIZE(skf_front_keys), &k,
				       GENMASK_ULL(ARRAY_SIZE(skf_front_keys) -
						   1, 0));
	return err;
}

/*
 * @drain: complete the answers already in the rings rather than requeue
 * (run twice) or fail them: a coalesced wait can leave a few.  Not at
 * resume: the ring page was saved at another moment than the data pages
 * the old backend's answers speak of, so everything in flight is
 * reissued, as xen-blkfront does.
 */
static void skf_teardown_rings(struct skf_dev *dev, bool drain)
{
	unsigned int i;

	skf_pollq_detach(dev);
	if (drain)
		sk_link_drain(dev->link);
	for (i = 0; dev->queues && i < dev->cap_queues; i++)
		dev->queues[i].ch = NULL;
	sk_link_destroy(dev->link);
	WRITE_ONCE(dev->link, NULL);
}

/* Our channel parameters: our wish, within the disk's queues once sized. */
static struct sk_chan_params skf_chan_params(struct skf_dev *dev)
{
	struct sk_chan_params p = {
		.name = "vbd",
		SK_CHAN_SIZES(struct sk_blkif_request,
			      struct sk_blkif_response),
		.max_order = skf_max_ring_order,
		.max_queues = SKF_MAX_QUEUES,
		/* blk-mq maps queues to CPUs: more than CPUs would sit idle */
		.nr_event = min(skf_max_queues, num_online_cpus()),
		.nr_polled = skf_poll_queues,
		.rsp_coalesce = skf_rsp_coalesce,
		.ops = &skf_chan_ops,
		.priv = dev,
		.xb = &dev->xb,
		.flags = skf_irq_completion ? SK_CHAN_IRQ_CONTEXT : 0,
	};

	/* what a link can ever have: the rest are never used */
	p.nr_polled = min(p.nr_polled, SKF_MAX_QUEUES - p.nr_event);
	if (dev->queues) {
		/* at most the disk's queues, of each kind */
		p.nr_polled = dev->cap.nr_poll;
		p.nr_event = dev->cap.nr_event;
	}
	return p;
}

/*
 * New rings within what the backend now allows (its max-ring-page-order
 * and multi-queue-max-queues) and what the disk has, published with our
 * keys.  The current rings, if any, are untouched.
 */
static struct sk_link *skf_new_link(struct skf_dev *dev)
{
	struct sk_chan_params p = skf_chan_params(dev);
	struct skf_publish pub = { .dev = dev };
	struct skf_layout now;
	int err;

	pub.link = sk_link_front_alloc(dev->xbdev, &p);
	if (IS_ERR(pub.link))
		return pub.link;
	now.nr_poll = sk_link_nr_polled(pub.link);
	now.nr_event = sk_link_nr_chans(pub.link) - now.nr_poll;
	if (dev->queues && skf_layout_check(&dev->cap, &now)) {
		xenbus_dev_fatal(dev->xbdev, -EINVAL,
				 "backend queues: %u event-driven and %u polled rings set up, the disk has %u and %u",
				 now.nr_event, now.nr_poll, dev->cap.nr_event,
				 dev->cap.nr_poll);
		err = -EINVAL;
		goto destroy_link;
	}
	if (!dev->queues) {
		err = skf_alloc_queues(dev, &p,
				       sk_chan_nr_ents(sk_link_chan(pub.link,
								    0)));
		if (err)
			goto destroy_link;
		dev->mq = now;	/* blk-mq starts with this connection's */
	}
	err = sk_xs_transact(skf_publish_xbt, &pub);
	if (err) {
		xenbus_dev_fatal(dev->xbdev, err, "writing ring keys");
		goto destroy_link;
	}
	return pub.link;

destroy_link:
	sk_link_destroy(pub.link);
	return ERR_PTR(err);
}

/* Make @l the rings of the connection; the queue is quiesced or new. */
static void skf_adopt_link(struct skf_dev *dev, struct sk_link *l)
{
	unsigned int nr_poll = sk_link_nr_polled(l);

	WRITE_ONCE(dev->link, l);
	skf_lay_out(dev, sk_link_nr_chans(l) - nr_poll, nr_poll);
	skf_pollq_attach(dev);
	dev->feat.order = sk_link_order(l);
}

/* sk_xb setup: the backend is in InitWait; rings and keys. */
static int skf_setup(struct sk_xb *xb)
{
	struct skf_dev *dev = xb->priv;
	struct sk_link *l;

	/*
	 * A broken close let the queue run so that queued I/O failed: quiesce
	 * it again before the rings and features it reads change (common.h),
	 * and before queue_rq can see broken cleared.
	 */
	if (dev->gd && !dev->quiesced) {
		blk_mq_quiesce_queue(dev->gd->queue);
		dev->quiesced = true;
	}
	/* a new connection: whatever the last backend broke is behind us */
	WRITE_ONCE(dev->broken, false);
	l = skf_new_link(dev);
	if (IS_ERR(l))
		return PTR_ERR(l);
	skf_adopt_link(dev, l);
	return 0;
}

/* Read and check what the backend announced (on every connection). */
static int skf_read_backend(struct skf_dev *dev, struct skf_geom *g,
			    struct skf_features *f)
{
	struct xenbus_device *xbdev = dev->xbdev;
	const struct sk_xs_key *keys = sk_blkif_disk_keys;
	struct sk_blkif_disk k = { 0 };
	u64 present;
	int err;

	/* geometry strict, features lenient: see <splitkit/blkif_keys.h> */
	err = sk_xs_read_keys(xbdev, xbdev->otherend, keys, SK_BLKIF_GRAN, &k,
			      &present);
	g->sectors = err ? 0 : k.sectors;
	g->sector_size = err ? 0 : k.sector_size;
	g->phys_size = present & BIT_ULL(SK_BLKIF_PHYS_SIZE) ? k.phys_size :
							       g->sector_size;
	if (err || skf_geom_check(g)) {
		xenbus_dev_fatal(xbdev, -EINVAL,
				 "malicious or buggy backend: bad geometry (sectors %llu, sector-size %u, physical-sector-size %u)",
				 g->sectors, g->sector_size, g->phys_size);
		return -EINVAL;
	}
	dev->info = k.info;

	f->flush_op = 0;
	if (k.flush)
		f->flush_op = SK_BLKIF_OP_FLUSH_DISKCACHE;
	else if (k.barrier)
		f->flush_op = SK_BLKIF_OP_WRITE_BARRIER;

	f->discard = false;
	if (k.discard) {
		if (!sk_xs_read_keys(xbdev, xbdev->otherend,
				     &keys[SK_BLKIF_GRAN],
				     SK_BLKIF_SECURE - SK_BLKIF_GRAN, &k, NULL) &&
		    !skf_discard_check(k.gran, k.align, g->sector_size,
				       &f->disc))
			f->discard = true;
		else
			dev_warn(&xbdev->dev,
				 "backend discard parameters unusable (granularity %u, alignment %u): discard off\n",
				 k.gran, k.align);
	}

	f->persistent = skf_persistent_grants && k.persistent;
	f->indirect = skf_indirect_segs(k.indirect, skf_max_indirect_segs);
	f->max_segs = f->indirect ?: SK_BLKIF_MAX_DIRECT_SEGS;
	return 0;
}

static void skf_log_features(struct skf_dev *dev)
{
	dev_info(&dev->xbdev->dev,
		 "%s: queues %u, ring order %u, persistent grants: %s, indirect: %u, flush: %s, discard: %s, poll queues: %u\n",
		 dev->gd->disk_name, dev->nr_queues - dev->nr_poll,
		 dev->feat.order, dev->feat.persistent ? "on" : "off",
		 dev->feat.indirect,
		 dev->feat.flush_op == SK_BLKIF_OP_FLUSH_DISKCACHE ? "on" :
		 dev->feat.flush_op ? "barrier" : "off",
		 dev->feat.discard ? "on" : "off", dev->nr_poll);
}

/*
 * Allocate and grant @n pages now and leave them idle in @gp, which keeps
 * them (its max_free).  queue_rq allocates with GFP_ATOMIC, which can fail
 * under the very memory pressure that writeback or swap to this disk is
 * to relieve; with these every ring can always issue one request of the
 * largest size.  GFP_NOIO: this disk cannot take I/O while it connects.
 * Best effort: what cannot be allocated now is allocated on demand.
 */
static void skf_pool_reserve(struct sk_gpool *gp, unsigned int n)
{
	struct sk_gpage *pg, *tmp;
	LIST_HEAD(got);

	while (n-- && (pg = sk_gpool_get(gp, GFP_NOIO | __GFP_NOWARN)))
		list_add(&pg->lru, &got);
	list_for_each_entry_safe(pg, tmp, &got, lru) {
		list_del(&pg->lru);
		sk_gpool_put(gp, pg);
	}
}

/* sk_xb connect: the backend is Connected; start I/O. */
static int skf_connect(struct sk_xb *xb)
{
	struct skf_dev *dev = xb->priv;
	struct skf_features f = { .order = dev->feat.order };
	struct skf_geom g = { 0 };
	unsigned int pages, reserve;
	bool first = !dev->gd;
	int err;

	err = skf_read_backend(dev, &g, &f);
	if (err)
		return err;
	if (!first && g.sector_size != dev->geom.sector_size) {
		xenbus_dev_fatal(dev->xbdev, -EINVAL,
				 "backend changed sector-size from %u to %u",
				 dev->geom.sector_size, g.sector_size);
		return -EINVAL;
	}

	/* at most a ring's entries in flight per ring, whatever the tags */
	reserve = dev->nr_queues *
		  (f.max_segs + DIV_ROUND_UP(f.max_segs, SK_BLKIF_SEGS_PER_INDIRECT_PAGE));
	pages = reserve *
		min(dev->depth, sk_chan_nr_ents(sk_link_chan(dev->link, 0)));
	dev->pool = sk_gpool_create(dev->xbdev->otherend_id, pages,
				    f.persistent ? pages : reserve, false);
	if (!dev->pool)
		return -ENOMEM;
	skf_pool_reserve(dev->pool, reserve);
	dev->feat = f;
	if (first) {
		dev->geom = g;
		dev->cap_segs = f.max_segs;
		err = skf_blkmq_create(dev);
		if (err) {
			xenbus_dev_fatal(dev->xbdev, err, "creating the disk");
			goto destroy_pool;
		}
	} else {
		if (g.sectors != dev->geom.sectors)
			set_capacity_and_notify(dev->gd, g.sectors);
		dev->geom = g;
	}

	dev->connected = true;
	if (dev->quiesced) {
		blk_mq_unquiesce_queue(dev->gd->queue);
		dev->quiesced = false;
	}
	blk_mq_kick_requeue_list(dev->gd->queue);
	blk_mq_run_hw_queues(dev->gd->queue, true);
	/*
	 * a backend that offers less; the first connection's disk is added
	 * there (skf_reshape_work()), out of the xenwatch thread
	 */
	skf_blkmq_reshape(dev);
	skf_log_features(dev);
	return 0;

destroy_pool:
	sk_gpool_destroy(dev->pool);
	dev->pool = NULL;
	return err;
}

/* Stop I/O, free the connection; idempotent.  @drain: see teardown. */
static void skf_close(struct sk_xb *xb, bool drain)
{
	struct skf_dev *dev = xb->priv;

	if (dev->gd && !dev->quiesced) {
		/* no queue_rq runs after this returns */
		blk_mq_quiesce_queue(dev->gd->queue);
		dev->quiesced = true;
	}
	dev->connected = false;
	/* a reconfiguration's new rings, never used */
	sk_link_destroy(dev->next_link);
	dev->next_link = NULL;
	skf_teardown_rings(dev, drain);	/* no completion runs after this */
	if (dev->queues)
		skf_recover_inflight(dev);
	sk_gpool_destroy(dev->pool);
	dev->pool = NULL;
	if (dev->quiesced && (READ_ONCE(dev->broken) || READ_ONCE(dev->dead))) {
		/* nothing will reconnect: let queued I/O fail, not hang */
		blk_mq_unquiesce_queue(dev->gd->queue);
		dev->quiesced = false;
		blk_mq_kick_requeue_list(dev->gd->queue);
	}
}

/* sk_xb disconnect: the answers in the rings complete, the rest requeue. */
static void skf_disconnect(struct sk_xb *xb)
{
	skf_close(xb, true);
}

/*
 * sk_xb reconfigure: the backend entered Reconfiguring, having written new
 * max-ring-page-order / multi-queue-max-queues (a blk.queues or blk.ring
 * agreement, Documentation/negotiate.rst).  Stop issuing (the blk-mq queue
 * stays quiesced until skf_reconnect()), set up and publish rings within
 * the new limits beside the current ones, which keep completing what is in
 * flight; we then say Reconfigured.  The backend drains and unmaps the old
 * rings and maps the new ones.
 */
static int skf_reconfigure(struct sk_xb *xb)
{
	struct skf_dev *dev = xb->priv;
	struct sk_link *l;

	if (!dev->connected || dev->next_link)
		return -EPROTO;	/* the state helper only calls us connected */
	if (!dev->quiesced) {
		blk_mq_quiesce_queue(dev->gd->queue);
		dev->quiesced = true;
	}
	l = skf_new_link(dev);
	if (IS_ERR(l))
		return PTR_ERR(l);
	dev->next_link = l;
	dev_info(&dev->xbdev->dev,
		 "%s: backend reconfiguring: %u ring(s) of order %u set up\n",
		 dev->gd->disk_name, sk_link_nr_chans(l), sk_link_order(l));
	return 0;
}

/*
 * sk_xb reconnect: the backend is Connected again, on the new rings.  It
 * answered every request it took from the old rings before it unmapped
 * them: complete those answers still in the rings, take back what it never
 * took (requeued, as at any reconnection: it never ran), then run on the
 * new rings.  Nothing fails, nothing runs twice.
 */
static int skf_reconnect(struct sk_xb *xb)
{
	struct skf_dev *dev = xb->priv;
	struct sk_link *l = dev->next_link;

	if (!l)
		return 0;	/* not ours: a reconfiguration we did not see */
	skf_pollq_detach(dev);	/* no poller reaps the old rings now */
	sk_link_drain(dev->link);
	dev->next_link = NULL;
	skf_disconnect(xb);
	skf_adopt_link(dev, l);
	dev->reconfigured++;
	return skf_connect(xb);
}

/*
 * fatal_work: the backend broke the protocol (completion.c marked the
 * device broken).  Say so in XenStore, which closes our end, and stop the
 * connection at once: a backend that stays Connected would never make the
 * state helper disconnect, and the requests in flight would wait forever.
 * They fail now (skf_recover_inflight() sees the device broken); the
 * device stays broken until a backend connects afresh (skf_setup()).
 */
static void skf_fatal_work(struct work_struct *work)
{
	struct skf_dev *dev = container_of(work, struct skf_dev, fatal_work);

	mutex_lock(&dev->xb.lock);
	/* not if a new connection was set up meanwhile, or we are going */
	if (READ_ONCE(dev->broken) && !READ_ONCE(dev->dead)) {
		xenbus_dev_fatal(dev->xbdev, -EIO,
				 "malicious or buggy backend: protocol violation, device stopped");
		skf_disconnect(&dev->xb);
	}
	mutex_unlock(&dev->xb.lock);
}

/*
 * sk_xb connected: both ends Connected after a backend state write - the
 * first connection, or the backend saying Connected again, which is how
 * xen-blkback announces a new disk size (xen_vbd_resize() rewrites
 * "sectors", then "state").  Takes up a changed "sectors" (512-byte
 * units) as the disk's capacity; a value that fails the geometry check
 * is a backend at fault, as at connect.  The other keys keep what the
 * connection read.  Under xb->lock.
 */
static void skf_connected(struct sk_xb *xb)
{
	struct skf_dev *dev = xb->priv;
	struct xenbus_device *xbdev = dev->xbdev;
	struct sk_blkif_disk k = { 0 };
	struct skf_geom g = dev->geom;

	if (!dev->connected || !dev->gd)
		return;
	if (sk_xs_read_keys(xbdev, xbdev->otherend, sk_blkif_disk_keys,
			    SK_BLKIF_SECTORS + 1, &k, NULL))
		k.sectors = 0;
	g.sectors = k.sectors;
	if (skf_geom_check(&g)) {
		xenbus_dev_fatal(xbdev, -EINVAL,
				 "malicious or buggy backend: bad disk size (sectors %llu)",
				 g.sectors);
		return;
	}
	if (g.sectors == dev->geom.sectors)
		return;
	dev_info(&xbdev->dev, "disk size changed from %llu to %llu sectors\n",
		 dev->geom.sectors, g.sectors);
	set_capacity_and_notify(dev->gd, g.sectors);
	dev->geom.sectors = g.sectors;
}

static const struct sk_xb_ops skf_xb_ops = {
	.setup = skf_setup,
	.connect = skf_connect,
	.disconnect = skf_disconnect,
	.reconfigure = skf_reconfigure,
	.reconnect = skf_reconnect,
	.connected = skf_connected,
};

/*
 * sysfs: one value per file, under the device's skf_stats/ directory
 * (/sys/block/xvdX/device/skf_stats/<name>; <splitkit/stats.h>).
 */
#define SKF_STATS(X)							\
	X(skf, connected) X(skf, queues) X(skf, poll_queues)		\
	X(skf, ring_order) X(skf, indirect) X(skf, persistent)		\
	X(skf, issued) X(skf, completed) X(skf, irq_completions)	\
	X(skf, work_completions)					\
	X(skf, poll_completions) X(skf, poll_calls)			\
	X(skf, poll_ring_events) X(skf, errors) X(skf, violations)	\
	X(skf, requeued) X(skf, poll_inflight) X(skf, grant_hits)	\
	X(skf, grant_misses) X(skf, resplit) X(skf, rerouted)		\
	X(skf, poll_spurious_events) X(skf, copied_bytes)		\
	X(skf, grants_reclaimed) X(skf, grants_held) X(skf, reconfigured) \
	X(skf, coalesced_waits)
SK_STATS_ENUM(skf, SKF_STATS);

/* Every counter of the device, summed over its queues. */
static void skf_stats_snapshot(struct device *d, u64 *v)
{
	struct skf_dev *dev = sk_xb_from_dev(d)->priv;
	struct sk_gpool_stats gs = { 0 };
	unsigned int i;

	mutex_lock(&dev->xb.lock);
	for (i = 0; dev->queues && i < dev->cap_queues; i++) {
		const struct skf_queue *q = &dev->queues[i];
		const struct skf_stats *s = &q->stats;
		struct sk_chan_stats cs = { 0 };

		v[skf_st_issued] += READ_ONCE(s->issued);
		v[skf_st_completed] += READ_ONCE(s->completed);
		v[skf_st_irq_completions] += READ_ONCE(s->irq_done);
		v[skf_st_work_completions] += READ_ONCE(s->work_done);
		v[skf_st_poll_completions] += READ_ONCE(s->poll_done);
		v[skf_st_poll_calls] += READ_ONCE(s->poll_calls);
		v[skf_st_poll_ring_events] += READ_ONCE(s->events);
		v[skf_st_errors] += READ_ONCE(s->errors);
		v[skf_st_violations] += READ_ONCE(s->violations);
		v[skf_st_requeued] += READ_ONCE(s->requeued);
		v[skf_st_resplit] += READ_ONCE(s->resplit);
		v[skf_st_rerouted] += READ_ONCE(s->rerouted);
		v[skf_st_copied_bytes] += READ_ONCE(s->copied_w) +
					  READ_ONCE(s->copied_r);
		if (q->ch)
			sk_chan_get_stats(q->ch, &cs);
		/* polled rings never coalesce: their coalesced count is 0 */
		v[skf_st_coalesced_waits] += cs.coalesced;
		if (!q->poll)
			continue;
		v[skf_st_poll_spurious_events] += READ_ONCE(s->spurious) +
						  cs.spurious;
		v[skf_st_poll_ring_events] += cs.events;
		v[skf_st_poll_inflight] += skf_track_busy(&q->track);
	}
	if (dev->pool)
		sk_gpool_get_stats(dev->pool, &gs);
	v[skf_st_connected] = dev->connected;
	v[skf_st_queues] = dev->nr_queues - dev->nr_poll;
	v[skf_st_poll_queues] = dev->nr_poll;
	v[skf_st_ring_order] = dev->feat.order;
	v[skf_st_indirect] = dev->feat.indirect;
	v[skf_st_persistent] = dev->feat.persistent;
	v[skf_st_grant_hits] = gs.hits;
	v[skf_st_grant_misses] = gs.misses;
	v[skf_st_grants_reclaimed] = gs.reclaimed;
	v[skf_st_grants_held] = gs.held;
	v[skf_st_reconfigured] = dev->reconfigured;
	mutex_unlock(&dev->xb.lock);
}
SK_STATS_GROUP(skf, "skf_stats", SKF_STATS, skf_stats_snapshot);

static const struct attribute_group *skf_groups[] = {
	&skf_stats_group,
	NULL
};

/* The device's number: "virtual-device" (or -ext), and its XenStore id. */
static int skf_read_ids(struct xenbus_device *xbdev, u32 *vdevice,
			u32 *handle)
{
	const char *slash = strrchr(xbdev->nodename, '/');
	int err;

	err = skf_read_vdevice(xbdev->nodename, vdevice);
	if (err) {
		xenbus_dev_fatal(xbdev, err, "reading virtual-device");
		return err;
	}
	if (!slash ||
	    sk_parse_u32(slash + 1, strlen(slash + 1), U32_MAX, handle)) {
		xenbus_dev_fatal(xbdev, -EINVAL, "bad virtual-device or id");
		return -EINVAL;
	}
	return 0;
}

/*
 * The disks of an HVM config that libxl also has QEMU emulate: sdX vdevs
 * as SCSI disks at any index, the others as IDE disks 0-3, or AHCI ports
 * 0-5 with hdtype = "ahci" (which the guest cannot tell from here).
 */
#define SKF_EMULATED_DISKS	6

/*
 * HVM guest: leave CD-ROMs to the emulator.  While the emulated disks are
 * plugged (xen_emul_unplug=unnecessary or never, or an unplug that did
 * not happen), a vbd that may have an emulated twin (an hdX or sdX
 * number, or one of the first six disks) is bound only once claimed
 * (claim.c): both faces in use at once would corrupt the disk.
 */
static int skf_hvm_check(struct skf_dev *dev)
{
	struct xenbus_device *xbdev = dev->xbdev;
	char *val;
	int err;

	if (!xen_hvm_domain())
		return 0;
	val = sk_xs_read_str(xbdev->nodename, "device-type", 64);
	if (IS_ERR(val))
		return -ENODEV;
	err = strncmp(val, "cdrom", 5) ? 0 : -ENODEV;
	kfree(val);
	if (err)
		return err;
	if ((xen_has_pv_and_legacy_disk_devices() ||
	     !xen_has_pv_disk_devices()) &&
	    (dev->vdev.emulated || dev->vdev.index < SKF_EMULATED_DISKS) &&
	    !skf_claimed(dev->vdevice, dev->vdev.index)) {
		dev_info(&xbdev->dev,
			 "HVM guest: vbd %u is the PV twin of emulated disk %u: left unbound until claimed (parameter claim)\n",
			 dev->vdevice, dev->vdev.index);
		return -ENODEV;
	}
	return 0;
}

static void skf_free(struct sk_xb *xb)
{
	struct skf_dev *dev = xb->priv;

	cancel_work_sync(&dev->fatal_work);
	/*
	 * requests failed at the disconnect: a frozen queue has drained, and
	 * the first add's partition scan is over
	 */
	flush_work(&dev->reshape_work);
	mutex_lock(&dev->xb.lock);
	skf_blkmq_destroy(dev);
	skf_free_queues(dev);
	mutex_unlock(&dev->xb.lock);
	kfree(dev);
}

static int skf_probe(struct xenbus_device *xbdev, struct sk_xb **xb)
{
	struct skf_dev *dev;
	u32 vdevice, handle;
	int err;

	err = skf_read_ids(xbdev, &vdevice, &handle);
	if (err)
		return err;
	dev = kzalloc(sizeof(*dev), GFP_KERNEL);
	if (!dev)
		return -ENOMEM;
	dev->xbdev = xbdev;
	dev->vdevice = vdevice;
	dev->handle = handle;	/* blkif_vdev_t is 16 bits, as in blkfront */
	INIT_WORK(&dev->fatal_work, skf_fatal_work);
	INIT_WORK(&dev->reshape_work, skf_reshape_work);
	spin_lock_init(&dev->resubmit_lock);
	bio_list_init(&dev->resubmit);
	sk_xb_init(&dev->xb, xbdev, true, &skf_xb_ops, dev);
	err = skf_vdev_decode(dev->vdevice, &dev->vdev);
	if (err) {
		dev_warn(&xbdev->dev,
			 "virtual-device %u is not an xvd, hd or sd device\n",
			 dev->vdevice);
		goto free_dev;
	}
	err = skf_hvm_check(dev);
	if (err)
		goto free_dev;
	*xb = &dev->xb;
	return 0;

free_dev:
	kfree(dev);
	return err;
}

/* remove, first step: I/O fails from now on instead of being requeued. */
static void skf_stop(struct sk_xb *xb)
{
	struct skf_dev *dev = xb->priv;

	WRITE_ONCE(dev->dead, true);
}

/*
 * After xl restore (or a cancelled migration's resume): the old rings,
 * grants and event channels belong to a domain that no longer exists.
 * Drop them, keeping in-flight requests for the new connection; the xenbus
 * core has put us back in Initialising and the state helper sets up again
 * when the backend the toolstack recreated reaches InitWait.
 */
static void skf_resume(struct sk_xb *xb)
{
	dev_info(&xb->dev->dev, "resuming: reconnecting to the backend\n");
	mutex_lock(&xb->lock);
	skf_close(xb, false);	/* everything in flight is reissued */
	mutex_unlock(&xb->lock);
}

static const struct xenbus_device_id skf_ids[] = {
	{ "vbd" },
	{ "" }
};

struct sk_xb_driver skf_xenbus_driver = {
	.drv = {
		.name = SKF_NAME,
		.ids = skf_ids,
		.not_essential = true,
	},
	.frontend = true,
	.probe = skf_probe,
	.stop = skf_stop,
	.free = skf_free,
	.resume = skf_resume,
	.groups = skf_groups,
};
