// SPDX-License-Identifier: GPL-2.0
/*
 * splitkit_hostile: a test-only "vbd" frontend (domU) that plays a
 * malicious or buggy xen-blkfront against dom0's splitkit_back
 * (backend/).  It connects like a real frontend, through splitkit_ring,
 * then writes blkif requests that break every rule the backend checks -
 * unknown operations, segment counts, first/last sectors, ranges past the
 * disk and across 2^64, grant references it never granted, indirect
 * requests with bad counts and pages, broken barriers (or any barrier
 * where none is offered), writes to a read-only disk - and a flood of
 * them, then one honest read to show the backend still serves; on a
 * read-only disk it ends with the read-only test of ro.c.  Every response
 * is also checked byte by byte: its padding (byte 9, bytes 12-15) must be
 * zero, or the backend handed the guest bytes of its own memory.  With
 * test=barrier it runs the barrier test of barrier.c instead (scenario
 * back-barrier), with test=ro only the read-only test (back-hostile's
 * run against xen-blkback), with test=misaligned the alignment test of
 * align.c (scenario back-harden), with test=fill the fill test of fill.c
 * (scenario back-bound), with test=gaps the gap test of gaps.c (scenario
 * vbd-qcow2-destroy).  Each check is printed to dmesg as
 * "splitkit_hostile: <dev>: ok|not ok <name>"; the scenario's domU.sh
 * turns those into results.  Ring-index attacks are out of reach here:
 * splitkit_ring never lets a user write the indices directly.
 *
 * Locking: see hostile.h.
 */
#include <linux/completion.h>
#include <linux/delay.h>
#include <linux/kthread.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <xen/grant_table.h>
#include <splitkit/blkif.h>
#include <xen/page.h>
#include <xen/xen.h>
#include <xen/xenbus.h>

#include <splitkit/export.h>
#include <splitkit/ring.h>

#include "hostile.h"

#define HOSTILE_FLOOD	1000

static char *test = "attack";
module_param(test, charp, 0444);
MODULE_PARM_DESC(test,
		 "what to send each disk: attack (garbage, the default), barrier (write barriers among writes, checked), ro (writes of every kind to a read-only disk), misaligned (I/O not in whole logical blocks), fill (the ring kept full of the largest reads) or gaps (segments with gaps between them, read back)");

static int hostile_attack(void *arg);

/* The test thread of each value of @test. */
static const struct {
	const char *name;
	int (*fn)(void *arg);
} hostile_tests[] = {
	{ "attack", hostile_attack },
	{ "barrier", hostile_barrier_test },
	{ "ro", hostile_ro_test },
	{ "misaligned", hostile_align_test },
	{ "fill", hostile_fill_test },
	{ "gaps", hostile_gaps_test },
};

static void hostile_msg(struct sk_chan *ch, const void *msg)
{
	struct hostile *h = sk_link_priv(sk_chan_link(ch));
	int n = atomic_read(&h->nlog);

	const u8 *raw = msg;

	/* x86_64 blkif response: id 0-7, operation 8, status 10-11 */
	if (raw[9] || raw[12] || raw[13] || raw[14] || raw[15]) {
		if (atomic_inc_return(&h->rsp_dirty) == 1)
			memcpy(h->dirty, raw, sizeof(h->dirty));
	}
	atomic_inc(&h->rsp_seen);
	memcpy(&h->rsp, msg, sizeof(h->rsp));
	if (h->rsp.status != SK_BLKIF_RSP_OKAY)
		atomic_inc(&h->rsp_errors);
	if (n < HOSTILE_LOG) {
		memcpy(&h->log[n], msg, sizeof(h->log[n]));
		/* whoever sees the new count sees the entry */
		atomic_set_release(&h->nlog, n + 1);
	}
	atomic_inc(&h->got);
	complete(&h->done);
}

static const struct sk_chan_ops hostile_chan_ops = {
	.msg = hostile_msg,
};

/**
 * hostile_result() - print one check's verdict for domU.sh to relay.
 * @h: the disk.
 * @ok: passed.
 * @name: what was checked.
 */
void hostile_result(struct hostile *h, bool ok, const char *name)
{
	pr_info("splitkit_hostile: %s: %s %s\n", dev_name(&h->xb.dev->dev),
		ok ? "ok" : "not ok", name);
}

