// SPDX-License-Identifier: GPL-2.0
/*
 * Refcounts of an open image: the refcount table and its blocks, growing
 * the table, allocating and releasing clusters.
 *
 * Crash safety rests on one ordering rule for every change of a mapping:
 *
 *   1. a new cluster's refcount is raised (and its contents written),
 *   2. flush,
 *   3. the L2 (or L1, refcount-table) entry is pointed at it,
 *   4. flush, then the refcount of whatever it replaced is dropped.
 *
 * A crash between any two steps leaves at worst a cluster whose refcount is
 * higher than its references (a leak qemu-img check -r leaks repairs), never
 * a reference to a cluster whose refcount is zero, so no freed cluster can be
 * handed out twice.  This file does the refcount half of each step; table.c,
 * io.c and relocate.c the mapping half.  Refcount blocks are cached read
 * copies; every change is written through.
 */
#include "endian.h"
#include "image_priv.h"

int ski_file_clusters(struct ski_image *img, u64 *clusters)
{
	u64 size;
	int err = skp_size(img->file, &size);

	if (err)
		return err;
	*clusters = (size + img->cluster_size - 1) >> img->cluster_bits;
	return 0;
}

int ski_load_reftable(struct ski_image *img, u64 file_size)
{
	u64 bytes = (u64)img->hdr.refcount_table_clusters << img->cluster_bits;
	u64 i;
	u8 *raw;
	int err;

	img->reftable_entries = bytes / 8;
	img->reftable = skp_zalloc(bytes);
	raw = skp_zalloc(bytes);
	if (!img->reftable || !raw || ski_refcount_cache_init(img)) {
		skp_free(raw);
		return -ENOMEM;
	}
	if (img->hdr.refcount_table_offset + bytes > file_size) {
		skp_free(raw);
		return ski_corrupt(img, "refcount table beyond end of file",
				   img->hdr.refcount_table_offset);
	}
	err = skp_pread(img->file, raw, bytes, img->hdr.refcount_table_offset);
	for (i = 0; !err && i < img->reftable_entries; i++) {
		u64 e = ski_get_be64(raw + i * 8);

		if (e & QCOW2_REFT_RESERVED || e & (img->cluster_size - 1))
			err = ski_corrupt(img, "bad refcount table entry", e);
		else if (e && e + img->cluster_size > file_size)
			err = ski_corrupt(img, "refcount block beyond end of file",
					  e);
		img->reftable[i] = e;
		ski_meta_filter_add(img, e);
	}
	skp_free(raw);
	/* the header cluster always has a refcount: block 0 is there */
	if (!err && !img->reftable[0])
		err = ski_corrupt(img, "no refcount block for the header", 0);
	ski_reftable_top_set(img);
	return err;
}

/** ski_refcount_free() - drop the refcount table copy and cached blocks */
void ski_refcount_free(struct ski_image *img)
{
	ski_cache_free(&img->rb_cache);
	skp_free(img->reftable);
	img->reftable = NULL;
}

/**
 * ski_refcount_cache_init() - (re)start the refcount-block cache
 * @img: open image, refcount table loaded
 *
 * Return: 0 or -ENOMEM.
 */
int ski_refcount_cache_init(struct ski_image *img)
{
	size_t bytes = img->rb_entries * sizeof(u16);
	struct ski_cache fresh;
	int err;

	err = ski_cache_init(&fresh, img->reftable_entries, bytes,
			     ski_cache_slots_for(img->rb_budget ?:
						 SKI_RB_CACHE_BYTES, bytes));
	if (err) {
		ski_cache_free(&fresh);
		return err;
	}
	ski_cache_free(&img->rb_cache);
	img->rb_cache = fresh;
	return 0;
}

/* The cached refcount block @index; NULL when the table has none. */
static int load_refblock(struct ski_image *img, u64 index, u16 **blockp)
{
	u16 *block;
	u64 i;
	int err;

	*blockp = ski_cache_lookup(&img->rb_cache, index);
	if (*blockp || !img->reftable[index])
		return 0;
	err = ski_table_check(img, img->reftable[index], "a refcount block");
	if (err)
		return err;
	err = ski_cache_insert(&img->rb_cache, index, (void **)&block);
	if (err)
		return err;
	err = skp_pread(img->file, img->scratch, img->cluster_size,
			img->reftable[index]);
	if (err) {
		ski_cache_drop(&img->rb_cache, index);
		return err;
	}
	for (i = 0; i < img->rb_entries; i++)
		block[i] = ski_get_be16(img->scratch + i * 2);
	*blockp = block;
	return 0;
}

