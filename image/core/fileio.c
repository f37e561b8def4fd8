// SPDX-License-Identifier: GPL-2.0
/*
 * The portable half of the platform layer's file I/O: whole-buffer reads
 * and writes on top of the host's single-call primitives.
 *
 * skp_read_at() and skp_write_at() (platform_user.c: pread/pwrite;
 * platform_kernel.c: kernel_read/kernel_write) move what one call moves;
 * the rules every caller of the core relies on live here once: a read
 * past the end of the file reads as a hole (zeroes), short transfers are
 * continued, a write that moves nothing is an I/O error.
 */
#include "platform.h"

/**
 * skp_pread() - read @len bytes at @off, zeroes past the end of the file
 * @file: open file
 * @buf: destination
 * @len: bytes
 * @off: file offset
 *
 * Return: 0 or a negative errno.
 */
int skp_pread(struct skp_file *file, void *buf, size_t len, u64 off)
{
	u8 *p = buf;

	while (len) {
		s64 n = skp_read_at(file, p, len, off);

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

/**
 * skp_pwrite() - write @len bytes at @off
 * @file: file open for writing
 * @buf: source
 * @len: bytes
 * @off: file offset
 *
 * Return: 0 or a negative errno.
 */
int skp_pwrite(struct skp_file *file, const void *buf, size_t len, u64 off)
{
	const u8 *p = buf;

	while (len) {
		s64 n = skp_write_at(file, p, len, off);

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
