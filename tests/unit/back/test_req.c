// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests of splitkit_back's request validator (backend/core/blkreq.c):
 * every blkif operation, the limits of segment counts, segment sectors,
 * sector ranges at the end of the disk and across 2^64, read-only disks,
 * unadvertised features, indirect requests, write barriers (with and
 * without data), empty flushes whatever their sector number, requests
 * misaligned to a 4 KiB logical block size, the status each refusal is
 * answered with, and the byte layout of a response (padding zero).  Requests are built byte by byte at the x86_64 ABI
 * offsets, the way a frontend lays them out in the ring.
 */
#include <stdint.h>
#include <string.h>

#include "ktap.h"
#include "blkreq.h"

#define DISK	(1ull << 20)	/* sectors: 512 MiB */

static const struct skb_limits rw_lim = {
	.sectors = DISK, .max_segs = 256, .discard = true, .flush = true,
	.barrier = true,
};

static void put16(u8 *p, u16 v) { p[0] = v; p[1] = v >> 8; }
static void put32(u8 *p, u32 v) { put16(p, v); put16(p + 2, v >> 16); }
static void put64(u8 *p, u64 v) { put32(p, v); put32(p + 4, v >> 32); }

/* A read/write request of @n full-page segments at @sector. */
static void mk_rw(u8 *r, u8 op, u8 n, u64 sector)
{
	unsigned int i;

	memset(r, 0, SK_BLKIF_REQ_SIZE);
	r[SK_BLKIF_OFF_OP] = op;
	r[SK_BLKIF_OFF_NR_SEGS] = n;
	put64(r + SK_BLKIF_OFF_ID, 0x1122334455667788ull);
	put64(r + SK_BLKIF_OFF_SECTOR, sector);
	for (i = 0; i < n && i < SK_BLKIF_MAX_DIRECT_SEGS; i++) {
		u8 *s = r + SK_BLKIF_OFF_SEGS + i * SK_BLKIF_SEG_SIZE;

		put32(s, 100 + i);
		s[4] = 0;
		s[5] = 7;
	}
}

static void mk_indirect(u8 *r, u8 inner, u16 n, u64 sector)
{
	unsigned int i;

	memset(r, 0, SK_BLKIF_REQ_SIZE);
	r[SK_BLKIF_OFF_OP] = SK_BLKIF_OP_INDIRECT;
	r[SK_BLKIF_OFF_IND_OP] = inner;
	put16(r + SK_BLKIF_OFF_IND_NR_SEGS, n);
	put64(r + SK_BLKIF_OFF_ID, 7);
	put64(r + SK_BLKIF_OFF_SECTOR, sector);
	for (i = 0; i < SK_BLKIF_MAX_INDIRECT_PAGES; i++)
		put32(r + SK_BLKIF_OFF_IND_GREFS + 4 * i, 1000 + i);
}

static void read_write_ok(void)
{
	struct skb_req_desc d;
	u8 r[SK_BLKIF_REQ_SIZE];

	mk_rw(r, SK_BLKIF_OP_READ, 3, 8);
	KTAP_EXPECT_EQ(skb_req_parse(r, &rw_lim, &d), SKB_OK);
	KTAP_EXPECT_EQ(d.kind, SKB_KIND_READ);
	KTAP_EXPECT(d.id == 0x1122334455667788ull);
	KTAP_EXPECT_EQ(d.sector, 8);
	KTAP_EXPECT_EQ(d.nr_segs, 3);
	KTAP_EXPECT_EQ(d.nr_sectors, 24);
	KTAP_EXPECT_EQ(d.segs[2].gref, 102);
	mk_rw(r, SK_BLKIF_OP_WRITE, SK_BLKIF_MAX_DIRECT_SEGS, 0);
	KTAP_EXPECT_EQ(skb_req_parse(r, &rw_lim, &d), SKB_OK);
	KTAP_EXPECT_EQ(d.kind, SKB_KIND_WRITE);
	KTAP_EXPECT_EQ(d.nr_sectors, 88);
}

static void segment_counts(void)
{
	struct skb_req_desc d;
	u8 r[SK_BLKIF_REQ_SIZE];

	mk_rw(r, SK_BLKIF_OP_READ, 0, 0);
	KTAP_EXPECT_EQ(skb_req_parse(r, &rw_lim, &d), SKB_BAD_NR_SEGS);
	mk_rw(r, SK_BLKIF_OP_WRITE, 12, 0);
	KTAP_EXPECT_EQ(skb_req_parse(r, &rw_lim, &d), SKB_BAD_NR_SEGS);
	mk_rw(r, SK_BLKIF_OP_WRITE, 255, 0);
	KTAP_EXPECT_EQ(skb_req_parse(r, &rw_lim, &d), SKB_BAD_NR_SEGS);
	/* an empty flush is fine, a flush with data too */
	mk_rw(r, SK_BLKIF_OP_FLUSH_DISKCACHE, 0, 0);
	KTAP_EXPECT_EQ(skb_req_parse(r, &rw_lim, &d), SKB_OK);
	KTAP_EXPECT_EQ(d.kind, SKB_KIND_FLUSH);
	mk_rw(r, SK_BLKIF_OP_FLUSH_DISKCACHE, 2, 0);
	KTAP_EXPECT_EQ(skb_req_parse(r, &rw_lim, &d), SKB_OK);
	KTAP_EXPECT_EQ(d.nr_sectors, 16);
}

