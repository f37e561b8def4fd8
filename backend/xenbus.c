// SPDX-License-Identifier: GPL-2.0
/*
 * splitkit_back control plane: the xenbus backend driver for device type
 * "vbd" (the one Linux's xen-blkback also binds; load one or the other).
 * It advertises what we offer (probe), waits for the hotplug script
 * (tools/hotplug/splitkit) to publish the backing path and, for a qcow2
 * disk, its format (and then reports the attach's verdict to the script),
 * opens it, writes
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
#include <splitkit/stats.h>

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
		SK_CHAN_SIZES(struct sk_blkif_request,
			      struct sk_blkif_response),
		.max_order = READ_ONCE(skb_param->max_ring_order),
		.max_queues = READ_ONCE(skb_param->max_queues),
		.poll_ns = READ_ONCE(skb_param->poll_ns),
		.ops = &skb_chan_ops,
		.priv = d,
		.xb = &d->xb,
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

/* Free the disk's pool of mapped grants (none in use: see gmap.c). */
static void skb_gpools_destroy(struct skb_dev *d)
{
	unsigned int i;

	skb_gpool_destroy(d->queues[0].gp);
	for (i = 0; i < SKB_MAX_QUEUES; i++)
		d->queues[i].gp = NULL;
	WRITE_ONCE(d->grant_slots, 0);
}

/*
 * The rings the frontend asked for (multi-queue-num-queues, 1 when absent),
 * 1 to @offered.  A bad value is refused right after, by the ring layer
 * (sk_link_back_connect()); here it only counts as every ring offered.
 */
static unsigned int skb_front_rings(struct skb_dev *d, unsigned int offered)
{
	u32 nr;

	if (sk_xs_read_u32(d->dev->otherend, "multi-queue-num-queues",
			   offered, 1, &nr) || !nr)
		return offered;
	return nr;
}

/*
 * Zero copy (gmap.c) for this connection: when the parameter allows it,
 * the backing's I/O can run on mapped pages, and the frontend keeps its
 * grants persistent (its own feature-persistent = 1), so that a mapping
 * made once serves every later request that names the same grant.  One
 * pool for the disk, shared by the rings the frontend asked for (a
 * frontend may use one granted page on any ring), made before the rings
 * can deliver a request: max_grants slots for every ring the disk offers
 * (@nr, multi-queue-max-queues; at most SKB_GPOOL_MAX_SLOTS), so a
 * disk's mappings stay within max_grants x max_queues pages however many
 * rings connect, whichever
 * ring is busy, and a guest with one ring can keep deep large I/O mapped
 * (splitkit_front's 1 MiB requests at queue depth 8: 8 x 264 grants).  A
 * ring without the pool (only if the frontend changed its ring count
 * under us) grant-copies.
 * Return: 0 (also when zero copy is off), or -ENOMEM.
 */
static int skb_gpools_create(struct skb_dev *d, unsigned int nr)
{
	unsigned int cap = READ_ONCE(skb_param->max_grants), rings, i;
	struct skb_gpool *gp;
	bool persistent;

	WRITE_ONCE(d->grant_slots, 0);
	if (!READ_ONCE(skb_param->zero_copy) || !d->be.ops->map_ok || !cap)
		return 0;
	if (sk_xs_read_bool(d->dev->otherend, "feature-persistent", false,
			    &persistent) || !persistent)
		return 0;
	rings = skb_front_rings(d, nr);
	cap = min_t(u64, (u64)cap * nr, SKB_GPOOL_MAX_SLOTS);
	gp = skb_gpool_create(d, cap, rings);
	if (!gp)
		return -ENOMEM;
	for (i = 0; i < rings; i++)
		d->queues[i].gp = gp;
	WRITE_ONCE(d->grant_slots, cap);
	return 0;
}

/**
 * skb_vdev_of() - a disk's virtual-device number.
 * @dev: its backend device.
 * @vdev: the number: the last component of the device's path.
 *
 * Return: 0 or -EINVAL.
 */
