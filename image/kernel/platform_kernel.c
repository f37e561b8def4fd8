// SPDX-License-Identifier: GPL-2.0
/*
 * Kernel implementation of the image engine's platform layer.
 *
 * The counterpart of image/user/platform_user.c: the same functions over
 * kvzalloc, printk and VFS file I/O (kernel_read/kernel_write, vfs_fsync,
 * vfs_truncate), so image/core/ builds unchanged into splitkit_image.ko
 * (image/Kbuild; main.c exports it).  A file is either opened here by path
 * (and closed by skp_close()) or borrowed from a caller that already holds
 * a struct file (skp_file_from_filp(): splitkit_back), which keeps it.
 * Decompression, CRC-32 and sorting are the kernel's own (zlib_inflate,
 * crc32_le, sort).
 *
 * The long operations' bulk copies (skp_read_uncached_at(),
 * skp_write_uncached_at()) are direct I/O: a second struct file of the same
 * path, opened with O_DIRECT when first needed (dentry_open() of the
 * file's f_path, never by name), and one synchronous kiocb over the pages
 * of the caller's buffer.  The kernel's own rules keep it coherent with the
 * page cache the engine's other I/O goes through (dirty pages of the range
 * written back before, the range's cached pages dropped after a write);
 * whole pages only, so no page holds bytes of the copy and something else.
 * Parameter bulk_direct turns it off; bulk_direct_bytes counts what it
 * moved.
 */
#include <linux/atomic.h>
#include <linux/bvec.h>
#include <linux/crc32.h>
#include <linux/falloc.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/printk.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>
#include <linux/sort.h>
#include <linux/timekeeping.h>
#include <linux/uio.h>
#include <linux/vmalloc.h>
#include <linux/zlib.h>
#include <splitkit/param.h>
#include <splitkit/vfs.h>

#include "../core/platform.h"

struct skp_file {
	struct file *filp;
	bool borrowed;		/* the caller's: skp_close() leaves it open */
	/*
	 * The O_DIRECT twin of @filp for bulk copies: NULL until first
	 * needed, then the file or an ERR_PTR() (none to be had); set once
	 * (cmpxchg), put by skp_close().
	 */
	struct file *direct;
};

static bool bulk_direct = true;
module_param(bulk_direct, bool, 0644);
MODULE_PARM_DESC(bulk_direct,
		 "Online operations copy clusters with direct I/O, not through the page cache (default: Y)");

static atomic64_t bulk_direct_bytes = ATOMIC64_INIT(0);

static int bulk_bytes_get(char *buf, const struct kernel_param *kp)
{
	return sysfs_emit(buf, "%lld\n",
			  (long long)atomic64_read(&bulk_direct_bytes));
}

static const struct kernel_param_ops bulk_bytes_ops = {
	.set = sk_param_set_readonly,
	.get = bulk_bytes_get,
};
module_param_cb(bulk_direct_bytes, &bulk_bytes_ops, NULL, 0444);
MODULE_PARM_DESC(bulk_direct_bytes,
		 "Bytes the online operations' copies moved with direct I/O");

/* SKP_ALLOC_IO: no I/O to reclaim memory for it (GFP_NOIO scope). */
void *skp_zalloc_flags(size_t size, unsigned int flags)
{
	unsigned int noio;
	void *ptr;

	if (!(flags & SKP_ALLOC_IO))
		return kvzalloc(size ? size : 1, GFP_KERNEL);
	noio = memalloc_noio_save();
	ptr = kvzalloc(size ? size : 1, GFP_KERNEL | __GFP_NOWARN);
	memalloc_noio_restore(noio);
	return ptr;
}

void skp_free(void *ptr)
{
	kvfree(ptr);
}