static void segment_sectors(void)
{
	static const struct { u8 first, last; int want; } v[] = {
		{ 0, 0, SKB_OK }, { 7, 7, SKB_OK }, { 0, 7, SKB_OK },
		{ 3, 2, SKB_BAD_SEG }, { 0, 8, SKB_BAD_SEG },
		{ 8, 8, SKB_BAD_SEG }, { 255, 255, SKB_BAD_SEG },
		{ 1, 255, SKB_BAD_SEG },
	};
	struct skb_req_desc d;
	u8 r[SK_BLKIF_REQ_SIZE];
	unsigned int i;

	for (i = 0; i < KTAP_ARRAY_SIZE(v); i++) {
		mk_rw(r, SK_BLKIF_OP_READ, 2, 0);
		r[SK_BLKIF_OFF_SEGS + SK_BLKIF_SEG_SIZE + 4] = v[i].first;
		r[SK_BLKIF_OFF_SEGS + SK_BLKIF_SEG_SIZE + 5] = v[i].last;
		KTAP_EXPECT_EQ(skb_req_parse(r, &rw_lim, &d), v[i].want);
	}
}

static void sector_ranges(void)
{
	static const struct { u64 sector; u8 segs; int want; } v[] = {
		{ DISK - 8, 1, SKB_OK },
		{ DISK - 7, 1, SKB_BAD_RANGE },
		{ DISK, 1, SKB_BAD_RANGE },
		{ DISK + 1, 1, SKB_BAD_RANGE },
		{ ~0ull, 1, SKB_BAD_RANGE },
		{ ~0ull - 7, 1, SKB_BAD_RANGE },
		{ DISK - 88, 11, SKB_OK },
		{ DISK - 87, 11, SKB_BAD_RANGE },
	};
	struct skb_req_desc d;
	u8 r[SK_BLKIF_REQ_SIZE];
	unsigned int i;

	for (i = 0; i < KTAP_ARRAY_SIZE(v); i++) {
		mk_rw(r, SK_BLKIF_OP_WRITE, v[i].segs, v[i].sector);
		KTAP_EXPECT_EQ(skb_req_parse(r, &rw_lim, &d), v[i].want);
	}
}

static void discard_ranges(void)
{
	static const struct { u64 sector, nr; int want; } v[] = {
		{ 0, DISK, SKB_OK }, { 0, 0, SKB_OK }, { DISK, 0, SKB_OK },
		{ 1, DISK, SKB_BAD_RANGE }, { DISK + 1, 0, SKB_BAD_RANGE },
		{ 8, ~0ull, SKB_BAD_RANGE }, { ~0ull, 2, SKB_BAD_RANGE },
	};
	struct skb_req_desc d;
	u8 r[SK_BLKIF_REQ_SIZE];
	unsigned int i;

	for (i = 0; i < KTAP_ARRAY_SIZE(v); i++) {
		memset(r, 0, sizeof(r));
		r[SK_BLKIF_OFF_OP] = SK_BLKIF_OP_DISCARD;
		put64(r + SK_BLKIF_OFF_SECTOR, v[i].sector);
		put64(r + SK_BLKIF_OFF_DISCARD_NR, v[i].nr);
		KTAP_EXPECT_EQ(skb_req_parse(r, &rw_lim, &d), v[i].want);
	}
}

