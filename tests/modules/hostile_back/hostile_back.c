// SPDX-License-Identifier: GPL-2.0
/*
 * splitkit_hostile_back: a test-only "vbd" backend (dom0) that plays a
 * malicious or buggy xen-blkback against a guest's splitkit_front
 * (frontend/), the mirror of tests/modules/hostile/ (a hostile frontend
 * against splitkit_back).  It advertises a disk like a real backend, maps
 * the frontend's rings and binds its event channels itself (not through
 * splitkit_ring, which never lets a user write the indices), and answers
 * the requests the way the test= parameter says:
 *
 *   bad-id       every response names an id no request has
 *   dup-id       honest, until a request reuses the slot (low 32 bits of
 *                the id) of one answered earlier: that one is answered
 *                with the earlier id, a duplicate of an answer already
 *                given (replayed answers keep rsp_prod in step, so only
 *                the id can tell; sending every answer twice would be
 *                rsp_prod beyond the requests, which prod-ahead covers)
 *   wrong-op     every response carries an operation not sent
 *   bad-status   every response has a status blkif does not define
 *   unsolicited  every response answers a request never sent
 *   prod-ahead   rsp_prod jumps past every request published
 *   prod-back    one honest response, then rsp_prod moves backwards
 *   storm        honest (data-less) responses, and an event storm on
 *                every channel, event-driven and polled
 *   grants       honest responses, after trying to map grant references
 *                the frontend never gave
 *   keep-maps    honest responses, after mapping every grant of the
 *                request (its indirect pages, and the data pages they
 *                name; each grant once) and keeping the mappings until it
 *                is unbound, as if it had persistent grants it never
 *                advertised (at most HB_KEEP; it says how many it kept);
 *                it answers in batches of HB_BATCH requests (the rest
 *                after HB_IDLE_ROUNDS idle waits), so that that many are
 *                in flight at once whatever the machine's speed
 *   flap         the backend state switches at random, invalid values too
 *   silent       requests are taken and never answered (when it is
 *                unbound it says how many, and the most segments of one)
 *
 * "Honest" responses say OKAY without moving data: this backend has no
 * disk.  Whatever it does, the guest must neither oops nor hang; what it
 * reports is printed as "splitkit_hostile_back: <dev>: <what>" for the
 * scenario (tests/xen/scenarios/front-hostile) to check.  Never load it
 * next to splitkit_back or xen-blkback: all three bind "vbd".
 *
 * The attacks that break the protocol stay Connected whatever the
 * frontend does (closing after the violation included), so the frontend
 * has to fail what it waits for by itself; that is why this backend runs
 * its own small xenbus state handling instead of splitkit_ring's state
 * helper, which would follow the frontend to Closed.
 *
 * Locking: hb_dev.lock serialises connect / disconnect (xenwatch and
 * remove).  The rings are only touched by the attack thread, which connect
 * starts and disconnect stops before anything is unmapped; the event
 * handler only counts and wakes the thread.
 */
#include <linux/bitmap.h>
#include <linux/delay.h>
#include <linux/kthread.h>
#include <linux/module.h>
#include <linux/random.h>
#include <linux/slab.h>
#include <linux/wait.h>
#include <xen/events.h>
#include <xen/grant_table.h>
#include <xen/interface/io/blkif.h>
#include <xen/page.h>
#include <xen/xen.h>
#include <xen/xenbus.h>


#define HB_MAX_QUEUES	4
#define HB_SECTORS	(64 * 2048)	/* the 64 MiB disk it pretends to have */
/*
 * feature-max-indirect-segments: more than splitkit_back's floor of 256,
 * so that requests held by the silent attack can be larger than the sane
 * backend that replaces it takes (front-hostile's re-split step).
 */
