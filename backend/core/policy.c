// SPDX-License-Identifier: GPL-2.0
/*
 * splitkit_back's attach rules for qcow2 images (see policy.h): a pure
 * decision over an image's decoded VM information and one attach, with
 * the reason for a refusal written as text for xl to print.  The fields,
 * in the order they are checked: the backend's own rule (a writable attach
 * must be the only one), "requires", "expires", "allowed-domains",
 * "read-only", "max-attach".  Values come from a file a guest owner may
 * have written: every number is parsed strictly, every list walked within
 * its NUL, and only a bounded prefix of a value is quoted back.
 */
#ifdef SPLITKIT_USERSPACE
#include <stdio.h>
#else
#include <linux/kernel.h>
#endif

#include "policy.h"

/* The policy fields this file enforces: what "requires" may name. */
static const char *const skb_policy_known[] = {
	"expires", "allowed-domains", "read-only", "max-attach", "history",
};

#define SKB_SEP	", \t\n"

/* Is @word (@len bytes) an entry of @list (separated by SKB_SEP)? */
static bool skb_in_list(const char *list, const char *word, size_t len)
{
	const char *p = list;

	if (!len)
		return false;
	while (*p) {
		size_t n;

		p += strspn(p, SKB_SEP);
		n = strcspn(p, SKB_SEP);
		if (n == len && !strncmp(p, word, len))
			return true;
		p += n;
	}
	return false;
}

static bool skb_known(const char *word, size_t len)
{
	size_t i;

	for (i = 0; i < sizeof(skb_policy_known) / sizeof(skb_policy_known[0]);
	     i++)
		if (strlen(skb_policy_known[i]) == len &&
		    !strncmp(skb_policy_known[i], word, len))
			return true;
	return false;
}

/* Strict decimal: digits only, at least one, no overflow. */
static bool skb_parse_u64(const char *s, u64 *out)
{
	u64 v = 0;

	if (!*s)
		return false;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return false;
		if (v > (~0ULL - (u64)(*s - '0')) / 10)
			return false;
		v = v * 10 + (u64)(*s - '0');
	}
	*out = v;
	return true;
}

/**
 * skb_policy_check() - may this attach go ahead?
 * @info: the image's decoded VM information, or NULL if it has none.
 * @in: the attach.
 * @why: set to the reason for a refusal (NUL-terminated, truncated to
 *	@len), untouched on success.
 * @len: size of @why, at least 1.
 *
 * Return: 0; -EBUSY when the backend's own rule refuses (a writable attach
 * beside another, or any attach beside a writable one); -EACCES when the
 * image's policy does.
 */
int skb_policy_check(const struct ski_vminfo *info,
		     const struct skb_policy_in *in, char *why, size_t len)
{
	const char *v, *p;
	u64 t;

	if (in->attached && (in->attached_writer || !in->read_only)) {
		snprintf(why, len, "image is already attached (%u time(s)); a writable attach must be the only one",
			 in->attached);
		return -EBUSY;
	}
	if (!info)
		return 0;
	v = ski_vminfo_get(info, "requires");
	for (p = v ? v : ""; *p; ) {
		size_t n;

		p += strspn(p, SKB_SEP);
		n = strcspn(p, SKB_SEP);
		if (n && !skb_known(p, n)) {
			snprintf(why, len, "image requires feature '%.*s' which splitkit_back does not know",
				 (int)(n < 40 ? n : 40), p);
			return -EACCES;
		}
		p += n;
	}
	v = ski_vminfo_get(info, "expires");
	if (v) {
		if (!skb_parse_u64(v, &t)) {
			snprintf(why, len, "image policy: expires '%.20s' is not a Unix time",
				 v);
			return -EACCES;
		}
		if (in->now >= t) {
			snprintf(why, len, "image expired (expires %llu)",
				 (unsigned long long)t);
			return -EACCES;
		}
	}
	v = ski_vminfo_get(info, "allowed-domains");
	if (v && !(in->dom_name &&
		   skb_in_list(v, in->dom_name, strlen(in->dom_name))) &&
	    !(in->dom_uuid &&
	      skb_in_list(v, in->dom_uuid, strlen(in->dom_uuid)))) {
		snprintf(why, len, "image policy: domain '%.64s' is not in allowed-domains",
			 in->dom_name ? in->dom_name : "?");
		return -EACCES;
	}
	v = ski_vminfo_get(info, "read-only");
	if (v && strcmp(v, "0") && strcmp(v, "1")) {
		snprintf(why, len, "image policy: read-only '%.20s' is not 0 or 1",
			 v);
		return -EACCES;
	}
	if (v && !strcmp(v, "1") && !in->read_only) {
		snprintf(why, len, "image policy: read-only (attach with access=ro)");
		return -EACCES;
	}
	v = ski_vminfo_get(info, "max-attach");
	if (v) {
		if (!skb_parse_u64(v, &t)) {
			snprintf(why, len, "image policy: max-attach '%.20s' is not a number",
				 v);
			return -EACCES;
		}
		if (in->attached >= t) {
			snprintf(why, len, "image policy: at most %llu concurrent attach(es), %u now",
				 (unsigned long long)t, in->attached);
			return -EACCES;
		}
	}
	return 0;
}
