// SPDX-License-Identifier: GPL-2.0
/*
 * Compaction and defragmentation: moving host clusters, one bounded step
 * at a time.
 *
 * Both work from a reverse map (rmap.c: host cluster -> what uses it),
 * built here in bounded steps from the L1/L2 tables and the refcount table
 * and kept current by table.c and refcount.c while the operation runs.
 *
 * Moving a cluster from @from to @to follows the core's ordering rule: the
 * refcount of @to is raised and the contents copied, flush, the single
 * pointer (L2 entry, L1 entry or refcount-table entry) is switched, flush,
 * and only then is the refcount of @from dropped.  A crash leaves either the
 * old or the new pointer, both valid, plus at worst one leaked cluster.
 *
 * Compaction repeatedly moves the highest movable cluster into the lowest
 * hole and finally truncates the file after the last used cluster.
 * Defragmentation walks guest clusters in order and places each at the next
 * host slot not taken by metadata, first moving any other data out of the
 * way, then compacts.  Neither keeps state on disk: starting again after a
 * crash recomputes where it was, since the clusters already in place stay.
 */
#include "endian.h"
#include "image_priv.h"

#define RELOCATE_BATCH	256
#define RELOCATE_COPY_BYTES	(1U << 20)

static int rmap_fixed_range(struct ski_image *img, u64 off, u64 bytes)
{
	u64 c;

	u64 end = (off + bytes + img->cluster_size - 1) >> img->cluster_bits;

	for (c = off >> img->cluster_bits; c < end; c++)
		ski_rmap_set(img, c, SKI_RMAP_FIXED);
	return img->rmap->nr ? 0 : -ENOMEM;
}

/* Build phase, first step: the structures that never move. */
static int rmap_start(struct ski_op *op)
{
	struct ski_image *img = op->img;
	u64 i;

	op->moves = skp_zalloc(RELOCATE_BATCH * sizeof(*op->moves));
	op->plan_gc = skp_zalloc(RELOCATE_BATCH * sizeof(u64));
	op->plan_place = skp_zalloc(RELOCATE_BATCH * sizeof(u64));
	op->copy_clusters = (RELOCATE_COPY_BYTES >> img->cluster_bits) ?: 1;
	op->copy_buf = skp_zalloc(op->copy_clusters << img->cluster_bits);
	if (!op->moves || !op->plan_gc || !op->plan_place || !op->copy_buf)
		return -ENOMEM;
	if (ski_rmap_alloc(img, img->end_cluster + 1))
		return -ENOMEM;
	rmap_fixed_range(img, 0, 1);
	rmap_fixed_range(img, img->hdr.refcount_table_offset,
			 (u64)img->hdr.refcount_table_clusters <<
			 img->cluster_bits);
	rmap_fixed_range(img, img->hdr.l1_table_offset,
			 (u64)img->hdr.l1_size * 8);
	for (i = 0; i < img->reftable_entries; i++)
		if (img->reftable[i])
			ski_rmap_set(img, img->reftable[i] >> img->cluster_bits,
				     SKI_RMAP_REFBLOCK | i);
	return img->rmap->nr ? 0 : -ENOMEM;
}

/* Build phase: map up to @budget L2 tables and their data clusters. */
static int rmap_scan(struct ski_op *op, u64 budget)
{
	struct ski_image *img = op->img;
	u64 *table, i;
	int err;

	for (; op->cursor < img->hdr.l1_size && budget; op->cursor++) {
		u64 l1i = op->cursor, off = img->l1[l1i] & QCOW2_OFFSET_MASK;

		if (!off)
			continue;
		budget--;
		ski_rmap_set(img, off >> img->cluster_bits, SKI_RMAP_L2 | l1i);
		err = ski_load_l2(img, l1i, &table);
		if (err)
			return err;
		for (i = 0; i < img->l2_entries; i++) {
			u64 e = table[i], start, end, c;

			if (e & QCOW2_OFLAG_COMPRESSED) {
				err = ski_compressed_range(img, e, &start,
							   &end);
				if (err)
					return err;
				for (c = start >> img->cluster_bits;
				     c <= (end - 1) >> img->cluster_bits; c++)
					ski_rmap_set(img, c, SKI_RMAP_FIXED);
			} else if (e & QCOW2_OFFSET_MASK) {
				u64 kind = (e & QCOW2_OFLAG_COPIED) &&
					   !(e & QCOW2_OFLAG_ZERO) ?
					   SKI_RMAP_DATA : SKI_RMAP_FIXED;

				ski_rmap_set(img, (e & QCOW2_OFFSET_MASK) >>
					     img->cluster_bits, kind |
					     (l1i * img->l2_entries + i));
			}
		}
		if (!img->rmap->nr)
			return -ENOMEM;
	}
	return 0;
}

