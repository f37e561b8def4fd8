// SPDX-License-Identifier: GPL-2.0
/*
 * L1 table and L2 tables of an open image: loading and validating them,
 * the L2 cache (cache.c: a fixed budget, least recently used out), growing
 * the L1 table, and writing mapping changes through.
 *
 * The in-memory copies are read caches; every change goes to the file
 * first, but one: the mapping of a new cluster by an allocating write
 * (ski_l2_defer()) is made in the cached table at once and written to the
 * file by ski_l2_sync(), after one flush makes the data and refcounts of
 * every mapping waiting so durable; so a guest writing into new clusters
 * costs a flush per guest flush, not one per write.  Until then the file
 * maps the cluster as before (a cut loses a write no flush covered and
 * leaks its cluster), and the table stays cached: every write-through
 * change, cache miss, table move, header rewrite and flush syncs first.
 * A new L2 table follows the core's ordering rule (refcount.c,
 * Documentation/image.rst): its cluster is allocated and zeroed, flushed,
 * and only then is the L1 entry pointed at it.  Everything read from the
 * file is validated before use: table offsets must be cluster aligned and
 * inside the file, an L2 table must not lie on other metadata (overlap.c)
 * and entries must not use reserved bits.
 */
#include "endian.h"
#include "image_priv.h"

int ski_load_l1(struct ski_image *img, u64 file_size)
{
	u64 bytes = (u64)img->hdr.l1_size * 8;
	u64 i;
	u8 *raw;
	int err;

	img->l1 = skp_zalloc((img->hdr.l1_size + 1) * sizeof(u64));
	if (!img->l1 || ski_l2_cache_init(img))
		return -ENOMEM;
	if (!bytes)
		return 0;
	if (img->hdr.l1_table_offset + bytes > file_size)
		return ski_corrupt(img, "L1 table beyond end of file",
				   img->hdr.l1_table_offset);
	raw = skp_zalloc(bytes);
	if (!raw)
		return -ENOMEM;
	err = skp_pread(img->file, raw, bytes, img->hdr.l1_table_offset);
	for (i = 0; !err && i < img->hdr.l1_size; i++) {
		u64 e = ski_get_be64(raw + i * 8);
		u64 off = e & QCOW2_OFFSET_MASK;

		if (e & QCOW2_L1_RESERVED)
			err = ski_corrupt(img, "reserved bits in L1 entry", e);
		else if (off & (img->cluster_size - 1))
			err = ski_corrupt(img, "unaligned L2 table", e);
		else if (off && off + img->cluster_size > file_size)
			err = ski_corrupt(img, "L2 table beyond end of file", e);
		img->l1[i] = e;
		ski_meta_filter_add(img, off);
	}
	skp_free(raw);
	return err;
}

/**
 * ski_l2_cache_init() - (re)start the L2 cache with the image's budget
 * @img: open image, L1 table loaded
 *
 * Return: 0 or -ENOMEM.
 */
int ski_l2_cache_init(struct ski_image *img)
{
	struct ski_cache fresh;
	int err;

	err = ski_cache_init(&fresh, img->hdr.l1_size, img->cluster_size,
			     ski_cache_slots_for(img->l2_budget ?:
						 SKI_L2_CACHE_BYTES,
						 img->cluster_size));
	if (err) {
		ski_cache_free(&fresh);
		return err;
	}
	ski_cache_free(&img->l2_cache);
	img->l2_cache = fresh;
	return 0;
}

/** ski_table_free() - drop the L1 copy and every cached L2 table */
void ski_table_free(struct ski_image *img)
{
	ski_cache_free(&img->l2_cache);
	skp_free(img->l1);
	img->l1 = NULL;
}

/**
 * ski_load_l2() - the L2 table behind L1 entry @l1_index
 * @img: open image
 * @l1_index: L1 slot
 * @tablep: set to the cached table, or NULL when the L1 entry is empty;
 *	valid until the next ski_load_l2() (which may evict it)
 */
