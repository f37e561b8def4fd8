/* SPDX-License-Identifier: GPL-2.0 */
/*
 * splitkit blkif wire format: the one definition of the block protocol's
 * ring entries that both ends, the backend's request validator and the
 * hostile test frontend use - operations, response status values, the
 * request, response, segment and indirect layouts, and the limits.  It is
 * Xen's io/blkif.h for the x86_64 ABI (the only one splitkit speaks; the
 * backend refuses any other "protocol"), restated over
 * <splitkit/platform.h> so that the portable cores (backend/core/,
 * frontend/core/) and their userspace unit tests and fuzzers need no
 * kernel header.
 *
 * Every name keeps Xen's field names (u.rw.sector_number, u.indirect.
 * indirect_grefs, ...), so the kernel build checks each one against the
 * kernel's own <xen/interface/io/blkif.h> at the bottom of this file: a
 * value or an offset that drifted fails the build of every module that
 * includes this header.
 *
 * Layouts are packed exactly as in io/blkif.h: a request is 112 bytes (its
 * id always at byte 8), a response 16, a segment 8.  Code that parses a
 * peer's request reads it field by field at the SK_BLKIF_OFF_* offsets of
 * a private copy (backend/core/blkreq.c); code that builds one may fill
 * struct sk_blkif_request.
 */
#ifndef _SPLITKIT_BLKIF_H
#define _SPLITKIT_BLKIF_H

#include <splitkit/platform.h>

/* ---- operations (request.operation) ---- */

#define SK_BLKIF_OP_READ		0
#define SK_BLKIF_OP_WRITE		1
#define SK_BLKIF_OP_WRITE_BARRIER	2	/* feature-barrier */
#define SK_BLKIF_OP_FLUSH_DISKCACHE	3	/* feature-flush-cache */
#define SK_BLKIF_OP_DISCARD		5	/* feature-discard */
#define SK_BLKIF_OP_INDIRECT		6	/* feature-max-indirect-segments */

/* u.discard.flag: discard-secure was offered and is asked for. */
#define SK_BLKIF_DISCARD_SECURE		1

/* ---- response status (response.status) ---- */

#define SK_BLKIF_RSP_EOPNOTSUPP		(-2)	/* operation not supported */
#define SK_BLKIF_RSP_ERROR		(-1)	/* failed (I/O error, refused) */
#define SK_BLKIF_RSP_OKAY		0

/* ---- limits ---- */

/* Sectors are 512 bytes whatever sector-size says; grants are 4 KiB. */
#define SK_BLKIF_SECTOR_SHIFT		9u
#define SK_BLKIF_PAGE_SIZE		4096u
#define SK_BLKIF_SECTORS_PER_PAGE	(SK_BLKIF_PAGE_SIZE >> \
					 SK_BLKIF_SECTOR_SHIFT)

/* Segments in a direct request (BLKIF_MAX_SEGMENTS_PER_REQUEST). */
#define SK_BLKIF_MAX_DIRECT_SEGS	11u
/* Indirect pages one request names (BLKIF_MAX_INDIRECT_PAGES_PER_REQUEST). */
#define SK_BLKIF_MAX_INDIRECT_PAGES	8u
#define SK_BLKIF_SEG_SIZE		8u
#define SK_BLKIF_SEGS_PER_INDIRECT_PAGE	(SK_BLKIF_PAGE_SIZE / SK_BLKIF_SEG_SIZE)
/* Most segments of an indirect request: 4096. */
#define SK_BLKIF_MAX_INDIRECT_SEGS	(SK_BLKIF_MAX_INDIRECT_PAGES * \
					 SK_BLKIF_SEGS_PER_INDIRECT_PAGE)

/* ---- layouts ---- */

#define SK_BLKIF_PACKED	__attribute__((__packed__))

/**
 * struct sk_blkif_segment - one 4 KiB grant page of a request's data.
 * @gref: the frontend's grant reference of the page.
 * @first_sect: first 512-byte sector used in the page (inclusive).
 * @last_sect: last sector used (inclusive); first_sect <= last_sect < 8.
 * @_pad: padding (implicit in io/blkif.h).
 *
 * In a direct request they follow the header (u.rw.seg); an indirect
 * request's segments fill whole indirect pages, 512 to a page.
 */
struct sk_blkif_segment {
	u32 gref;
	u8 first_sect;
	u8 last_sect;
	u16 _pad;
};

/* READ, WRITE, FLUSH_DISKCACHE, WRITE_BARRIER (nr_segments may be 0). */
struct sk_blkif_request_rw {
	u8 nr_segments;
	u16 handle;
	u32 _pad1;
	u64 id;
	u64 sector_number;
	struct sk_blkif_segment seg[SK_BLKIF_MAX_DIRECT_SEGS];
} SK_BLKIF_PACKED;

/* DISCARD: a sector range, no data. */
struct sk_blkif_request_discard {
	u8 flag;
	u16 _pad1;
	u32 _pad2;
	u64 id;
	u64 sector_number;
	u64 nr_sectors;
	u8 _pad3;
} SK_BLKIF_PACKED;

