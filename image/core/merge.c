// SPDX-License-Identifier: GPL-2.0
/*
 * Merging a child image with its backing parent, in bounded steps.
 *
 * Commit copies every cluster the child holds into the parent and then
 * drops it from the child (a zero cluster becomes the same byte range of
 * zeroes in the parent, whatever the parent's cluster size; a parent
 * smaller than the child first grows to its size, grow.c): the parent write is flushed before the child's
 * L2 entry is cleared, so the child shows the same bytes before and after
 * each cluster moves, and a crash at any point leaves both images valid.
 * A restarted commit finds only the clusters still in the child, and so
 * does each further pass over the child while a guest writes to it (see
 * ski_merge_step()).  When the child is empty the parent takes over the child's VM information (the
 * child's wins, as for any differencing disk) and a "merged" history entry.
 *
 * A commit step of data clusters the child holds alone may copy with the
 * caller's lock dropped (ski_op_set_unlock(); commit_unlocked()): under
 * the lock it picks each cluster's target in the parent (the parent's own
 * cluster when it holds it alone, else a new one, refcount raised and not
 * yet mapped), then copies and flushes unlocked.  Guest writes go to the
 * child for every cluster at or past commit_below, which only moves once
 * the step is done: a write into one being copied is in place, marks its
 * move dirty (ski_op_note_change()) and the move copies again under the
 * lock; a cluster whose child entry changed meanwhile (discarded, or
 * rewritten elsewhere) is committed again the locked way.  Then, locked,
 * the parent's new clusters are mapped, flushed, and the child lets go as
 * above.  While a backing file is attached, no guest request makes a
 * child entry 0 (a discard leaves a zero cluster, io.c), so a parent
 * cluster overwritten in place is only ever read through the child.
 *
 * Stream goes the other way: every cluster the child does not hold and the
 * chain shows as non-zero is copied into the child; then the backing file is
 * dropped from the header (ski_drop_backing()).  Until that last write the
 * child still reads unallocated clusters through the chain, which by then
 * holds only zeroes for them.  A stream step writes its clusters into new
 * clusters of the child (refcount 1, not mapped) and goes on; once up to
 * STREAM_PENDING_BYTES are written, or the pass ends, one flush makes them
 * all durable (with the caller's lock dropped) and they are mapped under
 * the lock, each only if its guest cluster is still not held: one the
 * guest wrote or discarded meanwhile (into the child, whatever the chain
 * below it holds) keeps the guest's, and the copy is given back.  The
 * flush is the costly part of a stream, the child's file growing (a
 * journal commit each); a cut leaks the clusters written and not mapped.
 * A step reads what the backing file holds as plain data with the
 * caller's lock dropped (stream_read()): the backing is never written;
 * and writes its copies with the lock dropped too (stream_write()): the
 * new clusters are allocated under the lock first, so nothing else uses
 * them, and nothing maps them before stream_map().
 */
#include "image_priv.h"

#define MERGE_RUN_MAX	256
/*
 * The copy buffer, whatever the cluster size: 256 clusters of 2 MiB would
 * be half a gigabyte of kernel memory in splitkit_back.
 */
#define MERGE_BUF_BYTES	(4U << 20)
/* Stream: bytes written into the child before one flush maps them. */
#define STREAM_PENDING_BYTES	(32U << 20)
#define STREAM_PENDING_MAX	1024

static bool holds(u64 entry)
{
	return entry != 0;
}

/* The stream's pending clusters: up to STREAM_PENDING_BYTES' worth. */
static int stream_begin(struct ski_op *op)
{
	struct ski_image *img = op->img;
	u64 max = img->stream_pending ? img->stream_pending :
		  STREAM_PENDING_BYTES >> img->cluster_bits;

	if (max > STREAM_PENDING_MAX)
		max = STREAM_PENDING_MAX;
	if (max < op->buf_clusters && !img->stream_pending)
		max = op->buf_clusters;
	op->max_pending = max;
	op->moves = ski_io_zalloc(max * sizeof(*op->moves));
	return op->moves ? 0 : -ENOMEM;
}

