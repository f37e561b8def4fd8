// SPDX-License-Identifier: GPL-2.0
/*
 * splitkit_negotiate, dom0's end: the backend driver of the
 * "sk-neg" xenbus device, holding the authoritative state of
 * every slot of every guest.  Its counterpart is front.c in the guest.
 *
 * A watch on the guest's directory (and timers for deadlines and the rate
 * limit) run one work item per device.  The watch notes which slot the
 * guest wrote (a key outside every slot is not even queued), and the work
 * reads only those slots' keys, with splitkit_ring's strict string
 * reader, lets the portable core classify them (core/state.c: parse,
 * generation checks), passes requests and bad messages through the
 * device's token bucket, asks the core what each event does
 * (skn_back_decide()), performs it (provider.c applies or revokes),
 * records it (skn_back_commit()) and publishes the slot's keys
 * in one transaction.  Nothing the guest writes is trusted: a bad message
 * is reported in slot-<n>/error and dmesg and changes no state; a storm of
 * writes is coalesced (the watch drops events while one is queued) and
 * its slot reads pass a second bucket before any XenStore read, so dom0's
 * work is bounded by time, not by what the guest writes.
 *
 * When the guest's end goes (disconnect), the work item ends its slots
 * (GONE: offers expire, agreements are revoked), never the xenwatch
 * thread: an apply the work is running may wait for the mem_helper for up
 * to mem_helper_timeout_ms, and Linux's one xenwatch thread serves every
 * xenbus device of every guest.  Removing dom0's end (the toolstack's
 * doing, or an unload) waits for the work, after killing the helper of a
 * running apply (skn_back_stop()).  xl does not remove this device when
 * it destroys the guest's domain: reap.c removes dom0's directory of it
 * once the domain is gone (skn_back_reap_list() says which guests' ends
 * went; on @releaseDomain it checks every domain dom0 has a directory
 * for, with a device or not).
 *
 * Locking: skn_back_lock (a mutex) protects every device's slots, bucket,
 * @connected, @gone and the device list, so that what all agreements of a
 * provider hold is consistent while one slot's offers are computed.  It
 * nests inside the state helper's sk_xb.lock (connect, disconnect) and is
 * never held while waiting for the work item.
 */
#include <linux/ktime.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/workqueue.h>
#include <xen/xen.h>
#include <xen/xenbus.h>

#include <splitkit/export.h>
#include <splitkit/ring.h>

#include "common.h"

/**
 * struct skn_back_stats - what one device has seen (sysfs).
 * @requests: requests answered with offers.
 * @applied: agreements applied.
 * @revoked: agreements revoked.
 * @stale: selections of another generation, ignored.
 * @bad: malformed or out-of-range messages reported.
 * @rate_limited: messages deferred by the rate limit.
 * @reads_deferred: slot reads deferred by the read limit (@rd).
 * @timeouts: offers that ran out of time.
 * @refused: requests nothing could be offered for.
 * @slot_reads: slots whose keys were read (one per slot the guest wrote,
 *	     coalesced by the watch, bounded by @rd).
 */
struct skn_back_stats {
	u64 requests;
	u64 applied;
	u64 revoked;
	u64 stale;
	u64 bad;
	u64 rate_limited;
	u64 reads_deferred;
	u64 timeouts;
	u64 refused;
	u64 slot_reads;
};

/**
 * struct skn_back - dom0's end of one guest's device.
 * @xb: xenbus state helper.
 * @slot: the slots (skn_back_lock).
 * @err: each slot's error to publish, 0 for none (skn_back_lock).
 * @sel_seen: each slot's last selection handled, as (gen << 3 | index) + 1
 *	     (skn_back_lock): the same selection read again is skipped.
 * @bad_seen: a hash of each slot's last bad request (skn_back_lock): the
 *	     same garbage read again is not reported (nor rate-limited) twice.
 * @bad_sel_seen: the same for a bad selection.
 * @rl: the request rate limit (skn_back_lock), filled once at probe: a
 *	     guest that reconnects gets no new burst.
 * @rd: the slot-read limit (skn_back_lock), filled once at probe: each
 *	     slot read (up to eight XenStore reads) takes a token,
 *	     SKN_READS_PER_MSG per token of @rl, and a burst that also
 *	     covers reading every slot at a connection.
 * @rd_stopped: test builds: when test_read_clock stopped @rd's clock, 0
 *	     while it runs (skn_back_lock).
 * @connected: slots are live (skn_back_lock).
 * @gone: the guest's end went and @work has not ended its slots yet
 *	     (skn_back_lock).
 * @removing: the device is being removed: slots change without being
 *	     published (skn_back_lock).
 * @unread: the slots the guest wrote since @work last read them, a bit
 *	     each (atomic bitops: the watch sets them without the lock).
 * @watching: @watch is registered.
 * @watch: on the guest's directory.
 * @work: reads and answers the slots.
 * @node: in skn_back_list (skn_back_lock).
 * @stats: counters (skn_back_lock).
 * @dom_max: the most the domain can hold of each provider, read once per
 *	     run of @work (skn_back_lock; skn_available()).
 * @dom_max_read: which of @dom_max this run has read.
 * @applying: each slot's value being applied, 0 for none (skn_back_lock):
 *	     held by the slot while its provider applies it without the
 *	     lock (skn_back_act()), so no other guest is offered it.
 * @apply: the helper an apply runs, which removing dom0's end kills.
 * @reap_check: the guest's end went: reap.c is to check whether its
 *	     domain is gone (skn_back_lock).
 * @kept: per provider whose revoke takes nothing back (memory, vcpus:
 *	     skn_provider_keeps()), what the domain's last revoked agreement
 *	     gave it and it keeps (skn_back_lock): held against the capacity
 *	     for the other guests until an agreement of the provider is
 *	     applied for the domain again or dom0's directory of the device
 *	     goes; kept in that directory too (skn_back_save_kept()).
 * @kept_dirty: @kept changed since it was last written (skn_back_lock).
 * @vm: the domain's vm path at probe ("" if none), the owner of @kept in
 *	     XenStore (skn_back_load_kept()).
 */
struct skn_back {
	struct sk_xb xb;
	struct skn_slot slot[SKN_MAX_SLOTS];
	int err[SKN_MAX_SLOTS];
	u64 sel_seen[SKN_MAX_SLOTS];
	u32 bad_seen[SKN_MAX_SLOTS];
	u32 bad_sel_seen[SKN_MAX_SLOTS];
	struct sk_bucket rl;
	struct sk_bucket rd;
#ifdef SKN_TEST_HOOKS
	u64 rd_stopped;
#endif
	bool connected;
	bool gone;
	bool removing;
	unsigned long unread;
	bool watching;
	struct xenbus_watch watch;
	struct delayed_work work;
	struct list_head node;
	struct skn_back_stats stats;
	u64 dom_max[SKN_NR_PROVIDERS];
	u32 dom_max_read;
	u64 applying[SKN_MAX_SLOTS];
	struct skn_apply apply;
	bool reap_check;
	u64 kept[SKN_NR_PROVIDERS];
	bool kept_dirty;
	char *vm;
};

static_assert(SKN_NR_PROVIDERS <= 32);	/* dom_max_read's bits */
static_assert(SKN_MAX_SLOTS <= BITS_PER_LONG);	/* unread's bits */

static DEFINE_MUTEX(skn_back_lock);
static LIST_HEAD(skn_back_list);

