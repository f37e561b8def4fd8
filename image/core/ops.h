/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Long image operations run as small, bounded, resumable steps.
 *
 * A caller starts an operation with ski_op_begin() and calls ski_op_step()
 * with a budget (clusters moved or copied) until it returns 1.  Between two
 * steps the image is consistent on disk and the guest sees the same content,
 * so splitkit_back can interleave steps with guest I/O, and a crash at any
 * point leaves a valid image (at worst with leaked clusters, which the next
 * compaction reclaims).  Progress is recomputed from the image itself on
 * begin, so an interrupted operation resumes by simply starting again.
 *
 * relocate.c: compaction and defragmentation; merge.c: commit and stream.
 * The caller owns struct ski_op and reads done, total and moved (progress);
 * every other field is the core's own.
 *
 * A step that fails leaves the operation to be ended (ski_op_end()), not
 * stepped again.
 *
 * A caller that serialises guest I/O and steps with a lock of its own
 * (splitkit_back: struct skb_qcow2.lock) may hand the core a way to drop
 * it (ski_op_set_unlock()): a relocation step, or a commit step of data
 * clusters, then copies its clusters and flushes with the lock dropped,
 * and the guest's requests run meanwhile.  The rule that keeps them safe
 * (relocate.c, do_moves(); merge.c, commit_unlocked()): a guest write into
 * a cluster being copied marks its move dirty, and the move copies it
 * again under the lock; a move whose cluster no longer holds its guest
 * cluster (discarded, rewritten elsewhere) is dropped (a commit copies
 * that guest cluster again, under the lock).  A stream drops the lock to
 * read the backing file's plain data, to write its copies into new
 * clusters of the child (allocated under the lock, mapped by nothing) and
 * around the flush before it maps a batch of them, and maps none the
 * guest wrote or discarded meanwhile (merge.c, stream_map()).
 */
#ifndef _SPLITKIT_IMAGE_OPS_H
#define _SPLITKIT_IMAGE_OPS_H

#include "image.h"

enum ski_op_kind {
	SKI_OP_COMPACT,		/* fill holes from the end, truncate */
	SKI_OP_DEFRAG,		/* file order = guest order, compact */
	SKI_OP_COMMIT,		/* child into its qcow2 backing parent */
	SKI_OP_STREAM,		/* chain into the child, drop it */
};

struct ski_move;
struct ski_run;

struct ski_op {
	struct ski_image *img;
	struct ski_image *parent;	/* commit: the parent, writable */
	enum ski_op_kind kind;
	unsigned int phase;
	u64 cursor;			/* L1 index, guest or host cluster */
	u64 place;			/* defrag: next host slot */
	u64 scan;			/* leak scan: next host cluster */
	u64 trim_top;			/* compact: tail punched from here down */
	u64 low_free;			/* compact: no hole below */
	u64 done;
	u64 total;
	u64 moved;			/* clusters relocated or copied */
	u64 pass_moved;			/* commit: moved when this pass began */
	bool keep_redirect;		/* commit done: the parent serves all */
	u8 *buf;
	u64 buf_clusters;
	struct ski_move *moves;		/* relocation batch */
	u64 *plan_gc;			/* defrag: guest clusters to place */
	u64 *plan_place;		/* defrag: and their host slots */
	u8 *copy_buf;			/* relocation: copy_clusters */
	u64 copy_clusters;
	u64 *old_entries;		/* commit: entries being dropped */
	u64 *parent_entries;		/* commit: parent's, being replaced */
	struct ski_run *runs;		/* commit: runs of this step */
	unsigned int nr_runs;
	u64 run_clusters;
	u64 win_base;			/* relocation: reverse-map window */
	u64 build_cursor;		/* relocation: L1 index, window build */
	unsigned int after_build;	/* relocation: phase after building it */
	/* the caller's lock, dropped around a batch's copy and flushes */
	void (*unlock)(void *arg);
	void (*relock)(void *arg);
	void *lock_arg;
	/* moves[0, nr_copying): being copied unlocked; guest writes mark them */
	unsigned int nr_copying;
	u64 recopied;			/* moves copied again (guest wrote) */
	u64 dropped;			/* moves given up (cluster changed) */
	/* stream: moves[0, nr_pending) written into the child, not mapped */
	unsigned int nr_pending;
	unsigned int max_pending;
};

int ski_op_begin(struct ski_op *op, struct ski_image *img,
		 enum ski_op_kind kind);
int ski_op_step(struct ski_op *op, u64 budget);
void ski_op_set_unlock(struct ski_op *op, void (*unlock)(void *arg),
		       void (*relock)(void *arg), void *arg);
void ski_op_end(struct ski_op *op);

#endif /* _SPLITKIT_IMAGE_OPS_H */
