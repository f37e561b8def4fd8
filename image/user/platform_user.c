// SPDX-License-Identifier: GPL-2.0
/*
 * Userspace implementation of the image engine's platform layer.
 *
 * Used by the splitkit tool, the unit tests and the fuzzers.  I/O is plain
 * pread/pwrite on a file descriptor (skp_read_at()/skp_write_at(); the
 * whole-buffer loops above them are core/fileio.c); skp_flush() is fdatasync() unless
 * SPLITKIT_IMG_NOSYNC is set (tests that only simulate process crashes).
 * SPLITKIT_IMG_CRASH_AFTER=N makes the process die with exit status 99
 * just before its N-th write, flush or truncate, which is how the crash
 * tests cut an operation at every step.  Decompression and CRC-32 are
 * zlib's, sorting libc's qsort().  A writable open takes QEMU's image
 * locks (skp_open()).
 */
#include <limits.h>
#include <malloc.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <splitkit/qemu_lock.h>

#include "../core/platform.h"
#include "platform_user.h"

struct skp_file {
	int fd;
	bool borrowed;		/* the caller's fd: skp_close() leaves it open */
};

static int log_level = SKP_LOG_WARN;

int skp_user_fd(const struct skp_file *file)
{
	return file->fd;
}
static long crash_after = -1;
static bool nosync;
static bool env_read;

static void read_env(void);

void skp_user_set_log_level(int level)
{
	log_level = level;
}

void skp_user_set_crash_after(long mutations)
{
	read_env();
	crash_after = mutations;
}

static void read_env(void)
{
	const char *s;

	if (env_read)
		return;
	env_read = true;
	s = getenv("SPLITKIT_IMG_CRASH_AFTER");
	if (s && *s)
		crash_after = strtol(s, NULL, 10);
	s = getenv("SPLITKIT_IMG_NOSYNC");
	nosync = s && *s && strcmp(s, "0");
}

/* Count one mutation; die here if the crash test says so. */
static void mutation_point(void)
{
	read_env();
	if (crash_after < 0)
		return;
	if (crash_after-- == 0)
		_exit(99);
}

/*
 * Allocation accounting for the tests: bytes live and their peak (through
 * malloc_usable_size(), so frees need no size), and a failure injected at
 * the N-th allocation (skp_user_fail_alloc()).
 */
static struct {
	long fail_at;		/* allocations left before one fails; -1 never */
	unsigned int flags;	/* which allocations count (0: all) */
	u64 live, peak, calls;
} alloc_acct = { .fail_at = -1 };

void skp_user_fail_alloc(long nth, unsigned int flags)
{
	alloc_acct.fail_at = nth;
	alloc_acct.flags = flags;
}

void skp_user_alloc_stats(u64 *live, u64 *peak, u64 *calls)
{
	*live = alloc_acct.live;
	*peak = alloc_acct.peak;
	*calls = alloc_acct.calls;
}

void skp_user_alloc_reset_peak(void)
{
	alloc_acct.peak = alloc_acct.live;
}

void *skp_zalloc_flags(size_t size, unsigned int flags)
{
	void *ptr;

	if (!alloc_acct.flags || (flags & alloc_acct.flags)) {
		alloc_acct.calls++;
		if (alloc_acct.fail_at >= 0 && alloc_acct.fail_at-- == 0)
			return NULL;
	}
	/* a page or more page-aligned, as the kernel's kvzalloc() gives it */
	if (size >= 4096) {
		if (posix_memalign(&ptr, 4096, size))
			ptr = NULL;
		else
			memset(ptr, 0, size);
	} else {
		ptr = calloc(1, size ? size : 1);
	}
	if (ptr) {
		alloc_acct.live += malloc_usable_size(ptr);
		if (alloc_acct.live > alloc_acct.peak)
			alloc_acct.peak = alloc_acct.live;
	}
	return ptr;
}

void skp_free(void *ptr)
{
	if (ptr)
		alloc_acct.live -= malloc_usable_size(ptr);
	free(ptr);
}

int skp_inflate(const u8 *src, size_t src_len, u8 *dst, size_t dst_len)
{
	z_stream zs;
	int ret;

	if (src_len > UINT_MAX || dst_len > UINT_MAX)
		return -EINVAL;
	memset(&zs, 0, sizeof(zs));
	if (inflateInit2(&zs, -MAX_WBITS) != Z_OK)
		return -ENOMEM;
	zs.next_in = (Bytef *)src;
	zs.avail_in = src_len;
	zs.next_out = dst;
	zs.avail_out = dst_len;
	ret = inflate(&zs, Z_FINISH);
	inflateEnd(&zs);
	return skp_inflate_verdict(ret == Z_MEM_ERROR, ret == Z_OK ||
				   ret == Z_STREAM_END || ret == Z_BUF_ERROR,
				   zs.avail_out);
}

