/* SPDX-License-Identifier: GPL-2.0 */
/*
 * splitkit_ring XenStore helpers (ring/xs.c): reading numbers the peer
 * wrote, strictly, through the fuzzed parser of ring/core/parse.c.
 */
#ifndef _SPLITKIT_RING_XS_H
#define _SPLITKIT_RING_XS_H

#include <linux/types.h>

int sk_xs_read_u32(const char *dir, const char *node, u32 max, u32 def,
		   u32 *out);

#endif /* _SPLITKIT_RING_XS_H */
