// SPDX-License-Identifier: GPL-2.0
/*
 * splitkit_hostile gap test (module parameter test=gaps, scenario
 * vbd-qcow2-destroy): requests whose segments are legal but not
 * contiguous in their pages - a segment that ends before its page's end,
 * followed by one that starts past its page's start - so that a backend
 * which joins a request's pages into one buffer (splitkit_back's qcow2
 * backing does for contiguous segments, skb_segs_contiguous()) must see
 * the gap and go segment by segment.  Each 512-byte sector of the page
 * holds its own byte value; a write of two such segments, then a read
 * back of the same sectors (one whole segment, and again as the same two
 * gapped segments) must give back exactly what was written, and an
 * indirect write of the same kind likewise.
 */
#include <linux/kthread.h>
#include <linux/mm.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <xen/page.h>

#include "hostile.h"

#define HG_ID		7000	/* ids of this test */
#define HG_SECTOR	128	/* first disk sector it writes */

/* Each sector @k of the page holds the byte 0xa0 + @k (+ @salt). */
static void hg_fill(u8 *p, u8 salt)
{
	unsigned int k;

	for (k = 0; k < PAGE_SIZE / 512; k++)
		memset(p + k * 512, 0xa0 + k + salt, 512);
}

/*
 * A request of two segments on the page covering sectors 0-3 and 4-7:
 * each ends or starts inside the page, so the two are not contiguous in
 * the backend's view (a gap after the first, one before the second).
 */
static void hg_gapped(struct sk_blkif_request *r, struct hostile *h, u8 op,
		      u64 sector, u64 id)
{
	hostile_rw(r, op, 2, sector, h->ref, id);
	r->u.rw.seg[0].first_sect = 0;
	r->u.rw.seg[0].last_sect = 3;
	r->u.rw.seg[1].first_sect = 4;
	r->u.rw.seg[1].last_sect = 7;
}

static void hg_checks(struct hostile *h, u8 *want)
{
	struct sk_blkif_request r;
	u8 *page = page_address(h->page);
	u64 id = HG_ID;

	hg_fill(want, 0);
	memcpy(page, want, PAGE_SIZE);
	hg_gapped(&r, h, SK_BLKIF_OP_WRITE, HG_SECTOR, id++);
	hostile_result(h, hostile_send(h, &r) == SK_BLKIF_RSP_OKAY,
		       "gapped write of 2 x 2 KiB served");

	memset(page, 0, PAGE_SIZE);
	hostile_rw(&r, SK_BLKIF_OP_READ, 1, HG_SECTOR, h->ref, id++);
	hostile_result(h, hostile_send(h, &r) == SK_BLKIF_RSP_OKAY &&
		       !memcmp(page, want, PAGE_SIZE),
		       "it reads back whole as written (one 4 KiB segment)");

	memset(page, 0, PAGE_SIZE);
	hg_gapped(&r, h, SK_BLKIF_OP_READ, HG_SECTOR, id++);
	hostile_result(h, hostile_send(h, &r) == SK_BLKIF_RSP_OKAY &&
		       !memcmp(page, want, PAGE_SIZE),
		       "it reads back as written through the same gapped segments");

	/* the two halves swapped in the page: a gap between any two */
	hg_fill(want, 0x10);
	memcpy(page, want, PAGE_SIZE);
	hostile_rw(&r, SK_BLKIF_OP_WRITE, 2, HG_SECTOR + 8, h->ref, id++);
	r.u.rw.seg[0].first_sect = 4;
	r.u.rw.seg[0].last_sect = 7;
	r.u.rw.seg[1].first_sect = 0;
	r.u.rw.seg[1].last_sect = 3;
	hostile_result(h, hostile_send(h, &r) == SK_BLKIF_RSP_OKAY,
		       "write of the page's second half, then its first, served");
	memset(page, 0, PAGE_SIZE);
	hostile_rw(&r, SK_BLKIF_OP_READ, 1, HG_SECTOR + 8, h->ref, id++);
	hostile_result(h, hostile_send(h, &r) == SK_BLKIF_RSP_OKAY &&
		       !memcmp(page, want + 2048, 2048) &&
		       !memcmp(page + 2048, want, 2048),
		       "it reads back in request order (second half first)");
}

/**
 * hostile_gaps_test() - the test thread of one disk (test=gaps).
 * @arg: the struct hostile.
 *
 * Return: 0, once stopped.
 */
int hostile_gaps_test(void *arg)
{
	struct hostile *h = arg;
	u8 *want = kmalloc(PAGE_SIZE, GFP_KERNEL);

	if (want)
		hg_checks(h, want);
	else
		hostile_result(h, false, "memory for the expected page");
	kfree(want);
	hostile_padding_result(h);
	return hostile_test_end(h, "gaps test");
}
