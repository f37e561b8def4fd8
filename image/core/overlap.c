// SPDX-License-Identifier: GPL-2.0
/*
 * Metadata overlap checks of an open image: before a guest write lands in
 * place in a cluster an L2 entry names, before a cluster is handed out,
 * before a table is taken from the file and before a cluster's refcount
 * is dropped, the host bytes are checked against the image's own
 * metadata - the header cluster, the L1 table, the refcount table, every
 * refcount block the table names and every L2 table the L1 table names -
 * as qemu's overlap-check "cached" mode does.  On a consistent image
 * nothing ever overlaps; on a crafted or damaged one (an L2 entry naming
 * the L1 table, a refcount of 0 on a live L2 table, two refcount-table
 * slots naming one block) the operation is refused with -EUCLEAN and
 * logged, and the metadata is left as it was.
 *
 * The header, L1 and refcount tables are three ranges, compared at once.
 * L2 tables and refcount blocks are many: a writable image keeps a filter
 * of the host clusters that may hold one (a bitmap, SKI_META_FILTER_BITS,
 * indexed by cluster number modulo its size; bits are set whenever an L1
 * or refcount-table entry is loaded or written, never cleared), and only
 * a range whose clusters hit the filter is compared with every table
 * entry - O(l1_size + reftable_top) - so a guest write costs a bit test
 * or two, not a walk of the tables.  No allocation, no I/O.
 *
 * L2 tables and refcount blocks sharing a cluster with each other (two L1
 * entries naming one table, two refcount-table slots naming one block, a
 * block that is also a table) are refused once, when a writable image is
 * opened (ski_meta_distinct(): the entries sorted, O(n log n)); from then
 * on every cluster the engine makes a table or block of has passed the
 * allocator's check, so a table read from the file is compared with the
 * three fixed ranges only (ski_table_check()), not walked against every
 * other table at each cache miss.  A read-only image never writes, and
 * tables named twice only make it read the same bytes twice.
 */
#include "image_priv.h"

/* Filter bits (a power of two): 32 KiB per writable image. */
#define SKI_META_FILTER_BITS	(1ULL << 18)

/* Do [@a, @a + @alen) and [@b, @b + @blen) share a byte? */
static bool ranges_meet(u64 a, u64 alen, u64 b, u64 blen)
{
	return alen && blen && a < b + blen && b < a + alen;
}

/**
 * ski_meta_filter_init() - start the filter of a writable image
 * @img: open image, before its tables are loaded
 *
 * Return: 0 or -ENOMEM.
 */
int ski_meta_filter_init(struct ski_image *img)
{
	img->meta_filter = skp_zalloc(SKI_META_FILTER_BITS / 8);
	return img->meta_filter ? 0 : -ENOMEM;
}

/** ski_meta_filter_free() - drop the filter */
void ski_meta_filter_free(struct ski_image *img)
{
	skp_free(img->meta_filter);
	img->meta_filter = NULL;
}

/**
 * ski_meta_filter_add() - host byte @off now starts an L2 table or a
 *	refcount block (an L1 or refcount-table entry names it)
 * @img: open image
 * @off: the table's host offset; 0 (an empty entry) is ignored
 */
void ski_meta_filter_add(struct ski_image *img, u64 off)
{
	u64 bit = (off >> img->cluster_bits) & (SKI_META_FILTER_BITS - 1);

	if (img->meta_filter && off)
		img->meta_filter[bit / 64] |= 1ULL << (bit % 64);
}

/* May [@off, @off + @len) hold an L2 table or a refcount block? */
static bool ski_meta_filter_hits(const struct ski_image *img, u64 off,
				 u64 len)
{
	u64 c = off >> img->cluster_bits;
	u64 last = (off + len - 1) >> img->cluster_bits;

	if (!img->meta_filter || last - c >= 64)
		return true;
	for (; c <= last; c++) {
		u64 bit = c & (SKI_META_FILTER_BITS - 1);

		if (img->meta_filter[bit / 64] & (1ULL << (bit % 64)))
			return true;
	}
	return false;
}

/* Does [@off, @off + @len) meet the header, the L1 or the refcount table? */
static bool meta_fixed(const struct ski_image *img, u64 off, u64 len)
{
	u64 cs = img->cluster_size;
	/* a table owns its clusters whole, its last one's tail too */
	u64 l1_bytes = ((u64)img->hdr.l1_size * 8 + cs - 1) & ~(cs - 1);

	return ranges_meet(off, len, 0, cs) ||
	       ranges_meet(off, len, img->hdr.l1_table_offset, l1_bytes) ||
	       ranges_meet(off, len, img->hdr.refcount_table_offset,
			   (u64)img->hdr.refcount_table_clusters <<
			   img->cluster_bits);
}

/**
 * ski_meta_owner() - the metadata an image keeps in host bytes
 *	[@off, @off + @len), if any
 * @img: open image
 * @off: host byte offset
 * @len: bytes
 * @self: an owner to leave out (a table checked against the others), in
 *	the reverse map's encoding (SKI_RMAP_L2 | L1 index,
 *	SKI_RMAP_REFBLOCK | refcount-table index), or SKI_RMAP_FREE
 *
 * Context: the image's lock held.
 *
 * Return: SKI_RMAP_FIXED (the header cluster, the L1 table or the
 * refcount table), SKI_RMAP_REFBLOCK | index, SKI_RMAP_L2 | index, or
 * SKI_RMAP_FREE when the range holds no metadata.
 */
