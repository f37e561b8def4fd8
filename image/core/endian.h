/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Big-endian loads and stores for qcow2's on-disk structures.
 *
 * qcow2 is big-endian throughout.  These helpers go byte by byte so they work
 * on unaligned buffers and on either host byte order, in the kernel and in
 * userspace alike.  Stores mask each byte explicitly so that sparse, which
 * sees them inlined with constants, finds no truncating cast.
 */
#ifndef _SPLITKIT_IMAGE_ENDIAN_H
#define _SPLITKIT_IMAGE_ENDIAN_H

#include "platform.h"

static inline u16 ski_get_be16(const void *p)
{
	const u8 *b = p;

	return (u16)((b[0] << 8) | b[1]);
}

static inline u32 ski_get_be32(const void *p)
{
	const u8 *b = p;

	return ((u32)b[0] << 24) | ((u32)b[1] << 16) | ((u32)b[2] << 8) | b[3];
}

static inline u64 ski_get_be64(const void *p)
{
	const u8 *b = p;

	return ((u64)ski_get_be32(b) << 32) | ski_get_be32(b + 4);
}

static inline void ski_put_be16(void *p, u16 v)
{
	u8 *b = p;

	b[0] = (v >> 8) & 0xff;
	b[1] = v & 0xff;
}

static inline void ski_put_be32(void *p, u32 v)
{
	u8 *b = p;

	b[0] = (v >> 24) & 0xff;
	b[1] = (v >> 16) & 0xff;
	b[2] = (v >> 8) & 0xff;
	b[3] = v & 0xff;
}

static inline void ski_put_be64(void *p, u64 v)
{
	ski_put_be32(p, v >> 32);
	ski_put_be32((u8 *)p + 4, (u32)v);
}

#endif /* _SPLITKIT_IMAGE_ENDIAN_H */
