// SPDX-License-Identifier: GPL-2.0
/*
 * splitkit_back per-disk I/O limits: a requests-per-second and a
 * bytes-per-second token bucket (<splitkit/bucket.h>) for each disk that
 * has been given one, keyed by the guest's domain id and the disk's
 * virtual-device number (the last component of the backend path).  Who
 * sets them: splitkit_negotiate, when a guest and dom0 agree on blk.iops or
 * blk.bandwidth (Documentation/negotiate.rst), through skb_limit_set().
 * Where they bite: skb_limit_wait(), called by the request dispatch
 * (blkif.c) for every validated request before any I/O starts.  A request
 * over the limit holds its ring's consumer until its cost is paid, so the
 * ring fills and the frontend waits for slots: back-pressure, no request
 * is refused, failed or reordered.  The answers the consumer wrote before
 * are published before it sleeps: they do not pay for the next request.
 * A disk without a limit costs one atomic read per request.  The
 * read-only module parameter "limits" lists the limits in force (what a
 * test checks an agreement against).
 *
 * Each disk with a limit has an entry of its own, allocated when its
 * first limit is set and freed when its last is lifted; a guest may have
 * entries for at most limits_per_domain disks (module parameter, default
 * 16, twice splitkit_negotiate's slots), whatever other guests hold, so
 * no guest can use up what another needs (an agreement may name a disk
 * that does not exist yet: a limit waits for its disk).  Memory: about
 * 100 bytes an entry.
 *
 * Locking: skb_limit_lock (a spinlock, taken in the consumer's process
 * context, by the setter and by the reader of "limits"; not
 * interrupt-safe, so never from a completion) protects skb_limits; the
 * wait itself is outside it.
 */
#include <linux/delay.h>
#include <linux/kernel.h>
#include <linux/ktime.h>
#include <linux/list.h>
#include <linux/moduleparam.h>
#include <linux/slab.h>
#include <linux/spinlock.h>

#include <splitkit/blk_limit.h>
#include <splitkit/bucket.h>
#include <splitkit/export.h>
#include <splitkit/param.h>

#include "common.h"
#include "limit.h"

/* Burst of each bucket: this much time's worth of its rate. */
#define SKB_LIMIT_BURST_MS	100
/* Longest single sleep, so that a disconnect is noticed soon. */
#define SKB_LIMIT_SLICE_NS	(20 * NSEC_PER_MSEC)

unsigned int skb_limits_per_domain = 16;
SK_PARAM_UINT(limits_per_domain, skb_limits_per_domain, 1, 256, 0644,
	      "most disks of one guest with I/O limits, and with ring agreements, 1-256 (default 16); an agreement beyond it is refused (ENOSPC)");

/**
 * struct skb_limit - the limits of one disk.
 * @key: the disk, in skb_limits.
 * @rate: per enum skb_limit_kind, 0 for none.
 * @b: the buckets.
 * @held: requests that had to wait for their cost since the disk got a
 *	  limit (shown in "limits").
 */
struct skb_limit {
	struct skb_disk_key key;
	u64 rate[SKB_NR_LIMIT_KINDS];
	struct sk_bucket b[SKB_NR_LIMIT_KINDS];
	u64 held;
};

static DEFINE_SPINLOCK(skb_limit_lock);
static LIST_HEAD(skb_limits);
static atomic_t skb_nr_limits = ATOMIC_INIT(0);

static bool skb_limit_used(const struct skb_limit *l)
{
	unsigned int k;

	for (k = 0; k < SKB_NR_LIMIT_KINDS; k++)
		if (l->rate[k])
			return true;
	return false;
}

/**
 * skb_disk_find() - the entry of a guest's disk in a per-disk table.
 * @tab: the table (its lock held by the caller).
 * @domid: the guest.
 * @vdev: the disk's virtual-device number.
 *
 * Return: the entry's key, or NULL if the disk has none.
 */
struct skb_disk_key *skb_disk_find(struct list_head *tab, u16 domid,
				   u32 vdev)
{
	struct skb_disk_key *k;

	list_for_each_entry(k, tab, node)
		if (k->domid == domid && k->vdev == vdev)
			return k;
	return NULL;
}

