/* SPDX-License-Identifier: GPL-2.0 */
/*
 * splitkit image engine: what the core's own files share and nothing else.
 *
 * image.h and ops.h are the public interface (the tool, the unit tests'
 * black-box cases, splitkit_back); this header is the inside of the core:
 * the layout of an open image, the reverse map the long operations keep,
 * and the functions one core file offers another.  Prototypes are grouped
 * under the file that implements them.  The files stack without a circle:
 *
 *   rmap.c      reverse map window (leaf)
 *   cache.c     fixed-budget LRU table cache (leaf)
 *   overlap.c   metadata overlap checks (leaf: reads the tables' copies)
 *   refcount.c  refcount table and blocks, cluster allocation  -> rmap.c
 *   table.c     L1 table, L2 cache, mapping updates   -> refcount.c rmap.c
 *   io.c        guest reads, writes, discard, zeroes  -> table.c refcount.c
 *   grow.c      a larger virtual size                 -> io.c table.c
 *   meta.c      header rewrite, VM information        -> header.c vminfo.c
 *   open.c      open, backing chain, close  -> table.c refcount.c meta.c
 *   create.c    new images                            -> header.c vminfo.c
 *   check.c     consistency check                     -> table.c refcount.c
 *   relocate.c, merge.c, ops.c   long operations      -> all of the above
 *
 * Like the rest of the core, nothing here may assume kernel or userspace.
 */
#ifndef _SPLITKIT_IMAGE_IMAGE_PRIV_H
#define _SPLITKIT_IMAGE_IMAGE_PRIV_H

#include "endian.h"
#include "image.h"
#include "ops.h"

/* Clusters written per batch: two flushes for the lot. */
#define SKI_WRITE_BATCH		256

struct ski_pending_map {
	u64 guest_cluster;
	u64 old_entry;
	u64 new_entry;
};

/*
 * L2 entries an allocating write set in the cache and not yet in the file
 * (table.c, ski_l2_defer()): at most this many, and at most this many
 * bytes of the clusters they map, unflushed.
 */
#define SKI_L2_DEFER_MAX	1024
#define SKI_L2_DEFER_BYTES	(64ULL << 20)

struct ski_l2_deferred {
	u64 guest_cluster;
	u64 entry;
};

/* cache.c: fixed-budget LRU cache of decoded tables. */
struct ski_cache_slot {
	u64 index;			/* table number (L1 or reftable slot) */
	u64 stamp;			/* last use; 0: slot empty */
	void *table;			/* allocated on first use, then reused */
};

struct ski_cache {
	struct ski_cache_slot *slots;
	u32 nr_slots;
	u32 *slot_of;			/* per table number: slot + 1, or 0 */
	u64 nr_index;
	u64 clock;
	size_t table_bytes;
	u64 loads, evictions;		/* for tests and statistics */
};

/* Default budgets (image.h: ski_set_cache_budget()). */
#define SKI_L2_CACHE_BYTES	(1ULL << 20)
#define SKI_RB_CACHE_BYTES	(256ULL << 10)
#define SKI_CACHE_MAX_SLOTS	4096

/* An allocation on the I/O path (platform.h: SKP_ALLOC_IO). */
static inline void *ski_io_zalloc(size_t size)
{
	return skp_zalloc_flags(size, SKP_ALLOC_IO);
}

int ski_cache_init(struct ski_cache *c, u64 nr_index, size_t table_bytes,
		   u32 nr_slots);
void ski_cache_free(struct ski_cache *c);
int ski_cache_resize_index(struct ski_cache *c, u64 nr_index);
void *ski_cache_lookup(struct ski_cache *c, u64 index);
int ski_cache_insert(struct ski_cache *c, u64 index, void **tablep);
void ski_cache_drop(struct ski_cache *c, u64 index);
u32 ski_cache_cached(const struct ski_cache *c);
u32 ski_cache_slots_for(u64 bytes, size_t table_bytes);

struct ski_image {
	struct skp_file *file;
	char *path;
	bool writable;
	bool punch;		/* SKI_OPEN_PUNCH: free clusters in the file too */
	/* SKI_OPEN_STRICT, _UNRECORDED_RAW, _PUNCH: for a commit's parent */
	unsigned int open_flags;
	struct ski_header hdr;

	u32 cluster_bits;
	u64 cluster_size;
	u64 l2_entries;			/* entries per L2 table */
	u64 rb_entries;			/* refcounts per refblock */
	u64 guest_clusters;

	u64 *l1;			/* l1_size entries, host order */
	struct ski_cache l2_cache;	/* decoded L2 tables, by L1 index */
	u64 l2_budget;			/* bytes; 0: SKI_L2_CACHE_BYTES */

	u64 *reftable;			/* host order */
	u64 reftable_entries;
	u64 reftable_top;		/* past its last non-zero entry */
	u64 *meta_filter;		/* writable: overlap.c's filter */
	struct ski_cache rb_cache;	/* refcount blocks, by reftable index */
	u64 rb_budget;			/* bytes; 0: SKI_RB_CACHE_BYTES */
	u64 end_cluster;		/* no cluster at or past this is used */
	u64 free_hint;			/* no free cluster below this */

