// SPDX-License-Identifier: GPL-2.0
/*
 * splitkit_hostile alignment test (module parameter test=misaligned,
 * scenario back-harden): a frontend that ignores the disk's sector-size
 * and sends a disk with 4096-byte logical blocks (a loop device made with
 * losetup --sector-size 4096) requests that start or end inside a block -
 * reads and writes at sector 1 and 4, a write of 512 bytes and of 3.5 KiB,
 * an indirect write at sector 4, a flush carrying data at sector 2, a
 * discard of 7 sectors, and whole blocks in segments of part of a block
 * (a read of two 2 KiB segments, a write of 512 bytes and 3.5 KiB).  Each
 * must be answered BLKIF_RSP_ERROR before any
 * I/O (xen-blkback answers such a request "Misaligned I/O request"); a
 * discard the backend does not offer may be EOPNOTSUPP.  The data written
 * is a page of 0x5a, which the random backing does not hold: dom0 checks
 * it did not change.  Then an aligned read must still be served, and the
 * padding of every response must be zero (hostile_padding_result()).
 */
#include <linux/kthread.h>
#include <linux/mm.h>
#include <xen/page.h>
#include <xen/xenbus.h>

#include "hostile.h"

#define HA_ID		5000	/* ids of this test */
#define HA_IND_SEGS	16	/* segments of the indirect write */

/* Send @r; it must be refused.  @offered: the backend offers the op. */
static void ha_refused(struct hostile *h, struct sk_blkif_request *r,
		       bool offered, const char *what)
{
	char name[96];
	int st;

	st = hostile_send(h, r);
	snprintf(name, sizeof(name), "%s refused (status %d)", what, st);
	hostile_result(h, st == SK_BLKIF_RSP_ERROR ||
		       (!offered && st == SK_BLKIF_RSP_EOPNOTSUPP), name);
}

/* One direct request of one segment, sectors @first-@last of the page. */
static void ha_one(struct sk_blkif_request *r, struct hostile *h, u8 op,
		   u64 sector, u8 first, u8 last, u64 id)
{
	hostile_rw(r, op, 1, sector, h->ref, id);
	r->u.rw.seg[0].first_sect = first;
	r->u.rw.seg[0].last_sect = last;
}

static void ha_checks(struct hostile *h)
{
	struct sk_blkif_request r;
	u64 id = HA_ID;
	char name[64];

	snprintf(name, sizeof(name), "backend advertises sector-size 4096 (%u)",
		 h->sector_size);
	hostile_result(h, h->sector_size == 4096, name);
	if (h->sector_size != 4096)
		return;	/* the input could not be made: failed above */
	memset(page_address(h->page), 0x5a, PAGE_SIZE);

	ha_one(&r, h, SK_BLKIF_OP_READ, 1, 0, 7, id++);
	ha_refused(h, &r, true, "read of 4 KiB at sector 1");
	ha_one(&r, h, SK_BLKIF_OP_READ, 4, 0, 7, id++);
	ha_refused(h, &r, true, "read of 4 KiB at sector 4");
	ha_one(&r, h, SK_BLKIF_OP_WRITE, 0, 0, 0, id++);
	ha_refused(h, &r, true, "write of 512 bytes at sector 0");
	ha_one(&r, h, SK_BLKIF_OP_WRITE, 8, 1, 7, id++);
	ha_refused(h, &r, true, "write of 3.5 KiB at sector 8");
	ha_one(&r, h, SK_BLKIF_OP_WRITE, 12, 0, 7, id++);
	ha_refused(h, &r, true, "write of 4 KiB at sector 12");
	if (h->max_indirect >= HA_IND_SEGS)
		hostile_indirect_write(h, HA_IND_SEGS, 4, id++, ha_refused,
				       "indirect write of 64 KiB at sector 4");
	else
		hostile_result(h, false, "backend offers 16 indirect segments");
	if (h->flush) {
		ha_one(&r, h, SK_BLKIF_OP_FLUSH_DISKCACHE, 2, 0, 7, id++);
		ha_refused(h, &r, true, "flush with 4 KiB of data at sector 2");
	}
	memset(&r, 0, sizeof(r));
	r.operation = SK_BLKIF_OP_DISCARD;
	r.u.discard.id = id++;
	r.u.discard.sector_number = 8;
	r.u.discard.nr_sectors = 7;
	ha_refused(h, &r, h->discard, "discard of 7 sectors at sector 8");

	/* whole blocks are still served */
	ha_one(&r, h, SK_BLKIF_OP_READ, 8, 0, 7, id++);
	hostile_result(h, hostile_send(h, &r) == SK_BLKIF_RSP_OKAY,
		       "aligned read of 4 KiB at sector 8 served");

	/*
	 * A whole block in total, but in segments of part of a block: each
	 * segment is a bio vector, and the block layer could split between
	 * them inside a block (Linux 6.1's bio_split() BUG_ON on a device
	 * with a segment gap limit).  xen-blkback refuses them too.
	 */
	hostile_rw(&r, SK_BLKIF_OP_READ, 2, 16, h->ref, id++);
	r.u.rw.seg[0].last_sect = 3;
	r.u.rw.seg[1].first_sect = 4;
	ha_refused(h, &r, true, "read of two 2 KiB segments at sector 16");
	hostile_rw(&r, SK_BLKIF_OP_WRITE, 2, 24, h->ref, id++);
	r.u.rw.seg[0].last_sect = 0;
	r.u.rw.seg[1].first_sect = 1;
	ha_refused(h, &r, true,
		   "write of 512 bytes and 3.5 KiB segments at sector 24");
}

/**
 * hostile_align_test() - the test thread of one disk (test=misaligned).
 * @arg: the struct hostile.
 *
 * Return: 0, once stopped.
 */
int hostile_align_test(void *arg)
{
	struct hostile *h = arg;

	ha_checks(h);
	hostile_padding_result(h);
	return hostile_test_end(h, "misaligned test");
}
