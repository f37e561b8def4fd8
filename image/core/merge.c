// SPDX-License-Identifier: GPL-2.0
/*
 * Merging a child image with its backing parent, in bounded steps.
 *
 * Commit copies every cluster the child holds into the parent and then
 * drops it from the child: the parent write is flushed before the child's
 * L2 entry is cleared, so the child shows the same bytes before and after
 * each cluster moves, and a crash at any point leaves both images valid.
 * A restarted commit finds only the clusters still in the child.  When the
 * child is empty the parent takes over the child's VM information (the
 * child's wins, as for any differencing disk) and a "merged" history entry.
 *
 * Stream goes the other way: every cluster the child does not hold and the
 * chain shows as non-zero is copied into the child; then the backing file is
 * dropped from the header (ski_drop_backing()).  Until that last write the
 * child still reads unallocated clusters through the chain, which by then
 * holds only zeroes for them.
 */
#include "ops.h"

#define MERGE_RUN_MAX	64

static bool holds(u64 entry)
{
	return entry != 0;
}

/* Open the parent writable for commit (the chain was opened read-only). */
int ski_merge_begin(struct ski_op *op)
{
	struct ski_image *img = op->img;
	char *path;
	size_t dir_len = 0, name_len;
	const char *slash = strrchr(img->path, '/');
	int err;

	/* A stream cut short after dropping the backing file just finishes. */
	if (!img->hdr.backing_file[0] && op->kind == SKI_OP_COMMIT) {
		skp_log(SKP_LOG_ERR, "%s: no backing file to merge with",
			img->path);
		return -EINVAL;
	}
	op->buf_clusters = MERGE_RUN_MAX;
	op->buf = skp_zalloc(op->buf_clusters << img->cluster_bits);
	if (!op->buf)
		return -ENOMEM;
	op->total = img->guest_clusters;
	if (op->kind == SKI_OP_STREAM)
		return 0;

	if (!img->backing) {
		skp_log(SKP_LOG_ERR, "%s: commit needs a qcow2 parent",
			img->path);
		return -EOPNOTSUPP;
	}
	name_len = strlen(img->hdr.backing_file);
	if (img->hdr.backing_file[0] != '/' && slash)
		dir_len = slash - img->path + 1;
	path = skp_zalloc(dir_len + name_len + 1);
	if (!path)
		return -ENOMEM;
	memcpy(path, img->path, dir_len);
	memcpy(path + dir_len, img->hdr.backing_file, name_len);
	err = ski_open_depth(path, SKI_OPEN_RW, img->depth + 1, &op->parent);
	skp_free(path);
	if (err)
		return err;
	/* Reads through the child must see what we write to the parent. */
	ski_close(img->backing);
	img->backing = op->parent;
	if (op->parent->hdr.size < img->hdr.size) {
		skp_log(SKP_LOG_ERR, "%s: parent is smaller than the child",
			img->path);
		return -EINVAL;
	}
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

/* Commit guest clusters [first, first + nr) that the child holds. */
static int commit_run(struct ski_op *op, u64 first, u64 nr, bool zero)
{
	struct ski_image *img = op->img, *parent = op->parent;
	u64 bytes = run_bytes(img, first, nr), i;
	u64 old[MERGE_RUN_MAX];
	int err;

	for (i = 0; i < nr; i++) {
		err = ski_l2_entry(img, first + i, &old[i]);
		if (err)
			return err;
	}
	if (zero && !(bytes & (img->cluster_size - 1)))
		err = ski_discard(parent, first << img->cluster_bits, bytes);
	else {
		err = ski_read(img, op->buf, bytes, first << img->cluster_bits);
		if (!err)
			err = ski_write(parent, op->buf, bytes,
					first << img->cluster_bits);
	}
	if (!err)
		err = skp_flush(parent->file);
	/* Parent durable: now the child may let go. */
	for (i = 0; !err && i < nr; i++)
		err = ski_set_l2_entry(img, first + i, 0);
	if (!err)
		err = skp_flush(img->file);
	for (i = 0; !err && i < nr; i++)
		err = ski_release_entry(img, old[i]);
	op->moved += nr;
	return err;
}

/* Stream guest clusters [first, first + nr) the child lacks. */
static int stream_run(struct ski_op *op, u64 first, u64 nr)
{
	struct ski_image *img = op->img;
	u64 bytes = run_bytes(img, first, nr), i;
	int err;

	err = ski_read(img, op->buf, bytes, first << img->cluster_bits);
	if (err)
		return err;
	/* Write only the clusters that are not all zeroes. */
	for (i = 0; i < nr; i++) {
		u64 off = i << img->cluster_bits, n = img->cluster_size, j;
		bool nonzero = false;

		if (off + n > bytes)
			n = bytes - off;
		for (j = 0; j < n && !nonzero; j++)
			nonzero = op->buf[off + j] != 0;
		if (!nonzero)
			continue;
		err = ski_write(img, op->buf + off, n,
				((first + i) << img->cluster_bits));
		if (err)
			return err;
		op->moved++;
	}
	return 0;
}

static int merge_finish(struct ski_op *op)
{
	struct ski_image *img = op->img;
	int err;

	if (op->kind == SKI_OP_STREAM) {
		err = ski_drop_backing(img);
		if (!err && img->writable)
			err = ski_note_history(img, "streamed", NULL);
		return err ? err : 1;
	}
	/* Commit: the parent takes the child's VM information. */
	if (img->has_vminfo) {
		err = ski_set_vminfo(op->parent, &img->vminfo);
		if (err)
			return err;
	}
	err = ski_note_history(op->parent, "merged", NULL);
	if (!err)
		err = ski_note_history(img, "merged", NULL);
	return err ? err : 1;
}

/**
 * ski_merge_step() - commit or stream up to @budget guest clusters
 * Return: 1 when finished, 0 when more steps are needed, or -errno.
 */
int ski_merge_step(struct ski_op *op, u64 budget)
{
	struct ski_image *img = op->img;
	int err;

	if (!budget)
		budget = 1;
	while (budget && op->cursor < img->guest_clusters) {
		u64 first = op->cursor, nr = 0, entry;
		bool zero = false;

		/* Gather a run of like clusters. */
		while (first + nr < img->guest_clusters && nr < budget &&
		       nr < op->buf_clusters) {
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
		if (nr) {
			err = op->kind == SKI_OP_COMMIT ?
			      commit_run(op, first, nr, zero) :
			      stream_run(op, first, nr);
			if (err)
				return err;
			budget -= nr;
		}
		op->cursor = first + nr;
		op->done = op->cursor;
		if (!nr)
			break;
	}
	if (op->cursor < img->guest_clusters)
		return 0;
	return merge_finish(op);
}
