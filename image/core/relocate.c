// SPDX-License-Identifier: GPL-2.0
/*
 * Compaction and defragmentation: moving host clusters, one bounded step
 * at a time.
 *
 * Both work from a reverse map (rmap.c: host cluster -> what uses it) of
 * one window of the file at a time (at most SKI_RMAP_WINDOW clusters, so
 * the memory does not grow with the file), built here in bounded steps
 * from the L1/L2 tables and the refcount table and kept current by table.c
 * and refcount.c while the operation runs.  The first pass walks windows
 * over the whole file releasing leaks; defragmentation then keeps a window
 * from the next slot it fills upwards, and compaction one at the top of
 * the file, moved down when its clusters are all moved.  Whether a cluster
 * is a hole needs no map: its refcount is zero.  With an image smaller than
 * a window, one window covers it all and is built once.
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

/* Phases of ski_relocate_step(), in op->phase. */
enum {
	P_START,	/* buffers and the map, then the leak pass */
	P_BUILD,	/* build the window at op->win_base, release its leaks */
	P_LEAKS,	/* a leak-pass window done: the next one, or start */
	P_DEFRAG,
	P_COMPACT,
	P_TRIM,		/* punch the free tail a chunk a step, truncate */
};

static void rmap_fixed_range(struct ski_image *img, u64 off, u64 bytes)
{
	u64 c, end = (off + bytes + img->cluster_size - 1) >>
		     img->cluster_bits;

	for (c = off >> img->cluster_bits; c < end; c++)
		ski_rmap_set(img, c, SKI_RMAP_FIXED);
}

/*
 * Start building the window at host cluster @base; phase @after follows.
 * The structures that never move are recorded here, the L2 tables and
 * their data in P_BUILD steps (rmap_scan()).
 */
static void request_window(struct ski_op *op, u64 base, unsigned int after)
{
	struct ski_image *img = op->img;
	u64 i;

	ski_rmap_window(img, base);
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
	op->win_base = base;
	op->build_cursor = 0;
	op->scan = base ? base : 1;
	op->phase = P_BUILD;
	op->after_build = after;
}

/* Buffers, and a window as large as the file needs, up to the limit. */
static int rmap_start(struct ski_op *op)
{
	struct ski_image *img = op->img;
	u64 window = img->rmap_window ? img->rmap_window : SKI_RMAP_WINDOW;

	op->moves = ski_io_zalloc(RELOCATE_BATCH * sizeof(*op->moves));
	op->plan_gc = ski_io_zalloc(RELOCATE_BATCH * sizeof(u64));
	op->plan_place = ski_io_zalloc(RELOCATE_BATCH * sizeof(u64));
	op->copy_clusters = (RELOCATE_COPY_BYTES >> img->cluster_bits) ?: 1;
	op->copy_buf = ski_io_zalloc(op->copy_clusters << img->cluster_bits);
	if (!op->moves || !op->plan_gc || !op->plan_place || !op->copy_buf)
		return -ENOMEM;
	/* Room for what the file may grow by while the operation runs. */
	if (window > img->end_cluster + 1024)
		window = img->end_cluster + 1024;
	if (ski_rmap_alloc(img, window))
		return -ENOMEM;
	request_window(op, 0, P_LEAKS);
	return 0;
}

/*
 * Record @owner (an L2 table, or a data cluster to move) for host
 * @cluster in the map being built.  A cluster the map gives another owner
 * already - a table, a refcount block, another L2 entry's data - is a
 * damaged or crafted image: moving it would free what the other still
 * uses, so the operation stops (-EUCLEAN).
 */
static int rmap_claim(struct ski_image *img, u64 cluster, u64 owner)
{
	u64 was = ski_rmap_owner(img, cluster);

	if (was != SKI_RMAP_FREE && was != SKI_RMAP_UNKNOWN && was != owner)
		return ski_corrupt(img, "host cluster used twice",
				   cluster << img->cluster_bits);
	ski_rmap_set(img, cluster, owner);
	return 0;
}

