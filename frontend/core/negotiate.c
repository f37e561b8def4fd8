// SPDX-License-Identifier: GPL-2.0
/*
 * splitkit_front portable core: checks of what the backend announced in
 * XenStore (geometry, indirect segments, discard parameters), range-checked
 * before they become block-layer limits.  The XenStore values themselves
 * are read and parsed by splitkit_ring's XenStore layer.
 * Linked into splitkit_front.ko and built unchanged on the host by
 * tests/unit/front/ (unit test and libFuzzer target); see check.h.
 */
#include "check.h"

static bool skf_pow2(u64 x)
{
	return x && !(x & (x - 1));
}

/* Largest capacity accepted: 2^48 sectors (128 PiB), far from overflow. */
#define SKF_MAX_SECTORS		(1ull << 48)

/**
 * skf_geom_check() - validate the geometry the backend announced.
 * @g: geometry read from XenStore.
 *
 * The logical block size must be a power of two from 512 bytes to one
 * page, the physical one a power of two from the logical size to 64 KiB,
 * and the capacity a whole number of logical blocks below 2^48 sectors.
 *
 * Return: 0 or -EINVAL.
 */
int skf_geom_check(const struct skf_geom *g)
{
	if (!skf_pow2(g->sector_size) || g->sector_size < 512 ||
	    g->sector_size > SK_BLKIF_PAGE_SIZE)
		return -EINVAL;
	if (!skf_pow2(g->phys_size) || g->phys_size < g->sector_size ||
	    g->phys_size > 65536)
		return -EINVAL;
	if (g->sectors >= SKF_MAX_SECTORS ||
	    g->sectors % (g->sector_size >> SK_BLKIF_SECTOR_SHIFT))
		return -EINVAL;
	return 0;
}

/**
 * skf_indirect_segs() - segments per indirect request to use.
 * @backend_max: "feature-max-indirect-segments" (0 when absent).
 * @our_max: the module parameter.
 *
 * Return: 0 (no indirect requests) when either side offers no more than a
 * direct request holds, else the smaller offer, capped at what
 * BLKIF_MAX_INDIRECT_PAGES_PER_REQUEST pages can describe.
 */
u32 skf_indirect_segs(u32 backend_max, u32 our_max)
{
	u32 n = backend_max < our_max ? backend_max : our_max;

	if (n > SK_BLKIF_MAX_INDIRECT_SEGS)
		n = SK_BLKIF_MAX_INDIRECT_SEGS;
	return n <= SK_BLKIF_MAX_DIRECT_SEGS ? 0 : n;
}

/**
 * skf_discard_check() - validate the backend's discard parameters.
 * @granularity: "discard-granularity" in bytes (0: one logical block).
 * @alignment: "discard-alignment" in bytes.
 * @sector_size: logical block size, already checked.
 * @out: the values to use.
 *
 * Return: 0, or -EINVAL when the granularity is not a power of two or is
 * above 1 GiB, or the alignment is not a multiple of 512 below the
 * granularity; the caller then leaves discard off.
 */
int skf_discard_check(u32 granularity, u32 alignment, u32 sector_size,
		      struct skf_discard *out)
{
	if (!granularity)
		granularity = sector_size;
	if (granularity < sector_size)
		granularity = sector_size;
	if (!skf_pow2(granularity) || granularity > (1u << 30))
		return -EINVAL;
	if (alignment % 512 || alignment >= granularity)
		return -EINVAL;
	out->granularity = granularity;
	out->alignment = alignment;
	return 0;
}