/**
 * skb_disk_add() - add a guest's disk to a per-disk table, within the
 * guest's quota.
 * @tab: the table (its lock held by the caller).
 * @k: the new entry's key, allocated by the caller.
 * @domid: the guest.
 * @vdev: the disk's virtual-device number, not in @tab yet.
 *
 * Each guest may have limits_per_domain entries in a table, counted apart
 * from every other guest's, so that no guest uses up what another needs.
 *
 * Return: 0, or -ENOSPC if @domid has limits_per_domain entries already
 * (@k is not added).
 */
int skb_disk_add(struct list_head *tab, struct skb_disk_key *k, u16 domid,
		 u32 vdev)
{
	const struct skb_disk_key *e;
	unsigned int n = 0;

	list_for_each_entry(e, tab, node)
		n += e->domid == domid;
	if (n >= READ_ONCE(skb_limits_per_domain))
		return -ENOSPC;
	k->domid = domid;
	k->vdev = vdev;
	list_add_tail(&k->node, tab);
	return 0;
}

static struct skb_limit *skb_limit_find(u16 domid, u32 vdev)
{
	struct skb_disk_key *k;

	lockdep_assert_held(&skb_limit_lock);
	k = skb_disk_find(&skb_limits, domid, vdev);
	return k ? container_of(k, struct skb_limit, key) : NULL;
}

/**
 * skb_limit_set() - set or lift one limit of a guest's disk.
 * @domid: the guest.
 * @vdev: the disk's virtual-device number.
 * @kind: enum skb_limit_kind.
 * @rate: requests or bytes per second; 0 lifts the limit.
 *
 * The limit is kept for the disk whether or not it is connected now, and
 * takes effect at its next request.  A new rate starts with a full bucket.
 *
 * Context: process, may sleep (allocates).  Takes skb_limit_lock.
 * Return: 0, -EINVAL for an unknown @kind, -ENOSPC if limits_per_domain
 * disks of @domid already have limits, -ENOMEM.
 */
int skb_limit_set(u16 domid, u32 vdev, unsigned int kind, u64 rate)
{
	struct skb_limit *l, *fresh = NULL;
	int err = 0;

	if (kind >= SKB_NR_LIMIT_KINDS)
		return -EINVAL;
	if (rate) {
		fresh = kzalloc(sizeof(*fresh), GFP_KERNEL);
		if (!fresh)
			return -ENOMEM;
	}
	spin_lock(&skb_limit_lock);
	l = skb_limit_find(domid, vdev);
	if (!l && rate) {
		err = skb_disk_add(&skb_limits, &fresh->key, domid, vdev);
		if (err)
			goto unlock;
		l = fresh;
		fresh = NULL;
		atomic_inc(&skb_nr_limits);
	}
	if (!l)
		goto unlock;
	l->rate[kind] = rate;
	if (rate)
		sk_bucket_init(&l->b[kind], rate,
			       rate * SKB_LIMIT_BURST_MS / 1000 ?: 1,
			       ktime_get_ns());
	if (!skb_limit_used(l)) {
		list_del(&l->key.node);
		atomic_dec(&skb_nr_limits);
		fresh = l;	/* freed below */
	}
unlock:
	spin_unlock(&skb_limit_lock);
	kfree(fresh);
	return err;
}
SPLITKIT_EXPORT(skb_limit_set);

/**
 * skb_limits_exit() - free every disk's limits (module exit).
 *
 * Context: may sleep; no device is left that could wait on them.
 */
void skb_limits_exit(void)
{
	struct skb_limit *l, *tmp;

	list_for_each_entry_safe(l, tmp, &skb_limits, key.node) {
		list_del(&l->key.node);
		kfree(l);
	}
	atomic_set(&skb_nr_limits, 0);
}

