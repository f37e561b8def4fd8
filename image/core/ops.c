// SPDX-License-Identifier: GPL-2.0
/*
 * Entry points of the long operations (see ops.h): begin, step, end.
 */
#include "ops.h"

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

	if (img && img->rmap) {
		skp_free(img->rmap->owner);
		skp_free(img->rmap);
		img->rmap = NULL;
	}
	/* Commit: op->parent is img->backing now, closed with the child. */
	skp_free(op->buf);
	op->buf = NULL;
	skp_free(op->moves);
	op->moves = NULL;
	skp_free(op->plan_gc);
	op->plan_gc = NULL;
	skp_free(op->plan_place);
	op->plan_place = NULL;
	skp_free(op->copy_buf);
	op->copy_buf = NULL;
	skp_free(op->old_entries);
	op->old_entries = NULL;
	skp_free(op->runs);
	op->runs = NULL;
}
