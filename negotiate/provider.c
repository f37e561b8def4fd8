// SPDX-License-Identifier: GPL-2.0
/*
 * splitkit_negotiate providers, the kernel half: for each entry of the
 * portable skn_providers[] (core/offer.c, same order), where its capacity
 * comes from, the most one domain can take, and how an agreement is
 * applied and revoked.
 *
 * The block providers hand the agreed rate to splitkit_back
 * (skb_limit_set(), backend/limit.c), which enforces it per disk, or the
 * agreed rings (skb_ring_set(), backend/rings.c), which it puts in force
 * by reconfiguring the connected disk;
 * splitkit_back is found at run time with symbol_get() and released at
 * once, so a guest (which has no splitkit_back) loads this module too, and
 * splitkit_back can be unloaded between two agreements.  Without it the
 * block providers answer -ENODEV.
 *
 * The memory provider needs Xen's toolstack: setting a domain's maximum
 * memory is a domctl, which only the toolstack's libraries make.  Its
 * apply runs the dom0 helper (module parameter mem_helper, the splitkit
 * tool: "splitkit negotiate set-memory DOMID MIB", libxl's
 * libxl_set_memory_target(), as "xl mem-set" does: the maximum first, then
 * the balloon target in XenStore), and the guest's balloon driver follows
 * the target.  An offer never exceeds the domain's memory/static-max.
 * Revoking leaves the domain its memory: taking memory back is a new
 * agreement the guest selects, never a side effect of one ending; back.c
 * keeps counting what the domain keeps (skn_provider_keeps()).
 *
 * The vcpus provider is the same shape: the helper's "set-vcpus DOMID N"
 * (libxl_set_vcpuonline(), as "xl vcpu-set") brings the domain's first N
 * vCPUs online in XenStore (cpu/<n>/availability), and the guest's Xen
 * vCPU hotplug driver follows; offers never exceed its maxvcpus (the
 * entries under cpu/).  Revoking leaves the vCPUs as they are.
 *
 * Capacities are the module parameters blk_iops_capacity,
 * blk_bw_capacity_kib, mem_capacity_mib, blk_queues_capacity,
 * blk_ring_capacity_pages and vcpus_capacity (main.c); 0 offers nothing.
 * The ceilings, the most one agreement may hold, are the matching
 * *_guest_max*; 0 sets none.  "splitkit negotiate policy" sets them all
 * from a file.
 */
#include <linux/kernel.h>
#include <linux/module.h>
#include <linux/pid.h>
#include <linux/sched/signal.h>
#include <linux/umh.h>
#include <linux/workqueue.h>
#include <xen/xenbus.h>

#include <splitkit/blk_limit.h>

#include "common.h"

struct skn_kprovider;

/**
 * struct skn_kprovider - a provider's kernel half.
 * @apply: puts @value in force for (@domid, @target); 0 revokes.  May
 *	sleep; an apply is called without skn_back_lock (back.c,
 *	skn_back_act()), a revoke with it: what it calls has its own locks.
 *	A helper it runs is registered in its struct skn_apply.
 * @domain_max: the most @domid can hold, in the provider's unit; NULL
 *	for no limit of the domain's own.
 * @kind: the splitkit_back limit it sets (enum skb_limit_kind or
 *	enum skb_ring_kind).
 * @scale: capacity units to the provider's unit (KiB to bytes).
 * @verb: the helper's command (skn_helper_apply()).
 * @capacity: dom0's capacity, in the parameter's units.
 * @guest_max: the most one agreement may hold, in the parameter's units;
 *	0 for no ceiling.
 */
struct skn_kprovider {
	int (*apply)(const struct skn_kprovider *p, u16 domid, u32 target,
		     u64 value, struct skn_apply *ap);
	u64 (*domain_max)(u16 domid);
	unsigned int kind;
	u64 scale;
	const char *verb;
	u64 capacity;
	u64 guest_max;
};

static struct skn_kprovider skn_kproviders[SKN_NR_PROVIDERS];