/* ---- publishing a slot: one key table, one transaction ---- */

/**
 * struct skn_pub - the values of a slot's dom0 keys.
 * @offer_gen: offer-gen.
 * @offer_for: offer-for.
 * @nr_offers: nr-offers.
 * @timeout_ms: offer-timeout-ms.
 * @applied_gen: applied-gen.
 * @offer: offer-<i>.
 * @applied: applied.
 * @status: status.
 * @error: error.
 */
struct skn_pub {
	u32 offer_gen;
	u32 offer_for;
	u32 nr_offers;
	u32 timeout_ms;
	u32 applied_gen;
	u64 offer[SKN_MAX_OFFERS];
	u64 applied;
	char status[16];
	char error[SKN_ERR_MAX + 1];
};

enum {
	SKN_K_OFFER_GEN,
	SKN_K_OFFER_FOR,
	SKN_K_NR_OFFERS,
	SKN_K_TIMEOUT,
	SKN_K_APPLIED,
	SKN_K_APPLIED_GEN,
	SKN_K_STATUS,
	SKN_K_ERROR,
	SKN_K_OFFER0,	/* SKN_MAX_OFFERS of them */
	SKN_NR_SLOT_KEYS = SKN_K_OFFER0 + SKN_MAX_OFFERS
};

#define SKN_PUB_KEY(name, type, field, min, max)			\
	SK_XS_KEY(name, type, SK_XS_BACKEND, 0, struct skn_pub, field,	\
		  min, max, 0)

static const struct sk_xs_key skn_slot_keys[SKN_NR_SLOT_KEYS] = {
	[SKN_K_OFFER_GEN] = SKN_PUB_KEY("offer-gen", SK_XS_U32, offer_gen,
					0, U32_MAX),
	[SKN_K_OFFER_FOR] = SKN_PUB_KEY("offer-for", SK_XS_U32, offer_for,
					0, U32_MAX),
	[SKN_K_NR_OFFERS] = SKN_PUB_KEY("nr-offers", SK_XS_U32, nr_offers,
					0, SKN_MAX_OFFERS),
	[SKN_K_TIMEOUT] = SKN_PUB_KEY("offer-timeout-ms", SK_XS_U32,
				      timeout_ms, SKN_TIMEOUT_MIN_MS,
				      SKN_TIMEOUT_MAX_MS),
	[SKN_K_APPLIED] = SKN_PUB_KEY("applied", SK_XS_U64, applied, 0,
				      U64_MAX),
	[SKN_K_APPLIED_GEN] = SKN_PUB_KEY("applied-gen", SK_XS_U32,
					  applied_gen, 0, U32_MAX),
	[SKN_K_STATUS] = SKN_PUB_KEY("status", SK_XS_STR, status, 1, 15),
	[SKN_K_ERROR] = SKN_PUB_KEY("error", SK_XS_STR, error, 1,
				    SKN_ERR_MAX),
	[SKN_K_OFFER0 + 0] = SKN_PUB_KEY("offer-0", SK_XS_U64, offer[0], 0,
					 U64_MAX),
	[SKN_K_OFFER0 + 1] = SKN_PUB_KEY("offer-1", SK_XS_U64, offer[1], 0,
					 U64_MAX),
	[SKN_K_OFFER0 + 2] = SKN_PUB_KEY("offer-2", SK_XS_U64, offer[2], 0,
					 U64_MAX),
	[SKN_K_OFFER0 + 3] = SKN_PUB_KEY("offer-3", SK_XS_U64, offer[3], 0,
					 U64_MAX),
};
static_assert(SKN_MAX_OFFERS == 4);

/**
 * struct skn_dev_keys - the device's dom0 keys, written at probe.
 * @version: version.
 * @max_slots: max-slots.
 * @providers: providers.
 */
struct skn_dev_keys {
	u32 version;
	u32 max_slots;
	char providers[SKN_PROVIDERS_MAX + 1];
};

static const struct sk_xs_key skn_dev_keys[] = {
	SK_XS_KEY("version", SK_XS_U32, SK_XS_BACKEND, 0, struct skn_dev_keys,
		  version, SKN_VERSION, SKN_VERSION, SKN_VERSION),
	SK_XS_KEY("max-slots", SK_XS_U32, SK_XS_BACKEND, 0,
		  struct skn_dev_keys, max_slots, 1, SKN_MAX_SLOTS, 1),
	SK_XS_KEY("providers", SK_XS_STR, SK_XS_BACKEND, 0,
		  struct skn_dev_keys, providers, 1, SKN_PROVIDERS_MAX, 0),
};

/*
 * Every write of dom0's into its directory of the device first reads the
 * directory in the same transaction (skn_xs_node()) and writes nothing if
 * it went (a detach, reap.c): a write after the removal would bring the
 * directory back (XenStore makes the parents of a key it writes), and
 * xenbus would then never see the device go.
 */
struct skn_pub_arg {
	const char *devdir;
	const char *dir;
	struct skn_pub pub;
	u64 mask;
	bool rm_error;
};

/* The device's keys at probe (struct skn_dev_keys), in @dir. */
struct skn_dev_keys_write {
	const char *dir;
	const struct skn_dev_keys *keys;
};

/*
 * The device's keys in one transaction; -ENODEV if its directory went
 * (a detach during the probe): the probe then fails, writing nothing.
 */
static int skn_dev_keys_write_tx(struct xenbus_transaction xbt, void *arg)
{
	const struct skn_dev_keys_write *w = arg;
	int err;

	err = skn_xs_node(xbt, w->dir);
	if (err)
		return err == -ENOENT ? -ENODEV : err;
	return sk_xs_write_keys(xbt, w->dir, SK_XS_BACKEND, skn_dev_keys,
				ARRAY_SIZE(skn_dev_keys), w->keys,
				GENMASK_ULL(ARRAY_SIZE(skn_dev_keys) - 1, 0));
}

/* Slot keys in one transaction, nothing if the device's directory went. */
static int skn_pub_write(struct xenbus_transaction xbt, void *arg)
{
	struct skn_pub_arg *a = arg;
	int err;

	err = skn_xs_node(xbt, a->devdir);
	if (err)
		return err == -ENOENT ? 0 : err;
	err = sk_xs_write_keys(xbt, a->dir, SK_XS_BACKEND, skn_slot_keys,
			       SKN_NR_SLOT_KEYS, &a->pub, a->mask);
	if (!err && a->rm_error)
		err = sk_xs_rm(xbt, a->dir, "error");
	return err;
}