/* Open the parent writable for commit (the chain was opened read-only). */
int ski_merge_begin(struct ski_op *op)
{
	struct ski_image *img = op->img;
	char *path;
	int err;

	/* A stream cut short after dropping the backing file just finishes. */
	if (!img->hdr.backing_file[0] && op->kind == SKI_OP_COMMIT) {
		skp_log(SKP_LOG_ERR, "%s: no backing file to merge with",
			img->path);
		return -EINVAL;
	}
	op->buf_clusters = MERGE_BUF_BYTES >> img->cluster_bits;
	if (!op->buf_clusters)
		op->buf_clusters = 1;
	if (op->buf_clusters > MERGE_RUN_MAX)
		op->buf_clusters = MERGE_RUN_MAX;
	op->buf = ski_io_zalloc(op->buf_clusters << img->cluster_bits);
	op->old_entries = ski_io_zalloc(op->buf_clusters * sizeof(u64));
	op->runs = ski_io_zalloc(SKI_MERGE_RUNS * sizeof(*op->runs));
	if (!op->buf || !op->old_entries || !op->runs)
		return -ENOMEM;
	op->total = img->guest_clusters;
	if (op->kind == SKI_OP_STREAM)
		return stream_begin(op);
	op->moves = ski_io_zalloc(op->buf_clusters * sizeof(*op->moves));
	op->parent_entries = ski_io_zalloc(op->buf_clusters * sizeof(u64));
	if (!op->moves || !op->parent_entries)
		return -ENOMEM;

	if (!img->backing) {
		skp_log(SKP_LOG_ERR, "%s: commit needs a qcow2 parent",
			img->path);
		return -EOPNOTSUPP;
	}
	path = ski_backing_path(img);
	if (!path)
		return -ENOMEM;
	/*
	 * The child's own rules for its chain (strict backing names and
	 * formats, punching freed clusters): the parent is opened again,
	 * and its backing chain with it.
	 */
	err = ski_open_depth(path, SKI_OPEN_RW | img->open_flags,
			     img->depth + 1, &op->parent);
	skp_free(path);
	if (err)
		return err;
	/* Reads through the child must see what we write to the parent. */
	ski_close(img->backing);
	img->backing = op->parent;
	/*
	 * A smaller parent grows to the child's size, as qemu-img commit; a
	 * larger one keeps its size, and its data past the child's end.
	 */
	if (op->parent->hdr.size < img->hdr.size)
		err = ski_grow(op->parent, img->hdr.size);
	if (err) {
		skp_log(SKP_LOG_ERR, "%s: cannot grow the parent to the "
			"child's size", img->path);
		return err;
	}
	/* Guest writes behind the cursor go to the parent from now on. */
	img->commit_to = op->parent;
	img->commit_below = 0;
	return 0;
}

static u64 run_bytes(struct ski_image *img, u64 first, u64 nr)
{
	u64 start = first << img->cluster_bits;
	u64 end = (first + nr) << img->cluster_bits;

	if (end > img->hdr.size)
		end = img->hdr.size;
	return end - start;
}

/*
 * Commit the runs gathered in op->runs under the lock: all parent writes,
 * one parent flush, then every child entry cleared, one child flush, then
 * releases.
 */
static int commit_locked(struct ski_op *op)
{
	struct ski_image *img = op->img, *parent = op->parent;
	u64 *old = op->old_entries, i, n = 0;
	struct ski_release rel = { 0 };
	unsigned int r;
	int err = 0;

	for (r = 0; !err && r < op->nr_runs; r++) {
		struct ski_run *run = &op->runs[r];
		u64 off = run->first << img->cluster_bits;
		u64 bytes = run_bytes(img, run->first, run->nr);

		for (i = 0; !err && i < run->nr; i++)
			err = ski_l2_entry(img, run->first + i, &old[n + i]);
		if (err)
			break;
		n += run->nr;
		/*
		 * Zeroes by range, not by cluster: the parent's clusters may
		 * be larger than the child's, and a child cluster covering part
		 * of one must still read zero there.
		 */
		if (run->zero) {
			err = ski_write_zeroes(parent, off, bytes);
			continue;
		}
		err = ski_read(img, op->buf, bytes, off);
		if (!err)
			err = ski_write(parent, op->buf, bytes, off);
	}
	/* the parent's data and its mappings (ski_l2_defer()) durable */
	if (!err)
		err = ski_flush(parent);
	/* Parent durable: now the child may let go. */
	for (r = 0; !err && r < op->nr_runs; r++)
		for (i = 0; !err && i < op->runs[r].nr; i++)
			err = ski_set_l2_entry(img, op->runs[r].first + i, 0);
	if (!err)
		err = skp_flush(img->file);
	for (i = 0; !err && i < n; i++)
		err = ski_release_entry(img, old[i], &rel);
	ski_release_end(img, &rel);
	op->moved += n;
	return err;
}