/**
 * hostile_padding_result() - the verdict on every response's padding.
 * @h: the disk.
 *
 * Bytes 9 and 12-15 of a blkif response are padding: a backend that
 * copies a struct built on its stack into the ring may leak its memory
 * there (the XSA-216 class).  Every response since the connection was
 * checked as it arrived (hostile_msg()).
 */
void hostile_padding_result(struct hostile *h)
{
	int dirty = atomic_read(&h->rsp_dirty);
	char name[96];

	if (dirty)
		pr_info("splitkit_hostile: %s: first response with padding set: %16ph\n",
			dev_name(&h->xb.dev->dev), h->dirty);
	snprintf(name, sizeof(name),
		 "padding of all %d responses zero (bytes 9, 12-15; %d not)",
		 atomic_read(&h->rsp_seen), dirty);
	hostile_result(h, !dirty && atomic_read(&h->rsp_seen) > 0, name);
}

/**
 * hostile_test_end() - a test thread's end: say it is done, then wait.
 * @h: the disk.
 * @what: the test's name in the "done" line the scenario waits for.
 *
 * Prints "splitkit_hostile: <dev>: <what> done" and sleeps until the
 * thread is stopped (disconnect or module removal).
 *
 * Return: 0, for the thread function to return.
 */
int hostile_test_end(struct hostile *h, const char *what)
{
	pr_info("splitkit_hostile: %s: %s done\n", dev_name(&h->xb.dev->dev),
		what);
	while (!kthread_should_stop())
		schedule_timeout_interruptible(HZ);
	return 0;
}

/**
 * hostile_send() - put one raw request in the ring, push, wait 10 s.
 * @h: the disk.
 * @req: the request.
 *
 * Return: its response status, or 1 if none came (or not for its id).
 */
int hostile_send(struct hostile *h, struct sk_blkif_request *req)
{
	struct sk_chan *ch = sk_link_chan(h->link, 0);
	u64 id = req->u.rw.id;

	reinit_completion(&h->done);
	if (sk_chan_put(ch, req))
		return 1;
	sk_chan_push(ch);
	if (!wait_for_completion_timeout(&h->done, 10 * HZ))
		return 1;
	return h->rsp.id == id ? h->rsp.status : 1;
}

/**
 * hostile_rw() - build a direct request, every segment a whole page.
 * @r: the request to fill.
 * @op: operation.
 * @nr: segment count written (all 11 segments are filled in).
 * @sector: first sector.
 * @ref: grant of every segment.
 * @id: request id.
 */
void hostile_rw(struct sk_blkif_request *r, u8 op, u8 nr, u64 sector,
		grant_ref_t ref, u64 id)
{
	unsigned int i;

	memset(r, 0, sizeof(*r));
	r->operation = op;
	r->u.rw.nr_segments = nr;
	r->u.rw.id = id;
	r->u.rw.sector_number = sector;
	for (i = 0; i < SK_BLKIF_MAX_DIRECT_SEGS; i++) {
		r->u.rw.seg[i].gref = ref;
		r->u.rw.seg[i].first_sect = 0;
		r->u.rw.seg[i].last_sect = 7;
	}
}

/**
 * hostile_indirect_page() - an indirect page of @nr whole-page segments.
 * @h: the disk; every segment is @h->page, through @h->ref.
 * @nr: segments, at most a page's worth.
 * @ref: set to the page's grant (read-only for the backend).
 *
 * Process context.  A page or grant that cannot be had is a failed
 * result, never a silent skip.  End with hostile_indirect_free().
 *
 * Return: the page, or NULL.
 */
struct page *hostile_indirect_page(struct hostile *h, unsigned int nr,
				   grant_ref_t *ref)
{
	struct sk_blkif_segment *seg;
	struct page *ind;
	unsigned int i;
	int err;

	ind = alloc_page(GFP_KERNEL | __GFP_ZERO);
	if (!ind) {
		hostile_result(h, false, "page for the indirect request");
		return NULL;
	}
	seg = page_address(ind);
	for (i = 0; i < nr; i++) {
		seg[i].gref = h->ref;
		seg[i].first_sect = 0;
		seg[i].last_sect = 7;
	}
	err = gnttab_grant_foreign_access(h->xb.dev->otherend_id,
					  xen_page_to_gfn(ind), 1);
	if (err < 0) {
		__free_page(ind);
		hostile_result(h, false, "grant of the indirect page");
		return NULL;
	}
	*ref = err;
	return ind;
}