/* Write slot @n's keys from its state, in one transaction. */
static int skn_back_publish(struct skn_back *b, unsigned int n)
{
	const struct skn_slot *s = &b->slot[n];
	struct skn_pub_arg a = { .mask = 0 };
	unsigned int i;
	char *dir;
	int err;

	dir = kasprintf(GFP_KERNEL, "%s/slot-%u", b->xb.dev->nodename, n);
	if (!dir)
		return -ENOMEM;
	a.devdir = b->xb.dev->nodename;
	a.dir = dir;
	a.pub.offer_gen = s->offers.gen;
	a.pub.offer_for = s->offers.for_gen;
	a.pub.nr_offers = s->offers.n;
	a.pub.timeout_ms = READ_ONCE(skn_offer_timeout_ms);
	a.pub.applied = s->applied;
	a.pub.applied_gen = s->applied_gen;
	strscpy(a.pub.status, skn_state_name(s->state), sizeof(a.pub.status));
	a.mask = BIT_ULL(SKN_K_OFFER_GEN) | BIT_ULL(SKN_K_OFFER_FOR) |
		 BIT_ULL(SKN_K_NR_OFFERS) | BIT_ULL(SKN_K_TIMEOUT) |
		 BIT_ULL(SKN_K_APPLIED) | BIT_ULL(SKN_K_APPLIED_GEN) |
		 BIT_ULL(SKN_K_STATUS);
	for (i = 0; i < s->offers.n && i < SKN_MAX_OFFERS; i++) {
		a.pub.offer[i] = s->offers.v[i];
		a.mask |= BIT_ULL(SKN_K_OFFER0 + i);
	}
	if (b->err[n]) {
		skn_format_error(a.pub.error, sizeof(a.pub.error), b->err[n],
				 NULL);
		a.mask |= BIT_ULL(SKN_K_ERROR);
	} else {
		a.rm_error = true;
	}
	err = sk_xs_transact(skn_pub_write, &a);
	kfree(dir);
	return err;
}

/* Write only slot @n's error key; nothing else of the slot changes. */
static void skn_back_write_error(struct skn_back *b, unsigned int n,
				 const struct skn_pub *pub)
{
	struct skn_pub_arg a = {
		.devdir = b->xb.dev->nodename,
		.pub = *pub,
		.mask = BIT_ULL(SKN_K_ERROR),
	};
	char *dir;

	dir = kasprintf(GFP_KERNEL, "%s/slot-%u", b->xb.dev->nodename, n);
	if (!dir)
		return;
	a.dir = dir;
	sk_xs_transact(skn_pub_write, &a);
	kfree(dir);
}

/* A bad message of the guest's: its error key and a rate-limited line. */
static void skn_back_report(struct skn_back *b, unsigned int n, int err,
			    const char *what)
{
	struct skn_pub pub;

	skn_format_error(pub.error, sizeof(pub.error), err, what);
	dev_warn_ratelimited(&b->xb.dev->dev,
			     "malicious or buggy frontend: slot %u: %s\n", n,
			     pub.error);
	skn_back_write_error(b, n, &pub);
}

/* ---- capacity ---- */

/* What slot @n of @b holds: its agreement, or more while applying. */
static u64 skn_back_held(const struct skn_back *b, unsigned int n)
{
	return max(skn_slot_held(&b->slot[n]), b->applying[n]);
}

/*
 * What every agreement of @provider holds, all guests together, with
 * what domains keep of revoked ones (@kept): a domain holds the larger of
 * its agreements and what it keeps (it keeps something only while none
 * is in force; an apply's value counts from its start).
 */
static u64 skn_held(u32 provider)
{
	struct skn_back *b;
	u64 held = 0, dom;
	unsigned int n;

	lockdep_assert_held(&skn_back_lock);
	list_for_each_entry(b, &skn_back_list, node) {
		dom = 0;
		for (n = 0; n < SKN_MAX_SLOTS; n++)
			if (b->slot[n].req.provider == provider)
				dom += skn_back_held(b, n);
		held += max(dom, b->kept[provider]);
	}
	return held;
}

/*
 * What @provider can give slot @s of @b: capacity less the others'
 * agreements (and what other domains keep), no more than dom0's ceiling
 * for one agreement nor than the domain can hold (memory: its
 * static-max).  What @b's own domain keeps is not the others': an
 * agreement it makes replaces it.
 */
static u64 skn_available(struct skn_back *b, const struct skn_slot *s,
			 u32 provider)
{
	u64 cap = skn_provider_capacity(provider);
	u64 others = skn_held(provider);

	others -= min(others, b->kept[provider]);
	if (s->req.provider == provider)
		others -= min(others, skn_slot_held(s));
	/* from XenStore (memory's static-max): once per run of the work */
	if (!(b->dom_max_read & BIT(provider))) {
		b->dom_max[provider] =
			skn_provider_domain_max(provider,
						b->xb.dev->otherend_id);
		b->dom_max_read |= BIT(provider);
	}
	return min(skn_ceiling(cap > others ? cap - others : 0,
			       skn_provider_guest_max(provider)),
		   b->dom_max[provider]);
}

/* ---- events ---- */

/*
 * The guest's device is still served: an apply lets skn_back_lock go, and
 * the guest may have gone (disconnect) or dom0's end be going (remove)
 * by the time it is back.  A guest that went and came back during the
 * apply is not live either until the work has ended its old slots
 * (@gone): nothing of the new connection is read into them.
 */
static bool skn_back_live(const struct skn_back *b)
{
	lockdep_assert_held(&skn_back_lock);
	return b->connected && !b->removing && !b->gone;
}

/*
 * Perform a decision's effect outside the slot: apply or revoke.
 *
 * An apply runs without skn_back_lock: the memory provider waits for the
 * mem_helper (libxl; up to mem_helper_timeout_ms), and every other guest's
 * negotiation, dom0's capacity and the sysfs files go on meanwhile.  The
 * value is held in @b->applying for the time, so no one else is offered
 * it.  Only @b's work applies (a selection, a timeout's fallback), and
 * nothing else changes @b's slots while it runs (disconnect only marks
 * the device gone: the work ends the slots itself, after the apply), so
 * the decision still stands when the lock is back.
 */
static int skn_back_act(struct skn_back *b, unsigned int n,
			const struct skn_decision *d)
{
	const struct skn_slot *s = &b->slot[n];
	u16 domid = b->xb.dev->otherend_id;
	int err;

	if (d->action == SKN_ACT_APPLY) {
		b->applying[n] = d->value;
		mutex_unlock(&skn_back_lock);
		err = skn_provider_apply(s->req.provider, domid,
					 s->req.target, d->value, &b->apply);
		mutex_lock(&skn_back_lock);
		b->applying[n] = 0;
		return err;
	}
	if (d->action == SKN_ACT_REVOKE && s->applied)
		return skn_provider_apply(s->req.provider, domid,
					  s->req.target, 0, &b->apply);
	return 0;
}

/*
 * Applying @value for slot @n failed with @err: dom0's own failure, not
 * the guest's doing.  Said in dmesg and the slot's error key, unless dom0's
 * end is going (its helper killed: skn_back_stop()).
 */
static void skn_back_apply_failed(struct skn_back *b, unsigned int n,
				  u32 event, u64 value, int err)
{
	struct skn_slot *s = &b->slot[n];
	struct skn_pub pub;

	if (b->removing)
		return;
	dev_warn_ratelimited(&b->xb.dev->dev,
			     "slot %u: applying %s %llu failed: %d\n", n,
			     skn_providers[s->req.provider].name, value, err);
	b->err[n] = err;
	/* a fallback that failed: again after another timeout */
	if (event == SKN_EV_TIMEOUT)	/* the clock after it */
		skn_slot_rearm(s, ktime_get_ns(),
			       READ_ONCE(skn_offer_timeout_ms));
	skn_format_error(pub.error, sizeof(pub.error), err, "applying");
	skn_back_write_error(b, n, &pub);
	/* the same selection may be tried again */
	b->sel_seen[n] = 0;
}

static void skn_back_event(struct skn_back *b, unsigned int n, u32 event,
			   struct skn_input *in, u64 now)
{
	struct skn_slot *s = &b->slot[n];
	struct skn_decision d;
	int err;

