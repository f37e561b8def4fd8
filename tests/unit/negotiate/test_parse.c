// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests of splitkit_negotiate's strict parsers (negotiate/core/
 * parse.c, provider names in offer.c): a guest's request and selection as
 * dom0 reads them, dom0's offers as the guest reads them, and the error
 * key's text.  One row per value a hostile or buggy peer might write:
 * missing keys, signs, spaces, hex, trailing text, overflow, out of the
 * provider's range, min above max, generation 0, names with capitals or
 * too long.  Each row names the key the parser must blame.
 */
#include "ktap.h"
#include "negotiate_core.h"

#define R(str)	{ (str), (str) ? strlen(str) : 0 }

struct req_row {
	const char *res, *target, *min, *max, *gen;
	int err;
	const char *what;
};

static const struct req_row req_rows[] = {
	{ "blk.iops", "51712", "100", "500", "1", 0, NULL },
	{ "blk.bandwidth", "0", "65536", "1099511627776", "4294967295", 0,
	  NULL },
	{ "blk.iops", "2147483647", "10", "10", "7", 0, NULL },
	/* missing keys */
	{ NULL, "51712", "100", "500", "1", -ENOENT, "resource" },
	{ "blk.iops", NULL, "100", "500", "1", -ENOENT, "target" },
	{ "blk.iops", "51712", NULL, "500", "1", -ENOENT, "min" },
	{ "blk.iops", "51712", "100", NULL, "1", -ENOENT, "max" },
	{ "blk.iops", "51712", "100", "500", NULL, -ENOENT, "request-gen" },
	/* names */
	{ "blk.foo", "1", "100", "500", "1", -ENOENT, "resource" },
	{ "BLK.IOPS", "1", "100", "500", "1", -EINVAL, "resource" },
	{ "", "1", "100", "500", "1", -EINVAL, "resource" },
	{ "blk iops", "1", "100", "500", "1", -EINVAL, "resource" },
	{ "blk.iops.blk.iops.blk.iops.blk.x", "1", "100", "500", "1",
	  -EINVAL, "resource" },
	{ "blk.iops/x", "1", "100", "500", "1", -EINVAL, "resource" },
	/* target */
	{ "blk.iops", "-1", "100", "500", "1", -EINVAL, "target" },
	{ "blk.iops", "2147483648", "100", "500", "1", -ERANGE, "target" },
	{ "blk.iops", " 5", "100", "500", "1", -EINVAL, "target" },
	{ "blk.iops", "0x10", "100", "500", "1", -EINVAL, "target" },
	{ "blk.iops", "", "100", "500", "1", -EINVAL, "target" },
	/* min, max: the provider's range and min <= max */
	{ "blk.iops", "1", "9", "500", "1", -ERANGE, "min" },
	{ "blk.iops", "1", "100", "10000001", "1", -ERANGE, "max" },
	{ "blk.iops", "1", "501", "500", "1", -ERANGE, "max" },
	{ "blk.iops", "1", "18446744073709551616", "500", "1", -ERANGE,
	  "min" },
	{ "blk.iops", "1", "1e3", "500", "1", -EINVAL, "min" },
	{ "blk.iops", "1", "100", "500abc", "1", -EINVAL, "max" },
	{ "blk.iops", "1", "+100", "500", "1", -EINVAL, "min" },
	{ "blk.bandwidth", "1", "65535", "70000", "1", -ERANGE, "min" },
	/* memory: the domain itself (target 0), 64 MiB .. 1 TiB */
	{ "memory", "0", "64", "1048576", "1", 0, NULL },
	{ "memory", "1", "256", "512", "1", -ERANGE, "target" },
	{ "memory", "51712", "256", "512", "1", -ERANGE, "target" },
	{ "memory", "0", "63", "512", "1", -ERANGE, "min" },
	{ "memory", "0", "256", "1048577", "1", -ERANGE, "max" },
	/* vcpus: the domain itself (target 0), 1 .. 512 */
	{ "vcpus", "0", "1", "512", "1", 0, NULL },
	{ "vcpus", "1", "1", "2", "1", -ERANGE, "target" },
	{ "vcpus", "0", "0", "2", "1", -ERANGE, "min" },
	{ "vcpus", "0", "1", "513", "1", -ERANGE, "max" },
	{ "blk.bandwidth", "1", "65536", "1099511627777", "1", -ERANGE,
	  "max" },
	/* request-gen */
	{ "blk.iops", "1", "100", "500", "0", -ERANGE, "request-gen" },
	{ "blk.iops", "1", "100", "500", "4294967296", -ERANGE,
	  "request-gen" },
	{ "blk.iops", "1", "100", "500", "1 ", -EINVAL, "request-gen" },
};

