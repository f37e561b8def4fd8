// SPDX-License-Identifier: GPL-2.0
/*
 * Kernel implementation of the image engine's platform layer.
 *
 * The counterpart of image/user/platform_user.c: the same functions over
 * kvzalloc, printk and VFS file I/O (kernel_read/kernel_write, vfs_fsync,
 * vfs_truncate), so image/core/ links unchanged into splitkit_back.  Until
 * that integration lands, image/kernel/Kbuild builds the core with this file
 * as a stand-alone module purely to prove that it compiles cleanly (W=1)
 * against every installed kernel; tests/image/phase.sh runs that build.
 */
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/printk.h>
#include <linux/slab.h>
#include <linux/timekeeping.h>

#include "../core/platform.h"

struct skp_file {
	struct file *filp;
};

void *skp_zalloc(size_t size)
{
	return kvzalloc(size ? size : 1, GFP_KERNEL);
}

void skp_free(void *ptr)
{
	kvfree(ptr);
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
	printk("%ssplitkit_img: %pV\n", prefixes[level], &vaf);
	va_end(ap);
}

static int wrap_filp(struct file *filp, struct skp_file **filep)
{
	struct skp_file *file;

	if (IS_ERR(filp))
		return PTR_ERR(filp);
	file = kzalloc(sizeof(*file), GFP_KERNEL);
	if (!file) {
		filp_close(filp, NULL);
		return -ENOMEM;
	}
	file->filp = filp;
	*filep = file;
	return 0;
}

int skp_open(const char *path, bool writable, struct skp_file **filep)
{
	return wrap_filp(filp_open(path, (writable ? O_RDWR : O_RDONLY) |
				   O_LARGEFILE, 0), filep);
}

int skp_create(const char *path, struct skp_file **filep)
{
	return wrap_filp(filp_open(path, O_RDWR | O_CREAT | O_EXCL |
				   O_LARGEFILE, 0600), filep);
}

void skp_close(struct skp_file *file)
{
	if (!file)
		return;
	filp_close(file->filp, NULL);
	kfree(file);
}

int skp_pread(struct skp_file *file, void *buf, size_t len, u64 off)
{
	u8 *p = buf;

	while (len) {
		loff_t pos = off;
		ssize_t n = kernel_read(file->filp, p, len, &pos);

		if (n < 0)
			return n;
		if (n == 0) {
			memset(p, 0, len);	/* past EOF reads as a hole */
			return 0;
		}
		p += n;
		off += n;
		len -= n;
	}
	return 0;
}

int skp_pwrite(struct skp_file *file, const void *buf, size_t len, u64 off)
{
	const u8 *p = buf;

	while (len) {
		loff_t pos = off;
		ssize_t n = kernel_write(file->filp, p, len, &pos);

		if (n < 0)
			return n;
		if (n == 0)
			return -EIO;
		p += n;
		off += n;
		len -= n;
	}
	return 0;
}

int skp_flush(struct skp_file *file)
{
	return vfs_fsync(file->filp, 1);
}

int skp_truncate(struct skp_file *file, u64 size)
{
	return vfs_truncate(&file->filp->f_path, size);
}

int skp_size(struct skp_file *file, u64 *sizep)
{
	*sizep = i_size_read(file_inode(file->filp));
	return 0;
}

MODULE_DESCRIPTION("splitkit image engine core (build check)");
MODULE_LICENSE("GPL");