	lockdep_assert_held(&skn_back_lock);
	skn_back_decide(s, event, in, &d);
	/* the trace of every event (dyndbg), to see why a slot is where it is */
	dev_dbg(&b->xb.dev->dev,
		"slot %u: %s in %s: %s -> %s (offers %u:%u for %u, applied %llu:%u, value %llu, err %d)\n",
		n, skn_event_name(event), skn_state_name(s->state),
		skn_action_name(d.action), skn_state_name(d.next),
		s->offers.gen, s->offers.n, s->offers.for_gen, s->applied,
		s->applied_gen, d.value, d.err);
	if (d.action == SKN_ACT_IGNORE) {
		b->stats.stale++;
		return;
	}
	if (d.action == SKN_ACT_REPORT) {
		b->stats.bad++;
		return;		/* reported by the caller, with the key */
	}
	err = skn_back_act(b, n, &d);
	if (err && d.action != SKN_ACT_REVOKE) {
		/* the agreement in force stays; the guest may select again */
		skn_back_apply_failed(b, n, event, d.value, err);
		return;
	}
	if (err)
		dev_warn(&b->xb.dev->dev,
			 "slot %u: revoking failed (%d); the limit stays until splitkit_back unloads\n",
			 n, err);
	/* what the domain keeps: the agreement it revokes, until a new one */
	if (d.action == SKN_ACT_APPLY && b->kept[s->req.provider]) {
		b->kept[s->req.provider] = 0;
		b->kept_dirty = true;
	} else if (d.action == SKN_ACT_REVOKE && s->applied &&
		   skn_provider_keeps(s->req.provider)) {
		b->kept[s->req.provider] = s->applied;
		b->kept_dirty = true;
	}
	if (d.action == SKN_ACT_APPLY ||
	    (d.action == SKN_ACT_REVOKE && s->applied))
		dev_info(&b->xb.dev->dev, "slot %u: %s %s %llu (offer-gen %u)\n",
			 n, skn_providers[s->req.provider].name,
			 d.action == SKN_ACT_APPLY ? "applied" : "revoked",
			 d.action == SKN_ACT_APPLY ? d.value : s->applied,
			 s->offers.gen);
	skn_back_commit(s, &d, now, READ_ONCE(skn_offer_timeout_ms));
	b->err[n] = d.err;
	b->stats.requests += d.action == SKN_ACT_OFFER;
	b->stats.applied += d.action == SKN_ACT_APPLY;
	b->stats.revoked += d.action == SKN_ACT_REVOKE;
	b->stats.timeouts += event == SKN_EV_TIMEOUT;
	b->stats.refused += d.err == -ENOSPC;
	if (b->removing)
		return;	/* dom0's end goes: the guest's requests stand */
	err = skn_back_publish(b, n);
	if (err)
		dev_warn_ratelimited(&b->xb.dev->dev,
				     "slot %u: writing its keys: %d\n", n, err);
}

/* ---- reading the guest's keys ---- */

/* One of the guest's values: a string of at most @max characters. */
static struct skn_raw skn_read(const char *dir, unsigned int n,
			       const char *key, size_t max, char **buf)
{
	struct skn_raw r = { NULL, 0 };
	char node[32];
	char *v;

	snprintf(node, sizeof(node), "slot-%u/%s", n, key);
	v = sk_xs_read_str(dir, node, max);
	*buf = NULL;
	if (IS_ERR(v)) {
		/* too long is a malformed value, not an absent one */
		if (PTR_ERR(v) == -ERANGE) {
			r.s = "";
			r.len = 1;	/* "" with a length: -EINVAL */
		}
		return r;
	}
	*buf = v;
	r.s = v;
	r.len = strlen(v);
	return r;
}

enum { SKN_R_RES, SKN_R_TARGET, SKN_R_MIN, SKN_R_MAX, SKN_R_GEN, SKN_NR_R };

/* FNV-1a over the raw values (absent ones too): "the same as before?" */
static u32 skn_raw_hash(struct skn_raw *const *f, unsigned int nr)
{
	u32 h = 2166136261u;
	unsigned int i;
	size_t j;

	for (i = 0; i < nr; i++) {
		h = (h ^ (f[i]->s ? 1 : 0)) * 16777619u;
		for (j = 0; f[i]->s && j < f[i]->len; j++)
			h = (h ^ (u8)f[i]->s[j]) * 16777619u;
		h = (h ^ 0xff) * 16777619u;
	}
	return h | 1;	/* never 0, the value of "nothing seen" */
}

static const struct {
	const char *key;
	size_t max;
} skn_req_keys[SKN_NR_R] = {
	[SKN_R_RES] = { "resource", SKN_NAME_MAX },
	[SKN_R_TARGET] = { "target", 10 },
	[SKN_R_MIN] = { "min", 20 },
	[SKN_R_MAX] = { "max", 20 },
	[SKN_R_GEN] = { "request-gen", 10 },
};

static u32 skn_sel_hash(struct skn_raw *gen, struct skn_raw *index)
{
	struct skn_raw *f[2] = { gen, index };

	return skn_raw_hash(f, 2);
}

/*
 * Read slot @n's request between two reads of its request-gen; a guest
 * writing meanwhile makes us read again (at most SKN_READ_TRIES times).
 * Classify it; @absent says no key of the request is there (withdrawn),
 * @hash identifies the values read.
 * Return: SKN_MSG_* or -errno, as skn_classify_request().
 */
static int skn_back_read_request(struct skn_back *b, unsigned int n,
				 struct skn_request *req, const char **what,
				 bool *absent, u32 *hash)
{
	const char *dir = b->xb.dev->otherend;
	struct skn_raw_request raw;
	struct skn_raw *f[SKN_NR_R] = {
		&raw.resource, &raw.target, &raw.min, &raw.max, &raw.gen,
	};
	char *buf[SKN_NR_R], *again;
	struct skn_raw g2;
	int tries, i, r = SKN_MSG_NONE;
	bool torn;

	*absent = false;
	*what = NULL;
	for (tries = 0; tries < SKN_READ_TRIES; tries++) {
		for (i = SKN_NR_R - 1; i >= 0; i--)	/* the gen first */
			*f[i] = skn_read(dir, n, skn_req_keys[i].key,
					 skn_req_keys[i].max, &buf[i]);
		g2 = skn_read(dir, n, "request-gen", 10, &again);
		torn = (g2.s == NULL) != (raw.gen.s == NULL) ||
		       (g2.s && strcmp(g2.s, raw.gen.s));
		*absent = !raw.resource.s && !raw.target.s && !raw.min.s &&
			  !raw.max.s && !raw.gen.s;
		if (!torn) {
			r = skn_classify_request(&b->slot[n], &raw, req, what);
			*hash = skn_raw_hash(f, SKN_NR_R);
		}
		for (i = 0; i < SKN_NR_R; i++)
			kfree(buf[i]);
		kfree(again);
		if (!torn)
			return r;
	}
	return SKN_MSG_NONE;	/* the next watch event reads it again */
}

/*
 * A slot read's token; without one, count it and say (in @next) when
 * the slot, still marked unread, is read.  Charged before any XenStore
 * read: what the guest writes cannot make dom0 read faster than this,
 * however many keys (or garbage) it writes.
 */
