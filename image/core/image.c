// SPDX-License-Identifier: GPL-2.0
/*
 * qcow2 image engine core: open, guest reads and writes, allocation.
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
 * handed out twice.  Metadata is written through to the file as it changes;
 * the in-memory copies (L1, cached L2 tables and refcount blocks) are
 * read caches only, so nothing is lost if the process dies.
 *
 * Everything read from the file is validated before use: table offsets must
 * be cluster aligned and inside the file, entries must not use reserved
 * bits, and no index derived from the file is used unbounded.
 */
#include "endian.h"
#include "image.h"
#include "ops.h"

#define SKI_L2_CACHE_MAX	4096
#define SKI_DISCARD_BATCH	32

static char *dup_str(const char *s)
{
	size_t len = strlen(s);
	char *copy = skp_zalloc(len + 1);

	if (copy)
		memcpy(copy, s, len);
	return copy;
}

static int corrupt(struct ski_image *img, const char *what, u64 value)
{
	skp_log(SKP_LOG_ERR, "%s: image corrupt: %s (0x%llx)",
		img->path, what, (unsigned long long)value);
	return -EUCLEAN;
}

int ski_file_clusters(struct ski_image *img, u64 *clusters)
{
	u64 size;
	int err = skp_size(img->file, &size);

	if (err)
		return err;
	*clusters = (size + img->cluster_size - 1) >> img->cluster_bits;
	return 0;
}

/* ---- tables ------------------------------------------------------------ */

static int load_l1(struct ski_image *img, u64 file_size)
{
	u64 bytes = (u64)img->hdr.l1_size * 8;
	u64 i;
	u8 *raw;
	int err;

	img->l1 = skp_zalloc((img->hdr.l1_size + 1) * sizeof(u64));
	img->l2 = skp_zalloc((img->hdr.l1_size + 1) * sizeof(u64 *));
	if (!img->l1 || !img->l2)
		return -ENOMEM;
	if (!bytes)
		return 0;
	if (img->hdr.l1_table_offset + bytes > file_size)
		return corrupt(img, "L1 table beyond end of file",
			       img->hdr.l1_table_offset);
	raw = skp_zalloc(bytes);
	if (!raw)
		return -ENOMEM;
	err = skp_pread(img->file, raw, bytes, img->hdr.l1_table_offset);
	for (i = 0; !err && i < img->hdr.l1_size; i++) {
		u64 e = ski_get_be64(raw + i * 8);
		u64 off = e & QCOW2_OFFSET_MASK;

		if (e & QCOW2_L1_RESERVED)
			err = corrupt(img, "reserved bits in L1 entry", e);
		else if (off & (img->cluster_size - 1))
			err = corrupt(img, "unaligned L2 table", e);
		else if (off && off + img->cluster_size > file_size)
			err = corrupt(img, "L2 table beyond end of file", e);
		img->l1[i] = e;
	}
	skp_free(raw);
	return err;
}

static void drop_l2_cache(struct ski_image *img)
{
	u64 i;

	for (i = 0; i < img->hdr.l1_size; i++) {
		skp_free(img->l2[i]);
		img->l2[i] = NULL;
	}
	img->l2_cached = 0;
}

/**
 * ski_load_l2() - the L2 table behind L1 entry @l1_index
 * @img: open image
 * @l1_index: L1 slot
 * @tablep: set to the cached table, or NULL when the L1 entry is empty
 */
int ski_load_l2(struct ski_image *img, u64 l1_index, u64 **tablep)
{
	u64 off, i;
	u64 *table;
	int err;

	*tablep = NULL;
	if (l1_index >= img->hdr.l1_size)
		return -EINVAL;
	if (img->l2[l1_index]) {
		*tablep = img->l2[l1_index];
		return 0;
	}
	off = img->l1[l1_index] & QCOW2_OFFSET_MASK;
	if (!off)
		return 0;
	if (img->l2_cached >= SKI_L2_CACHE_MAX)
		drop_l2_cache(img);
	table = skp_zalloc(img->cluster_size);
	if (!table)
		return -ENOMEM;
	err = skp_pread(img->file, img->scratch, img->cluster_size, off);
	if (err) {
		skp_free(table);
		return err;
	}
	for (i = 0; i < img->l2_entries; i++)
		table[i] = ski_get_be64(img->scratch + i * 8);
	img->l2[l1_index] = table;
	img->l2_cached++;
	*tablep = table;
	return 0;
}

static int check_l2_entry(struct ski_image *img, u64 e)
{
	u64 off = e & QCOW2_OFFSET_MASK;

	if (e & QCOW2_OFLAG_COMPRESSED)
		return 0;	/* checked by ski_compressed_range() */
	if (e & QCOW2_L2_RESERVED)
		return corrupt(img, "reserved bits in L2 entry", e);
	if (off & (img->cluster_size - 1))
		return corrupt(img, "unaligned data cluster", e);
	return 0;
}

/** ski_l2_entry() - the L2 entry of @guest_cluster (0 when unallocated) */
int ski_l2_entry(struct ski_image *img, u64 guest_cluster, u64 *entry)
{
	u64 *table;
	int err;

	*entry = 0;
	if (guest_cluster >= img->guest_clusters)
		return -EINVAL;
	err = ski_load_l2(img, guest_cluster / img->l2_entries, &table);
	if (err || !table)
		return err;
	*entry = table[guest_cluster % img->l2_entries];
	return check_l2_entry(img, *entry);
}

/* ---- refcounts --------------------------------------------------------- */

