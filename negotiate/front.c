// SPDX-License-Identifier: GPL-2.0
/*
 * splitkit_negotiate, the guest's end: the frontend driver of the
 * "sk-neg" xenbus device.  Its counterpart is back.c in dom0.
 *
 * The user (or `splitkit negotiate`) writes a request or a selection to
 * the device's sysfs files; the driver writes the slot's keys in one
 * transaction.  A watch on dom0's directory runs a work item that reads
 * each busy slot's offers and agreement, parses them strictly (dom0 is not
 * trusted to stay within our request either: core/parse.c), turns them
 * into events with the generation checks of core/state.c (offers for an
 * older request of ours are stale) and follows the guest's table
 * (skn_front_step()).  The guest applies nothing itself for the block
 * providers: splitkit_back enforces them in dom0; memory is followed by
 * Linux's balloon driver.  For vcpus it brings up the vCPUs dom0 made
 * present (Linux's Xen vCPU hotplug driver makes them present and takes
 * them down, but leaves bringing them up to user space): once per new
 * agreement, in the xenwatch thread like that driver (skn_front_vcpus()).
 *
 * Locking: @lock protects the slots and @connected; it nests inside the
 * state helper's sk_xb.lock and is never held while waiting for the work.
 */
#include <linux/cpu.h>
#include <linux/cpumask.h>
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
 * struct skn_front - the guest's end.
 * @xb: xenbus state helper.
 * @lock: protects @slot, @connected, @max_slots.
 * @slot: the slots.
 * @max_slots: dom0's max-slots.
 * @connected: dom0's end is there.
 * @watching: @watch is registered.
 * @watch: on dom0's directory.
 * @work: reads dom0's answers.
 * @bad: malformed values dom0 wrote.
 * @vcpus_done: per slot, the vcpus agreement whose vCPUs we brought up,
 *	as (applied-gen << 32 | value); 0 for none.  Only the xenwatch
 *	thread touches it (skn_front_vcpus()).
 */
struct skn_front {
	struct sk_xb xb;
	struct mutex lock;
	struct skn_fslot slot[SKN_MAX_SLOTS];
	u32 max_slots;
	bool connected;
	bool watching;
	struct xenbus_watch watch;
	struct delayed_work work;
	u64 bad;
	u64 vcpus_done[SKN_MAX_SLOTS];
};

/* ---- our keys ---- */

/**
 * struct skn_req_keys - the values of a slot's request and selection.
 * @resource: resource.
 * @target: target.
 * @min: min.
 * @max: max.
 * @gen: request-gen.
 * @select_gen: select-gen.
 * @select: select.
 */
struct skn_req_keys {
	char resource[SKN_NAME_MAX + 1];
	u32 target;
	u64 min;
	u64 max;
	u32 gen;
	u32 select_gen;
	u32 select;
};

enum {
	SKN_F_K_RES, SKN_F_K_TARGET, SKN_F_K_MIN, SKN_F_K_MAX, SKN_F_K_GEN,
	SKN_F_K_SELECT_GEN, SKN_F_K_SELECT, SKN_F_NR_KEYS
};

#define SKN_REQ_KEY(name, type, field, min, max)			\
	SK_XS_KEY(name, type, SK_XS_FRONTEND, 0, struct skn_req_keys,	\
		  field, min, max, 0)

/* request-gen last: dom0 reads it first and last (back.c) */
static const struct sk_xs_key skn_req_keys[SKN_F_NR_KEYS] = {
	[SKN_F_K_RES] = SKN_REQ_KEY("resource", SK_XS_STR, resource, 1,
				    SKN_NAME_MAX),
	[SKN_F_K_TARGET] = SKN_REQ_KEY("target", SK_XS_U32, target, 0,
				       SKN_TARGET_MAX),
	[SKN_F_K_MIN] = SKN_REQ_KEY("min", SK_XS_U64, min, 0, U64_MAX),
	[SKN_F_K_MAX] = SKN_REQ_KEY("max", SK_XS_U64, max, 0, U64_MAX),
	[SKN_F_K_GEN] = SKN_REQ_KEY("request-gen", SK_XS_U32, gen, 1,
				    U32_MAX),
	[SKN_F_K_SELECT_GEN] = SKN_REQ_KEY("select-gen", SK_XS_U32,
					   select_gen, 1, U32_MAX),
	[SKN_F_K_SELECT] = SKN_REQ_KEY("select", SK_XS_U32, select, 0,
				       SKN_MAX_OFFERS - 1),
};

