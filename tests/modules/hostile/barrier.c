// SPDX-License-Identifier: GPL-2.0
/*
 * splitkit_hostile barrier test (module parameter test=barrier, scenario
 * back-barrier): does splitkit_back's SK_BLKIF_OP_WRITE_BARRIER order a ring?
 * On a writable disk it puts the eleven requests of hb_plan[] into the
 * ring and publishes them with a single push, so that the backend takes
 * them in one go, with writes still in flight when each barrier arrives:
 *
 *   group 1: four writes | 2: a barrier with data | 3: four writes |
 *   4: a barrier without data | 5: one write
 *
 * The writes of a group never overlap one another, and every group
 * overlaps the one before it, so what ends up on the disk depends on the
 * order in which the groups reached it.  Checked: every answer is OKAY;
 * the answers arrive in group order (a barrier is answered only after
 * everything before it, and nothing after it starts before that); reading
 * the region back gives, block by block, the group that wrote it last.
 * dom0 checks the same blocks in the backing file (back-barrier/dom0.sh
 * spells out the same plan).  On a read-only disk an empty barrier must be
 * answered OKAY and one with data refused.
 *
 * A 4 KiB block written by group G at disk block B holds 256 lines
 * "blk BBBBB gen G\n", so a stale or misplaced block is told apart and
 * dom0 can check it with dd and sort -u.
 */
#include <linux/delay.h>
#include <linux/kthread.h>
#include <linux/mm.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <xen/page.h>
#include <xen/xenbus.h>

#include "hostile.h"

#define HB_SEGS		SK_BLKIF_MAX_DIRECT_SEGS
#define HB_BASE		16	/* first 4 KiB block of the test region */
#define HB_BLOCKS	66	/* its size in blocks */
#define HB_LINE		16	/* bytes of one pattern line */
#define HB_SECTORS	(XEN_PAGE_SIZE >> 9)	/* sectors per block */
#define HB_ID		1000	/* id of hb_plan[i] is HB_ID + i */

/**
 * struct hb_step - one request of the plan.
 * @op: SK_BLKIF_OP_WRITE or SK_BLKIF_OP_WRITE_BARRIER.
 * @group: answers must come in nondecreasing group order; also the
 *	generation written into the data.
 * @nr: blocks (one segment each), 0 for an empty barrier.
 * @blk: first block, relative to HB_BASE.
 */
struct hb_step {
	u8 op;
	u8 group;
	u8 nr;
	u8 blk;
};

static const struct hb_step hb_plan[] = {
	{ SK_BLKIF_OP_WRITE, 1, HB_SEGS, 0 },
	{ SK_BLKIF_OP_WRITE, 1, HB_SEGS, 11 },
	{ SK_BLKIF_OP_WRITE, 1, HB_SEGS, 22 },
	{ SK_BLKIF_OP_WRITE, 1, HB_SEGS, 33 },
	/* over the end of the first write and the start of the second */
	{ SK_BLKIF_OP_WRITE_BARRIER, 2, HB_SEGS, 5 },
	/* over the barrier's end; over the last group-1 write; fresh */
	{ SK_BLKIF_OP_WRITE, 3, HB_SEGS, 10 },
	{ SK_BLKIF_OP_WRITE, 3, HB_SEGS, 33 },
	{ SK_BLKIF_OP_WRITE, 3, HB_SEGS, 44 },
	{ SK_BLKIF_OP_WRITE, 3, HB_SEGS, 55 },
	{ SK_BLKIF_OP_WRITE_BARRIER, 4, 0, 0 },
	/* over the tail of the first group-3 write */
	{ SK_BLKIF_OP_WRITE, 5, HB_SEGS, 18 },
};

/* Pages for every block of the plan, one grant each. */
#define HB_PAGES	(10 * HB_SEGS)

/**
 * struct hb_pool - granted pages of the test.
 * @page: the pages.
 * @ref: their grants (read-write: reads land in them too).
 * @n: pages allocated and granted.
 */
struct hb_pool {
	struct page *page[HB_PAGES];
	grant_ref_t ref[HB_PAGES];
	unsigned int n;
};

