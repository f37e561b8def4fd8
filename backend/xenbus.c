// SPDX-License-Identifier: GPL-2.0
/*
 * splitkit_back control plane: the xenbus backend driver for device type
 * "vbd" (the one Linux's xen-blkback also binds; load one or the other).
 * It advertises what we offer (probe), waits for the hotplug script
 * (tools/hotplug/splitkit) to publish the backing path, opens it, writes
 * the disk's keys, then lets splitkit_ring's state helper connect the
 * frontend's rings; disconnect drains every request in flight before the
 * rings go away.  The data path is blkif.c; the frontend counterpart is
 * xen-blkfront's talk_to_blkback() / blkfront_connect().  Every XenStore
 * key is listed in Documentation/block.rst.
 *
 * Locking: d->xb.lock (struct sk_xb) serialises probe-time state, the
 * hotplug watch, connect and disconnect; xenbus runs all watch callbacks
 * in one thread besides.  d->stopping and d->inflight order the data path
 * against disconnect (see skb_disconnect()).
 */
#include <linux/module.h>
#include <linux/slab.h>
#include <xen/interface/io/protocols.h>
#include <xen/xenbus.h>

#include "common.h"

/* The module parameters (main.c). */
static const struct skb_params *skb_param;

static const struct sk_chan_ops skb_chan_ops = {
	.msg = skb_chan_msg,
};

static struct sk_chan_params skb_params(struct skb_dev *d)
{
	struct sk_chan_params p = {
		.name = "vbd",
		.req_size = sizeof(struct blkif_request),
		.rsp_size = sizeof(struct blkif_response),
		.ent_size = SK_RING_ENT_SIZE(struct blkif_request,
					     struct blkif_response),
		.max_order = READ_ONCE(skb_param->max_ring_order),
		.max_queues = READ_ONCE(skb_param->max_queues),
		.poll_ns = READ_ONCE(skb_param->poll_ns),
		.ops = &skb_chan_ops,
		.priv = d,
	};

	return p;
}

/* Refuse every protocol ABI but ours (x86_64); absent means native. */
static int skb_check_protocol(struct xenbus_device *dev)
{
	char *proto;
	int err = 0;

	proto = xenbus_read(XBT_NIL, dev->otherend, "protocol", NULL);
	if (IS_ERR(proto))
		return 0;
	if (strcmp(proto, XEN_IO_PROTO_ABI_X86_64)) {
		err = -EPROTONOSUPPORT;
		xenbus_dev_fatal(dev, err,
				 "frontend protocol '%.32s' not supported (only %s)",
				 proto, XEN_IO_PROTO_ABI_X86_64);
	}
	kfree(proto);
	return err;
}

static int skb_connect(struct sk_xb *xb)
{
	struct skb_dev *d = xb->priv;
	struct sk_chan_params p = skb_params(d);
	struct sk_link *l;
	int err;

	if (!d->ready)
		return -EAGAIN;	/* not reached: otherend_changed waits */
	err = skb_check_protocol(d->dev);
	if (err)
		return err;
	/* what we advertised in probe is what we check against */
	p.max_order = d->adv_order;
	p.max_queues = d->adv_queues;
	skb_build_limits(d, d->adv_segs);
	WRITE_ONCE(d->stopping, false);
	l = sk_link_back_connect(d->dev, &p);
	if (IS_ERR(l))
		return PTR_ERR(l);
	d->link = l;
	dev_info(&d->dev->dev,
		 "connected to domain %d: %s, %llu sectors%s, %u queue(s), ring-page-order %u\n",
		 d->dev->otherend_id, d->be.path, d->be.sectors,
		 d->be.read_only ? " (read-only)" : "", sk_link_nr_chans(l),
		 sk_link_order(l));
	return 0;
}

/*
 * Idempotent.  Mark the device stopping, wait until every request already
 * taken from the ring has been answered (its I/O cannot be cancelled, and
 * its pages must not be freed under it), then tear the rings down.
 */
static void skb_disconnect(struct sk_xb *xb)
{
	struct skb_dev *d = xb->priv;

	if (!d->link)
		return;
	WRITE_ONCE(d->stopping, true);
	/* pairs with smp_mb__after_atomic() in skb_chan_msg() */
	smp_mb();
	while (!wait_event_timeout(d->drain_wq, !atomic_read(&d->inflight),
				   10 * HZ))
		dev_warn(&d->dev->dev,
			 "disconnect waits for %d request(s) still in flight\n",
			 atomic_read(&d->inflight));
	sk_link_destroy(d->link);
	d->link = NULL;
	dev_info(&d->dev->dev, "disconnected\n");
}

static const struct sk_xb_ops skb_xb_ops = {
	.connect = skb_connect,
	.disconnect = skb_disconnect,
};