/*
 * Move commit_below up to @upto, or to the first cluster on the way that
 * the child holds (one the guest wrote while a step was unlocked): below
 * it the child must hold nothing, for guest writes there go to the parent.
 */
static int advance_below(struct ski_op *op, u64 upto)
{
	struct ski_image *img = op->img;
	u64 gc, entry;
	int err;

	for (gc = img->commit_below; gc < upto; gc++) {
		err = ski_l2_entry(img, gc, &entry);
		if (err)
			return err;
		if (holds(entry))
			break;
	}
	if (gc > img->commit_below)
		img->commit_below = gc;
	return 0;
}

/*
 * Whether the step in op->runs may copy unlocked: the caller gave a way to
 * drop its lock, the parent's clusters are the child's size, and every
 * cluster is data the child holds alone (no zero run) at or past
 * commit_below, where guest writes still go to the child.
 */
static int may_unlock(struct ski_op *op, bool *yes)
{
	struct ski_image *img = op->img;
	unsigned int r;
	u64 i, entry;
	int err;

	*yes = false;
	if (!op->unlock || !op->nr_runs ||
	    op->parent->cluster_bits != img->cluster_bits ||
	    op->runs[0].first < img->commit_below)
		return 0;
	for (r = 0; r < op->nr_runs; r++) {
		if (op->runs[r].zero)
			return 0;
		for (i = 0; i < op->runs[r].nr; i++) {
			err = ski_l2_entry(img, op->runs[r].first + i, &entry);
			if (err)
				return err;
			if (!ski_entry_is_private(entry))
				return 0;
		}
	}
	*yes = true;
	return 0;
}

/*
 * Under the lock: a move a cluster, the child's host cluster to the
 * parent's (in place when the parent holds it alone, else a new cluster,
 * refcount 1, mapped only after the copy).  Sets *@nrp to the moves made,
 * also on error (the new clusters among them are for drop_targets()).
 */
static int commit_targets(struct ski_op *op, unsigned int *nrp)
{
	struct ski_image *img = op->img, *parent = op->parent;
	struct ski_move *mv = op->moves;
	unsigned int r, n = 0;
	u64 i, pe, c;
	int err = 0;

	for (r = 0; !err && r < op->nr_runs; r++) {
		for (i = 0; !err && i < op->runs[r].nr; i++) {
			u64 gc = op->runs[r].first + i;

			err = ski_l2_entry(img, gc, &op->old_entries[n]);
			if (!err)
				err = ski_l2_entry(parent, gc, &pe);
			if (err)
				break;
			if (ski_entry_is_private(pe)) {
				/* written in place: not on the parent's tables */
				err = ski_overlap_check(parent,
							pe & QCOW2_OFFSET_MASK,
							parent->cluster_size,
							SKI_RMAP_FREE,
							"a commit's write");
				if (err)
					break;
				c = (pe & QCOW2_OFFSET_MASK) >>
				    parent->cluster_bits;
			} else {
				err = ski_alloc_cluster(parent, &c);
				if (err)
					break;
			}
			mv[n].from = (op->old_entries[n] & QCOW2_OFFSET_MASK) >>
				     img->cluster_bits;
			mv[n].to = c;
			mv[n].owner = SKI_RMAP_DATA | gc;
			mv[n].dirty = false;
			op->parent_entries[n] = pe;
			n++;
		}
	}
	*nrp = n;
	return err;
}