static void hb_pool_free(struct hb_pool *p)
{
	while (p->n) {
		p->n--;
		/* frees the page once the backend cannot touch it */
		gnttab_end_foreign_access(p->ref[p->n], p->page[p->n]);
	}
	kfree(p);
}

static struct hb_pool *hb_pool_alloc(struct hostile *h)
{
	struct hb_pool *p;
	int ref;

	p = kzalloc(sizeof(*p), GFP_KERNEL);
	if (!p)
		return NULL;
	while (p->n < HB_PAGES) {
		p->page[p->n] = alloc_page(GFP_KERNEL | __GFP_ZERO);
		if (!p->page[p->n])
			goto free_pool;
		ref = gnttab_grant_foreign_access(h->xb.dev->otherend_id,
						  xen_page_to_gfn(p->page[p->n]),
						  0);
		if (ref < 0) {
			__free_page(p->page[p->n]);
			goto free_pool;
		}
		p->ref[p->n++] = ref;
	}
	return p;

free_pool:
	hb_pool_free(p);
	return NULL;
}

/* The pattern line of disk block @blk written by group @gen. */
static void hb_line(char *buf, size_t size, unsigned int blk,
		    unsigned int gen)
{
	snprintf(buf, size, "blk %05u gen %u\n", blk % 100000, gen % 10);
}

static void hb_fill(struct page *page, unsigned int blk, unsigned int gen)
{
	u8 *p = page_address(page);
	char line[32];
	unsigned int off;

	hb_line(line, sizeof(line), blk, gen);
	for (off = 0; off < XEN_PAGE_SIZE; off += HB_LINE)
		memcpy(p + off, line, HB_LINE);
}

/* The group that writes relative block @blk last, 0 if none. */
static unsigned int hb_expected(unsigned int blk)
{
	unsigned int i, gen = 0;

	for (i = 0; i < ARRAY_SIZE(hb_plan); i++)
		if (blk >= hb_plan[i].blk &&
		    blk < hb_plan[i].blk + hb_plan[i].nr)
			gen = hb_plan[i].group;
	return gen;
}

/* Does @page hold relative block @blk as group @gen wrote it? */
static bool hb_check_block(struct hostile *h, struct page *page,
			   unsigned int blk, unsigned int gen)
{
	const u8 *p = page_address(page);
	char want[32];
	unsigned int off;

	hb_line(want, sizeof(want), HB_BASE + blk, gen);
	for (off = 0; off < XEN_PAGE_SIZE; off += HB_LINE) {
		if (memcmp(p + off, want, HB_LINE))
			goto mismatch;
	}
	return true;

mismatch:
	pr_info("splitkit_hostile: %s: block %u at byte %u: '%*pE', want '%.15s'\n",
		dev_name(&h->xb.dev->dev), HB_BASE + blk, off, HB_LINE - 1,
		p + off, want);
	return false;
}

/* Fill the pages and put every request of the plan; one push. */
static bool hb_send_plan(struct hostile *h, struct hb_pool *pool)
{
	struct sk_chan *ch = sk_link_chan(h->link, 0);
	struct sk_blkif_request r;
	unsigned int i, j, pg = 0;

	atomic_set(&h->nlog, 0);
	for (i = 0; i < ARRAY_SIZE(hb_plan); i++) {
		const struct hb_step *s = &hb_plan[i];

		if (pg + s->nr > HB_PAGES)
			return false;
		hostile_rw(&r, s->op, s->nr,
			   (u64)(HB_BASE + s->blk) * HB_SECTORS, 0, HB_ID + i);
		for (j = 0; j < s->nr; j++, pg++) {
			hb_fill(pool->page[pg], HB_BASE + s->blk + j,
				s->group);
			r.u.rw.seg[j].gref = pool->ref[pg];
		}
		if (sk_chan_put(ch, &r))
			return false;
	}
	sk_chan_push(ch);
	return true;
}

/* Wait (60 s at most) for the plan's answers; return how many came. */
static unsigned int hb_wait_answers(struct hostile *h)
{
	unsigned int n = ARRAY_SIZE(hb_plan), i;

	for (i = 0; i < 1200 && atomic_read_acquire(&h->nlog) < n; i++)
		msleep(50);
	return min_t(unsigned int, atomic_read_acquire(&h->nlog), n);
}