#define HB_SEGS		512
#define HB_STORM	50000		/* storm rounds (an event per queue) */
#define HB_GRANTS	32		/* grant references tried */
#define HB_FLAPS	40		/* state switches */
#define HB_DUP_SLOTS	64		/* dup-id: slots whose last id is kept */
#define HB_KEEP		16384		/* keep-maps: mappings kept at most */
#define HB_KEEP_REFS	(1U << 20)	/* keep-maps: grants deduplicated */
#define HB_BATCH	16		/* keep-maps: requests per answer */
#define HB_IDLE_ROUNDS	50		/* keep-maps: 5 s idle: answer all */

/**
 * struct hb_map - keep-maps: one grant of the frontend we keep mapped.
 * @page: where it is mapped.
 * @handle: the mapping's handle, for the unmap at unbind.
 */
struct hb_map {
	struct page *page;
	grant_handle_t handle;
};

static char *test = "silent";
module_param(test, charp, 0444);
MODULE_PARM_DESC(test,
		 "the attack: bad-id, dup-id, wrong-op, bad-status, unsolicited, prod-ahead, prod-back, storm, grants, keep-maps, flap or silent (default silent)");

/**
 * struct hb_queue - one of the frontend's rings, mapped.
 * @ring: the shared ring (our private producer / consumer indices).
 * @addr: the mapping.
 * @irq: bound event channel, or 0.
 * @events: events received.
 * @answered: requests answered so far.
 * @ids: dup-id: the id last answered for each slot below HB_DUP_SLOTS.
 * @answered_slot: dup-id: which of @ids hold one.
 * @replays: dup-id: answers replayed.
 */
struct hb_queue {
	struct blkif_back_ring ring;
	void *addr;
	int irq;
	atomic_t events;
	unsigned int answered;
	u64 ids[HB_DUP_SLOTS];
	DECLARE_BITMAP(answered_slot, HB_DUP_SLOTS);
	unsigned int replays;
};

/**
 * struct hb_dev - one hostile vbd backend.
 * @dev: the xenbus device.
 * @lock: serialises connect and disconnect.
 * @connected: rings mapped, thread running.
 * @nr: queues mapped.
 * @q: the queues.
 * @thread: the attack, started on connect.
 * @wq: the thread waits here for events.
 * @kick: an event arrived since the thread last looked.
 * @answered: requests answered on all queues (attack thread only).
 * @held_segs: silent: most segments of a request held (attack thread only;
 *	       read once the thread is stopped).
 * @kept: keep-maps: the mappings kept (HB_KEEP; attack thread, then
 *	  hb_unmap() once the thread is stopped).
 * @nr_kept: how many of @kept are used.
 * @kept_idx: keep-maps: per grant reference below HB_KEEP_REFS, its
 *	  index in @kept plus one, 0 if not mapped.
 * @held: keep-maps: requests taken and not answered yet, per queue.
 * @nr_held: how many of @held each queue has.
 */
struct hb_dev {
	struct xenbus_device *dev;
	struct mutex lock;
	bool connected;
	unsigned int nr;
	struct hb_queue q[HB_MAX_QUEUES];
	struct task_struct *thread;
	wait_queue_head_t wq;
	atomic_t kick;
	unsigned int answered;
	unsigned int held_segs;
	struct hb_map *kept;
	unsigned int nr_kept;
	u32 *kept_idx;
	struct blkif_request held[HB_MAX_QUEUES][32];
	unsigned int nr_held[HB_MAX_QUEUES];
};

/* What to do with one request: write zero or more responses. */
typedef void (*hb_answer_fn)(struct hb_dev *d, struct hb_queue *q,
			     const struct blkif_request *req);

static const char *hb_name(struct hb_dev *d)
{
	return dev_name(&d->dev->dev);
}

static irqreturn_t hb_interrupt(int irq, void *arg)
{
	struct hb_dev *d = arg;
	unsigned int i;

	for (i = 0; i < d->nr; i++)
		if (d->q[i].irq == irq)
			atomic_inc(&d->q[i].events);
	atomic_set(&d->kick, 1);
	wake_up(&d->wq);
	xen_irq_lateeoi(irq, 0);
	return IRQ_HANDLED;
}