	struct ski_image *backing;	/* qcow2 backing image, or */
	struct skp_file *backing_raw;	/* a raw backing file */
	u64 backing_raw_size;
	unsigned int depth;
	u64 chain_table_bytes;		/* L1 + refcount tables, with backing */

	u8 *scratch;			/* one cluster */
	u8 *inflate_buf;		/* one cluster, compressed reads */
	u8 *cow_buf;			/* one cluster, partial writes */
	struct ski_pending_map *pending; /* SKI_WRITE_BATCH, write_batch() */
	/*
	 * Mappings of new clusters in the cached L2 tables only, until
	 * ski_l2_sync() flushes what they map and writes them; no table
	 * holding one leaves the cache before that.
	 */
	struct ski_l2_deferred *l2_deferred;
	unsigned int nr_l2_deferred;
	unsigned int l2_defer_max;
	struct ski_rmap *rmap;		/* reverse map, during an op */
	struct ski_op *op;		/* the operation running on it */
	/*
	 * During a commit (merge.c): guest writes, discards and zeroes below
	 * guest cluster @commit_below go to @commit_to, the writable parent,
	 * which the child no longer covers there (io.c).
	 */
	struct ski_image *commit_to;
	u64 commit_below;
	u64 rmap_window;		/* its clusters; 0: SKI_RMAP_WINDOW */
	u64 stream_pending;		/* clusters; 0: merge.c's default */
	/*
	 * Called before a host cluster of this file is freed (its refcount
	 * set to 0), so that I/O the caller runs itself on clusters
	 * ski_map_data() gave it can end first (ski_set_free_hook()).
	 */
	void (*free_hook)(void *arg);
	void *free_hook_arg;

	bool has_vminfo;
	/* VM information this version cannot read: kept as it is */
	bool vminfo_unread;
	struct ski_vminfo vminfo;
};

/* Log that the image is corrupt and say so to the caller. */
static inline int ski_corrupt(struct ski_image *img, const char *what,
			      u64 value)
{
	skp_log(SKP_LOG_ERR, "%s: image corrupt: %s (0x%llx)",
		img->path, what, (unsigned long long)value);
	return -EUCLEAN;
}

/* Write one 8-byte table entry (L1, L2 or refcount table) through. */
static inline int ski_write_entry(struct ski_image *img, u64 table_off,
				  u64 index, u64 entry)
{
	u8 raw[8];

	ski_put_be64(raw, entry);
	return skp_pwrite(img->file, raw, sizeof(raw), table_off + index * 8);
}

/* Is [@off, @off + @len) inside the guest disk? */
static inline bool ski_guest_range_ok(const struct ski_image *img, u64 off,
				      u64 len)
{
	return off <= img->hdr.size && len <= img->hdr.size - off;
}

/* Bytes the backing file shows (past them the chain reads zeroes); 0 if none. */
static inline u64 ski_backing_size(const struct ski_image *img)
{
	if (img->backing)
		return img->backing->hdr.size;
	return img->backing_raw ? img->backing_raw_size : 0;
}

/* An L2 entry whose data cluster this image alone owns (writable in place). */
static inline bool ski_entry_is_private(u64 entry)
{
	return (entry & QCOW2_OFLAG_COPIED) &&
	       !(entry & (QCOW2_OFLAG_COMPRESSED | QCOW2_OFLAG_ZERO)) &&
	       (entry & QCOW2_OFFSET_MASK);
}

/* rmap.c: reverse map (host cluster -> owner) of a window, during an op. */
#define SKI_RMAP_FREE		0ULL
#define SKI_RMAP_FIXED		(1ULL << 60)	/* never moved */
#define SKI_RMAP_REFBLOCK	(2ULL << 60)	/* reftable index */
#define SKI_RMAP_L2		(3ULL << 60)	/* L1 index */
#define SKI_RMAP_DATA		(4ULL << 60)	/* guest cluster */
#define SKI_RMAP_UNKNOWN	(5ULL << 60)	/* outside the window */
#define SKI_RMAP_KIND		(15ULL << 60)
#define SKI_RMAP_INDEX		((1ULL << 60) - 1)

/* Host clusters one window covers at most: 8 MiB of map. */
#define SKI_RMAP_WINDOW		(1ULL << 20)

struct ski_rmap {
	u64 *owner;
	u64 base;		/* first host cluster of the window */
	u64 nr;			/* clusters in the window */
};

int ski_rmap_alloc(struct ski_image *img, u64 nr);
void ski_rmap_free(struct ski_image *img);
void ski_rmap_window(struct ski_image *img, u64 base);
bool ski_rmap_covers(const struct ski_image *img, u64 cluster);
void ski_rmap_set(struct ski_image *img, u64 cluster, u64 owner);
u64 ski_rmap_owner(struct ski_image *img, u64 cluster);