static int load_reftable(struct ski_image *img, u64 file_size)
{
	u64 bytes = (u64)img->hdr.refcount_table_clusters << img->cluster_bits;
	u64 i;
	u8 *raw;
	int err;

	img->reftable_entries = bytes / 8;
	img->reftable = skp_zalloc(bytes);
	img->refblocks = skp_zalloc(img->reftable_entries * sizeof(u16 *));
	raw = skp_zalloc(bytes);
	if (!img->reftable || !img->refblocks || !raw) {
		skp_free(raw);
		return -ENOMEM;
	}
	err = skp_pread(img->file, raw, bytes, img->hdr.refcount_table_offset);
	for (i = 0; !err && i < img->reftable_entries; i++) {
		u64 e = ski_get_be64(raw + i * 8);

		if (e & QCOW2_REFT_RESERVED || e & (img->cluster_size - 1))
			err = corrupt(img, "bad refcount table entry", e);
		else if (e && e + img->cluster_size > file_size)
			err = corrupt(img, "refcount block beyond end of file",
				      e);
		img->reftable[i] = e;
	}
	skp_free(raw);
	return err;
}

static int load_refblock(struct ski_image *img, u64 index, u16 **blockp)
{
	u16 *block;
	u64 i;
	int err;

	*blockp = img->refblocks[index];
	if (*blockp || !img->reftable[index])
		return 0;
	block = skp_zalloc(img->rb_entries * sizeof(u16));
	if (!block)
		return -ENOMEM;
	err = skp_pread(img->file, img->scratch, img->cluster_size,
			img->reftable[index]);
	if (err) {
		skp_free(block);
		return err;
	}
	for (i = 0; i < img->rb_entries; i++)
		block[i] = ski_get_be16(img->scratch + i * 2);
	img->refblocks[index] = block;
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

/** ski_set_reftable_entry() - point refcount table slot @index at @entry */
int ski_set_reftable_entry(struct ski_image *img, u64 index, u64 entry)
{
	u8 raw[8];
	int err;

	ski_put_be64(raw, entry);
	err = skp_pwrite(img->file, raw, 8,
			 img->hdr.refcount_table_offset + index * 8);
	if (err)
		return err;
	img->reftable[index] = entry;
	skp_free(img->refblocks[index]);
	img->refblocks[index] = NULL;
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
	u16 **new_blocks = NULL;
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

	new_table = skp_zalloc(entries * 8);
	new_blocks = skp_zalloc(entries * sizeof(u16 *));
	raw = skp_zalloc(table_clusters << img->cluster_bits);
	if (!new_table || !new_blocks || !raw)
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
				skp_free(img->refblocks[idx]);
				img->refblocks[idx] = NULL;
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
	for (i = 0; i < img->reftable_entries; i++)
		new_blocks[i] = img->refblocks[i];
	skp_free(img->reftable);
	skp_free(img->refblocks);
	img->reftable = new_table;
	img->refblocks = new_blocks;
	img->reftable_entries = entries;
	note_used(img, first_block + nr_blocks - 1);
	for (i = start; i < first_block; i++)
		ski_rmap_set(img, i, SKI_RMAP_FIXED);
	for (i = 0; i < entries; i++)
		if (new_table[i] >= first_block << img->cluster_bits)
			ski_rmap_set(img, new_table[i] >> img->cluster_bits,
				     SKI_RMAP_REFBLOCK | i);
	skp_free(raw);

	/* The old table is no longer referenced: release it. */
	for (i = 0; i < old_clusters; i++) {
		err = ski_set_refcount(img, (old_off >> img->cluster_bits) + i,
				       0);
		if (err)
			return err;
	}
	return 0;

free_new:
	skp_free(raw);
	skp_free(new_blocks);
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
	ski_put_be16(raw, refcount);
	err = skp_pwrite(img->file, raw, 2,
			 img->reftable[index] +
			 (cluster % img->rb_entries) * 2);
	if (err)
		return err;
	block[cluster % img->rb_entries] = refcount;
	if (!refcount)
		ski_rmap_set(img, cluster, SKI_RMAP_FREE);
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
	img->free_hint = c + 1;
	err = ski_set_refcount(img, c, 1);
	if (err)
		return err;
	/* Creating a refcount block may have taken @c's neighbour. */
	*cluster = c;
	return 0;
}

/* ---- L1 and L2 updates ------------------------------------------------- */

int ski_set_l1_entry(struct ski_image *img, u64 l1_index, u64 entry)
{
	u8 raw[8];
	int err;

	ski_put_be64(raw, entry);
	err = skp_pwrite(img->file, raw, 8,
			 img->hdr.l1_table_offset + l1_index * 8);
	if (err)
		return err;
	if ((img->l1[l1_index] ^ entry) & QCOW2_OFFSET_MASK &&
	    img->l2[l1_index]) {
		skp_free(img->l2[l1_index]);
		img->l2[l1_index] = NULL;
		img->l2_cached--;
	}
	img->l1[l1_index] = entry;
	if (entry & QCOW2_OFFSET_MASK)
		ski_rmap_set(img,
			     (entry & QCOW2_OFFSET_MASK) >> img->cluster_bits,
			     SKI_RMAP_L2 | l1_index);
	return 0;
}

static bool entry_is_private(u64 entry)
{
	return (entry & QCOW2_OFLAG_COPIED) &&
	       !(entry & (QCOW2_OFLAG_COMPRESSED | QCOW2_OFLAG_ZERO)) &&
	       (entry & QCOW2_OFFSET_MASK);
}

/* Give L1 slot @l1_index a zeroed L2 table if it has none. */
static int ensure_l2(struct ski_image *img, u64 l1_index)
{
	u64 cluster;
	int err;

	if (img->l1[l1_index] & QCOW2_OFFSET_MASK)
		return 0;
	err = ski_alloc_cluster(img, &cluster);
	if (err)
		return err;
	memset(img->scratch, 0, img->cluster_size);
	err = skp_pwrite(img->file, img->scratch, img->cluster_size,
			 cluster << img->cluster_bits);
	if (!err)
		err = skp_flush(img->file);
	if (!err)
		err = ski_set_l1_entry(img, l1_index,
				       (cluster << img->cluster_bits) |
				       QCOW2_OFLAG_COPIED);
	return err;
}

/**
 * ski_set_l2_entry() - write the L2 entry of @guest_cluster through
 * @img: writable image
 * @guest_cluster: guest cluster index
 * @entry: new L2 entry, host order
 *
 * Allocates the L2 table when needed (its own alloc/flush/L1 order).  The
 * caller has already made whatever @entry points at durable.
 */
int ski_set_l2_entry(struct ski_image *img, u64 guest_cluster, u64 entry)
{
	u64 l1_index = guest_cluster / img->l2_entries;
	u64 slot = guest_cluster % img->l2_entries;
	u64 *table;
	u8 raw[8];
	int err;

	if (guest_cluster >= img->guest_clusters)
		return -EINVAL;
	if (!entry && !(img->l1[l1_index] & QCOW2_OFFSET_MASK))
		return 0;
	err = ensure_l2(img, l1_index);
	if (err)
		return err;
	err = ski_load_l2(img, l1_index, &table);
	if (err)
		return err;
	ski_put_be64(raw, entry);
	err = skp_pwrite(img->file, raw, 8,
			 (img->l1[l1_index] & QCOW2_OFFSET_MASK) + slot * 8);
	if (err)
		return err;
	table[slot] = entry;
	if (entry_is_private(entry))
		ski_rmap_set(img,
			     (entry & QCOW2_OFFSET_MASK) >> img->cluster_bits,
			     SKI_RMAP_DATA | guest_cluster);
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
		return corrupt(img, "compressed cluster marked copied", entry);
	*start = off;
	*end = (off & ~511ULL) + (sectors + 1) * 512;
	if (!off)
		return corrupt(img, "compressed cluster at offset 0", entry);
	return 0;
}

/**
 * ski_release_entry() - drop the refcounts an old L2 entry held
 * @img: writable image
 * @entry: the replaced L2 entry
 *
 * Call only after the entry's replacement is durable (flushed).
 */
int ski_release_entry(struct ski_image *img, u64 entry)
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
	for (c = start >> img->cluster_bits;
	     c <= (end - 1) >> img->cluster_bits; c++) {
		err = ski_refcount(img, c, &rc);
		if (err)
			return err;
		if (!rc)
			return corrupt(img, "freeing a free cluster", c);
		err = ski_set_refcount(img, c, rc - 1);
		if (err)
			return err;
	}
	return 0;
}

