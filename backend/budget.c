// SPDX-License-Identifier: GPL-2.0
/*
 * splitkit_back page budget: the bound on dom0 memory that guests' requests
 * hold.  Every request with data holds, from before anything of it is
 * allocated until it is freed after its answer (req.c), its bookkeeping -
 * the struct skb_req (about 1.6 KiB, most of it the 32-operation grant
 * copy batch it embeds) and its per-segment arrays (up to 37 bytes a
 * segment, about 150 KiB at 4096 segments) - and one bounce page per
 * segment it grant-copies; while it is being set up, also the buffer its
 * indirect pages are read into (up to 32 KiB) and a bounce page for every
 * segment, until the mapped-grant pool (gmap.c) has said which segments
 * run on the frontend's own pages.  Without a bound a guest with the
 * advertised defaults (4 rings x 512 entries x 256 indirect segments)
 * could pin 2 GiB of dom0 per disk in bounce pages; one whose grants are
 * all mapped (zero copy) takes no bounce page but still about 150 KiB of
 * bookkeeping per request of 4096 segments.
 *
 * Counted, in pages: all of the above, each request's bookkeeping rounded
 * up to whole pages.  A request reserves everything it may hold here in
 * one go (skb_req_alloc()), before it allocates, against two bounds, its
 * disk's (module parameter max_pages) and the whole backend's
 * (max_pages_all); when either is reached it waits in its ring's consumer
 * until pages come back, having published the ring's answers first.  It
 * never fails for it, and no consumer waits here holding pages, so the
 * wait always ends: the pages in the budget belong to requests being set
 * up by a consumer that does not wait for the budget, or to requests
 * whose I/O completes without us.  A disk that holds no pages may always
 * start one request, whatever the bounds and the other disks hold (the
 * largest, 4096 segments and their bookkeeping, is 4142 pages, more than
 * the smallest max_pages), so one guest filling the backend's budget
 * cannot starve the others: each disk's pages stay under max_pages or one
 * request, whichever is more, and the backend's under max_pages_all plus
 * one request per disk.  Waiters are woken all at once on every release;
 * the bound, not the order, is what this guarantees.  Not counted: the
 * mapped-grant pool's slots, bounded by the pool's size (gmap.c), and the
 * qcow2 engine's bounded caches (image/core/cache.c); neither grows with
 * what a guest sends.
 *
 * Locking: skb_budget_lock (taken with interrupts off: completions give
 * pages back from bio end_io) protects skb_pages_all and every disk's
 * skb_dev.pages; waiters sleep on skb_budget_wq, woken on every release
 * and when a disk stops.
 */
#include <linux/moduleparam.h>
#include <linux/spinlock.h>
#include <linux/wait.h>
#include <splitkit/param.h>

#include "common.h"

static const struct skb_params *skb_budget_param;
static DEFINE_SPINLOCK(skb_budget_lock);
static DECLARE_WAIT_QUEUE_HEAD(skb_budget_wq);
static unsigned long skb_pages_all;	/* under skb_budget_lock */
static unsigned long skb_pages_all_peak;

/* Reserve @n pages for @d if both bounds allow it now, or @d holds none. */
static bool skb_pages_try(struct skb_dev *d, unsigned int n)
{
	unsigned int disk_max = READ_ONCE(skb_budget_param->max_pages);
	unsigned int all_max = READ_ONCE(skb_budget_param->max_pages_all);
	bool ok;
	unsigned long flags;

	spin_lock_irqsave(&skb_budget_lock, flags);
	/* a disk holding nothing may always start one request */
	ok = !d->pages ||
	     (d->pages + n <= disk_max && skb_pages_all + n <= all_max);
	if (ok) {
		d->pages += n;
		skb_pages_all += n;
		d->pages_peak = max(d->pages_peak, d->pages);
		skb_pages_all_peak = max(skb_pages_all_peak, skb_pages_all);
	}
	spin_unlock_irqrestore(&skb_budget_lock, flags);
	return ok;
}