/* The id of a request, wherever its operation keeps it. */
static u64 hb_req_id(const struct blkif_request *req)
{
	switch (req->operation) {
	case BLKIF_OP_INDIRECT:
		return req->u.indirect.id;
	case BLKIF_OP_DISCARD:
		return req->u.discard.id;
	default:
		return req->u.rw.id;
	}
}

/* Write one response at our private producer index. */
static void hb_put(struct hb_queue *q, u64 id, u8 op, s16 status)
{
	struct blkif_response *rsp;

	rsp = RING_GET_RESPONSE(&q->ring, q->ring.rsp_prod_pvt);
	rsp->id = id;
	rsp->operation = op;
	rsp->status = status;
	q->ring.rsp_prod_pvt++;
}

/* Publish responses (or any index) and notify. */
static void hb_push(struct hb_queue *q, RING_IDX prod)
{
	virt_wmb();	/* entries before the index */
	WRITE_ONCE(q->ring.sring->rsp_prod, prod);
	notify_remote_via_irq(q->irq);
}

static void hb_honest(struct hb_dev *d, struct hb_queue *q,
		      const struct blkif_request *req)
{
	hb_put(q, hb_req_id(req), req->operation, BLKIF_RSP_OKAY);
	hb_push(q, q->ring.rsp_prod_pvt);
}

static void hb_bad_id(struct hb_dev *d, struct hb_queue *q,
		      const struct blkif_request *req)
{
	hb_put(q, hb_req_id(req) + 100000, req->operation, BLKIF_RSP_OKAY);
	hb_push(q, q->ring.rsp_prod_pvt);
}

/*
 * A frontend whose ids are bare slot numbers cannot tell the replay from
 * the answer, and completes the new request before it was served.
 */
static void hb_dup_id(struct hb_dev *d, struct hb_queue *q,
		      const struct blkif_request *req)
{
	u64 id = hb_req_id(req);
	u32 slot = (u32)id;

	if (slot >= HB_DUP_SLOTS) {
		hb_honest(d, q, req);
		return;
	}
	if (!__test_and_set_bit(slot, q->answered_slot)) {
		q->ids[slot] = id;
		hb_honest(d, q, req);
		return;
	}
	if (!q->replays++)
		pr_info("splitkit_hostile_back: %s: dup-id: request %#llx answered as %#llx, slot %u's earlier answer\n",
			hb_name(d), id, q->ids[slot], slot);
	hb_put(q, q->ids[slot], req->operation, BLKIF_RSP_OKAY);
	hb_push(q, q->ring.rsp_prod_pvt);
}

static void hb_wrong_op(struct hb_dev *d, struct hb_queue *q,
			const struct blkif_request *req)
{
	hb_put(q, hb_req_id(req), 0x55, BLKIF_RSP_OKAY);
	hb_push(q, q->ring.rsp_prod_pvt);
}

static void hb_bad_status(struct hb_dev *d, struct hb_queue *q,
			  const struct blkif_request *req)
{
	hb_put(q, hb_req_id(req), req->operation, 77);
	hb_push(q, q->ring.rsp_prod_pvt);
}

/* Answers a neighbouring id: with one request in flight, never sent. */
static void hb_unsolicited(struct hb_dev *d, struct hb_queue *q,
			   const struct blkif_request *req)
{
	hb_put(q, hb_req_id(req) ^ 1, req->operation, BLKIF_RSP_OKAY);
	hb_push(q, q->ring.rsp_prod_pvt);
}

static void hb_prod_ahead(struct hb_dev *d, struct hb_queue *q,
			  const struct blkif_request *req)
{
	hb_put(q, hb_req_id(req), req->operation, BLKIF_RSP_OKAY);
	hb_push(q, q->ring.rsp_prod_pvt + 1000);
}

