/* SPDX-License-Identifier: GPL-2.0 */
/*
 * splitkit_back per-disk I/O limits (limit.c): the one call the request
 * dispatch makes (blkif.c).  The setter other modules use is
 * <splitkit/blk_limit.h>.
 */
#ifndef _SPLITKIT_BACK_LIMIT_H
#define _SPLITKIT_BACK_LIMIT_H

struct skb_dev;
struct skb_req_desc;
struct sk_chan;

#include <linux/list.h>
#include <linux/types.h>

/* Most disks of one guest with limits, and with ring agreements. */
extern unsigned int skb_limits_per_domain;

/**
 * struct skb_disk_key - the key of an entry of a per-disk table: limit.c's
 * limits, rings.c's ring agreements (first member of each entry).
 * @node: in the table's list.
 * @domid: the guest.
 * @vdev: the disk's virtual-device number.
 */
struct skb_disk_key {
	struct list_head node;
	u16 domid;
	u32 vdev;
};

struct skb_disk_key *skb_disk_find(struct list_head *tab, u16 domid,
				   u32 vdev);
int skb_disk_add(struct list_head *tab, struct skb_disk_key *k, u16 domid,
		 u32 vdev);
__printf(3, 4)
bool skb_param_line(char *buf, int *len, const char *fmt, ...);

void skb_limit_wait(struct skb_dev *d, struct sk_chan *ch,
		    const struct skb_req_desc *desc);
void skb_limits_exit(void);

#endif /* _SPLITKIT_BACK_LIMIT_H */