static bool skn_back_read_admit(struct skn_back *b, u64 now, u64 *next)
{
	u64 clock = now, wait;

#ifdef SKN_TEST_HOOKS
	/* test builds: time stands still for the bucket while the knob is 0 */
	if (!READ_ONCE(skn_test_read_clock)) {
		if (!b->rd_stopped)
			b->rd_stopped = now;
		clock = b->rd_stopped;
	} else {
		b->rd_stopped = 0;
	}
#endif
	wait = sk_bucket_try(&b->rd, 1, clock);

	if (!wait)
		return true;
	b->stats.reads_deferred++;
	*next = min(*next, now + wait);
	return false;
}

/*
 * One guest message's token from the device's rate limit; without one,
 * count it, leave slot @n to be read again and say (in @next) when.
 */
static bool skn_back_admit(struct skn_back *b, unsigned int n, u64 now,
			   u64 *next)
{
	u64 wait = sk_bucket_try(&b->rl, 1, now);

	if (!wait)
		return true;
	b->stats.rate_limited++;
	set_bit(n, &b->unread);
	*next = min(*next, now + wait);
	return false;
}

/*
 * Read slot @n's request and selection, which the guest wrote, and act on
 * them.  A message the rate limit defers leaves the slot unread: the
 * timer in @next reads it again.
 */
static void skn_back_read_slot(struct skn_back *b, unsigned int n, u64 now,
			       u64 *next)
{
	struct skn_slot *s = &b->slot[n];
	struct skn_input in = { .available = 0 };
	struct skn_request req;
	struct skn_raw rg, ri;
	const char *what;
	char *bg, *bi;
	bool absent;
	u32 sel, hash = 0;
	u64 key;
	int r;

	b->stats.slot_reads++;
	r = skn_back_read_request(b, n, &req, &what, &absent, &hash);
	if (absent && s->state != SKN_IDLE) {
		skn_back_event(b, n, SKN_EV_WITHDRAW, &in, now);
		return;
	}
	if (r == SKN_MSG_NEW && skn_request_conflict(b->slot, SKN_MAX_SLOTS,
						      n, &req, &what))
		r = -EBUSY;
	if (r < 0 && hash == b->bad_seen[n])
		r = SKN_MSG_NONE;	/* reported already */
	if (r != SKN_MSG_NONE) {
		if (!skn_back_admit(b, n, now, next))
			return;
		if (r < 0) {
			b->bad_seen[n] = hash;
			in.err = r;
			skn_back_event(b, n, SKN_EV_BAD, &in, now);
			skn_back_report(b, n, r, what);
			return;
		}
		in.req = &req;
		in.available = skn_available(b, s, req.provider);
		skn_back_event(b, n, SKN_EV_REQUEST, &in, now);
	}

	rg = skn_read(b->xb.dev->otherend, n, "select-gen", 10, &bg);
	ri = skn_read(b->xb.dev->otherend, n, "select", 10, &bi);
	r = skn_classify_select(s, &rg, &ri, &sel, &what);
	if (r == SKN_MSG_NEW || r == SKN_MSG_STALE) {
		u32 g = 0, i = 0;

		/* the same selection read again is not news */
		skn_parse_select(&rg, &ri, &g, &i, &what);
		key = ((u64)g << 3 | i) + 1;
		/* selections pass the guest's rate limit too */
		if (key != b->sel_seen[n] && skn_back_admit(b, n, now, next)) {
			dev_dbg(&b->xb.dev->dev,
				"slot %u: selection %u of offer-gen %u: %s\n",
				n, i, g, r == SKN_MSG_NEW ? "current" : "stale");
			b->sel_seen[n] = key;
			in.select = sel;
			skn_back_event(b, n, r == SKN_MSG_NEW ? SKN_EV_SELECT :
						SKN_EV_STALE, &in, now);
		}
	} else if (r < 0 && skn_sel_hash(&rg, &ri) != b->bad_sel_seen[n]) {
		/* a bad selection not reported yet */
		hash = skn_sel_hash(&rg, &ri);
		if (skn_back_admit(b, n, now, next)) {
			b->bad_sel_seen[n] = hash;
			in.err = r;
			skn_back_event(b, n, SKN_EV_BAD, &in, now);
			skn_back_report(b, n, r, what);
		}
	}
	kfree(bg);
	kfree(bi);
}

/*
 * Handle slot @n: its deadline, dom0's capacity, and what the guest wrote
 * if it wrote to the slot since the last read.
 */
static void skn_back_slot(struct skn_back *b, unsigned int n, u64 now,
			  u64 *next)
{
	struct skn_slot *s = &b->slot[n];
	struct skn_input in = { .available = 0 };

	if (skn_slot_expired(s, now)) {
		in.available = skn_available(b, s, s->req.provider);
		skn_back_event(b, n, SKN_EV_TIMEOUT, &in, now);
		if (!skn_back_live(b))
			return;
	}
	if (s->state != SKN_IDLE) {
		u32 p = s->req.provider;
		u64 avail = skn_available(b, s, p);
		u64 share = skn_ceiling(skn_share(skn_slot_held(s),
						  skn_provider_capacity(p),
						  skn_held(p)),
					skn_provider_guest_max(p));
		/* new offers within the share already stand: settled */
		bool reoffered = s->offers.n && s->offers.v[0] <= share;

		if ((share < skn_slot_held(s) && !reoffered) ||
		    (s->offers.n && s->offers.v[0] > avail)) {
			in.available = skn_squeeze(skn_slot_held(s), avail,
						   share);
			skn_back_event(b, n, SKN_EV_CAPACITY, &in, now);
		}
	}
	if (skn_back_live(b) && test_bit(n, &b->unread) &&
	    skn_back_read_admit(b, now, next) &&
	    test_and_clear_bit(n, &b->unread))
		skn_back_read_slot(b, n, now, next);
	if (s->state == SKN_OFFERED || s->state == SKN_RENEG)
		*next = min(*next, s->deadline_ns);
}

/*
 * The guest's end went: every slot gets GONE (offers expire, agreements
 * are revoked) and forgets what it read, before a new connection's keys
 * are read.  Run by the work, never by the xenwatch thread.
 */
static void skn_back_end_slots(struct skn_back *b)
{
	struct skn_input in = { .available = 0 };
	u64 now = ktime_get_ns();
	unsigned int n;

	lockdep_assert_held(&skn_back_lock);
	b->gone = false;
	for (n = 0; n < SKN_MAX_SLOTS; n++) {
		if (b->slot[n].state != SKN_IDLE)
			skn_back_event(b, n, SKN_EV_GONE, &in, now);
		b->slot[n].last_req = 0;
		b->sel_seen[n] = 0;
		b->bad_seen[n] = 0;
		b->bad_sel_seen[n] = 0;
	}
}

/*
 * What the domain keeps outlives dom0's end of the device: an unbind, a
 * rebind or an unload of splitkit_negotiate ends every agreement and
 * forgets the device, but the memory and vCPUs the revoked agreements
 * gave stay the domain's, and must go on counting against the capacity
 * when the device is bound again.  So each provider that keeps has a key
 * kept-<provider> (e.g. kept-memory, in the provider's unit) in dom0's
 * directory of the device, which no guest can write, with kept-vm, the
 * domain's vm path (/local/domain/<domid>/vm at probe): written as @kept
 * changes, read back at probe only if kept-vm names the same domain (a
 * domain id used again by another domain keeps nothing), removed with the
 * directory (detach, reap.c).
 */
#define SKN_KEPT_VM		"kept-vm"
#define SKN_VM_PATH_MAX		128