static void hb_prod_back(struct hb_dev *d, struct hb_queue *q,
			 const struct blkif_request *req)
{
	if (!d->answered) {
		hb_honest(d, q, req);
		return;
	}
	hb_push(q, q->ring.rsp_prod_pvt - 3);
}

/* Map grant @ref of the frontend and keep it; its page, or NULL. */
static void *hb_keep(struct hb_dev *d, grant_ref_t ref, bool readonly)
{
	struct gnttab_map_grant_ref map;
	struct hb_map *m;

	if (!d->kept)
		return NULL;
	if (ref < HB_KEEP_REFS && d->kept_idx[ref])
		return page_address(d->kept[d->kept_idx[ref] - 1].page);
	if (d->nr_kept >= HB_KEEP)
		return NULL;
	m = &d->kept[d->nr_kept];
	if (gnttab_alloc_pages(1, &m->page))
		return NULL;
	gnttab_set_map_op(&map, (unsigned long)pfn_to_kaddr(page_to_pfn(m->page)),
			  GNTMAP_host_map | (readonly ? GNTMAP_readonly : 0),
			  ref, d->dev->otherend_id);
	if (gnttab_map_refs(&map, NULL, &m->page, 1) ||
	    map.status != GNTST_okay) {
		gnttab_free_pages(1, &m->page);
		return NULL;
	}
	m->handle = map.handle;
	d->nr_kept++;
	if (ref < HB_KEEP_REFS)
		d->kept_idx[ref] = d->nr_kept;
	return page_address(m->page);
}

/* keep-maps: answer every request held, on every queue. */
static void hb_keep_answer(struct hb_dev *d)
{
	unsigned int i, j;

	for (i = 0; i < d->nr; i++) {
		for (j = 0; j < d->nr_held[i]; j++)
			hb_honest(d, &d->q[i], &d->held[i][j]);
		d->nr_held[i] = 0;
	}
}

/*
 * keep-maps: map the request's grants and keep them; answer honestly
 * once HB_BATCH requests are held (hb_serve_loop() answers the rest).
 */
static void hb_keep_maps(struct hb_dev *d, struct hb_queue *q,
			 const struct blkif_request *req)
{
	const struct blkif_request_segment *segs;
	unsigned int i, j, n, qi = q - d->q, held = 0;

	if (req->operation != BLKIF_OP_INDIRECT) {
		n = min_t(unsigned int, req->u.rw.nr_segments,
			  BLKIF_MAX_SEGMENTS_PER_REQUEST);
		if (req->operation == BLKIF_OP_READ ||
		    req->operation == BLKIF_OP_WRITE)
			for (i = 0; i < n; i++)
				hb_keep(d, req->u.rw.seg[i].gref, false);
	} else {
		n = min_t(unsigned int, req->u.indirect.nr_segments, HB_SEGS);
		for (i = 0; i * 512 < n &&
		     i < BLKIF_MAX_INDIRECT_PAGES_PER_REQUEST; i++) {
			segs = hb_keep(d, req->u.indirect.indirect_grefs[i],
				       true);
			for (j = 0; segs && j < 512 && i * 512 + j < n; j++)
				hb_keep(d, READ_ONCE(segs[j].gref), false);
		}
	}
	/* a ring holds 32: never more held on one queue */
	if (d->nr_held[qi] >= ARRAY_SIZE(d->held[qi]))
		hb_keep_answer(d);
	d->held[qi][d->nr_held[qi]++] = *req;
	for (i = 0; i < d->nr; i++)
		held += d->nr_held[i];
	if (held >= HB_BATCH)
		hb_keep_answer(d);
}

/* Never answers; remembers the largest request it holds. */
static void hb_silent(struct hb_dev *d, struct hb_queue *q,
		      const struct blkif_request *req)
{
	unsigned int segs = req->operation == BLKIF_OP_INDIRECT ?
			    req->u.indirect.nr_segments :
			    req->u.rw.nr_segments;

	d->held_segs = max(d->held_segs, segs);
}