int ski_load_l2(struct ski_image *img, u64 l1_index, u64 **tablep)
{
	u64 off, i;
	u64 *table;
	int err;

	*tablep = NULL;
	if (l1_index >= img->hdr.l1_size)
		return -EINVAL;
	table = ski_cache_lookup(&img->l2_cache, l1_index);
	if (table) {
		*tablep = table;
		return 0;
	}
	off = img->l1[l1_index] & QCOW2_OFFSET_MASK;
	if (!off)
		return 0;
	err = ski_table_check(img, off, "an L2 table");
	if (err)
		return err;
	/* the table evicted may hold deferred mappings */
	err = ski_l2_sync(img);
	if (err)
		return err;
	err = ski_cache_insert(&img->l2_cache, l1_index, (void **)&table);
	if (err)
		return err;
	err = skp_pread(img->file, img->scratch, img->cluster_size, off);
	if (err) {
		ski_cache_drop(&img->l2_cache, l1_index);
		return err;
	}
	for (i = 0; i < img->l2_entries; i++)
		table[i] = ski_get_be64(img->scratch + i * 8);
	*tablep = table;
	return 0;
}

static int check_l2_entry(struct ski_image *img, u64 e)
{
	u64 off = e & QCOW2_OFFSET_MASK;

	if (e & QCOW2_OFLAG_COMPRESSED)
		return 0;	/* checked by ski_compressed_range() */
	if (e & QCOW2_L2_RESERVED)
		return ski_corrupt(img, "reserved bits in L2 entry", e);
	if (off & (img->cluster_size - 1))
		return ski_corrupt(img, "unaligned data cluster", e);
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

/**
 * ski_l2_absent_span() - the guest clusters from @guest_cluster on that no
 *	L2 table maps, when its L2 table's range has none
 * @img: the image
 * @guest_cluster: a guest cluster index
 *
 * Lets a walk over every guest cluster (splitkit img map, the fragment
 * count of splitkit vbd list) step over a range without an L2 table at
 * once: a 100 TiB image of 64 KiB clusters has 1.6 billion clusters but
 * only 200 thousand L2 ranges.  Reads no file.  A range whose table is
 * cached counts as mapped, as ski_load_l2() finds it there first.
 *
 * Return: the clusters from @guest_cluster to the end of its L2 table's
 * range (or the image's end), when that range has no L2 table; 0 when it
 * has one, or @guest_cluster is past the image's end.
 */
u64 ski_l2_absent_span(struct ski_image *img, u64 guest_cluster)
{
	u64 index = guest_cluster / img->l2_entries;
	u64 end = (index + 1) * img->l2_entries;

	if (guest_cluster >= img->guest_clusters ||
	    index >= img->hdr.l1_size)
		return 0;
	if ((img->l1[index] & QCOW2_OFFSET_MASK) ||
	    ski_cache_lookup(&img->l2_cache, index))
		return 0;
	if (end > img->guest_clusters)
		end = img->guest_clusters;
	return end - guest_cluster;
}

int ski_set_l1_entry(struct ski_image *img, u64 l1_index, u64 entry)
{
	int err;

	/* a table that moves is copied from the file: complete it first */
	if (img->l1[l1_index] & QCOW2_OFFSET_MASK) {
		err = ski_l2_sync(img);
		if (err)
			return err;
	}

	err = ski_write_entry(img, img->hdr.l1_table_offset, l1_index, entry);
	if (err)
		return err;
	if ((img->l1[l1_index] ^ entry) & QCOW2_OFFSET_MASK)
		ski_cache_drop(&img->l2_cache, l1_index);
	img->l1[l1_index] = entry;
	ski_meta_filter_add(img, entry & QCOW2_OFFSET_MASK);
	if (entry & QCOW2_OFFSET_MASK)
		ski_rmap_set(img,
			     (entry & QCOW2_OFFSET_MASK) >> img->cluster_bits,
			     SKI_RMAP_L2 | l1_index);
	return 0;
}

/* Give L1 slot @l1_index a zeroed L2 table if it has none. */
int ski_ensure_l2(struct ski_image *img, u64 l1_index)
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
	int err;

	if (guest_cluster >= img->guest_clusters)
		return -EINVAL;
	if (!entry && !(img->l1[l1_index] & QCOW2_OFFSET_MASK))
		return 0;
	/* in file order after every mapping deferred before it */
	err = ski_l2_sync(img);
	if (err)
		return err;
	err = ski_ensure_l2(img, l1_index);
	if (err)
		return err;
	err = ski_load_l2(img, l1_index, &table);
	if (err)
		return err;
	err = ski_write_entry(img, img->l1[l1_index] & QCOW2_OFFSET_MASK, slot,
			      entry);
	if (err)
		return err;
	table[slot] = entry;
	if (ski_entry_is_private(entry))
		ski_rmap_set(img,
			     (entry & QCOW2_OFFSET_MASK) >> img->cluster_bits,
			     SKI_RMAP_DATA | guest_cluster);
	return 0;
}