struct skn_write_arg {
	char *dir;
	struct skn_req_keys k;
	u64 mask;
};

static int skn_front_write_fn(struct xenbus_transaction xbt, void *arg)
{
	struct skn_write_arg *a = arg;

	return sk_xs_write_keys(xbt, a->dir, SK_XS_FRONTEND, skn_req_keys,
				SKN_F_NR_KEYS, &a->k, a->mask);
}

/* Write slot @n's request (mask: the request keys) or selection. */
static int skn_front_write(struct skn_front *f, unsigned int n, u64 mask)
{
	const struct skn_fslot *s = &f->slot[n];
	struct skn_write_arg a = { .mask = mask };
	int err;

	strscpy(a.k.resource, skn_providers[s->req.provider].name,
		sizeof(a.k.resource));
	a.k.target = s->req.target;
	a.k.min = s->req.min;
	a.k.max = s->req.max;
	a.k.gen = s->req.gen;
	a.k.select_gen = s->select_gen;
	a.k.select = s->select;
	a.dir = kasprintf(GFP_KERNEL, "%s/slot-%u", f->xb.dev->nodename, n);
	if (!a.dir)
		return -ENOMEM;
	err = sk_xs_transact(skn_front_write_fn, &a);
	kfree(a.dir);
	return err;
}

#define SKN_REQUEST_MASK	GENMASK_ULL(SKN_F_K_GEN, SKN_F_K_RES)
#define SKN_SELECT_MASK		(BIT_ULL(SKN_F_K_SELECT_GEN) | \
				 BIT_ULL(SKN_F_K_SELECT))

/* ---- dom0's keys ---- */

static struct skn_raw skn_fread(const char *dir, unsigned int n,
				const char *key, char **buf)
{
	struct skn_raw r = { NULL, 0 };
	char node[32];
	char *v;

	snprintf(node, sizeof(node), "slot-%u/%s", n, key);
	v = sk_xs_read_str(dir, node, 20);
	*buf = NULL;
	if (IS_ERR(v)) {
		if (PTR_ERR(v) == -ERANGE) {
			r.s = "";
			r.len = 1;
		}
		return r;
	}
	*buf = v;
	r.s = v;
	r.len = strlen(v);
	return r;
}

/* Two reads of one key that found the same value (or both no key). */
static bool skn_raw_same(const struct skn_raw *a, const struct skn_raw *b)
{
	if (!a->s || !b->s)
		return !a->s && !b->s;
	return a->len == b->len && !memcmp(a->s, b->s, a->len);
}

/*
 * Read and parse slot @n's offers.  dom0 writes a slot's keys in one
 * transaction, and every write has offer-gen; we read them one by one, so
 * offer-gen is read first and again last: if it moved, dom0 wrote
 * meanwhile and the values may mix two generations (a torn read, -EAGAIN);
 * the watch event of that write runs the work again.  Offers answering
 * another request than our latest are stale (-ESTALE) and not checked
 * against our request's range (an older request's may differ).
 * Return: 0, -ENOENT (none), -EAGAIN, -ESTALE, or -errno for a malformed
 * value (reported).
 */
static int skn_front_read_offers(struct skn_front *f, unsigned int n,
				 struct skn_offers *o)
{
	static const char *const names[SKN_MAX_OFFERS] = {
		"offer-0", "offer-1", "offer-2", "offer-3",
	};
	const struct skn_request *req = &f->slot[n].req;
	const char *dir = f->xb.dev->otherend;
	struct skn_raw_offers raw;
	struct skn_raw again;
	char *buf[4 + SKN_MAX_OFFERS];
	const char *what = NULL;
	unsigned int i;
	u32 for_gen;
	int err;

