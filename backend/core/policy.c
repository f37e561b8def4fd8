// SPDX-License-Identifier: GPL-2.0
/*
 * splitkit_back's attach rules for qcow2 images (see policy.h): a pure
 * decision over an image's decoded VM information and one attach, with
 * the reason for a refusal written as text for xl to print.  In the order
 * checked: the backend's own rule (a writable attach must be the only
 * one); the forms of "requires", "expires", "read-only", "max-attach"
 * (skb_policy_value_check(), which splitkit img meta set runs too); then
 * "expires", "allowed-domains", "read-only", "max-attach" against the
 * attach.  Values come from a file a guest owner may have written: every
 * number is parsed strictly, every list walked within its NUL, and only a
 * bounded prefix of a value is quoted back.
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

/* "requires": every feature it names is one this file enforces. */
static bool skb_valid_requires(const char *key, const char *want,
			       const char *v, char *why, size_t len)
{
	const char *p = v;

	while (*p) {
		size_t n;

		p += strspn(p, SKB_SEP);
		n = strcspn(p, SKB_SEP);
		if (n && !skb_known(p, n)) {
			snprintf(why, len, "image requires feature '%.*s' which splitkit_back does not know",
				 (int)(n < 40 ? n : 40), p);
			return false;
		}
		p += n;
	}
	return true;
}

/* A value refused for its form: "image policy: KEY 'VALUE' is not WANT". */
static bool skb_form_refused(const char *key, const char *v, const char *want,
			     char *why, size_t len)
{
	snprintf(why, len, "image policy: %s '%.20s' is not %s", key, v, want);
	return false;
}

/* "expires": a strict decimal number. */
static bool skb_valid_number(const char *key, const char *want,
			     const char *v, char *why, size_t len)
{
	u64 n;

	return skb_parse_u64(v, &n) || skb_form_refused(key, v, want, why, len);
}

/* "max-attach": a decimal number from 1 (0 would refuse every attach). */
static bool skb_valid_count(const char *key, const char *want,
			    const char *v, char *why, size_t len)
{
	u64 n;

	return (skb_parse_u64(v, &n) && n) ||
	       skb_form_refused(key, v, want, why, len);
}

/* "allowed-domains": names at least one domain (else none may attach). */
static bool skb_valid_names(const char *key, const char *want,
			    const char *v, char *why, size_t len)
{
	return v[strspn(v, SKB_SEP)] ||
	       skb_form_refused(key, v, want, why, len);
}

static bool skb_valid_bool(const char *key, const char *want, const char *v,
			   char *why, size_t len)
{
	return !strcmp(v, "0") || !strcmp(v, "1") ||
	       skb_form_refused(key, v, want, why, len);
}

/*
 * The policy fields whose values have a form, in the order checked, and
 * what a refusal says each must be ("requires" names its unknown feature).
 */
static const struct {
	const char *key;
	bool (*valid)(const char *key, const char *want, const char *v,
		      char *why, size_t len);
	const char *want;
} skb_policy_forms[] = {
	{ "requires", skb_valid_requires, NULL },
	{ "expires", skb_valid_number, "a Unix time" },
	{ "read-only", skb_valid_bool, "0 or 1" },
	{ "allowed-domains", skb_valid_names,
	  "a list of domain names or UUIDs" },
	{ "max-attach", skb_valid_count, "a number from 1" },
};

/* The form of field @i of skb_policy_forms[] holds for @v. */
static bool skb_form_ok(size_t i, const char *v, char *why, size_t len)
{
	return skb_policy_forms[i].valid(skb_policy_forms[i].key,
					 skb_policy_forms[i].want, v, why, len);
}

/* "expires" as a Unix time, if the image has one in that form. */
static bool skb_expires(const struct ski_vminfo *info, u64 *t)
{
	const char *v = info ? ski_vminfo_get(info, "expires") : NULL;

	return v && skb_parse_u64(v, t);
}

/**
 * skb_policy_value_check() - is @value a value splitkit_back takes for
 *	field @key?
 * @key: a VM information field name.
 * @value: its value (NUL-terminated).
 * @why: set to the reason for a refusal (NUL-terminated, truncated to
 *	@len), untouched on success.
 * @len: size of @why, at least 1.
 *
 * The forms skb_policy_check() demands (Documentation/image.rst, "Policy
 * fields"): "requires" names only features it knows, "expires" and
 * "max-attach" are decimal numbers, "read-only" is 0 or 1.  Other fields
 * take any value.  For the tool (splitkit img meta set), so that an image
 * never gets a value every attach would refuse.  Any context.
 *
 * Return: 0, or -EINVAL.
 */
int skb_policy_value_check(const char *key, const char *value, char *why,
			   size_t len)
{
	size_t i;

	for (i = 0; i < sizeof(skb_policy_forms) / sizeof(skb_policy_forms[0]);
	     i++)
		if (!strcmp(key, skb_policy_forms[i].key))
			return skb_form_ok(i, value, why, len) ? 0 : -EINVAL;
	return 0;
}

/**
 * skb_policy_expired() - has the image's "expires" time come?
 * @info: the image's decoded VM information, or NULL.
 * @now: the current time, Unix seconds.
 *
 * As skb_policy_check() decides: expired when @now is at or past the
 * time.  A value that is no Unix time is not "expired" here (the attach
 * is refused for its form).  Any context.
 *
 * Return: true if expired.
 */
bool skb_policy_expired(const struct ski_vminfo *info, u64 now)
{
	u64 t;

	return skb_expires(info, &t) && now >= t;
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
	const char *v;
	size_t i;
	u64 t;

	if (in->attached && (in->attached_writer || !in->read_only)) {
		snprintf(why, len, "image is already attached (%u time(s)); a writable attach must be the only one",
			 in->attached);
		return -EBUSY;
	}
	if (!info)
		return 0;
	for (i = 0; i < sizeof(skb_policy_forms) / sizeof(skb_policy_forms[0]);
	     i++) {
		v = ski_vminfo_get(info, skb_policy_forms[i].key);
		if (v && !skb_form_ok(i, v, why, len))
			return -EACCES;
	}
	if (skb_expires(info, &t) && in->now >= t) {
		snprintf(why, len, "image expired (expires %llu)",
			 (unsigned long long)t);
		return -EACCES;
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
	if (v && !strcmp(v, "1") && !in->read_only) {
		snprintf(why, len, "image policy: read-only (attach with access=ro)");
		return -EACCES;
	}
	v = ski_vminfo_get(info, "max-attach");
	if (v && skb_parse_u64(v, &t) && in->attached >= t) {
		snprintf(why, len, "image policy: at most %llu concurrent attach(es), %u now",
			 (unsigned long long)t, in->attached);
		return -EACCES;
	}
	return 0;
}