/** ski_refcount() - on-disk refcount of host @cluster (0 past the table) */
int ski_refcount(struct ski_image *img, u64 cluster, u16 *refcount)
{
	u64 index = cluster / img->rb_entries;
	u16 *block;
	int err;

	*refcount = 0;
	if (img->hdr.refcount_order != 4)
		return -EOPNOTSUPP;
	if (index >= img->reftable_entries)
		return 0;
	err = load_refblock(img, index, &block);
	if (err || !block)
		return err;
	*refcount = block[cluster % img->rb_entries];
	return 0;
}

/**
 * ski_refblocks_present() - are host clusters [@from, @to) described by
 *	refcount blocks already?
 * @img: open image
 * @from: first host cluster
 * @to: one past the last
 *
 * Under the caller's lock on @img.
 *
 * Return: true when setting their refcounts creates no refcount block and
 * grows no refcount table, so allocates nothing inside the range (a file
 * may run past what its refcount blocks describe: a tail added with
 * truncate, another tool's output, a crafted file).
 */
bool ski_refblocks_present(const struct ski_image *img, u64 from, u64 to)
{
	u64 i;

	if (from >= to)
		return true;
	for (i = from / img->rb_entries; i <= (to - 1) / img->rb_entries; i++)
		if (i >= img->reftable_entries || !img->reftable[i])
			return false;
	return true;
}

/** ski_set_reftable_entry() - point refcount table slot @index at @entry */
int ski_set_reftable_entry(struct ski_image *img, u64 index, u64 entry)
{
	int err;

	err = ski_write_entry(img, img->hdr.refcount_table_offset, index,
			      entry);
	if (err)
		return err;
	img->reftable[index] = entry;
	ski_meta_filter_add(img, entry);
	if (entry && index >= img->reftable_top)
		img->reftable_top = index + 1;
	else if (!entry && index + 1 == img->reftable_top)
		ski_reftable_top_set(img);
	ski_cache_drop(&img->rb_cache, index);
	if (entry)
		ski_rmap_set(img, entry >> img->cluster_bits,
			     SKI_RMAP_REFBLOCK | index);
	return 0;
}

static void note_used(struct ski_image *img, u64 cluster)
{
	if (cluster >= img->end_cluster)
		img->end_cluster = cluster + 1;
}

/*
 * Grow the refcount table so that slot @need exists.  The new table and any
 * refcount blocks describing it go past everything in use; they only become
 * live with the header update, so a crash before it leaves unused space.
 */