/* ---- reads -------------------------------------------------------------- */

static int read_backing(struct ski_image *img, void *buf, u64 len, u64 off)
{
	u64 size, avail;

	if (img->backing)
		size = img->backing->hdr.size;
	else if (img->backing_raw)
		size = img->backing_raw_size;
	else
		size = 0;
	avail = off < size ? size - off : 0;
	if (avail > len)
		avail = len;
	memset((u8 *)buf + avail, 0, len - avail);
	if (!avail)
		return 0;
	if (img->backing)
		return ski_read(img->backing, buf, avail, off);
	return skp_pread(img->backing_raw, buf, avail, off);
}

static int read_compressed(struct ski_image *img, u64 entry, void *buf,
			   u64 len, u64 in_off)
{
	u64 start, end;
	u8 *src;
	int err;

	if (img->hdr.compression_type != QCOW2_COMPRESSION_ZLIB) {
		skp_log(SKP_LOG_ERR, "%s: zstd-compressed clusters are not "
			"supported", img->path);
		return -EOPNOTSUPP;
	}
	err = ski_compressed_range(img, entry, &start, &end);
	if (err)
		return err;
	if (end - start > 2 * img->cluster_size)
		return corrupt(img, "compressed cluster too long", entry);
	src = skp_zalloc(end - start);
	if (!src)
		return -ENOMEM;
	err = skp_pread(img->file, src, end - start, start);
	if (!err)
		err = ski_inflate(src, end - start, img->inflate_buf,
				  img->cluster_size);
	skp_free(src);
	if (err)
		return err == -EINVAL ? corrupt(img, "bad compressed data",
						entry) : err;
	memcpy(buf, img->inflate_buf + in_off, len);
	return 0;
}

/* Read @len bytes at @in_off inside guest cluster @gc; never crosses it. */
static int read_in_cluster(struct ski_image *img, u64 gc, void *buf, u64 len,
			   u64 in_off)
{
	u64 entry;
	int err;

	err = ski_l2_entry(img, gc, &entry);
	if (err)
		return err;
	if (entry & QCOW2_OFLAG_COMPRESSED)
		return read_compressed(img, entry, buf, len, in_off);
	if (entry & QCOW2_OFLAG_ZERO) {
		memset(buf, 0, len);
		return 0;
	}
	if (!(entry & QCOW2_OFFSET_MASK))
		return read_backing(img, buf, len,
				    (gc << img->cluster_bits) + in_off);
	return skp_pread(img->file, buf, len,
			 (entry & QCOW2_OFFSET_MASK) + in_off);
}

/** ski_read() - read guest bytes [@off, @off + @len) */
int ski_read(struct ski_image *img, void *buf, u64 len, u64 off)
{
	u8 *p = buf;
	int err;

	if (off > img->hdr.size || len > img->hdr.size - off)
		return -EINVAL;
	while (len) {
		u64 gc = off >> img->cluster_bits;
		u64 in_off = off & (img->cluster_size - 1);
		u64 n = img->cluster_size - in_off;

		if (n > len)
			n = len;
		err = read_in_cluster(img, gc, p, n, in_off);
		if (err)
			return err;
		p += n;
		off += n;
		len -= n;
	}
	return 0;
}

