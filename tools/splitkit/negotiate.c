// SPDX-License-Identifier: GPL-2.0
/*
 * splitkit negotiate: the command-line side of splitkit_negotiate
 * (Documentation/negotiate.rst).  In dom0: attach / detach a guest's
 * sk-neg device (its XenStore nodes and permissions, through
 * libxenstore, in one transaction), show every guest's slots, set a
 * provider's capacity (memory: from Xen's free memory), and set a domain's
 * memory for the memory provider (negmem.c, libxl).  In the guest: request, select, and show the
 * slots, through the frontend's sysfs files.  The protocol itself is the
 * kernel module's; this file only writes what a toolstack and a user
 * would.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>
#include <xenstore.h>

#include "negmem.h"
#include "negpolicy.h"
#include "splitkit.h"

#define NEG_TYPE	"sk-neg"
#define NEG_FRONT_SYS	"/sys/bus/xen/devices/" NEG_TYPE "-0"
#define NEG_BACK_SYS	"/sys/bus/xen-backend/devices"
#define NEG_PARAMS	"/sys/module/splitkit_negotiate/parameters"

/* A domain id: decimal digits only, 1 .. 32751 (DOMID_FIRST_RESERVED - 1). */
static int neg_domid(const char *s, unsigned int *out)
{
	unsigned long v = 0;
	size_t i;

	for (i = 0; s[i]; i++) {
		if (s[i] < '0' || s[i] > '9' || i >= 5)
			return -EINVAL;
		v = v * 10 + (unsigned long)(s[i] - '0');
	}
	if (!i || !v || v > 32751)
		return -ERANGE;
	*out = (unsigned int)v;
	return 0;
}

/* One node of a device: its path, value and whether it is the top. */
struct neg_node {
	const char *key;	/* NULL: the directory itself */
	const char *fmt;	/* value; %u is the guest's domid */
};

static const struct neg_node neg_front_nodes[] = {
	{ NULL, NULL },
	{ "backend", "/local/domain/0/backend/" NEG_TYPE "/%u/0" },
	{ "backend-id", "0" },
	{ "state", "1" },
};

static const struct neg_node neg_back_nodes[] = {
	{ NULL, NULL },
	{ "frontend", "/local/domain/%u/device/" NEG_TYPE "/0" },
	{ "frontend-id", "%u" },
	{ "online", "1" },
	{ "state", "1" },
};

/*
 * Write one directory's nodes in @t.  The directory gets @perms first, so
 * that the nodes under it inherit them.
 */
static bool neg_write_dir(struct xs_handle *h, xs_transaction_t t,
			  const char *dir, const struct neg_node *nodes,
			  size_t n, struct xs_permissions *perms,
			  unsigned int domid)
{
	char path[256], val[128];
	size_t i;

	for (i = 0; i < n; i++) {
		if (!nodes[i].key) {
			if (!xs_mkdir(h, t, dir) ||
			    !xs_set_permissions(h, t, dir, perms, 2))
				return false;
			continue;
		}
		snprintf(path, sizeof(path), "%s/%s", dir, nodes[i].key);
		snprintf(val, sizeof(val), nodes[i].fmt, domid);
		if (!xs_write(h, t, path, val, strlen(val)))
			return false;
	}
	return true;
}

static void neg_paths(unsigned int domid, char *fe, char *be, size_t size)
{
	snprintf(fe, size, "/local/domain/%u/device/" NEG_TYPE "/0", domid);
	snprintf(be, size, "/local/domain/0/backend/" NEG_TYPE "/%u/0", domid);
}