static void request_rows(void)
{
	size_t i;

	for (i = 0; i < KTAP_ARRAY_SIZE(req_rows); i++) {
		const struct req_row *t = &req_rows[i];
		struct skn_raw_request raw = {
			R(t->res), R(t->target), R(t->min), R(t->max),
			R(t->gen),
		};
		struct skn_request r;
		const char *what = "unset";
		int err = skn_parse_request(&raw, &r, &what);

		if (err != t->err)
			ktap_fail_at(__FILE__, __LINE__, "row %zu: %d, want %d",
				     i, err, t->err);
		if (t->what ? !what || strcmp(what, t->what) :
			      what != NULL)
			ktap_fail_at(__FILE__, __LINE__,
				     "row %zu: blames %s, want %s", i,
				     what ? what : "(none)",
				     t->what ? t->what : "(none)");
	}
}

/* The parsed values of a good request, and lengths that cut a string. */
static void request_values(void)
{
	struct skn_raw_request raw = {
		R("blk.bandwidth"), R("51712"), R("65536"), R("1000000"),
		R("12"),
	};
	struct skn_request r;
	const char *what;

	KTAP_ASSERT(!skn_parse_request(&raw, &r, &what));
	KTAP_EXPECT_EQ(r.provider, SKN_P_BLK_BW);
	KTAP_EXPECT_EQ(r.target, 51712);
	KTAP_EXPECT_EQ(r.min, 65536);
	KTAP_EXPECT_EQ(r.max, 1000000);
	KTAP_EXPECT_EQ(r.gen, 12);
	/* only @len characters count: "blk.bandwidth" cut to "blk" */
	raw.resource.len = 3;
	KTAP_EXPECT_EQ(skn_parse_request(&raw, &r, &what), -ENOENT);
	raw.resource = (struct skn_raw)R("blk.iopsXYZ");
	raw.resource.len = 8;
	raw.min = (struct skn_raw)R("100");
	raw.max = (struct skn_raw)R("5009");
	raw.max.len = 3;
	KTAP_ASSERT(!skn_parse_request(&raw, &r, &what));
	KTAP_EXPECT_EQ(r.provider, SKN_P_BLK_IOPS);
	KTAP_EXPECT_EQ(r.max, 500);
	/* a NUL inside the length ends the value */
	raw.max = (struct skn_raw){ "600\0" "999", 7 };
	KTAP_ASSERT(!skn_parse_request(&raw, &r, &what));
	KTAP_EXPECT_EQ(r.max, 600);
}

struct sel_row {
	const char *gen, *index;
	int err;
	const char *what;
};

static const struct sel_row sel_rows[] = {
	{ "3", "0", 0, NULL },
	{ "4294967295", "3", 0, NULL },
	{ NULL, "0", -ENOENT, "select-gen" },
	{ "3", NULL, -ENOENT, "select" },
	{ "0", "0", -ERANGE, "select-gen" },
	{ "3", "4", -ERANGE, "select" },
	{ "3", "-1", -EINVAL, "select" },
	{ "3x", "0", -EINVAL, "select-gen" },
	{ "3", "99999999999", -EINVAL, "select" },	/* 11 digits */
	{ "3", "4294967296", -ERANGE, "select" },
};

static void select_rows(void)
{
	size_t i;

	for (i = 0; i < KTAP_ARRAY_SIZE(sel_rows); i++) {
		const struct sel_row *t = &sel_rows[i];
		struct skn_raw g = R(t->gen), x = R(t->index);
		u32 sg = 77, si = 77;
		const char *what = "unset";
		int err = skn_parse_select(&g, &x, &sg, &si, &what);

		if (err != t->err)
			ktap_fail_at(__FILE__, __LINE__, "row %zu: %d, want %d",
				     i, err, t->err);
		if (t->what ? !what || strcmp(what, t->what) : what != NULL)
			ktap_fail_at(__FILE__, __LINE__, "row %zu: blames %s",
				     i, what ? what : "(none)");
		if (err && (sg != 77 || si != 77))
			ktap_fail_at(__FILE__, __LINE__,
				     "row %zu: output written on error", i);
	}
}

struct offers_row {
	const char *gen, *for_gen, *n, *v[SKN_MAX_OFFERS];
	int err;
};

