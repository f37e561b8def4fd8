// SPDX-License-Identifier: GPL-2.0
/*
 * splitkit portable ring core: strict parsing of peer-written XenStore
 * numbers, and bounds of peer-given page segments.
 *
 * Values such as ring-ref, event-channel, ring-page-order or a disk's
 * sectors are written by the other domain; every splitkit driver parses
 * them here (through the XenStore layer, ring/core/xs.c and ring/xs.c) and
 * never with sscanf, so a sign, spaces, trailing text or an overflowing
 * value is refused instead of being silently truncated.
 */
#include <splitkit/ring_core.h>

/*
 * Whole string as a decimal of 1 to @digits digits, at most @max.  A NUL
 * before @len ends the string.
 */
static int sk_parse_dec(const char *s, size_t len, size_t digits, u64 max,
			u64 *out)
{
	u64 v = 0;
	size_t i;

	for (i = 0; i < len && s[i]; i++) {
		u64 d;

		if (s[i] < '0' || s[i] > '9' || i >= digits)
			return -EINVAL;
		d = (u64)(s[i] - '0');
		if (v > (~0ull - d) / 10)
			return -ERANGE;
		v = v * 10 + d;
	}
	if (!i)
		return -EINVAL;
	if (v > max)
		return -ERANGE;
	*out = v;
	return 0;
}

/**
 * sk_parse_u32() - parse a whole string as a bounded decimal number.
 * @s: the characters (need not be NUL-terminated).
 * @len: number of characters; a NUL before @len ends the string.
 * @max: largest acceptable value.
 * @out: the value, written only on success.
 *
 * Accepts 1 to 10 decimal digits and nothing else.
 *
 * Return: 0, -EINVAL for anything but digits, -ERANGE above @max.
 */
int sk_parse_u32(const char *s, size_t len, u32 max, u32 *out)
{
	u64 v;
	int err = sk_parse_dec(s, len, 10, max, &v);

	if (!err)
		*out = (u32)v;
	return err;
}

/**
 * sk_parse_u64() - parse a whole string as a bounded 64-bit decimal.
 * @s: the characters (need not be NUL-terminated).
 * @len: number of characters; a NUL before @len ends the string.
 * @max: largest acceptable value.
 * @out: the value, written only on success.
 *
 * Accepts 1 to 20 decimal digits and nothing else: no sign, spaces, hex or
 * trailing text, unlike sscanf().
 *
 * Return: 0, -EINVAL for a malformed value, -ERANGE above @max (or 2^64).
 */
int sk_parse_u64(const char *s, size_t len, u64 max, u64 *out)
{
	return sk_parse_dec(s, len, 20, max, out);
}

/**
 * sk_seg_check() - validate a segment of a granted page named by the peer.
 * @off: byte offset in the page.
 * @len: length in bytes.
 * @page_size: size of a granted page.
 *
 * Used before a grant copy (ring/grant.c): a segment must be non-empty and
 * lie inside one page, whatever values the peer chose; no overflow on any
 * u32 input.
 *
 * Return: 0 or -EINVAL.
 */
int sk_seg_check(u32 off, u32 len, u32 page_size)
{
	if (!len || off >= page_size || len > page_size - off)
		return -EINVAL;
	return 0;
}
