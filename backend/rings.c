// SPDX-License-Identifier: GPL-2.0
/*
 * splitkit_back ring agreements: how many rings (multi-queue-max-queues)
 * and how many pages per ring (max-ring-page-order) a guest's disk may
 * have, as splitkit_negotiate agreed them with the guest (blk.queues,
 * blk.ring; Documentation/negotiate.rst), keyed like limit.c by the guest's
 * domain id and the disk's virtual-device number.  An agreement caps what
 * the module parameters max_queues and max_ring_order allow.
 *
 * Where they bite: at probe, in what the disk advertises (skb_rings_cap());
 * and on a live connection, through a reconfiguration (xenbus.c,
 * skb_rings_apply(), run by the device's rings_work): new limits written,
 * Reconfiguring, the frontend sets up rings within them beside the old
 * ones and says Reconfigured, we drain and unmap the old rings and map
 * the new ones.  Only a frontend that says feature-splitkit-reconfigure is
 * reconfigured (splitkit_front); with any other connected, a new
 * agreement is refused.
 *
 * Each disk with an agreement has an entry of its own, allocated with
 * its first and freed with its last; a guest may have entries for at most
 * limits_per_domain disks (limit.c), whatever other guests hold.
 *
 * Locking: skb_rings_lock (a mutex) protects skb_rings and
 * skb_rings_devs, the devices probed and not yet stopping.  Taken inside
 * a device's xb.lock and the driver core's device lock, never around
 * them: skb_ring_set() may be called from the xenwatch thread (a revoke
 * when the guest goes), which must not wait for a device lock.
 */
#include <linux/list.h>
#include <linux/log2.h>
#include <linux/moduleparam.h>
#include <linux/mutex.h>
#include <linux/slab.h>
#include <xen/xenbus.h>

#include <splitkit/blk_limit.h>
#include <splitkit/export.h>
#include <splitkit/param.h>

#include "common.h"
#include "limit.h"

/**
 * struct skb_ring_agreement - the ring agreements of one disk.
 * @key: the disk, in skb_rings.
 * @queues: most rings; 0 for no agreement.
 * @pages: most pages per ring, a power of two; 0 for no agreement.
 */
struct skb_ring_agreement {
	struct skb_disk_key key;
	u32 queues;
	u32 pages;
};

static DEFINE_MUTEX(skb_rings_lock);
static LIST_HEAD(skb_rings);
static LIST_HEAD(skb_rings_devs);

static bool skb_ring_used(const struct skb_ring_agreement *a)
{
	return a->queues || a->pages;
}

static struct skb_ring_agreement *skb_ring_find(u16 domid, u32 vdev)
{
	struct skb_disk_key *k;

	lockdep_assert_held(&skb_rings_lock);
	k = skb_disk_find(&skb_rings, domid, vdev);
	return k ? container_of(k, struct skb_ring_agreement, key) : NULL;
}

/**
 * skb_rings_cap() - apply a disk's ring agreements to what it would offer.
 * @domid: the guest.
 * @vdev: the disk's virtual-device number.
 * @queues: in: rings the parameters allow; out: at most the agreement.
 * @order: in: ring-page-order the parameters allow; out: at most the
 *	agreement's.
 *
 * Context: may sleep.
 */
void skb_rings_cap(u16 domid, u32 vdev, unsigned int *queues,
		   unsigned int *order)
{
	const struct skb_ring_agreement *a;

	mutex_lock(&skb_rings_lock);
	a = skb_ring_find(domid, vdev);
	if (a && a->queues)
		*queues = min(*queues, a->queues);
	if (a && a->pages)
		*order = min_t(unsigned int, *order, ilog2(a->pages));
	mutex_unlock(&skb_rings_lock);
}

/*
 * Record (or lift, @value 0) one agreement; return the old value.
 * -ENOSPC if @domid has limits_per_domain disks with agreements already.
 * Allocates only for a disk without an entry, so that putting back the
 * old value of an existing one (skb_ring_set()) cannot fail.
 */
static int skb_ring_record(u16 domid, u32 vdev, unsigned int kind, u32 value,
			   u32 *old)
{
	struct skb_ring_agreement *a, *fresh = NULL;
	u32 *field;
	int err = 0;

	*old = 0;
	mutex_lock(&skb_rings_lock);
	a = skb_ring_find(domid, vdev);
	if (!a && value) {
		/* a new disk: allocate without the lock, then look again */
		mutex_unlock(&skb_rings_lock);
		fresh = kzalloc(sizeof(*fresh), GFP_KERNEL);
		if (!fresh)
			return -ENOMEM;
		mutex_lock(&skb_rings_lock);
		a = skb_ring_find(domid, vdev);
	}
	if (!a && value) {
		err = skb_disk_add(&skb_rings, &fresh->key, domid, vdev);
		if (err)
			goto unlock;
		a = fresh;
		fresh = NULL;
	}
	if (!a)
		goto unlock;
	field = kind == SKB_RING_QUEUES ? &a->queues : &a->pages;
	*old = *field;
	*field = value;
	if (!skb_ring_used(a)) {
		list_del(&a->key.node);
		fresh = a;	/* freed below */
	}
unlock:
	mutex_unlock(&skb_rings_lock);
	kfree(fresh);
	return err;
}

