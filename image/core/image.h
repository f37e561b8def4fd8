/* SPDX-License-Identifier: GPL-2.0 */
/*
 * splitkit image engine: the public interface of the portable qcow2 core.
 *
 * An open image (struct ski_image) maps guest offsets to file offsets,
 * reads through its backing chain, allocates clusters and keeps L2 tables
 * and refcounts in a crash-safe order (image.c).  check.c verifies
 * refcounts against references; relocate.c and merge.c implement the long
 * operations (compaction, defragmentation, commit, stream) as bounded,
 * resumable steps.  Nothing here knows whether it runs in the kernel or in
 * userspace: platform.h is the only way out.
 *
 * Locking: none inside the core.  The caller serialises every call on one
 * image (the tool is single-threaded; splitkit_back will hold a per-image
 * mutex around guest I/O and each long-operation step).
 */
#ifndef _SPLITKIT_IMAGE_IMAGE_H
#define _SPLITKIT_IMAGE_IMAGE_H

#include "platform.h"
#include "qcow2.h"
#include "vminfo.h"

#define SKI_OPEN_RW		(1U << 0)
#define SKI_OPEN_NO_BACKING	(1U << 1)	/* do not open the chain */

#define SKI_MAX_CHAIN		16

struct ski_rmap;

/* Clusters written per batch: two flushes for the lot. */
#define SKI_WRITE_BATCH		256

struct ski_pending_map {
	u64 guest_cluster;
	u64 old_entry;
	u64 new_entry;
};

struct ski_image {
	struct skp_file *file;
	char *path;
	bool writable;
	struct ski_header hdr;

	u32 cluster_bits;
	u64 cluster_size;
	u64 l2_entries;			/* entries per L2 table */
	u64 rb_entries;			/* refcounts per refblock */
	u64 guest_clusters;

	u64 *l1;			/* l1_size entries, host order */
	u64 **l2;			/* cached L2 tables, by L1 index */
	unsigned int l2_cached;

	u64 *reftable;			/* host order */
	u64 reftable_entries;
	u16 **refblocks;		/* cached refcount blocks */
	u64 end_cluster;		/* no cluster at or past this is used */
	u64 free_hint;			/* no free cluster below this */

	struct ski_image *backing;	/* qcow2 backing image, or */
	struct skp_file *backing_raw;	/* a raw backing file */
	u64 backing_raw_size;
	unsigned int depth;

	u8 *scratch;			/* one cluster */
	u8 *inflate_buf;		/* one cluster, compressed reads */
	u8 *cow_buf;			/* one cluster, partial writes */
	struct ski_pending_map *pending; /* SKI_WRITE_BATCH, write_batch() */
	struct ski_rmap *rmap;		/* reverse map, during an op */

	bool has_vminfo;
	struct ski_vminfo vminfo;
};

/* What a guest cluster is, as ski_block_status() reports it. */
enum ski_cluster_kind {
	SKI_UNALLOCATED,	/* reads from the backing file, or zeroes */
	SKI_ZERO,		/* reads as zeroes */
	SKI_DATA,		/* at *host in this file */
	SKI_COMPRESSED,		/* compressed, starting at *host */
};

int ski_open(const char *path, unsigned int flags, struct ski_image **imgp);
int ski_open_depth(const char *path, unsigned int flags, unsigned int depth,
		   struct ski_image **imgp);
void ski_close(struct ski_image *img);
int ski_flush(struct ski_image *img);

struct ski_create_opts {
	u64 size;
	u32 cluster_bits;		/* 0: 16 (64 KiB) */
	const char *backing_file;	/* as stored in the header */
	const char *backing_format;	/* "qcow2", "raw" or NULL */
	const struct ski_vminfo *vminfo;
};
int ski_create(const char *path, const struct ski_create_opts *opts);

int ski_read(struct ski_image *img, void *buf, u64 len, u64 off);
int ski_write(struct ski_image *img, const void *buf, u64 len, u64 off);
int ski_discard(struct ski_image *img, u64 off, u64 len);
int ski_block_status(struct ski_image *img, u64 guest_cluster,
		     enum ski_cluster_kind *kind, u64 *host);

int ski_update_header(struct ski_image *img);
int ski_set_vminfo(struct ski_image *img, const struct ski_vminfo *info);
int ski_note_history(struct ski_image *img, const char *op,
		     const char *note);
int ski_drop_backing(struct ski_image *img);

/* Internal to the core (image.c), shared with check.c, relocate.c. */
int ski_l2_entry(struct ski_image *img, u64 guest_cluster, u64 *entry);
int ski_set_l2_entry(struct ski_image *img, u64 guest_cluster, u64 entry);
int ski_refcount(struct ski_image *img, u64 cluster, u16 *refcount);
int ski_set_refcount(struct ski_image *img, u64 cluster, u16 refcount);
int ski_alloc_cluster(struct ski_image *img, u64 *cluster);
int ski_release_entry(struct ski_image *img, u64 entry);
int ski_compressed_range(struct ski_image *img, u64 entry, u64 *start,
			 u64 *end);
int ski_load_l2(struct ski_image *img, u64 l1_index, u64 **tablep);
int ski_set_l1_entry(struct ski_image *img, u64 l1_index, u64 entry);
int ski_set_reftable_entry(struct ski_image *img, u64 index, u64 entry);
int ski_file_clusters(struct ski_image *img, u64 *clusters);

/* Check (check.c). */
struct ski_check_result {
	u64 errors;		/* refcount too low, bad entries, overlaps */
	u64 leaks;		/* refcount higher than references */
	u64 leaks_fixed;
	u64 allocated_clusters;
	u64 image_end;		/* bytes up to the last used cluster */
	bool compressed;
};
#define SKI_CHECK_REPAIR_LEAKS	(1U << 0)
int ski_check(struct ski_image *img, unsigned int flags,
	      struct ski_check_result *res);

/* Decompression of compressed clusters (inflate.c). */
int ski_inflate(const u8 *src, size_t src_len, u8 *dst, size_t dst_len);

#endif /* _SPLITKIT_IMAGE_IMAGE_H */