/** ski_block_status() - what guest cluster @guest_cluster is */
int ski_block_status(struct ski_image *img, u64 guest_cluster,
		     enum ski_cluster_kind *kind, u64 *host)
{
	u64 entry;
	int err = ski_l2_entry(img, guest_cluster, &entry);

	*host = 0;
	if (err)
		return err;
	if (entry & QCOW2_OFLAG_COMPRESSED) {
		u64 end;

		*kind = SKI_COMPRESSED;
		return ski_compressed_range(img, entry, host, &end);
	}
	if (entry & QCOW2_OFLAG_ZERO) {
		*kind = SKI_ZERO;
		*host = entry & QCOW2_OFFSET_MASK;	/* preallocated, or 0 */
	} else if (entry & QCOW2_OFFSET_MASK) {
		*kind = SKI_DATA;
		*host = entry & QCOW2_OFFSET_MASK;
	} else {
		*kind = SKI_UNALLOCATED;
	}
	return 0;
}

/* ---- writes ------------------------------------------------------------- */


/*
 * Write up to SKI_WRITE_BATCH clusters: in place where the cluster is ours
 * alone, otherwise into freshly allocated clusters that are mapped only after
 * a flush, with the replaced clusters released after a second flush.
 */
static int write_batch(struct ski_image *img, const u8 *buf, u64 len,
		       u64 off, u64 *done)
{
	struct ski_pending_map *pend = img->pending;
	unsigned int nr = 0, i;
	bool release = false;
	u64 pos = 0;
	int err = 0;

	while (pos < len && nr < SKI_WRITE_BATCH) {
		u64 gc = (off + pos) >> img->cluster_bits;
		u64 in_off = (off + pos) & (img->cluster_size - 1);
		u64 n = img->cluster_size - in_off, entry, cluster;

		if (n > len - pos)
			n = len - pos;
		err = ski_l2_entry(img, gc, &entry);
		if (err)
			return err;
		if (entry_is_private(entry)) {
			err = skp_pwrite(img->file, buf + pos, n,
					 (entry & QCOW2_OFFSET_MASK) + in_off);
			if (err)
				return err;
			pos += n;
			continue;
		}
		/* Copy-on-write into a new cluster. */
		err = ensure_l2(img, gc / img->l2_entries);
		if (err)
			return err;
		if (n != img->cluster_size) {
			u64 whole = img->cluster_size;

			if ((gc << img->cluster_bits) + whole > img->hdr.size)
				whole = img->hdr.size -
					(gc << img->cluster_bits);
			memset(img->cow_buf, 0, img->cluster_size);
			err = ski_read(img, img->cow_buf, whole,
				       gc << img->cluster_bits);
			if (err)
				return err;
			memcpy(img->cow_buf + in_off, buf + pos, n);
		}
		err = ski_alloc_cluster(img, &cluster);
		if (err)
			return err;
		err = skp_pwrite(img->file,
				 n == img->cluster_size ? buf + pos :
				 img->cow_buf, img->cluster_size,
				 cluster << img->cluster_bits);
		if (err)
			return err;
		pend[nr].guest_cluster = gc;
		pend[nr].old_entry = entry;
		pend[nr].new_entry = (cluster << img->cluster_bits) |
				     QCOW2_OFLAG_COPIED;
		if ((entry & QCOW2_OFFSET_MASK) ||
		    (entry & QCOW2_OFLAG_COMPRESSED))
			release = true;
		nr++;
		pos += n;
	}
	if (nr) {
		err = skp_flush(img->file);
		for (i = 0; !err && i < nr; i++)
			err = ski_set_l2_entry(img, pend[i].guest_cluster,
					       pend[i].new_entry);
		if (!err && release)
			err = skp_flush(img->file);
		for (i = 0; !err && release && i < nr; i++)
			err = ski_release_entry(img, pend[i].old_entry);
	}
	*done = pos;
	return err;
}

/** ski_write() - write guest bytes [@off, @off + @len) */
int ski_write(struct ski_image *img, const void *buf, u64 len, u64 off)
{
	const u8 *p = buf;
	u64 done;
	int err;

	if (!img->writable)
		return -EROFS;
	if (off > img->hdr.size || len > img->hdr.size - off)
		return -EINVAL;
	while (len) {
		err = write_batch(img, p, len, off, &done);
		if (err)
			return err;
		p += done;
		off += done;
		len -= done;
	}
	return 0;
}

/**
 * ski_discard() - drop the whole clusters inside [@off, @off + @len)
 * @img: writable image
 * @off: guest offset
 * @len: bytes
 *
 * A discarded cluster reads as zeroes: it becomes a zero cluster when a
 * backing file could otherwise show through, unallocated when not.  Its host
 * cluster is released after the L2 change is flushed.
 */
int ski_discard(struct ski_image *img, u64 off, u64 len)
{
	u64 first, last, gc, entry, new_entry;
	u64 old[SKI_DISCARD_BATCH];
	unsigned int nr = 0, i;
	int err = 0;

	if (!img->writable)
		return -EROFS;
	if (off > img->hdr.size || len > img->hdr.size - off)
		return -EINVAL;
	first = (off + img->cluster_size - 1) >> img->cluster_bits;
	last = (off + len) >> img->cluster_bits;
	if (off + len == img->hdr.size)
		last = img->guest_clusters;
	new_entry = (img->backing || img->backing_raw ||
		     img->hdr.backing_file[0]) ? QCOW2_OFLAG_ZERO : 0;
	for (gc = first; gc < last; gc++) {
		err = ski_l2_entry(img, gc, &entry);
		if (err)
			break;
		if (entry == new_entry)
			continue;
		err = ski_set_l2_entry(img, gc, new_entry);
		if (err)
			break;
		old[nr++] = entry;
		if (nr == SKI_DISCARD_BATCH || gc + 1 == last) {
			err = skp_flush(img->file);
			for (i = 0; !err && i < nr; i++)
				err = ski_release_entry(img, old[i]);
			nr = 0;
			if (err)
				break;
		}
	}
	if (!err && nr) {
		err = skp_flush(img->file);
		for (i = 0; !err && i < nr; i++)
			err = ski_release_entry(img, old[i]);
	}
	return err;
}

