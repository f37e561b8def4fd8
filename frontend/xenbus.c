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

#include "common.h"

/*
 * Read one backend-written number; @def when the key is absent, an error
 * when it is present but not a plain decimal number within @max.
 */
static int skf_read_u64(struct skf_dev *dev, const char *key, u64 max,
			u64 def, u64 *out)
{
	unsigned int len;
	char *val;
	int err;

	val = xenbus_read(XBT_NIL, dev->xbdev->otherend, key, &len);
	if (IS_ERR(val)) {
		*out = def;
		return PTR_ERR(val) == -ENOENT ? 0 : PTR_ERR(val);
	}
	err = skf_parse_u64(val, len, max, out);
	kfree(val);
	if (err)
		dev_err(&dev->xbdev->dev,
			"malicious or buggy backend: bad value of %s\n", key);
	return err;
}

static int skf_read_u32(struct skf_dev *dev, const char *key, u32 max,
			u32 def, u32 *out)
{
	u64 v;
	int err = skf_read_u64(dev, key, max, def, &v);

	if (!err)
		*out = (u32)v;
	return err;
}

static bool skf_read_bool(struct skf_dev *dev, const char *key)
{
	u32 v = 0;

	return !skf_read_u32(dev, key, U32_MAX, 0, &v) && v;
}

static void skf_free_queues(struct skf_dev *dev)
{
	unsigned int i;

	if (!dev->queues)
		return;
	for (i = 0; i < dev->nr_queues; i++) {
		kfree(dev->queues[i].slots);
		kfree(dev->queues[i].rqs);
	}
	kfree(dev->queues);
	dev->queues = NULL;
}

/* First connection: the queues and their slots, fixed from now on. */
static int skf_alloc_queues(struct skf_dev *dev, unsigned int nr_irq,
			    unsigned int nr_poll, unsigned int depth)
{
	unsigned int i;

	dev->queues = kcalloc(nr_irq + nr_poll, sizeof(*dev->queues),
			      GFP_KERNEL);
	if (!dev->queues)
		return -ENOMEM;
	dev->nr_queues = nr_irq + nr_poll;
	dev->nr_poll = nr_poll;
	dev->depth = depth;
	for (i = 0; i < dev->nr_queues; i++) {
		struct skf_queue *q = &dev->queues[i];

		q->dev = dev;
		q->index = i;
		q->poll = i >= nr_irq;
		q->slots = kcalloc(depth, sizeof(*q->slots), GFP_KERNEL);
		q->rqs = kcalloc(depth, sizeof(*q->rqs), GFP_KERNEL);
		if (!q->slots || !q->rqs) {
			skf_free_queues(dev);
			return -ENOMEM;
		}
		skf_track_init(&q->track, q->slots, depth);
	}
	return 0;
}

static int skf_publish(struct skf_dev *dev, unsigned int nr_irq)
{
	struct xenbus_transaction xbt;
	const char *dir = dev->xbdev->nodename;
	int err;

again:
	err = xenbus_transaction_start(&xbt);
	if (err)
		return err;
	err = sk_link_front_publish(dev->link, xbt);
	if (!err)
		err = skf_pollq_publish(dev, xbt, nr_irq);
	if (!err)
		err = xenbus_printf(xbt, dir, "protocol", "%s",
				    XEN_IO_PROTO_ABI_NATIVE);
	if (!err)
		err = xenbus_printf(xbt, dir, "feature-persistent", "%u",
				    skf_persistent_grants ? 1 : 0);
	if (err) {
		xenbus_transaction_end(xbt, 1);
		return err;
	}
	err = xenbus_transaction_end(xbt, 0);
	if (err == -EAGAIN)
		goto again;
	return err;
}

static void skf_teardown_rings(struct skf_dev *dev)
{
	unsigned int i;

	sk_link_destroy(dev->link);
	dev->link = NULL;
	skf_pollq_free(dev);
	for (i = 0; dev->queues && i < dev->nr_queues; i++)
		dev->queues[i].ch = NULL;
}

