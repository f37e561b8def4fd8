// SPDX-License-Identifier: GPL-2.0
/*
 * The reverse map of an open image: host cluster -> what uses it.
 *
 * Compaction and defragmentation (relocate.c) build it before they move
 * anything; while an operation runs, every mapping change in table.c and
 * refcount.c records its new owner here, so the map stays current without
 * those files knowing about the operations.  Outside an operation
 * img->rmap is NULL and recording is a no-op.  This file calls nothing else
 * in the core.
 */
#include "image_priv.h"

/**
 * ski_rmap_alloc() - start a reverse map of @nr clusters, all free
 * @img: open image with no map yet
 * @nr: clusters to cover at first (the map grows on demand)
 *
 * Return: 0 or -ENOMEM.
 */
int ski_rmap_alloc(struct ski_image *img, u64 nr)
{
	img->rmap = skp_zalloc(sizeof(*img->rmap));
	if (!img->rmap)
		return -ENOMEM;
	img->rmap->owner = skp_zalloc(nr * sizeof(u64));
	if (!img->rmap->owner)
		return -ENOMEM;
	img->rmap->nr = nr;
	return 0;
}

/** ski_rmap_free() - drop the reverse map, if any */
void ski_rmap_free(struct ski_image *img)
{
	if (!img->rmap)
		return;
	skp_free(img->rmap->owner);
	skp_free(img->rmap);
	img->rmap = NULL;
}

/**
 * ski_rmap_set() - record that @owner now uses host @cluster
 * @img: open image
 * @cluster: host cluster index
 * @owner: SKI_RMAP_* kind | index, or SKI_RMAP_FREE
 *
 * Out of memory poisons the map (nr 0): the operation stops at its next
 * check, the image itself is unaffected.
 */
void ski_rmap_set(struct ski_image *img, u64 cluster, u64 owner)
{
	struct ski_rmap *rmap = img->rmap;

	if (!rmap)
		return;
	if (cluster >= rmap->nr) {
		u64 nr = (cluster + 1) * 2, *grown;

		grown = skp_zalloc(nr * sizeof(u64));
		if (!grown) {
			rmap->nr = 0;
			return;
		}
		memcpy(grown, rmap->owner, rmap->nr * sizeof(u64));
		skp_free(rmap->owner);
		rmap->owner = grown;
		rmap->nr = nr;
	}
	rmap->owner[cluster] = owner;
}

/** ski_rmap_owner() - who uses host @cluster (SKI_RMAP_FREE past the map) */
u64 ski_rmap_owner(struct ski_image *img, u64 cluster)
{
	return cluster < img->rmap->nr ? img->rmap->owner[cluster] :
	       SKI_RMAP_FREE;
}