/* ---- header ------------------------------------------------------------- */

#define SKI_SECTOR	512

/* Bytes of @buf up to its last non-zero one. */
static size_t used_bytes(const u8 *buf, size_t len)
{
	while (len && !buf[len - 1])
		len--;
	return len;
}

/*
 * The bridge header of a rewrite: img->hdr in the first sector alone, with
 * the VM information now on disk if that fits there, else with none (and
 * without the required bit, which would refuse an image without it).
 * Return: 0, or -ENOSPC when even that does not fit in one sector.
 */
static int build_bridge(struct ski_image *img, u8 *sector)
{
	/* Two headers are too big for a kernel stack. */
	struct {
		struct ski_header bridge, old;
	} *h = skp_zalloc(sizeof(*h));
	const char *reason;
	u8 *raw;
	int err = -ENOMEM;

	raw = skp_zalloc(img->cluster_size);
	if (!h || !raw)
		goto free_bufs;
	h->bridge = img->hdr;
	err = skp_pread(img->file, raw, img->cluster_size, 0);
	if (!err)
		err = ski_header_parse(raw, img->cluster_size, &h->old,
				       &reason);
	if (!err) {
		h->bridge.vminfo = h->old.vminfo;
		h->bridge.vminfo_len = h->old.vminfo_len;
		err = ski_header_build(&h->bridge, sector, SKI_SECTOR);
		ski_header_release(&h->old);
		if (!err)
			goto free_bufs;
	}
	h->bridge.vminfo = NULL;
	h->bridge.vminfo_len = 0;
	h->bridge.incompatible_features &= ~QCOW2_INCOMPAT_SPLITKIT_REQUIRED;
	err = ski_header_build(&h->bridge, sector, SKI_SECTOR);
free_bufs:
	skp_free(raw);
	skp_free(h);
	return err;
}

/**
 * ski_update_header() - rewrite the header cluster from img->hdr
 * @img: writable image
 *
 * The fields that locate metadata sit in the first 112 bytes, but the
 * extension chain and the backing file name follow, and a disk writes only
 * a sector atomically.  A header that ends within the first sector is one
 * write between two flushes.  A longer one (VM information) written in one
 * go could be torn by a power cut into a new first sector pointing at a
 * backing file name the old tail still holds, which loses the backing chain.
 * So it goes in three flushed steps, each one sector or unreferenced: a
 * bridge header in the first sector alone (build_bridge()), the new tail
 * (sectors the bridge does not reference), then the new first sector.
 */
int ski_update_header(struct ski_image *img)
{
	u8 *bridge;
	int err;

	err = ski_header_build(&img->hdr, img->scratch, img->cluster_size);
	if (err) {
		skp_log(SKP_LOG_ERR, "%s: header does not fit in one cluster",
			img->path);
		return err;
	}
	err = skp_flush(img->file);
	if (err)
		return err;
	if (img->cluster_size > SKI_SECTOR &&
	    used_bytes(img->scratch, img->cluster_size) > SKI_SECTOR) {
		bridge = skp_zalloc(SKI_SECTOR);
		if (!bridge)
			return -ENOMEM;
		err = build_bridge(img, bridge);
		if (err != -ENOSPC) {
			if (!err)
				err = skp_pwrite(img->file, bridge,
						 SKI_SECTOR, 0);
			skp_free(bridge);
			if (!err)
				err = skp_flush(img->file);
			if (!err)
				err = skp_pwrite(img->file,
						 img->scratch + SKI_SECTOR,
						 img->cluster_size - SKI_SECTOR,
						 SKI_SECTOR);
			if (!err)
				err = skp_flush(img->file);
			if (!err)
				err = skp_pwrite(img->file, img->scratch,
						 SKI_SECTOR, 0);
			if (!err)
				err = skp_flush(img->file);
			return err;
		}
		skp_free(bridge);
		/* No bridge fits (a very long backing name): one write. */
	}
	err = skp_pwrite(img->file, img->scratch, img->cluster_size, 0);
	if (!err)
		err = skp_flush(img->file);
	return err;
}

/** ski_set_vminfo() - store @info (NULL drops it) in the header */
int ski_set_vminfo(struct ski_image *img, const struct ski_vminfo *info)
{
	u8 *buf;
	size_t used = 0;
	int err;

	if (!img->writable)
		return -EROFS;
	buf = skp_zalloc(SKI_VMINFO_MAX_LEN);
	if (!buf)
		return -ENOMEM;
	if (info) {
		err = ski_vminfo_encode(info, buf, SKI_VMINFO_MAX_LEN, &used);
		if (err)
			goto free_buf;
	}
	err = ski_header_set_vminfo(&img->hdr, buf, used);
	if (err)
		goto free_buf;
	if (info && info->flags & SKI_VMINFO_F_REQUIRED) {
		img->hdr.incompatible_features |=
			QCOW2_INCOMPAT_SPLITKIT_REQUIRED;
		err = ski_header_name_feature(&img->hdr, 0,
					      SKI_REQUIRED_FEATURE_BIT,
					      SKI_REQUIRED_FEATURE_NAME);
		if (err)
			goto free_buf;
	} else
		img->hdr.incompatible_features &=
			~QCOW2_INCOMPAT_SPLITKIT_REQUIRED;
	err = ski_update_header(img);
	if (err)
		goto free_buf;
	if (img->has_vminfo)
		ski_vminfo_free(&img->vminfo);
	img->has_vminfo = false;
	if (info) {
		err = ski_vminfo_copy(&img->vminfo, info);
		img->has_vminfo = !err;
	}
free_buf:
	skp_free(buf);
	return err;
}

