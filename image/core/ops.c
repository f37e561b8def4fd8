// SPDX-License-Identifier: GPL-2.0
/*
 * Entry points of the long operations (see ops.h): begin, step, end.
 */
#include "image_priv.h"

#define free_clear(p)	do { skp_free(p); (p) = NULL; } while (0)

/**
 * ski_op_begin() - prepare a long operation on a writable image
 * Return: 0, or -errno (logged) when the operation cannot run.
 * @op: filled in
 * @img: image opened with SKI_OPEN_RW
 * @kind: which operation
 */
int ski_op_begin(struct ski_op *op, struct ski_image *img,
		 enum ski_op_kind kind)
{
	memset(op, 0, sizeof(*op));
	op->img = img;
	op->kind = kind;
	if (!img->writable)
		return -EROFS;
	if (img->rmap) {
		skp_log(SKP_LOG_ERR, "%s: another operation is running",
			img->path);
		return -EBUSY;
	}
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

/** ski_op_end() - release what the operation held (image stays open) */
void ski_op_end(struct ski_op *op)
{
	struct ski_image *img = op->img;

	if (img) {
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
	free_clear(op->runs);
}
