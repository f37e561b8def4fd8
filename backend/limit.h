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

/* Most disks of one guest with limits, and with ring agreements. */
extern unsigned int skb_limits_per_domain;

void skb_limit_wait(struct skb_dev *d, const struct skb_req_desc *desc);
void skb_limits_exit(void);

#endif /* _SPLITKIT_BACK_LIMIT_H */
