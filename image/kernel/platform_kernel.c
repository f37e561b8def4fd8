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
 * Decompression and CRC-32 are the kernel's own (zlib_inflate, crc32_le).
 */
#include <linux/crc32.h>
#include <linux/falloc.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/printk.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>
#include <linux/timekeeping.h>
#include <linux/zlib.h>

#include "../core/platform.h"

struct skp_file {
	struct file *filp;
	bool borrowed;		/* the caller's: skp_close() leaves it open */
};

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
