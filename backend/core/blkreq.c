// SPDX-License-Identifier: GPL-2.0
/*
 * splitkit_back request validator (see blkreq.h): pure C over
 * <splitkit/platform.h>, no allocation, no kernel calls, so that the unit
 * tests and the fuzzer exercise exactly the code dom0 runs.  The I/O paths
 * (backend/blkif.c and its helpers) act only on what this file produced.
 *
 * The input is the private copy splitkit_ring made of the ring entry; it is
 * still read with explicit little-endian loads at fixed offsets, never
 * through a packed struct cast, so there is one obvious place where each
 * field comes from.
 */
#include "blkreq.h"

static u16 get16(const u8 *p)
{
	return (u16)(p[0] | p[1] << 8);
}

static u32 get32(const u8 *p)
{
	return (u32)p[0] | (u32)p[1] << 8 | (u32)p[2] << 16 | (u32)p[3] << 24;
}

static u64 get64(const u8 *p)
{
	return (u64)get32(p) | (u64)get32(p + 4) << 32;
}

static void put16(u8 *p, u16 v)
{
	p[0] = (u8)v;
	p[1] = (u8)(v >> 8);
}

static void put64(u8 *p, u64 v)
{
	unsigned int i;

	for (i = 0; i < 8; i++)
		p[i] = (u8)(v >> 8 * i);
}

/*
 * Do @sector and @nr_sectors (512-byte units) both fall on the disk's
 * logical block size?  A disk with 4096-byte sectors (sector-size 4096,
 * e.g. a loop device made with --sector-size 4096) takes only I/O in whole
 * 4 KiB blocks: the block layer would fail the rest, or worse, a file
 * backing would read-modify-write around it.  Linux's xen-blkback refuses
 * such a request as "Misaligned I/O request"; so do we, before any I/O.
 */
static bool skb_aligned(const struct skb_limits *lim, u64 sector, u64 nr)
{
	u64 mask = 0;

	if (lim->sector_size > 512u)
		mask = (lim->sector_size >> SK_BLKIF_SECTOR_SHIFT) - 1u;
	return !((sector | nr) & mask);
}

/**
 * skb_seg_unpack() - read and check one 8-byte segment descriptor.
 * @raw: the descriptor (in a request or an indirect page copy).
 * @seg: where to store it.
 *
 * Return: SKB_OK, or SKB_BAD_SEG if first_sect > last_sect or last_sect is
 * past the 4 KiB page.
 */
enum skb_reason skb_seg_unpack(const void *raw, struct skb_seg *seg)
{
	const u8 *p = raw;

	seg->gref = get32(p + SK_BLKIF_SEG_OFF_GREF);
	seg->first = p[SK_BLKIF_SEG_OFF_FIRST];
	seg->last = p[SK_BLKIF_SEG_OFF_LAST];
	if (seg->first > seg->last || seg->last >= SK_BLKIF_SECTORS_PER_PAGE)
		return SKB_BAD_SEG;
	return SKB_OK;
}

/**
 * skb_segs_contiguous() - whether checked segments form one contiguous
 *			   run of their pages' bytes.
 * @segs: @n segments, each already through skb_seg_unpack().
 * @n: how many.
 *
 * True when every segment but the first starts at its page's first
 * sector and every one but the last ends at its page's last: mapped one
 * page after the other, the pages then hold the request's data without a
 * gap, from the first segment's first sector on (what Linux frontends
 * send).  A backend may then do the request as one I/O on one mapping of
 * the pages; otherwise it must go segment by segment (a frontend may
 * leave gaps, and a hostile one will).
 *
 * Return: true for two or more contiguous segments; false otherwise.
 */
bool skb_segs_contiguous(const struct skb_seg *segs, u32 n)
{
	u32 i;

	if (n < 2)
		return false;
	for (i = 0; i < n; i++) {
		if (i > 0 && segs[i].first != 0)
			return false;
		if (i < n - 1 && segs[i].last != SK_BLKIF_SECTORS_PER_PAGE - 1)
			return false;
	}
	return true;
}

/**
 * skb_req_check_segs() - sum checked segments and check the sector range.
 * @d: the request (its sector and segment count are used).
 * @segs: its @d->nr_segs segments, each already through skb_seg_unpack().
 * @lim: the disk's limits.
 *
 * Sets @d->nr_sectors.
 *
 * Return: SKB_OK, SKB_BAD_SEG for a segment that skb_seg_unpack() would
 * refuse, SKB_BAD_RANGE if the sectors leave the disk, or SKB_MISALIGNED
 * if the first sector or any segment's length is not a whole number of
 * logical blocks (@lim->sector_size), as xen-blkback checks.  Every
 * segment becomes a bio vector of its own: one of part of a block would
 * let the block layer split a bio inside a block (Linux 6.1's
 * bio_split() then hits its BUG_ON on a device with 4 KiB blocks and a
 * segment gap limit, such as NVMe).
 */