static void read_only_disk(void)
{
	struct skb_limits lim = rw_lim;
	struct skb_req_desc d;
	u8 r[SK_BLKIF_REQ_SIZE];

	lim.read_only = true;
	mk_rw(r, SK_BLKIF_OP_READ, 1, 0);
	KTAP_EXPECT_EQ(skb_req_parse(r, &lim, &d), SKB_OK);
	mk_rw(r, SK_BLKIF_OP_WRITE, 1, 0);
	KTAP_EXPECT_EQ(skb_req_parse(r, &lim, &d), SKB_READ_ONLY);
	KTAP_EXPECT_EQ(skb_reason_status(SKB_READ_ONLY), SK_BLKIF_RSP_ERROR);
	mk_rw(r, SK_BLKIF_OP_FLUSH_DISKCACHE, 1, 0);
	KTAP_EXPECT_EQ(skb_req_parse(r, &lim, &d), SKB_READ_ONLY);
	mk_rw(r, SK_BLKIF_OP_FLUSH_DISKCACHE, 0, 0);
	KTAP_EXPECT_EQ(skb_req_parse(r, &lim, &d), SKB_OK);
	mk_rw(r, SK_BLKIF_OP_DISCARD, 0, 0);
	KTAP_EXPECT_EQ(skb_req_parse(r, &lim, &d), SKB_READ_ONLY);
	mk_indirect(r, SK_BLKIF_OP_WRITE, 20, 0);
	KTAP_EXPECT_EQ(skb_req_parse(r, &lim, &d), SKB_READ_ONLY);
	mk_indirect(r, SK_BLKIF_OP_READ, 20, 0);
	KTAP_EXPECT_EQ(skb_req_parse(r, &lim, &d), SKB_OK);
}

static void operations(void)
{
	struct skb_limits lim = rw_lim;
	struct skb_req_desc d;
	u8 r[SK_BLKIF_REQ_SIZE];
	unsigned int op;

	for (op = 0; op < 256; op++) {
		mk_rw(r, op, 1, 0);
		if (op == SK_BLKIF_OP_READ || op == SK_BLKIF_OP_WRITE ||
		    op == SK_BLKIF_OP_FLUSH_DISKCACHE || op == SK_BLKIF_OP_DISCARD ||
		    op == SK_BLKIF_OP_INDIRECT || op == SK_BLKIF_OP_WRITE_BARRIER)
			continue;
		KTAP_EXPECT_EQ(skb_req_parse(r, &lim, &d), SKB_BAD_OP);
		KTAP_EXPECT_EQ(d.op, op);
	}
	mk_rw(r, SK_BLKIF_OP_WRITE_BARRIER, 1, 0);
	KTAP_EXPECT_EQ(skb_req_parse(r, &lim, &d), SKB_OK);
	KTAP_EXPECT_EQ(skb_reason_status(SKB_NOT_SUPPORTED),
		       SK_BLKIF_RSP_EOPNOTSUPP);
	lim.discard = false;
	lim.flush = false;
	lim.barrier = false;
	lim.max_segs = 0;
	mk_rw(r, SK_BLKIF_OP_WRITE_BARRIER, 1, 0);
	KTAP_EXPECT_EQ(skb_req_parse(r, &lim, &d), SKB_NOT_SUPPORTED);
	KTAP_EXPECT_EQ(d.op, SK_BLKIF_OP_WRITE_BARRIER);
	mk_rw(r, SK_BLKIF_OP_DISCARD, 0, 0);
	KTAP_EXPECT_EQ(skb_req_parse(r, &lim, &d), SKB_NOT_SUPPORTED);
	mk_rw(r, SK_BLKIF_OP_FLUSH_DISKCACHE, 0, 0);
	KTAP_EXPECT_EQ(skb_req_parse(r, &lim, &d), SKB_NOT_SUPPORTED);
	mk_indirect(r, SK_BLKIF_OP_READ, 20, 0);
	KTAP_EXPECT_EQ(skb_req_parse(r, &lim, &d), SKB_NOT_SUPPORTED);
	KTAP_EXPECT_EQ(skb_reason_status(SKB_BAD_OP), SK_BLKIF_RSP_ERROR);
	KTAP_EXPECT(strcmp(skb_reason_str(SKB_NR_REASONS), "?") == 0);
	KTAP_EXPECT(strcmp(skb_reason_str(SKB_BAD_RANGE), "?") != 0);
}

#define FLUSH	SK_BLKIF_OP_FLUSH_DISKCACHE
#define BARRIER	SK_BLKIF_OP_WRITE_BARRIER

/* One flush or barrier request, the disk it meets, and the verdict. */
struct flush_row {
	const char *what;	/* NULL: named by its row number */
	u8 op;
	u8 segs;
	u64 sector;
	bool ro, off;		/* read-only disk; feature not advertised */
	enum skb_reason want;
};

/*
 * Parse row @i of a flush table on rw_lim made read-only and without the
 * feature as the row says (@off_flush_too: "not advertised" drops
 * feature-flush with feature-barrier), and fail when the verdict is not the
 * row's.  Return the verdict.
 */
static enum skb_reason flush_row_parse(const struct flush_row *v,
				       unsigned int i, bool off_flush_too,
				       struct skb_req_desc *d)
{
	struct skb_limits lim = rw_lim;
	u8 r[SK_BLKIF_REQ_SIZE];
	enum skb_reason got;