/* sk_xb setup: the backend is in InitWait; rings and keys. */
static int skf_setup(struct sk_xb *xb)
{
	struct skf_dev *dev = xb->priv;
	struct sk_chan_params p = {
		.name = "vbd",
		.req_size = sizeof(struct blkif_request),
		.rsp_size = sizeof(struct blkif_response),
		.ent_size = SK_RING_ENT_SIZE(struct blkif_request,
					     struct blkif_response),
		.max_order = skf_max_ring_order,
		.ops = &skf_chan_ops,
		.priv = dev,
	};
	unsigned int want_irq, want_poll, nr_irq, i;
	u32 backend_max;
	int err;

	if (dev->queues) {
		/* reconnection: the disk's queue layout is fixed */
		want_poll = dev->nr_poll;
		want_irq = dev->nr_queues - want_poll;
	} else {
		err = skf_read_u32(dev, "multi-queue-max-queues", U32_MAX, 1,
				   &backend_max);
		if (err)
			return err;
		backend_max = clamp_t(u32, backend_max, 1, SKF_MAX_QUEUES);
		/* blk-mq maps queues to CPUs: more than CPUs would sit idle */
		want_irq = min3(skf_max_queues, num_online_cpus(), backend_max);
		want_poll = min_t(u32, skf_poll_queues, backend_max - 1);
		if (want_irq + want_poll > backend_max)
			want_irq = backend_max - want_poll;
	}
	p.max_queues = want_irq;

	dev->link = sk_link_front_alloc(dev->xbdev, &p);
	if (IS_ERR(dev->link)) {
		err = PTR_ERR(dev->link);
		dev->link = NULL;
		return err;
	}
	nr_irq = sk_link_nr_chans(dev->link);
	if (dev->queues && nr_irq != want_irq) {
		xenbus_dev_fatal(dev->xbdev, -EOPNOTSUPP,
				 "backend now offers %u queues, the disk has %u",
				 nr_irq, want_irq);
		err = -EOPNOTSUPP;
		goto teardown_rings;
	}
	if (!dev->queues) {
		err = skf_alloc_queues(dev, nr_irq, want_poll,
				       sk_chan_nr_ents(sk_link_chan(dev->link,
								    0)));
		if (err)
			goto teardown_rings;
	}
	err = skf_pollq_alloc(dev, nr_irq, dev->nr_poll,
			      sk_link_order(dev->link));
	if (err)
		goto teardown_rings;
	err = skf_publish(dev, nr_irq);
	if (err) {
		xenbus_dev_fatal(dev->xbdev, err, "writing ring keys");
		goto teardown_rings;
	}
	for (i = 0; i < nr_irq; i++)
		dev->queues[i].ch = sk_link_chan(dev->link, i);
	dev->feat.order = sk_link_order(dev->link);
	return 0;

teardown_rings:
	skf_teardown_rings(dev);
	return err;
}

/* Read and check what the backend announced (on every connection). */
static int skf_read_backend(struct skf_dev *dev, struct skf_geom *g,
			    struct skf_features *f)
{
	u32 gran = 0, align = 0, ind = 0, v;
	int err;

	err = skf_read_u64(dev, "sectors", U64_MAX, U64_MAX, &g->sectors);
	if (!err)
		err = skf_read_u32(dev, "info", U32_MAX, 0, &dev->info);
	if (!err)
		err = skf_read_u32(dev, "sector-size", U32_MAX, 0,
				   &g->sector_size);
	if (!err)
		err = skf_read_u32(dev, "physical-sector-size", U32_MAX,
				   g->sector_size, &g->phys_size);
	if (err || g->sectors == U64_MAX || skf_geom_check(g)) {
		xenbus_dev_fatal(dev->xbdev, -EINVAL,
				 "malicious or buggy backend: bad geometry (sectors %llu, sector-size %u, physical-sector-size %u)",
				 g->sectors, g->sector_size, g->phys_size);
		return -EINVAL;
	}

