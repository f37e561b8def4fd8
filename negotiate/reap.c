// SPDX-License-Identifier: GPL-2.0
/*
 * splitkit_negotiate, dom0's end: removing the device of a destroyed
 * domain.  xl removes the XenStore directories of the devices it made when
 * it destroys a domain, not this device's (it does not know the type), and
 * what the domain kept (back.c, struct skn_back's @kept) would count
 * against the capacity for every other guest until dom0's end went.  So
 * once a guest's domain is gone, dom0's directory of its devices is
 * removed here, and xenbus removes the device.
 *
 * Gone means both: XenStore has no home directory for the domain (the
 * toolstack removes it as it destroys the domain; a guest cannot, dom0
 * owns it) and Xen knows no such domain (XENMEM_current_reservation
 * answers -ESRCH).  The home alone is no proof: libxl's soft reset removes
 * and writes again the home of a domain that runs on.  A domain whose home
 * is gone but that Xen still knows (dying, or being soft-reset) is checked
 * again after 100 ms, then less and less often, up to every 10 s (as is
 * one whose check XenStore failed); a new event starts the wait at 100 ms
 * again.  The home's absence and the removal are one XenStore
 * transaction.
 *
 * What starts a check: xenstored's @releaseDomain (a domain shut down,
 * crashed or died; and once when the watch is registered, so a module
 * loaded after a domain died catches up): every domain with a directory
 * under backend/sk-neg is checked, whether or not it has a device
 * (xenbus makes no device of one whose guest directory is missing), the
 * guest's end of a device
 * closing or vanishing (that device only: a guest that reconnects in a
 * loop costs dom0 a XenStore read each time), and the retry.  One work
 * item runs every check.  The watch is registered once xenstored is up: a
 * module loaded at boot before it would otherwise wait for it.
 */
#include <linux/minmax.h>
#include <linux/notifier.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/workqueue.h>
#include <xen/xen.h>
#include <xen/interface/memory.h>
#include <xen/xenbus.h>
#include <asm/xen/hypercall.h>

#include "common.h"

#define SKN_REAP_RETRY_MIN_MS	100
#define SKN_REAP_RETRY_MAX_MS	10000

static void skn_reap_run(struct work_struct *w);
static DECLARE_DELAYED_WORK(skn_reap_work, skn_reap_run);

/* protects skn_reap_all, skn_reap_retry_ms */
static DEFINE_SPINLOCK(skn_reap_lock);
/* the next run checks every domain, not only those back.c marked */
static bool skn_reap_all;
/* the wait before the last retry, 0 when none is due */
static unsigned int skn_reap_retry_ms;
/* @releaseDomain is watched (set by the notifier, read at stop) */
static bool skn_reap_watching;

/**
 * skn_reap_queue() - check soon whether guests' domains are gone.
 * @all: every domain under backend/sk-neg; else those of the devices
 *	 back.c marked (skn_back_reap_list()).
 *
 * Any context but hard IRQ; does not sleep.
 */
void skn_reap_queue(bool all)
{
	unsigned long flags;

	spin_lock_irqsave(&skn_reap_lock, flags);
	skn_reap_all |= all;
	/* a fresh event: a dying domain is checked soon, not in 10 s */
	skn_reap_retry_ms = 0;
	spin_unlock_irqrestore(&skn_reap_lock, flags);
	mod_delayed_work(system_wq, &skn_reap_work, 0);
}

/**
 * skn_xs_node() - whether XenStore has a node.
 * @t: transaction (XBT_NIL for none): in one, the read makes a change of
 *     the node by another writer restart it.
 * @path: the node.
 *
 * Context: process; may sleep.
 * Return: 0 if it is there, -ENOENT if not, or the xenbus error.
 */
int skn_xs_node(struct xenbus_transaction t, const char *path)
{
	char *val = xenbus_read(t, path, "", NULL);

	if (IS_ERR(val))
		return PTR_ERR(val);
	kfree(val);
	return 0;
}

/* Does Xen know domain @domid (running, paused, dying)? */
static bool skn_domain_known(u16 domid)
{
	domid_t d = domid;

	return HYPERVISOR_memory_op(XENMEM_current_reservation, &d) != -ESRCH;
}

/*
 * In one transaction: the home still gone, dom0's directory there,
 * removed.  0 when removed, -EEXIST if the home came back, -ENOENT if
 * the directory went (a detach), or the XenStore error.
 */
static int skn_reap_rm(const struct skn_reap_dev *r, const char *home)
{
	struct xenbus_transaction t;
	int err, end;

	for (;;) {
		err = xenbus_transaction_start(&t);
		if (err)
			return err;
		err = skn_xs_node(t, home);
		if (!err)
			err = -EEXIST;
		else if (err == -ENOENT)
			err = skn_xs_node(t, r->dir);
		if (!err)
			err = xenbus_rm(t, r->dir, "");
		end = xenbus_transaction_end(t, err != 0);
		if (err)
			return err;
		if (end != -EAGAIN)
			return end;
	}
}

/*
 * One device's domain: 0 when there is nothing (more) to do, -EAGAIN to
 * check again later (its home is gone but Xen still knows the domain, or
 * XenStore failed).
 */