int skb_vdev_of(struct xenbus_device *dev, u32 *vdev)
{
	const char *p = strrchr(dev->nodename, '/');

	if (!p)
		return -EINVAL;
	return sk_parse_u32(p + 1, strlen(p + 1), U32_MAX, vdev);
}

/* What the parameters and the disk's ring agreements allow (rings.c). */
static void skb_ring_limits(struct skb_dev *d, struct sk_chan_params *p)
{
	u32 vdev;

	if (!skb_vdev_of(d->dev, &vdev))
		skb_rings_cap(d->dev->otherend_id, vdev, &p->max_queues,
			      &p->max_order);
}

/*
 * sk_xb connected: both ends are Connected.  A ring agreement that could
 * not be put in force before (skb_rings_apply()) is now.
 */
static void skb_connected(struct sk_xb *xb)
{
	struct skb_dev *d = xb->priv;

	if (READ_ONCE(d->rings_pending))
		schedule_work(&d->rings_work);
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
	err = skb_resize_connect(d);
	if (err)
		return err;
	skb_build_limits(d, d->adv_segs);
	WRITE_ONCE(d->stopping, false);
	err = skb_gpools_create(d, p.max_queues);
	if (err)
		return err;
	l = sk_link_back_connect(d->dev, &p);
	if (IS_ERR(l)) {
		skb_gpools_destroy(d);
		return PTR_ERR(l);
	}
	WRITE_ONCE(d->link, l);
	skb_resize_watch(d);
	dev_info(&d->dev->dev,
		 "connected to domain %d: %s, %llu sectors%s, %u queue(s), ring-page-order %u, %s\n",
		 d->dev->otherend_id, d->be.path, d->be.sectors,
		 d->be.read_only ? " (read-only)" : "", sk_link_nr_chans(l),
		 sk_link_order(l),
		 d->grant_slots ? "zero copy on mapped persistent grants" :
				"grant copy");
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
	skb_pages_wake();	/* a consumer waiting for pages gives up */
	/*
	 * No request taken from now on: what the frontend puts on the rings
	 * stays there (it issues it again if it reconnects), and cannot keep
	 * the wait below going.
	 */
	sk_link_pause(d->link);
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
	/* the last answer's completion work may still be returning */
	skb_queues_quiesce(d);
	sk_link_destroy(d->link);
	WRITE_ONCE(d->link, NULL);
	/* the looks at the backing's size (they do not take xb.lock) */
	cancel_delayed_work_sync(&d->resize_poll);
	if (d->grant_slots)
		dev_info(&d->dev->dev,
			 "zero copy: %lld segment(s) on mapped grants, %lld grant-copied (pool full %lld, mapping failed %lld); unmapping %lld grant(s), %lld evicted before\n",
			 atomic64_read(&d->stats.zc_segs),
			 atomic64_read(&d->stats.gcopy_segs),
			 atomic64_read(&d->stats.zc_full),
			 atomic64_read(&d->stats.zc_failed),
			 atomic64_read(&d->stats.grants_mapped),
			 atomic64_read(&d->stats.grant_evictions));
	/* every request answered, every consumer stopped: unmap it all */
	skb_gpools_destroy(d);
	dev_info(&d->dev->dev, "disconnected\n");
}

/*
 * sk_xb reconnect: the frontend set up rings within the limits we wrote
 * before Reconfiguring (skb_rings_write()) and said Reconfigured.  Drain
 * and unmap the old rings as at any disconnect, except that a request
 * taken from them once we are stopping is left unanswered rather than
 * failed (blkif.c): the frontend takes it back and issues it on the new
 * rings; it never ran.  Then map the new rings.
 */