/** ski_note_history() - append an operation to the VM history */
int ski_note_history(struct ski_image *img, const char *op, const char *note)
{
	struct ski_vminfo *info = skp_zalloc(sizeof(*info));
	int err = 0;

	if (!info)
		return -ENOMEM;
	if (img->has_vminfo)
		err = ski_vminfo_copy(info, &img->vminfo);
	if (!err)
		err = ski_vminfo_add_history(info, op, skp_time(), note);
	if (!err)
		err = ski_set_vminfo(img, info);
	ski_vminfo_free(info);
	skp_free(info);
	return err;
}

/**
 * ski_drop_backing() - forget the backing file once nothing reads from it
 * @img: writable image
 *
 * The backing pointer (bytes 8-19) is cleared with one small write first, so
 * a crash leaves either the old chain or none; the rest of the header is
 * rewritten afterwards.
 */
int ski_drop_backing(struct ski_image *img)
{
	u8 zero[12] = { 0 };
	int err;

	err = skp_flush(img->file);
	if (!err)
		err = skp_pwrite(img->file, zero, sizeof(zero), 8);
	if (!err)
		err = skp_flush(img->file);
	if (err)
		return err;
	img->hdr.backing_file[0] = 0;
	img->hdr.backing_format[0] = 0;
	if (img->backing)
		ski_close(img->backing);
	if (img->backing_raw)
		skp_close(img->backing_raw);
	img->backing = NULL;
	img->backing_raw = NULL;
	return ski_update_header(img);
}

/* ---- open and close ----------------------------------------------------- */

static char *backing_path(const char *image_path, const char *name)
{
	const char *slash = strrchr(image_path, '/');
	size_t dir_len, name_len = strlen(name);
	char *path;

	if (name[0] == '/' || !slash)
		return dup_str(name);
	dir_len = slash - image_path + 1;
	path = skp_zalloc(dir_len + name_len + 1);
	if (path) {
		memcpy(path, image_path, dir_len);
		memcpy(path + dir_len, name, name_len);
	}
	return path;
}

static int open_backing(struct ski_image *img, unsigned int flags)
{
	char *path;
	u8 magic[4];
	bool raw;
	int err;

	if (img->depth + 1 >= SKI_MAX_CHAIN) {
		skp_log(SKP_LOG_ERR, "%s: backing chain too long", img->path);
		return -ELOOP;
	}
	path = backing_path(img->path, img->hdr.backing_file);
	if (!path)
		return -ENOMEM;
	if (img->hdr.backing_format[0] &&
	    strcmp(img->hdr.backing_format, "raw") &&
	    strcmp(img->hdr.backing_format, "qcow2")) {
		skp_log(SKP_LOG_ERR, "%s: backing format '%s' not supported",
			img->path, img->hdr.backing_format);
		err = -EOPNOTSUPP;
		goto free_path;
	}
	err = skp_open(path, false, &img->backing_raw);
	if (err) {
		skp_log(SKP_LOG_ERR, "%s: cannot open backing file %s",
			img->path, path);
		goto free_path;
	}
	err = skp_pread(img->backing_raw, magic, 4, 0);
	if (err)
		goto close_raw;
	if (img->hdr.backing_format[0])
		raw = !strcmp(img->hdr.backing_format, "raw");
	else
		raw = ski_get_be32(magic) != QCOW2_MAGIC;
	if (raw) {
		err = skp_size(img->backing_raw, &img->backing_raw_size);
		if (err)
			goto close_raw;
		goto free_path;
	}
	skp_close(img->backing_raw);
	img->backing_raw = NULL;
	err = ski_open_depth(path, flags & ~SKI_OPEN_RW, img->depth + 1,
			     &img->backing);
	goto free_path;

close_raw:
	skp_close(img->backing_raw);
	img->backing_raw = NULL;
free_path:
	skp_free(path);
	return err;
}

static int refuse(struct ski_image *img, const char *why)
{
	skp_log(SKP_LOG_ERR, "%s: %s", img->path, why);
	return -EOPNOTSUPP;
}

/* Which features let us open the image at all, and which only read-only. */
static int check_features(struct ski_image *img)
{
	struct ski_header *h = &img->hdr;

	if (h->crypt_method || h->has_crypto)
		return refuse(img, "encrypted images are not supported");
	if (h->incompatible_features & QCOW2_INCOMPAT_DATA_FILE ||
	    h->has_data_file)
		return refuse(img, "external data files are not supported");
	if (h->incompatible_features & QCOW2_INCOMPAT_EXTL2)
		return refuse(img, "extended L2 entries are not supported");
	if (!img->writable)
		return 0;
	if (h->incompatible_features & QCOW2_INCOMPAT_CORRUPT)
		return refuse(img, "image is marked corrupt; repair it with "
			      "qemu-img check -r all (read-only open works)");
	if (h->incompatible_features & QCOW2_INCOMPAT_DIRTY)
		return refuse(img, "image is dirty (lazy refcounts); repair it "
			      "with qemu-img check -r all first");
	if (h->nb_snapshots)
		return refuse(img, "images with internal snapshots open "
			      "read-only only");
	if (h->has_bitmaps || h->autoclear_features & QCOW2_AUTOCLEAR_BITMAPS)
		return refuse(img, "images with persistent bitmaps open "
			      "read-only only");
	if (h->refcount_order != 4)
		return refuse(img, "only 16-bit refcounts are writable");
	return 0;
}