/*
 * Build phase, last part: clusters with a refcount but no owner are leaks
 * (from a crash); release them so compaction can reclaim the space.  Looks
 * at up to @limit clusters per call; 1 when the whole file is done.
 */
static int rmap_release_leaks(struct ski_op *op, u64 limit)
{
	struct ski_image *img = op->img;
	u16 rc;
	int err;

	for (; op->scan < img->end_cluster && limit; op->scan++, limit--) {
		u64 c = op->scan;

		if (c < img->rmap->nr && img->rmap->owner[c])
			continue;
		err = ski_refcount(img, c, &rc);
		if (err)
			return err;
		if (rc) {
			err = ski_set_refcount(img, c, 0);
			if (err)
				return err;
		}
	}
	if (op->scan < img->end_cluster)
		return 0;
	err = skp_flush(img->file);
	return err ? err : 1;
}

/* A hole: no owner and no refcount (so not mid-allocation either). */
static int is_hole(struct ski_image *img, u64 cluster, bool *hole)
{
	u16 rc;
	int err;

	*hole = false;
	if (ski_rmap_owner(img, cluster) != SKI_RMAP_FREE)
		return 0;
	err = ski_refcount(img, cluster, &rc);
	if (!err)
		*hole = !rc;
	return err;
}

static int move_switch(struct ski_image *img, const struct ski_move *mv)
{
	u64 idx = mv->owner & SKI_RMAP_INDEX;
	u64 to = mv->to << img->cluster_bits;

	switch (mv->owner & SKI_RMAP_KIND) {
	case SKI_RMAP_DATA:
		return ski_set_l2_entry(img, idx, to | QCOW2_OFLAG_COPIED);
	case SKI_RMAP_L2:
		return ski_set_l1_entry(img, idx, to | QCOW2_OFLAG_COPIED);
	case SKI_RMAP_REFBLOCK:
		return ski_set_reftable_entry(img, idx, to);
	}
	return -EINVAL;
}

/*
 * Carry out a batch of moves with two flushes in all.  L2 tables and
 * refcount blocks are moved one per batch on their own: their copy must come
 * after every change written into them, and a data move in the same batch
 * would write its L2 entry or refcount into the old copy.
 */
static int do_moves(struct ski_op *op, struct ski_move *mv, unsigned int nr)
{
	struct ski_image *img = op->img;
	unsigned int i, kept = 0, run;
	bool hole;
	int err = 0;

	/*
	 * Raise the targets' refcounts first: a refcount block being moved
	 * must carry its own new count in the copy.  A target can stop being
	 * a hole within the batch (raising an earlier target's refcount may
	 * have created a refcount block there); such moves are dropped and the
	 * cluster simply stays where it is.
	 */
	for (i = 0; !err && i < nr; i++) {
		err = is_hole(img, mv[i].to, &hole);
		if (err || !hole)
			continue;
		err = ski_set_refcount(img, mv[i].to, 1);
		mv[kept++] = mv[i];
	}
	nr = kept;
	/* Copy, one I/O per run contiguous on both sides. */
	for (i = 0; !err && i < nr; i += run) {
		run = 1;
		while (i + run < nr && run < op->copy_clusters &&
		       mv[i + run].from == mv[i].from + run &&
		       mv[i + run].to == mv[i].to + run)
			run++;
		err = skp_pread(img->file, op->copy_buf,
				run << img->cluster_bits,
				mv[i].from << img->cluster_bits);
		if (!err)
			err = skp_pwrite(img->file, op->copy_buf,
					 run << img->cluster_bits,
					 mv[i].to << img->cluster_bits);
	}
	if (!err)
		err = skp_flush(img->file);
	for (i = 0; !err && i < nr; i++)
		err = move_switch(img, &mv[i]);
	if (!err)
		err = skp_flush(img->file);
	for (i = 0; !err && i < nr; i++)
		err = ski_set_refcount(img, mv[i].from, 0);
	op->moved += nr;
	return err;
}

