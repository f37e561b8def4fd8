/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The blkif disk keys as one splitkit_ring key table, shared by both ends:
 * splitkit_back writes them (backend/xenbus.c), splitkit_front reads them
 * (frontend/xenbus.c).  Xen's io/blkif.h defines the names and meanings;
 * Documentation/design.rst, "XenStore key ownership", lists who writes
 * each.  The flags are the reader's: geometry is strict (a bad value
 * closes the device), features are lenient (a bad value means "not
 * offered").  The table is static data in each module that includes it.
 */
#ifndef _SPLITKIT_BLKIF_KEYS_H
#define _SPLITKIT_BLKIF_KEYS_H

#include <linux/bits.h>
#include <linux/kernel.h>

#include <splitkit/ring.h>

/**
 * struct sk_blkif_disk - values of the backend's blkif keys.
 * @sectors:     "sectors", capacity in 512-byte sectors.
 * @info:        "info", VDISK_* bits.
 * @sector_size: "sector-size".
 * @phys_size:   "physical-sector-size".
 * @flush:       "feature-flush-cache".
 * @barrier:     "feature-barrier".
 * @discard:     "feature-discard".
 * @persistent:  "feature-persistent" (the backend's).
 * @indirect:    "feature-max-indirect-segments".
 * @gran:        "discard-granularity" (with @discard).
 * @align:       "discard-alignment" (with @discard).
 * @secure:      "discard-secure" (with @discard).
 */
struct sk_blkif_disk {
	u64 sectors;
	u32 info;
	u32 sector_size;
	u32 phys_size;
	bool flush;
	bool barrier;
	bool discard;
	bool persistent;
	u32 indirect;
	u32 gran;
	u32 align;
	bool secure;
};

/*
 * splitkit's own frontend key, not in io/blkif.h: "1" when the frontend
 * follows a backend's Reconfiguring (new max-ring-page-order and
 * multi-queue-max-queues on a live connection; Documentation/block.rst).
 * A backend reconfigures no other frontend.
 */
#define SK_BLKIF_FEATURE_RECONFIGURE	"feature-splitkit-reconfigure"

/* Index of each key in sk_blkif_disk_keys[]. */
enum sk_blkif_key {
	SK_BLKIF_SECTORS, SK_BLKIF_INFO, SK_BLKIF_SECTOR_SIZE,
	SK_BLKIF_PHYS_SIZE, SK_BLKIF_FLUSH, SK_BLKIF_BARRIER, SK_BLKIF_DISCARD,
	SK_BLKIF_PERSISTENT, SK_BLKIF_INDIRECT,
	/* the discard parameters, last: read only with feature-discard */
	SK_BLKIF_GRAN, SK_BLKIF_ALIGN, SK_BLKIF_SECURE,
	SK_BLKIF_NR_KEYS
};

#define SK_BLKIF_KEY(name, type, flags, field, max)			\
	SK_XS_KEY(name, type, SK_XS_BACKEND, flags, struct sk_blkif_disk, \
		  field, 0, max, 0)

static const struct sk_xs_key sk_blkif_disk_keys[SK_BLKIF_NR_KEYS] = {
	[SK_BLKIF_SECTORS] = SK_BLKIF_KEY("sectors", SK_XS_U64,
					  SK_XS_REQUIRED, sectors,
					  U64_MAX - 1),
	[SK_BLKIF_INFO] = SK_BLKIF_KEY("info", SK_XS_U32, 0, info, U32_MAX),
	[SK_BLKIF_SECTOR_SIZE] = SK_BLKIF_KEY("sector-size", SK_XS_U32, 0,
					      sector_size, U32_MAX),
	[SK_BLKIF_PHYS_SIZE] = SK_BLKIF_KEY("physical-sector-size", SK_XS_U32,
					    0, phys_size, U32_MAX),
	[SK_BLKIF_FLUSH] = SK_BLKIF_KEY("feature-flush-cache", SK_XS_BOOL,
					SK_XS_LENIENT, flush, U32_MAX),
	[SK_BLKIF_BARRIER] = SK_BLKIF_KEY("feature-barrier", SK_XS_BOOL,
					  SK_XS_LENIENT, barrier, U32_MAX),
	[SK_BLKIF_DISCARD] = SK_BLKIF_KEY("feature-discard", SK_XS_BOOL,
					  SK_XS_LENIENT, discard, U32_MAX),
	[SK_BLKIF_PERSISTENT] = SK_BLKIF_KEY("feature-persistent", SK_XS_BOOL,
					     SK_XS_LENIENT, persistent,
					     U32_MAX),
	[SK_BLKIF_INDIRECT] = SK_BLKIF_KEY("feature-max-indirect-segments",
					   SK_XS_U32, SK_XS_LENIENT, indirect,
					   U32_MAX),
	[SK_BLKIF_GRAN] = SK_BLKIF_KEY("discard-granularity", SK_XS_U32,
				       SK_XS_LENIENT, gran, U32_MAX),
	[SK_BLKIF_ALIGN] = SK_BLKIF_KEY("discard-alignment", SK_XS_U32,
					SK_XS_LENIENT, align, U32_MAX),
	[SK_BLKIF_SECURE] = SK_BLKIF_KEY("discard-secure", SK_XS_BOOL,
					 SK_XS_LENIENT, secure, U32_MAX),
};

#endif /* _SPLITKIT_BLKIF_KEYS_H */
