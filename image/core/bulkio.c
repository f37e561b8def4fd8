// SPDX-License-Identifier: GPL-2.0
/*
 * The long operations' bulk copies (platform.h): the host's uncached
 * primitive first, and what it did not move through skp_pread() and
 * skp_pwrite().  Apart from fileio.c on purpose: the unit tests' write-back
 * cache model wraps skp_pwrite() at link time, which reaches only calls
 * that cross an object file, so a bulk write that falls back must call it
 * from here to be seen by the model.
 */
#include "platform.h"

/**
 * skp_pread_bulk() - skp_pread() of a long operation's copy
 * @file: open file
 * @buf: destination
 * @len: bytes
 * @off: file offset
 *
 * Without the host's page cache where skp_read_uncached_at() can (see
 * platform.h); what it does not move (past the end of the file, a short
 * transfer, a host that cannot) is read by skp_pread().
 *
 * Return: 0 or a negative errno.
 */
int skp_pread_bulk(struct skp_file *file, void *buf, size_t len, u64 off)
{
	s64 n = skp_read_uncached_at(file, buf, len, off);

	if (n == -EOPNOTSUPP)
		n = 0;
	if (n < 0)
		return n;
	if ((u64)n >= len)
		return 0;
	return skp_pread(file, (u8 *)buf + n, len - n, off + n);
}

/**
 * skp_pwrite_bulk() - skp_pwrite() of a long operation's copy
 * @file: file open for writing
 * @buf: source
 * @len: bytes
 * @off: file offset
 *
 * As skp_pread_bulk(), the other way.  Return: 0 or a negative errno.
 */
int skp_pwrite_bulk(struct skp_file *file, const void *buf, size_t len,
		    u64 off)
{
	s64 n = skp_write_uncached_at(file, buf, len, off);

	if (n == -EOPNOTSUPP)
		n = 0;
	if (n < 0)
		return n;
	if ((u64)n >= len)
		return 0;
	return skp_pwrite(file, (const u8 *)buf + n, len - n, off + n);
}