static int load_vminfo(struct ski_image *img)
{
	const char *reason = "";
	int err;

	if (!img->hdr.vminfo) {
		if (img->hdr.incompatible_features &
		    QCOW2_INCOMPAT_SPLITKIT_REQUIRED)
			return refuse(img, "required VM information missing");
		return 0;
	}
	err = ski_vminfo_decode(img->hdr.vminfo, img->hdr.vminfo_len,
				&img->vminfo, &reason);
	if (!err) {
		img->has_vminfo = true;
		return 0;
	}
	ski_vminfo_free(&img->vminfo);
	if (err == -ENOMEM)
		return err;
	if (img->hdr.incompatible_features & QCOW2_INCOMPAT_SPLITKIT_REQUIRED)
		return refuse(img, reason);
	skp_log(SKP_LOG_WARN, "%s: ignoring VM information: %s", img->path,
		reason);
	return 0;
}

static int read_header(struct ski_image *img, u64 file_size,
		       const char **reason)
{
	u64 len = 512;
	u8 first[512];
	u8 *buf;
	int err;

	err = skp_pread(img->file, first, sizeof(first), 0);
	if (err)
		return err;
	if (file_size >= 24) {
		u32 bits = ski_get_be32(first + 20);

		if (bits >= QCOW2_MIN_CLUSTER_BITS &&
		    bits <= QCOW2_MAX_CLUSTER_BITS)
			len = 1ULL << bits;
	}
	if (len > file_size)
		len = file_size;
	buf = skp_zalloc(len);
	if (!buf)
		return -ENOMEM;
	err = skp_pread(img->file, buf, len, 0);
	if (!err)
		err = ski_header_parse(buf, len, &img->hdr, reason);
	skp_free(buf);
	return err;
}

int ski_open_depth(const char *path, unsigned int flags, unsigned int depth,
		   struct ski_image **imgp)
{
	const char *reason = "";
	struct ski_image *img;
	u64 file_size;
	int err;

	img = skp_zalloc(sizeof(*img));
	if (!img)
		return -ENOMEM;
	img->depth = depth;
	img->writable = flags & SKI_OPEN_RW;
	img->path = dup_str(path);
	if (!img->path) {
		err = -ENOMEM;
		goto free_img;
	}
	err = skp_open(path, img->writable, &img->file);
	if (err) {
		skp_log(SKP_LOG_ERR, "%s: cannot open", path);
		goto free_img;
	}
	err = skp_size(img->file, &file_size);
	if (err)
		goto free_img;

	/* The header cluster: its size is in the first sector. */
	err = read_header(img, file_size, &reason);
	if (err == -EINVAL)
		skp_log(SKP_LOG_ERR, "%s: %s", path, reason);
	if (err)
		goto free_img;

	img->cluster_bits = img->hdr.cluster_bits;
	img->cluster_size = 1ULL << img->cluster_bits;
	img->l2_entries = img->cluster_size / 8;
	img->rb_entries = (img->cluster_size * 8) >> img->hdr.refcount_order;
	img->guest_clusters = (img->hdr.size + img->cluster_size - 1) >>
			      img->cluster_bits;
	img->scratch = skp_zalloc(img->cluster_size);
	img->inflate_buf = skp_zalloc(img->cluster_size);
	img->cow_buf = skp_zalloc(img->cluster_size);
	img->pending = skp_zalloc(SKI_WRITE_BATCH * sizeof(*img->pending));
	if (!img->scratch || !img->inflate_buf || !img->cow_buf ||
	    !img->pending) {
		err = -ENOMEM;
		goto free_img;
	}
	err = check_features(img);
	if (err)
		goto free_img;
	err = load_vminfo(img);
	if (err)
		goto free_img;
	err = load_l1(img, file_size);
	if (err)
		goto free_img;
	err = load_reftable(img, file_size);
	if (err)
		goto free_img;
	err = ski_file_clusters(img, &img->end_cluster);
	if (err)
		goto free_img;
	img->free_hint = 1;
	if (img->hdr.backing_file[0] && !(flags & SKI_OPEN_NO_BACKING)) {
		err = open_backing(img, flags);
		if (err)
			goto free_img;
	}
	/* Clear autoclear bits we do not maintain before we write anything. */
	if (img->writable && img->hdr.autoclear_features) {
		u8 zero[8] = { 0 };

		img->hdr.autoclear_features = 0;
		err = skp_pwrite(img->file, zero, 8, 88);
		if (!err)
			err = skp_flush(img->file);
		if (err)
			goto free_img;
	}
	*imgp = img;
	return 0;

free_img:
	ski_close(img);
	return err;
}

/**
 * ski_open() - open a qcow2 image and its backing chain
 * @path: image file
 * @flags: SKI_OPEN_RW, SKI_OPEN_NO_BACKING
 * @imgp: set to the open image
 *
 * Return: 0, or a negative errno after logging why.
 */
int ski_open(const char *path, unsigned int flags, struct ski_image **imgp)
{
	return ski_open_depth(path, flags, 0, imgp);
}

int ski_flush(struct ski_image *img)
{
	return img->writable ? skp_flush(img->file) : 0;
}

void ski_close(struct ski_image *img)
{
	u64 i;

	if (!img)
		return;
	if (img->backing)
		ski_close(img->backing);
	if (img->backing_raw)
		skp_close(img->backing_raw);
	if (img->l2)
		drop_l2_cache(img);
	for (i = 0; img->refblocks && i < img->reftable_entries; i++)
		skp_free(img->refblocks[i]);
	if (img->has_vminfo)
		ski_vminfo_free(&img->vminfo);
	skp_free(img->refblocks);
	skp_free(img->reftable);
	skp_free(img->l2);
	skp_free(img->l1);
	skp_free(img->pending);
	skp_free(img->cow_buf);
	skp_free(img->inflate_buf);
	skp_free(img->scratch);
	ski_header_release(&img->hdr);
	if (img->file) {
		if (img->writable)
			skp_flush(img->file);
		skp_close(img->file);
	}
	skp_free(img->path);
	skp_free(img);
}