static int skb_reconnect(struct sk_xb *xb)
{
	struct skb_dev *d = xb->priv;
	int err;

	if (!d->link)
		return -EIO;	/* not reached: Reconfiguring needs a link */
	WRITE_ONCE(d->reconfiguring, true);
	smp_wmb();	/* before skb_disconnect()'s d->stopping */
	skb_disconnect(xb);
	WRITE_ONCE(d->reconfiguring, false);
	atomic64_inc(&d->stats.reconfigured);
	err = skb_connect(xb);
	if (err)
		dev_warn(&d->dev->dev,
			 "reconfiguration: the frontend's new rings: %d\n",
			 err);
	return err;
}

/**
 * skb_front_follows() - can the frontend follow a reconfiguration?
 * @d: the device.
 *
 * Context: may sleep (reads XenStore).
 * Return: true if it says feature-splitkit-reconfigure = 1.
 */
bool skb_front_follows(struct skb_dev *d)
{
	bool follows = false;

	return !sk_xs_read_bool(d->dev->otherend,
				SK_BLKIF_FEATURE_RECONFIGURE, false,
				&follows) && follows;
}

/*
 * sk_xb_reconfigure()'s write, under xb.lock with us Connected: the limits
 * the agreements now allow, if they changed and the frontend can follow.
 * Only with the frontend Connected too: one still in Reconfigured from
 * the last reconfiguration, or not yet connected, would not see this one
 * (-EBUSY: skb_connected() starts it again).  Every other outcome ends
 * the pending agreement.
 */
static int skb_rings_write(struct sk_xb *xb)
{
	struct skb_dev *d = xb->priv;
	struct sk_chan_params p = skb_params(d);
	int err;

	if (xenbus_read_driver_state(d->dev->otherend) !=
	    XenbusStateConnected)
		return -EBUSY;
	WRITE_ONCE(d->rings_pending, false);
	skb_ring_limits(d, &p);
	if (p.max_queues == d->adv_queues && p.max_order == d->adv_order)
		return -EALREADY;
	if (!skb_front_follows(d))
		return -EOPNOTSUPP;
	err = sk_link_back_advertise(d->dev, &p);
	if (err)
		return err;
	dev_info(&d->dev->dev,
		 "reconfiguring: at most %u queue(s) of ring-page-order %u (were %u, %u)\n",
		 p.max_queues, p.max_order, d->adv_queues, d->adv_order);
	d->adv_queues = p.max_queues;
	d->adv_order = p.max_order;
	return 0;
}

/*
 * skb_rings_apply() - put a disk's ring agreements in force.
 * @d: the device.
 *
 * Both ends Connected: reconfigure now if the limits change.  Otherwise
 * (not connected, or in the middle of a reconfiguration) the agreement
 * stays pending, and skb_connected() runs this again once they are.
 *
 * Context: process, may sleep; takes @d->xb.lock (not held by the caller).
 * Return: 0 (also when nothing changes or it waits), -EOPNOTSUPP if the
 * connected frontend cannot be reconfigured, or the XenStore error.
 */
static int skb_rings_apply(struct skb_dev *d)
{
	int err;

	/* before the lock: a Connected seen meanwhile finds it set */
	WRITE_ONCE(d->rings_pending, true);
	err = sk_xb_reconfigure(&d->xb, skb_rings_write);
	return err == -EBUSY || err == -EALREADY ? 0 : err;
}

static void skb_rings_work(struct work_struct *work)
{
	struct skb_dev *d = container_of(work, struct skb_dev, rings_work);
	int err = skb_rings_apply(d);

	if (err)
		dev_info(&d->dev->dev,
			 "ring agreement not applied now (%d): from the disk's next attach\n",
			 err);
}

/* Connecting needs the backing: the hotplug watch resumes then. */
static bool skb_ready(struct sk_xb *xb)
{
	struct skb_dev *d = xb->priv;

	return READ_ONCE(d->ready);
}