static bool movable(u64 owner)
{
	u64 kind = owner & SKI_RMAP_KIND;

	return kind == SKI_RMAP_DATA || kind == SKI_RMAP_L2 ||
	       kind == SKI_RMAP_REFBLOCK;
}

static u64 highest_used(struct ski_image *img)
{
	u64 c = img->end_cluster;

	while (c > 1 && ski_rmap_owner(img, c - 1) == SKI_RMAP_FREE)
		c--;
	return c - 1;
}

/* Progress estimate: used clusters beyond the size the file shrinks to. */
static u64 clusters_to_move(struct ski_image *img)
{
	u64 c, used = 0, above = 0;

	for (c = 0; c < img->end_cluster; c++)
		if (ski_rmap_owner(img, c) != SKI_RMAP_FREE)
			used++;
	for (c = used; c < img->end_cluster; c++)
		if (ski_rmap_owner(img, c) != SKI_RMAP_FREE)
			above++;
	return above;
}

/* Truncate after the last used cluster; 1 when compaction is finished. */
static int compact_finish(struct ski_op *op)
{
	struct ski_image *img = op->img;
	u64 last = highest_used(img);
	u64 c;
	u16 rc;
	int err;

	/* Something allocated but not yet mapped past @last: keep it. */
	for (c = last + 1; c < img->end_cluster; c++) {
		err = ski_refcount(img, c, &rc);
		if (err)
			return err;
		if (rc)
			last = c;
	}
	err = skp_flush(img->file);
	if (!err)
		err = skp_truncate(img->file, (last + 1) << img->cluster_bits);
	if (!err)
		err = skp_flush(img->file);
	if (err)
		return err;
	img->end_cluster = last + 1;
	if (img->free_hint > img->end_cluster)
		img->free_hint = img->end_cluster;
	op->done = op->total;
	return 1;
}

/*
 * Move the refcount table or the L1 table, whichever contains host cluster
 * @top, to the lowest run of holes long enough for it.  Same order as any
 * move: refcounts of the new clusters, copy, flush, one header write (the
 * 12 bytes of refcount-table offset and size, or the 8-byte L1 offset),
 * flush, then release the old clusters.
 *
 * Return: 1 when moved, 0 when @top is not such a table or no run of holes
 * fits, -errno on failure.
 */
static int move_header_table(struct ski_op *op, u64 top)
{
	struct ski_image *img = op->img;
	struct ski_header *h = &img->hdr;
	u64 start, clusters, run = 0, to, i;
	bool reftable, hole;
	u8 field[12];
	int err;

	start = h->refcount_table_offset >> img->cluster_bits;
	clusters = h->refcount_table_clusters;
	reftable = top >= start && top < start + clusters;
	if (!reftable) {
		start = h->l1_table_offset >> img->cluster_bits;
		clusters = ((u64)h->l1_size * 8 + img->cluster_size - 1) >>
			   img->cluster_bits;
		if (!clusters || top < start || top >= start + clusters)
			return 0;
	}
	for (to = op->low_free; to + clusters <= start; to++) {
		err = is_hole(img, to, &hole);
		if (err)
			return err;
		run = hole ? run + 1 : 0;
		if (run == clusters)
			break;
	}
	if (run < clusters)
		return 0;
	to -= clusters - 1;

	for (i = 0; i < clusters; i++) {
		err = ski_set_refcount(img, to + i, 1);
		if (err)
			return err;
		ski_rmap_set(img, to + i, SKI_RMAP_FIXED);
	}
	for (i = 0; i < clusters; i++) {
		err = skp_pread(img->file, img->scratch, img->cluster_size,
				(start + i) << img->cluster_bits);
		if (!err)
			err = skp_pwrite(img->file, img->scratch,
					 img->cluster_size,
					 (to + i) << img->cluster_bits);
		if (err)
			return err;
	}
	err = skp_flush(img->file);
	if (err)
		return err;
	ski_put_be64(field, to << img->cluster_bits);
	ski_put_be32(field + 8, clusters);
	err = skp_pwrite(img->file, field, reftable ? 12 : 8,
			 reftable ? 48 : 40);
	if (!err)
		err = skp_flush(img->file);
	if (err)
		return err;
	if (reftable)
		h->refcount_table_offset = to << img->cluster_bits;
	else
		h->l1_table_offset = to << img->cluster_bits;
	for (i = 0; i < clusters; i++) {
		err = ski_set_refcount(img, start + i, 0);
		if (err)
			return err;
	}
	op->moved += clusters;
	return 1;
}