	lim.read_only = v->ro;
	if (off_flush_too)
		lim.flush = !v->off;
	lim.barrier = !v->off;
	mk_rw(r, v->op, v->segs, v->sector);
	got = skb_req_parse(r, &lim, d);
	if (got != v->want)
		ktap_fail_at(__FILE__, __LINE__,
			     "row %u%s%s: op %u, %u segments, sector %#llx%s%s: reason %d (%s), want %d",
			     i, v->what ? " " : "", v->what ? v->what : "",
			     v->op, v->segs, (unsigned long long)v->sector,
			     v->ro ? ", read-only" : "",
			     v->off ? ", not advertised" : "", got,
			     skb_reason_str(got), v->want);
	return got;
}

/* What an accepted flush or barrier row must be described as. */
static void flush_row_accepted(const struct flush_row *v,
			       const struct skb_req_desc *d)
{
	KTAP_EXPECT_EQ(d->kind, SKB_KIND_FLUSH);
	KTAP_EXPECT_EQ(d->barrier, v->op == BARRIER);
	KTAP_EXPECT_EQ(d->nr_segs, v->segs);
	KTAP_EXPECT_EQ(d->nr_sectors, 8u * v->segs);
}

/*
 * WRITE_BARRIER is validated like a flush (data optional) and marked as a
 * barrier; one row per request shape and disk.
 */
static void barriers(void)
{
	static const struct flush_row v[] = {
		{ "with data", BARRIER, 3, 8, false, false, SKB_OK },
		{ "11 segments", BARRIER, 11, 0, false, false, SKB_OK },
		{ "no data", BARRIER, 0, 0, false, false, SKB_OK },
		{ "no data, at the disk end", BARRIER, 0, DISK, false, false,
		  SKB_OK },
		{ "12 segments", BARRIER, 12, 0, false, false,
		  SKB_BAD_NR_SEGS },
		{ "255 segments", BARRIER, 255, 0, false, false,
		  SKB_BAD_NR_SEGS },
		{ "no data, past the disk end", BARRIER, 0, DISK + 1, false,
		  false, SKB_OK },
		{ "no data, sector all ones", BARRIER, 0, ~0ull, false, false,
		  SKB_OK },
		{ "at the disk end", BARRIER, 1, DISK - 8, false, false,
		  SKB_OK },
		{ "across the disk end", BARRIER, 1, DISK - 7, false, false,
		  SKB_BAD_RANGE },
		{ "wrapping 2^64", BARRIER, 2, ~0ull - 8, false, false,
		  SKB_BAD_RANGE },
		{ "read-only, data", BARRIER, 1, 0, true, false,
		  SKB_READ_ONLY },
		{ "read-only, no data", BARRIER, 0, 0, true, false, SKB_OK },
		{ "not advertised", BARRIER, 1, 0, false, true,
		  SKB_NOT_SUPPORTED },
		{ "not advertised, no data", BARRIER, 0, 0, false, true,
		  SKB_NOT_SUPPORTED },
		{ "not advertised, read-only", BARRIER, 1, 0, true, true,
		  SKB_NOT_SUPPORTED },
	};
	struct skb_req_desc d;
	u8 r[SK_BLKIF_REQ_SIZE];
	unsigned int i;

	for (i = 0; i < KTAP_ARRAY_SIZE(v); i++) {
		flush_row_parse(&v[i], i, false, &d);
		/* answered with the op it came with, whatever the verdict */
		KTAP_EXPECT_EQ(d.op, SK_BLKIF_OP_WRITE_BARRIER);
		KTAP_EXPECT(d.id == 0x1122334455667788ull);
		if (v[i].want != SKB_OK)
			continue;
		flush_row_accepted(&v[i], &d);
		KTAP_EXPECT(!d.indirect);
	}
	KTAP_EXPECT_EQ(skb_reason_status(SKB_READ_ONLY), SK_BLKIF_RSP_ERROR);

	/* a flush is no barrier, and feature-barrier alone offers no flush */
	mk_rw(r, SK_BLKIF_OP_FLUSH_DISKCACHE, 1, 0);
	KTAP_EXPECT_EQ(skb_req_parse(r, &rw_lim, &d), SKB_OK);
	KTAP_EXPECT(!d.barrier);
	{
		struct skb_limits lim = rw_lim;

		lim.flush = false;
		KTAP_EXPECT_EQ(skb_req_parse(r, &lim, &d), SKB_NOT_SUPPORTED);
		mk_rw(r, SK_BLKIF_OP_WRITE_BARRIER, 1, 0);
		KTAP_EXPECT_EQ(skb_req_parse(r, &lim, &d), SKB_OK);
	}
	/* never inside an indirect request */
	mk_indirect(r, SK_BLKIF_OP_WRITE_BARRIER, 8, 0);
	KTAP_EXPECT_EQ(skb_req_parse(r, &rw_lim, &d), SKB_BAD_INDIRECT_OP);
	/* a bad segment is caught as in any write */
	mk_rw(r, SK_BLKIF_OP_WRITE_BARRIER, 2, 0);
	r[SK_BLKIF_OFF_SEGS + SK_BLKIF_SEG_SIZE + 4] = 5;
	r[SK_BLKIF_OFF_SEGS + SK_BLKIF_SEG_SIZE + 5] = 4;
	KTAP_EXPECT_EQ(skb_req_parse(r, &rw_lim, &d), SKB_BAD_SEG);
}

