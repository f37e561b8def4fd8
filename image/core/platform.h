/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Platform layer of splitkit's image engine.
 *
 * The qcow2 core in image/core/ compiles unchanged in userspace (the
 * splitkit tool, unit tests, fuzzers) and, later, inside splitkit_back.
 * Everything the core needs from its host goes through the handful of
 * functions declared here: memory, logging, time, and I/O on an image file.
 * image/user/platform_user.c implements them with libc; a kernel
 * implementation will use kvzalloc, vfs_iter_read/write and vfs_fsync.
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

/* Zeroed allocation; NULL on failure.  skp_free(NULL) is a no-op. */
void *skp_zalloc(size_t size);
void skp_free(void *ptr);

/* Seconds since the Unix epoch. */
u64 skp_time(void);

#define SKP_LOG_ERR	0
#define SKP_LOG_WARN	1
#define SKP_LOG_INFO	2
void skp_log(int level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

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
int skp_pread(struct skp_file *file, void *buf, size_t len, u64 off);
int skp_pwrite(struct skp_file *file, const void *buf, size_t len, u64 off);
int skp_flush(struct skp_file *file);
int skp_truncate(struct skp_file *file, u64 size);
int skp_size(struct skp_file *file, u64 *sizep);

#endif /* _SPLITKIT_IMAGE_PLATFORM_H */
