/* SPDX-License-Identifier: GPL-2.0 */
/*
 * splitkit image engine: the public interface of the portable qcow2 core.
 *
 * What a user of the core (the splitkit tool, splitkit_back through the
 * splitkit_image module) may call.  An open image (struct ski_image, opaque
 * here) maps guest offsets to file offsets, reads through its backing
 * chain, allocates clusters and keeps L2 tables and refcounts in a
 * crash-safe order.  ops.h adds the long operations (compaction,
 * defragmentation, commit, stream) as bounded, resumable steps; qcow2.h and
 * vminfo.h describe the header and the embedded VM information.  The
 * core's own files share image_priv.h on top of this.  Nothing here knows
 * whether it runs in the kernel or in userspace: platform.h is the only way
 * out.
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
/*
 * For a server opening images it does not own (splitkit_back): never look
 * at a backing file's bytes to choose its format.  A backing file whose
 * format the naming image does not record is refused, or opened raw with
 * SKI_OPEN_UNRECORDED_RAW (the administrator's choice).  Backing names must
 * be relative and free of ".." components, so a chain stays in and under
 * the directory of the image that names each link.
 */
#define SKI_OPEN_STRICT		(1U << 2)
#define SKI_OPEN_UNRECORDED_RAW	(1U << 3)
/*
 * Give a cluster whose refcount falls to zero back to the host filesystem
 * (skp_punch()), so a guest's discard makes the file's allocated size fall.
 */
#define SKI_OPEN_PUNCH		(1U << 4)

#define SKI_MAX_CHAIN		16
/*
 * Bytes of L1 and refcount tables a backing chain may hold, all links: six
 * images at qemu's ceilings (40 MiB each: an 8 TiB disk with 4 KiB
 * clusters), far more than usual chains (a 1 TiB disk with 64 KiB
 * clusters takes 24 KiB of L1 and 64 KiB of refcount table).
 */
#define SKI_CHAIN_TABLE_BYTES	(256ULL << 20)

struct ski_image;

/* What a guest cluster is, as ski_block_status() reports it. */
enum ski_cluster_kind {
	SKI_UNALLOCATED,	/* reads from the backing file, or zeroes */
	SKI_ZERO,		/* reads as zeroes */
	SKI_DATA,		/* at *host in this file */
	SKI_COMPRESSED,		/* compressed, starting at *host */
};

/* open.c: open, close, the backing chain, what an open image is. */
int ski_open(const char *path, unsigned int flags, struct ski_image **imgp);
int ski_open_file(struct skp_file *file, const char *name,
		  unsigned int flags, struct ski_image **imgp);
void ski_close(struct ski_image *img);
int ski_flush(struct ski_image *img);
int ski_drop_backing(struct ski_image *img);
const char *ski_image_path(const struct ski_image *img);
struct skp_file *ski_image_file(const struct ski_image *img);
struct ski_image *ski_image_backing(const struct ski_image *img);
struct skp_file *ski_image_backing_raw(const struct ski_image *img);
struct ski_image *ski_image_commit_to(const struct ski_image *img);
const struct ski_header *ski_image_header(const struct ski_image *img);
const struct ski_vminfo *ski_image_vminfo(const struct ski_image *img);
bool ski_image_vminfo_unread(const struct ski_image *img);
int ski_image_file_size(struct ski_image *img, u64 *size);
int ski_set_cache_budget(struct ski_image *img, u64 l2_bytes,
			 u64 refblock_bytes);

/* create.c */
struct ski_create_opts {
	u64 size;
	u32 cluster_bits;		/* 0: 16 (64 KiB) */
	const char *backing_file;	/* as stored in the header */
	const char *backing_format;	/* "qcow2", "raw" or NULL */
	const struct ski_vminfo *vminfo;
};
int ski_create(const char *path, const struct ski_create_opts *opts);

/* io.c: guest I/O. */
int ski_read(struct ski_image *img, void *buf, u64 len, u64 off);
int ski_write(struct ski_image *img, const void *buf, u64 len, u64 off);
int ski_discard(struct ski_image *img, u64 off, u64 len);
int ski_write_zeroes(struct ski_image *img, u64 off, u64 len);
int ski_block_status(struct ski_image *img, u64 guest_cluster,
		     enum ski_cluster_kind *kind, u64 *host);
u64 ski_l2_absent_span(struct ski_image *img, u64 guest_cluster);
int ski_map_data(struct ski_image *img, u64 off, u64 len, bool write,
		 u64 *host, u64 *n);
int ski_map_data_in(struct ski_image *img, u64 off, u64 len, bool write,
		    u64 *host, u64 *n, struct ski_image **in);
void ski_set_free_hook(struct ski_image *img, void (*fn)(void *arg),
		       void *arg);

/* grow.c: a larger virtual size (qemu-img resize, commit into a parent). */
int ski_grow(struct ski_image *img, u64 new_size);

/* meta.c: header rewrite and VM information. */
int ski_update_header(struct ski_image *img);
int ski_set_vminfo(struct ski_image *img, const struct ski_vminfo *info);
void ski_vminfo_forget(struct ski_image *img);
int ski_note_history(struct ski_image *img, const char *op,
		     const char *note);

/* check.c */
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

#endif /* _SPLITKIT_IMAGE_IMAGE_H */
