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

#include <splitkit/blkif_keys.h>
#include <splitkit/export.h>

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

	proto = sk_xs_read_str(dev->otherend, "protocol", 64);
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
	/*
	 * The count is checked under drain_lock, which the last
	 * skb_inflight_put() holds from the count's fall to zero until after
	 * its wake-up: once this sees zero, no answerer touches @d again.
	 */
	spin_lock_irq(&d->drain_lock);
	while (!wait_event_lock_irq_timeout(d->drain_wq,
					    !atomic_read(&d->inflight),
					    d->drain_lock, 10 * HZ)) {
		spin_unlock_irq(&d->drain_lock);
		dev_warn(&d->dev->dev,
			 "disconnect waits for %d request(s) still in flight\n",
			 atomic_read(&d->inflight));
		spin_lock_irq(&d->drain_lock);
	}
	spin_unlock_irq(&d->drain_lock);
	skb_test_drained(d);
	sk_link_destroy(d->link);
	d->link = NULL;
	dev_info(&d->dev->dev, "disconnected\n");
}

/* Connecting needs the backing: the hotplug watch resumes then. */
static bool skb_ready(struct sk_xb *xb)
{
	struct skb_dev *d = xb->priv;

	return READ_ONCE(d->ready);
}

static const struct sk_xb_ops skb_xb_ops = {
	.connect = skb_connect,
	.disconnect = skb_disconnect,
	.ready = skb_ready,
};

/*
 * The disk's keys (<splitkit/blkif_keys.h>, one table with the frontend):
 * what we offer is written in probe, the rest once the backing is open,
 * before Connected.
 */
static int skb_write_disk_xbt(struct xenbus_transaction xbt, void *arg)
{
	struct skb_dev *d = arg;
	const struct skb_backing *be = &d->be;
	struct sk_blkif_disk k = {
		.sectors = be->sectors,
		.info = be->read_only ? VDISK_READONLY : 0,
		.sector_size = be->sector_size,
		.phys_size = be->phys_sector_size,
		.flush = true,
		/*
		 * A barrier is a flush plus ordering (barrier.c), offered with
		 * it, also on a read-only disk as xen-blkback does; there an
		 * empty barrier is performed like an empty flush, one with
		 * data refused.
		 */
		.barrier = true,
		.discard = be->discard && !be->read_only,
		.gran = be->discard_granularity,
		.align = be->discard_alignment,
	};
	u64 mask = GENMASK_ULL(SK_BLKIF_DISCARD, SK_BLKIF_SECTORS);

	if (k.discard)
		mask |= GENMASK_ULL(SK_BLKIF_SECURE, SK_BLKIF_GRAN);
	return sk_xs_write_keys(xbt, d->dev->nodename, SK_XS_BACKEND,
				sk_blkif_disk_keys, SK_BLKIF_NR_KEYS, &k, mask);
}

/* The frontend domain's "vm" path (its VM's identity), or NULL. */
static char *skb_read_vm(struct xenbus_device *dev)
{
	char *dir, *vm;

	dir = kasprintf(GFP_KERNEL, "/local/domain/%d", dev->otherend_id);
	if (!dir)
		return NULL;
	vm = sk_xs_read_str(dir, "vm", 128);
	kfree(dir);
	return IS_ERR(vm) ? NULL : vm;
}

/*
 * Open the backing the hotplug script published, with the access "mode"
 * asks for ("w", "w!" shared on purpose, else read-only), if no other
 * domain's use of it forbids (share.c).  Under xb.lock.
 */