/* Compaction: move up to @budget clusters from the top into holes. */
static int compact_step(struct ski_op *op, u64 budget)
{
	struct ski_image *img = op->img;
	struct ski_move *mv = op->moves;
	unsigned int nr = 0, i;
	u64 top = highest_used(img);
	bool hole;
	int err;

	while (budget && nr < RELOCATE_BATCH) {
		u64 owner = ski_rmap_owner(img, top);

		/* Lowest hole not yet used in this batch. */
		for (;; op->low_free++) {
			if (op->low_free >= top)
				goto flush;
			err = is_hole(img, op->low_free, &hole);
			if (err)
				return err;
			if (hole)
				break;
		}
		if (!movable(owner)) {
			if (nr)
				break;
			/* The refcount table or L1 table on top? */
			err = move_header_table(op, top);
			if (err < 0)
				return err;
			if (err == 0)
				goto flush;
			op->done = op->moved;
			return 0;
		}
		/* Tables move alone: a batch must not write into them. */
		if ((owner & SKI_RMAP_KIND) != SKI_RMAP_DATA && nr)
			break;
		mv[nr].from = top;
		mv[nr].to = op->low_free++;
		mv[nr].owner = owner;
		nr++;
		budget--;
		if ((owner & SKI_RMAP_KIND) != SKI_RMAP_DATA)
			break;
		/* Next candidate below; skip what is already queued. */
		do {
			top--;
		} while (top > 1 && ski_rmap_owner(img, top) == SKI_RMAP_FREE);
		if (top <= op->low_free)
			break;
	}
	/*
	 * Clusters were taken from the top down and holes from the bottom up:
	 * pair them in the same order so runs stay in guest order (and copy
	 * in large I/Os).  Every hole is below every source, so any pairing
	 * is a valid one.
	 */
	for (i = 0; i < nr / 2; i++) {
		struct ski_move tmp = mv[i];

		mv[i].from = mv[nr - 1 - i].from;
		mv[i].owner = mv[nr - 1 - i].owner;
		mv[nr - 1 - i].from = tmp.from;
		mv[nr - 1 - i].owner = tmp.owner;
	}
	err = do_moves(op, mv, nr);
	if (err)
		return err;
	if (op->kind == SKI_OP_COMPACT)
		op->done = op->moved;
	return 0;

flush:
	err = do_moves(op, mv, nr);
	if (err)
		return err;
	return compact_finish(op);
}

/* Next slot for guest data: skip metadata and mid-allocation clusters. */
static int next_place(struct ski_op *op, u64 *owner)
{
	struct ski_image *img = op->img;
	bool hole;
	int err;

	for (;; op->place++) {
		*owner = ski_rmap_owner(img, op->place);
		if ((*owner & SKI_RMAP_KIND) == SKI_RMAP_DATA)
			return 0;
		if (*owner != SKI_RMAP_FREE)
			continue;
		err = is_hole(img, op->place, &hole);
		if (err || hole)
			return err;
	}
}