/**
 * hostile_indirect_free() - end what hostile_indirect_page() gave.
 * @ind: the page.
 * @ref: its grant.
 *
 * The page is freed once the backend cannot touch it any more.
 */
void hostile_indirect_free(struct page *ind, grant_ref_t ref)
{
	gnttab_end_foreign_access(ref, ind);
}

/**
 * hostile_indirect_write() - send an indirect WRITE and judge its answer.
 * @h: the disk.
 * @nr: segments (pages), each a whole @h->page; at most one indirect page.
 * @sector: first sector.
 * @id: request id.
 * @judge: sends the request and records the result (e.g. "refused").
 * @what: the result's name.
 *
 * Process context (allocates and grants the indirect page).
 */
void hostile_indirect_write(struct hostile *h, unsigned int nr, u64 sector,
			    u64 id, hostile_judge_fn judge, const char *what)
{
	struct sk_blkif_request r;
	grant_ref_t ref;
	struct page *ind;

	ind = hostile_indirect_page(h, nr, &ref);
	if (!ind)
		return;
	memset(&r, 0, sizeof(r));
	r.operation = SK_BLKIF_OP_INDIRECT;
	r.u.indirect.indirect_op = SK_BLKIF_OP_WRITE;
	r.u.indirect.nr_segments = nr;
	r.u.indirect.id = id;
	r.u.indirect.sector_number = sector;
	r.u.indirect.indirect_grefs[0] = ref;
	judge(h, &r, true, what);
	hostile_indirect_free(ind, ref);
}

static void hostile_expect(struct hostile *h, struct sk_blkif_request *r,
			   int want, const char *name)
{
	hostile_result(h, hostile_send(h, r) == want, name);
}