/* overlap.c: is it metadata?  (Owners in the reverse map's encoding.) */
int ski_meta_filter_init(struct ski_image *img);
void ski_meta_filter_free(struct ski_image *img);
void ski_meta_filter_add(struct ski_image *img, u64 off);
u64 ski_meta_owner(const struct ski_image *img, u64 off, u64 len, u64 self);
int ski_table_check(struct ski_image *img, u64 off, const char *what);
int ski_meta_distinct(struct ski_image *img);
int ski_overlap_check(struct ski_image *img, u64 off, u64 len, u64 self,
		      const char *what);
void ski_reftable_top_set(struct ski_image *img);

/* refcount.c */
int ski_load_reftable(struct ski_image *img, u64 file_size);
void ski_refcount_free(struct ski_image *img);
int ski_refcount(struct ski_image *img, u64 cluster, u16 *refcount);
int ski_set_refcount(struct ski_image *img, u64 cluster, u16 refcount);
bool ski_refblocks_present(const struct ski_image *img, u64 from, u64 to);
int ski_release_run(struct ski_image *img, u64 off, u64 clusters);
int ski_set_reftable_entry(struct ski_image *img, u64 index, u64 entry);
int ski_alloc_cluster(struct ski_image *img, u64 *cluster);
int ski_compressed_range(struct ski_image *img, u64 entry, u64 *start,
			 u64 *end);
/*
 * Host clusters a loop of releases freed, punched out of the file as one
 * range (a punch is a file-system transaction: one per cluster made a
 * commit several times slower).  Nothing may be allocated between a
 * release into it and ski_release_end(): a freed cluster handed out again
 * must not be punched after its new data is written.
 */
struct ski_release {
	u64 first;		/* first host cluster of the pending range */
	u64 nr;			/* clusters in it, 0 when none pending */
};

int ski_release_entry(struct ski_image *img, u64 entry,
		      struct ski_release *rel);
void ski_release_end(struct ski_image *img, struct ski_release *rel);
int ski_file_clusters(struct ski_image *img, u64 *clusters);
int ski_alloc_run(struct ski_image *img, u64 nr, u64 *first);
int ski_refcount_cache_init(struct ski_image *img);

/* table.c */
int ski_load_l1(struct ski_image *img, u64 file_size);
void ski_table_free(struct ski_image *img);
int ski_load_l2(struct ski_image *img, u64 l1_index, u64 **tablep);
int ski_l2_entry(struct ski_image *img, u64 guest_cluster, u64 *entry);
int ski_set_l1_entry(struct ski_image *img, u64 l1_index, u64 entry);
int ski_ensure_l2(struct ski_image *img, u64 l1_index);
int ski_set_l2_entry(struct ski_image *img, u64 guest_cluster, u64 entry);
int ski_l2_defer(struct ski_image *img, u64 guest_cluster, u64 entry);
int ski_l2_sync(struct ski_image *img);
int ski_l2_cache_init(struct ski_image *img);
int ski_grow_l1(struct ski_image *img, u64 entries);

/* io.c */
/*
 * New clusters written as one run when they follow each other both in the
 * file and in the caller's buffer: one extending write of the file instead
 * of one a cluster (the costly kind, on a file that grows).
 */
struct ski_data_run {
	u64 host;		/* file offset of the run, bytes */
	const u8 *src;		/* its bytes in the caller's buffer */
	u64 len;		/* bytes, 0 when none pending */
};

int ski_data_run_add(struct ski_image *img, struct ski_data_run *r,
		     const u8 *src, u64 host);
int ski_data_run_write(struct ski_image *img, struct ski_data_run *r);
int ski_drop_clusters(struct ski_image *img, u64 first, u64 last,
		      u64 new_entry);
int ski_zero_partial(struct ski_image *img, u64 off, u64 end);

/* open.c */
int ski_open_depth(const char *path, unsigned int flags, unsigned int depth,
		   struct ski_image **imgp);
char *ski_backing_path(const struct ski_image *img);

/*
 * A relocation: host cluster @from to @to, on behalf of @owner; @dirty: a
 * guest wrote into @from while it was being copied unlocked.
 */
struct ski_move {
	u64 from;
	u64 to;
	u64 owner;
	bool dirty;
};

/* relocate.c: a guest write into host bytes [@off, @off + @len). */
void ski_op_note_change(struct ski_image *img, u64 off, u64 len);

/* A run of guest clusters a merge step handles together. */
struct ski_run {
	u64 first;
	u64 nr;
	bool zero;
};

#define SKI_MERGE_RUNS	64

/* relocate.c, merge.c: the steps behind ski_op_step() (ops.c). */
int ski_relocate_step(struct ski_op *op, u64 budget);
int ski_merge_begin(struct ski_op *op);
int ski_merge_step(struct ski_op *op, u64 budget);
void ski_merge_end(struct ski_op *op);
/* ops.c: a flush with the caller's lock dropped if @unlocked */
int ski_op_flush(struct ski_op *op, struct skp_file *file, bool unlocked);
/* ops.c: the image serving @img's guest (a finished commit's parent) */
struct ski_image *ski_serving(struct ski_image *img);

#endif /* _SPLITKIT_IMAGE_IMAGE_PRIV_H */