/* Any other operation: only the id is defined (it is answered). */
struct sk_blkif_request_other {
	u8 _pad1;
	u16 _pad2;
	u32 _pad3;
	u64 id;
} SK_BLKIF_PACKED;

/* INDIRECT: a READ or WRITE whose segments are in separate grant pages. */
struct sk_blkif_request_indirect {
	u8 indirect_op;
	u16 nr_segments;
	u32 _pad1;
	u64 id;
	u64 sector_number;
	u16 handle;
	u16 _pad2;
	u32 indirect_grefs[SK_BLKIF_MAX_INDIRECT_PAGES];
	u32 _pad3;
} SK_BLKIF_PACKED;

/**
 * struct sk_blkif_request - one request entry of the shared ring.
 * @operation: SK_BLKIF_OP_*; selects the member of @u.
 * @u: the operation's fields; the id is at the same offset in each.
 */
struct sk_blkif_request {
	u8 operation;
	union {
		struct sk_blkif_request_rw rw;
		struct sk_blkif_request_discard discard;
		struct sk_blkif_request_other other;
		struct sk_blkif_request_indirect indirect;
	} u;
} SK_BLKIF_PACKED;

/**
 * struct sk_blkif_response - one response entry of the shared ring.
 * @id: the request's id.
 * @operation: the request's operation (an indirect request may be
 *	answered with SK_BLKIF_OP_INDIRECT or with its inner operation).
 * @status: SK_BLKIF_RSP_*.
 */
struct sk_blkif_response {
	u64 id;
	u8 operation;
	s16 status;
};

#define SK_BLKIF_REQ_SIZE	112u
#define SK_BLKIF_RSP_SIZE	16u

/*
 * Byte offsets for parsers that read a private copy field by field
 * (little-endian, as every x86 ring entry is).
 */
#define SK_BLKIF_OFF(f)		offsetof(struct sk_blkif_request, f)
#define SK_BLKIF_OFF_OP		SK_BLKIF_OFF(operation)
#define SK_BLKIF_OFF_ID		SK_BLKIF_OFF(u.other.id)
#define SK_BLKIF_OFF_NR_SEGS	SK_BLKIF_OFF(u.rw.nr_segments)		/* u8 */
#define SK_BLKIF_OFF_SECTOR	SK_BLKIF_OFF(u.rw.sector_number)
#define SK_BLKIF_OFF_SEGS	SK_BLKIF_OFF(u.rw.seg)
#define SK_BLKIF_OFF_DISCARD_NR	SK_BLKIF_OFF(u.discard.nr_sectors)
#define SK_BLKIF_OFF_IND_OP	SK_BLKIF_OFF(u.indirect.indirect_op)
#define SK_BLKIF_OFF_IND_NR_SEGS SK_BLKIF_OFF(u.indirect.nr_segments)	/* u16 */
#define SK_BLKIF_OFF_IND_GREFS	SK_BLKIF_OFF(u.indirect.indirect_grefs)
#define SK_BLKIF_RSP_OFF_ID	offsetof(struct sk_blkif_response, id)
#define SK_BLKIF_RSP_OFF_OP	offsetof(struct sk_blkif_response, operation)
#define SK_BLKIF_RSP_OFF_STATUS	offsetof(struct sk_blkif_response, status)
#define SK_BLKIF_SEG_OFF_GREF	offsetof(struct sk_blkif_segment, gref)
#define SK_BLKIF_SEG_OFF_FIRST	offsetof(struct sk_blkif_segment, first_sect)
#define SK_BLKIF_SEG_OFF_LAST	offsetof(struct sk_blkif_segment, last_sect)

SK_STATIC_ASSERT(sizeof(struct sk_blkif_request) == SK_BLKIF_REQ_SIZE,
		 "blkif request is 112 bytes");
SK_STATIC_ASSERT(sizeof(struct sk_blkif_response) == SK_BLKIF_RSP_SIZE,
		 "blkif response is 16 bytes");
/* a response is id 0-7, operation 8, status 10-11; 9 and 12-15 pad */
SK_STATIC_ASSERT(SK_BLKIF_RSP_OFF_ID == 0 && SK_BLKIF_RSP_OFF_OP == 8 &&
		 SK_BLKIF_RSP_OFF_STATUS == 10, "blkif response layout");
SK_STATIC_ASSERT(sizeof(struct sk_blkif_segment) == SK_BLKIF_SEG_SIZE,
		 "blkif segment is 8 bytes");
/* the id sits at byte 8 of every request, and the sector at 16 */
SK_STATIC_ASSERT(SK_BLKIF_OFF(u.rw.id) == 8 &&
		 SK_BLKIF_OFF(u.discard.id) == 8 &&
		 SK_BLKIF_OFF(u.indirect.id) == 8 &&
		 SK_BLKIF_OFF(u.other.id) == 8, "blkif id at byte 8");
