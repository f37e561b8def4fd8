// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests of splitkit_back's attach rules for qcow2 images
 * (backend/core/policy.c): the backend's own rule on concurrent attaches,
 * then each field of an image's policy (requires, expires,
 * allowed-domains, read-only, max-attach) allowing and refusing, with
 * malformed values refused rather than ignored, and the reason text a
 * refusal gives xl.  Each case is one row: the fields the image carries,
 * the attach, the expected verdict and a piece of the reason.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "ktap.h"
#include "policy.h"

#define NOW	1700000000ULL

struct policy_row {
	const char *fields[4][2];	/* key, value; NULL key ends */
	struct skb_policy_in in;
	int want;
	const char *why;		/* substring of the reason */
};

#define RW(name)	{ .dom_name = name, .now = NOW }
#define RO(name)	{ .dom_name = name, .read_only = true, .now = NOW }

static const struct policy_row rows[] = {
	/* no information: only the backend's own rule */
	{ {{ NULL }}, RW("vm1"), 0, NULL },
	{ {{ NULL }}, { .dom_name = "vm1", .attached = 1, .now = NOW },
	  -EBUSY, "already attached" },
	{ {{ NULL }}, { .read_only = true, .attached = 1,
			.attached_writer = true, .now = NOW },
	  -EBUSY, "already attached" },
	{ {{ NULL }}, { .read_only = true, .attached = 3, .now = NOW }, 0,
	  NULL },
	/* requires */
	{ {{ "requires", "expires, max-attach history" }}, RW("vm1"), 0, NULL },
	{ {{ "requires", "expires warp-drive" }}, RW("vm1"), -EACCES,
	  "requires feature 'warp-drive'" },
	{ {{ "requires", "" }}, RW("vm1"), 0, NULL },
	/* expires */
	{ {{ "expires", "1700000001" }}, RW("vm1"), 0, NULL },
	{ {{ "expires", "1700000000" }}, RW("vm1"), -EACCES, "image expired" },
	{ {{ "expires", "1" }}, RW("vm1"), -EACCES, "image expired" },
	{ {{ "expires", "soon" }}, RW("vm1"), -EACCES, "not a Unix time" },
	{ {{ "expires", "" }}, RW("vm1"), -EACCES, "not a Unix time" },
	{ {{ "expires", "99999999999999999999999" }}, RW("vm1"), -EACCES,
	  "not a Unix time" },
	/* allowed-domains */
	{ {{ "allowed-domains", "vm0,vm1 vm2" }}, RW("vm1"), 0, NULL },
	{ {{ "allowed-domains", "vm10" }}, RW("vm1"), -EACCES,
	  "'vm1' is not in allowed-domains" },
	{ {{ "allowed-domains", "vm" }}, RW("vm1"), -EACCES,
	  "not in allowed-domains" },
	{ {{ "allowed-domains", "12345678-1234-1234-1234-123456789abc" }},
	  { .dom_name = "x", .dom_uuid = "12345678-1234-1234-1234-123456789abc",
	    .now = NOW }, 0, NULL },
	{ {{ "allowed-domains", "vm1" }}, { .now = NOW }, -EACCES,
	  "'?' is not in allowed-domains" },
	{ {{ "allowed-domains", "" }}, { .dom_name = "", .now = NOW },
	  -EACCES, "is not a list of domain names" },
	{ {{ "allowed-domains", " ,\t" }}, RW("vm1"), -EACCES,
	  "is not a list of domain names" },
	/* read-only */
	{ {{ "read-only", "1" }}, RW("vm1"), -EACCES, "access=ro" },
	{ {{ "read-only", "1" }}, RO("vm1"), 0, NULL },
	{ {{ "read-only", "0" }}, RW("vm1"), 0, NULL },
	{ {{ "read-only", "yes" }}, RO("vm1"), -EACCES, "not 0 or 1" },
	/* max-attach */
	{ {{ "max-attach", "1" }}, RO("vm1"), 0, NULL },
	{ {{ "max-attach", "1" }}, { .read_only = true, .attached = 1,
				     .now = NOW }, -EACCES, "at most 1" },
	{ {{ "max-attach", "0" }}, RO("vm1"), -EACCES,
	  "'0' is not a number from 1" },
	{ {{ "max-attach", "-1" }}, RO("vm1"), -EACCES, "not a number" },
	/* several: the first refusal in order wins */
	{ {{ "expires", "1" }, { "read-only", "1" }}, RW("vm1"), -EACCES,
	  "image expired" },
	{ {{ "allowed-domains", "vm1" }, { "read-only", "1" },
	   { "max-attach", "2" }}, RO("vm1"), 0, NULL },
};