/* ---- create ------------------------------------------------------------- */

/**
 * ski_create() - make a new, empty qcow2 v3 image
 * @path: file to create; must not exist
 * @opts: size, cluster size, backing file, VM information
 *
 * Layout: header, refcount table, refcount blocks, L1 table, each starting
 * on a cluster boundary, refcounts covering exactly those clusters.
 */
int ski_create(const char *path, const struct ski_create_opts *opts)
{
	u32 cluster_bits = opts->cluster_bits ? opts->cluster_bits : 16;
	u64 cs, l2_entries, rb_entries, l1_size, l1_clusters;
	u64 rt_clusters = 1, rb_clusters = 1, total, i;
	struct ski_header hdr;
	struct skp_file *file;
	size_t used;
	u8 *buf;
	int err;

	if (cluster_bits < QCOW2_MIN_CLUSTER_BITS ||
	    cluster_bits > QCOW2_MAX_CLUSTER_BITS ||
	    opts->size > QCOW2_MAX_GUEST_SIZE)
		return -EINVAL;
	cs = 1ULL << cluster_bits;
	l2_entries = cs / 8;
	rb_entries = cs / 2;
	l1_size = ((opts->size + cs - 1) / cs + l2_entries - 1) / l2_entries;
	if (l1_size * 8 > QCOW2_MAX_L1_BYTES)
		return -EFBIG;
	l1_clusters = (l1_size * 8 + cs - 1) / cs;
	for (;;) {
		u64 rb_need, rt_need;

		total = 1 + rt_clusters + rb_clusters + l1_clusters;
		rb_need = (total + rb_entries - 1) / rb_entries;
		rt_need = (rb_need * 8 + cs - 1) / cs;
		if (rb_need == rb_clusters && rt_need == rt_clusters)
			break;
		rb_clusters = rb_need;
		rt_clusters = rt_need;
	}

	memset(&hdr, 0, sizeof(hdr));
	hdr.version = 3;
	hdr.cluster_bits = cluster_bits;
	hdr.size = opts->size;
	hdr.l1_size = l1_size;
	hdr.l1_table_offset = (1 + rt_clusters + rb_clusters) * cs;
	hdr.refcount_table_offset = cs;
	hdr.refcount_table_clusters = rt_clusters;
	hdr.refcount_order = 4;
	hdr.header_length = QCOW2_V3_HEADER_LEN;
	if (opts->backing_file) {
		if (strlen(opts->backing_file) > QCOW2_MAX_BACKING_NAME)
			return -ENAMETOOLONG;
		memcpy(hdr.backing_file, opts->backing_file,
		       strlen(opts->backing_file) + 1);
	}
	if (opts->backing_format) {
		if (strlen(opts->backing_format) > QCOW2_MAX_BACKING_FORMAT)
			return -EINVAL;
		memcpy(hdr.backing_format, opts->backing_format,
		       strlen(opts->backing_format) + 1);
	}

	buf = skp_zalloc(cs > SKI_VMINFO_MAX_LEN ? cs : SKI_VMINFO_MAX_LEN);
	if (!buf)
		return -ENOMEM;
	if (opts->vminfo) {
		err = ski_vminfo_encode(opts->vminfo, buf, SKI_VMINFO_MAX_LEN,
					&used);
		if (!err)
			err = ski_header_set_vminfo(&hdr, buf, used);
		if (err)
			goto free_buf;
		if (opts->vminfo->flags & SKI_VMINFO_F_REQUIRED) {
			hdr.incompatible_features |=
				QCOW2_INCOMPAT_SPLITKIT_REQUIRED;
			err = ski_header_name_feature(&hdr, 0,
						      SKI_REQUIRED_FEATURE_BIT,
						      SKI_REQUIRED_FEATURE_NAME);
			if (err)
				goto free_buf;
		}
	}
	err = ski_header_build(&hdr, buf, cs);
	if (err)
		goto free_buf;
	err = skp_create(path, &file);
	if (err)
		goto free_buf;
	err = skp_pwrite(file, buf, cs, 0);

	/* Refcount table, then blocks counting every initial cluster. */
	memset(buf, 0, cs);
	for (i = 0; !err && i < rt_clusters; i++) {
		u64 j;

		memset(buf, 0, cs);
		for (j = 0; j < l2_entries; j++) {
			u64 idx = i * l2_entries + j;

			if (idx < rb_clusters)
				ski_put_be64(buf + j * 8,
					     (1 + rt_clusters + idx) * cs);
		}
		err = skp_pwrite(file, buf, cs, (1 + i) * cs);
	}
	for (i = 0; !err && i < rb_clusters; i++) {
		u64 j;

		memset(buf, 0, cs);
		for (j = 0; j < rb_entries; j++)
			if (i * rb_entries + j < total)
				ski_put_be16(buf + j * 2, 1);
		err = skp_pwrite(file, buf, cs, (1 + rt_clusters + i) * cs);
	}
	memset(buf, 0, cs);
	for (i = 0; !err && i < l1_clusters; i++)
		err = skp_pwrite(file, buf, cs, hdr.l1_table_offset + i * cs);
	if (!err)
		err = skp_truncate(file, total * cs);
	if (!err)
		err = skp_flush(file);
	skp_close(file);
free_buf:
	ski_header_release(&hdr);
	skp_free(buf);
	return err;
}