	f->flush_op = 0;
	if (skf_read_bool(dev, "feature-flush-cache"))
		f->flush_op = BLKIF_OP_FLUSH_DISKCACHE;
	else if (skf_read_bool(dev, "feature-barrier"))
		f->flush_op = BLKIF_OP_WRITE_BARRIER;

	f->discard = false;
	if (skf_read_bool(dev, "feature-discard")) {
		if (!skf_read_u32(dev, "discard-granularity", U32_MAX, 0,
				  &gran) &&
		    !skf_read_u32(dev, "discard-alignment", U32_MAX, 0,
				  &align) &&
		    !skf_discard_check(gran, align, g->sector_size, &f->disc))
			f->discard = true;
		else
			dev_warn(&dev->xbdev->dev,
				 "backend discard parameters unusable (granularity %u, alignment %u): discard off\n",
				 gran, align);
	}

	f->persistent = skf_persistent_grants &&
			skf_read_bool(dev, "feature-persistent");
	if (!skf_read_u32(dev, "feature-max-indirect-segments", U32_MAX, 0,
			  &v))
		ind = v;
	f->indirect = skf_indirect_segs(ind, skf_max_indirect_segs);
	f->max_segs = f->indirect ?: BLKIF_MAX_SEGMENTS_PER_REQUEST;
	return 0;
}

static void skf_log_features(struct skf_dev *dev)
{
	dev_info(&dev->xbdev->dev,
		 "%s: queues %u, ring order %u, persistent grants: %s, indirect: %u, flush: %s, discard: %s, poll queues: %u\n",
		 dev->gd->disk_name, dev->nr_queues - dev->nr_poll,
		 dev->feat.order, dev->feat.persistent ? "on" : "off",
		 dev->feat.indirect,
		 dev->feat.flush_op == BLKIF_OP_FLUSH_DISKCACHE ? "on" :
		 dev->feat.flush_op ? "barrier" : "off",
		 dev->feat.discard ? "on" : "off", dev->nr_poll);
}

/* sk_xb connect: the backend is Connected; start I/O. */
static int skf_connect(struct sk_xb *xb)
{
	struct skf_dev *dev = xb->priv;
	struct skf_features f = { .order = dev->feat.order };
	struct skf_geom g = { 0 };
	unsigned int pages;
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

	pages = dev->nr_queues * dev->depth *
		(f.max_segs + DIV_ROUND_UP(f.max_segs, SK_BLKIF_SEGS_PER_INDIRECT_PAGE));
	dev->pool = sk_gpool_create(dev->xbdev->otherend_id, pages,
				    f.persistent ? pages : 0, false);
	if (!dev->pool)
		return -ENOMEM;
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
		if (f.max_segs < dev->cap_segs)
			dev_warn(&dev->xbdev->dev,
				 "backend takes %u segments, the disk was set up for %u: larger requests will fail\n",
				 f.max_segs, dev->cap_segs);
		dev->geom = g;
	}

	dev->connected = true;
	if (dev->quiesced) {
		blk_mq_unquiesce_queue(dev->gd->queue);
		dev->quiesced = false;
	}
	blk_mq_kick_requeue_list(dev->gd->queue);
	blk_mq_run_hw_queues(dev->gd->queue, true);
	if (first) {
		err = device_add_disk(&dev->xbdev->dev, dev->gd, NULL);
		if (err) {
			xenbus_dev_fatal(dev->xbdev, err, "adding the disk");
			return err;	/* disconnect and remove clean up */
		}
		dev->added = true;
	}
	skf_log_features(dev);
	return 0;

destroy_pool:
	sk_gpool_destroy(dev->pool);
	dev->pool = NULL;
	return err;
}