/* Consume every published request of every queue; false if none. */
static bool hb_serve(struct hb_dev *d, hb_answer_fn fn)
{
	struct blkif_request req;
	bool any = false;
	unsigned int i;
	RING_IDX prod;

	for (i = 0; i < d->nr; i++) {
		struct hb_queue *q = &d->q[i];

		prod = READ_ONCE(q->ring.sring->req_prod);
		virt_rmb();	/* index before entries */
		/* a hostile backend still checks what it indexes with */
		if (prod - q->ring.req_cons > RING_SIZE(&q->ring))
			continue;
		while (q->ring.req_cons != prod) {
			memcpy(&req, RING_GET_REQUEST(&q->ring,
						      q->ring.req_cons),
			       sizeof(req));
			q->ring.req_cons++;
			fn(d, q, &req);
			q->answered++;
			d->answered++;
			any = true;
		}
		/* ask for an event at the next request */
		WRITE_ONCE(q->ring.sring->req_event, q->ring.req_cons + 1);
		virt_mb();
	}
	return any;
}

/* Serve until stopped. */
static void hb_serve_loop(struct hb_dev *d, hb_answer_fn fn)
{
	unsigned int idle = 0;

	while (!kthread_should_stop()) {
		if (hb_serve(d, fn)) {
			idle = 0;
			continue;
		}
		/* keep-maps: the last requests of a run, fewer than a batch */
		if (fn == hb_keep_maps && ++idle >= HB_IDLE_ROUNDS) {
			hb_keep_answer(d);
			idle = 0;
		}
		wait_event_interruptible_timeout(d->wq,
						 atomic_xchg(&d->kick, 0) ||
						 kthread_should_stop(),
						 HZ / 10);
	}
}

/* An event storm on every channel, serving honestly between rounds. */
static void hb_storm(struct hb_dev *d)
{
	unsigned int r, i;

	for (r = 0; r < HB_STORM && !kthread_should_stop(); r++) {
		for (i = 0; i < d->nr; i++)
			notify_remote_via_irq(d->q[i].irq);
		if (r % 64 == 0) {
			hb_serve(d, hb_honest);
			cond_resched();
		}
	}
	pr_info("splitkit_hostile_back: %s: storm done: %u events sent on each of %u channels\n",
		hb_name(d), r, d->nr);
}

/* Try to map grant references the frontend never gave us. */
static void hb_grants(struct hb_dev *d)
{
	domid_t peer = d->dev->otherend_id;
	struct gnttab_map_grant_ref map;
	struct gnttab_unmap_grant_ref unmap;
	unsigned int i, refused = 0;
	struct page *page;

	if (gnttab_alloc_pages(1, &page)) {
		pr_info("splitkit_hostile_back: %s: grants: no page\n",
			hb_name(d));
		return;
	}
	for (i = 0; i < HB_GRANTS; i++) {
		/* far beyond any table, then random ones */
		grant_ref_t ref = i < HB_GRANTS / 2 ? 0x7ffff000 + i :
				  get_random_u32() | 0x10000000;

		gnttab_set_map_op(&map,
				  (unsigned long)pfn_to_kaddr(page_to_pfn(page)),
				  GNTMAP_host_map, ref, peer);
		if (gnttab_map_refs(&map, NULL, &page, 1) ||
		    map.status != GNTST_okay) {
			refused++;
			continue;
		}
		gnttab_set_unmap_op(&unmap,
				    (unsigned long)pfn_to_kaddr(page_to_pfn(page)),
				    GNTMAP_host_map, map.handle);
		gnttab_unmap_refs(&unmap, NULL, &page, 1);
	}
	gnttab_free_pages(1, &page);
	pr_info("splitkit_hostile_back: %s: grants: %u of %u foreign references refused\n",
		hb_name(d), refused, HB_GRANTS);
}