/*
 * A flush or barrier without segments carries no sectors: its sector
 * number is never range-checked (xen-blkfront sends blk_rq_pos() of a
 * flush request, all ones) and the flush happens, on read-only disks too.
 * Refusing it makes xen-blkfront print "empty flush op failed" and run
 * without cache flushes from then on.
 */
static void empty_flushes(void)
{
	static const struct flush_row v[] = {
		{ NULL, FLUSH, 0, 0, false, false, SKB_OK },
		{ NULL, FLUSH, 0, ~0ull, false, false, SKB_OK },
		{ NULL, FLUSH, 0, ~0ull - 7, false, false, SKB_OK },
		{ NULL, FLUSH, 0, DISK, false, false, SKB_OK },
		{ NULL, FLUSH, 0, DISK + 1, false, false, SKB_OK },
		{ NULL, FLUSH, 0, ~0ull, true, false, SKB_OK },
		{ NULL, FLUSH, 0, ~0ull, false, true, SKB_NOT_SUPPORTED },
		{ NULL, BARRIER, 0, ~0ull, false, false, SKB_OK },
		{ NULL, BARRIER, 0, DISK + 8, false, false, SKB_OK },
		{ NULL, BARRIER, 0, ~0ull, true, false, SKB_OK },
		{ NULL, BARRIER, 0, ~0ull, false, true, SKB_NOT_SUPPORTED },
		/* with data the range counts again */
		{ NULL, FLUSH, 1, ~0ull, false, false, SKB_BAD_RANGE },
		{ NULL, BARRIER, 1, DISK, false, false, SKB_BAD_RANGE },
	};
	struct skb_req_desc d;
	enum skb_reason got;
	unsigned int i;

	for (i = 0; i < KTAP_ARRAY_SIZE(v); i++) {
		got = flush_row_parse(&v[i], i, true, &d);
		if (v[i].want != SKB_OK)
			continue;
		KTAP_EXPECT_EQ(skb_reason_status(got), SK_BLKIF_RSP_OKAY);
		flush_row_accepted(&v[i], &d);
	}
}

static void indirect(void)
{
	struct skb_seg segs[SK_BLKIF_MAX_INDIRECT_SEGS];
	struct skb_req_desc d;
	u8 r[SK_BLKIF_REQ_SIZE];
	unsigned int i;

	mk_indirect(r, SK_BLKIF_OP_WRITE, 256, 16);
	KTAP_ASSERT(skb_req_parse(r, &rw_lim, &d) == SKB_OK);
	KTAP_EXPECT_EQ(d.kind, SKB_KIND_WRITE);
	KTAP_EXPECT_EQ(d.op, SK_BLKIF_OP_WRITE);
	KTAP_EXPECT(d.indirect);
	KTAP_EXPECT_EQ(d.nr_indirect, 1);
	KTAP_EXPECT_EQ(d.indirect_grefs[0], 1000);
	for (i = 0; i < 256; i++)
		segs[i] = (struct skb_seg){ .gref = i, .first = 0, .last = 7 };
	KTAP_EXPECT_EQ(skb_req_check_segs(&d, segs, &rw_lim), SKB_OK);
	KTAP_EXPECT_EQ(d.nr_sectors, 2048);
	segs[100].first = 5;
	segs[100].last = 4;
	KTAP_EXPECT_EQ(skb_req_check_segs(&d, segs, &rw_lim), SKB_BAD_SEG);
	segs[100].first = 0;
	segs[100].last = 7;
	d.sector = DISK - 2047;
	KTAP_EXPECT_EQ(skb_req_check_segs(&d, segs, &rw_lim), SKB_BAD_RANGE);

	mk_indirect(r, SK_BLKIF_OP_READ, 257, 0);
	KTAP_EXPECT_EQ(skb_req_parse(r, &rw_lim, &d), SKB_BAD_NR_SEGS);
	mk_indirect(r, SK_BLKIF_OP_READ, 0, 0);
	KTAP_EXPECT_EQ(skb_req_parse(r, &rw_lim, &d), SKB_BAD_NR_SEGS);
	mk_indirect(r, SK_BLKIF_OP_DISCARD, 8, 0);
	KTAP_EXPECT_EQ(skb_req_parse(r, &rw_lim, &d), SKB_BAD_INDIRECT_OP);
	mk_indirect(r, SK_BLKIF_OP_INDIRECT, 8, 0);
	KTAP_EXPECT_EQ(skb_req_parse(r, &rw_lim, &d), SKB_BAD_INDIRECT_OP);
	mk_indirect(r, SK_BLKIF_OP_FLUSH_DISKCACHE, 8, 0);
	KTAP_EXPECT_EQ(skb_req_parse(r, &rw_lim, &d), SKB_BAD_INDIRECT_OP);
	{
		struct skb_limits big = rw_lim;

		big.max_segs = 100000;	/* larger than the wire allows */
		mk_indirect(r, SK_BLKIF_OP_READ, 4096, 0);
		KTAP_EXPECT_EQ(skb_req_parse(r, &big, &d), SKB_OK);
		KTAP_EXPECT_EQ(d.nr_indirect, 8);
		mk_indirect(r, SK_BLKIF_OP_READ, 4097, 0);
		KTAP_EXPECT_EQ(skb_req_parse(r, &big, &d), SKB_BAD_NR_SEGS);
		mk_indirect(r, SK_BLKIF_OP_READ, 0xffff, 0);
		KTAP_EXPECT_EQ(skb_req_parse(r, &big, &d), SKB_BAD_NR_SEGS);
	}
}

