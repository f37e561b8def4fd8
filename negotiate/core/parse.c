// SPDX-License-Identifier: GPL-2.0
/*
 * splitkit_negotiate portable core: strict parsers of every value one
 * domain reads from the other's XenStore directory, and the text of the
 * error key.  dom0 parses the guest's request (slot-<n>/resource, target,
 * min, max, request-gen) and selection (select-gen, select); the guest
 * parses dom0's offers (offer-gen, offer-for, nr-offers, offer-<i>), since
 * it does not trust dom0 to stay within its request either.  Numbers go
 * through splitkit_ring's sk_parse_u32()/sk_parse_u64() (digits only);
 * the ranges are those of Documentation/negotiate.rst.  Each parser says
 * which key failed (@what) for the error message.  Fuzzed by
 * tests/unit/negotiate/fuzz_msg.c.
 */
#include <splitkit/ring_core.h>

#include "negotiate_core.h"

static int skn_u32(const struct skn_raw *r, u32 min, u32 max, u32 *out)
{
	u32 v;
	int err;

	if (!r->s)
		return -ENOENT;
	err = sk_parse_u32(r->s, r->len, max, &v);
	if (err)
		return err;
	if (v < min)
		return -ERANGE;
	*out = v;
	return 0;
}

static int skn_u64(const struct skn_raw *r, u64 min, u64 max, u64 *out)
{
	u64 v;
	int err;

	if (!r->s)
		return -ENOENT;
	err = sk_parse_u64(r->s, r->len, max, &v);
	if (err)
		return err;
	if (v < min)
		return -ERANGE;
	*out = v;
	return 0;
}

/**
 * skn_parse_request() - parse a guest's request strictly.
 * @raw: the five keys as read (absent ones with a NULL string).
 * @out: the request, written only on success.
 * @what: on failure, the key at fault.
 *
 * Every key is required; the provider must be in skn_providers[], the
 * target within the provider's, min and max within the provider's range
 * with min <= max, request-gen at least 1.
 *
 * Return: 0, -ENOENT (missing key, unknown provider), -EINVAL
 * (malformed), -ERANGE (out of range).
 */
int skn_parse_request(const struct skn_raw_request *raw,
		      struct skn_request *out, const char **what)
{
	const struct skn_provider *p;
	struct skn_request r;
	int err, id;

	*what = "resource";
	if (!raw->resource.s)
		return -ENOENT;
	id = skn_provider_find(raw->resource.s, raw->resource.len);
	if (id < 0)
		return id;
	p = &skn_providers[id];
	r.provider = (u32)id;
	*what = "target";
	err = skn_u32(&raw->target, 0, p->target_max, &r.target);
	if (err)
		return err;
	*what = "min";
	err = skn_u64(&raw->min, p->min, p->max, &r.min);
	if (err)
		return err;
	*what = "max";
	err = skn_u64(&raw->max, p->min, p->max, &r.max);
	if (err)
		return err;
	if (r.min > r.max)
		return -ERANGE;
	*what = "request-gen";
	err = skn_u32(&raw->gen, 1, 0xffffffffu, &r.gen);
	if (err)
		return err;
	*what = NULL;
	*out = r;
	return 0;
}

/**
 * skn_parse_select() - parse a guest's selection strictly.
 * @gen: select-gen as read.
 * @index: select as read.
 * @sel_gen: the generation, written only on success.
 * @sel_index: the index, written only on success.
 * @what: on failure, the key at fault.
 *
 * Only the syntax and the absolute bound (SKN_MAX_OFFERS) are checked
 * here; whether the generation is current and the index below nr-offers
 * is skn_classify_select()'s business.
 *
 * Return: 0, -ENOENT (no selection), -EINVAL, -ERANGE.
 */
int skn_parse_select(const struct skn_raw *gen, const struct skn_raw *index,
		     u32 *sel_gen, u32 *sel_index, const char **what)
{
	u32 g, i;
	int err;

	*what = "select-gen";
	err = skn_u32(gen, 1, 0xffffffffu, &g);
	if (err)
		return err;
	*what = "select";
	err = skn_u32(index, 0, SKN_MAX_OFFERS - 1, &i);
	if (err)
		return err;
	*what = NULL;
	*sel_gen = g;
	*sel_index = i;
	return 0;
}