/* Switch our state at random, invalid values too, then say Connected. */
static void hb_flap(struct hb_dev *d)
{
	static const int states[] = {
		XenbusStateInitWait, XenbusStateConnected, XenbusStateClosing,
		XenbusStateInitialised, XenbusStateReconfiguring,
		XenbusStateReconfigured, XenbusStateUnknown, 42,
	};
	unsigned int i;

	for (i = 0; i < HB_FLAPS && !kthread_should_stop(); i++) {
		int s = states[get_random_u32() % ARRAY_SIZE(states)];

		xenbus_printf(XBT_NIL, d->dev->nodename, "state", "%d", s);
		hb_serve(d, hb_honest);
		msleep(20);
	}
	if (!kthread_should_stop()) {
		/* and the xenbus core's idea of it, so unbinding says Closed */
		xenbus_printf(XBT_NIL, d->dev->nodename, "state", "%d",
			      XenbusStateConnected);
		d->dev->state = XenbusStateConnected;
	}
	pr_info("splitkit_hostile_back: %s: flap done: %u state switches\n",
		hb_name(d), i);
}

/*
 * Each attack's response writer, and whether it stays Connected when the
 * frontend closes (the protocol breakers: the frontend must stop by
 * itself, never wait for us).
 */
static const struct {
	const char *name;
	hb_answer_fn fn;
	bool sticky;
} hb_attacks[] = {
	{ "bad-id", hb_bad_id, true },
	{ "dup-id", hb_dup_id, true },
	{ "wrong-op", hb_wrong_op, true },
	{ "bad-status", hb_bad_status, true },
	{ "unsolicited", hb_unsolicited, true },
	{ "prod-ahead", hb_prod_ahead, true },
	{ "prod-back", hb_prod_back, true },
	{ "storm", hb_honest, false },
	{ "grants", hb_honest, false },
	{ "keep-maps", hb_keep_maps, false },
	{ "flap", hb_honest, false },
	{ "silent", hb_silent, true },
};

static int hb_find(const char *name)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(hb_attacks); i++)
		if (!strcmp(name, hb_attacks[i].name))
			return i;
	return -1;
}

static int hb_thread(void *arg)
{
	struct hb_dev *d = arg;
	int a = hb_find(test);

	pr_info("splitkit_hostile_back: %s: attack %s on %u queues\n",
		hb_name(d), test, d->nr);
	if (!strcmp(test, "storm"))
		hb_storm(d);
	else if (!strcmp(test, "grants"))
		hb_grants(d);
	else if (!strcmp(test, "flap"))
		hb_flap(d);
	hb_serve_loop(d, hb_attacks[a].fn);
	return 0;
}

static void hb_unmap(struct hb_dev *d)
{
	struct gnttab_unmap_grant_ref unmap;
	unsigned int i;

	for (i = 0; i < d->nr_kept; i++) {
		struct hb_map *m = &d->kept[i];

		gnttab_set_unmap_op(&unmap,
				    (unsigned long)pfn_to_kaddr(page_to_pfn(m->page)),
				    GNTMAP_host_map, m->handle);
		gnttab_unmap_refs(&unmap, NULL, &m->page, 1);
		gnttab_free_pages(1, &m->page);
	}
	d->nr_kept = 0;
	kvfree(d->kept);
	d->kept = NULL;
	kvfree(d->kept_idx);
	d->kept_idx = NULL;
	memset(d->nr_held, 0, sizeof(d->nr_held));

	for (i = 0; i < d->nr; i++) {
		struct hb_queue *q = &d->q[i];

		if (q->irq > 0)
			unbind_from_irqhandler(q->irq, d);
		if (q->addr)
			xenbus_unmap_ring_vfree(d->dev, q->addr);
		memset(q, 0, sizeof(*q));
	}
	d->nr = 0;
}