/*
 * The toolstack is removing the disk (online 0) and reads our Closed as
 * "the backing is free": close it now - the image's history records the
 * detach, QEMU's image locks go unless another of our disks on the file
 * needs them (share.c) - rather than in skb_free(), which comes
 * only once the toolstack deleted our XenStore directory, after `xl
 * block-detach`, `xl destroy` or `xl save` returned.  Under xb.lock and
 * disconnected: no request runs, and the resize work, which looks at the
 * backing only while connected, cannot be waited for here (it takes
 * xb.lock); the look once a second, which does not take it, is.  The
 * backing is never opened again: the device waits for its removal.
 */
static void skb_release(struct sk_xb *xb)
{
	struct skb_dev *d = xb->priv;

	WRITE_ONCE(d->gone, true);	/* imgop.c reads it without the lock */
	if (!d->ready)
		return;
	skb_resize_unwatch(d);
	WRITE_ONCE(d->ready, false);
	skb_share_leave(d);
	skb_backing_close(&d->be);
}

static const struct sk_xb_ops skb_xb_ops = {
	.connect = skb_connect,
	.disconnect = skb_disconnect,
	.ready = skb_ready,
	.reconnect = skb_reconnect,
	.connected = skb_connected,
	.release = skb_release,
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
		.gran = be->discard_granularity,
		.align = be->discard_alignment,
	};
	u64 mask = GENMASK_ULL(SK_BLKIF_DISCARD, SK_BLKIF_SECTORS);
	struct skb_offer o;

	/* what the validator will accept (skb_build_limits) */
	skb_backing_offer(be, &o);
	k.flush = o.flush;
	k.barrier = o.barrier;
	k.discard = o.discard;

	if (k.discard)
		mask |= GENMASK_ULL(SK_BLKIF_SECURE, SK_BLKIF_GRAN);
	return sk_xs_write_keys(xbt, d->dev->nodename, SK_XS_BACKEND,
				sk_blkif_disk_keys, SK_BLKIF_NR_KEYS, &k, mask);
}

/*
 * The guest's name and UUID (for an image's policy and history), read
 * from its domain directory; either may stay NULL.
 */
static void skb_read_domain(struct skb_dev *d, char **name, char **uuid)
{
	char dir[32], *vm, *slash;

	snprintf(dir, sizeof(dir), "/local/domain/%d", d->dev->otherend_id);
	*name = sk_xs_read_str(dir, "name", 128);
	if (IS_ERR(*name))
		*name = NULL;
	*uuid = NULL;
	vm = sk_xs_read_str(dir, "vm", 128);	/* "/vm/<uuid>" */
	if (IS_ERR(vm))
		return;
	slash = strrchr(vm, '/');
	if (slash && strlen(slash + 1) == 36)
		*uuid = kstrdup(slash + 1, GFP_KERNEL);
	kfree(vm);
}

/*
 * What the hotplug script says about the format: "splitkit-format"
 * (absent or "raw": served as is; "qcow2") and "splitkit-backing-raw".
 * Return: 0, or -EINVAL for a format we do not serve.
 */