static int skb_open_backing(struct skb_dev *d)
{
	struct xenbus_device *dev = d->dev;
	char *path, *mode;
	bool discard_on;
	int err;

	path = sk_xs_read_str(dev->nodename, "physical-device-path", PATH_MAX);
	if (IS_ERR(path))
		path = sk_xs_read_str(dev->nodename, "params", PATH_MAX);
	if (IS_ERR(path)) {
		err = PTR_ERR(path);
		xenbus_dev_fatal(dev, err, "reading physical-device-path");
		return err;
	}
	mode = sk_xs_read_str(dev->nodename, "mode", 8);
	skb_mode_parse(IS_ERR(mode) ? NULL : mode, &d->user.mode);
	if (!IS_ERR(mode))
		kfree(mode);
	d->user.domid = dev->otherend_id;
	kfree(d->vm);
	d->vm = skb_read_vm(dev);
	d->user.vm = d->vm;
	err = skb_backing_open(&d->be, path, !d->user.mode.writable);
	if (err) {
		xenbus_dev_fatal(dev, err, "opening %s", path);
		goto free_path;
	}
	/* libxl's discard-enable (disk spec "no-discard" writes 0) */
	if (!sk_xs_read_bool(dev->nodename, "discard-enable", true,
			     &discard_on) && !discard_on)
		d->be.discard = false;
	err = skb_share_join(d);
	if (err)
		goto close_backing;
	err = sk_xs_transact(skb_write_disk_xbt, d);
	if (err) {
		xenbus_dev_fatal(dev, err, "writing disk keys");
		goto leave_share;
	}
	d->ready = true;
	dev_info(&dev->dev, "%s %s: %llu sectors, %s I/O%s%s\n",
		 d->be.ops->name, path, d->be.sectors, d->be.io,
		 d->be.read_only ? ", read-only" :
		 d->user.mode.force ? ", shared (mode w!)" : "",
		 d->be.discard || d->be.read_only ? "" : ", no discard");
	goto free_path;

leave_share:
	skb_share_leave(d);
close_backing:
	skb_backing_close(&d->be);
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

	status = sk_xs_read_str(dev->nodename, "hotplug-status", 64);
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
	struct skb_dev *d = sk_xb_from_dev(dev)->priv;
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

static struct attribute *skb_attrs[] = {
	&dev_attr_skb_stats.attr,
	NULL
};
ATTRIBUTE_GROUPS(skb);

/* The static part of what we offer; what the frontend may negotiate. */
static int skb_advertise(struct skb_dev *d)
{
	struct xenbus_device *dev = d->dev;
	struct sk_chan_params p = skb_params(d);
	struct sk_blkif_disk k = {
		/* the parameter refuses less; a floor all the same */
		.indirect = max_t(unsigned int, SKB_MIN_INDIRECT_SEGS,
				  READ_ONCE(skb_param->max_indirect_segs)),
		/*
		 * Grants are copied, never mapped: any grant works, and a
		 * frontend that keeps its grants persistent saves its own
		 * grant/ungrant per request.
		 */
		.persistent = true,
	};
	int err;

	d->adv_order = p.max_order;
	d->adv_queues = p.max_queues;
	d->adv_segs = k.indirect;
	err = sk_link_back_advertise(dev, &p);
	if (err)
		return err;	/* reported */
	err = sk_xs_write_keys(XBT_NIL, dev->nodename, SK_XS_BACKEND,
			       sk_blkif_disk_keys, SK_BLKIF_NR_KEYS, &k,
			       BIT_ULL(SK_BLKIF_INDIRECT) |
			       BIT_ULL(SK_BLKIF_PERSISTENT));
	if (err)
		xenbus_dev_fatal(dev, err, "writing features");
	return err;
}

static int skb_probe(struct xenbus_device *dev, struct sk_xb **xb)
{
	struct skb_dev *d;
	int err;

	d = kzalloc(sizeof(*d), GFP_KERNEL);
	if (!d)
		return -ENOMEM;
	d->dev = dev;
	skb_queues_init(d);
	sk_xb_init(&d->xb, dev, false, &skb_xb_ops, d);
	err = skb_advertise(d);
	if (err)
		goto free_dev;
	err = xenbus_watch_pathfmt(dev, &d->hotplug_watch, NULL,
				   skb_hotplug_changed, "%s/%s",
				   dev->nodename, "hotplug-status");
	if (err)
		goto free_dev;
	d->watching = true;
	*xb = &d->xb;
	return 0;

free_dev:
	kfree(d);
	return err;
}

/* remove, first step: no more hotplug events. */
static void skb_stop(struct sk_xb *xb)
{
	struct skb_dev *d = xb->priv;

	if (d->watching) {
		unregister_xenbus_watch(&d->hotplug_watch);
		kfree(d->hotplug_watch.node);
		d->watching = false;
	}
}

static void skb_free(struct sk_xb *xb)
{
	struct skb_dev *d = xb->priv;

	skb_stop(xb);	/* a probe that could not announce the device */
	skb_share_leave(d);
	skb_backing_close(&d->be);
	kfree(d->vm);
	kfree(d);
}

static const struct xenbus_device_id skb_ids[] = {
	{ "vbd" },
	{ "" }
};

static struct sk_xb_driver skb_driver = {
	.drv = {
		.ids = skb_ids,
	},
	.probe = skb_probe,
	.stop = skb_stop,
	.free = skb_free,
	.groups = skb_groups,
};

int skb_xenbus_register(const struct skb_params *params)
{
	skb_param = params;
	return sk_xb_driver_register(&skb_driver);
}

void skb_xenbus_unregister(void)
{
	sk_xb_driver_unregister(&skb_driver);
}
