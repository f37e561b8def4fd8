/* SPDX-License-Identifier: GPL-2.0 */
/*
 * splitkit_front portable core: everything the frontend decides about what
 * the backend tells it, as plain C over <splitkit/platform.h>, so that the
 * kernel module (frontend/completion.c, frontend/xenbus.c) and the host
 * unit tests and fuzzers (tests/unit/front/) run the very same code.
 *
 * - Response tracking: every request slot (one per blk-mq tag of a queue)
 *   is idle or in flight with the operation it carries.  The id written in
 *   a request names its slot and the slot's generation (each issue is a
 *   new one), so an answer replayed after the slot was reused cannot pass
 *   for the new request's.  A response is accepted only if its id names an
 *   in-flight slot in its current generation, its operation is the one we
 *   sent and its status is one blkif defines; anything else is a malicious
 *   or buggy backend.
 * - Negotiation: sector sizes, capacity, indirect segments and discard
 *   parameters read from the backend's XenStore directory (through
 *   splitkit_ring's XenStore layer) are checked and clamped here before
 *   the block layer sees them.
 * - Device naming: "virtual-device" to xvd minor and name.
 * - Segment layout: how many 4 KiB grant pages a request of N bytes needs
 *   and which 512-byte sectors of each page it uses.
 * - Routing: which ring and slot a request takes when the backend offers
 *   fewer queues than the disk has (route.c).
 *
 * The numbers of the wire protocol (operations, status values, limits) come
 * from <splitkit/blkif.h>, which the kernel build checks against Xen's
 * io/blkif.h.
 *
 * Concurrency: a struct skf_track is shared by the producers of one queue
 * (each only ever touches the slot of its own tag) and the single consumer
 * of that queue's ring; the ring's lock orders a slot's issue before its
 * response is read.
 */
#ifndef _SPLITKIT_FRONT_CHECK_H
#define _SPLITKIT_FRONT_CHECK_H

#include <splitkit/blkif.h>
#include <splitkit/platform.h>

/* ---- response tracking (track.c) ---- */

/*
 * A request id: the slot number in the low 32 bits, the slot's generation
 * in the high 32 (blkif ids are 64-bit values the backend copies back).
 */
#define SKF_ID_SLOT(id)		((u32)(id))
#define SKF_ID_GEN(id)		((u32)((id) >> 32))

/**
 * struct skf_slot - one request slot of a queue.
 * @gen:   generation of the slot's latest issue (counts issues, wraps).
 * @busy:  1 while a request is in flight in this slot: from its
 *	   skf_track_commit() (the request is in the ring) to the answer
 *	   that retires it.
 * @op:    the operation field we wrote in the ring request.
 * @alt_op: a second operation the backend may echo: for an indirect request
 *	   Linux's xen-blkback answers with the inner operation (read or
 *	   write) while io/blkif.h says "copied from request"; both are taken.
 *	   Equal to @op otherwise.
 */
struct skf_slot {
	u32 gen;
	u8 busy;
	u8 op;
	u8 alt_op;
};

/**
 * struct skf_track - request slots of one queue.
 * @slots:    @nr slots, owned by the caller.
 * @nr:       number of slots (the queue depth).
 *
 * There is deliberately no shared in-flight counter: issuers of different
 * slots run concurrently with the consumer, and each writes only its own
 * slot.  skf_track_busy() counts when a caller needs the number.
 */
struct skf_track {
	struct skf_slot *slots;
	u32 nr;
};

/**
 * enum skf_verdict - what to do with one response.
 * @SKF_V_OK:       completed; the request succeeded.
 * @SKF_V_IOERR:    completed; the backend reports an I/O error.
 * @SKF_V_NOTSUPP:  completed; the backend does not support the operation
 *		    (flush, barrier, discard): stop using it.
 * @SKF_V_BAD_ID:   violation: the id names no slot.  No slot retired.
 * @SKF_V_STALE:    violation: the slot is not in flight, or in flight in
 *		    another generation (a duplicate, a replayed or an invented
 *		    response).  No slot retired.
 * @SKF_V_BAD_OP:   violation: the operation is not the one sent.  The slot
 *		    is retired; its request must fail.
 * @SKF_V_BAD_STATUS: violation: a status blkif does not define.  The slot is
 *		    retired; its request must fail.
 */
