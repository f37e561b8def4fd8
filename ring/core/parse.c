// SPDX-License-Identifier: GPL-2.0
/*
 * splitkit portable ring core: strict parsing of peer-written XenStore
 * numbers, and bounds of peer-given page segments.
 *
 * Values such as ring-ref, event-channel and ring-page-order are written by
 * the other domain; the backend (ring/channel_back.c) parses them here and
 * never with sscanf, so a sign, spaces, trailing text or an overflowing
 * value is refused instead of being silently truncated.
 */
#include <splitkit/ring_core.h>

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
	u64 v = 0;
	size_t i;

	for (i = 0; i < len && s[i]; i++) {
		if (s[i] < '0' || s[i] > '9' || i >= 10)
			return -EINVAL;
		v = v * 10 + (u64)(s[i] - '0');
	}
	if (!i)
		return -EINVAL;
	if (v > max)
		return -ERANGE;
	*out = (u32)v;
	return 0;
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