/* Whether move @k writes a new parent cluster (not the parent's own). */
static bool new_target(const struct ski_op *op, unsigned int k)
{
	return !ski_entry_is_private(op->parent_entries[k]);
}

/*
 * Copy moves [0, @n) (only the dirty ones if @dirty), child to parent,
 * runs contiguous on both sides in one I/O each; moves given up (from 0)
 * are skipped.
 */
static int copy_moves(struct ski_op *op, unsigned int n, bool dirty)
{
	struct ski_image *img = op->img;
	const struct ski_move *mv = op->moves;
	unsigned int k = 0, run;
	int err;

	while (k < n) {
		if (!mv[k].from || (dirty && !mv[k].dirty)) {
			k++;
			continue;
		}
		for (run = 1; k + run < n && mv[k + run].from &&
		     (!dirty || mv[k + run].dirty) &&
		     mv[k + run].from == mv[k].from + run &&
		     mv[k + run].to == mv[k].to + run; run++)
			;
		err = skp_pread_bulk(img->file, op->buf,
				     (size_t)run << img->cluster_bits,
				     mv[k].from << img->cluster_bits);
		if (!err)
			err = skp_pwrite_bulk(op->parent->file, op->buf,
					      (size_t)run << img->cluster_bits,
					      mv[k].to << img->cluster_bits);
		if (err)
			return err;
		k += run;
	}
	return 0;
}

/* Give back the new parent clusters of moves [0, @n) not kept (from 0 or all). */
static int drop_targets(struct ski_op *op, unsigned int n, bool all)
{
	struct ski_image *parent = op->parent;
	struct ski_release rel = { 0 };
	unsigned int k;
	int err = 0;

	for (k = 0; !err && k < n; k++)
		if (new_target(op, k) && (all || !op->moves[k].from))
			err = ski_release_entry(parent,
					(op->moves[k].to << parent->cluster_bits) |
					QCOW2_OFLAG_COPIED, &rel);
	ski_release_end(parent, &rel);
	return err;
}

/*
 * Under the lock again after the unlocked copy: a move whose child entry
 * changed meanwhile is given up (from 0); a dirty one is copied again.
 */
static int commit_recheck(struct ski_op *op, unsigned int n)
{
	struct ski_move *mv = op->moves;
	unsigned int k, dirty = 0;
	u64 entry;
	int err;

	for (k = 0; k < n; k++) {
		err = ski_l2_entry(op->img, mv[k].owner & SKI_RMAP_INDEX,
				   &entry);
		if (err)
			return err;
		if (entry == op->old_entries[k]) {
			dirty += mv[k].dirty;
			continue;
		}
		mv[k].from = 0;
		op->dropped++;
	}
	if (!dirty)
		return 0;
	op->recopied += dirty;
	err = copy_moves(op, n, true);
	return err ? err : skp_flush(op->parent->file);
}

/*
 * The guest clusters of the moves given up, as the child holds them now,
 * committed the locked way (op->runs, up to SKI_MERGE_RUNS at a time).
 */
static int commit_given_up(struct ski_op *op, unsigned int n)
{
	struct ski_run *run;
	unsigned int k;
	u64 gc, entry;
	bool zero;
	int err;

	op->nr_runs = 0;
	op->run_clusters = 0;
	for (k = 0; k < n; k++) {
		if (op->moves[k].from)
			continue;
		gc = op->moves[k].owner & SKI_RMAP_INDEX;
		err = ski_l2_entry(op->img, gc, &entry);
		if (err)
			return err;
		if (!holds(entry))
			continue;
		zero = (entry & QCOW2_OFLAG_ZERO) &&
		       !(entry & QCOW2_OFLAG_COMPRESSED);
		run = op->nr_runs ? &op->runs[op->nr_runs - 1] : NULL;
		if (run && run->first + run->nr == gc && run->zero == zero) {
			run->nr++;
			continue;
		}
		if (op->nr_runs == SKI_MERGE_RUNS) {
			err = commit_locked(op);
			if (err)
				return err;
			op->nr_runs = 0;
		}
		run = &op->runs[op->nr_runs++];
		run->first = gc;
		run->nr = 1;
		run->zero = zero;
	}
	return op->nr_runs ? commit_locked(op) : 0;
}