	raw.gen = skn_fread(dir, n, "offer-gen", &buf[0]);
	raw.for_gen = skn_fread(dir, n, "offer-for", &buf[1]);
	raw.n = skn_fread(dir, n, "nr-offers", &buf[2]);
	for (i = 0; i < SKN_MAX_OFFERS; i++)
		raw.v[i] = skn_fread(dir, n, names[i], &buf[3 + i]);
	again = skn_fread(dir, n, "offer-gen", &buf[3 + SKN_MAX_OFFERS]);
	if (!raw.gen.s)
		err = -ENOENT;
	else if (!skn_raw_same(&raw.gen, &again))
		err = -EAGAIN;
	else if (raw.for_gen.s &&
		 !sk_parse_u32(raw.for_gen.s, raw.for_gen.len, U32_MAX,
			       &for_gen) && for_gen != req->gen)
		err = -ESTALE;
	else
		err = skn_parse_offers(&raw, req, o, &what);
	if (err == -EAGAIN || err == -ESTALE) {
		dev_dbg(&f->xb.dev->dev, "slot %u: offers %s\n", n,
			err == -EAGAIN ? "torn by a write, read again later" :
			"for an older request");
	} else if (err && err != -ENOENT) {
		f->bad++;
		dev_warn_ratelimited(&f->xb.dev->dev,
				     "malicious or buggy backend: slot %u: %s: %d\n",
				     n, what, err);
	}
	for (i = 0; i < ARRAY_SIZE(buf); i++)
		kfree(buf[i]);
	return err;
}

/* ---- the table ---- */

/* What an event brings along. */
struct skn_fdata {
	const struct skn_offers *offers;
	u64 applied;
	u32 applied_gen;
};

static int skn_front_event(struct skn_front *f, unsigned int n, u32 event,
			   const struct skn_fdata *in, u64 now)
{
	struct skn_fslot *s = &f->slot[n];
	struct skn_step st = skn_front_step(s->state, event);
	u64 timeout = (u64)READ_ONCE(skn_offer_timeout_ms) * NSEC_PER_MSEC;
	int err = 0;

	lockdep_assert_held(&f->lock);
	if (event != SKN_FE_GONE || s->state != SKN_F_IDLE)
		dev_dbg(&f->xb.dev->dev,
			"slot %u: %s in %s -> %s (offers %u:%u, selected %u:%u, applied %llu:%u)\n",
			n, skn_fevent_name(event), skn_fstate_name(s->state),
			skn_fstate_name(st.next), in && in->offers ?
			in->offers->gen : s->offers.gen, in && in->offers ?
			in->offers->n : s->offers.n, s->select_gen, s->select,
			in && !in->offers ? in->applied : s->applied,
			in && !in->offers ? in->applied_gen : s->applied_gen);
	switch (st.action) {
	case SKN_FA_SEND_REQUEST:
		err = skn_front_write(f, n, SKN_REQUEST_MASK);
		s->deadline_ns = now + timeout;
		break;
	case SKN_FA_SEND_SELECT:
		err = skn_front_write(f, n, SKN_SELECT_MASK);
		s->deadline_ns = now + timeout;
		break;
	case SKN_FA_RECORD:
		if (in && in->offers) {
			s->offers = *in->offers;
			s->deadline_ns = now + timeout;
		}
		if (in && !in->offers) {
			s->applied = in->applied;
			s->applied_gen = in->applied_gen;
		}
		break;
	case SKN_FA_RESET:
		s->offers.n = 0;	/* the generation stays */
		if (event != SKN_FE_REFUSED && event != SKN_FE_TIMEOUT) {
			s->applied = 0;
			s->applied_gen = 0;
		}
		if (event == SKN_FE_REFUSED && in && in->offers)
			s->offers.gen = in->offers->gen;
		break;
	case SKN_FA_REFUSE:
		return -EINVAL;
	default:
		break;
	}
	if (err)
		return err;
	s->state = st.next;
	if (event == SKN_FE_GONE)
		s->deadline_ns = U64_MAX;	/* until dom0 is back */
	return 0;
}

