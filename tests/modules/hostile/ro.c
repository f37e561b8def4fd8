// SPDX-License-Identifier: GPL-2.0
/*
 * splitkit_hostile read-only test (module parameter test=ro, and the end
 * of the attack on a read-only disk): a frontend that ignores the
 * VDISK_READONLY bit of "info" and sends an access=ro disk what a guest's
 * block layer never lets through - a WRITE, an indirect WRITE, a flush
 * and a barrier carrying data, a DISCARD - so that the backend's own
 * refusal is what is tested (scenario back-hostile, against splitkit_back
 * and Linux's xen-blkback).  Each must be answered BLKIF_RSP_ERROR; a
 * DISCARD, flush or barrier the backend does not offer may be answered
 * BLKIF_RSP_EOPNOTSUPP instead.  The data sent is a page of 0x5a, which
 * the random backing file does not hold: dom0 checks the file did not
 * change.  An empty flush writes nothing, so its status is only reported.
 */
#include <linux/kthread.h>
#include <linux/mm.h>
#include <xen/page.h>
#include <xen/xenbus.h>

#include "hostile.h"

#define HR_ID		3000	/* ids of this test */
#define HR_IND_SEGS	16	/* segments of the indirect WRITE */

/* Send @r; it must be refused.  @offered: the backend offers the op. */
static void hr_refused(struct hostile *h, struct sk_blkif_request *r,
		       bool offered, const char *what)
{
	char name[96];
	int st;

	st = hostile_send(h, r);
	pr_info("splitkit_hostile: %s: %s answered status %d\n",
		dev_name(&h->xb.dev->dev), what, st);
	snprintf(name, sizeof(name), "%s to the read-only disk refused", what);
	hostile_result(h, st == SK_BLKIF_RSP_ERROR ||
		       (!offered && st == SK_BLKIF_RSP_EOPNOTSUPP), name);
}

/**
 * hostile_ro_checks() - send every kind of write to a read-only disk.
 * @h: the disk; the backend published it read-only.
 */
void hostile_ro_checks(struct hostile *h)
{
	struct sk_blkif_request r;
	u64 id = HR_ID;
	int st;

	hostile_result(h, h->ro, "backend published the disk read-only");
	memset(page_address(h->page), 0x5a, PAGE_SIZE);

	hostile_rw(&r, SK_BLKIF_OP_WRITE, 1, 0, h->ref, id++);
	hr_refused(h, &r, true, "WRITE");
	hostile_rw(&r, SK_BLKIF_OP_WRITE, SK_BLKIF_MAX_DIRECT_SEGS, 8,
		   h->ref, id++);
	hr_refused(h, &r, true, "WRITE of 11 segments");
	if (h->max_indirect > SK_BLKIF_MAX_DIRECT_SEGS)
		hostile_indirect_write(h, HR_IND_SEGS, 0, id++, hr_refused,
				       "indirect WRITE");
	else
		pr_info("splitkit_hostile: %s: no indirect WRITE: feature-max-indirect-segments %u\n",
			dev_name(&h->xb.dev->dev), h->max_indirect);

	memset(&r, 0, sizeof(r));
	r.operation = SK_BLKIF_OP_DISCARD;
	r.u.discard.id = id++;
	r.u.discard.sector_number = 0;
	r.u.discard.nr_sectors = 2048;
	hr_refused(h, &r, h->discard, "DISCARD");

	hostile_rw(&r, SK_BLKIF_OP_FLUSH_DISKCACHE, 1, 16, h->ref, id++);
	hr_refused(h, &r, h->flush, "flush with data");
	hostile_rw(&r, SK_BLKIF_OP_WRITE_BARRIER, 1, 24, h->ref, id++);
	hr_refused(h, &r, h->barrier, "barrier with data");
	if (h->flush) {
		hostile_rw(&r, SK_BLKIF_OP_FLUSH_DISKCACHE, 0, ~0ull, h->ref,
			   id++);
		st = hostile_send(h, &r);
		pr_info("splitkit_hostile: %s: empty flush answered status %d (writes nothing)\n",
			dev_name(&h->xb.dev->dev), st);
	}

	/* the disk still reads */
	hostile_rw(&r, SK_BLKIF_OP_READ, 1, 0, h->ref, id++);
	hostile_result(h, hostile_send(h, &r) == SK_BLKIF_RSP_OKAY,
		       "read of the read-only disk still served");
}

/**
 * hostile_ro_test() - the test thread of one disk (test=ro).
 * @arg: the struct hostile.
 *
 * Return: 0, once stopped.
 */
int hostile_ro_test(void *arg)
{
	struct hostile *h = arg;

	hostile_ro_checks(h);
	return hostile_test_end(h, "ro test");
}
