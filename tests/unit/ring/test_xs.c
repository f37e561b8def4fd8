// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests of splitkit_ring's XenStore layer, the portable part:
 * ring/core/parse.c (sk_parse_u64) and ring/core/xs.c (key tables: range,
 * defaults, required and lenient keys, spelling; the queue split).  Every
 * table row names one rule; removing a range check makes a row fail.
 */
#include <splitkit/ring_core.h>
#include "ktap.h"

struct vals {
	u32 n32;
	u64 n64;
	bool flag;
	char str[8];
};

#define KEY(type, flags, field, min, max, def)				\
	SK_XS_KEY("k", type, SK_XS_BACKEND, flags, struct vals, field,	\
		  min, max, def)

static void test_parse_u64(void)
{
	static const struct {
		const char *s;
		size_t len;
		u64 max;
		int rc;
		u64 v;
	} t[] = {
		{ "524288", 6, ~0ull, 0, 524288 },
		{ "18446744073709551615", 20, ~0ull, 0, ~0ull },
		{ "18446744073709551616", 20, ~0ull, -ERANGE, 0 },
		{ "100000000000000000000", 21, ~0ull, -EINVAL, 0 },
		{ "", 0, ~0ull, -EINVAL, 0 },
		{ "-1", 2, ~0ull, -EINVAL, 0 },
		{ " 1", 2, ~0ull, -EINVAL, 0 },
		{ "0x10", 4, ~0ull, -EINVAL, 0 },
		{ "12abc", 5, ~0ull, -EINVAL, 0 },
		{ "65536", 5, 65535, -ERANGE, 0 },
		{ "65535", 5, 65535, 0, 65535 },
		{ "7\0garbage", 9, 10, 0, 7 },
	};
	size_t i;

	for (i = 0; i < KTAP_ARRAY_SIZE(t); i++) {
		u64 v = 42;

		KTAP_EXPECT_EQ(sk_parse_u64(t[i].s, t[i].len, t[i].max, &v),
			       t[i].rc);
		KTAP_EXPECT(v == (t[i].rc ? 42 : t[i].v));
	}
}