static int skn_reap_one(const struct skn_reap_dev *r)
{
	char home[32];
	int err;

	snprintf(home, sizeof(home), "/local/domain/%u", r->domid);
	err = skn_xs_node(XBT_NIL, home);
	if (err != -ENOENT)
		return err ? -EAGAIN : 0;
	if (skn_domain_known(r->domid))
		return -EAGAIN;
	err = skn_reap_rm(r, home);
	if (!err)
		pr_info("splitkit_negotiate: domain %u is gone: removed %s (its device goes, with what it kept)\n",
			r->domid, r->dir);
	if (!err || err == -EEXIST || err == -ENOENT)
		return 0;	/* removed, home back, or detached */
	pr_warn_ratelimited("splitkit_negotiate: domain %u is gone, but removing %s failed: %d; trying again\n",
			    r->domid, r->dir, err);
	return -EAGAIN;
}

#define SKN_REAP_BASE	"backend/" SKN_DEVTYPE

/*
 * Every domain with a directory under backend/sk-neg, in @out as
 * skn_back_reap_list() gives it; the name must be a domain's number as
 * the toolstack writes it (anything else is left alone).  Return: the
 * number of entries, or -errno (@out NULL).
 */
static int skn_reap_scan(struct skn_reap_dev **out)
{
	struct skn_reap_dev *r = NULL;
	unsigned int n, i, nr = 0;
	char num[8], **dirs;
	u16 domid;

	*out = NULL;
	dirs = xenbus_directory(XBT_NIL, SKN_REAP_BASE, "", &n);
	if (IS_ERR(dirs))
		return PTR_ERR(dirs) == -ENOENT ? 0 : PTR_ERR(dirs);
	if (n)
		r = kcalloc(n, sizeof(*r), GFP_KERNEL);
	if (n && !r)
		goto free_dirs;
	for (i = 0; i < n; i++) {
		if (kstrtou16(dirs[i], 10, &domid) || !domid ||
		    domid >= DOMID_FIRST_RESERVED)
			continue;
		snprintf(num, sizeof(num), "%u", domid);
		if (strcmp(num, dirs[i]))
			continue;	/* "05", "+5": not the toolstack's */
		r[nr].dir = kasprintf(GFP_KERNEL, SKN_REAP_BASE "/%u", domid);
		if (!r[nr].dir)
			goto free_entries;
		r[nr++].domid = domid;
	}
	kfree(dirs);
	*out = r;
	return nr;

free_entries:
	while (nr)
		kfree(r[--nr].dir);
	kfree(r);
free_dirs:
	kfree(dirs);
	return -ENOMEM;
}

static void skn_reap_run(struct work_struct *w)
{
	struct skn_reap_dev *r;
	unsigned int delay = 0;
	bool all, again = false;
	int nr, i;

	spin_lock_irq(&skn_reap_lock);
	all = skn_reap_all;
	skn_reap_all = false;
	spin_unlock_irq(&skn_reap_lock);

	nr = all ? skn_reap_scan(&r) : skn_back_reap_list(&r);
	if (nr < 0) {
		pr_warn_ratelimited("splitkit_negotiate: listing the domains to check failed (%d); trying again\n",
				    nr);
		again = true;
	}
	for (i = 0; i < nr; i++) {
		if (skn_reap_one(&r[i]) == -EAGAIN)
			again = true;
		kfree(r[i].dir);
	}
	kfree(r);

	spin_lock_irq(&skn_reap_lock);
	if (again) {
		/* every domain (marks left by a scan cost one read later) */
		skn_reap_all = true;
		skn_reap_retry_ms = clamp(skn_reap_retry_ms * 2,
					  SKN_REAP_RETRY_MIN_MS,
					  SKN_REAP_RETRY_MAX_MS);
		delay = skn_reap_retry_ms;
	} else {
		skn_reap_retry_ms = 0;
	}
	spin_unlock_irq(&skn_reap_lock);
	/* not mod_: a check queued meanwhile runs at once, not later */
	if (again)
		queue_delayed_work(system_wq, &skn_reap_work,
				   msecs_to_jiffies(delay));
}

static void skn_reap_released(struct xenbus_watch *w, const char *path,
			      const char *token)
{
	skn_reap_queue(true);
}

/* xenstored fires it when a domain shuts down, crashes or dies */
static struct xenbus_watch skn_reap_watch = {
	.node = "@releaseDomain",
	.callback = skn_reap_released,
};

static int skn_reap_xenstore_up(struct notifier_block *nb,
				unsigned long event, void *data)
{
	int err = register_xenbus_watch(&skn_reap_watch);

	if (err)
		pr_warn("splitkit_negotiate: cannot watch @releaseDomain (%d): a destroyed domain's device stays until detached\n",
			err);
	else
		WRITE_ONCE(skn_reap_watching, true);
	return NOTIFY_DONE;
}

static struct notifier_block skn_reap_nb = {
	.notifier_call = skn_reap_xenstore_up,
};

/**
 * skn_reap_start() - watch for destroyed domains once xenstored is up.
 *
 * Context: process (module init, after back.c's driver is registered);
 * may sleep (for xenstored's answer, if it is up).
 */
void skn_reap_start(void)
{
	register_xenstore_notifier(&skn_reap_nb);
}

/**
 * skn_reap_stop_watch() - stop watching (module exit, first step).
 *
 * Context: process; may sleep (for a running watch callback).
 */
void skn_reap_stop_watch(void)
{
	unregister_xenstore_notifier(&skn_reap_nb);
	if (READ_ONCE(skn_reap_watching)) {
		unregister_xenbus_watch(&skn_reap_watch);
		WRITE_ONCE(skn_reap_watching, false);
	}
}

/**
 * skn_reap_stop() - wait for a running check and cancel the next one
 * (module exit, after back.c's driver is unregistered: no device is left
 * to queue one).
 *
 * Context: process; may sleep.
 */
void skn_reap_stop(void)
{
	cancel_delayed_work_sync(&skn_reap_work);
}