/* blk.*: splitkit_back's per-disk limit, found at run time. */
static int skn_blk_apply(const struct skn_kprovider *p, u16 domid,
			 u32 target, u64 value, struct skn_apply *ap)
{
	int (*set)(u16 domid, u32 vdev, unsigned int kind, u64 rate);
	int err;

	set = symbol_get(skb_limit_set);
	if (!set)
		return -ENODEV;
	err = set(domid, target, p->kind, value);
	symbol_put(skb_limit_set);
	return err;
}

/* blk.queues, blk.ring: splitkit_back's ring agreement of a disk. */
static int skn_ring_apply(const struct skn_kprovider *p, u16 domid,
			  u32 target, u64 value, struct skn_apply *ap)
{
	int (*set)(u16 domid, u32 vdev, unsigned int kind, u32 value);
	int err;

	set = symbol_get(skb_ring_set);
	if (!set)
		return -ENODEV;
	/* the core bounds both providers' values to 16 */
	err = set(domid, target, p->kind, (u32)value);
	symbol_put(skb_ring_set);
	return err;
}

/*
 * memory, vcpus: the helper's exit status to an errno.  Exec failing (no
 * helper at mem_helper) is -ENODEV like a missing splitkit_back; any other
 * failure is the toolstack's (logged with the status) and -EIO.
 */
static int skn_helper_status(const struct skn_provider *c, u16 domid,
			     u64 value, const char *helper, int status)
{
	if (!status)
		return 0;
	if (status < 0) {
		pr_warn_ratelimited("splitkit_negotiate: %s of domain %u: cannot run %s: %d\n",
				    c->name, domid, helper, status);
		/* EBUSY: helpers are off (suspend, shutdown); try again */
		return status == -ENOENT || status == -EACCES ? -ENODEV :
		       status == -EBUSY ? -EBUSY : -EIO;
	}
	if (status & 0x7f)	/* a wait status: killed by a signal */
		pr_warn_ratelimited("splitkit_negotiate: %s of domain %u to %llu %s: %s killed by signal %d\n",
				    c->name, domid, value, c->unit, helper,
				    status & 0x7f);
	else
		pr_warn_ratelimited("splitkit_negotiate: %s of domain %u to %llu %s: %s exited with status %d (its messages in the kernel log)\n",
				    c->name, domid, value, c->unit, helper,
				    (status >> 8) & 0xff);
	return -EIO;
}

/**
 * struct skn_umh - one run of the mem_helper, and its deadline.
 * @lock: protects @pid and @expired (the helper's init and the watchdog).
 * @pid: the helper's process, once its init ran; NULL before.
 * @expired: the deadline passed: the helper is killed, or not started.
 * @watchdog: kills the helper at the deadline.
 * @ap: the device end's hold, which a removal cancels.
 */
struct skn_umh {
	spinlock_t lock;
	struct pid *pid;
	bool expired;
	struct delayed_work watchdog;
	struct skn_apply *ap;
};

/*
 * Under @lock, set *@stop and SIGKILL the process *@pidp notes, if any
 * (the helper's init notes itself, skn_note_self(), unless *@stop).
 */
static void skn_kill_noted(spinlock_t *lock, bool *stop,
			   struct pid *const *pidp)
{
	struct pid *pid;

	spin_lock(lock);
	*stop = true;
	pid = get_pid(*pidp);
	spin_unlock(lock);
	if (pid)
		kill_pid(pid, SIGKILL, 1);
	put_pid(pid);
}

/*
 * In the helper's process, before exec: note it in *@pidp under @lock,
 * or return @err if *@stop is already set (the helper does not run).
 */
static int skn_note_self(spinlock_t *lock, const bool *stop,
			 struct pid **pidp, int err)
{
	bool noted;

	spin_lock(lock);
	noted = !*stop;
	if (noted)
		*pidp = get_pid(task_pid(current));
	spin_unlock(lock);
	return noted ? 0 : err;
}

/**
 * skn_apply_init() - an end's hold on its applies, none running.
 * @ap: the hold.
 */
