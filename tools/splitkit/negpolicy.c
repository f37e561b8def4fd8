// SPDX-License-Identifier: GPL-2.0
/*
 * splitkit tool: dom0's negotiation policy file, what splitkit_negotiate
 * may offer guests (Documentation/negotiate.rst, "Policy file").  One
 * setting a line, "KEY = VALUE", "#" to the end of a line a comment:
 *
 *	blk.iops.capacity = 3000	requests/s shared by all guests
 *	blk.iops.guest_max = 500	the most one agreement may hold
 *	blk.bandwidth.capacity = 102400	KiB/s
 *	blk.bandwidth.guest_max = 20480
 *	memory.capacity = 4096		MiB shared by all guests
 *	memory.guest_max = 2048
 *	blk.queues.capacity = 64	rings of guests' disks, all together
 *	blk.queues.guest_max = 4
 *	blk.ring.capacity = 256		pages per ring, summed over disks
 *	blk.ring.guest_max = 16
 *	vcpus.capacity = 16		vCPUs shared by all guests
 *	vcpus.guest_max = 4
 *
 * The file is the whole policy: a key it does not name is 0 (a capacity
 * of 0 offers nothing, a guest_max of 0 sets no ceiling).  The parser is
 * strict (a decimal number within the module's range, no key twice, no
 * unknown key) and reports the first error with its line; "splitkit
 * negotiate policy" applies nothing unless the whole file parses.
 */
#include <ctype.h>
#include <errno.h>
#include <string.h>

#include "negpolicy.h"

const struct neg_policy_key neg_policy_keys[NEG_POLICY_KEYS] = {
	{ "blk.iops.capacity", "blk_iops_capacity", 10000000, "requests/s" },
	{ "blk.iops.guest_max", "blk_iops_guest_max", 10000000, "requests/s" },
	{ "blk.bandwidth.capacity", "blk_bw_capacity_kib", 1073741824,
	  "KiB/s" },
	{ "blk.bandwidth.guest_max", "blk_bw_guest_max_kib", 1073741824,
	  "KiB/s" },
	{ "memory.capacity", "mem_capacity_mib", 1048576, "MiB" },
	{ "memory.guest_max", "mem_guest_max_mib", 1048576, "MiB" },
	{ "blk.queues.capacity", "blk_queues_capacity", 1024, "rings" },
	{ "blk.queues.guest_max", "blk_queues_guest_max", 16, "rings" },
	{ "blk.ring.capacity", "blk_ring_capacity_pages", 16384, "pages" },
	{ "blk.ring.guest_max", "blk_ring_guest_max_pages", 16, "pages" },
	{ "vcpus.capacity", "vcpus_capacity", 65536, "vCPUs" },
	{ "vcpus.guest_max", "vcpus_guest_max", 512, "vCPUs" },
};

/* @s without leading and trailing blanks, in place. */
static char *neg_trim(char *s)
{
	char *end;

	while (isspace((unsigned char)*s))
		s++;
	end = s + strlen(s);
	while (end > s && isspace((unsigned char)end[-1]))
		*--end = '\0';
	return s;
}

/* A decimal number no larger than @max; 0 or -EINVAL / -ERANGE. */
static int neg_number(const char *s, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;

	if (!*s)
		return -EINVAL;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -EINVAL;
		if (v > (max - (uint64_t)(*s - '0')) / 10)
			return -ERANGE;
		v = v * 10 + (uint64_t)(*s - '0');
	}
	*out = v;
	return 0;
}

/* The index of @key in neg_policy_keys[], or -1. */
static int neg_key(const char *key)
{
	int i;

	for (i = 0; i < NEG_POLICY_KEYS; i++)
		if (!strcmp(key, neg_policy_keys[i].key))
			return i;
	return -1;
}

/* One line (its comment cut off); 0 or -EINVAL with @err filled. */
static int neg_policy_line(char *line, unsigned int n, bool *seen,
			   struct neg_policy *pol, char *err, size_t err_size)
{
	char *eq, *key, *val;
	int k, rc;

	line = neg_trim(line);
	if (!*line)
		return 0;
	eq = strchr(line, '=');
	if (!eq) {
		snprintf(err, err_size, "line %u: not KEY = VALUE", n);
		return -EINVAL;
	}
	*eq = '\0';
	key = neg_trim(line);
	val = neg_trim(eq + 1);
	k = neg_key(key);
	if (k < 0) {
		snprintf(err, err_size, "line %u: unknown key '%s'", n, key);
		return -EINVAL;
	}
	if (seen[k]) {
		snprintf(err, err_size, "line %u: %s given twice", n, key);
		return -EINVAL;
	}
	rc = neg_number(val, neg_policy_keys[k].max, &pol->value[k]);
	if (rc) {
		snprintf(err, err_size,
			 "line %u: %s: '%s' is not a number 0..%llu (%s)", n,
			 key, val, (unsigned long long)neg_policy_keys[k].max,
			 neg_policy_keys[k].unit);
		return -EINVAL;
	}
	seen[k] = true;
	return 0;
}

/**
 * neg_policy_parse() - read a negotiation policy file.
 * @f: the file.
 * @pol: its settings (0 for the keys it does not name).
 * @err: the first error, with its line number.
 * @err_size: bytes at @err.
 *
 * Return: 0, or -EINVAL (a malformed line, an unknown key, a key twice, a
 * value out of range or a line longer than 255 bytes) with @err set.
 */
int neg_policy_parse(FILE *f, struct neg_policy *pol, char *err,
		     size_t err_size)
{
	bool seen[NEG_POLICY_KEYS] = { false };
	char line[256], *hash;
	unsigned int n = 0;
	int rc;

	memset(pol, 0, sizeof(*pol));
	while (fgets(line, sizeof(line), f)) {
		n++;
		if (!strchr(line, '\n') && !feof(f)) {
			snprintf(err, err_size, "line %u: longer than %zu bytes",
				 n, sizeof(line) - 1);
			return -EINVAL;
		}
		hash = strchr(line, '#');
		if (hash)
			*hash = '\0';
		rc = neg_policy_line(line, n, seen, pol, err, err_size);
		if (rc)
			return rc;
	}
	if (ferror(f)) {
		snprintf(err, err_size, "reading: %s", strerror(errno));
		return -EINVAL;
	}
	return 0;
}