/*
 * A disk with 4096-byte logical blocks (sector-size 4096) takes I/O only in
 * whole blocks: first sector and every segment's length multiples of 8
 * (as xen-blkback checks).  One row per request shape.
 */
static void alignment(void)
{
	static const struct {
		const char *what;
		u32 sector_size;
		u8 op;
		u8 segs;	/* full-page segments; 0: see first/last */
		u8 first, last;	/* one segment of these sectors */
		u64 sector;
		u64 discard_nr;
		enum skb_reason want;
	} v[] = {
		{ "4k: read of one page at 0", 4096, SK_BLKIF_OP_READ, 1, 0, 7,
		  0, 0, SKB_OK },
		{ "4k: read at sector 8", 4096, SK_BLKIF_OP_READ, 1, 0, 7, 8, 0,
		  SKB_OK },
		{ "4k: read at sector 1", 4096, SK_BLKIF_OP_READ, 1, 0, 7, 1, 0,
		  SKB_MISALIGNED },
		{ "4k: read at sector 4", 4096, SK_BLKIF_OP_READ, 1, 0, 7, 4, 0,
		  SKB_MISALIGNED },
		{ "4k: write of 512 bytes", 4096, SK_BLKIF_OP_WRITE, 0, 0, 0, 0,
		  0, SKB_MISALIGNED },
		{ "4k: write of 3.5 KiB", 4096, SK_BLKIF_OP_WRITE, 0, 1, 7, 0, 0,
		  SKB_MISALIGNED },
		{ "4k: 11 pages at sector 80", 4096, SK_BLKIF_OP_WRITE, 11, 0, 7,
		  80, 0, SKB_OK },
		{ "4k: flush with data at sector 2", 4096,
		  SK_BLKIF_OP_FLUSH_DISKCACHE, 1, 0, 7, 2, 0, SKB_MISALIGNED },
		{ "4k: barrier with data at sector 2", 4096,
		  SK_BLKIF_OP_WRITE_BARRIER, 1, 0, 7, 2, 0, SKB_MISALIGNED },
		{ "4k: empty flush at sector 3", 4096,
		  SK_BLKIF_OP_FLUSH_DISKCACHE, 0, 0, 0, 3, 0, SKB_OK },
		{ "4k: discard of 8 at 8", 4096, SK_BLKIF_OP_DISCARD, 0, 0, 0, 8,
		  8, SKB_OK },
		{ "4k: discard of 7 at 8", 4096, SK_BLKIF_OP_DISCARD, 0, 0, 0, 8,
		  7, SKB_MISALIGNED },
		{ "4k: discard of 8 at 9", 4096, SK_BLKIF_OP_DISCARD, 0, 0, 0, 9,
		  8, SKB_MISALIGNED },
		{ "4k: misaligned past the end is out of range first", 4096,
		  SK_BLKIF_OP_READ, 1, 0, 7, DISK - 3, 0, SKB_BAD_RANGE },
		{ "2k: read of 2 KiB at 4", 2048, SK_BLKIF_OP_READ, 0, 0, 3, 4,
		  0, SKB_OK },
		{ "2k: read of 2 KiB at 2", 2048, SK_BLKIF_OP_READ, 0, 0, 3, 2,
		  0, SKB_MISALIGNED },
		{ "512: read of 512 bytes at 1", 512, SK_BLKIF_OP_READ, 0, 0, 0,
		  1, 0, SKB_OK },
		{ "0 counts as 512", 0, SK_BLKIF_OP_READ, 0, 0, 0, 1, 0, SKB_OK },
	};
	struct skb_req_desc d;
	u8 r[SK_BLKIF_REQ_SIZE];
	enum skb_reason got;
	unsigned int i;

	for (i = 0; i < KTAP_ARRAY_SIZE(v); i++) {
		struct skb_limits lim = rw_lim;

		lim.sector_size = v[i].sector_size;
		if (v[i].op == SK_BLKIF_OP_DISCARD) {
			memset(r, 0, sizeof(r));
			r[SK_BLKIF_OFF_OP] = SK_BLKIF_OP_DISCARD;
			put64(r + SK_BLKIF_OFF_SECTOR, v[i].sector);
			put64(r + SK_BLKIF_OFF_DISCARD_NR, v[i].discard_nr);
		} else if (v[i].segs) {
			mk_rw(r, v[i].op, v[i].segs, v[i].sector);
		} else {
			mk_rw(r, v[i].op, v[i].first || v[i].last ||
			      v[i].op != SK_BLKIF_OP_FLUSH_DISKCACHE,
			      v[i].sector);
			r[SK_BLKIF_OFF_SEGS + 4] = v[i].first;
			r[SK_BLKIF_OFF_SEGS + 5] = v[i].last;
		}
		got = skb_req_parse(r, &lim, &d);
		if (got != v[i].want)
			ktap_fail_at(__FILE__, __LINE__,
				     "row %u %s: reason %d (%s), want %d", i,
				     v[i].what, got, skb_reason_str(got),
				     v[i].want);
	}
	/* two segments, 512 bytes and 3.5 KiB: a whole block in total */
	{
		struct skb_limits lim = rw_lim;

		lim.sector_size = 4096;
		mk_rw(r, SK_BLKIF_OP_READ, 2, 8);
		r[SK_BLKIF_OFF_SEGS + 5] = 0;
		r[SK_BLKIF_OFF_SEGS + SK_BLKIF_SEG_SIZE + 4] = 1;
		KTAP_EXPECT_EQ(skb_req_parse(r, &lim, &d), SKB_MISALIGNED);
		r[SK_BLKIF_OFF_SEGS + 5] = 7;
		r[SK_BLKIF_OFF_SEGS + SK_BLKIF_SEG_SIZE + 4] = 0;
		KTAP_EXPECT_EQ(skb_req_parse(r, &lim, &d), SKB_OK);
	}
	KTAP_EXPECT_EQ(skb_reason_status(SKB_MISALIGNED), SK_BLKIF_RSP_ERROR);
	KTAP_EXPECT(strcmp(skb_reason_str(SKB_MISALIGNED),
			   "misaligned I/O request") == 0);

	/* an indirect request is checked once its segments are read */
	{
		struct skb_seg segs[16];
		struct skb_limits lim = rw_lim;

		lim.sector_size = 4096;
		mk_indirect(r, SK_BLKIF_OP_WRITE, 16, 8);
		KTAP_ASSERT(skb_req_parse(r, &lim, &d) == SKB_OK);
		for (i = 0; i < 16; i++)
			segs[i] = (struct skb_seg){ .gref = i, .first = 0,
						    .last = 7 };
		KTAP_EXPECT_EQ(skb_req_check_segs(&d, segs, &lim), SKB_OK);
		/*
		 * 2 x 2 KiB halves inside, whole blocks in total: each
		 * segment is a bio vector, and one of half a block lets the
		 * block layer split inside a block (xen-blkback refuses it)
		 */
		segs[3].last = 3;
		segs[4].first = 4;
		KTAP_EXPECT_EQ(skb_req_check_segs(&d, segs, &lim),
			       SKB_MISALIGNED);
		KTAP_EXPECT_EQ(d.nr_sectors, 16 * 8 - 8);
		segs[3].last = 7;
		segs[4].first = 0;
		d.sector = 12;
		KTAP_EXPECT_EQ(skb_req_check_segs(&d, segs, &lim),
			       SKB_MISALIGNED);
		d.sector = 16;
		KTAP_EXPECT_EQ(skb_req_check_segs(&d, segs, &lim), SKB_OK);
		/* 2 KiB blocks: a 2 KiB segment at any sector offset is whole */
		lim.sector_size = 2048;
		segs[0].first = 1;
		segs[0].last = 4;
		segs[1].first = 0;
		segs[1].last = 3;
		KTAP_EXPECT_EQ(skb_req_check_segs(&d, segs, &lim), SKB_OK);
		segs[1].last = 5;
		KTAP_EXPECT_EQ(skb_req_check_segs(&d, segs, &lim),
			       SKB_MISALIGNED);
	}
}