static void skn_front_slot(struct skn_front *f, unsigned int n, u64 now,
			   u64 *next)
{
	struct skn_fslot *s = &f->slot[n];
	struct skn_fdata in = { NULL, 0, 0 };
	struct skn_offers o;
	char node[32];
	u64 applied;
	u32 gen;
	int ev;

	if (s->state == SKN_F_IDLE && !s->applied_gen)
		return;
	if (!skn_front_read_offers(f, n, &o)) {
		ev = skn_front_offers_event(s, &o);
		if (ev >= 0) {
			in.offers = &o;
			skn_front_event(f, n, ev, &in, now);
		}
	}
	snprintf(node, sizeof(node), "slot-%u/applied", n);
	if (sk_xs_read_u64(f->xb.dev->otherend, node, U64_MAX, 0, &applied))
		applied = 0;
	snprintf(node, sizeof(node), "slot-%u/applied-gen", n);
	if (sk_xs_read_u32(f->xb.dev->otherend, node, U32_MAX, 0, &gen))
		gen = 0;
	ev = skn_front_applied_event(s, applied, gen);
	if (ev >= 0) {
		in.offers = NULL;
		in.applied = applied;
		in.applied_gen = gen;
		skn_front_event(f, n, ev, &in, now);
	}
	if (s->state == SKN_F_REQUESTED || s->state == SKN_F_SELECTED ||
	    s->state == SKN_F_OFFERED) {
		if (now >= s->deadline_ns)
			skn_front_event(f, n, SKN_FE_TIMEOUT, NULL, now);
		else
			*next = min(*next, s->deadline_ns);
	}
}

static void skn_front_work(struct work_struct *w)
{
	struct skn_front *f = container_of(to_delayed_work(w),
					   struct skn_front, work);
	u64 now, next = U64_MAX;
	unsigned int n;

	mutex_lock(&f->lock);
	if (!f->connected)
		goto unlock;
	now = ktime_get_ns();
	for (n = 0; n < f->max_slots; n++)
		skn_front_slot(f, n, now, &next);
	/*
	 * Our next deadline; queue_delayed_work() leaves alone a run that a
	 * watch event queued meanwhile (mod_delayed_work() would move it to
	 * the deadline: dom0's offers seen only when our request times out,
	 * too late to select them; negotiate.rst, "When each end reads").
	 */
	if (next != U64_MAX)
		queue_delayed_work(system_wq, &f->work,
				   nsecs_to_jiffies(next > now ? next - now : 0) + 1);
unlock:
	mutex_unlock(&f->lock);
}

static bool skn_front_will_handle(struct xenbus_watch *w, const char *path,
				  const char *token)
{
	return !READ_ONCE(w->nr_pending);
}

/*
 * vcpus: bring up the vCPUs below a new agreement's count that Xen's vCPU
 * hotplug driver made present (it takes vCPUs down itself, but leaves
 * bringing them up to user space).  In the xenwatch thread, as that
 * driver's own handler: dom0 wrote cpu/<n>/availability before the
 * agreement, so its event has been handled, and no vCPU is taken away
 * (made not present) between our check and add_cpu().  Once per
 * agreement: a vCPU an administrator takes down afterwards stays down.
 * The count is dom0's, checked against our request's maximum; it only
 * brings up vCPUs dom0 made present anyway.
 */