/*
 * Commit op->runs with the copy and its flush unlocked (see the top of
 * this file), then the moves given up the locked way.
 */
static int commit_unlocked(struct ski_op *op)
{
	struct ski_image *img = op->img, *parent = op->parent;
	struct ski_move *mv = op->moves;
	struct ski_release rel = { 0 }, prel = { 0 };
	unsigned int n, k, kept = 0;
	bool mapped = false;
	int err;

	err = commit_targets(op, &n);
	if (err)
		goto drop_all;
	op->nr_copying = n;
	op->unlock(op->lock_arg);
	err = copy_moves(op, n, false);
	if (!err)
		err = skp_flush(parent->file);
	op->relock(op->lock_arg);
	op->nr_copying = 0;
	if (!err)
		err = commit_recheck(op, n);
	if (err)
		goto drop_all;
	err = drop_targets(op, n, false);
	if (err)
		return err;

	/* The copies are durable: map the parent's new clusters. */
	for (k = 0; !err && k < n; k++) {
		if (!mv[k].from || !new_target(op, k))
			continue;
		err = ski_set_l2_entry(parent, mv[k].owner & SKI_RMAP_INDEX,
				       (mv[k].to << parent->cluster_bits) |
				       QCOW2_OFLAG_COPIED);
		mapped = true;
	}
	if (!err && mapped)
		err = skp_flush(parent->file);
	for (k = 0; !err && mapped && k < n; k++)
		if (mv[k].from && new_target(op, k))
			err = ski_release_entry(parent, op->parent_entries[k],
						&prel);
	ski_release_end(parent, &prel);

	/* Parent durable: now the child may let go of what was copied. */
	for (k = 0; !err && k < n; k++) {
		if (!mv[k].from)
			continue;
		err = ski_set_l2_entry(img, mv[k].owner & SKI_RMAP_INDEX, 0);
		kept++;
	}
	/* Given up: the guest cluster as the child holds it now, locked. */
	if (!err && kept < n)
		err = commit_given_up(op, n);
	/*
	 * Guest writes to what the child let go go to the parent from here
	 * (the child's flush below is unlocked too); not past a cluster the
	 * guest wrote into the child meanwhile between the step's runs.
	 */
	if (!err)
		err = advance_below(op, op->cursor);
	if (!err && kept)
		err = ski_op_flush(op, img->file, true);
	for (k = 0; !err && k < n; k++)
		if (mv[k].from)
			err = ski_release_entry(img, (mv[k].from <<
						     img->cluster_bits) |
						    QCOW2_OFLAG_COPIED, &rel);
	ski_release_end(img, &rel);
	if (!err)
		op->moved += kept;
	return err;

drop_all:
	drop_targets(op, n, true);
	return err;
}

/* Commit the runs gathered in op->runs, unlocked when it may. */
static int commit_runs(struct ski_op *op)
{
	bool unlocked;
	int err;

	err = may_unlock(op, &unlocked);
	if (err)
		return err;
	return unlocked ? commit_unlocked(op) : commit_locked(op);
}

/* Whether @n bytes at @p, 8-byte aligned, are all zero. */
static bool all_zero(const u8 *p, u64 n)
{
	const u64 *w = (const u64 *)p;
	u64 i;

	for (i = 0; i < n / 8; i++)
		if (w[i])
			return false;
	for (i = n & ~7ULL; i < n; i++)
		if (p[i])
			return false;
	return true;
}

/*
 * Map the clusters stream_run() wrote, after one flush for them all, with
 * the caller's lock dropped when it gave a way (and again every
 * STREAM_MAP_CHUNK mappings, for the guest's requests): a guest cluster the
 * child holds by now keeps what the guest put there, and the copy is given
 * back.  On error the clusters not mapped are leaked.
 */
#define STREAM_MAP_CHUNK	64