static int skb_read_format(struct skb_dev *d, struct skb_attach *at)
{
	char *fmt;
	int err = 0;

	at->format = SKB_FMT_RAW;
	fmt = sk_xs_read_str(d->dev->nodename, "splitkit-format", 16);
	if (IS_ERR(fmt))
		return 0;
	if (!strcmp(fmt, "qcow2"))
		at->format = SKB_FMT_QCOW2;
	else if (strcmp(fmt, "raw"))
		err = -EINVAL;
	kfree(fmt);
	if (sk_xs_read_bool(d->dev->nodename, "splitkit-backing-raw", false,
			    &at->backing_raw))
		at->backing_raw = false;
	return err;
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
 * domain's use of it forbids (share.c).  Under xb.lock.  The outcome goes
 * to "splitkit-status" ("ok" or the reason), which the hotplug script
 * waits for when it asked for a format, so that xl reports a refusal
 * (hotplug-error) instead of a disk that never connects.
 */
static int skb_open_backing(struct skb_dev *d)
{
	struct xenbus_device *dev = d->dev;
	struct skb_attach at = { };
	char *path, *mode, *name, *uuid;
	bool discard_on;
	int err;

	at.qcow2_direct = READ_ONCE(skb_param->qcow2_direct);
	at.qcow2_writeback = &skb_param->qcow2_writeback;
	path = sk_xs_read_str(dev->nodename, "physical-device-path", PATH_MAX);
	if (IS_ERR(path))
		path = sk_xs_read_str(dev->nodename, "params", PATH_MAX);
	if (IS_ERR(path)) {
		err = PTR_ERR(path);
		xenbus_dev_fatal(dev, err, "reading physical-device-path");
		return err;
	}
	err = skb_read_format(d, &at);
	if (err) {
		xenbus_dev_fatal(dev, err, "splitkit-format: only raw and qcow2 are served");
		xenbus_write(XBT_NIL, dev->nodename, "splitkit-status",
			     "splitkit-format: only raw and qcow2 are served");
		goto free_path;
	}
	mode = sk_xs_read_str(dev->nodename, "mode", 8);
	skb_mode_parse(IS_ERR(mode) ? NULL : mode, &d->user.mode);
	if (!IS_ERR(mode))
		kfree(mode);
	at.share_write = d->user.mode.force;
	at.no_qemu_lock = skb_share_dm_twin(dev);
	d->user.domid = dev->otherend_id;
	kfree(d->vm);
	d->vm = skb_read_vm(dev);
	d->user.vm = d->vm;
	skb_read_domain(d, &name, &uuid);
	at.dom_name = name;
	at.dom_uuid = uuid;
	err = skb_backing_open(&d->be, path, !d->user.mode.writable, &at);
	kfree(name);
	kfree(uuid);
	if (err) {
		if (d->be.why[0])
			xenbus_dev_fatal(dev, err, "%s: %s", path, d->be.why);
		else
			xenbus_dev_fatal(dev, err, "opening %s", path);
		if (at.format != SKB_FMT_RAW)
			xenbus_printf(XBT_NIL, dev->nodename, "splitkit-status",
				      "%s: %s", path,
				      d->be.why[0] ? d->be.why : "cannot open");
		memset(d->be.why, 0, sizeof(d->be.why));
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
	skb_resize_start(d);
	d->ready = true;
	if (at.format != SKB_FMT_RAW)
		xenbus_write(XBT_NIL, dev->nodename, "splitkit-status", "ok");
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
	if (at.format != SKB_FMT_RAW)
		xenbus_printf(XBT_NIL, dev->nodename, "splitkit-status",
			      "%s: refused (error %d)", path, err);
free_path:
	kfree(path);
	return err;
}

/*
 * Open the backing once, when the hotplug script is done (hotplug-status
 * connected) or, for a disk with a format, as soon as the script asked
 * (splitkit-format written), so that it can wait for the verdict.
 */
static void skb_try_open(struct skb_dev *d)
{
	struct xenbus_device *dev = d->dev;

	mutex_lock(&d->xb.lock);
	if (d->ready || d->gone || skb_open_backing(d)) {
		mutex_unlock(&d->xb.lock);
		return;
	}
	mutex_unlock(&d->xb.lock);
	/* a frontend that got ahead of the hotplug script connects now */
	sk_xb_peer_changed(&d->xb, xenbus_read_driver_state(dev->otherend));
}

static void skb_hotplug_changed(struct xenbus_watch *w, const char *path,
				const char *token)
{
	struct skb_dev *d = container_of(w, struct skb_dev, hotplug_watch);
	char *status;
	bool go;

	status = sk_xs_read_str(d->dev->nodename, "hotplug-status", 64);
	if (IS_ERR(status))
		return;
	go = !strcmp(status, "connected");
	kfree(status);
	if (go)
		skb_try_open(d);
}

static void skb_format_changed(struct xenbus_watch *w, const char *path,
			       const char *token)
{
	struct skb_dev *d = container_of(w, struct skb_dev, format_watch);
	char *fmt;

	fmt = sk_xs_read_str(d->dev->nodename, "splitkit-format", 16);
	if (IS_ERR(fmt))
		return;
	kfree(fmt);
	skb_try_open(d);
}

/*
 * sysfs: the disk's counters, one value per file, in the device's
 * skb_stats/ directory (/sys/bus/xen-backend/devices/vbd-<dom>-<id>/
 * skb_stats/<name>; Documentation/block.rst).  The refused_* files count
 * refusals by reason, in the order of enum skb_reason (skb_reason_stat[]).
 */
#define SKB_STATS(X)							\
	X(skb, connected) X(skb, inflight) X(skb, requests)		\
	X(skb, refused) X(skb, io_errors) X(skb, grant_errors)		\
	X(skb, nomem) X(skb, barriers)					\
	X(skb, pages) X(skb, pages_peak) X(skb, page_waits)		\
	X(skb, gcopy_segs) X(skb, gcopy_bytes) X(skb, zero_copy)	\
	X(skb, zc_segs) X(skb, zc_full) X(skb, zc_failed)		\
	X(skb, grant_maps) X(skb, grant_unmaps) X(skb, grant_map_hits)	\
	X(skb, grants_mapped) X(skb, grant_slots)			\
	X(skb, grant_evictions)						\
	X(skb, completion_runs) X(skb, direct_answers)			\
	X(skb, image_direct) X(skb, image_cached)			\
	X(skb, image_cached_bytes)					\
	X(skb, image_writeback) X(skb, image_dirty)			\
	X(skb, reconfigured) X(skb, left_to_frontend)			\
	X(skb, resized)							\
	X(skb, refused_bad_op) X(skb, refused_not_supported)		\
	X(skb, refused_read_only) X(skb, refused_bad_nr_segs)		\
	X(skb, refused_bad_indirect_op) X(skb, refused_bad_seg)	\
	X(skb, refused_bad_range) X(skb, refused_misaligned)
SK_STATS_ENUM(skb, SKB_STATS);

/* The file of each refusal reason. */
static const u8 skb_reason_stat[SKB_NR_REASONS] = {
	[SKB_BAD_OP] = skb_st_refused_bad_op,
	[SKB_NOT_SUPPORTED] = skb_st_refused_not_supported,
	[SKB_READ_ONLY] = skb_st_refused_read_only,
	[SKB_BAD_NR_SEGS] = skb_st_refused_bad_nr_segs,
	[SKB_BAD_INDIRECT_OP] = skb_st_refused_bad_indirect_op,
	[SKB_BAD_SEG] = skb_st_refused_bad_seg,
	[SKB_BAD_RANGE] = skb_st_refused_bad_range,
	[SKB_MISALIGNED] = skb_st_refused_misaligned,
};
/* a new reason needs its file */
static_assert(skb_st_nr - skb_st_refused_bad_op == SKB_NR_REASONS - SKB_BAD_OP);

static void skb_stats_snapshot(struct device *dev, u64 *v)
{
	struct skb_dev *d = sk_xb_from_dev(dev)->priv;
	struct skb_stats *s = &d->stats;
	unsigned long now, peak;
	unsigned int r;

	v[skb_st_connected] = READ_ONCE(d->link) != NULL;
	v[skb_st_inflight] = atomic_read(&d->inflight);
	v[skb_st_requests] = atomic64_read(&s->reqs);
	v[skb_st_refused] = atomic64_read(&s->refused);
	v[skb_st_io_errors] = atomic64_read(&s->io_errors);
	v[skb_st_grant_errors] = atomic64_read(&s->grant_errors);
	v[skb_st_nomem] = atomic64_read(&s->nomem);
	v[skb_st_barriers] = atomic64_read(&s->barriers);
	skb_pages_read_disk(d, &now, &peak);
	v[skb_st_pages] = now;
	v[skb_st_pages_peak] = peak;
	v[skb_st_page_waits] = atomic64_read(&s->page_waits);
	v[skb_st_gcopy_segs] = atomic64_read(&s->gcopy_segs);
	v[skb_st_gcopy_bytes] = atomic64_read(&s->gcopy_bytes);
	v[skb_st_zc_segs] = atomic64_read(&s->zc_segs);
	v[skb_st_zc_full] = atomic64_read(&s->zc_full);
	v[skb_st_zc_failed] = atomic64_read(&s->zc_failed);
	v[skb_st_grant_maps] = atomic64_read(&s->gnt_maps);
	v[skb_st_grant_unmaps] = atomic64_read(&s->gnt_unmaps);
	v[skb_st_grant_map_hits] = atomic64_read(&s->gnt_map_hits);
	v[skb_st_grants_mapped] = atomic64_read(&s->grants_mapped);
	v[skb_st_grant_slots] = READ_ONCE(d->grant_slots);
	v[skb_st_grant_evictions] = atomic64_read(&s->grant_evictions);
	v[skb_st_completion_runs] = atomic64_read(&s->completion_runs);
	v[skb_st_direct_answers] = atomic64_read(&s->direct_answers);
	v[skb_st_image_direct] = atomic64_read(&s->image_direct);
	v[skb_st_image_cached] = atomic64_read(&s->image_cached);
	v[skb_st_image_cached_bytes] = atomic64_read(&s->image_cached_bytes);
	v[skb_st_image_writeback] = atomic64_read(&s->image_writeback);
	v[skb_st_image_dirty] = atomic_read(&s->image_dirty);
	v[skb_st_reconfigured] = atomic64_read(&s->reconfigured);
	v[skb_st_left_to_frontend] = atomic64_read(&s->left_to_frontend);
	v[skb_st_resized] = atomic64_read(&s->resized);
	v[skb_st_zero_copy] = READ_ONCE(d->link) && READ_ONCE(d->grant_slots);
	for (r = SKB_BAD_OP; r < SKB_NR_REASONS; r++)
		v[skb_reason_stat[r]] = atomic64_read(&s->reasons[r]);
}
SK_STATS_GROUP(skb, "skb_stats", SKB_STATS, skb_stats_snapshot);

static const struct attribute_group *skb_groups[] = {
	&skb_stats_group,
	&skb_imgop_group,	/* imgop.c */
	NULL
};

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
		 * A frontend that keeps its grants persistent saves its own
		 * grant/ungrant per request, and lets us map each grant once
		 * and do the I/O on it (zero copy, gmap.c); any other grant
		 * is copied.
		 */
		.persistent = true,
	};
	int err;

	skb_ring_limits(d, &p);
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
	INIT_WORK(&d->rings_work, skb_rings_work);
	INIT_LIST_HEAD(&d->rings_node);
	skb_resize_init(d);
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
	err = xenbus_watch_pathfmt(dev, &d->format_watch, NULL,
				   skb_format_changed, "%s/%s",
				   dev->nodename, "splitkit-format");
	if (err)
		goto unwatch_hotplug;
	d->watching_format = true;
	skb_rings_add(d);	/* ring agreements may reconfigure it */
	*xb = &d->xb;
	return 0;

unwatch_hotplug:
	unregister_xenbus_watch(&d->hotplug_watch);
	kfree(d->hotplug_watch.node);
	d->watching = false;
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
	if (d->watching_format) {
		unregister_xenbus_watch(&d->format_watch);
		kfree(d->format_watch.node);
		d->watching_format = false;
	}
	skb_rings_del(d);	/* and no reconfiguration starts */
}

static void skb_free(struct sk_xb *xb)
{
	struct skb_dev *d = xb->priv;

	skb_stop(xb);	/* a probe that could not announce the device */
	skb_resize_stop(d);	/* disconnected: no request starts it again */
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