/* Run @fn in a transaction, again while xenstored says EAGAIN. */
static int neg_transact(unsigned int domid,
			bool (*fn)(struct xs_handle *h, xs_transaction_t t,
				   unsigned int domid))
{
	struct xs_handle *h = xs_open(0);
	xs_transaction_t t;
	int err = 0;
	bool ok;

	if (!h)
		return sk_fail_errno("xs_open", -errno);
	for (;;) {
		t = xs_transaction_start(h);
		if (t == XBT_NULL) {
			err = sk_fail_errno("xs_transaction_start", -errno);
			break;
		}
		ok = fn(h, t, domid);
		err = ok ? 0 : errno;
		if (xs_transaction_end(h, t, !ok) && ok)
			break;
		if (ok && errno == EAGAIN)
			continue;
		if (!ok && err == ESRCH)
			fprintf(stderr, "%s: no domain %u (XenStore has no /local/domain/%u)\n",
				sk_prog(), domid, domid);
		else if (!ok && err == EEXIST)
			fprintf(stderr, "%s: domain %u has its device already (detach it first)\n",
				sk_prog(), domid);
		else
			sk_fail_errno("XenStore", -(ok ? errno : err));
		err = 1;
		break;
	}
	xs_close(h);
	return err;
}

static bool neg_attach_fn(struct xs_handle *h, xs_transaction_t t,
			  unsigned int domid)
{
	/* the guest owns its directory, dom0 reads it; and the reverse */
	struct xs_permissions fp[2] = {
		{ .id = domid, .perms = XS_PERM_NONE },
		{ .id = 0, .perms = XS_PERM_READ },
	};
	struct xs_permissions bp[2] = {
		{ .id = 0, .perms = XS_PERM_NONE },
		{ .id = domid, .perms = XS_PERM_READ },
	};
	char fe[128], be[128], home[32];
	unsigned int len;
	char *val;

	/* the domain's home, or xenstored would make one for a domain gone */
	snprintf(home, sizeof(home), "/local/domain/%u", domid);
	val = xs_read(h, t, home, &len);
	if (!val) {
		if (errno == ENOENT)
			errno = ESRCH;
		return false;
	}
	free(val);
	neg_paths(domid, fe, be, sizeof(fe));
	/* a device there already: state 1 again would close both ends */
	val = xs_read(h, t, be, &len);
	if (val || errno != ENOENT) {
		if (val)
			errno = EEXIST;
		free(val);
		return false;
	}
	return neg_write_dir(h, t, be, neg_back_nodes,
			     sizeof(neg_back_nodes) / sizeof(neg_back_nodes[0]),
			     bp, domid) &&
	       neg_write_dir(h, t, fe, neg_front_nodes,
			     sizeof(neg_front_nodes) / sizeof(neg_front_nodes[0]),
			     fp, domid);
}

static bool neg_detach_fn(struct xs_handle *h, xs_transaction_t t,
			  unsigned int domid)
{
	char fe[128], be[128];

	neg_paths(domid, fe, be, sizeof(fe));
	/* the guest's whole backend directory: its one device is id 0 */
	*strrchr(be, '/') = '\0';
	/* a directory already gone is fine */
	return (xs_rm(h, t, be) || errno == ENOENT) &&
	       (xs_rm(h, t, fe) || errno == ENOENT);
}

static int neg_attach(const struct sk_args *a)
{
	unsigned int domid;

	if (neg_domid(a->argv[0], &domid))
		return sk_usage_error(a);
	return neg_transact(domid, neg_attach_fn) ? 1 : 0;
}

static int neg_detach(const struct sk_args *a)
{
	unsigned int domid;

	if (neg_domid(a->argv[0], &domid))
		return sk_usage_error(a);
	return neg_transact(domid, neg_detach_fn) ? 1 : 0;
}

/* Write @val to the sysfs file @path; the kernel's answer is the status. */
static int neg_sysfs_write(const char *path, const char *val)
{
	FILE *f = fopen(path, "w");
	int err = 0;

	if (!f)
		return sk_fail_errno(path, -errno);
	if (fputs(val, f) == EOF)
		err = errno;
	if (fclose(f) == EOF && !err)
		err = errno;
	return err ? sk_fail_errno(path, -err) : 0;
}

