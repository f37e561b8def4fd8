/* SPDX-License-Identifier: GPL-2.0 */
/*
 * splitkit_back's per-disk I/O limits and ring agreements, as another
 * module sets them: splitkit_negotiate applies an agreed blk.iops or
 * blk.bandwidth with skb_limit_set(), blk.queues or blk.ring with
 * skb_ring_set() (each found at run time with symbol_get(), so a guest
 * that has no splitkit_back can load splitkit_negotiate).  The rates are
 * enforced at request dispatch (backend/limit.c), the rings by what the
 * disk advertises and by reconfiguring it (backend/rings.c).
 */
#ifndef _SPLITKIT_BLK_LIMIT_H
#define _SPLITKIT_BLK_LIMIT_H

#include <linux/types.h>

/* Which limit of a disk. */
enum skb_limit_kind {
	SKB_LIMIT_IOPS,		/* requests per second */
	SKB_LIMIT_BW,		/* bytes per second */
	SKB_NR_LIMIT_KINDS
};

int skb_limit_set(u16 domid, u32 vdev, unsigned int kind, u64 rate);

/*
 * The rings of a disk (backend/rings.c): blk.queues and blk.ring, applied
 * with skb_ring_set(), on a live connection by a reconfiguration.
 */
enum skb_ring_kind {
	SKB_RING_QUEUES,	/* most rings */
	SKB_RING_PAGES,		/* most pages per ring, a power of two */
	SKB_NR_RING_KINDS
};

int skb_ring_set(u16 domid, u32 vdev, unsigned int kind, u32 value);

#endif /* _SPLITKIT_BLK_LIMIT_H */
