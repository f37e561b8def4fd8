// SPDX-License-Identifier: GPL-2.0
/*
 * splitkit_ring XenStore layer: the one place splitkit drivers read and
 * write XenStore keys.  Strict readers of one key (u32, u64, bool, string
 * with a length range), key tables read and written in one call, and the
 * transaction-retry helper.  The decisions (ranges, defaults, spelling) are
 * the portable ring/core/xs.c and ring/core/parse.c, unit-tested and
 * fuzzed; this file only moves strings to and from XenStore and reports.
 *
 * xenbus_scanf() would accept "12abc", "-1" or " 7"; a malicious or buggy
 * peer's value goes through the strict parser instead.  Users: ring/front.c,
 * ring/back.c, frontend/xenbus.c, backend/xenbus.c, the test modules.
 */
#include <linux/err.h>
#include <linux/slab.h>
#include <xen/xenbus.h>

#include <splitkit/export.h>
#include <splitkit/ring.h>

/* The parser's value is checked against the key's range by the core. */
static int sk_xs_read_num(const char *dir, const char *node, u8 type,
			  u64 max, u64 def, void *out)
{
	const struct sk_xs_key k = {
		.name = node, .type = type, .max = max, .def = def,
	};
	unsigned int len;
	char *s;
	int err;

	s = xenbus_read(XBT_NIL, dir, node, &len);
	if (IS_ERR(s)) {
		if (PTR_ERR(s) != -ENOENT)
			return PTR_ERR(s);
		s = NULL;
	}
	err = sk_xs_key_apply(&k, s, s ? len : 0, out);
	kfree(s);
	return err < 0 ? err : 0;
}

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
	return sk_xs_read_num(dir, node, SK_XS_U32, max, def, out);
}
SPLITKIT_EXPORT(sk_xs_read_u32);

/**
 * sk_xs_read_u64() - read a bounded 64-bit decimal from XenStore.
 * @dir: directory.
 * @node: key.
 * @max: largest acceptable value.
 * @def: value if the key does not exist.
 * @out: the value.
 *
 * Return: 0, -EINVAL / -ERANGE for a malformed or too large value, or the
 * xenbus error.
 */
int sk_xs_read_u64(const char *dir, const char *node, u64 max, u64 def,
		   u64 *out)
{
	return sk_xs_read_num(dir, node, SK_XS_U64, max, def, out);
}
SPLITKIT_EXPORT(sk_xs_read_u64);

/**
 * sk_xs_read_bool() - read a feature flag from XenStore.
 * @dir: directory.
 * @node: key.
 * @def: value if the key does not exist.
 * @out: true if the key holds a number other than 0.
 *
 * Return: 0, -EINVAL / -ERANGE for a value that is not a u32, or the
 * xenbus error.
 */
int sk_xs_read_bool(const char *dir, const char *node, bool def, bool *out)
{
	return sk_xs_read_num(dir, node, SK_XS_BOOL, U32_MAX, def, out);
}
SPLITKIT_EXPORT(sk_xs_read_bool);

/**
 * sk_xs_read_str() - read a string of bounded length from XenStore.
 * @dir: directory.
 * @node: key.
 * @max_len: longest acceptable value.
 *
 * Return: the NUL-terminated value (kfree() it), or an ERR_PTR(): -ENOENT
 * if absent, -ERANGE if longer than @max_len, or the xenbus error.
 */
char *sk_xs_read_str(const char *dir, const char *node, size_t max_len)
{
	unsigned int len;
	char *s;

	s = xenbus_read(XBT_NIL, dir, node, &len);
	if (IS_ERR(s))
		return s;
	if (strnlen(s, len) > max_len) {
		kfree(s);
		return ERR_PTR(-ERANGE);
	}
	return s;
}
SPLITKIT_EXPORT(sk_xs_read_str);

/**
 * sk_xs_read_keys() - read a key table from one directory.
 * @dev: device the messages are about.
 * @dir: directory (usually @dev->otherend).
 * @keys: the table.
 * @n: entries in @keys.
 * @base: the struct the keys' offsets point into.
 * @present: optional; bit i set if @keys[i] was read (not defaulted).
 *
 * A lenient key whose value is malformed or out of range gets its default
 * and a warning; any other bad value stops the read.
 *
 * Return: 0, or the first error (-ENOENT for a missing required key,
 * -EINVAL / -ERANGE for a bad value, a xenbus error), logged as a
 * malicious or buggy peer's.
 */