static void one_row(const struct policy_row *r, unsigned int idx)
{
	struct ski_vminfo info;
	char why[192];
	unsigned int i;
	int got;

	memset(&info, 0, sizeof(info));
	for (i = 0; i < 4 && r->fields[i][0]; i++)
		KTAP_ASSERT(!ski_vminfo_set(&info, r->fields[i][0],
					    r->fields[i][1]));
	strcpy(why, "untouched");
	got = skb_policy_check(r->fields[0][0] ? &info : NULL, &r->in, why,
			       sizeof(why));
	if (got != r->want)
		printf("# row %u: got %d, want %d (%s)\n", idx, got, r->want,
			  why);
	KTAP_EXPECT_EQ(got, r->want);
	if (r->why && !strstr(why, r->why))
		printf("# row %u: reason '%s' lacks '%s'\n", idx, why, r->why);
	KTAP_EXPECT(r->why ? strstr(why, r->why) != NULL :
		    !strcmp(why, "untouched"));
	ski_vminfo_free(&info);
}

static void policy_rows(void)
{
	unsigned int i;

	for (i = 0; i < KTAP_ARRAY_SIZE(rows); i++)
		one_row(&rows[i], i);
}

/* A long value is quoted back bounded, the reason always terminated. */
static void reason_bounded(void)
{
	static char big[4096];
	struct ski_vminfo info;
	struct skb_policy_in in = RW("vm1");
	char why[16];

	memset(big, 'x', sizeof(big) - 1);
	memset(&info, 0, sizeof(info));
	KTAP_ASSERT(!ski_vminfo_set(&info, "requires", big));
	KTAP_EXPECT_EQ(skb_policy_check(&info, &in, why, sizeof(why)),
		       -EACCES);
	KTAP_EXPECT_EQ(strlen(why), sizeof(why) - 1);
	ski_vminfo_free(&info);
}

/*
 * What splitkit img meta set refuses is exactly what every attach would
 * refuse for its form: for each value, the check and an attach that only
 * the form could stop agree.
 */
static void value_check_agrees(void)
{
	static const char *const vals[][2] = {
		{ "expires", "1700000000" }, { "expires", "soon" },
		{ "expires", "" }, { "expires", "-1" }, { "expires", "+5" },
		{ "expires", "99999999999999999999" },
		{ "read-only", "1" }, { "read-only", "0" },
		{ "read-only", "yes" }, { "read-only", "01" },
		{ "max-attach", "3" }, { "max-attach", "-1" },
		{ "max-attach", "1x" }, { "max-attach", "0" },
		{ "requires", "expires, history" },
		{ "requires", "teleport" }, { "requires", "" },
		{ "allowed-domains", "vm1" }, { "allowed-domains", "" },
		{ "allowed-domains", " , " }, { "name", "anything at all" },
	};
	/* at time 0 no valid "expires" stops it; read-only, alone */
	struct skb_policy_in in = { .dom_name = "vm1", .read_only = true };
	unsigned int i;

	for (i = 0; i < KTAP_ARRAY_SIZE(vals); i++) {
		struct ski_vminfo info;
		char why[192], why2[192];
		int v, a;

		memset(&info, 0, sizeof(info));
		KTAP_ASSERT(!ski_vminfo_set(&info, vals[i][0], vals[i][1]));
		strcpy(why, "untouched");
		v = skb_policy_value_check(vals[i][0], vals[i][1], why,
					   sizeof(why));
		a = skb_policy_check(&info, &in, why2, sizeof(why2));
		if (!v != !a)
			printf("# %s=%s: value check %d, attach %d\n",
			       vals[i][0], vals[i][1], v, a);
		KTAP_EXPECT_EQ(!v, !a);
		KTAP_EXPECT(v == 0 || v == -EINVAL);
		KTAP_EXPECT(v ? !strcmp(why, why2) : !strcmp(why, "untouched"));
		ski_vminfo_free(&info);
	}
}

/*
 * "expires" 0 and a time now or past are expired (what splitkit img info
 * reports), as the attach decides; a value that is no time is not.
 */
static void expired_as_attach(void)
{
	static const struct {
		const char *v;
		bool expired;
	} vals[] = {
		{ "0", true }, { "1", true }, { "1700000000", true },
		{ "1700000001", false }, { "soon", false }, { "", false },
	};
	unsigned int i;

	KTAP_EXPECT(!skb_policy_expired(NULL, NOW));
	for (i = 0; i < KTAP_ARRAY_SIZE(vals); i++) {
		struct skb_policy_in in = RW("vm1");
		struct ski_vminfo info;
		char why[192] = "";

		memset(&info, 0, sizeof(info));
		KTAP_ASSERT(!ski_vminfo_set(&info, "expires", vals[i].v));
		KTAP_EXPECT_EQ(skb_policy_expired(&info, NOW), vals[i].expired);
		skb_policy_check(&info, &in, why, sizeof(why));
		KTAP_EXPECT_EQ(vals[i].expired,
			       strstr(why, "image expired") != NULL);
		ski_vminfo_free(&info);
	}
}

static const struct ktap_case cases[] = {
	KTAP_CASE(policy_rows),
	KTAP_CASE(reason_bounded),
	KTAP_CASE(value_check_agrees),
	KTAP_CASE(expired_as_attach),
};

KTAP_MAIN(cases)