/* against a request for 100 .. 500 */
static const struct offers_row offers_rows[] = {
	{ "5", "2", "3", { "500", "375", "250" }, 0 },
	{ "5", "2", "0", { NULL }, 0 },
	{ "5", "2", "4", { "500", "400", "300", "100" }, 0 },
	{ "5", "2", "5", { "500", "400", "300", "200" }, -ERANGE },
	{ "5", "2", "2", { "500" }, -ENOENT },
	{ "5", "2", "1", { "501" }, -ERANGE },
	{ "5", "2", "1", { "99" }, -ERANGE },
	{ "5", "2", "2", { "300", "300" }, -ERANGE },
	{ "5", "2", "2", { "200", "300" }, -ERANGE },
	{ "0", "2", "1", { "300" }, -ERANGE },
	{ "5", NULL, "1", { "300" }, -ENOENT },
	{ "5", "2", "1x", { "300" }, -EINVAL },
};

static void offers_rows_test(void)
{
	static const struct skn_request req = {
		.provider = SKN_P_BLK_IOPS, .min = 100, .max = 500, .gen = 2,
	};
	size_t i, j;

	for (i = 0; i < KTAP_ARRAY_SIZE(offers_rows); i++) {
		const struct offers_row *t = &offers_rows[i];
		struct skn_raw_offers raw;
		struct skn_offers o;
		const char *what;
		int err;

		raw.gen = (struct skn_raw)R(t->gen);
		raw.for_gen = (struct skn_raw)R(t->for_gen);
		raw.n = (struct skn_raw)R(t->n);
		for (j = 0; j < SKN_MAX_OFFERS; j++)
			raw.v[j] = (struct skn_raw)R(t->v[j]);
		err = skn_parse_offers(&raw, &req, &o, &what);
		if (err != t->err)
			ktap_fail_at(__FILE__, __LINE__, "row %zu: %d, want %d",
				     i, err, t->err);
	}
}

/* blk.ring offers only powers of two: its apply sets an order */
static void offers_pow2(void)
{
	static const struct skn_request req = {
		.provider = SKN_P_BLK_RING, .min = 1, .max = 16, .gen = 2,
	};
	static const char *const vals[][2] = {
		{ "16", "8" }, { "12", "8" }, { "16", "6" }, { "4", "1" },
	};
	static const int want[] = { 0, -ERANGE, -ERANGE, 0 };
	size_t i;

	for (i = 0; i < KTAP_ARRAY_SIZE(vals); i++) {
		struct skn_raw_offers raw = {
			.gen = R("3"), .for_gen = R("2"), .n = R("2"),
			.v = { R(vals[i][0]), R(vals[i][1]) },
		};
		struct skn_offers o;
		const char *what;

		KTAP_EXPECT_EQ(skn_parse_offers(&raw, &req, &o, &what),
			       want[i]);
	}
}

static void error_text(void)
{
	char buf[SKN_ERR_MAX + 64];
	char small[8];
	char big[300];

	KTAP_EXPECT_EQ(skn_format_error(buf, sizeof(buf), -ERANGE, "max"),
		       11);
	KTAP_EXPECT(!strcmp(buf, "ERANGE: max"));
	skn_format_error(buf, sizeof(buf), -ENOSPC, NULL);
	KTAP_EXPECT(!strcmp(buf, "ENOSPC"));
	skn_format_error(buf, sizeof(buf), -EPERM, "x");
	KTAP_EXPECT(!strcmp(buf, "EIO: x"));
	/* the providers' own: a ring a frontend cannot follow, a helper killed */
	skn_format_error(buf, sizeof(buf), -EOPNOTSUPP, NULL);
	KTAP_EXPECT(!strcmp(buf, "EOPNOTSUPP"));
	skn_format_error(buf, sizeof(buf), -ETIMEDOUT, "applying");
	KTAP_EXPECT(!strcmp(buf, "ETIMEDOUT: applying"));
	KTAP_EXPECT_EQ(skn_format_error(small, sizeof(small), -ESTALE,
					"request-gen"), 7);
	KTAP_EXPECT(!strcmp(small, "ESTALE:"));
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	KTAP_EXPECT_EQ(skn_format_error(buf, sizeof(buf), -EINVAL, big),
		       SKN_ERR_MAX);
	KTAP_EXPECT_EQ(strlen(buf), SKN_ERR_MAX);
	KTAP_EXPECT_EQ(skn_format_error(buf, 0, -EINVAL, NULL), -EINVAL);
}

static const struct ktap_case cases[] = {
	KTAP_CASE(request_rows),
	KTAP_CASE(request_values),
	KTAP_CASE(select_rows),
	KTAP_CASE(offers_rows_test),
	KTAP_CASE(offers_pow2),
	KTAP_CASE(error_text),
};

KTAP_MAIN(cases)
