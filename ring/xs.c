// SPDX-License-Identifier: GPL-2.0
/*
 * splitkit_ring XenStore helpers: read one peer-written number.
 *
 * xenbus_scanf() would accept "12abc", "-1" or " 7"; a malicious or buggy
 * peer's value goes through sk_parse_u32() instead, which refuses anything
 * but a bounded decimal.  Used by ring/back.c and ring/front.c.
 */
#include <linux/err.h>
#include <linux/slab.h>
#include <xen/xenbus.h>

#include <splitkit/ring_core.h>

#include "xs.h"

/**
 * sk_xs_read_u32() - read a bounded decimal from XenStore.
 * @dir: directory.
 * @node: key.
 * @max: largest acceptable value.
 * @def: value if the key does not exist.
 * @out: the value.
 *
 * Return: 0, -EINVAL / -ERANGE for a malformed or too large value, or the
 * xenbus error.
 */
int sk_xs_read_u32(const char *dir, const char *node, u32 max, u32 def,
		   u32 *out)
{
	unsigned int len;
	char *s;
	int err;

	s = xenbus_read(XBT_NIL, dir, node, &len);
	if (IS_ERR(s)) {
		err = PTR_ERR(s);
		if (err != -ENOENT)
			return err;
		*out = def;
		return 0;
	}
	err = sk_parse_u32(s, len, max, out);
	kfree(s);
	return err;
}