/* sk_xs_key_apply(): one row per rule. */
static void test_key_apply(void)
{
	static const struct {
		struct sk_xs_key k;
		const char *val;	/* NULL: absent */
		int rc;
		u64 v;			/* the field afterwards */
	} t[] = {
		/* u32 in [1, 16] */
		{ KEY(SK_XS_U32, 0, n32, 1, 16, 4), "16", 0, 16 },
		{ KEY(SK_XS_U32, 0, n32, 1, 16, 4), "1", 0, 1 },
		{ KEY(SK_XS_U32, 0, n32, 1, 16, 4), "17", -ERANGE, 99 },
		{ KEY(SK_XS_U32, 0, n32, 1, 16, 4), "0", -ERANGE, 99 },
		{ KEY(SK_XS_U32, 0, n32, 1, 16, 4), "4294967296", -ERANGE, 99 },
		{ KEY(SK_XS_U32, 0, n32, 1, 16, 4), "00000000001", -EINVAL, 99 },
		{ KEY(SK_XS_U32, 0, n32, 1, 16, 4), "3 ", -EINVAL, 99 },
		{ KEY(SK_XS_U32, 0, n32, 1, 16, 4), NULL, SK_XS_ABSENT, 4 },
		{ KEY(SK_XS_U32, SK_XS_REQUIRED, n32, 1, 16, 4), NULL, -ENOENT,
		  99 },
		{ KEY(SK_XS_U32, SK_XS_LENIENT, n32, 1, 16, 4), "17",
		  SK_XS_REJECTED, 4 },
		{ KEY(SK_XS_U32, SK_XS_LENIENT, n32, 1, 16, 4), "0",
		  SK_XS_REJECTED, 4 },
		{ KEY(SK_XS_U32, SK_XS_LENIENT, n32, 1, 16, 4), "x",
		  SK_XS_REJECTED, 4 },
		/* a u32 key cannot have a 64-bit range (table bug) */
		{ KEY(SK_XS_U32, 0, n32, 0, 1ull << 32, 0), "1", -EINVAL, 99 },
		/* u64 */
		{ KEY(SK_XS_U64, 0, n64, 0, ~0ull - 1, 0),
		  "18446744073709551614", 0, ~0ull - 1 },
		{ KEY(SK_XS_U64, 0, n64, 0, ~0ull - 1, 0),
		  "18446744073709551615", -ERANGE, 99 },
		{ KEY(SK_XS_U64, 0, n64, 512, ~0ull, 0), "511", -ERANGE, 99 },
		{ KEY(SK_XS_U64, 0, n64, 0, ~0ull, 7), NULL, SK_XS_ABSENT, 7 },
		/* bool: any number in range, true if not 0 */
		{ KEY(SK_XS_BOOL, 0, flag, 0, 0xffffffffu, 0), "2", 0, 1 },
		{ KEY(SK_XS_BOOL, 0, flag, 0, 0xffffffffu, 1), "0", 0, 0 },
		{ KEY(SK_XS_BOOL, 0, flag, 0, 1, 0), "2", -ERANGE, 99 },
		{ KEY(SK_XS_BOOL, 0, flag, 0, 0xffffffffu, 1), NULL,
		  SK_XS_ABSENT, 1 },
		{ KEY(SK_XS_BOOL, SK_XS_LENIENT, flag, 0, 0xffffffffu, 0), "yes",
		  SK_XS_REJECTED, 0 },
	};
	size_t i;

	for (i = 0; i < KTAP_ARRAY_SIZE(t); i++) {
		struct vals v = { .n32 = 99, .n64 = 99, .flag = true };
		u64 got;
		int rc;

		if (t[i].rc < 0 && t[i].k.type == SK_XS_BOOL)
			v.flag = true;
		rc = sk_xs_key_apply(&t[i].k, t[i].val,
				     t[i].val ? strlen(t[i].val) : 0, &v);
		if (rc != t[i].rc)
			ktap_fail_at(__FILE__, __LINE__,
				     "row %zu: rc %d, expected %d", i, rc,
				     t[i].rc);
		got = t[i].k.type == SK_XS_U32 ? v.n32 :
		      t[i].k.type == SK_XS_U64 ? v.n64 : v.flag;
		/* an error leaves the field alone (bool: still true) */
		if (t[i].rc < 0 && t[i].k.type == SK_XS_BOOL)
			KTAP_EXPECT(v.flag);
		else if (got != t[i].v)
			ktap_fail_at(__FILE__, __LINE__,
				     "row %zu: value %llu, expected %llu", i,
				     (unsigned long long)got,
				     (unsigned long long)t[i].v);
	}
}

static void test_key_str(void)
{
	static const struct sk_xs_key k =
		KEY(SK_XS_STR, 0, str, 1, 7, 0);
	static const struct sk_xs_key lk =
		KEY(SK_XS_STR, SK_XS_LENIENT, str, 1, 7, 0);
	struct vals v;

	memset(&v, 'x', sizeof(v));
	KTAP_EXPECT_EQ(sk_xs_key_apply(&k, "abcdefg", 7, &v), 0);
	KTAP_EXPECT(!strcmp(v.str, "abcdefg"));
	KTAP_EXPECT_EQ(sk_xs_key_apply(&k, "abc\0def", 7, &v), 0);
	KTAP_EXPECT(!strcmp(v.str, "abc"));
	KTAP_EXPECT_EQ(sk_xs_key_apply(&k, "abcdefgh", 8, &v), -ERANGE);
	KTAP_EXPECT(!strcmp(v.str, "abc"));	/* untouched */
	KTAP_EXPECT_EQ(sk_xs_key_apply(&k, "", 0, &v), -ERANGE);
	KTAP_EXPECT_EQ(sk_xs_key_apply(&k, NULL, 0, &v), SK_XS_ABSENT);
	KTAP_EXPECT(!strcmp(v.str, ""));
	KTAP_EXPECT_EQ(sk_xs_key_apply(&lk, "abcdefgh", 8, &v),
		       SK_XS_REJECTED);
	KTAP_EXPECT(!strcmp(v.str, ""));
}

