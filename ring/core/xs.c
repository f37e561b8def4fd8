// SPDX-License-Identifier: GPL-2.0
/*
 * splitkit portable ring core: the XenStore layer's decisions, as plain C
 * the host unit tests run (tests/unit/ring/test_xs.c).
 *
 * A driver describes its keys in a table of struct sk_xs_key (name, type,
 * range, default, who writes it, where the value lives in its struct).
 * sk_xs_key_apply() turns what XenStore holds for one key (or its absence)
 * into the field's value, strictly: a number goes through ring/core/parse.c
 * and must lie in [min, max], a string's length too.  sk_xs_key_format()
 * spells a value for writing.  sk_xs_queues() is the one rule that splits
 * the peer's queue limit into event-driven and polled channels.  The kernel
 * half (ring/xs.c) only moves strings in and out of XenStore.
 */
#include <splitkit/ring_core.h>

static void sk_xs_store(const struct sk_xs_key *k, void *base, u64 v)
{
	u8 *field = (u8 *)base + k->offset;

	switch (k->type) {
	case SK_XS_U32:
		*(u32 *)field = (u32)v;
		break;
	case SK_XS_U64:
		*(u64 *)field = v;
		break;
	case SK_XS_BOOL:
		*(bool *)field = v != 0;
		break;
	case SK_XS_STR:
		field[0] = '\0';
		break;
	}
}

static int sk_xs_parse_str(const struct sk_xs_key *k, const char *val,
			   size_t len, void *base)
{
	char *field = (char *)base + k->offset;
	size_t n = 0;

	while (n < len && val[n])
		n++;
	if (n < k->min || n > k->max)
		return -ERANGE;
	memcpy(field, val, n);
	field[n] = '\0';
	return 0;
}

static int sk_xs_parse(const struct sk_xs_key *k, const char *val,
		       size_t len, void *base)
{
	u64 v;
	int err;

	if (k->type == SK_XS_STR)
		return sk_xs_parse_str(k, val, len, base);
	if (k->type == SK_XS_U64)
		err = sk_parse_u64(val, len, k->max, &v);
	else if (k->max > 0xffffffffull)
		return -EINVAL;	/* a table bug: u32 and bool are 32-bit */
	else {
		u32 v32;

		err = sk_parse_u32(val, len, (u32)k->max, &v32);
		v = v32;
	}
	if (err)
		return err;
	if (v < k->min)
		return -ERANGE;
	sk_xs_store(k, base, v);
	return 0;
}

/**
 * sk_xs_key_apply() - set a key's field from what XenStore holds.
 * @k: the key.
 * @val: its value (need not be NUL-terminated), or NULL if absent.
 * @len: characters in @val; a NUL before @len ends it.
 * @base: the driver struct the key's @offset points into.
 *
 * Return: 0 (the value was read); SK_XS_ABSENT (absent, default stored);
 * SK_XS_REJECTED (malformed or out of range, SK_XS_LENIENT: default
 * stored); -ENOENT (absent and SK_XS_REQUIRED); -EINVAL (malformed) or
 * -ERANGE (out of range), the field untouched.
 */
int sk_xs_key_apply(const struct sk_xs_key *k, const char *val, size_t len,
		    void *base)
{
	int err;

	if (!val) {
		if (k->flags & SK_XS_REQUIRED)
			return -ENOENT;
		sk_xs_store(k, base, k->def);
		return SK_XS_ABSENT;
	}
	err = sk_xs_parse(k, val, len, base);
	if (err && (k->flags & SK_XS_LENIENT)) {
		sk_xs_store(k, base, k->def);
		return SK_XS_REJECTED;
	}
	return err;
}

/**
 * sk_xs_key_format() - spell a key's field for XenStore.
 * @k: the key.
 * @base: the driver struct.
 * @buf: output, NUL-terminated.
 * @size: bytes of @buf (21 hold any number).
 *
 * Return: characters written (without the NUL), -ERANGE if the value is
 * outside the key's range (we never write what we would refuse to read),
 * -ENOSPC if @buf is too small.
 */
int sk_xs_key_format(const struct sk_xs_key *k, const void *base, char *buf,
		     size_t size)
{
	const u8 *field = (const u8 *)base + k->offset;
	char digits[20];
	size_t n = 0, i;
	u64 v;

	switch (k->type) {
	case SK_XS_STR:
		n = strnlen((const char *)field, k->max + 1);
		if (n < k->min || n > k->max)
			return -ERANGE;
		if (n >= size)
			return -ENOSPC;
		memcpy(buf, field, n);
		buf[n] = '\0';
		return (int)n;
	case SK_XS_U32:
		v = *(const u32 *)field;
		break;
	case SK_XS_U64:
		v = *(const u64 *)field;
		break;
	default:
		v = *(const bool *)field ? 1 : 0;
		break;
	}
	if (v < k->min || v > k->max)
		return -ERANGE;
	do {
		digits[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	if (n >= size)
		return -ENOSPC;
	for (i = 0; i < n; i++)
		buf[i] = digits[n - 1 - i];
	buf[n] = '\0';
	return (int)n;
}

/**
 * sk_xs_queues() - how many event-driven and polled channels to set up.
 * @peer_max: the peer's multi-queue-max-queues (1 if absent).
 * @max_total: most channels the driver takes in all.
 * @want_event: event-driven channels the driver would like.
 * @want_polled: polled channels the driver would like.
 * @nr_event: event-driven channels to set up, at least 1.
 * @nr_polled: polled channels to set up (after the event-driven ones).
 *
 * The peer's limit is clamped to [1, @max_total]; polled channels get what
 * is left after one event-driven channel, event-driven ones the rest.
 *
 * Return: 0, or -EINVAL if @max_total or @want_event is 0.
 */
int sk_xs_queues(u32 peer_max, u32 max_total, u32 want_event,
		 u32 want_polled, u32 *nr_event, u32 *nr_polled)
{
	u32 limit;

	if (!max_total || !want_event)
		return -EINVAL;
	limit = peer_max < 1 ? 1 : peer_max > max_total ? max_total : peer_max;
	*nr_polled = want_polled < limit - 1 ? want_polled : limit - 1;
	*nr_event = want_event < limit ? want_event : limit;
	if (*nr_event + *nr_polled > limit)
		*nr_event = limit - *nr_polled;
	return 0;
}