struct skn_kept_write {
	const char *dir;
	const char *vm;
	const u64 *kept;
};

static void skn_kept_key(char *key, size_t len, u32 provider)
{
	snprintf(key, len, "kept-%s", skn_providers[provider].name);
}

/* In a transaction: never recreates a directory removed meanwhile. */
static int skn_kept_write_tx(struct xenbus_transaction xbt, void *arg)
{
	const struct skn_kept_write *k = arg;
	bool any = false;
	unsigned int p;
	char key[32];
	int err;

	err = skn_xs_node(xbt, k->dir);
	if (err)
		return err == -ENOENT ? 0 : err;
	for (p = 0; p < SKN_NR_PROVIDERS; p++) {
		if (!skn_provider_keeps(p))
			continue;
		skn_kept_key(key, sizeof(key), p);
		if (k->kept[p])
			err = xenbus_printf(xbt, k->dir, key, "%llu",
					    k->kept[p]);
		else
			err = sk_xs_rm(xbt, k->dir, key);
		if (err)
			return err;
		any |= k->kept[p] != 0;
	}
	/* no owner (no vm path known): a record never read back */
	if (any && *k->vm)
		return xenbus_write(xbt, k->dir, SKN_KEPT_VM, k->vm);
	return sk_xs_rm(xbt, k->dir, SKN_KEPT_VM);
}

/* Write @kept if it changed; a failure is retried on the next run. */
static void skn_back_save_kept(struct skn_back *b)
{
	struct skn_kept_write k = {
		.dir = b->xb.dev->nodename,
		.vm = b->vm,
		.kept = b->kept,
	};
	int err;

	lockdep_assert_held(&skn_back_lock);
	if (!b->kept_dirty)
		return;
	err = sk_xs_transact(skn_kept_write_tx, &k);
	if (err) {
		dev_warn_ratelimited(&b->xb.dev->dev,
				     "recording what the domain keeps failed (%d)\n",
				     err);
		return;
	}
	b->kept_dirty = false;
}

/*
 * At probe: the domain's vm path, and what it kept when dom0's end last
 * went, if kept-vm says it was this domain (a domain with no vm path
 * known gets nothing back, and its record is left as it is).  Each value
 * is bounded by the protocol's maximum and by what the domain can hold
 * now.  A record that is not this domain's, or malformed, is cleared by
 * the next save.  Return: 0, or -errno for a XenStore error other than a
 * missing or overlong key (the probe fails: nothing may be forgotten).
 */
static int skn_back_load_kept(struct skn_back *b)
{
	struct xenbus_device *dev = b->xb.dev;
	char home[32], key[32];
	char *vm, *was;
	unsigned int p;
	bool same;
	int err;

	snprintf(home, sizeof(home), "/local/domain/%u", dev->otherend_id);
	vm = sk_xs_read_str(home, "vm", SKN_VM_PATH_MAX);
	if (IS_ERR(vm) && PTR_ERR(vm) != -ENOENT && PTR_ERR(vm) != -ERANGE)
		return PTR_ERR(vm);
	b->vm = kstrdup(IS_ERR(vm) ? "" : vm, GFP_KERNEL);
	if (!IS_ERR(vm))
		kfree(vm);
	if (!b->vm)
		return -ENOMEM;
	if (!*b->vm)
		return 0;
	was = sk_xs_read_str(dev->nodename, SKN_KEPT_VM, SKN_VM_PATH_MAX);
	if (IS_ERR(was) && PTR_ERR(was) == -ENOENT)
		return 0;	/* nothing kept */
	if (IS_ERR(was) && PTR_ERR(was) != -ERANGE)
		return PTR_ERR(was);
	same = !IS_ERR(was) && !strcmp(was, b->vm);
	if (!IS_ERR(was))
		kfree(was);
	if (!same) {
		dev_info(&dev->dev, "%s names another domain: what it kept is not this one's\n",
			 SKN_KEPT_VM);
		b->kept_dirty = true;	/* the next save clears the keys */
		return 0;
	}
	for (p = 0; p < SKN_NR_PROVIDERS; p++) {
		if (!skn_provider_keeps(p))
			continue;
		skn_kept_key(key, sizeof(key), p);
		err = sk_xs_read_u64(dev->nodename, key,
				     skn_providers[p].max, 0, &b->kept[p]);
		if (err == -EINVAL || err == -ERANGE) {
			dev_warn(&dev->dev, "%s malformed (%d): ignored\n",
				 key, err);
			b->kept[p] = 0;
			b->kept_dirty = true;
			continue;
		}
		if (err)
			return err;
		b->kept[p] = min(b->kept[p],
				 skn_provider_domain_max(p, dev->otherend_id));
		if (b->kept[p])
			dev_info(&dev->dev, "the domain keeps %s %llu (%s)\n",
				 skn_providers[p].name, b->kept[p], key);
	}
	return 0;
}

static void skn_back_work(struct work_struct *w)
{
	struct skn_back *b = container_of(to_delayed_work(w), struct skn_back,
					  work);
	u64 now = 0, next = U64_MAX;
	unsigned int n;

	mutex_lock(&skn_back_lock);
	if (b->gone)
		skn_back_end_slots(b);
	if (!b->connected)
		goto unlock;
	b->dom_max_read = 0;
	/* the clock again for each slot: an apply may have run a helper */
	for (n = 0; n < READ_ONCE(skn_max_slots) && n < SKN_MAX_SLOTS; n++) {
		if (!skn_back_live(b))
			break;
		now = ktime_get_ns();
		skn_back_slot(b, n, now, &next);
	}
	/*
	 * The guest went while an apply ran without the lock: its slots end
	 * now (a reconnection has queued this work again to read its keys).
	 */
	if (b->gone)
		skn_back_end_slots(b);
	/*
	 * The next deadline (offers' timeout, the rate limit).  Never
	 * mod_delayed_work() here: a watch event that came in while this ran
	 * has queued the work to run at once, and moving that run to the
	 * deadline can lose what the guest wrote (a selection read only
	 * after its offers expired).  Documentation/negotiate.rst, "When
	 * each end reads".
	 */
	if (next != U64_MAX && b->connected)
		queue_delayed_work(system_wq, &b->work,
				   nsecs_to_jiffies(next > now ? next - now : 0) + 1);
unlock:
	skn_back_save_kept(b);
	mutex_unlock(&skn_back_lock);
}

/*
 * The slot a watch event is about: n for "<otherend>/slot-<n>" or a key
 * under it, SKN_MAX_SLOTS for the guest's directory itself (removed:
 * every slot), -1 for anything else (a key no slot has, a slot beyond
 * SKN_MAX_SLOTS): nothing to read.
 */
static int skn_back_event_slot(const struct xenbus_watch *w, const char *path)
{
	size_t len = strlen(w->node);
	unsigned int n = 0;
	const char *p;

	if (strncmp(path, w->node, len))
		return -1;
	p = path + len;
	if (!*p)
		return SKN_MAX_SLOTS;
	if (strncmp(p, "/slot-", 6))
		return -1;
	for (p += 6; *p >= '0' && *p <= '9' && n < SKN_MAX_SLOTS; p++)
		n = n * 10 + (*p - '0');
	if (p == path + len + 6 || (*p && *p != '/') || n >= SKN_MAX_SLOTS)
		return -1;
	return n;
}