static int stream_map(struct ski_op *op)
{
	struct ski_image *img = op->img;
	const struct ski_move *mv = op->moves;
	struct ski_release rel = { 0 };
	unsigned int k;
	u64 entry, host;
	int err;

	if (!op->nr_pending)
		return 0;
	err = ski_op_flush(op, img->file, op->unlock != NULL);
	for (k = 0; !err && k < op->nr_pending; k++) {
		if (op->unlock && k && !(k % STREAM_MAP_CHUNK)) {
			/* freed clusters may be reallocated while unlocked */
			ski_release_end(img, &rel);
			op->unlock(op->lock_arg);
			op->relock(op->lock_arg);
		}
		host = (mv[k].to << img->cluster_bits) | QCOW2_OFLAG_COPIED;
		err = ski_l2_entry(img, mv[k].owner, &entry);
		if (err)
			break;
		if (holds(entry)) {
			op->dropped++;
			err = ski_release_entry(img, host, &rel);
			continue;
		}
		err = ski_set_l2_entry(img, mv[k].owner, host);
	}
	ski_release_end(img, &rel);
	op->nr_pending = 0;
	return err;
}

/* Stream: pieces of a run read from the backing file with the lock dropped. */
#define STREAM_READ_PIECES	16

struct stream_piece {
	u64 pos;	/* in the run's buffer, bytes */
	u64 host;	/* in the backing file, bytes */
	u64 len;	/* bytes */
};

/*
 * Under the lock: the part of @len bytes at guest offset @off that the
 * backing holds in its file as plain data, from its start, as one piece
 * (*@n bytes at *@host); or, for anything else (past the backing's end, a
 * deeper link, zero or compressed clusters), *@host set to ~0ULL and
 * *@n bytes (up to the end of a backing cluster) read into @buf now.
 */
static int stream_map_piece(struct ski_image *img, u8 *buf, u64 len,
			    u64 off, u64 *host, u64 *n)
{
	struct ski_image *b = img->backing;
	u64 size = ski_backing_size(img), end;
	int err;

	*host = ~0ULL;
	if (off >= size) {
		memset(buf, 0, len);
		*n = len;
		return 0;
	}
	if (len > size - off)
		len = size - off;
	if (!b) {
		*host = off;
		*n = len;
		return 0;
	}
	err = ski_map_data(b, off, len, false, host, n);
	if (err != -EAGAIN)
		return err;
	*host = ~0ULL;
	end = (off | (b->cluster_size - 1)) + 1;
	*n = end - off < len ? end - off : len;
	return ski_read(b, buf, *n, off);
}

/*
 * Read @len bytes at guest offset @off, where the child holds nothing,
 * into @buf: what its chain shows there.  With a way to drop the caller's
 * lock, what the backing file holds as plain data is read with the lock
 * dropped: backing files are opened read-only and nothing writes them
 * while a stream runs, so the offsets found under the lock stay right;
 * the backing image's caches are only used under the lock, as the guest
 * reads through them too.  The rest is read under the lock.  A guest
 * write into the run meanwhile goes into the child, and stream_map()
 * keeps it over the copy.
 */
static int stream_read(struct ski_op *op, u8 *buf, u64 len, u64 off)
{
	struct ski_image *img = op->img;
	struct stream_piece pc[STREAM_READ_PIECES];
	struct skp_file *file;
	unsigned int nr = 0, i;
	u64 pos = 0, host, n;
	int err = 0;

	if (!op->unlock || (!img->backing && !img->backing_raw))
		return ski_read(img, buf, len, off);
	file = img->backing ? img->backing->file : img->backing_raw;
	while (pos < len && nr < STREAM_READ_PIECES) {
		err = stream_map_piece(img, buf + pos, len - pos, off + pos,
				       &host, &n);
		if (err)
			return err;
		if (host != ~0ULL) {
			pc[nr].pos = pos;
			pc[nr].host = host;
			pc[nr].len = n;
			nr++;
		}
		pos += n;
	}
	/* more pieces than room: the rest the locked way */
	if (pos < len)
		err = ski_read(img, buf + pos, len - pos, off + pos);
	if (err || !nr)
		return err;
	op->unlock(op->lock_arg);
	for (i = 0; !err && i < nr; i++)
		err = skp_pread_bulk(file, buf + pc[i].pos, pc[i].len,
				     pc[i].host);
	op->relock(op->lock_arg);
	return err;
}