/*
 * Every byte of a response is written: laid over a buffer full of 0xa5,
 * the padding (byte 9 and bytes 12-15) comes out zero, the fields where
 * blkif.h puts them.
 */
static void response_bytes(void)
{
	static const struct { u64 id; u8 op; s16 status; } v[] = {
		{ 0x1122334455667788ull, SK_BLKIF_OP_READ, SK_BLKIF_RSP_OKAY },
		{ ~0ull, SK_BLKIF_OP_INDIRECT, SK_BLKIF_RSP_ERROR },
		{ 0, 0xff, SK_BLKIF_RSP_EOPNOTSUPP },
		{ 7, SK_BLKIF_OP_DISCARD, 0x7fff },
	};
	u8 raw[SK_BLKIF_RSP_SIZE + 4];
	unsigned int i, b;

	for (i = 0; i < KTAP_ARRAY_SIZE(v); i++) {
		memset(raw, 0xa5, sizeof(raw));
		skb_rsp_pack(raw, v[i].id, v[i].op, v[i].status);
		for (b = 0; b < 8; b++)
			KTAP_EXPECT_EQ(raw[b], (u8)(v[i].id >> 8 * b));
		KTAP_EXPECT_EQ(raw[8], v[i].op);
		KTAP_EXPECT_EQ(raw[9], 0);
		KTAP_EXPECT_EQ(raw[10], (u8)v[i].status);
		KTAP_EXPECT_EQ(raw[11], (u8)((u16)v[i].status >> 8));
		for (b = 12; b < 16; b++)
			KTAP_EXPECT_EQ(raw[b], 0);
		/* and nothing past the entry */
		for (b = 16; b < sizeof(raw); b++)
			KTAP_EXPECT_EQ(raw[b], 0xa5);
	}
}