enum skf_verdict {
	SKF_V_OK,
	SKF_V_IOERR,
	SKF_V_NOTSUPP,
	SKF_V_BAD_ID,
	SKF_V_STALE,
	SKF_V_BAD_OP,
	SKF_V_BAD_STATUS,
};

/* Did the verdict retire a slot (whose request must now be completed)? */
static inline bool skf_verdict_retires(enum skf_verdict v)
{
	return v != SKF_V_BAD_ID && v != SKF_V_STALE;
}

/* Is the verdict a protocol violation by the backend? */
static inline bool skf_verdict_violation(enum skf_verdict v)
{
	return v >= SKF_V_BAD_ID;
}

void skf_track_init(struct skf_track *t, struct skf_slot *slots, u32 nr);
void skf_track_reset(struct skf_track *t);
int skf_track_issue(struct skf_track *t, u32 slot, u8 op, u8 alt_op);
void skf_track_commit(struct skf_track *t, u32 slot);
u64 skf_track_id(const struct skf_track *t, u32 slot);
u32 skf_track_busy(const struct skf_track *t);
enum skf_verdict skf_track_complete(struct skf_track *t, u64 id, u8 op,
				    int status, u32 *slot);

/* ---- negotiation (negotiate.c) ---- */

/**
 * struct skf_geom - disk geometry as the backend announced it.
 * @sectors:     capacity in 512-byte sectors ("sectors").
 * @sector_size: logical block size in bytes ("sector-size").
 * @phys_size:   physical block size in bytes ("physical-sector-size",
 *		 defaults to @sector_size).
 */
struct skf_geom {
	u64 sectors;
	u32 sector_size;
	u32 phys_size;
};

int skf_geom_check(const struct skf_geom *g);
u32 skf_indirect_segs(u32 backend_max, u32 our_max);

/**
 * struct skf_discard - discard parameters after checking.
 * @granularity: bytes, a power of two, at least the logical block size.
 * @alignment:   bytes, below @granularity.
 */
struct skf_discard {
	u32 granularity;
	u32 alignment;
};

int skf_discard_check(u32 granularity, u32 alignment, u32 sector_size,
		      struct skf_discard *out);

/* ---- device naming (vdev.c) ---- */

/**
 * struct skf_vdev - where a "virtual-device" number puts the disk.
 * @minor:     first minor under the xvd major (202).
 * @nr_minors: minors the disk owns (whole disk and partitions; 1 for a
 *	       partition-only device such as xvda1).
 * @index:     disk index: 0 -> xvda, 25 -> xvdz, 26 -> xvdaa.
 * @part:      partition number for a partition-only device, else 0.
 * @emulated:  the number names an IDE (hdX) or SCSI (sdX) disk.
 */
struct skf_vdev {
	u32 minor;
	u32 nr_minors;
	u32 index;
	u32 part;
	bool emulated;
};

int skf_vdev_decode(u32 vdevice, struct skf_vdev *out);
int skf_disk_name(const struct skf_vdev *v, char *buf, size_t len);

/* ---- segment layout (segs.c) ---- */

/* 4 KiB pages a request of @bytes needs (bytes are whole sectors). */
static inline u32 skf_nr_pages(u32 bytes)
{
	return (bytes + SK_BLKIF_PAGE_SIZE - 1) / SK_BLKIF_PAGE_SIZE;
}

int skf_seg_sectors(u32 bytes, u32 page, u8 *first, u8 *last);

/* ---- routing (route.c) ---- */

/**
 * struct skf_layout - the rings of a connection, or a disk's queues.
 * @nr_event: event-driven ones, numbered from 0 (at least 1).
 * @nr_poll:  polled ones, numbered after them.
 */
struct skf_layout {
	u32 nr_event;
	u32 nr_poll;
};

int skf_layout_check(const struct skf_layout *cap,
		     const struct skf_layout *now);
u32 skf_ring_slots(u32 ring, u32 depth, u32 nr_hctx);
bool skf_route(const struct skf_layout *now, u32 depth, u32 hctx, bool polled,
	       u32 tag, u32 *ring, u32 *slot);

#endif /* _SPLITKIT_FRONT_CHECK_H */