/*
 * Record a cluster that stays where it is (a compressed cluster's, or data
 * shared with a snapshot): such clusters may be shared among L2 entries,
 * not with metadata.
 */
static int rmap_claim_fixed(struct ski_image *img, u64 cluster)
{
	u64 was = ski_rmap_owner(img, cluster);
	u64 kind = was & SKI_RMAP_KIND;

	if (kind == SKI_RMAP_REFBLOCK || kind == SKI_RMAP_L2 ||
	    kind == SKI_RMAP_DATA ||
	    ski_meta_owner(img, cluster << img->cluster_bits,
			   img->cluster_size, SKI_RMAP_FREE) == SKI_RMAP_FIXED)
		return ski_corrupt(img, "host cluster used twice",
				   cluster << img->cluster_bits);
	ski_rmap_set(img, cluster, SKI_RMAP_FIXED);
	return 0;
}

/* Build phase: map up to @budget L2 tables and their data clusters. */
static int rmap_scan(struct ski_op *op, u64 budget)
{
	struct ski_image *img = op->img;
	u64 *table, i;
	int err;

	for (; op->build_cursor < img->hdr.l1_size && budget;
	     op->build_cursor++) {
		u64 l1i = op->build_cursor;
		u64 off = img->l1[l1i] & QCOW2_OFFSET_MASK;

		if (!off)
			continue;
		budget--;
		err = rmap_claim(img, off >> img->cluster_bits,
				 SKI_RMAP_L2 | l1i);
		if (!err)
			err = ski_load_l2(img, l1i, &table);
		if (err)
			return err;
		for (i = 0; !err && i < img->l2_entries; i++) {
			u64 e = table[i], start, end, c;

			if (e & QCOW2_OFLAG_COMPRESSED) {
				err = ski_compressed_range(img, e, &start,
							   &end);
				if (err)
					break;
				for (c = start >> img->cluster_bits; !err &&
				     c <= (end - 1) >> img->cluster_bits; c++)
					err = rmap_claim_fixed(img, c);
			} else if ((e & QCOW2_OFLAG_COPIED) &&
				   !(e & QCOW2_OFLAG_ZERO) &&
				   (e & QCOW2_OFFSET_MASK) &&
				   l1i * img->l2_entries + i <
				   img->guest_clusters) {
				err = rmap_claim(img, (e & QCOW2_OFFSET_MASK) >>
						 img->cluster_bits,
						 SKI_RMAP_DATA |
						 (l1i * img->l2_entries + i));
			} else if (e & QCOW2_OFFSET_MASK) {
				/*
				 * Shared, or past the virtual size (a crafted
				 * image): no L2 entry update may move it
				 * (ski_set_l2_entry() refuses those), so it
				 * stays where it is.
				 */
				err = rmap_claim_fixed(img,
						       (e & QCOW2_OFFSET_MASK) >>
						       img->cluster_bits);
			}
		}
		if (err)
			return err;
	}
	return 0;
}

/*
 * Build phase, last part: clusters of the window with a refcount but no
 * owner are leaks (from a crash); release them so compaction can reclaim
 * the space.  Looks at up to @limit clusters per call; 1 when the window
 * is done.
 */