static int grow_reftable(struct ski_image *img, u64 need, u64 avoid)
{
	u64 per_cluster = img->cluster_size / 8;
	u64 start = img->end_cluster > avoid ? img->end_cluster : avoid + 1;
	u64 entries = need + 1, table_clusters;
	u64 first_block, nr_blocks = 0, i, old_off, old_clusters;
	u64 *new_table = NULL;
	u8 *raw = NULL, hdr_raw[12];
	int err = -ENOMEM;

	/* Find a size that covers the table, its blocks and @need. */
	for (;;) {
		u64 last, blocks = 0, idx;

		table_clusters = (entries + per_cluster - 1) / per_cluster;
		last = start + table_clusters + nr_blocks - 1;
		for (idx = start / img->rb_entries;
		     idx <= last / img->rb_entries; idx++)
			if (idx >= img->reftable_entries ||
			    !img->reftable[idx])
				blocks++;
		if (last / img->rb_entries + 1 > entries) {
			entries = last / img->rb_entries + 1;
			continue;
		}
		if (blocks == nr_blocks)
			break;
		nr_blocks = blocks;
	}
	entries = table_clusters * per_cluster;
	if (entries * 8 > QCOW2_MAX_REFTABLE_BYTES)
		return -EFBIG;
	first_block = start + table_clusters;

	new_table = ski_io_zalloc(entries * 8);
	raw = ski_io_zalloc(table_clusters << img->cluster_bits);
	if (!new_table || !raw ||
	    ski_cache_resize_index(&img->rb_cache, entries))
		goto free_new;
	memcpy(new_table, img->reftable, img->reftable_entries * 8);

	/* Write the new blocks, each counting the clusters we add here. */
	{
		u64 blk = first_block, c;

		for (c = start; c < first_block + nr_blocks; c++) {
			u64 idx = c / img->rb_entries;

			if (!new_table[idx]) {
				new_table[idx] = blk << img->cluster_bits;
				blk++;
			}
		}
		for (c = start; c < first_block + nr_blocks; c++) {
			u64 idx = c / img->rb_entries;
			u64 slot = c % img->rb_entries;
			u8 one[2];

			if (idx < img->reftable_entries && img->reftable[idx]) {
				/* Existing block: write the refcount in it. */
				ski_put_be16(one, 1);
				err = skp_pwrite(img->file, one, 2,
						 img->reftable[idx] + slot * 2);
				if (err)
					goto free_new;
				ski_cache_drop(&img->rb_cache, idx);
				continue;
			}
			memset(img->scratch, 0, img->cluster_size);
			err = skp_pread(img->file, img->scratch,
					img->cluster_size, new_table[idx]);
			if (err)
				goto free_new;
			ski_put_be16(img->scratch + slot * 2, 1);
			err = skp_pwrite(img->file, img->scratch,
					 img->cluster_size, new_table[idx]);
			if (err)
				goto free_new;
		}
	}
	for (i = 0; i < entries; i++)
		ski_put_be64(raw + i * 8, new_table[i]);
	err = skp_pwrite(img->file, raw, table_clusters << img->cluster_bits,
			 start << img->cluster_bits);
	if (!err)
		err = skp_flush(img->file);
	if (err)
		goto free_new;

	/* Switch the header to the new table: one 12-byte write. */
	ski_put_be64(hdr_raw, start << img->cluster_bits);
	ski_put_be32(hdr_raw + 8, table_clusters);
	err = skp_pwrite(img->file, hdr_raw, 12, 48);
	if (!err)
		err = skp_flush(img->file);
	if (err)
		goto free_new;

	old_off = img->hdr.refcount_table_offset;
	old_clusters = img->hdr.refcount_table_clusters;
	img->hdr.refcount_table_offset = start << img->cluster_bits;
	img->hdr.refcount_table_clusters = table_clusters;
	skp_free(img->reftable);
	img->reftable = new_table;
	img->reftable_entries = entries;
	ski_reftable_top_set(img);
	for (i = 0; i < entries; i++)
		ski_meta_filter_add(img, new_table[i]);
	note_used(img, first_block + nr_blocks - 1);
	for (i = start; i < first_block; i++)
		ski_rmap_set(img, i, SKI_RMAP_FIXED);
	for (i = 0; i < entries; i++)
		if (new_table[i] >= first_block << img->cluster_bits)
			ski_rmap_set(img, new_table[i] >> img->cluster_bits,
				     SKI_RMAP_REFBLOCK | i);
	skp_free(raw);

	/* The old table is no longer referenced: release it. */
	return ski_release_run(img, old_off, old_clusters);

free_new:
	skp_free(raw);
	skp_free(new_table);
	return err;
}

/*
 * Create refcount block @index.  It is placed inside the range it describes
 * (at its first cluster other than @avoid), counts itself, and is written and
 * flushed before the refcount table points at it.
 */
static int create_refblock(struct ski_image *img, u64 index, u64 avoid)
{
	u64 cluster = index * img->rb_entries;
	int err;

	if (cluster == avoid)
		cluster++;
	/* nothing here has a refcount: on a sound image nothing is here */
	err = ski_overlap_check(img, cluster << img->cluster_bits,
				img->cluster_size, SKI_RMAP_FREE,
				"a new refcount block");
	if (err)
		return err;
	memset(img->scratch, 0, img->cluster_size);
	ski_put_be16(img->scratch + (cluster % img->rb_entries) * 2, 1);
	err = skp_pwrite(img->file, img->scratch, img->cluster_size,
			 cluster << img->cluster_bits);
	if (!err)
		err = skp_flush(img->file);
	if (!err)
		err = ski_set_reftable_entry(img, index,
					     cluster << img->cluster_bits);
	if (!err)
		note_used(img, cluster);
	return err;
}