/* sk_xs_key_format(): we never write what we would refuse to read. */
static void test_key_format(void)
{
	static const struct {
		struct sk_xs_key k;
		struct vals v;
		size_t size;
		int rc;
		const char *out;
	} t[] = {
		{ KEY(SK_XS_U32, 0, n32, 1, 16, 0), { .n32 = 16 }, 21, 2, "16" },
		{ KEY(SK_XS_U32, 0, n32, 1, 16, 0), { .n32 = 17 }, 21, -ERANGE,
		  NULL },
		{ KEY(SK_XS_U32, 0, n32, 1, 16, 0), { .n32 = 0 }, 21, -ERANGE,
		  NULL },
		{ KEY(SK_XS_U32, 0, n32, 0, 0xffffffffu, 0), { .n32 = 0 }, 21,
		  1, "0" },
		{ KEY(SK_XS_U64, 0, n64, 0, ~0ull, 0), { .n64 = ~0ull }, 21, 20,
		  "18446744073709551615" },
		{ KEY(SK_XS_U64, 0, n64, 0, ~0ull, 0), { .n64 = ~0ull }, 20,
		  -ENOSPC, NULL },
		{ KEY(SK_XS_BOOL, 0, flag, 0, 1, 0), { .flag = true }, 21, 1,
		  "1" },
		{ KEY(SK_XS_BOOL, 0, flag, 0, 1, 0), { .flag = false }, 21, 1,
		  "0" },
		{ KEY(SK_XS_STR, 0, str, 1, 7, 0), { .str = "x86_64" }, 21, 6,
		  "x86_64" },
		{ KEY(SK_XS_STR, 0, str, 1, 7, 0), { .str = "" }, 21, -ERANGE,
		  NULL },
		{ KEY(SK_XS_STR, 0, str, 1, 3, 0), { .str = "abcd" }, 21,
		  -ERANGE, NULL },
		{ KEY(SK_XS_STR, 0, str, 1, 7, 0), { .str = "abcd" }, 4,
		  -ENOSPC, NULL },
	};
	size_t i;

	for (i = 0; i < KTAP_ARRAY_SIZE(t); i++) {
		char buf[32];
		int rc;

		memset(buf, '#', sizeof(buf));
		rc = sk_xs_key_format(&t[i].k, &t[i].v, buf, t[i].size);
		if (rc != t[i].rc)
			ktap_fail_at(__FILE__, __LINE__,
				     "row %zu: rc %d, expected %d", i, rc,
				     t[i].rc);
		if (t[i].out && strcmp(buf, t[i].out))
			ktap_fail_at(__FILE__, __LINE__,
				     "row %zu: \"%.31s\", expected \"%s\"", i,
				     buf, t[i].out);
	}
}

/* What the ping pair and splitkit_front ask for, and what they get. */
static void test_queues(void)
{
	static const struct {
		u32 peer, total, event, polled;
		int rc;
		u32 nr_event, nr_polled;
	} t[] = {
		{ 1, 4, 4, 0, 0, 1, 0 },	/* backend without multi-queue */
		{ 0, 4, 4, 0, 0, 1, 0 },	/* peer says 0: still one */
		{ 8, 4, 4, 0, 0, 4, 0 },	/* ping: ours is the limit */
		{ 2, 4, 4, 0, 0, 2, 0 },	/* ping: the peer's */
		{ 4, 16, 2, 1, 0, 2, 1 },	/* front: 2 + 1 polled */
		{ 1, 16, 2, 1, 0, 1, 0 },	/* front: no room to poll */
		{ 2, 16, 2, 1, 0, 1, 1 },	/* polled first, then events */
		{ 32, 16, 4, 15, 0, 1, 15 },	/* total capped at 16 */
		{ 4, 16, 4, 0, 0, 4, 0 },
		{ 4, 0, 4, 0, -EINVAL, 0, 0 },
		{ 4, 4, 0, 0, -EINVAL, 0, 0 },
	};
	size_t i;

	for (i = 0; i < KTAP_ARRAY_SIZE(t); i++) {
		u32 ev = 0, po = 0;
		int rc = sk_xs_queues(t[i].peer, t[i].total, t[i].event,
				      t[i].polled, &ev, &po);

		if (rc != t[i].rc || (!rc && (ev != t[i].nr_event ||
					      po != t[i].nr_polled)))
			ktap_fail_at(__FILE__, __LINE__,
				     "row %zu: rc %d, %u + %u polled; expected rc %d, %u + %u",
				     i, rc, ev, po, t[i].rc, t[i].nr_event,
				     t[i].nr_polled);
	}
}

static const struct ktap_case cases[] = {
	KTAP_CASE(test_parse_u64),
	KTAP_CASE(test_key_apply),
	KTAP_CASE(test_key_str),
	KTAP_CASE(test_key_format),
	KTAP_CASE(test_queues),
};

KTAP_MAIN(cases)