u32 skp_crc32(const void *data, size_t len)
{
	return crc32_z(0, data, len);
}

static int skp_cmp_u64(const void *a, const void *b)
{
	u64 x = *(const u64 *)a, y = *(const u64 *)b;

	return x < y ? -1 : x > y;
}

void skp_sort_u64(u64 *v, size_t n)
{
	qsort(v, n, sizeof(*v), skp_cmp_u64);
}

u64 skp_time(void)
{
	return (u64)time(NULL);
}

void skp_log(int level, const char *fmt, ...)
{
	static const char *const names[] = { "error", "warning", "info" };
	va_list ap;

	if (level > log_level)
		return;
	fprintf(stderr, "splitkit: %s: ", names[level]);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static int wrap_fd(int fd, bool borrowed, struct skp_file **filep)
{
	struct skp_file *file;

	if (fd < 0)
		return -errno;
	file = calloc(1, sizeof(*file));
	if (!file) {
		if (!borrowed)
			close(fd);
		return -ENOMEM;
	}
	file->fd = fd;
	file->borrowed = borrowed;
	*filep = file;
	return 0;
}

/*
 * QEMU's image locks (<splitkit/qemu_lock.h>).  A writable open of ours
 * uses reading, writing and resizing and shares neither write nor
 * resize, as a VM's writable disk or qemu-img commit do, so each of us
 * refuses the other: first the locks, then the test, as QEMU does.
 * Read-only opens take none (like qemu-img -U: on an image in use they
 * may see it mid-update).  A filesystem without OFD locks is opened
 * unlocked, as QEMU's locking=auto does.
 */
static const struct {
	off_t byte;
	off_t conflict;	/* another's lock here refuses us */
	const char *what;
} skp_locks[] = {
	{ SK_QEMU_LOCK_USED + SK_QEMU_PERM_READ,
	  SK_QEMU_LOCK_UNSHARED + SK_QEMU_PERM_READ, "does not share reading" },
	{ SK_QEMU_LOCK_USED + SK_QEMU_PERM_WRITE,
	  SK_QEMU_LOCK_UNSHARED + SK_QEMU_PERM_WRITE, "does not share writing" },
	{ SK_QEMU_LOCK_USED + SK_QEMU_PERM_RESIZE,
	  SK_QEMU_LOCK_UNSHARED + SK_QEMU_PERM_RESIZE, "does not share resizing" },
	{ SK_QEMU_LOCK_UNSHARED + SK_QEMU_PERM_WRITE,
	  SK_QEMU_LOCK_USED + SK_QEMU_PERM_WRITE, "writes it" },
	{ SK_QEMU_LOCK_UNSHARED + SK_QEMU_PERM_RESIZE,
	  SK_QEMU_LOCK_USED + SK_QEMU_PERM_RESIZE, "may resize it" },
};

#define SKP_NR_LOCKS	(sizeof(skp_locks) / sizeof(skp_locks[0]))

static int ofd_lock(int fd, int cmd, short type, off_t byte,
		    struct flock *fl)
{
	*fl = (struct flock){ .l_type = type, .l_whence = SEEK_SET,
			      .l_start = byte, .l_len = 1 };
	return fcntl(fd, cmd, fl) ? -errno : 0;
}

/* Take a writer's locks on @fd; -EBUSY if another open of @path conflicts. */
static int lock_writer(int fd, const char *path)
{
	struct flock fl;
	unsigned int i;
	int err;

	for (i = 0; i < SKP_NR_LOCKS; i++) {
		err = ofd_lock(fd, F_OFD_SETLK, F_RDLCK, skp_locks[i].byte,
			       &fl);
		if (err == -EINVAL || err == -ENOLCK || err == -EOPNOTSUPP)
			return 0;	/* no OFD locks here */
		if (err)
			return err;
	}
	for (i = 0; i < SKP_NR_LOCKS; i++) {
		err = ofd_lock(fd, F_OFD_GETLK, F_WRLCK,
			       skp_locks[i].conflict, &fl);
		if (err)
			return err;
		if (fl.l_type != F_UNLCK) {
			skp_log(SKP_LOG_ERR,
				"%s is in use: another process (a VM, qemu-img, qemu-io or splitkit) %s",
				path, skp_locks[i].what);
			return -EBUSY;
		}
	}
	return 0;
}

int skp_open(const char *path, bool writable, struct skp_file **filep)
{
	int fd = open(path, (writable ? O_RDWR : O_RDONLY) | O_CLOEXEC);
	int err;

	if (fd >= 0 && writable) {
		err = lock_writer(fd, path);
		if (err) {
			close(fd);
			return err;
		}
	}
	return wrap_fd(fd, false, filep);
}

int skp_create(const char *path, struct skp_file **filep)
{
	return wrap_fd(open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644),
		       false, filep);
}