/**
 * ski_release_run() - drop the refcounts of a run of host clusters to 0.
 * @img: the image.
 * @off: byte offset of the run's first cluster (0: nothing to release).
 * @clusters: run length in clusters.
 *
 * For a table (L1, refcount table) that was just replaced and is no longer
 * referenced.  Return: 0, or the first -errno of ski_set_refcount().
 */
int ski_release_run(struct ski_image *img, u64 off, u64 clusters)
{
	u64 i;
	int err;

	for (i = 0; off && i < clusters; i++) {
		err = ski_set_refcount(img, (off >> img->cluster_bits) + i, 0);
		if (err)
			return err;
	}
	return 0;
}

/** ski_set_refcount() - write the refcount of host @cluster through */
int ski_set_refcount(struct ski_image *img, u64 cluster, u16 refcount)
{
	u64 index = cluster / img->rb_entries;
	u16 *block;
	u8 raw[2];
	int err;

	if (img->hdr.refcount_order != 4)
		return -EOPNOTSUPP;
	if (index >= img->reftable_entries) {
		if (!refcount)
			return 0;
		err = grow_reftable(img, index, cluster);
		if (err)
			return err;
	}
	if (!img->reftable[index]) {
		if (!refcount)
			return 0;
		err = create_refblock(img, index, cluster);
		if (err)
			return err;
	}
	err = load_refblock(img, index, &block);
	if (err)
		return err;
	if (!block)	/* the slot was emptied under us: never on a sound image */
		return ski_corrupt(img, "refcount block vanished", index);
	if (!refcount && block[cluster % img->rb_entries] && img->free_hook)
		img->free_hook(img->free_hook_arg);
	ski_put_be16(raw, refcount);
	err = skp_pwrite(img->file, raw, 2,
			 img->reftable[index] +
			 (cluster % img->rb_entries) * 2);
	if (err)
		return err;
	block[cluster % img->rb_entries] = refcount;
	if (!refcount) {
		ski_rmap_set(img, cluster, SKI_RMAP_FREE);
		/* freed, so maybe reallocated: a copy in flight is stale */
		ski_op_note_change(img, cluster << img->cluster_bits,
				  img->cluster_size);
	}
	if (refcount)
		note_used(img, cluster);
	else if (cluster < img->free_hint)
		img->free_hint = cluster;
	return 0;
}

/**
 * ski_alloc_cluster() - take the lowest free host cluster, refcount 1
 * @img: writable image
 * @cluster: set to the host cluster index
 *
 * Cluster 0 (the header) is never free.  The refcount is written, not
 * flushed: the caller flushes before anything references the cluster.
 * The search reads refcount blocks, each a distinct cluster of the file
 * (overlap.c refuses a block two slots name), so it is bounded by the
 * file's size times a block's refcounts.  A cluster that a damaged image
 * counts free but uses as metadata is refused (overlap.c): -EUCLEAN.
 */
int ski_alloc_cluster(struct ski_image *img, u64 *cluster)
{
	u64 c = img->free_hint ? img->free_hint : 1;
	u16 rc;
	int err;

	for (;; c++) {
		err = ski_refcount(img, c, &rc);
		if (err)
			return err;
		if (!rc)
			break;
	}
	err = ski_overlap_check(img, c << img->cluster_bits,
				img->cluster_size, SKI_RMAP_FREE,
				"a new cluster");
	if (err)
		return err;
	img->free_hint = c + 1;
	err = ski_set_refcount(img, c, 1);
	if (err) {
		/* @c is still free: not skipped by the next allocation */
		if (c < img->free_hint)
			img->free_hint = c;
		return err;
	}
	/* Creating a refcount block may have taken @c's neighbour. */
	*cluster = c;
	return 0;
}

/**
 * ski_alloc_run() - take @nr contiguous free host clusters, refcount 1 each
 * @img: writable image
 * @nr: how many
 * @first: set to the first cluster of the run
 *
 * The run starts at the end of the used part of the file.  Raising a
 * refcount may place a new refcount block (or a grown refcount table) in
 * the clusters just after: then the run starts again past them, and the
 * clusters it had taken are given back.  Refcounts are written, not
 * flushed, as ski_alloc_cluster() does.
 */