static void skn_front_vcpus(struct skn_front *f)
{
	unsigned int n, cpu;
	char node[32];
	u64 nr, done;
	u32 gen;
	int err;

	for (n = 0; n < SKN_MAX_SLOTS; n++) {
		const struct skn_fslot *s = &f->slot[n];

		/* the request is ours, written under @lock; a snapshot */
		if (READ_ONCE(s->req.provider) != SKN_P_VCPUS)
			continue;
		snprintf(node, sizeof(node), "slot-%u/applied", n);
		if (sk_xs_read_u64(f->xb.dev->otherend, node,
				   READ_ONCE(s->req.max), 0, &nr))
			nr = 0;
		snprintf(node, sizeof(node), "slot-%u/applied-gen", n);
		if (sk_xs_read_u32(f->xb.dev->otherend, node, U32_MAX, 0, &gen))
			gen = 0;
		done = nr && gen ? (u64)gen << 32 | nr : 0;
		if (done == f->vcpus_done[n])
			continue;
		f->vcpus_done[n] = done;
		for_each_present_cpu(cpu) {
			if (cpu >= nr || cpu_online(cpu))
				continue;
			err = add_cpu(cpu);
			if (err < 0)
				dev_warn(&f->xb.dev->dev,
					 "vcpus: bringing up vCPU %u: %d\n",
					 cpu, err);
		}
	}
}

static void skn_front_watch_cb(struct xenbus_watch *w, const char *path,
			       const char *token)
{
	struct skn_front *f = container_of(w, struct skn_front, watch);

	mod_delayed_work(system_wq, &f->work, 0);
	skn_front_vcpus(f);
}

/* ---- the xenbus device ---- */

struct skn_version_key {
	u32 version;
};

static const struct sk_xs_key skn_version_key[] = {
	SK_XS_KEY("version", SK_XS_U32, SK_XS_FRONTEND, 0,
		  struct skn_version_key, version, SKN_VERSION, SKN_VERSION,
		  SKN_VERSION),
};

/*
 * Initialising -> Initialised: our version, and no slot directory but
 * those of our standing requests (a new driver has none: what an earlier
 * one left goes; after dom0's end went and came back, dom0 answers the
 * requests that stand).
 */
static int skn_front_setup(struct sk_xb *xb)
{
	struct skn_version_key k = { .version = SKN_VERSION };
	struct skn_front *f = xb->priv;
	char node[16];
	unsigned int n;
	bool idle;
	int err;

	for (n = 0; n < SKN_MAX_SLOTS; n++) {
		mutex_lock(&f->lock);
		idle = f->slot[n].state == SKN_F_IDLE;
		mutex_unlock(&f->lock);
		if (!idle)
			continue;
		snprintf(node, sizeof(node), "slot-%u", n);
		err = sk_xs_rm(XBT_NIL, xb->dev->nodename, node);
		if (err)
			return err;
	}
	return sk_xs_write_keys(XBT_NIL, xb->dev->nodename, SK_XS_FRONTEND,
				skn_version_key, 1, &k, BIT_ULL(0));
}

static int skn_front_connect(struct sk_xb *xb)
{
	struct skn_front *f = xb->priv;
	const char *dir = xb->dev->otherend;
	u32 version, max_slots;
	unsigned int n;
	u64 now;
	int err;

	err = sk_xs_read_u32(dir, "version", U32_MAX, 0, &version);
	if (!err && version != SKN_VERSION)
		err = -EPROTO;
	if (!err)
		err = sk_xs_read_u32(dir, "max-slots", SKN_MAX_SLOTS, 0,
				     &max_slots);
	if (!err && !max_slots)
		err = -ERANGE;
	if (err) {
		xenbus_dev_fatal(xb->dev, err, "backend version, max-slots");
		return err;
	}
	err = xenbus_watch_pathfmt(xb->dev, &f->watch, skn_front_will_handle,
				   skn_front_watch_cb, "%s", dir);
	if (err)
		return err;
	f->watching = true;
	mutex_lock(&f->lock);
	f->max_slots = max_slots;
	f->connected = true;
	now = ktime_get_ns();
	/* requests standing from before: dom0 answers them again */
	for (n = 0; n < SKN_MAX_SLOTS; n++)
		if (f->slot[n].state != SKN_F_IDLE)
			f->slot[n].deadline_ns = now +
				(u64)READ_ONCE(skn_offer_timeout_ms) *
				NSEC_PER_MSEC;
	mutex_unlock(&f->lock);
	mod_delayed_work(system_wq, &f->work, 0);
	return 0;
}