SK_STATIC_ASSERT(SK_BLKIF_OFF(u.discard.sector_number) == SK_BLKIF_OFF_SECTOR &&
		 SK_BLKIF_OFF(u.indirect.sector_number) == SK_BLKIF_OFF_SECTOR,
		 "blkif sector_number at one offset");

#ifndef SPLITKIT_USERSPACE
/*
 * The one list of checks against the kernel's copy of Xen's io/blkif.h:
 * every value and every field offset above.
 */
#include <xen/interface/io/blkif.h>
#include <xen/page.h>

#define SK_BLKIF_SAME(a, b)	SK_STATIC_ASSERT((a) == (b), #a " == " #b)
#define SK_BLKIF_SAME_REQ(f)	\
	SK_BLKIF_SAME(offsetof(struct sk_blkif_request, f), \
		      offsetof(struct blkif_request, f))
#define SK_BLKIF_SAME_RSP(f)	\
	SK_BLKIF_SAME(offsetof(struct sk_blkif_response, f), \
		      offsetof(struct blkif_response, f))
#define SK_BLKIF_SAME_SEG(f)	\
	SK_BLKIF_SAME(offsetof(struct sk_blkif_segment, f), \
		      offsetof(struct blkif_request_segment, f))

SK_BLKIF_SAME(SK_BLKIF_OP_READ, BLKIF_OP_READ);
SK_BLKIF_SAME(SK_BLKIF_OP_WRITE, BLKIF_OP_WRITE);
SK_BLKIF_SAME(SK_BLKIF_OP_WRITE_BARRIER, BLKIF_OP_WRITE_BARRIER);
SK_BLKIF_SAME(SK_BLKIF_OP_FLUSH_DISKCACHE, BLKIF_OP_FLUSH_DISKCACHE);
SK_BLKIF_SAME(SK_BLKIF_OP_DISCARD, BLKIF_OP_DISCARD);
SK_BLKIF_SAME(SK_BLKIF_OP_INDIRECT, BLKIF_OP_INDIRECT);
SK_BLKIF_SAME(SK_BLKIF_DISCARD_SECURE, BLKIF_DISCARD_SECURE);
SK_BLKIF_SAME(SK_BLKIF_RSP_EOPNOTSUPP, BLKIF_RSP_EOPNOTSUPP);
SK_BLKIF_SAME(SK_BLKIF_RSP_ERROR, BLKIF_RSP_ERROR);
SK_BLKIF_SAME(SK_BLKIF_RSP_OKAY, BLKIF_RSP_OKAY);
SK_BLKIF_SAME(SK_BLKIF_MAX_DIRECT_SEGS, BLKIF_MAX_SEGMENTS_PER_REQUEST);
SK_BLKIF_SAME(SK_BLKIF_MAX_INDIRECT_PAGES,
	      BLKIF_MAX_INDIRECT_PAGES_PER_REQUEST);
SK_BLKIF_SAME(SK_BLKIF_PAGE_SIZE, XEN_PAGE_SIZE);

SK_BLKIF_SAME(sizeof(struct sk_blkif_request), sizeof(struct blkif_request));
SK_BLKIF_SAME(sizeof(struct sk_blkif_response), sizeof(struct blkif_response));
SK_BLKIF_SAME(sizeof(struct sk_blkif_segment),
	      sizeof(struct blkif_request_segment));
SK_BLKIF_SAME_SEG(gref);
SK_BLKIF_SAME_SEG(first_sect);
SK_BLKIF_SAME_SEG(last_sect);
SK_BLKIF_SAME_RSP(id);
SK_BLKIF_SAME_RSP(operation);
SK_BLKIF_SAME_RSP(status);
SK_BLKIF_SAME_REQ(u.rw.nr_segments);
SK_BLKIF_SAME_REQ(u.rw.handle);
SK_BLKIF_SAME_REQ(u.rw.id);
SK_BLKIF_SAME_REQ(u.rw.sector_number);
SK_BLKIF_SAME_REQ(u.rw.seg);
SK_BLKIF_SAME_REQ(u.discard.flag);
SK_BLKIF_SAME_REQ(u.discard.id);
SK_BLKIF_SAME_REQ(u.discard.sector_number);
SK_BLKIF_SAME_REQ(u.discard.nr_sectors);
SK_BLKIF_SAME_REQ(u.other.id);
SK_BLKIF_SAME_REQ(u.indirect.indirect_op);
SK_BLKIF_SAME_REQ(u.indirect.nr_segments);
SK_BLKIF_SAME_REQ(u.indirect.id);
SK_BLKIF_SAME_REQ(u.indirect.sector_number);
SK_BLKIF_SAME_REQ(u.indirect.handle);
SK_BLKIF_SAME_REQ(u.indirect.indirect_grefs);

#undef SK_BLKIF_SAME_SEG
#undef SK_BLKIF_SAME_RSP
#undef SK_BLKIF_SAME_REQ
#undef SK_BLKIF_SAME
#endif /* !SPLITKIT_USERSPACE */

#endif /* _SPLITKIT_BLKIF_H */