void skn_apply_init(struct skn_apply *ap)
{
	spin_lock_init(&ap->lock);
	ap->pid = NULL;
	ap->cancelled = false;
}

/**
 * skn_apply_cancel() - the end is going: kill its running helper, if any,
 * and let none start.
 * @ap: the hold.
 *
 * Context: any process context; takes @ap->lock.  The apply itself then
 * returns -ECANCELED soon (the helper's SIGKILL), which is what removing
 * the end waits for, instead of up to mem_helper_timeout_ms.
 */
void skn_apply_cancel(struct skn_apply *ap)
{
	skn_kill_noted(&ap->lock, &ap->cancelled, &ap->pid);
}

/* In the helper's process, before exec: note it, unless already late. */
static int skn_umh_init(struct subprocess_info *info, struct cred *new)
{
	struct skn_umh *u = info->data;

	return skn_note_self(&u->ap->lock, &u->ap->cancelled, &u->ap->pid,
			     -ECANCELED) ?:
	       skn_note_self(&u->lock, &u->expired, &u->pid, -ETIMEDOUT);
}

/* The deadline: SIGKILL the helper (or keep it from starting). */
static void skn_umh_expire(struct work_struct *w)
{
	struct skn_umh *u = container_of(to_delayed_work(w), struct skn_umh,
					 watchdog);

	skn_kill_noted(&u->lock, &u->expired, &u->pid);
}

/*
 * Run @argv and wait for it, at most @timeout_ms (0: no deadline), as
 * @ap's helper (skn_apply_cancel() kills it).
 * @timed_out: set if the deadline killed it or kept it from starting (a
 * helper that ended on its own just before the deadline is not).
 * Return: the wait status (>= 0) or call_usermodehelper_exec()'s -errno.
 */
static int skn_umh_run(char **argv, char **envp, unsigned int timeout_ms,
		       struct skn_apply *ap, bool *timed_out)
{
	struct subprocess_info *info;
	struct skn_umh u = { .pid = NULL, .ap = ap };
	struct pid *pid;
	int status;

	*timed_out = false;
	spin_lock_init(&u.lock);
	INIT_DELAYED_WORK_ONSTACK(&u.watchdog, skn_umh_expire);
	info = call_usermodehelper_setup(argv[0], argv, envp, GFP_KERNEL,
					 skn_umh_init, NULL, &u);
	if (!info) {
		status = -ENOMEM;
		goto destroy_watchdog;
	}
	if (timeout_ms)
		queue_delayed_work(system_wq, &u.watchdog,
				   msecs_to_jiffies(timeout_ms));
	status = call_usermodehelper_exec(info, UMH_WAIT_PROC);
	cancel_delayed_work_sync(&u.watchdog);
	spin_lock(&ap->lock);
	pid = ap->pid;
	ap->pid = NULL;
	spin_unlock(&ap->lock);
	put_pid(pid);
	/* our refusal in skn_umh_init(), or our SIGKILL */
	*timed_out = u.expired &&
		     (status == -ETIMEDOUT ||
		      (status > 0 && (status & 0x7f) == SIGKILL));
	put_pid(u.pid);
destroy_watchdog:
	destroy_delayed_work_on_stack(&u.watchdog);
	return status;
}

/*
 * memory, vcpus: the dom0 helper (mem_helper) as "HELPER negotiate VERB
 * DOMID VALUE" (@p->verb: set-memory, set-vcpus), at most
 * mem_helper_timeout_ms.
 */