static int hostile_attack(void *arg)
{
	struct hostile *h = arg;
	struct sk_blkif_request r;
	grant_ref_t bad = 0x7ffffff0;	/* never granted */
	unsigned int i, sent;
	u64 id = 1;
	int st;

	hostile_rw(&r, 0xee, 1, 0, h->ref, id++);
	hostile_expect(h, &r, SK_BLKIF_RSP_ERROR, "unknown operation refused");
	hostile_rw(&r, SK_BLKIF_OP_READ, 0, 0, h->ref, id++);
	hostile_expect(h, &r, SK_BLKIF_RSP_ERROR, "read with 0 segments refused");
	hostile_rw(&r, SK_BLKIF_OP_READ, 200, 0, h->ref, id++);
	hostile_expect(h, &r, SK_BLKIF_RSP_ERROR, "read with 200 segments refused");
	hostile_rw(&r, SK_BLKIF_OP_READ, 1, 0, h->ref, id++);
	r.u.rw.seg[0].first_sect = 6;
	r.u.rw.seg[0].last_sect = 2;
	hostile_expect(h, &r, SK_BLKIF_RSP_ERROR, "first_sect > last_sect refused");
	hostile_rw(&r, SK_BLKIF_OP_READ, 1, 0, h->ref, id++);
	r.u.rw.seg[0].last_sect = 200;
	hostile_expect(h, &r, SK_BLKIF_RSP_ERROR, "last_sect past the page refused");
	hostile_rw(&r, SK_BLKIF_OP_READ, 1, h->sectors - 4, h->ref, id++);
	hostile_expect(h, &r, SK_BLKIF_RSP_ERROR, "read across the disk end refused");
	hostile_rw(&r, SK_BLKIF_OP_READ, 2, ~0ull - 8, h->ref, id++);
	hostile_expect(h, &r, SK_BLKIF_RSP_ERROR, "sector range wrapping 2^64 refused");
	hostile_rw(&r, SK_BLKIF_OP_READ, 1, 0, bad, id++);
	hostile_expect(h, &r, SK_BLKIF_RSP_ERROR, "read into a foreign grant fails");
	hostile_rw(&r, SK_BLKIF_OP_WRITE, 3, 0, bad, id++);
	hostile_expect(h, &r, SK_BLKIF_RSP_ERROR, "write from a foreign grant fails");
	if (h->barrier) {
		/* offered: refused only when broken; never touches the data */
		hostile_rw(&r, SK_BLKIF_OP_WRITE_BARRIER, 1, 0, bad, id++);
		hostile_expect(h, &r, SK_BLKIF_RSP_ERROR,
			       "barrier from a foreign grant fails");
		hostile_rw(&r, SK_BLKIF_OP_WRITE_BARRIER, 12, 0, h->ref, id++);
		hostile_expect(h, &r, SK_BLKIF_RSP_ERROR,
			       "barrier with 12 segments refused");
		hostile_rw(&r, SK_BLKIF_OP_WRITE_BARRIER, 1, h->sectors - 4,
			   h->ref, id++);
		hostile_expect(h, &r, SK_BLKIF_RSP_ERROR,
			       "barrier across the disk end refused");
	} else {
		hostile_rw(&r, SK_BLKIF_OP_WRITE_BARRIER, 1, 0, h->ref, id++);
		st = hostile_send(h, &r);
		hostile_result(h, st == SK_BLKIF_RSP_EOPNOTSUPP ||
			       st == SK_BLKIF_RSP_ERROR,
			       "unadvertised barrier refused");
	}

	memset(&r, 0, sizeof(r));
	r.operation = SK_BLKIF_OP_INDIRECT;
	r.u.indirect.indirect_op = SK_BLKIF_OP_READ;
	r.u.indirect.nr_segments = 5000;
	r.u.indirect.id = id++;
	hostile_expect(h, &r, SK_BLKIF_RSP_ERROR, "indirect with 5000 segments refused");
	r.u.indirect.nr_segments = 16;
	r.u.indirect.indirect_grefs[0] = bad;
	r.u.indirect.id = id++;
	hostile_expect(h, &r, SK_BLKIF_RSP_ERROR, "indirect page not granted refused");
	r.u.indirect.indirect_op = SK_BLKIF_OP_DISCARD;
	r.u.indirect.id = id++;
	hostile_expect(h, &r, SK_BLKIF_RSP_ERROR, "indirect discard refused");
	/* an indirect page we did grant, full of garbage segments */
	r.u.indirect.indirect_op = SK_BLKIF_OP_READ;
	r.u.indirect.indirect_grefs[0] = h->ref;
	memset(page_address(h->page), 0xff, PAGE_SIZE);
	r.u.indirect.id = id++;
	hostile_expect(h, &r, SK_BLKIF_RSP_ERROR,
		       "indirect page of garbage segments refused");

	memset(&r, 0, sizeof(r));
	r.operation = SK_BLKIF_OP_DISCARD;
	r.u.discard.id = id++;
	r.u.discard.sector_number = 8;
	r.u.discard.nr_sectors = ~0ull;
	st = hostile_send(h, &r);
	hostile_result(h, st == SK_BLKIF_RSP_ERROR || st == SK_BLKIF_RSP_EOPNOTSUPP,
		       "discard past the disk end refused");

	if (h->ro)
		hostile_ro_checks(h);

	/* a flood of garbage, a ring's worth at a time */
	atomic_set(&h->got, 0);
	for (sent = 0; sent < HOSTILE_FLOOD && !kthread_should_stop(); ) {
		struct sk_chan *ch = sk_link_chan(h->link, 0);

		for (i = 0; sent < HOSTILE_FLOOD; i++, sent++) {
			hostile_rw(&r, (sent % 7) ? SK_BLKIF_OP_READ : 0x99,
				   (sent % 5) ? 1 : 77, ~0ull - sent, bad,
				   id++);
			if (sk_chan_put(ch, &r))
				break;
		}
		sk_chan_push(ch);
		for (i = 0; i < 500 && atomic_read(&h->got) < sent; i++)
			msleep(20);
	}
	hostile_result(h, atomic_read(&h->got) == HOSTILE_FLOOD,
		       "flood of 1000 garbage requests all answered");

	/* the backend still serves an honest request */
	hostile_rw(&r, SK_BLKIF_OP_READ, 1, 0, h->ref, id++);
	hostile_expect(h, &r, SK_BLKIF_RSP_OKAY, "honest read still served");
	hostile_padding_result(h);
	return hostile_test_end(h, "attack");
}