/* Every answer OKAY, each id once, groups in nondecreasing order. */
static void hb_check_answers(struct hostile *h, unsigned int n)
{
	bool seen[ARRAY_SIZE(hb_plan)] = { };
	bool okay = true, ordered = true;
	unsigned int i, group = 0;

	for (i = 0; i < n; i++) {
		const struct sk_blkif_response *rsp = &h->log[i];
		u64 k = rsp->id - HB_ID;

		pr_info("splitkit_hostile: %s: answer %u: id %llu op %u status %d\n",
			dev_name(&h->xb.dev->dev), i, rsp->id, rsp->operation,
			rsp->status);
		if (rsp->status != SK_BLKIF_RSP_OKAY)
			okay = false;
		if (k >= ARRAY_SIZE(hb_plan) || seen[k] ||
		    rsp->operation != hb_plan[k].op) {
			ordered = false;
			continue;
		}
		seen[k] = true;
		if (hb_plan[k].group < group)
			ordered = false;
		group = hb_plan[k].group;
	}
	hostile_result(h, okay, "writes and barriers all answered OKAY");
	hostile_result(h, ordered,
		       "answers in barrier order (before, barrier, after, empty barrier, after)");
}

/* Read the region back, eleven blocks at a time, and check each block. */
static void hb_check_data(struct hostile *h, struct hb_pool *pool)
{
	struct sk_blkif_request r;
	unsigned int blk, j, bad = 0, failed = 0;

	for (blk = 0; blk < HB_BLOCKS; blk += HB_SEGS) {
		hostile_rw(&r, SK_BLKIF_OP_READ, HB_SEGS,
			   (u64)(HB_BASE + blk) * HB_SECTORS, 0, 2000 + blk);
		for (j = 0; j < HB_SEGS; j++) {
			memset(page_address(pool->page[j]), 0, XEN_PAGE_SIZE);
			r.u.rw.seg[j].gref = pool->ref[j];
		}
		if (hostile_send(h, &r) != SK_BLKIF_RSP_OKAY) {
			failed++;
			continue;
		}
		for (j = 0; j < HB_SEGS; j++)
			if (!hb_check_block(h, pool->page[j], blk + j,
					    hb_expected(blk + j)))
				bad++;
	}
	hostile_result(h, !failed, "region read back");
	hostile_result(h, !failed && !bad,
		       "every block holds the data of the last group that wrote it");
}

static void hb_writable(struct hostile *h)
{
	struct hb_pool *pool;
	unsigned int n;

	BUILD_BUG_ON(HB_BLOCKS % HB_SEGS);
	pool = hb_pool_alloc(h);
	hostile_result(h, pool != NULL, "pages granted for the barrier test");
	if (!pool)
		return;
	if (!hb_send_plan(h, pool)) {
		hostile_result(h, false, "plan fits in the ring");
		goto free_pool;
	}
	n = hb_wait_answers(h);
	hostile_result(h, n == ARRAY_SIZE(hb_plan),
		       "all 11 writes and barriers answered");
	hb_check_answers(h, n);
	hb_check_data(h, pool);
free_pool:
	hb_pool_free(pool);
}

static void hb_read_only(struct hostile *h)
{
	struct sk_blkif_request r;

	hostile_rw(&r, SK_BLKIF_OP_WRITE_BARRIER, 0, 0, h->ref, 1);
	hostile_result(h, hostile_send(h, &r) == SK_BLKIF_RSP_OKAY,
		       "empty barrier on the read-only disk answered OKAY");
	hostile_rw(&r, SK_BLKIF_OP_WRITE_BARRIER, 1, 0, h->ref, 2);
	hostile_result(h, hostile_send(h, &r) == SK_BLKIF_RSP_ERROR,
		       "barrier with data to the read-only disk refused");
}

/**
 * hostile_barrier_test() - the test thread of one disk (test=barrier).
 * @arg: the struct hostile.
 *
 * Return: 0, once stopped.
 */
int hostile_barrier_test(void *arg)
{
	struct hostile *h = arg;

	hostile_result(h, h->barrier, "feature-barrier offered");
	if (h->ro)
		hb_read_only(h);
	else
		hb_writable(h);
	return hostile_test_end(h, "barrier test");
}
