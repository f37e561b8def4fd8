/* SPDX-License-Identifier: GPL-2.0 */
/*
 * splitkit_back's per-disk I/O limits, as another module sets them:
 * splitkit_negotiate applies an agreed blk.iops or blk.bandwidth with
 * skb_limit_set() (found at run time with symbol_get(), so a guest that
 * has no splitkit_back can load splitkit_negotiate).  The limits are
 * enforced at request dispatch (backend/limit.c).
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

/* Most disks with a limit at once, all guests together. */
#define SKB_MAX_LIMITS	64

int skb_limit_set(u16 domid, u32 vdev, unsigned int kind, u64 rate);

#endif /* _SPLITKIT_BLK_LIMIT_H */