static int neg_request(const struct sk_args *a)
{
	char line[256];

	snprintf(line, sizeof(line), "%s %s %s %s %s\n", a->argv[0],
		 a->argv[1], a->argv[2], a->argv[3], a->argv[4]);
	return neg_sysfs_write(NEG_FRONT_SYS "/request", line) ? 1 : 0;
}

static int neg_select(const struct sk_args *a)
{
	char line[64];

	snprintf(line, sizeof(line), "%s %s\n", a->argv[0], a->argv[1]);
	return neg_sysfs_write(NEG_FRONT_SYS "/select", line) ? 1 : 0;
}

/*
 * dom0: call @fn for every "kept_<provider> V" line of a guest's
 * negotiate_stats at @path (negotiate/back.c: what the guest keeps of
 * revoked agreements).  Return: 0, or -errno if @path cannot be opened.
 */
static int neg_kept_each(const char *path,
			 void (*fn)(const char *res, unsigned long long v,
				    void *ctx),
			 void *ctx)
{
	char line[128], res[32];
	unsigned long long v;
	FILE *f = fopen(path, "r");

	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "kept_%31s %llu", res, &v) == 2)
			fn(res, v, ctx);
	fclose(f);
	return 0;
}

static void neg_mem_add_kept(const char *res, unsigned long long v, void *ctx)
{
	if (!strcmp(res, "memory"))
		*(uint64_t *)ctx += v;
}

/*
 * dom0: the MiB that memory agreements hold now, from every guest's slots
 * file (negotiate/back.c slots_show(): "N STATE RESOURCE TARGET MIN MAX
 * req G offers G:N applied V:G", V 0 for none), and what guests keep of
 * revoked ones (negotiate_stats: "kept_memory V").
 */
static int neg_mem_held(uint64_t *held)
{
	char path[512], line[512];
	struct dirent *e;
	DIR *d = opendir(NEG_BACK_SYS);

	*held = 0;
	if (!d)
		return -errno;
	while ((e = readdir(d))) {
		unsigned int id;
		FILE *f;

		if (sscanf(e->d_name, NEG_TYPE "-%u-0", &id) != 1)
			continue;
		snprintf(path, sizeof(path), NEG_BACK_SYS "/%s/slots",
			 e->d_name);
		f = fopen(path, "r");
		if (!f)
			continue;	/* the device went away meanwhile */
		while (fgets(line, sizeof(line), f)) {
			unsigned long long v;
			char res[32];

			if (sscanf(line,
				   "%*u %*s %31s %*u %*u %*u req %*u offers %*u:%*u applied %llu:",
				   res, &v) == 2 && !strcmp(res, "memory"))
				*held += v;
		}
		fclose(f);
		snprintf(path, sizeof(path), NEG_BACK_SYS "/%s/negotiate_stats",
			 e->d_name);
		neg_kept_each(path, neg_mem_add_kept, held);
	}
	closedir(d);
	return 0;
}

/*
 * "capacity memory auto": what Xen has free now plus what memory
 * agreements hold (those guests may keep it), in MiB.
 */
static int neg_mem_auto(char *line, size_t size)
{
	uint64_t free_mib, held;
	int err;

	err = neg_mem_free(&free_mib);
	if (err)
		return sk_fail_errno("Xen's free memory (libxl)", err);
	err = neg_mem_held(&held);
	if (err)
		return sk_fail_errno(NEG_BACK_SYS, err);
	if (held > NEG_MEM_MAX_MIB)
		held = NEG_MEM_MAX_MIB;
	if (free_mib > NEG_MEM_MAX_MIB - held)
		free_mib = NEG_MEM_MAX_MIB - held;
	snprintf(line, size, "%llu\n", (unsigned long long)(free_mib + held));
	printf("memory capacity %llu MiB (Xen free %llu, held by agreements %llu)\n",
	       (unsigned long long)(free_mib + held),
	       (unsigned long long)free_mib, (unsigned long long)held);
	return 0;
}

