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
 * skb_rings_apply()): new limits written, Reconfiguring, the frontend sets
 * up rings within them beside the old ones and says Reconfigured, we drain
 * and unmap the old rings and map the new ones.  Only a frontend that
 * says feature-splitkit-reconfigure is reconfigured (splitkit_front); with
 * any other, a new agreement is refused while it is connected.
 *
 * Locking: skb_rings_lock (a mutex) protects skb_rings[].  Taken inside a
 * device's xb.lock and device_lock, never around them.
 */
#include <linux/device.h>
#include <linux/log2.h>
#include <linux/moduleparam.h>
#include <linux/mutex.h>
#include <linux/sysfs.h>
#include <xen/xenbus.h>

#include <splitkit/blk_limit.h>
#include <splitkit/export.h>

#include "common.h"

/**
 * struct skb_ring_agreement - the ring agreements of one disk.
 * @domid: the guest.
 * @vdev: the disk's virtual-device number.
 * @queues: most rings; 0 for no agreement.
 * @pages: most pages per ring, a power of two; 0 for no agreement.
 */
struct skb_ring_agreement {
	u16 domid;
	u32 vdev;
	u32 queues;
	u32 pages;
};

static DEFINE_MUTEX(skb_rings_lock);
static struct skb_ring_agreement skb_rings[SKB_MAX_LIMITS];

static bool skb_ring_used(const struct skb_ring_agreement *a)
{
	return a->queues || a->pages;
}

static struct skb_ring_agreement *skb_ring_find(u16 domid, u32 vdev)
{
	unsigned int i;

	lockdep_assert_held(&skb_rings_lock);
	for (i = 0; i < SKB_MAX_LIMITS; i++)
		if (skb_ring_used(&skb_rings[i]) &&
		    skb_rings[i].domid == domid && skb_rings[i].vdev == vdev)
			return &skb_rings[i];
	return NULL;
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

/* Record (or lift, @value 0) one agreement; return the old value. */
static int skb_ring_record(u16 domid, u32 vdev, unsigned int kind, u32 value,
			   u32 *old)
{
	struct skb_ring_agreement *a;
	unsigned int i;

	mutex_lock(&skb_rings_lock);
	a = skb_ring_find(domid, vdev);
	if (!a && value) {
		for (i = 0; i < SKB_MAX_LIMITS; i++)
			if (!skb_ring_used(&skb_rings[i]))
				break;
		if (i == SKB_MAX_LIMITS) {
			mutex_unlock(&skb_rings_lock);
			return -ENOSPC;
		}
		a = &skb_rings[i];
		*a = (struct skb_ring_agreement){ .domid = domid,
						  .vdev = vdev };
	}
	*old = 0;
	if (a) {
		u32 *field = kind == SKB_RING_QUEUES ? &a->queues : &a->pages;

		*old = *field;
		*field = value;
	}
	mutex_unlock(&skb_rings_lock);
	return 0;
}

/* A bound splitkit_back device of (domid, vdev), with a reference. */
struct skb_ring_match {
	u16 domid;
	u32 vdev;
	struct device *found;
};

static int skb_ring_match_dev(struct device *dev, void *data)
{
	struct xenbus_device *xd = to_xenbus_device(dev);
	struct skb_ring_match *m = data;
	u32 vdev;

	if (xd->otherend_id != m->domid || skb_vdev_of(xd, &vdev) ||
	    vdev != m->vdev)
		return 0;
	m->found = get_device(dev);
	return 1;
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
 * The agreement is kept for the disk whether or not it is connected, and
 * caps what it advertises from its next probe on.  A connected disk is
 * reconfigured now: this returns once the new limits are written and the
 * backend is Reconfiguring; the frontend's rings follow (xenbus.c).  A
 * disk in the middle of a reconfiguration is reconfigured again when it
 * ends.
 *
 * Context: process, may sleep.  Takes skb_rings_lock, the device's lock
 * and its xb.lock.
 * Return: 0; -EINVAL for a bad @kind or @value; -ENOSPC if SKB_MAX_LIMITS
 * disks already have agreements; -EOPNOTSUPP if the disk is connected to
 * a frontend that cannot be reconfigured (the agreement is not kept); or
 * the XenStore error.
 */
int skb_ring_set(u16 domid, u32 vdev, unsigned int kind, u32 value)
{
	struct skb_ring_match m = { .domid = domid, .vdev = vdev };
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
	/* 1: found (a disk not attached now takes it at its next probe) */
	if (driver_for_each_device(&skb_xenbus_drv()->driver, NULL, &m,
				   skb_ring_match_dev) != 1)
		return 0;
	device_lock(m.found);
	d = skb_dev_of(m.found);
	err = d ? skb_rings_apply(d) : 0;
	device_unlock(m.found);
	put_device(m.found);
	if (err == -EOPNOTSUPP)
		skb_ring_record(domid, vdev, kind, old, &value);
	return err;
}
SPLITKIT_EXPORT(skb_ring_set);

/*
 * Read-only module parameter "rings": one line per disk with a ring
 * agreement, "<domid> <vdev> queues <N> pages <N>" (0: no agreement of that
 * kind).  SKB_MAX_LIMITS lines fit sysfs's page.
 */
static int skb_rings_param_get(char *buf, const struct kernel_param *kp)
{
	const struct skb_ring_agreement *a;
	unsigned int i;
	int len = 0;

	mutex_lock(&skb_rings_lock);
	for (i = 0; i < SKB_MAX_LIMITS; i++) {
		a = &skb_rings[i];
		if (skb_ring_used(a))
			len += sysfs_emit_at(buf, len,
					     "%u %u queues %u pages %u\n",
					     a->domid, a->vdev, a->queues,
					     a->pages);
	}
	mutex_unlock(&skb_rings_lock);
	return len;
}

static const struct kernel_param_ops skb_rings_param_ops = {
	.get = skb_rings_param_get,
};
module_param_cb(rings, &skb_rings_param_ops, NULL, 0444);
MODULE_PARM_DESC(rings,
		 "read only: the ring agreements in force, a line per disk: domid vdev queues N pages N");