static int skn_helper_apply(const struct skn_kprovider *p, u16 domid,
			    u32 target, u64 value, struct skn_apply *ap)
{
	static char *envp[] = { "HOME=/", "PATH=/sbin:/bin:/usr/sbin:/usr/bin",
				NULL };
	const struct skn_provider *c = &skn_providers[p - skn_kproviders];
	char helper[SKN_MEM_HELPER_MAX], dom[8], val[24];
	char *argv[] = { helper, "negotiate", (char *)p->verb, dom, val, NULL };
	unsigned int timeout_ms = READ_ONCE(skn_mem_helper_timeout_ms);
	bool timed_out;
	int status;

	if (!value)
		return 0;	/* revoked: the domain keeps what it has */
	skn_mem_helper_get(helper, sizeof(helper));
	if (!helper[0])
		return -ENODEV;
	snprintf(dom, sizeof(dom), "%u", domid);
	snprintf(val, sizeof(val), "%llu", value);
	status = skn_umh_run(argv, envp, timeout_ms, ap, &timed_out);
	/* killed (or never run) for the end's removal, not ended on its own */
	if (status && READ_ONCE(ap->cancelled)) {
		pr_warn_ratelimited("splitkit_negotiate: %s of domain %u to %llu %s: %s cancelled: dom0's end of the device is going\n",
				    c->name, domid, value, c->unit, helper);
		return -ECANCELED;
	}
	if (timed_out) {
		pr_warn_ratelimited("splitkit_negotiate: %s of domain %u to %llu %s: %s killed after %u ms (mem_helper_timeout_ms)\n",
				    c->name, domid, value, c->unit, helper,
				    timeout_ms);
		return -ETIMEDOUT;
	}
	return skn_helper_status(c, domid, value, helper, status);
}

/*
 * memory: the domain's memory/static-max (KiB, written by libxl at
 * creation; its maxmem), in MiB; no limit if the key is missing or not a
 * number.
 */
static u64 skn_mem_domain_max(u16 domid)
{
	char dir[32];
	char *val;
	u64 kib;
	int err;

	snprintf(dir, sizeof(dir), "/local/domain/%u/memory", domid);
	val = xenbus_read(XBT_NIL, dir, "static-max", NULL);
	if (IS_ERR(val))
		return U64_MAX;
	err = kstrtou64(val, 10, &kib);
	kfree(val);
	return err ? U64_MAX : kib / 1024;
}

/*
 * vcpus: the domain's maxvcpus, the number of entries libxl writes under
 * /local/domain/DOMID/cpu at creation (one per vCPU it may bring online);
 * no limit if the directory cannot be read.
 */
static u64 skn_vcpus_domain_max(u16 domid)
{
	unsigned int n;
	char dir[32];
	char **names;

	snprintf(dir, sizeof(dir), "/local/domain/%u", domid);
	names = xenbus_directory(XBT_NIL, dir, "cpu", &n);
	if (IS_ERR(names))
		return U64_MAX;
	kfree(names);
	return n ? n : U64_MAX;
}

static struct skn_kprovider skn_kproviders[SKN_NR_PROVIDERS] = {
	[SKN_P_BLK_IOPS] = {
		.apply = skn_blk_apply, .kind = SKB_LIMIT_IOPS, .scale = 1,
	},
	[SKN_P_BLK_BW] = {
		.apply = skn_blk_apply, .kind = SKB_LIMIT_BW, .scale = 1024,
	},
	[SKN_P_MEMORY] = {
		.apply = skn_helper_apply, .domain_max = skn_mem_domain_max,
		.scale = 1, .verb = "set-memory",
	},
	[SKN_P_BLK_QUEUES] = {
		.apply = skn_ring_apply, .kind = SKB_RING_QUEUES, .scale = 1,
	},
	[SKN_P_BLK_RING] = {
		.apply = skn_ring_apply, .kind = SKB_RING_PAGES, .scale = 1,
	},
	[SKN_P_VCPUS] = {
		.apply = skn_helper_apply, .domain_max = skn_vcpus_domain_max,
		.scale = 1, .verb = "set-vcpus",
	},
};

/**
 * skn_provider_set_capacity() - set dom0's capacity of a provider.
 * @provider: enum skn_provider_id.
 * @capacity: in the parameter's units (blk.bandwidth: KiB/s).
 *
 * Return: 0 or -EINVAL.
 */