/**
 * ski_l2_defer() - map a new cluster in the cached L2 table, the file later
 * @img: writable image
 * @guest_cluster: guest cluster index
 * @entry: its new L2 entry, host order: a cluster the image alone owns,
 *	whose data the caller has written and whose refcount it has raised,
 *	neither flushed
 *
 * For allocating writes (io.c, write_batch()): lookups see @entry at once;
 * the file gets it from ski_l2_sync(), called here when
 * SKI_L2_DEFER_MAX mappings (or SKI_L2_DEFER_BYTES of their clusters)
 * wait.  Never for an entry that replaces a cluster: what it replaced may
 * be released only once the new entry is durable.  Context: the caller's
 * lock on the image; may sleep (flush).
 *
 * Return: 0 or a negative errno.
 */
int ski_l2_defer(struct ski_image *img, u64 guest_cluster, u64 entry)
{
	u64 l1_index = guest_cluster / img->l2_entries;
	u64 *table;
	int err;

	if (guest_cluster >= img->guest_clusters)
		return -EINVAL;
	if (img->nr_l2_deferred == img->l2_defer_max) {
		err = ski_l2_sync(img);
		if (err)
			return err;
	}
	err = ski_ensure_l2(img, l1_index);
	if (!err)
		err = ski_load_l2(img, l1_index, &table);
	if (err)
		return err;
	table[guest_cluster % img->l2_entries] = entry;
	img->l2_deferred[img->nr_l2_deferred].guest_cluster = guest_cluster;
	img->l2_deferred[img->nr_l2_deferred].entry = entry;
	img->nr_l2_deferred++;
	ski_rmap_set(img, (entry & QCOW2_OFFSET_MASK) >> img->cluster_bits,
		     SKI_RMAP_DATA | guest_cluster);
	return 0;
}

/* Entries ski_l2_sync() writes at most in one go (bytes on the stack / 8). */
#define SKI_L2_SYNC_RUN	32

/* Mappings [@i, @i + n) deferred into one table, in adjacent slots. */
static unsigned int deferred_run(const struct ski_image *img, unsigned int i)
{
	const struct ski_l2_deferred *d = img->l2_deferred;
	unsigned int n = 1;

	while (i + n < img->nr_l2_deferred && n < SKI_L2_SYNC_RUN &&
	       d[i + n].guest_cluster == d[i].guest_cluster + n &&
	       d[i + n].guest_cluster % img->l2_entries)
		n++;
	return n;
}

/**
 * ski_l2_sync() - write the deferred mappings to the file
 * @img: open image
 *
 * One flush makes the data and refcounts of every deferred mapping
 * durable, then the entries are written (a run of adjacent slots, up to
 * SKI_L2_SYNC_RUN, in one write), not flushed: the caller's next flush covers them.  Context: the
 * caller's lock on the image; may sleep.
 *
 * Return: 0 or a negative errno (the mappings stay deferred then).
 */