/* sk_xb disconnect: idempotent; stop I/O, free the connection. */
static void skf_disconnect(struct sk_xb *xb)
{
	struct skf_dev *dev = xb->priv;

	if (dev->gd && !dev->quiesced) {
		/* no queue_rq runs after this returns */
		blk_mq_quiesce_queue(dev->gd->queue);
		dev->quiesced = true;
	}
	dev->connected = false;
	skf_teardown_rings(dev);	/* no completion runs after this */
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

static const struct sk_xb_ops skf_xb_ops = {
	.setup = skf_setup,
	.connect = skf_connect,
	.disconnect = skf_disconnect,
};

static ssize_t skf_stats_show(struct device *d, struct device_attribute *a,
			      char *buf)
{
	struct skf_dev *dev = dev_get_drvdata(d);
	struct sk_gpool_stats gs = { 0 };
	struct skf_stats t = { 0 };
	unsigned int i, poll_inflight = 0;
	ssize_t n;

	mutex_lock(&dev->xb.lock);
	for (i = 0; dev->queues && i < dev->nr_queues; i++) {
		const struct skf_stats *s = &dev->queues[i].stats;

		t.issued += READ_ONCE(s->issued);
		t.completed += READ_ONCE(s->completed);
		t.irq_done += READ_ONCE(s->irq_done);
		t.poll_done += READ_ONCE(s->poll_done);
		t.poll_calls += READ_ONCE(s->poll_calls);
		t.events += READ_ONCE(s->events);
		t.errors += READ_ONCE(s->errors);
		t.violations += READ_ONCE(s->violations);
		t.requeued += READ_ONCE(s->requeued);
		if (dev->queues[i].poll)
			poll_inflight += skf_track_busy(&dev->queues[i].track);
	}
	if (dev->pool)
		sk_gpool_get_stats(dev->pool, &gs);
	n = sysfs_emit(buf,
		       "connected %d\nqueues %u\npoll_queues %u\nring_order %u\nindirect %u\npersistent %d\nissued %llu\ncompleted %llu\nirq_completions %llu\npoll_completions %llu\npoll_calls %llu\npoll_ring_events %llu\nerrors %llu\nviolations %llu\nrequeued %llu\npoll_inflight %u\ngrant_hits %llu\ngrant_misses %llu\n",
		       dev->connected, dev->nr_queues - dev->nr_poll,
		       dev->nr_poll, dev->feat.order, dev->feat.indirect,
		       dev->feat.persistent, t.issued, t.completed,
		       t.irq_done, t.poll_done, t.poll_calls, t.events,
		       t.errors, t.violations, t.requeued, poll_inflight,
		       gs.hits, gs.misses);
	mutex_unlock(&dev->xb.lock);
	return n;
}
static DEVICE_ATTR_RO(skf_stats);

static int skf_probe(struct xenbus_device *xbdev,
		     const struct xenbus_device_id *id)
{
	const char *slash = strrchr(xbdev->nodename, '/');
	struct skf_dev *dev;
	u64 vdevice, handle;
	char *val;
	int err;

	val = xenbus_read(XBT_NIL, xbdev->nodename, "virtual-device", NULL);
	if (IS_ERR(val))
		val = xenbus_read(XBT_NIL, xbdev->nodename,
				  "virtual-device-ext", NULL);
	if (IS_ERR(val)) {
		xenbus_dev_fatal(xbdev, PTR_ERR(val), "reading virtual-device");
		return PTR_ERR(val);
	}
	err = skf_parse_u64(val, strlen(val), U32_MAX, &vdevice);
	kfree(val);
	if (!err && slash)
		err = skf_parse_u64(slash + 1, strlen(slash + 1), U32_MAX,
				    &handle);
	if (err || !slash) {
		xenbus_dev_fatal(xbdev, -EINVAL, "bad virtual-device or id");
		return -EINVAL;
	}

	dev = kzalloc(sizeof(*dev), GFP_KERNEL);
	if (!dev)
		return -ENOMEM;
	dev->xbdev = xbdev;
	dev->vdevice = vdevice;
	dev->handle = handle;	/* blkif_vdev_t is 16 bits, as in blkfront */
	INIT_WORK(&dev->fatal_work, skf_fatal_work);
	err = skf_vdev_decode(dev->vdevice, &dev->vdev);
	if (err) {
		dev_warn(&xbdev->dev,
			 "virtual-device %u is not an xvd, hd or sd device\n",
			 dev->vdevice);
		goto free_dev;
	}
	if (xen_hvm_domain()) {
		/* emulated disks still plugged: leave hdX/sdX to them */
		if (dev->vdev.emulated && xen_has_pv_and_legacy_disk_devices()) {
			dev_info(&xbdev->dev,
				 "HVM guest: vbd %u stays with the emulated disk\n",
				 dev->vdevice);
			err = -ENODEV;
			goto free_dev;
		}
		val = xenbus_read(XBT_NIL, xbdev->nodename, "device-type",
				  NULL);
		if (IS_ERR(val)) {
			err = -ENODEV;
			goto free_dev;
		}
		err = strncmp(val, "cdrom", 5) ? 0 : -ENODEV;
		kfree(val);
		if (err)
			goto free_dev;
	}

	sk_xb_init(&dev->xb, xbdev, true, &skf_xb_ops, dev);
	dev_set_drvdata(&xbdev->dev, dev);
	err = device_create_file(&xbdev->dev, &dev_attr_skf_stats);
	if (err)
		goto clear_drvdata;
	err = sk_xb_start(&dev->xb);
	if (err)
		goto remove_file;
	return 0;

remove_file:
	device_remove_file(&xbdev->dev, &dev_attr_skf_stats);
clear_drvdata:
	dev_set_drvdata(&xbdev->dev, NULL);
free_dev:
	kfree(dev);
	return err;
}

static void skf_otherend_changed(struct xenbus_device *xbdev,
				 enum xenbus_state state)
{
	struct skf_dev *dev = dev_get_drvdata(&xbdev->dev);

	sk_xb_peer_changed(&dev->xb, state);
}

/*
 * After xl restore (or a cancelled migration's resume): the old rings,
 * grants and event channels belong to a domain that no longer exists.
 * Drop them, keeping in-flight requests for the new connection; the xenbus
 * core has put us back in Initialising and the state helper sets up again
 * when the backend the toolstack recreated reaches InitWait.
 */
static int skf_resume(struct xenbus_device *xbdev)
{
	struct skf_dev *dev = dev_get_drvdata(&xbdev->dev);

	dev_info(&xbdev->dev, "resuming: reconnecting to the backend\n");
	mutex_lock(&dev->xb.lock);
	skf_disconnect(&dev->xb);
	mutex_unlock(&dev->xb.lock);
	return 0;
}

static void skf_remove(struct xenbus_device *xbdev)
{
	struct skf_dev *dev = dev_get_drvdata(&xbdev->dev);

	WRITE_ONCE(dev->dead, true);
	device_remove_file(&xbdev->dev, &dev_attr_skf_stats);
	sk_xb_remove(&dev->xb);
	cancel_work_sync(&dev->fatal_work);
	mutex_lock(&dev->xb.lock);
	skf_blkmq_destroy(dev);
	skf_free_queues(dev);
	mutex_unlock(&dev->xb.lock);
	dev_set_drvdata(&xbdev->dev, NULL);
	kfree(dev);
}

static const struct xenbus_device_id skf_ids[] = {
	{ "vbd" },
	{ "" }
};

struct xenbus_driver skf_xenbus_driver = {
	.name = SKF_NAME,
	.ids = skf_ids,
	.probe = skf_probe,
	.remove = skf_remove,
	.resume = skf_resume,
	.otherend_changed = skf_otherend_changed,
	.not_essential = true,
};
