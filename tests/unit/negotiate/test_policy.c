// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests of dom0's negotiation policy file parser
 * (tools/splitkit/negpolicy.c): a whole file with comments and blanks,
 * keys it does not name read 0, each range's bounds, and every refusal
 * (unknown key, a key twice, not a number, out of range, no "=", a line
 * too long) naming its line, with nothing half-parsed left to apply.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "ktap.h"
#include "negpolicy.h"

/* Parse @text; the status, with the policy and error left in @pol, @err. */
static int parse(const char *text, struct neg_policy *pol, char *err,
		 size_t n)
{
	FILE *f = fmemopen((void *)text, strlen(text), "r");
	int rc;

	if (!f)
		return -1;
	err[0] = '\0';
	rc = neg_policy_parse(f, pol, err, n);
	fclose(f);
	return rc;
}

static void whole_file(void)
{
	struct neg_policy pol;
	char err[160];

	KTAP_EXPECT_EQ(parse("# dom0's policy\n\n"
			     "blk.iops.capacity = 3000   # shared\n"
			     "  blk.iops.guest_max=500\n"
			     "\tblk.bandwidth.capacity =\t102400\n"
			     "blk.bandwidth.guest_max = 20480\n"
			     "memory.capacity = 4096\n"
			     "memory.guest_max = 2048", &pol, err,
			     sizeof(err)), 0);
	KTAP_EXPECT_EQ(pol.value[0], 3000);
	KTAP_EXPECT_EQ(pol.value[1], 500);
	KTAP_EXPECT_EQ(pol.value[2], 102400);
	KTAP_EXPECT_EQ(pol.value[3], 20480);
	KTAP_EXPECT_EQ(pol.value[4], 4096);
	KTAP_EXPECT_EQ(pol.value[5], 2048);
	/* what the file does not name is 0: nothing offered, no ceiling */
	KTAP_EXPECT_EQ(parse("blk.iops.capacity = 7\n", &pol, err,
			     sizeof(err)), 0);
	KTAP_EXPECT_EQ(pol.value[0], 7);
	KTAP_EXPECT_EQ(pol.value[1], 0);
	KTAP_EXPECT_EQ(pol.value[2], 0);
	KTAP_EXPECT_EQ(pol.value[3], 0);
	KTAP_EXPECT_EQ(pol.value[4], 0);
	KTAP_EXPECT_EQ(pol.value[5], 0);
	KTAP_EXPECT_EQ(parse("", &pol, err, sizeof(err)), 0);
	KTAP_EXPECT_EQ(pol.value[0], 0);
}

static void bounds(void)
{
	struct neg_policy pol;
	char err[160];

	KTAP_EXPECT_EQ(parse("blk.iops.capacity = 10000000\n", &pol, err,
			     sizeof(err)), 0);
	KTAP_EXPECT_EQ(pol.value[0], 10000000);
	KTAP_EXPECT_EQ(parse("blk.iops.capacity = 10000001\n", &pol, err,
			     sizeof(err)), -EINVAL);
	KTAP_EXPECT_EQ(parse("blk.bandwidth.guest_max = 1073741824\n", &pol,
			     err, sizeof(err)), 0);
	KTAP_EXPECT_EQ(parse("blk.bandwidth.guest_max = 1073741825\n", &pol,
			     err, sizeof(err)), -EINVAL);
	KTAP_EXPECT_EQ(parse("memory.capacity = 1048576\n", &pol, err,
			     sizeof(err)), 0);
	KTAP_EXPECT_EQ(pol.value[4], 1048576);
	KTAP_EXPECT_EQ(parse("memory.guest_max = 1048577\n", &pol, err,
			     sizeof(err)), -EINVAL);
	KTAP_EXPECT_EQ(parse("vcpus.capacity = 65536\nvcpus.guest_max = 512\n",
			     &pol, err, sizeof(err)), 0);
	KTAP_EXPECT_EQ(pol.value[10], 65536);
	KTAP_EXPECT_EQ(pol.value[11], 512);
	KTAP_EXPECT_EQ(parse("vcpus.guest_max = 513\n", &pol, err,
			     sizeof(err)), -EINVAL);
	KTAP_EXPECT_EQ(parse("blk.iops.capacity = 0\n", &pol, err,
			     sizeof(err)), 0);
	/* no wrap-around on a value far beyond 2^64 */
	KTAP_EXPECT_EQ(parse("blk.iops.capacity = 184467440737095516160\n",
			     &pol, err, sizeof(err)), -EINVAL);
}

struct refusal {
	const char *text;
	const char *says;	/* a part of the error */
};

static const struct refusal refusals[] = {
	{ "blk.iops.capacty = 5\n", "line 1: unknown key 'blk.iops.capacty'" },
	{ "blk.iops.capacity = 5\n\nblk.iops.capacity = 6\n",
	  "line 3: blk.iops.capacity given twice" },
	{ "blk.iops.capacity = -5\n", "line 1: blk.iops.capacity: '-5'" },
	{ "blk.iops.capacity = 5k\n", "line 1: blk.iops.capacity: '5k'" },
	{ "blk.iops.capacity = 0x10\n", "line 1" },
	{ "blk.iops.capacity =\n", "line 1: blk.iops.capacity: ''" },
	{ "# ok\nblk.iops.capacity 5\n", "line 2: not KEY = VALUE" },
	{ "= 5\n", "line 1: unknown key ''" },
	{ "blk.iops.capacity = 5 6\n", "line 1" },
};

static void refused(void)
{
	struct neg_policy pol;
	char err[160], big[400];
	size_t i;

	for (i = 0; i < sizeof(refusals) / sizeof(refusals[0]); i++) {
		KTAP_EXPECT_EQ(parse(refusals[i].text, &pol, err, sizeof(err)),
			       -EINVAL);
		KTAP_EXPECT(strstr(err, refusals[i].says) != NULL);
	}
	/* a line longer than the parser reads at once */
	memset(big, ' ', sizeof(big));
	memcpy(big + sizeof(big) - 24, "blk.iops.capacity = 5\n", 23);
	big[sizeof(big) - 1] = '\0';
	KTAP_EXPECT_EQ(parse(big, &pol, err, sizeof(err)), -EINVAL);
	KTAP_EXPECT(strstr(err, "line 1: longer than") != NULL);
}

static const struct ktap_case cases[] = {
	KTAP_CASE(whole_file),
	KTAP_CASE(bounds),
	KTAP_CASE(refused),
};

KTAP_MAIN(cases)