int ski_l2_sync(struct ski_image *img)
{
	const struct ski_l2_deferred *d = img->l2_deferred;
	u8 raw[SKI_L2_SYNC_RUN * 8];
	unsigned int i, j, n;
	u64 table_off;
	int err;

	if (!img->nr_l2_deferred)
		return 0;
	err = skp_flush(img->file);
	for (i = 0; !err && i < img->nr_l2_deferred; i += n) {
		n = deferred_run(img, i);
		table_off = img->l1[d[i].guest_cluster / img->l2_entries] &
			    QCOW2_OFFSET_MASK;
		for (j = 0; j < n; j++)
			ski_put_be64(raw + j * 8, d[i + j].entry);
		err = skp_pwrite(img->file, raw, (size_t)n * 8,
				 table_off +
				 (d[i].guest_cluster % img->l2_entries) * 8);
	}
	if (!err)
		img->nr_l2_deferred = 0;
	return err;
}

/**
 * ski_grow_l1() - give the L1 table at least @entries entries
 * @img: writable image
 * @entries: L1 entries wanted
 *
 * The new table goes into a run of free clusters, with the old entries and
 * zeroes after them, and is flushed before one 12-byte header write (L1
 * size and offset, bytes 36-47, within the first sector) switches to it;
 * after a second flush the old table's clusters are released.  A cut leaves
 * the old table or the new one, and at worst the other one leaked.
 *
 * Return: 0 or a negative errno.
 */
int ski_grow_l1(struct ski_image *img, u64 entries)
{
	u64 old_off = img->hdr.l1_table_offset, first, clusters, i;
	u64 old_clusters = ((u64)img->hdr.l1_size * 8 + img->cluster_size - 1)
			   >> img->cluster_bits;
	u64 *l1 = NULL;
	u8 *raw = NULL, field[12];
	int err;

	if (entries <= img->hdr.l1_size)
		return 0;
	if (entries * 8 > QCOW2_MAX_L1_BYTES)
		return -EFBIG;
	clusters = (entries * 8 + img->cluster_size - 1) >> img->cluster_bits;
	/* Fill the last cluster: the spare entries come for free. */
	entries = (clusters << img->cluster_bits) / 8;
	if (entries * 8 > QCOW2_MAX_L1_BYTES)
		entries = QCOW2_MAX_L1_BYTES / 8;
	l1 = ski_io_zalloc((entries + 1) * sizeof(u64));
	raw = ski_io_zalloc(clusters << img->cluster_bits);
	err = -ENOMEM;
	if (!l1 || !raw || ski_cache_resize_index(&img->l2_cache, entries))
		goto free_new;
	memcpy(l1, img->l1, (u64)img->hdr.l1_size * sizeof(u64));
	for (i = 0; i < img->hdr.l1_size; i++)
		ski_put_be64(raw + i * 8, l1[i]);
	err = ski_alloc_run(img, clusters, &first);
	if (err)
		goto free_new;
	err = skp_pwrite(img->file, raw, clusters << img->cluster_bits,
			 first << img->cluster_bits);
	if (!err)
		err = skp_flush(img->file);
	if (err)
		goto free_new;
	ski_put_be32(field, entries);
	ski_put_be64(field + 4, first << img->cluster_bits);
	err = skp_pwrite(img->file, field, sizeof(field), 36);
	if (!err)
		err = skp_flush(img->file);
	if (err)
		goto free_new;
	skp_free(img->l1);
	img->l1 = l1;
	img->hdr.l1_size = entries;
	img->hdr.l1_table_offset = first << img->cluster_bits;
	for (i = 0; i < clusters; i++)
		ski_rmap_set(img, first + i, SKI_RMAP_FIXED);
	skp_free(raw);
	return ski_release_run(img, old_off, old_clusters);

free_new:
	skp_free(raw);
	skp_free(l1);
	return err;
}
