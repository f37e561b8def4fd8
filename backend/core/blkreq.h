/* SPDX-License-Identifier: GPL-2.0 */
/*
 * splitkit_back request validator: the portable core that turns one blkif
 * request, as copied out of the shared ring, into a checked private
 * description (struct skb_req_desc) or a refusal with a reason.
 *
 * Nothing here trusts the frontend: the raw 112-byte request is read field
 * by field at the fixed offsets of <splitkit/blkif.h> (Xen's io/blkif.h,
 * x86_64 ABI), and
 * every value the I/O paths later use - operation, segment count, grant
 * references, first/last sector of each segment, the sector range, the
 * indirect page count - is checked against the disk and our limits first.
 * The same file is compiled into splitkit_back.ko and, unchanged, into the
 * userspace unit tests and the libFuzzer target (tests/unit/back/).  The
 * frontend counterpart producing these requests is Linux's xen-blkfront or
 * splitkit's frontend/.
 */
#ifndef _SPLITKIT_BACK_BLKREQ_H
#define _SPLITKIT_BACK_BLKREQ_H

#include <splitkit/blkif.h>
#include <splitkit/platform.h>

/* What the backend does for a request. */
enum skb_kind {
	SKB_KIND_READ,
	SKB_KIND_WRITE,
	SKB_KIND_FLUSH,		/* FLUSH_DISKCACHE, WRITE_BARRIER; data optional */
	SKB_KIND_DISCARD,
};

/* Why a request was refused; skb_reason_str() names each. */
enum skb_reason {
	SKB_OK = 0,
	SKB_BAD_OP,		/* unknown operation */
	SKB_NOT_SUPPORTED,	/* operation we did not advertise */
	SKB_READ_ONLY,		/* write of any kind on an access=ro disk */
	SKB_BAD_NR_SEGS,	/* 0 (read/write) or more than allowed */
	SKB_BAD_INDIRECT_OP,	/* indirect wrapping other than read/write */
	SKB_BAD_SEG,		/* first_sect > last_sect or past the page */
	SKB_BAD_RANGE,		/* sectors outside the disk or overflowing */
	SKB_MISALIGNED,		/* not in whole logical blocks (sector-size) */
	SKB_NR_REASONS
};

/**
 * struct skb_seg - one checked data segment.
 * @gref: the frontend's grant reference of the page.
 * @first: first 512-byte sector in the page (inclusive).
 * @last: last sector in the page (inclusive), @first <= @last < 8.
 */
struct skb_seg {
	u32 gref;
	u8 first;
	u8 last;
};

/**
 * struct skb_limits - what the disk and the backend accept.
 * @sectors: disk size in 512-byte sectors.
 * @sector_size: logical block size advertised (sector-size), bytes: a
 *	power of two from 512 to 4096; 0 counts as 512.  Reads, writes,
 *	flushes with data and discards must start and end on it.
 * @max_segs: most segments of an indirect request
 *	(feature-max-indirect-segments); 0 refuses BLKIF_OP_INDIRECT.
 * @read_only: refuse writes, flushes and barriers with data, discards.
 * @discard: feature-discard was advertised.
 * @flush: feature-flush-cache was advertised.
 * @barrier: feature-barrier was advertised.
 */
struct skb_limits {
	u64 sectors;
	u32 sector_size;
	u32 max_segs;
	bool read_only;
	bool discard;
	bool flush;
	bool barrier;
};

/**
 * struct skb_req_desc - a request after the first validation step.
 * @id: the frontend's id, echoed in the response.
 * @sector: first sector.
 * @nr_sectors: sectors covered (discard: as requested; rw: filled in by
 *	skb_req_check_segs()).
 * @op: operation to echo in the response (the inner op of an indirect).
 * @kind: what to do.
 * @barrier: a WRITE_BARRIER (@kind is SKB_KIND_FLUSH): the I/O of a
 *	flush, ordered against the other requests of its ring.
 * @indirect: the segments are in indirect pages.
 * @nr_segs: data segments.
 * @nr_indirect: indirect pages holding them.
 * @indirect_grefs: their grant references.
 * @segs: the direct segments (valid when !@indirect), already checked.
 */
struct skb_req_desc {
	u64 id;
	u64 sector;
	u64 nr_sectors;
	u8 op;
	u8 kind;
	bool barrier;
	bool indirect;
	u16 nr_segs;
	u8 nr_indirect;
	u32 indirect_grefs[SK_BLKIF_MAX_INDIRECT_PAGES];
	struct skb_seg segs[SK_BLKIF_MAX_DIRECT_SEGS];
};

enum skb_reason skb_req_parse(const void *raw, const struct skb_limits *lim,
			      struct skb_req_desc *d);
enum skb_reason skb_seg_unpack(const void *raw, struct skb_seg *seg);
bool skb_segs_contiguous(const struct skb_seg *segs, u32 n);
enum skb_reason skb_req_check_segs(struct skb_req_desc *d,
				   const struct skb_seg *segs,
				   const struct skb_limits *lim);
int skb_reason_status(enum skb_reason r);
void skb_rsp_pack(void *raw, u64 id, u8 op, s16 status);
const char *skb_reason_str(enum skb_reason r);

#endif /* _SPLITKIT_BACK_BLKREQ_H */