/*
 * Write the copies of pending moves @from onward (their new clusters were
 * allocated by stream_run() and are not mapped: no guest request reaches
 * them, nothing else writes there) from the run buffer, whose first
 * cluster is guest cluster @first; contiguous ones in one write.  With a
 * way to drop the caller's lock, with the lock dropped: the file is
 * written at offsets only this step owns, and a guest write meanwhile goes
 * into the child, where stream_map() keeps it over the copy.
 */
static int stream_write(struct ski_op *op, u64 first, unsigned int from)
{
	struct ski_image *img = op->img;
	const struct ski_move *mv = op->moves;
	struct ski_data_run data = { 0 };
	unsigned int k;
	int err = 0;

	if (from == op->nr_pending)
		return 0;
	if (op->unlock)
		op->unlock(op->lock_arg);
	for (k = from; !err && k < op->nr_pending; k++)
		err = ski_data_run_add(img, &data, op->buf +
				       ((mv[k].owner - first) <<
					img->cluster_bits),
				       mv[k].to << img->cluster_bits);
	if (!err)
		err = ski_data_run_write(img, &data);
	if (op->unlock)
		op->relock(op->lock_arg);
	return err;
}

/*
 * Stream one run the child lacks: its clusters that read non-zero through
 * the chain go into new clusters of the child, pending for stream_map().
 * New clusters are allocated under the lock, as many as the pending moves
 * have room for, then written by stream_write(); a full set of pending
 * moves is mapped before the run goes on.
 */
static int stream_run(struct ski_op *op, const struct ski_run *run)
{
	struct ski_image *img = op->img;
	u64 bytes = run_bytes(img, run->first, run->nr), i = 0, gc, c;
	unsigned int from;
	int err;

	err = stream_read(op, op->buf, bytes, run->first << img->cluster_bits);
	if (err)
		return err;
	/* the disk's last cluster may be short: the rest reads as zeroes */
	memset(op->buf + bytes, 0, (run->nr << img->cluster_bits) - bytes);
	while (i < run->nr) {
		from = op->nr_pending;
		for (; i < run->nr && op->nr_pending < op->max_pending; i++) {
			gc = run->first + i;
			if (all_zero(op->buf + (i << img->cluster_bits),
				     img->cluster_size))
				continue;
			err = ski_ensure_l2(img, gc / img->l2_entries);
			if (!err)
				err = ski_alloc_cluster(img, &c);
			if (err)
				return err;
			op->moves[op->nr_pending].to = c;
			op->moves[op->nr_pending].owner = gc;
			op->nr_pending++;
			/* copied (op->dropped: given back at the mapping) */
			op->moved++;
		}
		err = stream_write(op, run->first, from);
		if (!err && op->nr_pending == op->max_pending)
			err = stream_map(op);
		if (err)
			return err;
	}
	return 0;
}

/**
 * ski_merge_end() - give back a stream's clusters written and not mapped
 * @op: a stream or commit cut short (cancelled, failed); under the lock
 *
 * Best effort: what cannot be given back stays leaked.
 */
void ski_merge_end(struct ski_op *op)
{
	struct ski_image *img = op->img;
	struct ski_release rel = { 0 };
	unsigned int k;

	for (k = 0; k < op->nr_pending; k++)
		if (ski_release_entry(img, (op->moves[k].to <<
					     img->cluster_bits) |
					    QCOW2_OFLAG_COPIED, &rel))
			break;
	ski_release_end(img, &rel);
	op->nr_pending = 0;
}

