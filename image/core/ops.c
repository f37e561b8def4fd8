// SPDX-License-Identifier: GPL-2.0
/*
 * Entry points of the long operations (see ops.h): begin, step, end.
 */
#include "image_priv.h"

#define free_clear(p)	do { skp_free(p); (p) = NULL; } while (0)

/*
 * The image that serves @img's guest, which an operation on @img works
 * on: @img itself, or, once a commit of @img has finished, the parent it
 * committed into, which serves every guest request from then on (io.c
 * sends them all there; ski_map_data_in() maps them there).  Compacting,
 * defragmenting or merging the emptied child would move nothing, and a
 * stream would copy the parent into itself through the redirection and
 * then close the image it redirects to.
 */
struct ski_image *ski_serving(struct ski_image *img)
{
	while (img->commit_to && !img->op &&
	       img->commit_below >= img->guest_clusters)
		img = img->commit_to;
	return img;
}

/**
 * ski_op_begin() - prepare a long operation on a writable image
 * Return: 0, or -errno (logged) when the operation cannot run: -EROFS,
 *	-EBUSY while another operation runs on the image (or on the parent a
 *	finished commit serves it from), -EINVAL, -EOPNOTSUPP, -ENOMEM.
 * @op: filled in; op->img is the image it works on, which is @img or,
 *	after a finished commit of @img, its parent (see ski_serving())
 * @img: image opened with SKI_OPEN_RW
 * @kind: which operation
 *
 * Whatever it returns, the caller ends @op with ski_op_end(); a refused
 * operation leaves the running one alone.
 */
int ski_op_begin(struct ski_op *op, struct ski_image *img,
		 enum ski_op_kind kind)
{
	memset(op, 0, sizeof(*op));
	if (!img->writable)
		return -EROFS;
	img = ski_serving(img);
	if (img->rmap || img->op) {
		skp_log(SKP_LOG_ERR, "%s: another operation is running",
			img->path);
		return -EBUSY;
	}
	op->img = img;
	op->kind = kind;
	img->op = op;
	switch (kind) {
	case SKI_OP_COMPACT:
	case SKI_OP_DEFRAG:
		op->total = kind == SKI_OP_COMPACT ? img->end_cluster :
			    img->guest_clusters;
		return 0;
	case SKI_OP_COMMIT:
	case SKI_OP_STREAM:
		return ski_merge_begin(op);
	}
	return -EINVAL;
}

/**
 * ski_op_step() - do at most @budget clusters' worth of work
 * Return: 1 when the operation has finished, 0 when it has not, -errno.
 * @op: operation from ski_op_begin()
 * @budget: clusters to move or copy at most
 */
int ski_op_step(struct ski_op *op, u64 budget)
{
	switch (op->kind) {
	case SKI_OP_COMPACT:
	case SKI_OP_DEFRAG:
		return ski_relocate_step(op, budget);
	case SKI_OP_COMMIT:
	case SKI_OP_STREAM:
		return ski_merge_step(op, budget);
	}
	return -EINVAL;
}

/**
 * ski_op_set_unlock() - let relocation and commit steps drop the caller's lock
 * @op: operation from ski_op_begin(), before its first step
 * @unlock: drops the lock that serialises the caller's engine calls
 * @relock: takes it again; may sleep
 * @arg: passed to both
 *
 * From then on, a compaction or defragmentation step whose batch moves
 * guest data only (no L2 table or refcount block: those are copied with
 * every change in them, so under the lock) calls @unlock after raising
 * the targets' refcounts, copies the clusters and flushes, calls @relock,
 * checks every move against what the guest did meanwhile (ops.h), then
 * switches the pointers and drops the lock again around the flush that
 * comes before the old clusters are released.  Guest I/O may run between
 * @unlock and @relock; other operations, closing the image and
 * ski_op_end() may not.  A commit step whose clusters are all data the
 * child holds alone, ahead of where guest writes go to the parent, with
 * the parent's cluster size, does the same (merge.c, commit_unlocked());
 * any other commit step keeps the lock throughout.  A stream drops it
 * while it reads what the backing file holds as plain data
 * (stream_read()), while it writes its copies into new clusters of the
 * child that nothing else uses yet (stream_write()), and around the flush
 * before it maps a batch of them (stream_map()), all in merge.c.
 */
void ski_op_set_unlock(struct ski_op *op, void (*unlock)(void *arg),
		       void (*relock)(void *arg), void *arg)
{
	op->unlock = unlock;
	op->relock = relock;
	op->lock_arg = arg;
}

/*
 * ski_op_flush() - skp_flush() of @file (the image's or a commit's
 * parent's), with the caller's lock dropped around it if @unlocked (then
 * op->unlock must be set).  Return: 0 or a negative errno.
 */
int ski_op_flush(struct ski_op *op, struct skp_file *file, bool unlocked)
{
	int err;

	if (unlocked)
		op->unlock(op->lock_arg);
	err = skp_flush(file);
	if (unlocked)
		op->relock(op->lock_arg);
	return err;
}

/** ski_op_end() - release what the operation held (image stays open) */
void ski_op_end(struct ski_op *op)
{
	struct ski_image *img = op->img;

	if (img) {
		/* a stream cut short: what it wrote and did not map */
		if (op->nr_pending)
			ski_merge_end(op);
		img->op = NULL;
		ski_rmap_free(img);
		/*
		 * A commit cut short: the child serves every cluster itself
		 * again.  A finished one keeps sending guest writes to the
		 * parent (merge.c).
		 */
		if (!op->keep_redirect) {
			img->commit_to = NULL;
			img->commit_below = 0;
		}
	}
	/* Commit: op->parent is img->backing now, closed with the child. */
	free_clear(op->buf);
	free_clear(op->moves);
	free_clear(op->plan_gc);
	free_clear(op->plan_place);
	free_clear(op->copy_buf);
	free_clear(op->old_entries);
	free_clear(op->parent_entries);
	free_clear(op->runs);
}