enum skb_reason skb_req_check_segs(struct skb_req_desc *d,
				   const struct skb_seg *segs,
				   const struct skb_limits *lim)
{
	bool aligned = skb_aligned(lim, d->sector, 0);
	u64 total = 0, end;
	unsigned int i, n;

	for (i = 0; i < d->nr_segs; i++) {
		if (segs[i].first > segs[i].last ||
		    segs[i].last >= SK_BLKIF_SECTORS_PER_PAGE)
			return SKB_BAD_SEG;
		n = segs[i].last - segs[i].first + 1u;
		aligned = aligned && skb_aligned(lim, 0, n);
		total += n;
	}
	d->nr_sectors = total;
	/* the size may change under us (resize): one read, no underflow */
	end = SK_READ_ONCE(lim->sectors);
	if (d->sector > end || total > end - d->sector)
		return SKB_BAD_RANGE;
	if (!aligned)
		return SKB_MISALIGNED;
	return SKB_OK;
}

static enum skb_reason skb_parse_rw(const u8 *p, const struct skb_limits *lim,
				    struct skb_req_desc *d)
{
	enum skb_reason r;
	unsigned int i;

	d->nr_segs = p[SK_BLKIF_OFF_NR_SEGS];
	if (d->nr_segs > SK_BLKIF_MAX_DIRECT_SEGS)
		return SKB_BAD_NR_SEGS;
	if (!d->nr_segs) {
		if (d->kind != SKB_KIND_FLUSH)
			return SKB_BAD_NR_SEGS;
		/*
		 * A flush or barrier without data covers no sectors, so its
		 * sector_number means nothing and is never range-checked:
		 * xen-blkfront sends blk_rq_pos() of a flush, all ones.
		 */
		return SKB_OK;
	}
	for (i = 0; i < d->nr_segs; i++) {
		r = skb_seg_unpack(p + SK_BLKIF_OFF_SEGS + i * SK_BLKIF_SEG_SIZE,
				   &d->segs[i]);
		if (r)
			return r;
	}
	return skb_req_check_segs(d, d->segs, lim);
}

/*
 * FLUSH_DISKCACHE and WRITE_BARRIER: a write that may carry no data at
 * all.  @advertised: the feature key offering the operation was written.
 */
static enum skb_reason skb_parse_flush(const u8 *p,
				       const struct skb_limits *lim,
				       struct skb_req_desc *d, bool advertised)
{
	d->kind = SKB_KIND_FLUSH;
	if (!advertised)
		return SKB_NOT_SUPPORTED;
	if (lim->read_only && p[SK_BLKIF_OFF_NR_SEGS])
		return SKB_READ_ONLY;
	return skb_parse_rw(p, lim, d);
}

static enum skb_reason skb_parse_indirect(const u8 *p,
					  const struct skb_limits *lim,
					  struct skb_req_desc *d)
{
	unsigned int i;

	d->op = p[SK_BLKIF_OFF_IND_OP];
	if (d->op == SK_BLKIF_OP_READ)
		d->kind = SKB_KIND_READ;
	else if (d->op == SK_BLKIF_OP_WRITE)
		d->kind = SKB_KIND_WRITE;
	else
		return SKB_BAD_INDIRECT_OP;
	if (d->kind == SKB_KIND_WRITE && lim->read_only)
		return SKB_READ_ONLY;
	d->indirect = true;
	d->nr_segs = get16(p + SK_BLKIF_OFF_IND_NR_SEGS);
	if (!d->nr_segs || d->nr_segs > lim->max_segs ||
	    d->nr_segs > SK_BLKIF_MAX_INDIRECT_SEGS)
		return SKB_BAD_NR_SEGS;
	d->nr_indirect = (d->nr_segs + SK_BLKIF_SEGS_PER_INDIRECT_PAGE - 1) /
			 SK_BLKIF_SEGS_PER_INDIRECT_PAGE;
	for (i = 0; i < d->nr_indirect; i++)
		d->indirect_grefs[i] = get32(p + SK_BLKIF_OFF_IND_GREFS + 4 * i);
	/* segments and range: skb_req_check_segs() once the pages are read */
	return SKB_OK;
}

/**
 * skb_req_parse() - validate one request copied out of the ring.
 * @raw: SK_BLKIF_REQ_SIZE bytes, our private copy.
 * @lim: the disk's limits.
 * @d: the checked description; @d->id and @d->op are set even when the
 *	request is refused, so that the refusal can be answered.
 *
 * Direct read/write/flush/barrier requests are checked completely.  A
 * barrier is described as a flush (same kind, data optional) with
 * @d->barrier set; it is refused like a write on a read-only disk when it
 * carries data, and as not supported when feature-barrier is off.  A flush
 * or barrier without segments covers no sectors: its sector number is
 * never range-checked, and it is accepted on a read-only disk.  An indirect
 * request is checked up to its indirect page references; the caller reads
 * those pages, unpacks each segment with skb_seg_unpack() and finishes with
 * skb_req_check_segs().
 *
 * Return: SKB_OK or the reason to refuse the request.
 */