/**
 * skb_limit_wait() - pay a request's cost against its disk's limits.
 * @d: the device.
 * @ch: the ring whose consumer pays.
 * @desc: the validated request.
 *
 * Consumer context (may sleep).  Every request costs one against the
 * requests-per-second limit; every request but a discard costs the bytes
 * it carries against the bandwidth limit (a flush or barrier with data is
 * a write).  An indirect request is paid for before its segments are read
 * (reading them takes pages of the budget, which a throttled request must
 * not hold while it waits): a whole page per segment, what Linux's
 * frontends send, and never less than it carries.  Returns at once if the disk has no
 * limit or the device is stopping.  Before it sleeps, it publishes the
 * answers written on @ch so far.
 */
void skb_limit_wait(struct skb_dev *d, struct sk_chan *ch,
		    const struct skb_req_desc *desc)
{
	u64 cost[SKB_NR_LIMIT_KINDS], wait = 0, w, end, now;
	struct skb_limit *l;
	unsigned int k;
	u32 vdev;

	if (!atomic_read(&skb_nr_limits) || skb_vdev_of(d->dev, &vdev))
		return;
	cost[SKB_LIMIT_IOPS] = 1;
	cost[SKB_LIMIT_BW] = desc->kind == SKB_KIND_DISCARD ? 0 :
			     desc->indirect ? (u64)desc->nr_segs * SK_BLKIF_PAGE_SIZE :
			     (u64)desc->nr_sectors << 9;
	now = ktime_get_ns();
	spin_lock(&skb_limit_lock);
	l = skb_limit_find(d->dev->otherend_id, vdev);
	for (k = 0; l && k < SKB_NR_LIMIT_KINDS; k++) {
		if (!l->rate[k] || !cost[k])
			continue;
		w = sk_bucket_take(&l->b[k], cost[k], now);
		if (w > wait)
			wait = w;
	}
	if (wait)
		l->held++;
	spin_unlock(&skb_limit_lock);
	if (!wait)
		return;
	sk_chan_push(ch);
	end = now + wait;
	while (!READ_ONCE(d->stopping)) {
		now = ktime_get_ns();
		if (now >= end)
			break;
		w = min_t(u64, end - now, SKB_LIMIT_SLICE_NS);
		usleep_range(w / NSEC_PER_USEC, w / NSEC_PER_USEC + 50);
	}
}

/**
 * skb_param_line() - append one whole line to a sysfs page, or none.
 * @buf: the page a kernel_param_ops.get fills (PAGE_SIZE bytes).
 * @len: in: bytes in @buf so far; out: with the line.
 * @fmt: the line, printf-style, with its newline.
 *
 * For the per-disk tables' read-only parameters ("limits", "rings"),
 * whose lines may outnumber a page: the text ends at the last line that
 * fits whole.
 *
 * Return: false if the line did not fit (@buf as it was).
 */
bool skb_param_line(char *buf, int *len, const char *fmt, ...)
{
	size_t room = PAGE_SIZE - *len;
	va_list args;
	int n;

	va_start(args, fmt);
	n = vsnprintf(buf + *len, room, fmt, args);
	va_end(args);
	if (n >= room) {
		buf[*len] = '\0';
		return false;
	}
	*len += n;
	return true;
}

/*
 * Read-only module parameter "limits": one line per disk with a limit,
 * "<domid> <vdev> iops <requests/s> bw <bytes/s> held <requests>" (0: no
 * limit of that kind), oldest first.  The text ends at the last whole
 * line that fits sysfs's page (about 60 lines of the largest values).
 */
static int skb_limits_param_get(char *buf, const struct kernel_param *kp)
{
	const struct skb_limit *l;
	int len = 0;

	spin_lock(&skb_limit_lock);
	list_for_each_entry(l, &skb_limits, key.node)
		if (!skb_param_line(buf, &len,
				    "%u %u iops %llu bw %llu held %llu\n",
				    l->key.domid, l->key.vdev,
				    l->rate[SKB_LIMIT_IOPS],
				    l->rate[SKB_LIMIT_BW], l->held))
			break;
	spin_unlock(&skb_limit_lock);
	return len;
}

static const struct kernel_param_ops skb_limits_param_ops = {
	.set = sk_param_set_readonly,
	.get = skb_limits_param_get,
};
module_param_cb(limits, &skb_limits_param_ops, NULL, 0444);
MODULE_PARM_DESC(limits,
		 "read only: the I/O limits in force, a line per disk: domid vdev iops N bw N held N");