/* Every slot is to be read (a new connection, the guest's directory). */
static void skn_back_unread_all(struct skn_back *b)
{
	unsigned int n;

	for (n = 0; n < SKN_MAX_SLOTS; n++)
		set_bit(n, &b->unread);
}

/*
 * Called by xenbus for each event before it is queued: note the slot the
 * guest wrote, and queue the event only if none is queued already (one
 * run of the work reads every slot noted).
 */
static bool skn_back_will_handle(struct xenbus_watch *w, const char *path,
				 const char *token)
{
	struct skn_back *b = container_of(w, struct skn_back, watch);
	int n = skn_back_event_slot(w, path);

	if (n < 0 || (n < SKN_MAX_SLOTS && n >= READ_ONCE(skn_max_slots)))
		return false;	/* no slot dom0 reads */
	if (n == SKN_MAX_SLOTS)
		skn_back_unread_all(b);
	else
		set_bit(n, &b->unread);
	/*
	 * The bit before the count: an event dropped here is one whose
	 * queued predecessor's work has not yet cleared the bits it reads.
	 */
	smp_mb__after_atomic();
	return !READ_ONCE(w->nr_pending);
}

static void skn_back_watch_cb(struct xenbus_watch *w, const char *path,
			      const char *token)
{
	struct skn_back *b = container_of(w, struct skn_back, watch);

	mod_delayed_work(system_wq, &b->work, 0);
}

/**
 * skn_back_capacity_changed() - dom0 changed a provider's capacity.
 *
 * Every connected device runs its work; the slots whose agreement or
 * offers no longer fit get a CAPACITY event.
 */
void skn_back_capacity_changed(void)
{
	struct skn_back *b;

	mutex_lock(&skn_back_lock);
	list_for_each_entry(b, &skn_back_list, node)
		if (b->connected)
			mod_delayed_work(system_wq, &b->work, 0);
	mutex_unlock(&skn_back_lock);
}

/* ---- a destroyed domain's device (reap.c removes it) ---- */

/*
 * dom0's directory of the guest's devices ("backend/sk-neg/<domid>", the
 * parent of the device's node); NULL if the node does not name the
 * domain its frontend-id says (never checked), ERR_PTR(-ENOMEM).
 */
static char *skn_back_domain_dir(const struct skn_back *b)
{
	const struct xenbus_device *dev = b->xb.dev;
	const char *slash = strrchr(dev->nodename, '/');
	unsigned int domid;
	char *dir, *id;

	if (!slash)
		return NULL;
	dir = kstrndup(dev->nodename, slash - dev->nodename, GFP_KERNEL);
	if (!dir)
		return ERR_PTR(-ENOMEM);
	id = strrchr(dir, '/');
	if (id && !kstrtouint(id + 1, 10, &domid) &&
	    domid == dev->otherend_id)
		return dir;
	kfree(dir);
	return NULL;
}

static bool skn_back_to_reap(const struct skn_back *b)
{
	return !b->removing && b->reap_check;
}

/**
 * skn_back_reap_list() - the devices whose guest's end went since the
 * last call (skn_back_disconnect() marks them): reap.c checks whether
 * their domains are gone.
 * @out: set to a kmalloc'ed array of the devices' domains and dom0
 *	 directories, or NULL; the caller kfree()s each entry's @dir, then
 *	 the array.
 *
 * Devices being removed are left out; the marks of those listed are
 * cleared.  Process context; takes skn_back_lock.
 *
 * Return: the number of entries in @out, or -ENOMEM (@out NULL, every
 * mark kept for the next call).
 */
int skn_back_reap_list(struct skn_reap_dev **out)
{
	struct skn_reap_dev *r = NULL;
	unsigned int nr = 0, max = 0;
	struct skn_back *b;
	char *dir;
	int err = 0;

	mutex_lock(&skn_back_lock);
	list_for_each_entry(b, &skn_back_list, node)
		max += skn_back_to_reap(b);
	if (max)
		r = kcalloc(max, sizeof(*r), GFP_KERNEL);
	if (max && !r)
		err = -ENOMEM;
	list_for_each_entry(b, &skn_back_list, node) {
		if (err || !skn_back_to_reap(b) || nr == max)
			continue;
		dir = skn_back_domain_dir(b);
		if (IS_ERR(dir)) {
			err = PTR_ERR(dir);
		} else if (dir) {
			r[nr].dir = dir;
			r[nr++].domid = b->xb.dev->otherend_id;
		}
	}
	if (!err)
		list_for_each_entry(b, &skn_back_list, node)
			if (skn_back_to_reap(b))
				b->reap_check = false;
	mutex_unlock(&skn_back_lock);
	if (err) {
		while (nr)
			kfree(r[--nr].dir);
		kfree(r);
		r = NULL;
	}
	*out = r;
	return err ? err : nr;
}

/* ---- the xenbus device ---- */

static int skn_back_connect(struct sk_xb *xb)
{
	struct skn_back *b = xb->priv;
	u32 version;
	int err;

	err = sk_xs_read_u32(xb->dev->otherend, "version", U32_MAX, 0,
			     &version);
	if (!err && version != SKN_VERSION)
		err = -EPROTO;
	if (err) {
		xenbus_dev_fatal(xb->dev, err, "frontend version");
		return err;
	}
	err = xenbus_watch_pathfmt(xb->dev, &b->watch, skn_back_will_handle,
				   skn_back_watch_cb, "%s", xb->dev->otherend);
	if (err)
		return err;
	b->watching = true;
	mutex_lock(&skn_back_lock);
	b->connected = true;
	mutex_unlock(&skn_back_lock);
	/* answer what the guest requested before we were there */
	skn_back_unread_all(b);
	mod_delayed_work(system_wq, &b->work, 0);
	dev_info(&xb->dev->dev, "connected\n");
	return 0;
}

/*
 * The guest's end went (or dom0's goes): the work ends every slot.  On
 * the xenwatch thread this does not wait for the work, which may be
 * running an apply: see the top of this file.
 */
static void skn_back_disconnect(struct sk_xb *xb)
{
	struct skn_back *b = xb->priv;

	if (b->watching) {
		unregister_xenbus_watch(&b->watch);
		kfree(b->watch.node);
		b->watch.node = NULL;
		b->watching = false;
	}
	mutex_lock(&skn_back_lock);
	if (b->connected) {
		b->connected = false;
		b->gone = true;
		mod_delayed_work(system_wq, &b->work, 0);
	}
	/* the guest's end vanishes as its domain is destroyed */
	if (!b->removing) {
		b->reap_check = true;
		skn_reap_queue(false);
	}
	mutex_unlock(&skn_back_lock);
}

static const struct sk_xb_ops skn_back_xb_ops = {
	.connect = skn_back_connect,
	.disconnect = skn_back_disconnect,
};

static ssize_t slots_show(struct device *dev, struct device_attribute *attr,
			  char *buf)
{
	struct skn_back *b = sk_xb_from_dev(dev)->priv;
	const struct skn_slot *s;
	unsigned int n;
	int len = 0;

	mutex_lock(&skn_back_lock);
	for (n = 0; n < SKN_MAX_SLOTS; n++) {
		s = &b->slot[n];
		if (s->state == SKN_IDLE && !s->offers.gen)
			continue;
		len += sysfs_emit_at(buf, len,
				     "%u %s %s %u %llu %llu req %u offers %u:%u applied %llu:%u",
				     n, skn_state_name(s->state),
				     s->state == SKN_IDLE ? "-" :
				     skn_providers[s->req.provider].name,
				     s->req.target, s->req.min, s->req.max,
				     s->req.gen, s->offers.gen, s->offers.n,
				     s->applied, s->applied_gen);
		/* a selection its provider is putting in force now */
		if (b->applying[n])
			len += sysfs_emit_at(buf, len, " applying %llu",
					     b->applying[n]);
		len += sysfs_emit_at(buf, len, "\n");
	}
	mutex_unlock(&skn_back_lock);
	return len;
}
static DEVICE_ATTR_RO(slots);