/*
 * dom0: "capacity RESOURCE VALUE": the module parameter of the policy
 * file's "RESOURCE.capacity" key (negpolicy.c: one table for both).
 */
static int neg_capacity(const struct sk_args *a)
{
	char key[64], path[256], line[32];
	size_t i;

	/* a name too long for any key finds none */
	if (snprintf(key, sizeof(key), "%s.capacity", a->argv[0]) >=
	    (int)sizeof(key))
		key[0] = '\0';
	for (i = 0; i < NEG_POLICY_KEYS; i++) {
		if (strcmp(key, neg_policy_keys[i].key))
			continue;
		snprintf(path, sizeof(path), NEG_PARAMS "/%s",
			 neg_policy_keys[i].param);
		if (!strcmp(a->argv[1], "auto")) {
			if (strcmp(a->argv[0], "memory")) {
				fprintf(stderr, "%s: only memory has an automatic capacity\n",
					sk_prog());
				return SK_EXIT_USAGE;
			}
			if (neg_mem_auto(line, sizeof(line)))
				return 1;
		} else {
			snprintf(line, sizeof(line), "%s\n", a->argv[1]);
		}
		return neg_sysfs_write(path, line) ? 1 : 0;
	}
	fprintf(stderr, "%s: unknown resource '%s'\n", sk_prog(), a->argv[0]);
	return SK_EXIT_USAGE;
}

/*
 * dom0: the "DOMID VALUE" of set-memory and set-vcpus, VALUE a decimal
 * number in @min..@max (@what and @unit name it in the error).
 * Return: 0, or SK_EXIT_USAGE after saying what is wrong.
 */
static int neg_domid_value(const struct sk_args *a, const char *what,
			   const char *unit, uint64_t min, uint64_t max,
			   unsigned int *domid, uint64_t *value)
{
	unsigned long long v;
	char *end;

	if (neg_domid(a->argv[0], domid)) {
		fprintf(stderr, "%s: bad domain id '%s'\n", sk_prog(),
			a->argv[0]);
		return SK_EXIT_USAGE;
	}
	errno = 0;
	v = strtoull(a->argv[1], &end, 10);
	if (errno || end == a->argv[1] || *end || a->argv[1][0] == '-' ||
	    v < min || v > max) {
		fprintf(stderr, "%s: %s '%s' is not %llu-%llu %s\n", sk_prog(),
			what, a->argv[1], (unsigned long long)min,
			(unsigned long long)max, unit);
		return SK_EXIT_USAGE;
	}
	*value = v;
	return 0;
}

/*
 * dom0: "set-memory DOMID MIB", the memory provider's apply (the kernel
 * module's mem_helper) or an administrator's.
 */
static int neg_set_memory(const struct sk_args *a)
{
	uint64_t mib, max_kib = 0;
	unsigned int domid;
	int err;

	if (neg_domid_value(a, "memory", "MiB", NEG_MEM_MIN_MIB,
			    NEG_MEM_MAX_MIB, &domid, &mib))
		return SK_EXIT_USAGE;
	err = neg_mem_set(domid, mib, &max_kib);
	if (err)
		return sk_fail_errno("set-memory (libxl)", err);
	printf("domain %u: memory target %llu MiB, Xen's maximum %llu KiB\n",
	       domid, (unsigned long long)mib, (unsigned long long)max_kib);
	return 0;
}

/*
 * dom0: "set-vcpus DOMID N", the vcpus provider's apply (the kernel
 * module's mem_helper) or an administrator's.
 */
static int neg_set_vcpus(const struct sk_args *a)
{
	unsigned int domid, max = 0;
	uint64_t n;
	int err;

	if (neg_domid_value(a, "vCPUs", "vCPUs", 1, NEG_VCPUS_MAX, &domid,
			    &n))
		return SK_EXIT_USAGE;
	err = neg_vcpus_set(domid, (unsigned int)n, &max);
	if (err == -ERANGE) {
		fprintf(stderr, "%s: domain %u has at most %u vCPUs (maxvcpus)\n",
			sk_prog(), domid, max);
		return 1;
	}
	if (err)
		return sk_fail_errno("set-vcpus (libxl)", err);
	printf("domain %u: vCPUs 0-%llu online of %u\n", domid,
	       (unsigned long long)n - 1, max);
	return 0;
}