static int hostile_setup(struct sk_xb *xb)
{
	struct hostile *h = xb->priv;
	struct sk_chan_params p = {
		.name = "hostile",
		SK_CHAN_SIZES(struct sk_blkif_request,
			      struct sk_blkif_response),
		.max_order = 0,
		.max_queues = 1,
		.ops = &hostile_chan_ops,
		.priv = h,
	};
	struct sk_link *l;

	l = sk_link_front_setup(xb->dev, &p);
	if (IS_ERR(l))
		return PTR_ERR(l);
	h->link = l;
	return 0;
}

static int hostile_connect(struct sk_xb *xb)
{
	struct hostile *h = xb->priv;
	int (*fn)(void *arg);
	unsigned int info = 0, i;
	int barrier;
	int err;

	err = xenbus_scanf(XBT_NIL, xb->dev->otherend, "sectors", "%llu",
			   &h->sectors);
	if (err != 1)
		return -EINVAL;
	if (xenbus_scanf(XBT_NIL, xb->dev->otherend, "info", "%u", &info) != 1)
		info = 0;
	h->ro = info & VDISK_READONLY;
	if (xenbus_scanf(XBT_NIL, xb->dev->otherend, "feature-barrier", "%d",
			 &barrier) != 1)
		barrier = 0;
	h->barrier = barrier;
	h->flush = xenbus_read_unsigned(xb->dev->otherend,
					"feature-flush-cache", 0);
	h->discard = xenbus_read_unsigned(xb->dev->otherend,
					  "feature-discard", 0);
	h->max_indirect = xenbus_read_unsigned(xb->dev->otherend,
					       "feature-max-indirect-segments",
					       0);
	h->sector_size = xenbus_read_unsigned(xb->dev->otherend,
					      "sector-size", 512);
	fn = NULL;
	for (i = 0; i < ARRAY_SIZE(hostile_tests); i++)
		if (!strcmp(test, hostile_tests[i].name))
			fn = hostile_tests[i].fn;
	if (!fn) {
		pr_err("splitkit_hostile: unknown test=%s\n", test);
		return -EINVAL;
	}
	h->thread = kthread_run(fn, h, "sk-hostile");
	if (IS_ERR(h->thread)) {
		err = PTR_ERR(h->thread);
		h->thread = NULL;
		return err;
	}
	return 0;
}

static void hostile_disconnect(struct sk_xb *xb)
{
	struct hostile *h = xb->priv;

	if (h->thread) {
		kthread_stop(h->thread);
		h->thread = NULL;
	}
	if (h->link) {
		sk_link_destroy(h->link);
		h->link = NULL;
	}
}

static const struct sk_xb_ops hostile_xb_ops = {
	.setup = hostile_setup,
	.connect = hostile_connect,
	.disconnect = hostile_disconnect,
};

static int hostile_probe(struct xenbus_device *dev, struct sk_xb **xb)
{
	struct hostile *h;
	int err;

	h = kzalloc(sizeof(*h), GFP_KERNEL);
	if (!h)
		return -ENOMEM;
	init_completion(&h->done);
	h->page = alloc_page(GFP_KERNEL | __GFP_ZERO);
	if (!h->page) {
		err = -ENOMEM;
		goto free_h;
	}
	err = gnttab_grant_foreign_access(dev->otherend_id,
					  xen_page_to_gfn(h->page), 0);
	if (err < 0)
		goto free_page;
	h->ref = err;
	sk_xb_init(&h->xb, dev, true, &hostile_xb_ops, h);
	*xb = &h->xb;
	return 0;

free_page:
	__free_page(h->page);
free_h:
	kfree(h);
	return err;
}

static void hostile_free(struct sk_xb *xb)
{
	struct hostile *h = xb->priv;

	gnttab_end_foreign_access(h->ref, h->page);	/* frees the page */
	kfree(h);
}

static const struct xenbus_device_id hostile_ids[] = {
	{ "vbd" },
	{ "" }
};

static struct sk_xb_driver hostile_driver = {
	.drv = {
		.ids = hostile_ids,
	},
	.frontend = true,
	.probe = hostile_probe,
	.free = hostile_free,
};

module_sk_xb_driver(hostile_driver);

MODULE_DESCRIPTION("splitkit test: hostile blkif frontend feeding splitkit_back garbage");
MODULE_LICENSE("GPL");
SPLITKIT_IMPORT_NS();