enum skb_reason skb_req_parse(const void *raw, const struct skb_limits *lim,
			      struct skb_req_desc *d)
{
	const u8 *p = raw;
	u64 end;

	memset(d, 0, sizeof(*d));
	d->op = p[SK_BLKIF_OFF_OP];
	d->id = get64(p + SK_BLKIF_OFF_ID);
	d->sector = get64(p + SK_BLKIF_OFF_SECTOR);

	switch (d->op) {
	case SK_BLKIF_OP_READ:
		d->kind = SKB_KIND_READ;
		return skb_parse_rw(p, lim, d);
	case SK_BLKIF_OP_WRITE:
		d->kind = SKB_KIND_WRITE;
		if (lim->read_only)
			return SKB_READ_ONLY;
		return skb_parse_rw(p, lim, d);
	case SK_BLKIF_OP_FLUSH_DISKCACHE:
		return skb_parse_flush(p, lim, d, lim->flush);
	case SK_BLKIF_OP_DISCARD:
		d->kind = SKB_KIND_DISCARD;
		if (!lim->discard)
			return SKB_NOT_SUPPORTED;
		if (lim->read_only)
			return SKB_READ_ONLY;
		d->nr_sectors = get64(p + SK_BLKIF_OFF_DISCARD_NR);
		end = SK_READ_ONCE(lim->sectors);
		if (d->sector > end || d->nr_sectors > end - d->sector)
			return SKB_BAD_RANGE;
		if (!skb_aligned(lim, d->sector, d->nr_sectors))
			return SKB_MISALIGNED;
		return SKB_OK;
	case SK_BLKIF_OP_INDIRECT:
		if (!lim->max_segs)
			return SKB_NOT_SUPPORTED;
		return skb_parse_indirect(p, lim, d);
	case SK_BLKIF_OP_WRITE_BARRIER:
		/* the I/O of a flush; blkif.c adds the ordering */
		d->barrier = true;
		return skb_parse_flush(p, lim, d, lim->barrier);
	default:
		return SKB_BAD_OP;
	}
}

/**
 * skb_reason_status() - the BLKIF_RSP_* status answering a refusal.
 * @r: the reason.
 *
 * Return: SK_BLKIF_RSP_OKAY for SKB_OK, SK_BLKIF_RSP_EOPNOTSUPP for an
 * operation we did not advertise (the frontend then stops using it), else
 * SK_BLKIF_RSP_ERROR.
 */
int skb_reason_status(enum skb_reason r)
{
	if (r == SKB_OK)
		return SK_BLKIF_RSP_OKAY;
	if (r == SKB_NOT_SUPPORTED)
		return SK_BLKIF_RSP_EOPNOTSUPP;
	return SK_BLKIF_RSP_ERROR;
}

/**
 * skb_rsp_pack() - lay out one response, every byte of it.
 * @raw: SK_BLKIF_RSP_SIZE bytes: a private buffer or the ring slot itself.
 * @id: the request's id.
 * @op: the operation to echo.
 * @status: SK_BLKIF_RSP_*.
 *
 * The response goes to a page the frontend reads.  A struct built on the
 * stack and copied whole would carry its padding (bytes 9 and 12-15) with
 * it, whatever the stack held before - dom0 memory handed to a guest (the
 * XSA-216 class); whether the compiler zeroes padding depends on build
 * options (CONFIG_INIT_STACK_ALL_ZERO), not on the code.  So the response
 * is written byte by byte at the offsets of <splitkit/blkif.h>, padding
 * included, and no uninitialised byte can reach the ring.
 */
void skb_rsp_pack(void *raw, u64 id, u8 op, s16 status)
{
	u8 *p = raw;

	memset(p, 0, SK_BLKIF_RSP_SIZE);
	put64(p + SK_BLKIF_RSP_OFF_ID, id);
	p[SK_BLKIF_RSP_OFF_OP] = op;
	put16(p + SK_BLKIF_RSP_OFF_STATUS, (u16)status);
}

static const char *const skb_reason_names[SKB_NR_REASONS] = {
	[SKB_OK] = "ok",
	[SKB_BAD_OP] = "unknown operation",
	[SKB_NOT_SUPPORTED] = "operation not advertised",
	[SKB_READ_ONLY] = "write to a read-only disk",
	[SKB_BAD_NR_SEGS] = "bad segment count",
	[SKB_BAD_INDIRECT_OP] = "bad indirect operation",
	[SKB_BAD_SEG] = "bad first/last sector in a segment",
	[SKB_BAD_RANGE] = "sectors outside the disk",
	[SKB_MISALIGNED] = "misaligned I/O request",
};

/**
 * skb_reason_str() - a short text for a reason.
 * @r: the reason.
 *
 * Return: a static string; "?" for a value out of range.
 */
const char *skb_reason_str(enum skb_reason r)
{
	if ((unsigned int)r >= SKB_NR_REASONS)
		return "?";
	return skb_reason_names[r];
}