static ssize_t negotiate_stats_show(struct device *dev,
				    struct device_attribute *attr, char *buf)
{
	struct skn_back *b = sk_xb_from_dev(dev)->priv;
	u64 kept[SKN_NR_PROVIDERS];
	struct skn_back_stats st;
	unsigned int p;
	int len;

	mutex_lock(&skn_back_lock);
	st = b->stats;
	memcpy(kept, b->kept, sizeof(kept));
	mutex_unlock(&skn_back_lock);
	len = sysfs_emit(buf,
			 "requests %llu\napplied %llu\nrevoked %llu\nstale %llu\nbad %llu\nrate_limited %llu\ntimeouts %llu\nrefused %llu\nslot_reads %llu\nreads_deferred %llu\n",
			 st.requests, st.applied, st.revoked, st.stale, st.bad,
			 st.rate_limited, st.timeouts, st.refused,
			 st.slot_reads, st.reads_deferred);
	/* kept_memory, kept_vcpus: what the domain keeps of revoked ones */
	for (p = 0; p < SKN_NR_PROVIDERS; p++)
		if (skn_provider_keeps(p))
			len += sysfs_emit_at(buf, len, "kept_%s %llu\n",
					     skn_providers[p].name, kept[p]);
	return len;
}
static DEVICE_ATTR_RO(negotiate_stats);

static struct attribute *skn_back_attrs[] = {
	&dev_attr_slots.attr,
	&dev_attr_negotiate_stats.attr,
	NULL
};
ATTRIBUTE_GROUPS(skn_back);

/* The device keys, and each slot's generation from before a reload. */
static int skn_back_advertise(struct skn_back *b)
{
	struct xenbus_device *dev = b->xb.dev;
	struct skn_dev_keys k = {
		.version = SKN_VERSION,
		.max_slots = READ_ONCE(skn_max_slots),
	};
	unsigned int n, i;
	u32 gen;
	struct skn_dev_keys_write dk;
	int err, len = 0;
	char node[32];

	for (i = 0; i < SKN_NR_PROVIDERS; i++)
		len += scnprintf(k.providers + len, sizeof(k.providers) - len,
				 "%s%s", i ? " " : "", skn_providers[i].name);
	for (n = 0; n < SKN_MAX_SLOTS; n++) {
		snprintf(node, sizeof(node), "slot-%u/offer-gen", n);
		/*
		 * 0 only for a slot never used: restarting an earlier
		 * module's count would make the guest drop the new offers
		 */
		err = sk_xs_read_u32(dev->nodename, node, U32_MAX, 0, &gen);
		if (err) {
			xenbus_dev_fatal(dev, err, "reading slot %u's offer-gen",
					 n);
			return err;
		}
		skn_slot_init(&b->slot[n], gen);
		/*
		 * A slot an earlier module used: idle now, before the guest
		 * can read its keys (the old module did not publish its end)
		 */
		if (gen) {
			err = skn_back_publish(b, n);
			if (err) {
				xenbus_dev_fatal(dev, err, "resetting slot %u", n);
				return err;
			}
		}
	}
	dk.dir = dev->nodename;
	dk.keys = &k;
	err = sk_xs_transact(skn_dev_keys_write_tx, &dk);
	if (err)
		xenbus_dev_fatal(dev, err, "writing device keys");
	return err;
}

static int skn_back_probe(struct xenbus_device *dev, struct sk_xb **xb)
{
	struct skn_back *b;
	int err;

	b = kzalloc(sizeof(*b), GFP_KERNEL);
	if (!b)
		return -ENOMEM;
	sk_xb_init(&b->xb, dev, false, &skn_back_xb_ops, b);
	INIT_DELAYED_WORK(&b->work, skn_back_work);
	skn_apply_init(&b->apply);
	sk_bucket_init(&b->rl, READ_ONCE(skn_req_rate),
		       READ_ONCE(skn_req_burst), ktime_get_ns());
	sk_bucket_init(&b->rd, SKN_READS_PER_MSG * READ_ONCE(skn_req_rate),
		       SKN_READS_PER_MSG * READ_ONCE(skn_req_burst) +
		       SKN_MAX_SLOTS, ktime_get_ns());
	err = skn_back_advertise(b);
	if (err)
		goto free_dev;
	err = skn_back_load_kept(b);
	if (err)
		goto free_dev;
	mutex_lock(&skn_back_lock);
	list_add(&b->node, &skn_back_list);
	mutex_unlock(&skn_back_lock);
	*xb = &b->xb;
	return 0;

free_dev:
	kfree(b->vm);
	kfree(b);
	return err;
}

/*
 * First step of remove: what the slots do from now on stays unpublished,
 * and a helper an apply runs is killed (the work, which free waits for,
 * returns soon instead of at mem_helper_timeout_ms).
 */
static void skn_back_stop(struct sk_xb *xb)
{
	struct skn_back *b = xb->priv;

	mutex_lock(&skn_back_lock);
	b->removing = true;
	mutex_unlock(&skn_back_lock);
	skn_apply_cancel(&b->apply);
}

/*
 * Last step of remove (or of a failed probe): the work has ended the
 * slots (disconnect queued it; an apply it ran returned at once, its
 * helper killed by skn_back_stop()) and never runs again, since nothing
 * queues it on a device that is not connected.
 */
static void skn_back_free(struct sk_xb *xb)
{
	struct skn_back *b = xb->priv;

	flush_delayed_work(&b->work);
	cancel_delayed_work_sync(&b->work);
	mutex_lock(&skn_back_lock);
	/* a write that failed: the last try (nothing if the directory went) */
	skn_back_save_kept(b);
	list_del(&b->node);
	mutex_unlock(&skn_back_lock);
	kfree(b->vm);
	kfree(b);
}

static const struct xenbus_device_id skn_back_ids[] = {
	{ SKN_DEVTYPE },
	{ "" }
};

static struct sk_xb_driver skn_back_driver = {
	.drv = {
		.ids = skn_back_ids,
	},
	.probe = skn_back_probe,
	.stop = skn_back_stop,
	.free = skn_back_free,
	.groups = skn_back_groups,
};

/**
 * skn_back_register() - register dom0's driver and the check for
 * destroyed domains (reap.c).
 *
 * Context: process (module init); may sleep.
 * Return: 0 or -errno.
 */
int skn_back_register(void)
{
	int err;

	err = sk_xb_driver_register(&skn_back_driver);
	if (err)
		return err;
	skn_reap_start();
	return 0;
}

/**
 * skn_back_unregister() - unregister it: every device is removed, which
 * revokes every agreement.
 *
 * Context: process (module exit); may sleep.
 */
void skn_back_unregister(void)
{
	skn_reap_stop_watch();
	sk_xb_driver_unregister(&skn_back_driver);
	/* after the driver: no device is left to queue it */
	skn_reap_stop();
}