int skp_file_from_fd(int fd, struct skp_file **filep)
{
	if (fd < 0)
		return -EBADF;
	return wrap_fd(fd, true, filep);
}

void skp_close(struct skp_file *file)
{
	if (!file)
		return;
	if (!file->borrowed)
		close(file->fd);
	free(file);
}

/* File I/O calls of at least @min bytes, counted for the tests. */
struct io_count {
	u64 n;
	u64 min;
};

static struct io_count big_reads = { 0, ~0ULL }, big_writes = { 0, ~0ULL };

static void count_from(struct io_count *c, u64 min_len)
{
	c->min = min_len;
	c->n = 0;
}

static void count_io(struct io_count *c, size_t len)
{
	if (len >= c->min)
		c->n++;
}

void skp_user_count_reads(u64 min_len)
{
	count_from(&big_reads, min_len);
}

u64 skp_user_reads(void)
{
	return big_reads.n;
}

void skp_user_count_writes(u64 min_len)
{
	count_from(&big_writes, min_len);
}

u64 skp_user_writes(void)
{
	return big_writes.n;
}

s64 skp_read_at(struct skp_file *file, void *buf, size_t len, u64 off)
{
	ssize_t n;

	count_io(&big_reads, len);
	do
		n = pread(file->fd, buf, len, off);
	while (n < 0 && errno == EINTR);
	return n < 0 ? -errno : n;
}

s64 skp_write_at(struct skp_file *file, const void *buf, size_t len, u64 off)
{
	ssize_t n;

	mutation_point();
	count_io(&big_writes, len);
	do
		n = pwrite(file->fd, buf, len, off);
	while (n < 0 && errno == EINTR);
	return n < 0 ? -errno : n;
}

/*
 * The uncached primitives (platform.h): userspace has none, so the bulk
 * copies go the ordinary way, unless a unit test asks for a model of
 * one (skp_user_set_uncached()): as the kernel's, a call whose buffer,
 * offset or length is not whole pages is refused; the model then moves
 * at most that many pages, by pread/pwrite (short at the end of the
 * file, as direct I/O is), which exercises how core/bulkio.c finishes
 * what a call left.  Never with the write-back cache model, which sees
 * skp_pwrite() only.
 */
static unsigned int uncached_pages;
static u64 uncached_calls;

void skp_user_set_uncached(unsigned int pages)
{
	uncached_pages = pages;
}

u64 skp_user_uncached_calls(void)
{
	return uncached_calls;
}

static size_t uncached_len(const void *buf, size_t len, u64 off)
{
	const size_t page = 4096;

	if (!uncached_pages || ((uintptr_t)buf | off | len) % page)
		return 0;
	uncached_calls++;
	return len < uncached_pages * page ? len : uncached_pages * page;
}

s64 skp_read_uncached_at(struct skp_file *file, void *buf, size_t len,
			 u64 off)
{
	size_t n = uncached_len(buf, len, off);

	return n ? skp_read_at(file, buf, n, off) : -EOPNOTSUPP;
}

s64 skp_write_uncached_at(struct skp_file *file, const void *buf,
			  size_t len, u64 off)
{
	size_t n = uncached_len(buf, len, off);

	return n ? skp_write_at(file, buf, n, off) : -EOPNOTSUPP;
}

static u64 flushes;

u64 skp_user_flushes(void)
{
	return flushes;
}

int skp_flush(struct skp_file *file)
{
	mutation_point();
	flushes++;
	if (nosync)
		return 0;
	return fdatasync(file->fd) ? -errno : 0;
}

int skp_truncate(struct skp_file *file, u64 size)
{
	mutation_point();
	return ftruncate(file->fd, size) ? -errno : 0;
}

static u64 punches;

u64 skp_user_punches(void)
{
	return punches;
}

void skp_punch(struct skp_file *file, u64 off, u64 len)
{
	mutation_point();
	punches++;
	/* best effort: where holes cannot be punched the bytes stay */
	(void)fallocate(file->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
			off, len);
}

int skp_size(struct skp_file *file, u64 *sizep)
{
	struct stat st;

	if (fstat(file->fd, &st))
		return -errno;
	*sizep = st.st_size;
	return 0;
}