#define NEG_POLICY_FILE	"/etc/splitkit/negotiate.conf"

/*
 * dom0: the policy file (negpolicy.c) into the module's parameters, all
 * of them, only if the whole file parses.  Each write renegotiates what
 * no longer fits.
 */
static int neg_policy(const struct sk_args *a)
{
	const char *file = a->argc ? a->argv[0] : NEG_POLICY_FILE;
	struct neg_policy pol;
	char err[160], path[256], val[32];
	FILE *f = fopen(file, "r");
	int i, rc;

	if (!f)
		return sk_fail_errno(file, -errno);
	rc = neg_policy_parse(f, &pol, err, sizeof(err));
	fclose(f);
	if (rc) {
		fprintf(stderr, "%s: %s: %s; nothing applied\n", sk_prog(),
			file, err);
		return 1;
	}
	for (i = 0; i < NEG_POLICY_KEYS; i++) {
		snprintf(path, sizeof(path), NEG_PARAMS "/%s",
			 neg_policy_keys[i].param);
		snprintf(val, sizeof(val), "%llu\n",
			 (unsigned long long)pol.value[i]);
		if (neg_sysfs_write(path, val))
			return 1;
		printf("%s = %llu (%s)\n", neg_policy_keys[i].key,
		       (unsigned long long)pol.value[i], neg_policy_keys[i].unit);
	}
	return 0;
}

/* Print one slots file, or add its lines to @arr as objects. */
static int neg_show_file(const char *path, const char *domain,
			 struct json_object *arr)
{
	char line[512];
	FILE *f = fopen(path, "r");

	if (!f)
		return sk_fail_errno(path, -errno);
	while (fgets(line, sizeof(line), f)) {
		char state[32], res[32];
		unsigned int slot, target;
		unsigned long long min, max;
		struct json_object *o;

		if (!arr) {
			printf("%s%s%s", domain ? domain : "",
			       domain ? ": " : "", line);
			continue;
		}
		if (sscanf(line, "%u %31s %31s %u %llu %llu", &slot, state,
			   res, &target, &min, &max) != 6)
			continue;
		o = json_object_new_object();
		if (domain)
			json_object_object_add(o, "domain",
					       json_object_new_string(domain));
		json_object_object_add(o, "slot", json_object_new_int(slot));
		json_object_object_add(o, "state",
				       json_object_new_string(state));
		json_object_object_add(o, "resource",
				       json_object_new_string(res));
		json_object_object_add(o, "target",
				       json_object_new_int64(target));
		json_object_object_add(o, "min", json_object_new_int64(min));
		json_object_object_add(o, "max", json_object_new_int64(max));
		line[strcspn(line, "\n")] = '\0';
		json_object_object_add(o, "line", json_object_new_string(line));
		json_object_array_add(arr, o);
	}
	fclose(f);
	return 0;
}

struct neg_kept_out {
	const char *domain;
	struct json_object *arr;	/* NULL: print lines */
};

static void neg_show_kept_one(const char *res, unsigned long long v,
			      void *ctx)
{
	struct neg_kept_out *out = ctx;
	struct json_object *o;

	if (!v)
		return;
	if (!out->arr) {
		printf("%s: kept %s %llu\n", out->domain, res, v);
		return;
	}
	o = json_object_new_object();
	json_object_object_add(o, "domain",
			       json_object_new_string(out->domain));
	json_object_object_add(o, "kept", json_object_new_string(res));
	json_object_object_add(o, "value", json_object_new_int64(v));
	json_object_array_add(out->arr, o);
}