int skp_inflate(const u8 *src, size_t src_len, u8 *dst, size_t dst_len)
{
	struct z_stream_s zs = {};
	int ret;

	if (src_len > UINT_MAX || dst_len > UINT_MAX)
		return -EINVAL;
	/* Tens of KiB: compressed clusters are rare, so not kept around. */
	zs.workspace = kvmalloc(zlib_inflate_workspacesize(), GFP_KERNEL);
	if (!zs.workspace)
		return -ENOMEM;
	ret = zlib_inflateInit2(&zs, -MAX_WBITS);
	if (ret == Z_OK) {
		zs.next_in = src;
		zs.avail_in = src_len;
		zs.next_out = dst;
		zs.avail_out = dst_len;
		ret = zlib_inflate(&zs, Z_FINISH);
		zlib_inflateEnd(&zs);
	}
	kvfree(zs.workspace);
	return skp_inflate_verdict(ret == Z_MEM_ERROR, ret == Z_OK ||
				   ret == Z_STREAM_END || ret == Z_BUF_ERROR,
				   zs.avail_out);
}

u32 skp_crc32(const void *data, size_t len)
{
	return crc32_le(~0U, data, len) ^ ~0U;
}

static int skp_cmp_u64(const void *a, const void *b)
{
	u64 x = *(const u64 *)a, y = *(const u64 *)b;

	return x < y ? -1 : x > y;
}

void skp_sort_u64(u64 *v, size_t n)
{
	sort(v, n, sizeof(*v), skp_cmp_u64, NULL);
}

u64 skp_time(void)
{
	return ktime_get_real_seconds();
}

void skp_log(int level, const char *fmt, ...)
{
	static const char *const prefixes[] = {
		KERN_ERR, KERN_WARNING, KERN_INFO };
	struct va_format vaf;
	va_list ap;

	if (level < SKP_LOG_ERR || level > SKP_LOG_INFO)
		level = SKP_LOG_INFO;
	va_start(ap, fmt);
	vaf.fmt = fmt;
	vaf.va = &ap;
	printk("%ssplitkit_image: %pV\n", prefixes[level], &vaf);
	va_end(ap);
}

static int wrap_filp(struct file *filp, bool borrowed,
		     struct skp_file **filep)
{
	struct skp_file *file;

	if (IS_ERR(filp))
		return PTR_ERR(filp);
	file = kzalloc(sizeof(*file), GFP_KERNEL);
	if (!file) {
		if (!borrowed)
			filp_close(filp, NULL);
		return -ENOMEM;
	}
	file->filp = filp;
	file->borrowed = borrowed;
	*filep = file;
	return 0;
}

int skp_open(const char *path, bool writable, struct skp_file **filep)
{
	return wrap_filp(filp_open(path, (writable ? O_RDWR : O_RDONLY) |
				   O_LARGEFILE, 0), false, filep);
}

int skp_create(const char *path, struct skp_file **filep)
{
	return wrap_filp(filp_open(path, O_RDWR | O_CREAT | O_EXCL |
				   O_LARGEFILE, 0600), false, filep);
}

/**
 * skp_file_from_filp() - wrap a struct file the caller holds for the core
 * @filp: open file; the caller keeps its reference and must keep it open
 *	until the wrapper is closed
 * @filep: set to the wrapper, for ski_open_file()
 *
 * Return: 0 or -ENOMEM.
 */
int skp_file_from_filp(struct file *filp, struct skp_file **filep)
{
	return wrap_filp(filp, true, filep);
}

/**
 * skp_file_filp() - the struct file a wrapper stands for
 * @file: wrapper
 *
 * For splitkit_back, to open the same file again with O_DIRECT
 * (dentry_open() of its f_path: never by name, which another file may
 * have taken since).  Return: the file; the wrapper keeps its reference.
 */
struct file *skp_file_filp(struct skp_file *file)
{
	return file->filp;
}

/**
 * skp_close() - release a file wrapper (and the file, unless borrowed)
 * @file: wrapper, or NULL
 */
void skp_close(struct skp_file *file)
{
	if (!file)
		return;
	if (!IS_ERR_OR_NULL(file->direct))
		fput(file->direct);
	if (!file->borrowed)
		filp_close(file->filp, NULL);
	kfree(file);
}

s64 skp_read_at(struct skp_file *file, void *buf, size_t len, u64 off)
{
	loff_t pos = off;

	return kernel_read(file->filp, buf, len, &pos);
}

