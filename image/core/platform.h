/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Platform layer of splitkit's image engine.
 *
 * The qcow2 core in image/core/ compiles unchanged in userspace (the
 * splitkit tool, unit tests, fuzzers) and, later, inside splitkit_back.
 * Everything the core needs from its host goes through the handful of
 * functions declared here: memory, logging, time, and I/O on an image file.
 * image/user/platform_user.c implements them with libc and zlib,
 * image/kernel/platform_kernel.c with kvzalloc, printk, the VFS and the
 * kernel's zlib and CRC-32; image/core/fileio.c is the part both share.
 */
#ifndef _SPLITKIT_IMAGE_PLATFORM_H
#define _SPLITKIT_IMAGE_PLATFORM_H

#ifdef SPLITKIT_USERSPACE
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

typedef uint8_t u8;
typedef uint16_t u16;
typedef uint32_t u32;
typedef uint64_t u64;
typedef int64_t s64;
#else
#include <linux/errno.h>
#include <linux/string.h>
#include <linux/types.h>
#endif

/* An open file holding an image; opaque to the core. */
struct skp_file;

/*
 * Zeroed allocation; NULL on failure.  skp_free(NULL) is a no-op.
 *
 * SKP_ALLOC_IO marks an allocation made on the way of guest I/O or of a
 * long-operation step (table caches, refcount growth, compressed reads, the
 * reverse map): the host must not recurse into I/O to satisfy it (the
 * kernel allocates under memalloc_noio_save(), i.e. GFP_NOIO, since
 * splitkit_back's I/O may be what memory reclaim waits for) and may fail
 * it rather than wait long; the core then returns -ENOMEM and leaves the
 * image consistent.
 */
#define SKP_ALLOC_IO	(1U << 0)
void *skp_zalloc_flags(size_t size, unsigned int flags);
void skp_free(void *ptr);

static inline void *skp_zalloc(size_t size)
{
	return skp_zalloc_flags(size, 0);
}

/* Seconds since the Unix epoch. */
u64 skp_time(void);

#define SKP_LOG_ERR	0
#define SKP_LOG_WARN	1
#define SKP_LOG_INFO	2
void skp_log(int level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/*
 * The host's libraries: zlib in userspace, the kernel's zlib_inflate and
 * crc32_le in the kernel.
 *
 * skp_inflate() decodes a raw DEFLATE stream (no zlib header, as qemu
 * stores a compressed cluster) into exactly @dst_len bytes; input after
 * the point where the output is full is ignored.  Return: 0, -EINVAL for
 * malformed input or output that comes up short, -ENOMEM.
 *
 * skp_crc32() is CRC-32 (IEEE 802.3, reflected; zlib's crc32()).
 */
int skp_inflate(const u8 *src, size_t src_len, u8 *dst, size_t dst_len);
u32 skp_crc32(const void *data, size_t len);

/* Sort @n numbers ascending: the kernel's sort(), libc's qsort(). */
void skp_sort_u64(u64 *v, size_t n);

/*
 * Both hosts' skp_inflate() end here: zlib ran out of memory, or its
 * status was one of Z_OK/Z_STREAM_END/Z_BUF_ERROR (@stream_ok) and
 * @out_left bytes of the output were not filled.  A full output counts,
 * whether or not the stream goes on, as qemu reads it.
 */
static inline int skp_inflate_verdict(bool no_memory, bool stream_ok,
				      size_t out_left)
{
	if (no_memory)
		return -ENOMEM;
	return stream_ok && !out_left ? 0 : -EINVAL;
}

/*
 * File I/O.  All return 0 or a negative errno.  skp_pread() of a range that
 * reaches past the end of the file fills the missing part with zeroes, as a
 * hole would read.  skp_flush() is a write barrier: every write issued before
 * it is durable before any write issued after it.
 */
int skp_open(const char *path, bool writable, struct skp_file **filep);
/* Create @path, failing if it exists, and open it for writing. */
int skp_create(const char *path, struct skp_file **filep);
void skp_close(struct skp_file *file);
/*
 * Wrap a file the caller already holds, for ski_open_file(); skp_close()
 * frees the wrapper and leaves the caller's file open.
 */
#ifdef SPLITKIT_USERSPACE
int skp_file_from_fd(int fd, struct skp_file **filep);
#else
struct file;
int skp_file_from_filp(struct file *filp, struct skp_file **filep);
struct file *skp_file_filp(struct skp_file *file);
#endif
int skp_pread(struct skp_file *file, void *buf, size_t len, u64 off);
int skp_pwrite(struct skp_file *file, const void *buf, size_t len, u64 off);
/*
 * The host primitives under skp_pread()/skp_pwrite() (core/fileio.c): one
 * read or write call at @off, returning the bytes moved (0 at end of file
 * for a read) or a negative errno.  The core calls the two above.
 */
s64 skp_read_at(struct skp_file *file, void *buf, size_t len, u64 off);
s64 skp_write_at(struct skp_file *file, const void *buf, size_t len, u64 off);
/*
 * Bulk copies of long operations (compaction, defragmentation, commit,
 * stream: whole clusters nothing else writes meanwhile): as skp_pread()
 * and skp_pwrite(), but the host may move them without its page cache, so
 * an operation over a large image neither evicts the host's cache nor
 * copies every byte through it twice.  Their host primitives move whole
 * pages of a page-aligned buffer at a page-aligned offset in one call and
 * return the bytes moved, or -EOPNOTSUPP where they cannot (userspace
 * always, but for a unit test's model of them, platform_user.c; the
 * kernel for a filesystem without direct I/O, an unaligned range, or with
 * the splitkit_image parameter bulk_direct off): the two
 * functions then do it the ordinary way.  Durability is unchanged: only
 * skp_flush() makes either kind of write durable.
 */
int skp_pread_bulk(struct skp_file *file, void *buf, size_t len, u64 off);
int skp_pwrite_bulk(struct skp_file *file, const void *buf, size_t len,
		    u64 off);
s64 skp_read_uncached_at(struct skp_file *file, void *buf, size_t len,
			 u64 off);
s64 skp_write_uncached_at(struct skp_file *file, const void *buf,
			  size_t len, u64 off);
int skp_flush(struct skp_file *file);
int skp_truncate(struct skp_file *file, u64 size);
/*
 * Give [@off, @off + @len) back to the filesystem, keeping the size (a hole
 * reads as zeroes).  Best effort: a filesystem that cannot punch holes
 * keeps the bytes, which is only a waste of space.
 */
void skp_punch(struct skp_file *file, u64 off, u64 len);
int skp_size(struct skp_file *file, u64 *sizep);

#endif /* _SPLITKIT_IMAGE_PLATFORM_H */