static int hb_map_queue(struct hb_dev *d, unsigned int i, const char *dir)
{
	struct xenbus_device *dev = d->dev;
	struct hb_queue *q = &d->q[i];
	unsigned int ref, port;
	int err;

	if (xenbus_scanf(XBT_NIL, dir, "ring-ref", "%u", &ref) != 1 ||
	    xenbus_scanf(XBT_NIL, dir, "event-channel", "%u", &port) != 1)
		return -EINVAL;
	err = xenbus_map_ring_valloc(dev, &ref, 1, &q->addr);
	if (err)
		return err;
	BACK_RING_INIT(&q->ring, (struct blkif_sring *)q->addr, XEN_PAGE_SIZE);
	err = bind_interdomain_evtchn_to_irqhandler_lateeoi(dev, port,
							    hb_interrupt, 0,
							    "sk-hostile-back",
							    d);
	if (err < 0)
		return err;
	q->irq = err;
	return 0;
}

static int hb_connect(struct hb_dev *d)
{
	struct xenbus_device *dev = d->dev;
	unsigned int nr, i;
	char *dir;
	int err;

	nr = xenbus_read_unsigned(dev->otherend, "multi-queue-num-queues", 1);
	if (!nr || nr > HB_MAX_QUEUES ||
	    xenbus_read_unsigned(dev->otherend, "ring-page-order", 0))
		return -EINVAL;
	for (i = 0; i < nr; i++) {
		dir = nr == 1 ? kstrdup(dev->otherend, GFP_KERNEL) :
			kasprintf(GFP_KERNEL, "%s/queue-%u", dev->otherend, i);
		if (!dir) {
			err = -ENOMEM;
			goto unmap;
		}
		d->nr = i + 1;
		err = hb_map_queue(d, i, dir);
		kfree(dir);
		if (err)
			goto unmap;
	}
	err = xenbus_printf(XBT_NIL, dev->nodename, "sectors", "%u",
			    HB_SECTORS);
	if (!err)
		err = xenbus_printf(XBT_NIL, dev->nodename, "info", "%u", 0);
	if (!err)
		err = xenbus_printf(XBT_NIL, dev->nodename, "sector-size",
				    "%u", 512);
	if (err)
		goto unmap;
	if (!strcmp(test, "keep-maps")) {
		d->kept = kvcalloc(HB_KEEP, sizeof(*d->kept), GFP_KERNEL);
		d->kept_idx = kvcalloc(HB_KEEP_REFS, sizeof(*d->kept_idx),
				       GFP_KERNEL);
		if (!d->kept || !d->kept_idx) {
			err = -ENOMEM;
			goto unmap;
		}
	}
	d->thread = kthread_run(hb_thread, d, "sk-hostile-back");
	if (IS_ERR(d->thread)) {
		err = PTR_ERR(d->thread);
		d->thread = NULL;
		goto unmap;
	}
	d->connected = true;
	return 0;

unmap:
	hb_unmap(d);
	return err;
}

static void hb_disconnect(struct hb_dev *d)
{
	if (d->thread) {
		kthread_stop(d->thread);
		d->thread = NULL;
		if (!strcmp(test, "silent"))
			pr_info("splitkit_hostile_back: %s: silent: held %u requests, the largest of %u segments\n",
				hb_name(d), d->answered, d->held_segs);
		if (d->kept)
			pr_info("splitkit_hostile_back: %s: keep-maps: %u grants kept mapped until now\n",
				hb_name(d), d->nr_kept);
	}
	hb_unmap(d);
	d->connected = false;
}

/* xenwatch: follow the frontend, as far as the attack wants. */
static void hb_otherend_changed(struct xenbus_device *dev,
				enum xenbus_state fe)
{
	struct hb_dev *d = dev_get_drvdata(&dev->dev);
	int a = hb_find(test);