static void seg_unpack(void)
{
	u8 raw[SK_BLKIF_SEG_SIZE] = { 0x78, 0x56, 0x34, 0x12, 2, 5, 0xff, 0xff };
	struct skb_seg s;

	KTAP_EXPECT_EQ(skb_seg_unpack(raw, &s), SKB_OK);
	KTAP_EXPECT_EQ(s.gref, 0x12345678);
	KTAP_EXPECT_EQ(s.first, 2);
	KTAP_EXPECT_EQ(s.last, 5);
	raw[5] = 1;
	KTAP_EXPECT_EQ(skb_seg_unpack(raw, &s), SKB_BAD_SEG);
}

/* skb_segs_contiguous(): gaps between segments, and the edge cases. */
static void contiguous_segments(void)
{
	struct skb_seg s[4] = {
		{ 1, 3, 7 }, { 2, 0, 7 }, { 3, 0, 7 }, { 4, 0, 2 },
	};

	KTAP_EXPECT(skb_segs_contiguous(s, 4));
	KTAP_EXPECT(skb_segs_contiguous(s, 2));
	/* one segment: nothing to join */
	KTAP_EXPECT(!skb_segs_contiguous(s, 1));
	KTAP_EXPECT(!skb_segs_contiguous(s, 0));
	/* a middle segment starting past its page's start: a gap */
	s[2].first = 1;
	KTAP_EXPECT(!skb_segs_contiguous(s, 4));
	s[2].first = 0;
	/* one ending before its page's end: a gap */
	s[1].last = 6;
	KTAP_EXPECT(!skb_segs_contiguous(s, 4));
	KTAP_EXPECT(!skb_segs_contiguous(s, 3));
	/* ...but the last one may end anywhere */
	KTAP_EXPECT(skb_segs_contiguous(s, 2));
	s[1].last = 7;
	s[3].last = 0;
	KTAP_EXPECT(skb_segs_contiguous(s, 4));
	/* the first may start anywhere, not end early */
	s[0].first = 7;
	KTAP_EXPECT(skb_segs_contiguous(s, 4));
	s[0].last = 6;
	s[0].first = 0;
	KTAP_EXPECT(!skb_segs_contiguous(s, 4));
}

static const struct ktap_case cases[] = {
	KTAP_CASE(read_write_ok),
	KTAP_CASE(segment_counts),
	KTAP_CASE(segment_sectors),
	KTAP_CASE(contiguous_segments),
	KTAP_CASE(sector_ranges),
	KTAP_CASE(discard_ranges),
	KTAP_CASE(read_only_disk),
	KTAP_CASE(operations),
	KTAP_CASE(barriers),
	KTAP_CASE(empty_flushes),
	KTAP_CASE(indirect),
	KTAP_CASE(seg_unpack),
	KTAP_CASE(alignment),
	KTAP_CASE(response_bytes),
};

KTAP_MAIN(cases)