/**
 * skn_parse_offers() - parse dom0's offers for a request, on the guest.
 * @raw: the keys as read.
 * @req: the request they should answer (its min and max bound them).
 * @out: the offers, written only on success.
 * @what: on failure, the key at fault.
 *
 * nr-offers at most SKN_MAX_OFFERS, every offer within the request's
 * min .. max and strictly decreasing, and a power of two for a pow2
 * provider.  Offers for another request-gen
 * parse fine: staleness is the state machine's to judge.
 *
 * Return: 0, -ENOENT, -EINVAL, -ERANGE.
 */
int skn_parse_offers(const struct skn_raw_offers *raw,
		     const struct skn_request *req, struct skn_offers *out,
		     const char **what)
{
	struct skn_offers o;
	u32 i;
	int err;

	memset(&o, 0, sizeof(o));
	*what = "offer-gen";
	err = skn_u32(&raw->gen, 1, 0xffffffffu, &o.gen);
	if (err)
		return err;
	*what = "offer-for";
	err = skn_u32(&raw->for_gen, 1, 0xffffffffu, &o.for_gen);
	if (err)
		return err;
	*what = "nr-offers";
	err = skn_u32(&raw->n, 0, SKN_MAX_OFFERS, &o.n);
	if (err)
		return err;
	for (i = 0; i < o.n; i++) {
		*what = "offer";
		err = skn_u64(&raw->v[i], req->min, req->max, &o.v[i]);
		if (err)
			return err;
		if (i && o.v[i] >= o.v[i - 1])
			return -ERANGE;
		if (req->provider < SKN_NR_PROVIDERS &&
		    skn_providers[req->provider].pow2 &&
		    (o.v[i] & (o.v[i] - 1)))
			return -ERANGE;
	}
	*what = NULL;
	*out = o;
	return 0;
}

/* errno names used in slot-<n>/error; a table, not a switch */
static const struct {
	int err;
	const char *name;
} skn_errnos[] = {
	{ EINVAL, "EINVAL" },
	{ ERANGE, "ERANGE" },
	{ ENOENT, "ENOENT" },
	{ ESTALE, "ESTALE" },
	{ ENOSPC, "ENOSPC" },
	{ EBUSY, "EBUSY" },
	{ ENODEV, "ENODEV" },
	{ EIO, "EIO" },
	{ EOPNOTSUPP, "EOPNOTSUPP" },
	{ ETIMEDOUT, "ETIMEDOUT" },
};

/**
 * skn_errno_name() - the name of an error, as written to XenStore.
 * @err: a negative errno.
 *
 * Return: e.g. "ERANGE"; "EIO" for any error not in the table.
 */
const char *skn_errno_name(int err)
{
	size_t i;

	for (i = 0; i < sizeof(skn_errnos) / sizeof(skn_errnos[0]); i++)
		if (skn_errnos[i].err == -err)
			return skn_errnos[i].name;
	return "EIO";
}

/**
 * skn_format_error() - the value of slot-<n>/error.
 * @buf: output.
 * @size: its size; the text is cut to fit (and to SKN_ERR_MAX).
 * @err: negative errno.
 * @what: the key or condition at fault, or NULL.
 *
 * Return: the length written (without the NUL), or -EINVAL if @size is 0.
 */
int skn_format_error(char *buf, size_t size, int err, const char *what)
{
	const char *name = skn_errno_name(err);
	size_t n = 0, lim;

	if (!size)
		return -EINVAL;
	lim = size - 1 < SKN_ERR_MAX ? size - 1 : SKN_ERR_MAX;
	while (*name && n < lim)
		buf[n++] = *name++;
	if (what) {
		if (n < lim)
			buf[n++] = ':';
		if (n < lim)
			buf[n++] = ' ';
		while (*what && n < lim)
			buf[n++] = *what++;
	}
	buf[n] = '\0';
	return (int)n;
}