s64 skp_write_at(struct skp_file *file, const void *buf, size_t len, u64 off)
{
	loff_t pos = off;

	return kernel_write(file->filp, buf, len, &pos);
}

/* The O_DIRECT twin of @file, opened on first use; NULL if none. */
static struct file *skp_direct_file(struct skp_file *file)
{
	struct file *f = READ_ONCE(file->direct), *old;
	int flags = (file->filp->f_flags & O_ACCMODE) | O_LARGEFILE | O_DIRECT;

	if (f)
		return IS_ERR(f) ? NULL : f;
	f = dentry_open(&file->filp->f_path, flags, current_cred());
	if (!IS_ERR(f) && !(f->f_mode & FMODE_CAN_ODIRECT)) {
		fput(f);
		f = ERR_PTR(-EOPNOTSUPP);
	}
	old = cmpxchg(&file->direct, NULL, f);
	if (old) {
		if (!IS_ERR(f))
			fput(f);
		f = old;
	}
	return IS_ERR(f) ? NULL : f;
}

/*
 * One direct read or write of [@off, @off + @len) on the pages of @buf.
 * Whole pages at page-aligned addresses and offsets only (the host
 * device's logical block is a page or less wherever a page-aligned range
 * will not do, and direct I/O refuses it with -EINVAL, taken as "cannot").
 * Return: bytes moved, -EOPNOTSUPP where it cannot, or -errno.
 */
static s64 skp_uncached_rw(struct skp_file *file, void *buf, size_t len,
			   u64 off, bool write)
{
	unsigned int nr = len >> PAGE_SHIFT, i;
	struct iov_iter iter;
	struct bio_vec *bv;
	struct kiocb kiocb;
	struct file *f;
	ssize_t ret;

	if (!READ_ONCE(bulk_direct) || !nr || offset_in_page(buf) ||
	    offset_in_page(off) || offset_in_page(len))
		return -EOPNOTSUPP;
	f = skp_direct_file(file);
	if (!f)
		return -EOPNOTSUPP;
	bv = kvmalloc_array(nr, sizeof(*bv), GFP_KERNEL | __GFP_NOWARN);
	if (!bv)
		return -EOPNOTSUPP;
	for (i = 0; i < nr; i++) {
		void *p = buf + ((size_t)i << PAGE_SHIFT);

		bv[i].bv_page = is_vmalloc_addr(p) ? vmalloc_to_page(p) :
						     virt_to_page(p);
		bv[i].bv_offset = 0;
		bv[i].bv_len = PAGE_SIZE;
	}
	iov_iter_bvec(&iter, write ? WRITE : READ, bv, nr, len);
	init_sync_kiocb(&kiocb, f);
	kiocb.ki_pos = off;
	if (write) {
		if (!SK_VFS_TAKES_FREEZE)
			file_start_write(f);
		ret = vfs_iocb_iter_write(f, &kiocb, &iter);
		if (!SK_VFS_TAKES_FREEZE)
			file_end_write(f);
	} else {
		ret = vfs_iocb_iter_read(f, &kiocb, &iter);
	}
	kvfree(bv);
	if (ret == -EINVAL)
		return -EOPNOTSUPP;
	if (ret > 0)
		atomic64_add(ret, &bulk_direct_bytes);
	return ret;
}

s64 skp_read_uncached_at(struct skp_file *file, void *buf, size_t len,
			 u64 off)
{
	return skp_uncached_rw(file, buf, len, off, false);
}

s64 skp_write_uncached_at(struct skp_file *file, const void *buf,
			  size_t len, u64 off)
{
	return skp_uncached_rw(file, (void *)buf, len, off, true);
}

int skp_flush(struct skp_file *file)
{
	return vfs_fsync(file->filp, 1);
}

int skp_truncate(struct skp_file *file, u64 size)
{
	return vfs_truncate(&file->filp->f_path, size);
}

void skp_punch(struct skp_file *file, u64 off, u64 len)
{
	/* best effort: where holes cannot be punched the bytes stay */
	vfs_fallocate(file->filp, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
		      off, len);
}

int skp_size(struct skp_file *file, u64 *sizep)
{
	*sizep = i_size_read(file_inode(file->filp));
	return 0;
}