/* The disk's keys, written once the backing is open, before Connected. */
static int skb_write_disk_keys(struct skb_dev *d)
{
	struct xenbus_device *dev = d->dev;
	const struct skb_backing *be = &d->be;
	bool discard = be->discard && !be->read_only;
	struct xenbus_transaction xbt;
	int err;

again:
	err = xenbus_transaction_start(&xbt);
	if (err)
		return err;
	err = xenbus_printf(xbt, dev->nodename, "sectors", "%llu",
			    be->sectors);
	if (!err)
		err = xenbus_printf(xbt, dev->nodename, "info", "%u",
				    be->read_only ? VDISK_READONLY : 0);
	if (!err)
		err = xenbus_printf(xbt, dev->nodename, "sector-size", "%u",
				    be->sector_size);
	if (!err)
		err = xenbus_printf(xbt, dev->nodename,
				    "physical-sector-size", "%u",
				    be->phys_sector_size);
	if (!err)
		err = xenbus_printf(xbt, dev->nodename, "feature-flush-cache",
				    "%d", 1);
	/*
	 * A barrier is a flush plus ordering (barrier.c), offered with it,
	 * also on a read-only disk as xen-blkback does; there an empty
	 * barrier is performed like an empty flush, one with data refused.
	 */
	if (!err)
		err = xenbus_printf(xbt, dev->nodename, "feature-barrier",
				    "%d", 1);
	if (!err)
		err = xenbus_printf(xbt, dev->nodename, "feature-discard",
				    "%d", discard);
	if (!err && discard)
		err = xenbus_printf(xbt, dev->nodename,
				    "discard-granularity", "%u",
				    be->discard_granularity);
	if (!err && discard)
		err = xenbus_printf(xbt, dev->nodename, "discard-alignment",
				    "%u", be->discard_alignment);
	if (!err && discard)
		err = xenbus_printf(xbt, dev->nodename, "discard-secure",
				    "%d", 0);
	if (err) {
		xenbus_transaction_end(xbt, 1);
		return err;
	}
	err = xenbus_transaction_end(xbt, 0);
	if (err == -EAGAIN)
		goto again;
	return err;
}

/* Open the backing the hotplug script published.  Under xb.lock. */
static int skb_open_backing(struct skb_dev *d)
{
	struct xenbus_device *dev = d->dev;
	char *path, *mode;
	bool ro;
	int err;

	path = xenbus_read(XBT_NIL, dev->nodename, "physical-device-path",
			   NULL);
	if (IS_ERR(path))
		path = xenbus_read(XBT_NIL, dev->nodename, "params", NULL);
	if (IS_ERR(path)) {
		err = PTR_ERR(path);
		xenbus_dev_fatal(dev, err, "reading physical-device-path");
		return err;
	}
	mode = xenbus_read(XBT_NIL, dev->nodename, "mode", NULL);
	ro = IS_ERR(mode) || strcmp(mode, "w");
	if (!IS_ERR(mode))
		kfree(mode);
	err = skb_backing_open(&d->be, path, ro);
	if (err) {
		xenbus_dev_fatal(dev, err, "opening %s", path);
		goto free_path;
	}
	err = skb_write_disk_keys(d);
	if (err) {
		xenbus_dev_fatal(dev, err, "writing disk keys");
		skb_backing_close(&d->be);
		goto free_path;
	}
	d->ready = true;
	dev_info(&dev->dev, "%s %s: %llu sectors, %s I/O%s\n",
		 d->be.ops->name, path, d->be.sectors, d->be.io,
		 ro ? ", read-only" : "");
free_path:
	kfree(path);
	return err;
}

static void skb_hotplug_changed(struct xenbus_watch *w, const char *path,
				const char *token)
{
	struct skb_dev *d = container_of(w, struct skb_dev, hotplug_watch);
	struct xenbus_device *dev = d->dev;
	char *status;
	bool go;

	status = xenbus_read(XBT_NIL, dev->nodename, "hotplug-status", NULL);
	if (IS_ERR(status))
		return;
	go = !strcmp(status, "connected");
	kfree(status);
	if (!go)
		return;
	mutex_lock(&d->xb.lock);
	if (d->ready || skb_open_backing(d)) {
		mutex_unlock(&d->xb.lock);
		return;
	}
	mutex_unlock(&d->xb.lock);
	/* a frontend that got ahead of the hotplug script connects now */
	sk_xb_peer_changed(&d->xb, xenbus_read_driver_state(dev->otherend));
}

static ssize_t skb_stats_show(struct device *dev,
			      struct device_attribute *attr, char *buf)
{
	struct skb_dev *d = dev_get_drvdata(dev);
	struct skb_stats *s = &d->stats;
	int n, r;