int skn_provider_set_capacity(u32 provider, u64 capacity)
{
	if (provider >= SKN_NR_PROVIDERS)
		return -EINVAL;
	WRITE_ONCE(skn_kproviders[provider].capacity, capacity);
	return 0;
}

/**
 * skn_provider_capacity() - dom0's capacity of a provider.
 * @provider: enum skn_provider_id.
 *
 * Return: the capacity in the provider's unit, 0 for none.
 */
u64 skn_provider_capacity(u32 provider)
{
	const struct skn_kprovider *p;

	if (provider >= SKN_NR_PROVIDERS)
		return 0;
	p = &skn_kproviders[provider];
	return READ_ONCE(p->capacity) * p->scale;
}

/**
 * skn_provider_set_guest_max() - set the most one agreement may hold.
 * @provider: enum skn_provider_id.
 * @guest_max: in the parameter's units (blk.bandwidth: KiB/s); 0 for none.
 *
 * Return: 0 or -EINVAL.
 */
int skn_provider_set_guest_max(u32 provider, u64 guest_max)
{
	if (provider >= SKN_NR_PROVIDERS)
		return -EINVAL;
	WRITE_ONCE(skn_kproviders[provider].guest_max, guest_max);
	return 0;
}

/**
 * skn_provider_guest_max() - the most one agreement of a provider may hold.
 * @provider: enum skn_provider_id.
 *
 * Return: the ceiling in the provider's unit, 0 for none.
 */
u64 skn_provider_guest_max(u32 provider)
{
	const struct skn_kprovider *p;

	if (provider >= SKN_NR_PROVIDERS)
		return 0;
	p = &skn_kproviders[provider];
	return READ_ONCE(p->guest_max) * p->scale;
}

/**
 * skn_provider_domain_max() - the most a domain can hold of a provider.
 * @provider: enum skn_provider_id.
 * @domid: the guest.
 *
 * Context: may sleep (reads XenStore).
 * Return: in the provider's unit; U64_MAX when only the capacity and the
 * ceiling limit it (the block providers).
 */
u64 skn_provider_domain_max(u32 provider, u16 domid)
{
	if (provider >= SKN_NR_PROVIDERS ||
	    !skn_kproviders[provider].domain_max)
		return U64_MAX;
	return skn_kproviders[provider].domain_max(domid);
}

/**
 * skn_provider_keeps() - whether a domain keeps what a revoked agreement
 * gave it.
 * @provider: enum skn_provider_id.
 *
 * memory and vcpus: revoking runs no helper, the domain keeps its memory
 * and vCPUs until a new agreement changes them; the block providers'
 * revoke lifts the limit.
 *
 * Return: true if revoking @provider's agreements takes nothing back.
 */
bool skn_provider_keeps(u32 provider)
{
	return provider < SKN_NR_PROVIDERS &&
	       skn_kproviders[provider].apply == skn_helper_apply;
}

/**
 * skn_provider_apply() - put an agreement in force, or end it.
 * @provider: enum skn_provider_id.
 * @domid: the guest.
 * @target: the slot's target (a disk's virtual-device number; 0 for
 *	memory).
 * @value: the agreed value in the provider's unit; 0 revokes.
 * @ap: the device end's hold on the helper (skn_apply_cancel()).
 *
 * Context: may sleep (memory runs the mem_helper and waits for it, up
 * to mem_helper_timeout_ms); an apply is called without skn_back_lock, a
 * revoke (@value 0) with it.
 * Return: 0; -ENODEV if what applies it is missing (splitkit_back not
 * loaded, no mem_helper); -ETIMEDOUT if the helper was killed at its
 * deadline; -ECANCELED if @ap was cancelled; -EIO if it failed; or
 * splitkit_back's error.
 */
int skn_provider_apply(u32 provider, u16 domid, u32 target, u64 value,
		       struct skn_apply *ap)
{
	const struct skn_kprovider *p;

	if (provider >= SKN_NR_PROVIDERS)
		return -EINVAL;
	p = &skn_kproviders[provider];
	return p->apply(p, domid, target, value, ap);
}