/**
 * skb_pages_get() - reserve the pages of one request.
 * @d: the device.
 * @ch: the ring whose consumer asks.
 * @n: pages: everything the request may hold (skb_req_alloc()).
 *
 * Consumer context: may sleep, until both bounds let @n more pages in or
 * @d stops.  Each wait is counted in skb_stats/page_waits.  Before it
 * sleeps it publishes the answers the consumer wrote on @ch so far: they
 * must not wait for other requests' I/O.
 *
 * Return: 0 with the pages reserved (give them back with
 * skb_pages_put()), or -ESHUTDOWN if @d is stopping.
 */
int skb_pages_get(struct skb_dev *d, struct sk_chan *ch, unsigned int n)
{
	bool got;

	if (skb_pages_try(d, n))
		return 0;
	atomic64_inc(&d->stats.page_waits);
	sk_chan_push(ch);
	/* @got: what the last look, the one that ended the wait, found */
	wait_event(skb_budget_wq,
		   (got = skb_pages_try(d, n)) || READ_ONCE(d->stopping));
	return got ? 0 : -ESHUTDOWN;
}

/**
 * skb_pages_put() - give back pages skb_pages_get() reserved.
 * @d: the device.
 * @n: how many: all of them, or some at a time.
 *
 * Any context (takes skb_budget_lock with interrupts off, wakes waiters).
 */
void skb_pages_put(struct skb_dev *d, unsigned int n)
{
	unsigned long flags;

	spin_lock_irqsave(&skb_budget_lock, flags);
	d->pages -= n;
	skb_pages_all -= n;
	spin_unlock_irqrestore(&skb_budget_lock, flags);
	wake_up_all(&skb_budget_wq);
}

/**
 * skb_pages_wake() - a disk is stopping: let its waiting consumer go.
 */
void skb_pages_wake(void)
{
	wake_up_all(&skb_budget_wq);
}

/**
 * skb_budget_init() - where the bounds are (the module parameters).
 * @p: max_pages and max_pages_all, read at every reservation.
 */
void skb_budget_init(const struct skb_params *p)
{
	skb_budget_param = p;
}

/**
 * skb_pages_read() - the backend's pages in use now and at most so far.
 * @now: set to the pages reserved now.
 * @peak: set to the most ever reserved at once.
 */
void skb_pages_read(unsigned long *now, unsigned long *peak)
{
	unsigned long flags;

	spin_lock_irqsave(&skb_budget_lock, flags);
	*now = skb_pages_all;
	*peak = skb_pages_all_peak;
	spin_unlock_irqrestore(&skb_budget_lock, flags);
}

/**
 * skb_pages_read_disk() - a disk's pages in use now and at most so far.
 * @d: the device.
 * @now: set to its pages reserved now.
 * @peak: set to the most it ever had at once.
 */
void skb_pages_read_disk(struct skb_dev *d, unsigned long *now,
			 unsigned long *peak)
{
	unsigned long flags;

	spin_lock_irqsave(&skb_budget_lock, flags);
	*now = d->pages;
	*peak = d->pages_peak;
	spin_unlock_irqrestore(&skb_budget_lock, flags);
}

/* Read-only module parameters: the backend's pages now and at the peak. */
static int skb_pages_param_get(char *buf, const struct kernel_param *kp)
{
	unsigned long now, peak;

	skb_pages_read(&now, &peak);
	return sysfs_emit(buf, "%lu\n", kp->arg ? peak : now);
}

static const struct kernel_param_ops skb_pages_param_ops = {
	.set = sk_param_set_readonly,
	.get = skb_pages_param_get,
};
module_param_cb(pages_in_use, &skb_pages_param_ops, NULL, 0444);
MODULE_PARM_DESC(pages_in_use,
		 "read only: pages all disks' requests hold now, bounce pages and bookkeeping");
module_param_cb(pages_peak, &skb_pages_param_ops, (void *)1, 0444);
MODULE_PARM_DESC(pages_peak,
		 "read only: most pages all disks' requests held at once");