	n = sysfs_emit(buf,
		       "connected %d\ninflight %d\nrequests %lld\nrefused %lld\nio_errors %lld\ngrant_errors %lld\nnomem %lld\nbarriers %lld\n",
		       READ_ONCE(d->link) != NULL, atomic_read(&d->inflight),
		       atomic64_read(&s->reqs), atomic64_read(&s->refused),
		       atomic64_read(&s->io_errors),
		       atomic64_read(&s->grant_errors),
		       atomic64_read(&s->nomem),
		       atomic64_read(&s->barriers));
	for (r = 1; r < SKB_NR_REASONS; r++)
		n += sysfs_emit_at(buf, n, "refused: %s %lld\n",
				   skb_reason_str(r),
				   atomic64_read(&s->reasons[r]));
	return n;
}
static DEVICE_ATTR_RO(skb_stats);

/* The static part of what we offer; what the frontend may negotiate. */
static int skb_advertise(struct skb_dev *d)
{
	struct xenbus_device *dev = d->dev;
	struct sk_chan_params p = skb_params(d);
	int err;

	d->adv_order = p.max_order;
	d->adv_queues = p.max_queues;
	d->adv_segs = READ_ONCE(skb_param->max_indirect_segs);
	err = sk_link_back_advertise(dev, &p);
	if (err)
		return err;	/* reported */
	err = xenbus_printf(XBT_NIL, dev->nodename,
			    "feature-max-indirect-segments", "%u",
			    d->adv_segs);
	if (!err)
		/*
		 * Grants are copied, never mapped: any grant works, and a
		 * frontend that keeps its grants persistent saves its own
		 * grant/ungrant per request.
		 */
		err = xenbus_printf(XBT_NIL, dev->nodename,
				    "feature-persistent", "%d", 1);
	if (err)
		xenbus_dev_fatal(dev, err, "writing features");
	return err;
}

static int skb_probe(struct xenbus_device *dev,
		     const struct xenbus_device_id *id)
{
	struct skb_dev *d;
	int err;

	d = kzalloc(sizeof(*d), GFP_KERNEL);
	if (!d)
		return -ENOMEM;
	d->dev = dev;
	skb_queues_init(d);
	sk_xb_init(&d->xb, dev, false, &skb_xb_ops, d);
	dev_set_drvdata(&dev->dev, d);
	err = skb_advertise(d);
	if (err)
		goto free_dev;
	err = device_create_file(&dev->dev, &dev_attr_skb_stats);
	if (err)
		goto free_dev;
	err = xenbus_watch_pathfmt(dev, &d->hotplug_watch, NULL,
				   skb_hotplug_changed, "%s/%s",
				   dev->nodename, "hotplug-status");
	if (err)
		goto remove_file;
	d->watching = true;
	err = sk_xb_start(&d->xb);
	if (err)
		goto unwatch;
	return 0;

unwatch:
	unregister_xenbus_watch(&d->hotplug_watch);
	kfree(d->hotplug_watch.node);
remove_file:
	device_remove_file(&dev->dev, &dev_attr_skb_stats);
free_dev:
	dev_set_drvdata(&dev->dev, NULL);
	kfree(d);
	return err;
}

static void skb_otherend_changed(struct xenbus_device *dev,
				 enum xenbus_state state)
{
	struct skb_dev *d = dev_get_drvdata(&dev->dev);

	/* connecting needs the backing: the hotplug watch resumes then */
	if (!READ_ONCE(d->ready) && (state == XenbusStateInitialised ||
				     state == XenbusStateConnected))
		return;
	sk_xb_peer_changed(&d->xb, state);
}

static void skb_remove(struct xenbus_device *dev)
{
	struct skb_dev *d = dev_get_drvdata(&dev->dev);

	if (d->watching) {
		unregister_xenbus_watch(&d->hotplug_watch);
		kfree(d->hotplug_watch.node);
	}
	device_remove_file(&dev->dev, &dev_attr_skb_stats);
	sk_xb_remove(&d->xb);
	skb_backing_close(&d->be);
	dev_set_drvdata(&dev->dev, NULL);
	kfree(d);
}

static const struct xenbus_device_id skb_ids[] = {
	{ "vbd" },
	{ "" }
};

static struct xenbus_driver skb_driver = {
	.ids = skb_ids,
	.probe = skb_probe,
	.remove = skb_remove,
	.otherend_changed = skb_otherend_changed,
};

int skb_xenbus_register(const struct skb_params *params)
{
	skb_param = params;
	return xenbus_register_backend(&skb_driver);
}

void skb_xenbus_unregister(void)
{
	xenbus_unregister_driver(&skb_driver);
}