/*
 * Defragmentation: plan where the next guest clusters go (the next host
 * slots not held by metadata), then move, in one batch, whatever other data
 * sits in those slots out to holes past them, then, in a second batch, each
 * planned guest cluster into its slot.
 */
static int defrag_step(struct ski_op *op, u64 budget)
{
	struct ski_image *img = op->img;
	struct ski_move *mv = op->moves;
	u64 *plan_gc = op->plan_gc, *plan_place = op->plan_place;
	unsigned int nr_plan = 0, nr = 0, i;
	u64 hole_from, owner;
	bool hole;
	int err;

	if (budget > RELOCATE_BATCH)
		budget = RELOCATE_BATCH;
	while (nr_plan < budget && op->cursor < img->guest_clusters) {
		u64 gc = op->cursor, entry, host;

		err = ski_l2_entry(img, gc, &entry);
		if (err)
			return err;
		op->cursor++;
		if (!(entry & QCOW2_OFLAG_COPIED) ||
		    entry & (QCOW2_OFLAG_ZERO | QCOW2_OFLAG_COMPRESSED) ||
		    !(entry & QCOW2_OFFSET_MASK))
			continue;
		op->done++;
		host = (entry & QCOW2_OFFSET_MASK) >> img->cluster_bits;
		err = next_place(op, &owner);
		if (err)
			return err;
		if (host != op->place) {
			plan_gc[nr_plan] = gc;
			plan_place[nr_plan] = op->place;
			nr_plan++;
		}
		op->place++;
	}

	/* Evict other guest clusters from the planned slots. */
	hole_from = op->place;
	for (i = 0; i < nr_plan; i++) {
		owner = ski_rmap_owner(img, plan_place[i]);
		if (owner == SKI_RMAP_FREE)
			continue;
		for (;; hole_from++) {
			err = is_hole(img, hole_from, &hole);
			if (err)
				return err;
			if (hole)
				break;
		}
		mv[nr].from = plan_place[i];
		mv[nr].to = hole_from++;
		mv[nr].owner = owner;
		nr++;
	}
	err = do_moves(op, mv, nr);
	if (err)
		return err;

	/* Every planned slot is a hole now: place the guest clusters. */
	nr = 0;
	for (i = 0; i < nr_plan; i++) {
		u64 entry;

		err = ski_l2_entry(img, plan_gc[i], &entry);
		if (err)
			return err;
		mv[nr].from = (entry & QCOW2_OFFSET_MASK) >> img->cluster_bits;
		mv[nr].to = plan_place[i];
		mv[nr].owner = SKI_RMAP_DATA | plan_gc[i];
		nr++;
	}
	err = do_moves(op, mv, nr);
	if (err)
		return err;
	if (op->cursor >= img->guest_clusters) {
		op->phase++;
		op->low_free = 1;
	}
	return 0;
}

/**
 * ski_relocate_step() - one bounded step of compaction or defragmentation
 * Return: 1 when finished, 0 when more steps are needed, or -errno.
 * @op: operation from ski_op_begin()
 * @budget: clusters to move at most
 */
int ski_relocate_step(struct ski_op *op, u64 budget)
{
	struct ski_image *img = op->img;
	int err;

	if (!budget)
		budget = 1;
	switch (op->phase) {
	case 0:
		err = rmap_start(op);
		if (err)
			return err;
		op->phase++;
		op->cursor = 0;
		return 0;
	case 1:
		if (op->cursor < img->hdr.l1_size) {
			op->scan = 1;
			return rmap_scan(op, budget);
		}
		/* Checking a refcount is cheap: 64 per unit of budget. */
		err = rmap_release_leaks(op, budget * 64);
		if (err <= 0)
			return err;
		if (op->kind == SKI_OP_COMPACT)
			op->total = clusters_to_move(img);
		op->phase++;
		op->cursor = 0;
		op->place = 1;
		op->low_free = 1;
		if (op->kind == SKI_OP_COMPACT)
			op->phase++;
		return 0;
	case 2:
		return defrag_step(op, budget);
	case 3:
		if (!img->rmap->nr)
			return -ENOMEM;
		return compact_step(op, budget);
	}
	return -EINVAL;
}