/*
 * dom0: what a guest keeps of revoked agreements, as "DOMAIN: kept
 * PROVIDER V" lines or objects in @arr; nothing for a provider it keeps
 * none of.
 */
static int neg_show_kept(const char *path, const char *domain,
			 struct json_object *arr)
{
	struct neg_kept_out out = { .domain = domain, .arr = arr };
	int err = neg_kept_each(path, neg_show_kept_one, &out);

	return err ? sk_fail_errno(path, err) : 0;
}

/*
 * Guest: its own slots.  dom0: every guest's, each followed by what the
 * guest keeps of revoked agreements.
 */
static int neg_show(const struct sk_args *a)
{
	struct json_object *arr = a->json ? json_object_new_array() : NULL;
	char path[512], domain[32];
	struct dirent *e;
	DIR *d;
	int err = 0;

	d = opendir(NEG_BACK_SYS);
	if (!d || access(NEG_FRONT_SYS "/slots", R_OK) == 0) {
		if (d)
			closedir(d);
		err = neg_show_file(NEG_FRONT_SYS "/slots", NULL, arr);
	} else {
		while ((e = readdir(d))) {
			unsigned int id;

			if (sscanf(e->d_name, NEG_TYPE "-%u-0", &id) != 1)
				continue;
			snprintf(domain, sizeof(domain), "%u", id);
			snprintf(path, sizeof(path), NEG_BACK_SYS "/%s/slots",
				 e->d_name);
			err |= neg_show_file(path, domain, arr);
			snprintf(path, sizeof(path),
				 NEG_BACK_SYS "/%s/negotiate_stats", e->d_name);
			err |= neg_show_kept(path, domain, arr);
		}
		closedir(d);
	}
	if (arr)
		sk_json_print(arr);
	return err ? 1 : 0;
}

static const struct sk_cmd neg_cmds[] = {
	{ "attach", "DOMID",
	  "dom0: create the sk-neg device of a guest",
	  0, 1, 1, neg_attach, NULL, 0 },
	{ "detach", "DOMID",
	  "dom0: remove it (every agreement of the guest ends)",
	  0, 1, 1, neg_detach, NULL, 0 },
	{ "capacity", "RESOURCE VALUE",
	  "dom0: what a provider shares (blk.iops: requests/s, blk.bandwidth: KiB/s, memory: MiB or auto, blk.queues: rings, blk.ring: pages, vcpus: vCPUs)",
	  0, 2, 2, neg_capacity, NULL, 0 },
	{ "set-memory", "DOMID MIB",
	  "dom0: a guest's memory, Xen's maximum then the balloon target (the memory provider's apply)",
	  0, 2, 2, neg_set_memory, NULL, 0 },
	{ "set-vcpus", "DOMID N",
	  "dom0: bring a guest's vCPUs 0..N-1 online, the others offline (the vcpus provider's apply)",
	  0, 2, 2, neg_set_vcpus, NULL, 0 },
	{ "policy", "[FILE]",
	  "dom0: what may be offered, from a policy file (default " NEG_POLICY_FILE ")",
	  0, 0, 1, neg_policy, NULL, 0 },
	{ "request", "SLOT RESOURCE TARGET MIN MAX",
	  "guest: ask for a resource (e.g. 0 blk.iops 51712 100 500)",
	  0, 5, 5, neg_request, NULL, 0 },
	{ "select", "SLOT INDEX",
	  "guest: take one of the offers of a slot",
	  0, 2, 2, neg_select, NULL, 0 },
	{ "show", "",
	  "the slots: the guest's own, or in dom0 every guest's and what each keeps of revoked agreements",
	  SK_OPT_JSON, 0, 0, neg_show, NULL, 0 },
	{ NULL, NULL, NULL, 0, 0, 0, NULL, NULL, 0 },
};

const struct sk_area sk_negotiate_area = {
	.name = "negotiate",
	.summary = "resource negotiation with splitkit_negotiate (dom0 and guest)",
	.cmds = neg_cmds,
};