	mutex_lock(&d->lock);
	switch (fe) {
	case XenbusStateConnected:
		/*
		 * Connected before we are: the frontend still runs on the
		 * rings of the module loaded before us, which it may be
		 * tearing down (this module was loaded before the guest saw
		 * the last one go).  Mapping them fails: wait for it to
		 * close and start over, as splitkit_back does
		 * (ring/core/state.c).  Seen in check-debug's front-hostile.
		 */
		break;
	case XenbusStateInitialised:
		if (d->connected || dev->state != XenbusStateInitWait)
			break;
		if (hb_connect(d))
			xenbus_dev_fatal(dev, -EINVAL, "hostile backend: connect");
		else
			xenbus_switch_state(dev, XenbusStateConnected);
		break;
	case XenbusStateInitialising:
		if (dev->state == XenbusStateClosed)
			xenbus_switch_state(dev, XenbusStateInitWait);
		break;
	case XenbusStateClosing:
	case XenbusStateClosed:
	default:
		if (!d->connected || (a >= 0 && hb_attacks[a].sticky))
			break;	/* stay Connected, whatever the frontend does */
		hb_disconnect(d);
		xenbus_switch_state(dev, XenbusStateClosed);
		break;
	}
	mutex_unlock(&d->lock);
}

static int hb_probe(struct xenbus_device *dev,
		    const struct xenbus_device_id *id)
{
	static const struct {
		const char *key;
		unsigned int val;
	} adv[] = {
		{ "max-ring-page-order", 0 },
		{ "multi-queue-max-queues", HB_MAX_QUEUES },
		{ "feature-max-indirect-segments", HB_SEGS },
		{ "feature-flush-cache", 1 },
	};
	struct hb_dev *d;
	unsigned int i;
	int err = 0;

	d = kzalloc(sizeof(*d), GFP_KERNEL);
	if (!d)
		return -ENOMEM;
	d->dev = dev;
	mutex_init(&d->lock);
	init_waitqueue_head(&d->wq);
	dev_set_drvdata(&dev->dev, d);
	for (i = 0; i < ARRAY_SIZE(adv) && !err; i++)
		err = xenbus_printf(XBT_NIL, dev->nodename, adv[i].key, "%u",
				    adv[i].val);
	if (!err)
		err = xenbus_switch_state(dev, XenbusStateInitWait);
	if (err) {
		dev_set_drvdata(&dev->dev, NULL);
		kfree(d);
	}
	return err;
}

static void hb_remove(struct xenbus_device *dev)
{
	struct hb_dev *d = dev_get_drvdata(&dev->dev);

	mutex_lock(&d->lock);
	hb_disconnect(d);
	xenbus_switch_state(dev, XenbusStateClosed);
	mutex_unlock(&d->lock);
	dev_set_drvdata(&dev->dev, NULL);
	kfree(d);
}

static const struct xenbus_device_id hb_ids[] = {
	{ "vbd" },
	{ "" }
};

/*
 * Named after the module: without a name the xenbus core names the driver
 * after its first id ("vbd"), and front-hostile unbinds the devices of
 * /sys/bus/xen-backend/drivers/splitkit_hostile_back before rmmod.
 */
static struct xenbus_driver hb_driver = {
	.name = "splitkit_hostile_back",
	.ids = hb_ids,
	.probe = hb_probe,
	.remove = hb_remove,
	.otherend_changed = hb_otherend_changed,
};

static int __init hb_init(void)
{
	if (!xen_domain())
		return -ENODEV;
	if (hb_find(test) < 0) {
		pr_err("splitkit_hostile_back: unknown test=%s\n", test);
		return -EINVAL;
	}
	return xenbus_register_backend(&hb_driver);
}

static void __exit hb_exit(void)
{
	xenbus_unregister_driver(&hb_driver);
}

module_init(hb_init);
module_exit(hb_exit);


MODULE_DESCRIPTION("splitkit test: hostile blkif backend attacking splitkit_front");
MODULE_LICENSE("GPL");