static int rmap_release_leaks(struct ski_op *op, u64 limit)
{
	struct ski_image *img = op->img;
	u64 end = img->rmap->base + img->rmap->nr;
	u16 rc;
	int err;

	if (end > img->end_cluster)
		end = img->end_cluster;
	for (; op->scan < end && limit; op->scan++, limit--) {
		u64 c = op->scan;

		if (ski_rmap_owner(img, c) != SKI_RMAP_FREE)
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
	if (op->scan < end)
		return 0;
	err = skp_flush(img->file);
	return err ? err : 1;
}

/*
 * A hole: no refcount (so not mid-allocation either), and no owner where
 * the window knows one.
 */
static int is_hole(struct ski_image *img, u64 cluster, bool *hole)
{
	u64 owner = ski_rmap_owner(img, cluster);
	u16 rc;
	int err;

	*hole = false;
	if (owner != SKI_RMAP_FREE && owner != SKI_RMAP_UNKNOWN)
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

/**
 * ski_op_note_change() - a guest write into host bytes of an image, or
 *	their release
 * @img: the image written
 * @off: host offset, bytes
 * @len: bytes
 *
 * Marks dirty every move of the batch being copied unlocked whose source
 * cluster the write touches (do_moves()).  io.c calls it for a write in
 * place, refcount.c when a cluster's refcount falls to 0: a source the
 * guest discarded may come back to the same guest cluster by a
 * copy-on-write allocation, its L2 entry then the same as before, its
 * content not.  Under the caller's lock, like every engine call but the
 * unlocked copy.
 */
void ski_op_note_change(struct ski_image *img, u64 off, u64 len)
{
	struct ski_op *op = img->op;
	u64 first, last;
	unsigned int i;

	if (!op || !op->nr_copying || !len)
		return;
	first = off >> img->cluster_bits;
	last = (off + len - 1) >> img->cluster_bits;
	for (i = 0; i < op->nr_copying; i++)
		if (op->moves[i].from >= first && op->moves[i].from <= last)
			op->moves[i].dirty = true;
}

/* Copy @run moves from @mv on (contiguous on both sides) in one I/O. */
static int copy_run(struct ski_op *op, const struct ski_move *mv,
		    unsigned int run)
{
	struct ski_image *img = op->img;
	int err;

	err = skp_pread_bulk(img->file, op->copy_buf,
			     (u64)run << img->cluster_bits,
			     mv->from << img->cluster_bits);
	if (!err)
		err = skp_pwrite_bulk(img->file, op->copy_buf,
				      (u64)run << img->cluster_bits,
				      mv->to << img->cluster_bits);
	return err;
}

/* Copy every move, one I/O per run contiguous on both sides. */
static int copy_moves(struct ski_op *op, const struct ski_move *mv,
		      unsigned int nr)
{
	unsigned int i, run;
	int err = 0;

	for (i = 0; !err && i < nr; i += run) {
		run = 1;
		while (i + run < nr && run < op->copy_clusters &&
		       mv[i + run].from == mv[i].from + run &&
		       mv[i + run].to == mv[i].to + run)
			run++;
		err = copy_run(op, &mv[i], run);
	}
	return err;
}

/*
 * After an unlocked copy: is guest cluster @mv->owner still at @mv->from?
 * The L2 entry says, not the reverse map (a placement's source may lie
 * outside the window).
 */
static int move_still_valid(struct ski_image *img, const struct ski_move *mv,
			    bool *valid)
{
	u64 entry;
	int err;

	err = ski_l2_entry(img, mv->owner & SKI_RMAP_INDEX, &entry);
	*valid = !err && ski_entry_is_private(entry) &&
		 (entry & QCOW2_OFFSET_MASK) == mv->from << img->cluster_bits;
	return err;
}

/*
 * Under the lock again after an unlocked copy: drop the moves whose source
 * no longer holds their guest cluster (the target's refcount back to 0),
 * copy again those the guest wrote into, and flush if any was.  Returns
 * the moves kept, at the front of @mv, or -errno.
 */
static int recheck_moves(struct ski_op *op, struct ski_move *mv,
			 unsigned int nr)
{
	struct ski_image *img = op->img;
	unsigned int i, kept = 0;
	bool valid, again = false;
	int err = 0;

	for (i = 0; !err && i < nr; i++) {
		err = move_still_valid(img, &mv[i], &valid);
		if (err)
			break;
		if (!valid) {
			err = ski_set_refcount(img, mv[i].to, 0);
			/* the copy may hold data the guest discarded */
			if (!err && img->punch)
				skp_punch(img->file, mv[i].to << img->cluster_bits,
					  img->cluster_size);
			op->dropped++;
			/* compaction: a hole again, below its lowest one */
			if (mv[i].to < op->low_free)
				op->low_free = mv[i].to;
			continue;
		}
		if (mv[i].dirty) {
			err = copy_run(op, &mv[i], 1);
			op->recopied++;
			again = true;
		}
		mv[kept++] = mv[i];
	}
	if (!err && again)
		err = skp_flush(img->file);
	return err ? err : (int)kept;
}

/* Every move of the batch moves guest data. */
static bool data_only(const struct ski_move *mv, unsigned int nr)
{
	unsigned int i;

	for (i = 0; i < nr; i++)
		if ((mv[i].owner & SKI_RMAP_KIND) != SKI_RMAP_DATA)
			return false;
	return true;
}

/*
 * Carry out a batch of moves with two flushes in all.  L2 tables and
 * refcount blocks are moved one per batch on their own: their copy must come
 * after every change written into them, and a data move in the same batch
 * would write its L2 entry or refcount into the old copy.  A batch of data
 * moves is copied, and both flushes done, with the caller's lock dropped
 * (ski_op_set_unlock()): the guest may write a source meanwhile (the move
 * is marked dirty and copied again under the lock), or discard or
 * reallocate it (the move is dropped); its targets are safe, their
 * refcounts raised before the lock is dropped, and so are the sources
 * after the switch, their refcounts dropped only once it is durable.
 */
static int do_moves(struct ski_op *op, struct ski_move *mv, unsigned int nr)
{
	struct ski_image *img = op->img;
	unsigned int i, kept = 0;
	bool hole, unlocked;
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
		mv[i].dirty = false;
		mv[kept++] = mv[i];
	}
	nr = kept;
	if (err || !nr)
		return err;
	unlocked = op->unlock && data_only(mv, nr);
	/* a table's copy must hold the mappings only the cache has yet */
	if (!data_only(mv, nr))
		err = ski_l2_sync(img);
	if (err)
		return err;
	if (unlocked) {
		op->nr_copying = nr;
		op->unlock(op->lock_arg);
	}
	err = copy_moves(op, mv, nr);
	if (!err)
		err = skp_flush(img->file);
	if (unlocked) {
		op->relock(op->lock_arg);
		op->nr_copying = 0;
		if (!err) {
			err = recheck_moves(op, mv, nr);
			if (err >= 0) {
				nr = err;
				err = 0;
			}
		}
	}
	for (i = 0; !err && i < nr; i++)
		err = move_switch(img, &mv[i]);
	if (!err)
		err = ski_op_flush(op, op->img->file, unlocked);
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

/* The highest used cluster of the window; false when it holds none. */
static bool highest_used(struct ski_image *img, u64 *top)
{
	u64 base = img->rmap->base, c = base + img->rmap->nr;

	if (c > img->end_cluster)
		c = img->end_cluster;
	while (c > base && c > 1 &&
	       ski_rmap_owner(img, c - 1) == SKI_RMAP_FREE)
		c--;
	if (c <= base)
		return false;
	*top = c - 1;
	return true;
}

/* Progress estimate: used clusters beyond the size the file shrinks to. */
static int clusters_to_move(struct ski_image *img, u64 *above)
{
	u64 c, used = 0;
	u16 rc;
	int err;

	*above = 0;
	for (c = 0; c < img->end_cluster; c++) {
		err = ski_refcount(img, c, &rc);
		if (err)
			return err;
		used += !!rc;
	}
	for (c = used; c < img->end_cluster; c++) {
		err = ski_refcount(img, c, &rc);
		if (err)
			return err;
		*above += !!rc;
	}
	return 0;
}

/* Compaction from here on: a window at the top of the file. */
static int start_compact(struct ski_op *op)
{
	struct ski_image *img = op->img;
	u64 nr = img->rmap->nr, base;

	op->low_free = 1;
	base = img->end_cluster > nr ? img->end_cluster - nr : 0;
	if (base == img->rmap->base)
		op->phase = P_COMPACT;
	else
		request_window(op, base, P_COMPACT);
	return 0;
}

/*
 * The free tail is punched out a chunk a step before the truncate: giving
 * back a large tail at once (its blocks and its cached pages) held the
 * image lock for ~175 ms of a guest's reads under TCG.  With
 * ski_op_set_unlock() the punch runs with the lock dropped, the chunk held
 * meanwhile (hold_chunk()).
 */
#define TRIM_CHUNK_BYTES	(8U << 20)

/*
 * Set the refcount of host clusters [@from, @to) to @rc (1: held, so that
 * no guest write is given one while the chunk is punched unlocked -- a
 * leak if cut there; 0: given back).  Holding undoes itself on error.
 */
static int hold_chunk(struct ski_image *img, u64 from, u64 to, u16 rc)
{
	u64 c;
	int err = 0;

	for (c = from; !err && c < to; c++)
		err = ski_set_refcount(img, c, rc);
	while (err && rc && c-- > from)
		ski_set_refcount(img, c, 0);
	return err;
}

/*
 * Punch host clusters [@from, @to) of the free tail, unlocked if it may.
 * Not where no refcount block describes part of the chunk yet (a file
 * longer than its refcounts): holding it would create the block inside
 * the chunk, the punch would zero it and the release free its own cluster
 * while the refcount table still points there.  Such a chunk is punched
 * under the lock, unheld: nothing allocates meanwhile.
 */
static int punch_chunk(struct ski_op *op, u64 from, u64 to)
{
	struct ski_image *img = op->img;
	bool unlocked = op->unlock && ski_refblocks_present(img, from, to);
	int err;

	if (unlocked) {
		err = hold_chunk(img, from, to, 1);
		if (err)
			return err;
		op->unlock(op->lock_arg);
	}
	skp_punch(img->file, from << img->cluster_bits,
		  (to - from) << img->cluster_bits);
	if (!unlocked)
		return 0;
	op->relock(op->lock_arg);
	return hold_chunk(img, from, to, 0);
}

/* Every cluster is moved: the tail goes in steps (P_TRIM, trim_step()). */
static int compact_finish(struct ski_op *op)
{
	op->trim_top = op->img->end_cluster;
	op->phase = P_TRIM;
	return 0;
}

/* The last cluster in use (a refcount), the tail after it free. */
static int last_used(struct ski_image *img, u64 *lastp)
{
	u64 last, c;
	u16 rc;
	int err;

	/* A window that holds nothing: everything below it stays. */
	if (!highest_used(img, &last))
		last = img->rmap->base - 1;
	/* Something allocated but not yet mapped past @last: keep it. */
	for (c = last + 1; c < img->end_cluster; c++) {
		err = ski_refcount(img, c, &rc);
		if (err)
			return err;
		if (rc)
			last = c;
	}
	*lastp = last;
	return 0;
}

/*
 * Punch the next chunk of the free tail, from the top down; once none is
 * left, truncate after the last used cluster.  The last one is found
 * again each step: a guest write between two steps may have allocated in
 * the tail, which is then kept (a punch of a free cluster before it is
 * written loses nothing).  Return: 1 when compaction is finished.
 */
static int trim_step(struct ski_op *op)
{
	struct ski_image *img = op->img;
	u64 last, from, size, chunk = TRIM_CHUNK_BYTES >> img->cluster_bits;
	int err;

	if (!chunk)
		chunk = 1;
	err = last_used(img, &last);
	if (err)
		return err;
	if (op->trim_top > img->end_cluster)
		op->trim_top = img->end_cluster;
	if (op->trim_top > last + 1) {
		from = op->trim_top - last - 1 > chunk ? op->trim_top - chunk :
		       last + 1;
		err = punch_chunk(op, from, op->trim_top);
		op->trim_top = from;
		return err;
	}
	err = skp_flush(img->file);
	if (!err)
		err = skp_size(img->file, &size);
	/* a file that ends inside its last cluster is not grown to its end */
	if (!err && size > (last + 1) << img->cluster_bits)
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
	u64 base = img->rmap->base, top;
	unsigned int nr = 0, i;
	bool hole;
	int err;

	if (!highest_used(img, &top)) {
		/* Window all moved: the next one down, unless no hole is. */
		if (op->low_free >= base)
			return compact_finish(op);
		request_window(op, base > img->rmap->nr ?
			       base - img->rmap->nr : 0, P_COMPACT);
		return 0;
	}
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
		} while (top > base && top > 1 &&
			 ski_rmap_owner(img, top) == SKI_RMAP_FREE);
		/* Stop at the bottom of the window: the next step moves it. */
		if (top <= op->low_free ||
		    ski_rmap_owner(img, top) == SKI_RMAP_FREE)
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

/*
 * Next slot for guest data: skip metadata and mid-allocation clusters.
 * Return: 0, 1 when the slots run past the window, or -errno.
 */
static int next_place(struct ski_op *op, u64 *owner)
{
	struct ski_image *img = op->img;
	bool hole;
	int err;

	for (;; op->place++) {
		if (!ski_rmap_covers(img, op->place))
			return 1;
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
	bool hole, window_end = false;
	u64 hole_from, owner;
	int err;

	if (budget > RELOCATE_BATCH)
		budget = RELOCATE_BATCH;
	while (nr_plan < budget && op->cursor < img->guest_clusters) {
		u64 gc = op->cursor, entry, host;

		err = ski_l2_entry(img, gc, &entry);
		if (err)
			return err;
		if (!(entry & QCOW2_OFLAG_COPIED) ||
		    entry & (QCOW2_OFLAG_ZERO | QCOW2_OFLAG_COMPRESSED) ||
		    !(entry & QCOW2_OFFSET_MASK)) {
			op->cursor++;
			continue;
		}
		host = (entry & QCOW2_OFFSET_MASK) >> img->cluster_bits;
		err = next_place(op, &owner);
		if (err < 0)
			return err;
		if (err) {
			/* @gc waits for the next window. */
			window_end = true;
			break;
		}
		op->cursor++;
		op->done++;
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
		/* the guest may have discarded or zeroed it since the plan */
		if (!ski_entry_is_private(entry))
			continue;
		mv[nr].from = (entry & QCOW2_OFFSET_MASK) >> img->cluster_bits;
		mv[nr].to = plan_place[i];
		mv[nr].owner = SKI_RMAP_DATA | plan_gc[i];
		nr++;
	}
	err = do_moves(op, mv, nr);
	if (err)
		return err;
	if (window_end)
		request_window(op, op->place, P_DEFRAG);
	else if (op->cursor >= img->guest_clusters)
		return start_compact(op);
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
	u64 end;
	int err;

	if (!budget)
		budget = 1;
	switch (op->phase) {
	case P_START:
		return rmap_start(op);
	case P_BUILD:
		if (op->build_cursor < img->hdr.l1_size)
			return rmap_scan(op, budget);
		/* Checking a refcount is cheap: 64 per unit of budget. */
		err = rmap_release_leaks(op, budget * 64);
		if (err <= 0)
			return err;
		op->phase = op->after_build;
		return 0;
	case P_LEAKS:
		end = img->rmap->base + img->rmap->nr;
		if (end < img->end_cluster) {
			request_window(op, end, P_LEAKS);
			return 0;
		}
		if (op->kind == SKI_OP_COMPACT) {
			err = clusters_to_move(img, &op->total);
			if (err)
				return err;
			return start_compact(op);
		}
		op->cursor = 0;
		op->place = 1;
		op->low_free = 1;
		if (img->rmap->base)
			request_window(op, 0, P_DEFRAG);
		else
			op->phase = P_DEFRAG;
		return 0;
	case P_DEFRAG:
		return defrag_step(op, budget);
	case P_COMPACT:
		return compact_step(op, budget);
	case P_TRIM:
		return trim_step(op);
	}
	return -EINVAL;
}
