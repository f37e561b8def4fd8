// SPDX-License-Identifier: GPL-2.0
/*
 * The reverse map of an open image: host cluster -> what uses it, over a
 * window of the file.
 *
 * Compaction and defragmentation (relocate.c) build it before they move
 * anything; while an operation runs, every mapping change in table.c and
 * refcount.c records its new owner here, so the map stays current without
 * those files knowing about the operations.  The map covers one window of
 * host clusters, [base, base + nr), allocated once when the operation
 * starts (at most SKI_RMAP_WINDOW entries, so its memory does not grow with
 * the file); changes outside the window are not recorded, and relocate.c
 * moves the window (rebuilding it from the tables) when it needs owners
 * elsewhere.  Outside an operation img->rmap is NULL and recording is a
 * no-op.  This file calls nothing else in the core.
 */
#include "image_priv.h"

/**
 * ski_rmap_alloc() - start a reverse map window of @nr clusters at 0
 * @img: open image with no map yet
 * @nr: clusters the window covers
 *
 * Return: 0 or -ENOMEM.
 */
int ski_rmap_alloc(struct ski_image *img, u64 nr)
{
	img->rmap = ski_io_zalloc(sizeof(*img->rmap));
	if (!img->rmap)
		return -ENOMEM;
	img->rmap->owner = ski_io_zalloc(nr * sizeof(u64));
	if (!img->rmap->owner) {
		skp_free(img->rmap);
		img->rmap = NULL;
		return -ENOMEM;
	}
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

/** ski_rmap_window() - move the window to start at @base, all free */
void ski_rmap_window(struct ski_image *img, u64 base)
{
	memset(img->rmap->owner, 0, img->rmap->nr * sizeof(u64));
	img->rmap->base = base;
}

/** ski_rmap_covers() - whether host @cluster is inside the window */
bool ski_rmap_covers(const struct ski_image *img, u64 cluster)
{
	return cluster >= img->rmap->base &&
	       cluster - img->rmap->base < img->rmap->nr;
}

/**
 * ski_rmap_set() - record that @owner now uses host @cluster
 * @img: open image
 * @cluster: host cluster index
 * @owner: SKI_RMAP_* kind | index, or SKI_RMAP_FREE
 *
 * A cluster outside the window is not recorded.
 */
void ski_rmap_set(struct ski_image *img, u64 cluster, u64 owner)
{
	if (img->rmap && ski_rmap_covers(img, cluster))
		img->rmap->owner[cluster - img->rmap->base] = owner;
}

/**
 * ski_rmap_owner() - who uses host @cluster
 * @img: open image with a map
 * @cluster: host cluster index
 *
 * Return: the owner, SKI_RMAP_FREE, or SKI_RMAP_UNKNOWN outside the window.
 */
u64 ski_rmap_owner(struct ski_image *img, u64 cluster)
{
	return ski_rmap_covers(img, cluster) ?
	       img->rmap->owner[cluster - img->rmap->base] : SKI_RMAP_UNKNOWN;
}