static int merge_finish(struct ski_op *op)
{
	struct ski_image *img = op->img;
	int err;

	if (op->kind == SKI_OP_STREAM) {
		err = stream_map(op);
		if (!err)
			err = ski_drop_backing(img);
		if (!err && img->writable)
			err = ski_note_history(img, "streamed", NULL);
		return err ? err : 1;
	}
	/*
	 * Commit: the parent takes the child's VM information, unless it
	 * has some this version cannot read (kept, as ski_set_vminfo() does).
	 */
	if (img->has_vminfo && !op->parent->vminfo_unread) {
		err = ski_set_vminfo(op->parent, &img->vminfo);
		if (err)
			return err;
	}
	err = ski_note_history(op->parent, "merged", NULL);
	if (!err)
		err = ski_note_history(img, "merged", NULL);
	if (err)
		return err;
	/*
	 * The child is empty: from now on the parent serves every guest
	 * write too (the child stays, empty, so that the configuration that
	 * names it still works), until the image is closed.
	 */
	img->commit_below = img->guest_clusters;
	op->keep_redirect = true;
	return 1;
}

/**
 * ski_merge_step() - commit or stream up to @budget guest clusters
 * Return: 1 when finished, 0 when more steps are needed, or -errno.
 * @op: operation from ski_op_begin()
 * @budget: clusters to copy at most
 */
int ski_merge_step(struct ski_op *op, u64 budget)
{
	struct ski_image *img = op->img;
	int err;

	if (!budget)
		budget = 1;
	/* Gather runs of like clusters, up to @budget and one buffer. */
	op->nr_runs = 0;
	while (budget && op->cursor < img->guest_clusters &&
	       op->nr_runs < SKI_MERGE_RUNS) {
		u64 first = op->cursor, nr = 0, entry, limit;
		bool zero = false;

		limit = op->buf_clusters;
		if (op->kind == SKI_OP_COMMIT)
			limit -= op->run_clusters;
		if (limit > budget)
			limit = budget;
		if (!limit)
			break;
		while (first + nr < img->guest_clusters && nr < limit) {
			bool want, is_zero;

			err = ski_l2_entry(img, first + nr, &entry);
			if (err)
				return err;
			is_zero = (entry & QCOW2_OFLAG_ZERO) &&
				  !(entry & QCOW2_OFLAG_COMPRESSED);
			want = op->kind == SKI_OP_COMMIT ? holds(entry) :
			       !holds(entry);
			if (!want) {
				if (nr)
					break;
				first++;
				continue;
			}
			if (nr && is_zero != zero)
				break;
			zero = is_zero;
			nr++;
		}
		op->cursor = first + nr;
		op->done = op->cursor;
		if (!nr)
			break;
		budget -= nr;
		if (op->kind == SKI_OP_STREAM) {
			struct ski_run run = { first, nr, zero };

			err = stream_run(op, &run);
			if (err)
				return err;
			continue;
		}
		op->runs[op->nr_runs].first = first;
		op->runs[op->nr_runs].nr = nr;
		op->runs[op->nr_runs].zero = zero;
		op->nr_runs++;
		op->run_clusters += nr;
	}
	if (op->nr_runs) {
		err = commit_runs(op);
		op->nr_runs = 0;
		op->run_clusters = 0;
		if (err)
			return err;
	}
	/*
	 * Guest writes behind the cursor go to the parent from now on; not
	 * before the step is done, for an unlocked copy relies on guest
	 * writes into its clusters going to the child.
	 */
	if (op->kind == SKI_OP_COMMIT) {
		err = advance_below(op, op->cursor);
		if (err)
			return err;
	}
	if (op->cursor < img->guest_clusters)
		return 0;
	/*
	 * Under a running guest, clusters written behind the cursor are in
	 * the child again: pass again until a whole pass finds nothing.  A
	 * pass that finds nothing is one step (unheld entries cost no
	 * budget), so no guest write can slip in before merge_finish() and
	 * the child ends empty: the parent alone then reads what the guest
	 * wrote, and the backend may serve it without the child.  A new
	 * pass starts at commit_below: the child holds nothing below it.
	 */
	if (op->kind == SKI_OP_COMMIT && (op->moved != op->pass_moved ||
					  img->commit_below < img->guest_clusters)) {
		op->pass_moved = op->moved;
		op->cursor = img->commit_below;
		return 0;
	}
	return merge_finish(op);
}