int sk_xs_read_keys(struct xenbus_device *dev, const char *dir,
		    const struct sk_xs_key *keys, unsigned int n, void *base,
		    u64 *present)
{
	unsigned int i, len;
	char *s;
	int r;

	if (present)
		*present = 0;
	for (i = 0; i < n; i++) {
		s = xenbus_read(XBT_NIL, dir, keys[i].name, &len);
		if (IS_ERR(s)) {
			if (PTR_ERR(s) != -ENOENT)
				return PTR_ERR(s);
			s = NULL;
		}
		r = sk_xs_key_apply(&keys[i], s, s ? len : 0, base);
		kfree(s);
		if (r == SK_XS_REJECTED)
			dev_warn(&dev->dev,
				 "malicious or buggy peer: bad value of %s, using %llu\n",
				 keys[i].name, keys[i].def);
		if (r < 0) {
			dev_err(&dev->dev,
				"malicious or buggy peer: %s value of %s\n",
				r == -ENOENT ? "no" : "bad", keys[i].name);
			return r;
		}
		if (!r && present && i < 64)
			*present |= BIT_ULL(i);
	}
	return 0;
}
SPLITKIT_EXPORT(sk_xs_read_keys);

/**
 * sk_xs_write_keys() - write the keys of a table that we own.
 * @xbt: transaction (or XBT_NIL).
 * @dir: our directory.
 * @self: which writer we are (enum sk_xs_owner).
 * @keys: the table.
 * @n: entries in @keys.
 * @base: the struct the keys' offsets point into.
 * @mask: bit i set: write @keys[i] (keys that do not apply stay unwritten).
 *
 * Return: 0, -EINVAL for a key another writer owns (a table bug), -ERANGE
 * for a value outside its key's range, or the xenbus error (-EAGAIN: the
 * transaction must be restarted).
 */
int sk_xs_write_keys(struct xenbus_transaction xbt, const char *dir,
		     unsigned int self, const struct sk_xs_key *keys,
		     unsigned int n, const void *base, u64 mask)
{
	char val[64];
	unsigned int i;
	int r;

	for (i = 0; i < n && i < 64; i++) {
		if (!(mask & BIT_ULL(i)))
			continue;
		if (WARN_ON_ONCE(keys[i].owner != self))
			return -EINVAL;
		r = sk_xs_key_format(&keys[i], base, val, sizeof(val));
		if (r < 0)
			return r;
		r = xenbus_write(xbt, dir, keys[i].name, val);
		if (r)
			return r;
	}
	return 0;
}
SPLITKIT_EXPORT(sk_xs_write_keys);

/**
 * sk_xs_rm() - remove a key that may be left from an earlier connection.
 * @xbt: transaction.
 * @dir: directory.
 * @node: key.
 *
 * Return: 0 (also if it did not exist) or the xenbus error.
 */
int sk_xs_rm(struct xenbus_transaction xbt, const char *dir, const char *node)
{
	int err = xenbus_rm(xbt, dir, node);

	return err == -ENOENT ? 0 : err;
}
SPLITKIT_EXPORT(sk_xs_rm);

/**
 * sk_xs_transact() - run @fn in a XenStore transaction, retried on -EAGAIN.
 * @fn: writes its keys in the transaction; returns 0 or -errno.
 * @arg: passed to @fn.
 *
 * @fn may run several times (XenStore restarts a transaction that raced
 * another writer), so it must do nothing outside the transaction; what it
 * reads in it is read again on each run, and a key it read that another
 * writer changed makes XenStore restart it.  An error from @fn aborts
 * the transaction.
 *
 * Return: 0, @fn's error, or the xenbus error.
 */
int sk_xs_transact(int (*fn)(struct xenbus_transaction xbt, void *arg),
		   void *arg)
{
	struct xenbus_transaction xbt;
	int err;

	do {
		err = xenbus_transaction_start(&xbt);
		if (err)
			return err;
		err = fn(xbt, arg);
		if (err) {
			xenbus_transaction_end(xbt, 1);
			return err;
		}
		err = xenbus_transaction_end(xbt, 0);
	} while (err == -EAGAIN);
	return err;
}
SPLITKIT_EXPORT(sk_xs_transact);

/*
 * The portable parsers themselves (ring/core/parse.c carries no kernel
 * export macros), for a driver that parses a value it did not read from
 * XenStore, such as the id at the end of its device path.
 */
SPLITKIT_EXPORT(sk_parse_u32);
SPLITKIT_EXPORT(sk_parse_u64);