/**
 * skb_rings_exit() - free every disk's ring agreements (module exit).
 *
 * Context: may sleep; no device is left that could read them.
 */
void skb_rings_exit(void)
{
	struct skb_ring_agreement *a, *tmp;

	list_for_each_entry_safe(a, tmp, &skb_rings, key.node) {
		list_del(&a->key.node);
		kfree(a);
	}
}

/**
 * skb_rings_add() - a probed device may be reconfigured from now on.
 * @d: the device, its rings_work initialised.
 *
 * Context: may sleep.
 */
void skb_rings_add(struct skb_dev *d)
{
	mutex_lock(&skb_rings_lock);
	list_add(&d->rings_node, &skb_rings_devs);
	mutex_unlock(&skb_rings_lock);
}

/**
 * skb_rings_del() - the device is going: no reconfiguration from now on.
 * @d: the device, added or not.
 *
 * Context: may sleep; waits for a reconfiguration being started.
 */
void skb_rings_del(struct skb_dev *d)
{
	mutex_lock(&skb_rings_lock);
	if (!list_empty(&d->rings_node))
		list_del_init(&d->rings_node);
	mutex_unlock(&skb_rings_lock);
	cancel_work_sync(&d->rings_work);
}

/* The device of (domid, vdev), if one is probed. */
static struct skb_dev *skb_rings_dev(u16 domid, u32 vdev)
{
	struct skb_dev *d;
	u32 v;

	lockdep_assert_held(&skb_rings_lock);
	list_for_each_entry(d, &skb_rings_devs, rings_node)
		if (d->dev->otherend_id == domid &&
		    !skb_vdev_of(d->dev, &v) && v == vdev)
			return d;
	return NULL;
}

/**
 * skb_ring_set() - set or lift a ring agreement of a guest's disk.
 * @domid: the guest.
 * @vdev: the disk's virtual-device number.
 * @kind: SKB_RING_QUEUES (@value in rings, 1..SKB_MAX_QUEUES) or
 *	SKB_RING_PAGES (@value in pages per ring, a power of two up to
 *	XENBUS_MAX_RING_GRANTS).
 * @value: the agreement; 0 lifts it.
 *
 * The agreement is kept for the disk whether or not it is attached, and
 * caps what it advertises from its next probe on.  An attached disk is
 * reconfigured by its rings_work, once both ends are Connected (at once if
 * they are): this returns before.  A lift is always kept; a disk whose
 * connected frontend cannot follow keeps its rings until it is attached
 * again.
 *
 * Context: process, may sleep (reads XenStore); any thread, the xenwatch
 * thread included.  Takes skb_rings_lock.
 * Return: 0; -EINVAL for a bad @kind or @value; -ENOSPC if
 * limits_per_domain disks of @domid already have agreements; -ENOMEM;
 * -EOPNOTSUPP if the disk is connected to
 * a frontend that does not say feature-splitkit-reconfigure (xen-blkfront):
 * then the agreement is not kept.
 */
int skb_ring_set(u16 domid, u32 vdev, unsigned int kind, u32 value)
{
	struct skb_dev *d;
	u32 old;
	int err;

	if (kind == SKB_RING_QUEUES ? value > SKB_MAX_QUEUES :
	    kind != SKB_RING_PAGES || value > XENBUS_MAX_RING_GRANTS ||
	    (value && !is_power_of_2(value)))
		return -EINVAL;
	err = skb_ring_record(domid, vdev, kind, value, &old);
	if (err)
		return err;
	mutex_lock(&skb_rings_lock);
	d = skb_rings_dev(domid, vdev);
	if (d && value && READ_ONCE(d->dev->state) == XenbusStateConnected &&
	    !skb_front_follows(d)) {
		err = -EOPNOTSUPP;
	} else if (d) {
		WRITE_ONCE(d->rings_pending, true);
		schedule_work(&d->rings_work);
	}
	mutex_unlock(&skb_rings_lock);
	if (err)
		skb_ring_record(domid, vdev, kind, old, &value);
	return err;
}
SPLITKIT_EXPORT(skb_ring_set);

/*
 * Read-only module parameter "rings": one line per disk with a ring
 * agreement, "<domid> <vdev> queues <N> pages <N>" (0: no agreement of that
 * kind), oldest first, to the last whole line that fits sysfs's page.
 */
static int skb_rings_param_get(char *buf, const struct kernel_param *kp)
{
	const struct skb_ring_agreement *a;
	int len = 0;

	mutex_lock(&skb_rings_lock);
	list_for_each_entry(a, &skb_rings, key.node)
		if (!skb_param_line(buf, &len, "%u %u queues %u pages %u\n",
				    a->key.domid, a->key.vdev, a->queues,
				    a->pages))
			break;
	mutex_unlock(&skb_rings_lock);
	return len;
}

static const struct kernel_param_ops skb_rings_param_ops = {
	.set = sk_param_set_readonly,
	.get = skb_rings_param_get,
};
module_param_cb(rings, &skb_rings_param_ops, NULL, 0444);
MODULE_PARM_DESC(rings,
		 "read only: the ring agreements in force, a line per disk: domid vdev queues N pages N");