static void skn_front_disconnect(struct sk_xb *xb)
{
	struct skn_front *f = xb->priv;
	unsigned int n;
	u64 now;

	mutex_lock(&f->lock);
	f->connected = false;
	mutex_unlock(&f->lock);
	if (f->watching) {
		unregister_xenbus_watch(&f->watch);
		kfree(f->watch.node);
		f->watch.node = NULL;
		f->watching = false;
	}
	cancel_delayed_work_sync(&f->work);
	mutex_lock(&f->lock);
	now = ktime_get_ns();
	for (n = 0; n < SKN_MAX_SLOTS; n++)
		skn_front_event(f, n, SKN_FE_GONE, NULL, now);
	mutex_unlock(&f->lock);
}

static const struct sk_xb_ops skn_front_xb_ops = {
	.setup = skn_front_setup,
	.connect = skn_front_connect,
	.disconnect = skn_front_disconnect,
};

/* ---- sysfs: request, select, slots ---- */

/* Split @buf into at most @max words (in place). */
static int skn_words(char *buf, struct skn_raw *w, int max)
{
	char *p = buf, *tok;
	int n = 0;

	while ((tok = strsep(&p, " \t\n"))) {
		if (!*tok)
			continue;
		if (n == max)
			return -EINVAL;
		w[n].s = tok;
		w[n].len = strlen(tok);
		n++;
	}
	return n;
}

/*
 * A sysfs write of exactly @nr words (split in place in @copy into @w)
 * whose first is a slot number.  Return: 0 with *@slot set, or -EINVAL.
 */
static int skn_slot_words(char *copy, struct skn_raw *w, int nr, u32 *slot)
{
	if (skn_words(copy, w, nr) != nr)
		return -EINVAL;
	return sk_parse_u32(w[0].s, w[0].len, SKN_MAX_SLOTS - 1, slot);
}

/* "<slot> <resource> <target> <min> <max>" */
static ssize_t request_store(struct device *dev, struct device_attribute *attr,
			     const char *buf, size_t count)
{
	struct skn_front *f = sk_xb_from_dev(dev)->priv;
	struct skn_raw w[5];
	struct skn_raw_request raw;
	struct skn_request req, old;
	const char *what;
	char gen[12], *copy;
	u32 n;
	int err;

	copy = kstrndup(buf, count, GFP_KERNEL);
	if (!copy)
		return -ENOMEM;
	err = skn_slot_words(copy, w, 5, &n);
	if (err)
		goto free_copy;
	mutex_lock(&f->lock);
	err = -ENOTCONN;
	if (!f->connected || n >= f->max_slots)
		goto unlock;
	snprintf(gen, sizeof(gen), "%u", f->slot[n].req.gen + 1);
	raw.resource = w[1];
	raw.target = w[2];
	raw.min = w[3];
	raw.max = w[4];
	raw.gen.s = gen;
	raw.gen.len = strlen(gen);
	err = skn_parse_request(&raw, &req, &what);
	if (err)
		goto unlock;
	/* the request dom0 saw stays the slot's if this one is not sent */
	old = f->slot[n].req;
	f->slot[n].req = req;
	err = skn_front_event(f, n, SKN_FE_REQUEST, NULL, ktime_get_ns());
	if (err)
		f->slot[n].req = old;
	else
		mod_delayed_work(system_wq, &f->work, 0);
unlock:
	mutex_unlock(&f->lock);
free_copy:
	kfree(copy);
	return err ? err : count;
}
static DEVICE_ATTR_WO(request);