u64 ski_meta_owner(const struct ski_image *img, u64 off, u64 len, u64 self)
{
	u64 i;

	if (meta_fixed(img, off, len))
		return SKI_RMAP_FIXED;
	if (!len || !ski_meta_filter_hits(img, off, len))
		return SKI_RMAP_FREE;
	for (i = 0; i < img->reftable_top; i++)
		if (img->reftable[i] && (SKI_RMAP_REFBLOCK | i) != self &&
		    ranges_meet(off, len, img->reftable[i], img->cluster_size))
			return SKI_RMAP_REFBLOCK | i;
	for (i = 0; i < img->hdr.l1_size; i++) {
		u64 l2 = img->l1[i] & QCOW2_OFFSET_MASK;

		if (l2 && (SKI_RMAP_L2 | i) != self &&
		    ranges_meet(off, len, l2, img->cluster_size))
			return SKI_RMAP_L2 | i;
	}
	return SKI_RMAP_FREE;
}

static const char *const ski_meta_names[] = {
	[SKI_RMAP_FIXED >> 60] = "the header, L1 or refcount table",
	[SKI_RMAP_REFBLOCK >> 60] = "a refcount block",
	[SKI_RMAP_L2 >> 60] = "an L2 table",
};

/* Log that @what at @off would hit metadata @owner; -EUCLEAN. */
static int overlap_refused(struct ski_image *img, u64 off, const char *what,
			   u64 owner)
{
	skp_log(SKP_LOG_ERR, "%s: image corrupt: %s at 0x%llx would hit %s",
		img->path, what, (unsigned long long)off,
		ski_meta_names[owner >> 60]);
	return -EUCLEAN;
}

/**
 * ski_overlap_check() - refuse @what on host bytes holding metadata
 * @img: open image
 * @off: host byte offset
 * @len: bytes
 * @self: as for ski_meta_owner()
 * @what: what was about to happen there, for the log
 *
 * Context: the image's lock held.
 *
 * Return: 0, or -EUCLEAN (logged: the image is corrupt) when the range
 * holds metadata.
 */
int ski_overlap_check(struct ski_image *img, u64 off, u64 len, u64 self,
		      const char *what)
{
	u64 owner = ski_meta_owner(img, off, len, self);

	if (owner == SKI_RMAP_FREE)
		return 0;
	return overlap_refused(img, off, what, owner);
}

/**
 * ski_table_check() - refuse an L2 table or refcount block read from the
 *	file onto the header, the L1 table or the refcount table
 * @img: open image
 * @off: the table's host offset
 * @what: "an L2 table" or "a refcount block", for the log
 *
 * Tables and blocks on each other were refused when the image was opened
 * (ski_meta_distinct()).  Context: the image's lock held.
 *
 * Return: 0, or -EUCLEAN (logged).
 */
int ski_table_check(struct ski_image *img, u64 off, const char *what)
{
	if (!meta_fixed(img, off, img->cluster_size))
		return 0;
	return overlap_refused(img, off, what, SKI_RMAP_FIXED);
}

/* Sort key of a table: its cluster, then 1 for a refcount block. */
#define META_KEY(c, rb)	(((c) << 1) | (rb))

/**
 * ski_meta_distinct() - refuse a writable image whose L2 tables and
 *	refcount blocks share host clusters
 * @img: image opened writable, its L1 and refcount tables loaded
 *
 * Every L2 table the L1 table names and every refcount block the refcount
 * table names must have a cluster of its own: two L1 entries on one table
 * would let a write through one guest range rewrite the other's mappings,
 * two slots on one block would count its clusters twice (and let an
 * allocating write look at the same block over and over), a block that is
 * also a table would take refcounts as mappings.  The entries are copied
 * and sorted: O(n log n) time and 8 bytes per table named, freed before
 * returning.
 *
 * Return: 0, -EUCLEAN (logged: what shares a cluster) or -ENOMEM.
 */
int ski_meta_distinct(struct ski_image *img)
{
	u64 n = 0, i, *keys;
	int err = 0;

	for (i = 0; i < img->hdr.l1_size; i++)
		n += !!(img->l1[i] & QCOW2_OFFSET_MASK);
	for (i = 0; i < img->reftable_top; i++)
		n += !!img->reftable[i];
	keys = skp_zalloc((n ?: 1) * sizeof(*keys));
	if (!keys)
		return -ENOMEM;
	n = 0;
	for (i = 0; i < img->hdr.l1_size; i++)
		if (img->l1[i] & QCOW2_OFFSET_MASK)
			keys[n++] = META_KEY((img->l1[i] & QCOW2_OFFSET_MASK) >>
					     img->cluster_bits, 0);
	for (i = 0; i < img->reftable_top; i++)
		if (img->reftable[i])
			keys[n++] = META_KEY(img->reftable[i] >>
					     img->cluster_bits, 1);
	skp_sort_u64(keys, n);
	for (i = 1; i < n && !err; i++)
		if (keys[i] >> 1 == keys[i - 1] >> 1)
			err = ski_corrupt(img, keys[i - 1] & 1 ?
					  "refcount block named twice" :
					  keys[i] & 1 ?
					  "refcount block on an L2 table" :
					  "L2 table named twice",
					  (keys[i] >> 1) << img->cluster_bits);
	skp_free(keys);
	return err;
}

/** ski_reftable_top_set() - recount the used part of the refcount table */
void ski_reftable_top_set(struct ski_image *img)
{
	u64 top = img->reftable_entries;

	while (top && !img->reftable[top - 1])
		top--;
	img->reftable_top = top;
}
