// SPDX-License-Identifier: GPL-2.0
/*
 * splitkit_back page budget: the bound on dom0 memory that guests' requests
 * hold.  Every request with data holds one bounce page per segment from
 * before its grant copy in until after its answer (req.c); without a bound
 * a guest with the advertised defaults (4 rings x 512 entries x 256
 * indirect segments) could pin 2 GiB of dom0 per disk.  A request first
 * reserves its pages here against two bounds, its disk's (module parameter
 * max_pages) and the whole backend's (max_pages_all); when either is
 * reached it waits in its ring's consumer until answers give pages back.
 * It never fails for it, and every bound holds at least one request of the
 * largest size (4096 segments), so the wait always ends: pages in flight
 * belong to requests whose I/O completes without us.  A disk that holds no
 * pages may always start one request, whatever the other disks hold, so
 * one guest filling the backend's budget cannot starve the others: the
 * backend's total stays under max_pages_all plus one request per disk.
 * Waiters are woken all at once on every release; the bound, not the
 * order, is what this guarantees.
 *
 * Counted: bounce pages only, the memory that grows with what a guest
 * sends.  Per-request bookkeeping (a few hundred bytes) and the qcow2
 * engine's bounded caches (image/core/cache.c) are not.
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

/* Reserve @n pages for @d if both bounds allow it now. */
static bool skb_pages_try(struct skb_dev *d, unsigned int n)
{
	unsigned int disk_max = READ_ONCE(skb_budget_param->max_pages);
	unsigned int all_max = READ_ONCE(skb_budget_param->max_pages_all);
	bool ok;
	unsigned long flags;

	spin_lock_irqsave(&skb_budget_lock, flags);
	/* a disk holding nothing may always start one request */
	ok = d->pages + n <= disk_max &&
	     (!d->pages || skb_pages_all + n <= all_max);
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
 * skb_pages_get() - reserve the bounce pages of one request.
 * @d: the device.
 * @n: pages (segments), at most SK_BLKIF_MAX_INDIRECT_SEGS.
 *
 * Consumer context: may sleep, until both bounds let @n more pages in or
 * @d stops.  Each wait is counted in skb_stats/page_waits.
 *
 * Return: 0 with the pages reserved (give them back with
 * skb_pages_put()), or -ESHUTDOWN if @d is stopping.
 */
int skb_pages_get(struct skb_dev *d, unsigned int n)
{
	bool got;

	if (skb_pages_try(d, n))
		return 0;
	atomic64_inc(&d->stats.page_waits);
	/* @got: what the last look, the one that ended the wait, found */
	wait_event(skb_budget_wq,
		   (got = skb_pages_try(d, n)) || READ_ONCE(d->stopping));
	return got ? 0 : -ESHUTDOWN;
}

/**
 * skb_pages_put() - give back what skb_pages_get() reserved.
 * @d: the device.
 * @n: the same number of pages.
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
		 "read only: bounce pages all disks hold now");
module_param_cb(pages_peak, &skb_pages_param_ops, (void *)1, 0444);
MODULE_PARM_DESC(pages_peak,
		 "read only: most bounce pages all disks held at once");
