// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target: splitkit_back's request validator on arbitrary ring
 * entries.  The input is one 112-byte request, a few bytes of limits
 * (disk size, indirect limit, read-only, features) and the contents of the
 * indirect pages.  Whatever the validator accepts must be safe for the I/O
 * paths to act on: operation, kind and barrier flag consistent, segment
 * counts within bounds, every segment inside its page, and every sector
 * inside the disk (checked here in 128-bit arithmetic, independently of
 * the validator); a flush without segments covers no sectors, whatever
 * its sector number.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "blkreq.h"

#define CHECK(c)	do { if (!(c)) abort(); } while (0)

static void check_segs(const struct skb_req_desc *d,
		       const struct skb_seg *segs, const struct skb_limits *lim)
{
	unsigned __int128 end;
	u64 total = 0;
	unsigned int i;

	for (i = 0; i < d->nr_segs; i++) {
		CHECK(segs[i].first <= segs[i].last);
		CHECK(segs[i].last < SK_BLKIF_SECTORS_PER_PAGE);
		total += segs[i].last - segs[i].first + 1;
	}
	CHECK(total == d->nr_sectors);
	end = (unsigned __int128)d->sector + total;
	CHECK(end <= lim->sectors);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct skb_seg segs[SK_BLKIF_MAX_INDIRECT_SEGS];
	static const u64 disks[] = { 0, 8, 1ull << 21, ~0ull };
	struct skb_limits lim;
	struct skb_req_desc d;
	enum skb_reason r;
	u8 *req;
	size_t rest;
	unsigned int i;

	if (size < SK_BLKIF_REQ_SIZE + 2)
		return 0;
	lim.sectors = disks[data[0] & 3];
	lim.max_segs = (data[0] >> 2 & 3) == 0 ? 0 :
		       (data[0] >> 2 & 3) == 1 ? 32 :
		       (data[0] >> 2 & 3) == 2 ? 256 : 100000;
	lim.read_only = data[0] & 0x10;
	lim.discard = data[0] & 0x20;
	lim.flush = data[0] & 0x40;
	lim.barrier = data[0] & 0x80;
	/* exact-size copy: ASan sees any read past the request */
	req = malloc(SK_BLKIF_REQ_SIZE);
	memcpy(req, data + 1, SK_BLKIF_REQ_SIZE);
	r = skb_req_parse(req, &lim, &d);
	CHECK(skb_reason_str(r) != NULL);
	CHECK(skb_reason_status(r) <= 0 && skb_reason_status(r) >= -2);
	if (r != SKB_OK)
		goto out;
	CHECK(d.op == req[0] || req[0] == SK_BLKIF_OP_INDIRECT);
	/* only a direct WRITE_BARRIER is a barrier, and always a flush */
	CHECK(d.barrier == (req[0] == SK_BLKIF_OP_WRITE_BARRIER));
	CHECK(!d.barrier || d.kind == SKB_KIND_FLUSH);
	switch (d.kind) {
	case SKB_KIND_WRITE:
	case SKB_KIND_DISCARD:
		CHECK(!lim.read_only);
		break;
	case SKB_KIND_FLUSH:
		CHECK(d.barrier ? lim.barrier : lim.flush);
		CHECK(!lim.read_only || !d.nr_segs);
		break;
	default:
		break;
	}
	if (d.kind == SKB_KIND_DISCARD) {
		CHECK(lim.discard);
		CHECK((unsigned __int128)d.sector + d.nr_sectors <=
		      lim.sectors);
		goto out;
	}
	if (!d.indirect) {
		CHECK(d.nr_segs <= SK_BLKIF_MAX_DIRECT_SEGS);
		CHECK(d.nr_segs || d.kind == SKB_KIND_FLUSH);
		/* an empty flush covers no sectors: its sector means nothing */
		if (d.nr_segs)
			check_segs(&d, d.segs, &lim);
		else
			CHECK(d.nr_sectors == 0);
		goto out;
	}
	CHECK(d.kind == SKB_KIND_READ || d.kind == SKB_KIND_WRITE);
	CHECK(d.nr_segs >= 1 && d.nr_segs <= lim.max_segs);
	CHECK(d.nr_segs <= SK_BLKIF_MAX_INDIRECT_SEGS);
	CHECK(d.nr_indirect >= 1 && d.nr_indirect <= SK_BLKIF_MAX_INDIRECT_PAGES);
	CHECK((unsigned int)d.nr_indirect * SK_BLKIF_SEGS_PER_INDIRECT_PAGE >=
	      d.nr_segs);
	/* the indirect pages: the rest of the input, zero-padded */
	rest = size - 1 - SK_BLKIF_REQ_SIZE;
	for (i = 0; i < d.nr_segs; i++) {
		u8 raw[SK_BLKIF_SEG_SIZE] = { 0 };
		size_t off = (size_t)i * SK_BLKIF_SEG_SIZE;

		if (off < rest)
			memcpy(raw, data + 1 + SK_BLKIF_REQ_SIZE + off,
			       rest - off < SK_BLKIF_SEG_SIZE ? rest - off :
			       SK_BLKIF_SEG_SIZE);
		if (skb_seg_unpack(raw, &segs[i]) != SKB_OK)
			goto out;
	}
	if (skb_req_check_segs(&d, segs, &lim) == SKB_OK)
		check_segs(&d, segs, &lim);
out:
	free(req);
	return 0;
}