/* "<slot> <index>": an index of the latest offers. */
static ssize_t select_store(struct device *dev, struct device_attribute *attr,
			    const char *buf, size_t count)
{
	struct skn_front *f = sk_xb_from_dev(dev)->priv;
	struct skn_raw w[2];
	struct skn_fslot *s;
	char *copy;
	u32 n, i;
	int err;

	copy = kstrndup(buf, count, GFP_KERNEL);
	if (!copy)
		return -ENOMEM;
	err = skn_slot_words(copy, w, 2, &n);
	if (!err)
		err = sk_parse_u32(w[1].s, w[1].len, SKN_MAX_OFFERS - 1, &i);
	if (err)
		goto free_copy;
	mutex_lock(&f->lock);
	err = -ENOTCONN;
	if (!f->connected || n >= f->max_slots)
		goto unlock;
	s = &f->slot[n];
	err = -ERANGE;
	if (i >= s->offers.n)
		goto unlock;
	s->select_gen = s->offers.gen;
	s->select = i;
	err = skn_front_event(f, n, SKN_FE_SELECT, NULL, ktime_get_ns());
unlock:
	mutex_unlock(&f->lock);
free_copy:
	kfree(copy);
	return err ? err : count;
}
static DEVICE_ATTR_WO(select);

/* One line per slot in use: state, request, offers, agreement. */
static ssize_t slots_show(struct device *dev, struct device_attribute *attr,
			  char *buf)
{
	struct skn_front *f = sk_xb_from_dev(dev)->priv;
	const struct skn_fslot *s;
	unsigned int n, i;
	int len = 0;

	mutex_lock(&f->lock);
	for (n = 0; n < SKN_MAX_SLOTS; n++) {
		s = &f->slot[n];
		if (!s->req.gen)
			continue;
		len += sysfs_emit_at(buf, len,
				     "%u %s %s %u %llu %llu req %u offers %u:",
				     n, skn_fstate_name(s->state),
				     skn_providers[s->req.provider].name,
				     s->req.target, s->req.min, s->req.max,
				     s->req.gen, s->offers.gen);
		for (i = 0; i < s->offers.n; i++)
			len += sysfs_emit_at(buf, len, "%s%llu", i ? "," : "",
					     s->offers.v[i]);
		if (!s->offers.n)
			len += sysfs_emit_at(buf, len, "-");
		len += sysfs_emit_at(buf, len, " applied %llu:%u\n",
				     s->applied, s->applied_gen);
	}
	mutex_unlock(&f->lock);
	return len;
}
static DEVICE_ATTR_RO(slots);

static struct attribute *skn_front_attrs[] = {
	&dev_attr_request.attr,
	&dev_attr_select.attr,
	&dev_attr_slots.attr,
	NULL
};
ATTRIBUTE_GROUPS(skn_front);

static int skn_front_probe(struct xenbus_device *dev, struct sk_xb **xb)
{
	struct skn_front *f;
	unsigned int n;

	f = kzalloc(sizeof(*f), GFP_KERNEL);
	if (!f)
		return -ENOMEM;
	mutex_init(&f->lock);
	INIT_DELAYED_WORK(&f->work, skn_front_work);
	for (n = 0; n < SKN_MAX_SLOTS; n++)
		f->slot[n].deadline_ns = U64_MAX;
	sk_xb_init(&f->xb, dev, true, &skn_front_xb_ops, f);
	*xb = &f->xb;
	return 0;
}

static void skn_front_free(struct sk_xb *xb)
{
	kfree(xb->priv);
}

static const struct xenbus_device_id skn_front_ids[] = {
	{ SKN_DEVTYPE },
	{ "" }
};

static struct sk_xb_driver skn_front_driver = {
	.drv = {
		.ids = skn_front_ids,
		.not_essential = true,
	},
	.frontend = true,
	.probe = skn_front_probe,
	.free = skn_front_free,
	.groups = skn_front_groups,
};

/**
 * skn_front_register() - register the guest's driver.
 *
 * Return: 0 or -errno.
 */
int skn_front_register(void)
{
	return sk_xb_driver_register(&skn_front_driver);
}

/**
 * skn_front_unregister() - unregister it.
 */
void skn_front_unregister(void)
{
	sk_xb_driver_unregister(&skn_front_driver);
}
