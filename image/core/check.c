// SPDX-License-Identifier: GPL-2.0
/*
 * Consistency check: recount every reference and compare with refcounts.
 *
 * Every cluster the image uses is counted from the structures that reach
 * it (header, refcount table and blocks, L1, L2 tables, data and compressed
 * clusters).  A refcount lower than the count is an error (the cluster could
 * be handed out twice); a higher one is a leak, which SKI_CHECK_REPAIR_LEAKS
 * lowers.  Entries pointing outside the file, unaligned or with reserved
 * bits, and COPIED flags that disagree with a refcount of one, are errors.
 */
#include "image_priv.h"

struct counter {
	struct ski_image *img;
	struct ski_check_result *res;
	u32 *counts;
	u64 nr;
};

static void count(struct counter *ctr, u64 cluster, const char *what)
{
	if (cluster >= ctr->nr) {
		skp_log(SKP_LOG_ERR, "%s: %s at cluster %llu past end of file",
			ctr->img->path, what, (unsigned long long)cluster);
		ctr->res->errors++;
		return;
	}
	ctr->counts[cluster]++;
}

static void count_range(struct counter *ctr, u64 start, u64 bytes,
			const char *what)
{
	u64 c;

	for (c = start >> ctr->img->cluster_bits;
	     c < (start + bytes + ctr->img->cluster_size - 1) >>
		 ctr->img->cluster_bits; c++)
		count(ctr, c, what);
}

static void check_copied(struct counter *ctr, u64 entry, u64 cluster,
			 const char *what)
{
	u16 rc = 0;

	if (ski_refcount(ctr->img, cluster, &rc))
		return;
	if (!!(entry & QCOW2_OFLAG_COPIED) != (rc == 1)) {
		skp_log(SKP_LOG_ERR, "%s: %s at cluster %llu: COPIED flag "
			"disagrees with refcount %u", ctr->img->path, what,
			(unsigned long long)cluster, rc);
		ctr->res->errors++;
	}
}

static int count_l2(struct counter *ctr, u64 l1_index)
{
	struct ski_image *img = ctr->img;
	u64 *table, i;
	int err;

	err = ski_load_l2(img, l1_index, &table);
	if (err || !table)
		return err;
	for (i = 0; i < img->l2_entries; i++) {
		u64 e = table[i], start, end, off;

		if (!e)
			continue;
		if (e & QCOW2_OFLAG_COMPRESSED) {
			if (ski_compressed_range(img, e, &start, &end)) {
				ctr->res->errors++;
				continue;
			}
			ctr->res->compressed = true;
			count_range(ctr, start, end - start,
				    "compressed cluster");
			continue;
		}
		off = e & QCOW2_OFFSET_MASK;
		if (e & QCOW2_L2_RESERVED || off & (img->cluster_size - 1)) {
			skp_log(SKP_LOG_ERR, "%s: bad L2 entry 0x%llx",
				img->path, (unsigned long long)e);
			ctr->res->errors++;
			continue;
		}
		if (!off)
			continue;
		count(ctr, off >> img->cluster_bits, "data cluster");
		check_copied(ctr, e, off >> img->cluster_bits, "data cluster");
	}
	return 0;
}

/**
 * ski_check() - verify refcounts against references
 * @img: open image
 * @flags: SKI_CHECK_REPAIR_LEAKS to lower leaked refcounts (needs RW)
 * @res: what the check found
 *
 * Return: 0 when the check ran (see @res for what it found), or -errno
 * when it could not (snapshots, bitmaps, non-16-bit refcounts).
 */
int ski_check(struct ski_image *img, unsigned int flags,
	      struct ski_check_result *res)
{
	struct counter ctr = { .img = img, .res = res };
	u64 file_clusters, i, last_used = 0;
	int err;

	memset(res, 0, sizeof(*res));
	if (img->hdr.nb_snapshots || img->hdr.has_bitmaps ||
	    img->hdr.refcount_order != 4) {
		skp_log(SKP_LOG_ERR, "%s: check supports images without "
			"snapshots or bitmaps, with 16-bit refcounts",
			img->path);
		return -EOPNOTSUPP;
	}
	if ((flags & SKI_CHECK_REPAIR_LEAKS) && !img->writable)
		return -EROFS;
	err = ski_file_clusters(img, &file_clusters);
	if (err)
		return err;
	ctr.nr = file_clusters > img->end_cluster ? file_clusters :
		 img->end_cluster;
	ctr.counts = skp_zalloc((ctr.nr + 1) * sizeof(u32));
	if (!ctr.counts)
		return -ENOMEM;

	count(&ctr, 0, "header");
	count_range(&ctr, img->hdr.refcount_table_offset,
		    (u64)img->hdr.refcount_table_clusters << img->cluster_bits,
		    "refcount table");
	for (i = 0; i < img->reftable_entries; i++)
		if (img->reftable[i])
			count(&ctr, img->reftable[i] >> img->cluster_bits,
			      "refcount block");
	count_range(&ctr, img->hdr.l1_table_offset, (u64)img->hdr.l1_size * 8,
		    "L1 table");
	for (i = 0; i < img->hdr.l1_size; i++) {
		u64 off = img->l1[i] & QCOW2_OFFSET_MASK;

		if (!off)
			continue;
		count(&ctr, off >> img->cluster_bits, "L2 table");
		check_copied(&ctr, img->l1[i], off >> img->cluster_bits,
			     "L2 table");
		err = count_l2(&ctr, i);
		if (err)
			goto free_counts;
	}

	for (i = 0; i < ctr.nr; i++) {
		u16 rc;

		err = ski_refcount(img, i, &rc);
		if (err)
			goto free_counts;
		if (ctr.counts[i])
			last_used = i + 1;
		if (rc)
			res->allocated_clusters++;
		if (rc < ctr.counts[i]) {
			skp_log(SKP_LOG_ERR, "%s: cluster %llu refcount %u, "
				"referenced %u times", img->path,
				(unsigned long long)i, rc, ctr.counts[i]);
			res->errors++;
		} else if (rc > ctr.counts[i]) {
			res->leaks++;
			if (flags & SKI_CHECK_REPAIR_LEAKS) {
				err = ski_set_refcount(img, i, ctr.counts[i]);
				if (err)
					goto free_counts;
				res->leaks_fixed++;
			}
		}
	}
	res->image_end = last_used << img->cluster_bits;
	if (res->leaks_fixed)
		err = skp_flush(img->file);
free_counts:
	skp_free(ctr.counts);
	return err;
}