int ski_alloc_run(struct ski_image *img, u64 nr, u64 *first)
{
	u64 start = img->end_cluster, i, j;
	u16 rc;
	int err;

again:
	for (i = 0; i < nr; i++) {
		err = ski_refcount(img, start + i, &rc);
		if (!err && !rc)
			err = ski_set_refcount(img, start + i, 1);
		if (err || rc) {
			for (j = 0; j < i; j++)
				ski_set_refcount(img, start + j, 0);
			if (err)
				return err;
			start = img->end_cluster > start + i + 1 ?
				img->end_cluster : start + i + 1;
			goto again;
		}
	}
	*first = start;
	return 0;
}

/**
 * ski_compressed_range() - host bytes [*start, *end) a compressed entry uses
 * @img: open image
 * @entry: a compressed L2 entry
 * @start: set to the first host byte
 * @end: set past the last host byte
 */
int ski_compressed_range(struct ski_image *img, u64 entry, u64 *start,
			 u64 *end)
{
	u32 offset_bits = 62 - (img->cluster_bits - 8);
	u64 off = entry & ((1ULL << offset_bits) - 1);
	u64 sectors = (entry & ~QCOW2_OFLAG_COPIED & ~QCOW2_OFLAG_COMPRESSED)
		      >> offset_bits;

	if (entry & QCOW2_OFLAG_COPIED)
		return ski_corrupt(img, "compressed cluster marked copied", entry);
	*start = off;
	*end = (off & ~511ULL) + (sectors + 1) * 512;
	if (!off)
		return ski_corrupt(img, "compressed cluster at offset 0", entry);
	return 0;
}

/* Punch the pending range of @rel, if any. */
void ski_release_end(struct ski_image *img, struct ski_release *rel)
{
	if (rel->nr && img->punch)
		skp_punch(img->file, rel->first << img->cluster_bits,
			  rel->nr << img->cluster_bits);
	rel->nr = 0;
}

/* Host cluster @c is free: add it to @rel's range, or punch it now. */
static void release_punch(struct ski_image *img, u64 c,
			  struct ski_release *rel)
{
	struct ski_release one = { c, 1 };

	if (!img->punch)
		return;
	if (!rel) {
		ski_release_end(img, &one);
		return;
	}
	if (rel->nr && c == rel->first + rel->nr) {
		rel->nr++;
		return;
	}
	ski_release_end(img, rel);
	rel->first = c;
	rel->nr = 1;
}

/**
 * ski_release_entry() - drop the refcounts an old L2 entry held
 * @img: writable image
 * @entry: the replaced L2 entry
 * @rel: where freed host clusters gather for one punch (then call
 *	 ski_release_end() before anything is allocated), or NULL to punch
 *	 each at once
 *
 * Call only after the entry's replacement is durable (flushed).
 */
int ski_release_entry(struct ski_image *img, u64 entry,
		      struct ski_release *rel)
{
	u64 start, end, c;
	u16 rc;
	int err;

	if (entry & QCOW2_OFLAG_COMPRESSED) {
		err = ski_compressed_range(img, entry, &start, &end);
		if (err)
			return err;
	} else {
		start = entry & QCOW2_OFFSET_MASK;
		if (!start)
			return 0;
		end = start + img->cluster_size;
	}
	/* data that a crafted entry puts on metadata: never free that */
	err = ski_overlap_check(img, start, end - start, SKI_RMAP_FREE,
				"freeing data");
	if (err)
		return err;
	for (c = start >> img->cluster_bits;
	     c <= (end - 1) >> img->cluster_bits; c++) {
		err = ski_refcount(img, c, &rc);
		if (err)
			return err;
		if (!rc)
			return ski_corrupt(img, "freeing a free cluster", c);
		err = ski_set_refcount(img, c, rc - 1);
		if (err)
			return err;
		/*
		 * Nothing references the cluster any more (the caller flushed
		 * its replacement): its bytes may go.  A compressed cluster's
		 * host clusters may be shared with its neighbours' (rc > 1).
		 */
		if (rc == 1)
			release_punch(img, c, rel);
	}
	return 0;
}
