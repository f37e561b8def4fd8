// SPDX-License-Identifier: GPL-2.0
/*
 * "splitkit img": create, inspect, check and maintain qcow2 disk images.
 *
 * A thin front end over the portable image core (image/core): argument
 * parsing, human and JSON output, and the loops that drive the core's
 * bounded long-operation steps with a progress bar.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <json-c/json.h>

#include "core/image.h"
#include "core/ops.h"
#include "user/platform_user.h"
#include "splitkit.h"
#include "../../backend/core/policy.h"

#define STEP_DEFAULT	256

static int open_image(const char *path, unsigned int flags,
		      struct ski_image **imgp)
{
	int err = ski_open(path, flags, imgp);

	if (err)
		fprintf(stderr, "splitkit img: cannot open %s: %s\n", path,
			strerror(-err));
	return err;
}

/* ---- create ---------------------------------------------------------- */

/*
 * Sets field @key, refusing a policy field's value that splitkit_back
 * would refuse at every attach (backend/core/policy.c) unless @force (an
 * image for a newer splitkit_back, a test of the refusal).
 */
static int set_field(struct ski_vminfo *info, const char *key,
		     const char *value, bool force)
{
	char why[192];
	int err;

	err = skb_policy_value_check(key, value, why, sizeof(why));
	if (err && !force) {
		fprintf(stderr, "splitkit img: field '%s': splitkit_back would refuse every attach: %s (img meta set --force writes it)\n",
			key, why);
		return err;
	}
	err = ski_vminfo_set(info, key, value);
	if (err == -EINVAL)
		fprintf(stderr, "splitkit img: field '%s': bad key or value (keys: a-z 0-9 - _ ., at most %d; required takes 0 or 1)\n",
			key, SKI_VM_KEY_MAX);
	else if (err == -E2BIG)
		fprintf(stderr, "splitkit img: field '%s': a value of %zu bytes is over a field's limit of %d bytes\n",
			key, strlen(value), SKI_VM_VALUE_MAX);
	else if (err == -ENOSPC)
		fprintf(stderr, "splitkit img: field '%s': the VM information is full (at most %d fields, tags and history records; meta rm makes room)\n",
			key, SKI_VM_MAX_ENTRIES);
	else if (err)
		fprintf(stderr, "splitkit img: field '%s': %s\n", key,
			strerror(-err));
	return err;
}

static int set_pair(struct ski_vminfo *info, const char *pair)
{
	char key[SKI_VM_KEY_MAX + 1];
	const char *eq = strchr(pair, '=');

	if (!eq || eq == pair || (size_t)(eq - pair) > SKI_VM_KEY_MAX) {
		fprintf(stderr, "splitkit img: expected KEY=VALUE, got '%s'\n",
			pair);
		return -EINVAL;
	}
	memcpy(key, pair, eq - pair);
	key[eq - pair] = 0;
	return set_field(info, key, eq + 1, false);
}

/*
 * The guest size a backing file at @path of format @fmt gives, in bytes
 * (a raw file's or device's end rounded up to a sector: its last sector
 * may be partial and reads as zeros).  With no format (NULL) it is only
 * looked at: *@size stays 0.
 */
static int backing_size(const char *path, const char *fmt, u64 *size)
{
	struct ski_image *base;
	struct stat st;
	off_t end;
	int fd, err;

	if (!fmt)
		return stat(path, &st) ? -errno : 0;
	if (strcmp(fmt, "raw")) {
		err = ski_open(path, SKI_OPEN_NO_BACKING, &base);
		if (!err) {
			*size = ski_image_header(base)->size;
			ski_close(base);
		}
		return err;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	end = lseek(fd, 0, SEEK_END);
	err = end < 0 ? -errno : 0;
	close(fd);
	if (!err)
		*size = ((u64)end + 511) & ~511ULL;
	return err;
}

/*
 * The backing file named in @co must be there (and not be the new image
 * itself): opened as its format says (-F), or only looked at without -F,
 * where no format is recorded (splitkit_back refuses such an image).  Its
 * guest size goes to @co when none was given.  The name is relative to
 * the new image's directory.
 */
static int backing_check(const char *image, struct ski_create_opts *co)
{
	const char *slash = strrchr(image, '/');
	u64 size = 0;
	char *path;
	int err;

	if (slash && co->backing_file[0] != '/') {
		if (asprintf(&path, "%.*s%s", (int)(slash - image + 1), image,
			     co->backing_file) < 0)
			path = NULL;
	} else {
		path = strdup(co->backing_file);
	}
	if (!path)
		return sk_fail_errno(co->backing_file, -ENOMEM);
	if (!strcmp(path, image)) {
		fprintf(stderr, "splitkit img: %s cannot be its own backing file\n",
			image);
		err = -EINVAL;
	} else {
		err = backing_size(path, co->backing_format, &size);
		if (err)
			fprintf(stderr, "splitkit img: cannot open %s: %s\n",
				path, strerror(-err));
		else if (!co->backing_format)
			fprintf(stderr,
				"splitkit img: warning: no backing format recorded (-F): splitkit_back will not attach %s\n",
				image);
	}
	if (!err && !co->size)
		co->size = size;
	free(path);
	return err;
}

/*
 * -F names the backing file's format, qcow2 or raw, and only with -b;
 * without it the size must be given (the backing file's format is never
 * guessed from its contents: Documentation/image.rst).
 */
static int check_backing_opts(const struct sk_args *a)
{
	const char *f = a->backing_format;

	if (f && !a->backing) {
		fprintf(stderr, "splitkit img: -F (--backing-format) without -b\n");
		return -EINVAL;
	}
	if (f && strcmp(f, "qcow2") && strcmp(f, "raw")) {
		fprintf(stderr, "splitkit img: backing format '%s': qcow2 or raw\n",
			f);
		return -EINVAL;
	}
	if (a->backing && !f && a->argc < 2) {
		fprintf(stderr, "splitkit img: a backing file without -F: give the size\n");
		return -EINVAL;
	}
	return 0;
}

static int cmd_create(const struct sk_args *a)
{
	struct ski_create_opts co = {
		.backing_file = a->backing,
		.backing_format = a->backing_format,
	};
	struct ski_vminfo info = { 0 };
	uint64_t cluster = 65536;
	int i, err, ret = 1;

	if (a->cluster && (sk_parse_size(a->cluster, &cluster) ||
			   cluster < 512 || cluster > (2 << 20) ||
			   (cluster & (cluster - 1)))) {
		fprintf(stderr, "splitkit img: cluster size must be a power "
			"of two, 512..2M\n");
		return 1;
	}
	if (check_backing_opts(a))
		return 1;
	for (i = 0; i < a->nr_metas; i++)
		if (set_pair(&info, a->metas[i]))
			goto free_info;
	co.cluster_bits = __builtin_ctzll(cluster);
	if (a->argc == 2) {
		if (sk_parse_size(a->argv[1], &co.size) || co.size % 512) {
			fprintf(stderr, "splitkit img: bad size '%s' (a multiple of 512 bytes)\n",
				a->argv[1]);
			goto free_info;
		}
	} else if (!co.backing_file) {
		ret = sk_usage_error(a);
		goto free_info;
	}
	if (co.backing_file && backing_check(a->argv[0], &co))
		goto free_info;
	ski_vminfo_add_history(&info, "created", skp_time(), NULL);
	co.vminfo = &info;
	err = ski_create(a->argv[0], &co);
	if (err) {
		ret = sk_fail_errno(a->argv[0], err);
		goto free_info;
	}
	ret = 0;
free_info:
	ski_vminfo_free(&info);
	return ret;
}

/* ---- info ------------------------------------------------------------- */

static struct json_object *vminfo_json(const struct ski_vminfo *info)
{
	struct json_object *obj = json_object_new_object();
	struct json_object *fields = json_object_new_object();
	struct json_object *tags = json_object_new_array();
	struct json_object *history = json_object_new_array();
	unsigned int i;

	json_object_object_add(obj, "required", json_object_new_boolean(
				       info->flags & SKI_VMINFO_F_REQUIRED));
	for (i = 0; i < info->nr; i++) {
		const struct ski_vm_entry *e = &info->entries[i];
		struct json_object *rec;

		switch (e->type) {
		case SKI_VM_FIELD:
			json_object_object_add(fields, e->key,
					       json_object_new_string(e->value));
			break;
		case SKI_VM_TAG:
			json_object_array_add(tags,
					      json_object_new_string(e->value));
			break;
		case SKI_VM_HISTORY:
			rec = json_object_new_object();
			json_object_object_add(rec, "op",
					       json_object_new_string(e->key));
			json_object_object_add(rec, "time",
					       json_object_new_uint64(e->time));
			json_object_object_add(rec, "note",
					       json_object_new_string(e->value));
			json_object_array_add(history, rec);
			break;
		}
	}
	json_object_object_add(obj, "fields", fields);
	json_object_object_add(obj, "tags", tags);
	json_object_object_add(obj, "history", history);
	return obj;
}

static void print_vminfo_human(const struct ski_vminfo *info)
{
	unsigned int i;

	if (info->flags & SKI_VMINFO_F_REQUIRED)
		printf("  required: yes\n");
	for (i = 0; i < info->nr; i++) {
		const struct ski_vm_entry *e = &info->entries[i];
		char when[32];
		time_t t = e->time;

		/* (what the image says is printed escaped: sk_put_text()) */
		switch (e->type) {
		case SKI_VM_FIELD:
			printf("  ");
			sk_put_text(stdout, e->key, true);
			printf(": ");
			break;
		case SKI_VM_TAG:
			printf("  tag: ");
			break;
		case SKI_VM_HISTORY:
			strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S",
				 gmtime(&t));
			printf("  history: %s ", when);
			sk_put_text(stdout, e->key, true);
			printf("%s", e->value[0] ? " " : "");
			break;
		}
		sk_put_text(stdout, e->value, true);
		printf("\n");
	}
}

/* As splitkit_back decides at attach (backend/core/policy.c). */
static bool expired(const struct ski_vminfo *info)
{
	return skb_policy_expired(info, (u64)time(NULL));
}

static void add_u64(struct json_object *obj, const char *key, uint64_t v)
{
	json_object_object_add(obj, key, json_object_new_uint64(v));
}

static void add_str(struct json_object *obj, const char *key, const char *v)
{
	json_object_object_add(obj, key, json_object_new_string(v));
}

static void add_bool(struct json_object *obj, const char *key, bool v)
{
	json_object_object_add(obj, key, json_object_new_boolean(v));
}

static void info_json(const char *path, const struct ski_header *h,
		      const struct ski_vminfo *vm, u64 file_size)
{
	struct json_object *obj = json_object_new_object();

	add_str(obj, "filename", path);
	add_str(obj, "format", "qcow2");
	add_u64(obj, "virtual-size", h->size);
	add_u64(obj, "cluster-size", 1ULL << h->cluster_bits);
	add_u64(obj, "file-size", file_size);
	add_u64(obj, "refcount-bits", 1U << h->refcount_order);
	add_bool(obj, "dirty", h->incompatible_features & QCOW2_INCOMPAT_DIRTY);
	add_bool(obj, "corrupt",
		 h->incompatible_features & QCOW2_INCOMPAT_CORRUPT);
	add_u64(obj, "snapshots", h->nb_snapshots);
	if (h->backing_file[0]) {
		add_str(obj, "backing-filename", h->backing_file);
		if (h->backing_format[0])
			add_str(obj, "backing-format", h->backing_format);
	}
	if (vm) {
		add_bool(obj, "expired", expired(vm));
		json_object_object_add(obj, "vm", vminfo_json(vm));
	}
	sk_json_print(obj);
}

static void info_human(const char *path, const struct ski_header *h,
		       const struct ski_vminfo *vm, u64 file_size)
{
	printf("image: %s\nformat: qcow2 (v3)\n"
	       "virtual size: %" PRIu64 " bytes\n"
	       "file size: %" PRIu64 " bytes\n"
	       "cluster size: %" PRIu64 "\nrefcount bits: %u\n",
	       path, (uint64_t)h->size, (uint64_t)file_size,
	       (uint64_t)1 << h->cluster_bits, 1U << h->refcount_order);
	if (h->backing_file[0]) {
		printf("backing file: ");
		sk_put_text(stdout, h->backing_file, true);
		if (h->backing_format[0]) {
			printf(" (format ");
			sk_put_text(stdout, h->backing_format, true);
			printf(")");
		}
		printf("\n");
	}
	if (h->incompatible_features & QCOW2_INCOMPAT_DIRTY)
		printf("dirty: yes\n");
	if (h->incompatible_features & QCOW2_INCOMPAT_CORRUPT)
		printf("corrupt: yes\n");
	if (h->nb_snapshots)
		printf("internal snapshots: %u\n", h->nb_snapshots);
	if (vm) {
		printf("VM information:%s\n", expired(vm) ? " (EXPIRED)" : "");
		print_vminfo_human(vm);
	}
}

static int cmd_info(const struct sk_args *a)
{
	struct ski_image *img;
	u64 file_size = 0;

	if (open_image(a->argv[0], SKI_OPEN_NO_BACKING, &img))
		return 1;
	ski_image_file_size(img, &file_size);
	(a->json ? info_json : info_human)(a->argv[0], ski_image_header(img),
					   ski_image_vminfo(img), file_size);
	ski_close(img);
	return 0;
}

/* ---- check ------------------------------------------------------------ */

static int cmd_check(const struct sk_args *a)
{
	const char *path = a->argv[0];
	struct ski_check_result res;
	struct ski_image *img;
	int err;

	/* a structure too corrupt to open is an error found, as qemu-img's 2 */
	err = open_image(path, SKI_OPEN_NO_BACKING |
			 (a->repair ? SKI_OPEN_RW : 0), &img);
	if (err)
		return err == -EUCLEAN ? 2 : 1;
	err = ski_check(img, a->repair ? SKI_CHECK_REPAIR_LEAKS : 0, &res);
	ski_close(img);
	if (err) {
		sk_fail_errno(path, err);
		return err == -EUCLEAN ? 2 : 1;
	}
	if (a->json) {
		struct json_object *obj = json_object_new_object();

		add_str(obj, "filename", path);
		add_u64(obj, "check-errors", res.errors);
		add_u64(obj, "leaks", res.leaks);
		add_u64(obj, "leaks-fixed", res.leaks_fixed);
		add_u64(obj, "allocated-clusters", res.allocated_clusters);
		add_u64(obj, "image-end-offset", res.image_end);
		sk_json_print(obj);
	} else {
		printf("%s: %" PRIu64 " errors, %" PRIu64 " leaked clusters"
		       "%s, %" PRIu64 " clusters allocated, image end %" PRIu64
		       "\n", path, (uint64_t)res.errors, (uint64_t)res.leaks,
		       res.leaks_fixed ? " (repaired)" : "",
		       (uint64_t)res.allocated_clusters,
		       (uint64_t)res.image_end);
	}
	if (res.errors)
		return 2;
	if (res.leaks > res.leaks_fixed)
		return 3;
	return 0;
}

/* ---- map -------------------------------------------------------------- */

static const char *const kind_names[] = {
	[SKI_UNALLOCATED] = "unallocated", [SKI_ZERO] = "zero",
	[SKI_DATA] = "data", [SKI_COMPRESSED] = "compressed",
};

/* A run of guest clusters of one kind, contiguous in the file if data. */
struct map_run {
	enum ski_cluster_kind kind;
	u64 start, len, host;
};

static void map_emit(const struct map_run *r, struct json_object *runs)
{
	bool offset = r->host && r->kind != SKI_COMPRESSED;
	struct json_object *obj;

	if (!runs) {
		printf("%#14" PRIx64 " %#14" PRIx64 " %-12s", (uint64_t)r->start,
		       (uint64_t)r->len, kind_names[r->kind]);
		if (offset)
			printf(" %#" PRIx64, (uint64_t)r->host);
		printf("\n");
		return;
	}
	obj = json_object_new_object();
	add_u64(obj, "start", r->start);
	add_u64(obj, "length", r->len);
	add_str(obj, "type", kind_names[r->kind]);
	if (offset)
		add_u64(obj, "offset", r->host);
	json_object_array_add(runs, obj);
}

/*
 * What guest cluster @gc is, and in @span how many clusters from it on are
 * the same for certain: a whole range without an L2 table at once.
 */
static int cluster_status(struct ski_image *img, u64 gc,
			  enum ski_cluster_kind *kind, u64 *host, u64 *span)
{
	*span = ski_l2_absent_span(img, gc);
	if (*span) {
		*kind = SKI_UNALLOCATED;
		*host = 0;
		return 0;
	}
	*span = 1;
	return ski_block_status(img, gc, kind, host);
}

static int cmd_map(const struct sk_args *a)
{
	struct json_object *runs = a->json ? json_object_new_array() : NULL;
	enum ski_cluster_kind kind = SKI_UNALLOCATED;
	struct map_run run = { 0 };
	const struct ski_header *h;
	struct ski_image *img;
	u64 gc, host = 0, nr, size, span;
	u32 bits;
	int err = 0;

	if (open_image(a->argv[0], SKI_OPEN_NO_BACKING, &img)) {
		json_object_put(runs);
		return 1;
	}
	h = ski_image_header(img);
	bits = h->cluster_bits;
	size = h->size;
	nr = (size + (1ULL << bits) - 1) >> bits;
	for (gc = 0; gc <= nr; gc += span) {
		span = 1;
		if (gc < nr) {
			err = cluster_status(img, gc, &kind, &host, &span);
			if (err)
				break;
			if (run.len && kind == run.kind &&
			    (kind == SKI_COMPRESSED ||
			     (!!host == !!run.host &&
			      (!host || host == run.host + run.len))))
			{
				run.len += span << bits;
				continue;
			}
		}
		if (run.len) {
			if (run.start + run.len > size)
				run.len = size - run.start;
			map_emit(&run, runs);
		}
		run.start = gc << bits;
		run.kind = kind;
		run.host = host;
		run.len = span << bits;
	}
	ski_close(img);
	if (runs && !err)
		sk_json_print(runs);
	else
		json_object_put(runs);
	return err ? sk_fail_errno(a->argv[0], err) : 0;
}

/* ---- meta ------------------------------------------------------------- */

static int save_vminfo(struct ski_image *img, struct ski_vminfo *info)
{
	int err = ski_set_vminfo(img, info);

	if (err == -ENOSPC)
		fprintf(stderr, "splitkit img: VM information does not fit in "
			"the header cluster\n");
	else if (err == -EPERM)
		fprintf(stderr, "splitkit img: %s: its VM information is not readable by this splitkit (see above) and was left as it is; 'img meta set --force' replaces it\n",
			ski_image_path(img));
	else if (err)
		sk_fail_errno(ski_image_path(img), err);
	return err;
}

static int cmd_meta_list(const struct sk_args *a)
{
	const struct ski_vminfo *vm;
	struct ski_image *img;

	if (open_image(a->argv[0], SKI_OPEN_NO_BACKING, &img))
		return 1;
	vm = ski_image_vminfo(img);
	if (a->json)
		sk_json_print(vm ? vminfo_json(vm) : NULL);
	else if (vm)
		print_vminfo_human(vm);
	ski_close(img);
	return 0;
}

/*
 * meta get's keys that are not fields: "tag" prints each tag on a line of
 * its own (none: exit 1, as a missing field), "required" prints 1 or 0.
 * Return: the exit status, or -1 for a field's key.
 */
static int meta_get_special(const char *path, const struct ski_vminfo *vm,
			    const char *key)
{
	unsigned int i, tags = 0;

	if (!strcmp(key, "required")) {
		printf("%d\n", vm && (vm->flags & SKI_VMINFO_F_REQUIRED) ? 1 : 0);
		return 0;
	}
	if (strcmp(key, "tag"))
		return -1;
	for (i = 0; vm && i < vm->nr; i++) {
		if (vm->entries[i].type != SKI_VM_TAG)
			continue;
		/* one a line: a newline in a tag is escaped, always */
		sk_put_text(stdout, vm->entries[i].value, true);
		printf("\n");
		tags++;
	}
	if (!tags)
		fprintf(stderr, "splitkit img: %s has no tag\n", path);
	return tags ? 0 : 1;
}

static int cmd_meta_get(const struct sk_args *a)
{
	const char *path = a->argv[0], *v = NULL;
	struct ski_image *img;
	int ret;

	if (open_image(path, SKI_OPEN_NO_BACKING, &img))
		return 1;
	ret = meta_get_special(path, ski_image_vminfo(img), a->argv[1]);
	if (ret >= 0) {
		ski_close(img);
		return ret;
	}
	if (ski_image_vminfo(img))
		v = ski_vminfo_get(ski_image_vminfo(img), a->argv[1]);
	if (v) {
		sk_put_text(stdout, v, false);
		printf("\n");
	}
	else
		fprintf(stderr, "splitkit img: %s has no field '%s' (meta list shows its fields)\n",
			path, a->argv[1]);
	ski_close(img);
	return v ? 0 : 1;
}

static int cmd_meta_copy(const struct sk_args *a)
{
	struct ski_vminfo info = { 0 };
	struct ski_image *img, *dst;
	int err, ret = 1;

	if (open_image(a->argv[0], SKI_OPEN_NO_BACKING, &img))
		return 1;
	if (open_image(a->argv[1], SKI_OPEN_NO_BACKING | SKI_OPEN_RW, &dst)) {
		ski_close(img);
		return 1;
	}
	if (ski_image_vminfo(img)) {
		err = ski_vminfo_copy(&info, ski_image_vminfo(img));
		if (!err)
			err = save_vminfo(dst, &info);
		if (!err)
			err = ski_note_history(dst, "restored", "meta copy");
		ret = err ? 1 : 0;
	} else {
		fprintf(stderr, "splitkit img: %s has no VM information\n",
			a->argv[0]);
	}
	ski_vminfo_free(&info);
	ski_close(dst);
	ski_close(img);
	return ret;
}

enum { META_SET, META_RM };

/* rm takes a VALUE for key "tag" (the tag to drop) and for no other. */
static int meta_rm_args(const struct sk_args *a)
{
	bool tag = !strcmp(a->argv[1], "tag");

	if (tag == (a->argc == 3))
		return 0;
	fprintf(stderr, tag ? "splitkit img: meta rm FILE tag TAG: which tag?\n" :
		"splitkit img: meta rm FILE %s: a VALUE is only taken with key 'tag'\n",
		a->argv[1]);
	return -EINVAL;
}

/* set FILE KEY VALUE, rm FILE KEY [VALUE]: edit a copy, write it back. */
static int cmd_meta_edit(const struct sk_args *a)
{
	const char *path = a->argv[0];
	struct ski_vminfo info = { 0 };
	struct ski_image *img;
	int err;

	if (a->cmd->kind == META_RM && meta_rm_args(a))
		return SK_EXIT_USAGE;
	if (open_image(path, SKI_OPEN_NO_BACKING | SKI_OPEN_RW, &img))
		return 1;
	err = ski_image_vminfo(img) ?
	      ski_vminfo_copy(&info, ski_image_vminfo(img)) : 0;
	if (a->force)
		ski_vminfo_forget(img);
	if (err) {
		sk_fail_errno(path, err);
	} else if (a->cmd->kind == META_SET) {
		err = set_field(&info, a->argv[1], a->argv[2], a->force);
	} else if (!strcmp(a->argv[1], "required") &&
		   !(info.flags & SKI_VMINFO_F_REQUIRED)) {
		/* as a field that is not there: nothing to remove */
		fprintf(stderr, "splitkit img: %s: not required\n", path);
		err = -ENOENT;
	} else {
		err = ski_vminfo_remove(&info, a->argv[1],
					a->argc == 3 ? a->argv[2] : NULL);
		if (err == -ENOENT)
			fprintf(stderr, "splitkit img: %s: no such %s\n", path,
				a->argc == 3 ? "tag" : "field");
		else if (err)
			sk_fail_errno(path, err);
	}
	if (!err)
		err = save_vminfo(img, &info);
	ski_vminfo_free(&info);
	ski_close(img);
	return err ? 1 : 0;
}

/* ---- search ----------------------------------------------------------- */

static struct {
	const struct sk_args *args;
	char **pairs;
	int nr_pairs;
	struct json_object *found_json;
	int found;
	int skipped;
	char *dir;		/* DIR as given, without trailing slashes */
	char *walk;		/* what nftw() walks: DIR/. */
	char *path;		/* scratch: DIR joined with a walked path */
} search;

static bool matches(const struct ski_vminfo *info)
{
	int i;

	for (i = 0; i < search.args->nr_tags; i++)
		if (!ski_vminfo_has_tag(info, search.args->tags[i]))
			return false;
	for (i = 0; i < search.nr_pairs; i++) {
		char *eq = strchr(search.pairs[i], '=');
		const char *v;

		*eq = 0;
		v = ski_vminfo_get(info, search.pairs[i]);
		*eq = '=';
		if (!v || strcmp(v, eq + 1))
			return false;
	}
	return true;
}

/*
 * The name of @walked, a path nftw() gave under "DIR/." (so that a DIR
 * that is a symbolic link is walked): DIR joined with the rest.  It names
 * the same file from the current directory.
 */
static const char *search_name(const char *walked)
{
	size_t n = strlen(search.dir), w = strlen(search.walk);

	if (strncmp(walked, search.walk, w) || (walked[w] && walked[w] != '/'))
		return walked;
	if (!walked[w])
		return search.dir;
	free(search.path);
	if (asprintf(&search.path, "%s%s%s", search.dir,
		     n && search.dir[n - 1] == '/' ? "" : "/",
		     walked + w + 1) < 0) {
		search.path = NULL;
		return walked;
	}
	return search.path;
}

/* A file or directory search could not look into, named as grep does. */
static void search_skipped(const char *path, const char *why)
{
	fprintf(stderr, "splitkit img: ");
	sk_put_text(stderr, path, false);
	fprintf(stderr, ": %s (skipped)\n", why);
	search.skipped++;
}

static int search_visit(const char *walked, const struct stat *st, int type,
			struct FTW *ftw)
{
	const char *path = search_name(walked);
	const struct ski_vminfo *vm;
	struct ski_image *img;
	unsigned char magic[4];
	FILE *f;
	int err;

	if (type == FTW_DNR || type == FTW_NS) {
		/* a directory it cannot list, a name it cannot stat */
		search_skipped(path, strerror(errno));
		return 0;
	}
	if (type != FTW_F || st->st_size < 512)
		return 0;
	f = fopen(path, "rb");
	if (!f) {
		search_skipped(path, strerror(errno));
		return 0;
	}
	if (fread(magic, 1, 4, f) != 4 || memcmp(magic, "QFI\xfb", 4)) {
		if (ferror(f))
			search_skipped(path, "read error");
		fclose(f);
		return 0;
	}
	fclose(f);
	/* a qcow2 image it cannot open (the engine says why first) */
	err = ski_open(path, SKI_OPEN_NO_BACKING, &img);
	if (err) {
		search_skipped(path, strerror(-err));
		return 0;
	}
	/* VM information it could not read (the engine warned why) */
	if (ski_image_vminfo_unread(img))
		search_skipped(path, "VM information not readable");
	vm = ski_image_vminfo(img);
	if (vm && matches(vm)) {
		if (search.found_json) {
			struct json_object *obj = json_object_new_object();

			add_str(obj, "filename", path);
			json_object_object_add(obj, "vm", vminfo_json(vm));
			json_object_array_add(search.found_json, obj);
		} else {
			/* a file's name is anyone's: escaped on a terminal */
			sk_put_text(stdout, path, false);
			printf("\n");
		}
		search.found++;
	}
	ski_close(img);
	return 0;
}

static int cmd_search(const struct sk_args *a)
{
	const char *dir = a->argv[a->argc - 1];
	size_t n;
	int i, err;

	memset(&search, 0, sizeof(search));
	search.args = a;
	search.pairs = a->argv;
	search.nr_pairs = a->argc - 1;
	for (i = 0; i < search.nr_pairs; i++)
		if (!strchr(search.pairs[i], '='))
			return sk_usage_error(a);
	if (!*dir) {
		/* an empty name names nothing (DIR/. would be the root) */
		fprintf(stderr, "splitkit img: cannot walk '': %s\n",
			strerror(ENOENT));
		return 1;
	}
	/*
	 * As grep -r: a DIR that is a symbolic link is followed (the walk
	 * starts at DIR/.), links inside the tree are not (FTW_PHYS).
	 */
	search.dir = strdup(dir);
	if (!search.dir)
		return sk_fail_errno(dir, -ENOMEM);
	for (n = strlen(search.dir); n > 1 && search.dir[n - 1] == '/'; n--)
		search.dir[n - 1] = 0;
	if (asprintf(&search.walk, "%s%s.", search.dir,
		     search.dir[n - 1] == '/' ? "" : "/") < 0) {
		free(search.dir);
		return sk_fail_errno(dir, -ENOMEM);
	}
	if (a->json)
		search.found_json = json_object_new_array();
	err = nftw(search.walk, search_visit, 16, FTW_PHYS) ? -errno : 0;
	if (err) {
		fprintf(stderr, "splitkit img: cannot walk %s: %s\n", dir,
			strerror(-err));
		json_object_put(search.found_json);
	} else if (a->json) {
		sk_json_print(search.found_json);
	}
	if (search.skipped)
		fprintf(stderr, "splitkit img: %d skipped (unreadable, or an image it cannot open or read): the result may be incomplete\n",
			search.skipped);
	free(search.path);
	free(search.walk);
	free(search.dir);
	return !err && search.found ? 0 : 1;
}

/* ---- long operations -------------------------------------------------- */

static int cmd_op(const struct sk_args *a)
{
	static const char *const names[] = {
		[SKI_OP_COMPACT] = "compact", [SKI_OP_DEFRAG] = "defrag",
		[SKI_OP_COMMIT] = "merge", [SKI_OP_STREAM] = "stream" };
	/* (merge and stream record their own history: image/core/merge.c) */
	static const char *const history[] = {
		[SKI_OP_COMPACT] = "compacted",
		[SKI_OP_DEFRAG] = "defragmented",
		[SKI_OP_COMMIT] = NULL, [SKI_OP_STREAM] = NULL };
	enum ski_op_kind kind = a->cmd->kind;
	uint64_t step = a->step ? a->step : STEP_DEFAULT;
	u64 size_before = 0, size_after = 0;
	const char *path = a->argv[0];
	struct ski_image *img;
	struct ski_op op;
	int err;

	if (a->stream)
		kind = SKI_OP_STREAM;
	if (open_image(path, SKI_OPEN_RW, &img))
		return 1;
	ski_image_file_size(img, &size_before);
	err = ski_op_begin(&op, img, kind);
	while (!err) {
		err = ski_op_step(&op, step);
		sk_progress(names[kind], op.done, op.total);
		if (err == 1)
			break;
	}
	sk_progress_end();
	ski_op_end(&op);
	if (err == 1 && history[kind])
		err = ski_note_history(img, history[kind], NULL);
	else if (err == 1)
		err = 0;
	ski_image_file_size(img, &size_after);
	ski_close(img);
	if (err)
		return sk_fail_errno(path, err);
	printf("%s: %s done, %" PRIu64 " clusters moved, file %" PRIu64
	       " -> %" PRIu64 " bytes\n", path, names[kind],
	       (uint64_t)op.moved, (uint64_t)size_before,
	       (uint64_t)size_after);
	return 0;
}

/* ---- raw helpers (tests, scripting) ----------------------------------- */

#define RAW_CHUNK	(1U << 20)

/* Is @file (NULL: none) the file @st describes? */
static bool same_file(struct skp_file *file, const struct stat *st)
{
	struct stat is;

	return file && !fstat(skp_user_fd(file), &is) &&
	       is.st_dev == st->st_dev && is.st_ino == st->st_ino;
}

/*
 * Is @st the file of @img or a file of its backing chain, a raw one at
 * its end included?  (An export there would truncate what it is reading.)
 */
static bool in_chain(struct ski_image *img, const struct stat *st)
{
	for (; img; img = ski_image_backing(img))
		if (same_file(ski_image_file(img), st) ||
		    same_file(ski_image_backing_raw(img), st))
			return true;
	return false;
}

static int cmd_export(const struct sk_args *a)
{
	const char *to = a->argv[1];
	struct ski_image *img;
	u64 off, n, size;
	bool created;
	struct stat st;
	FILE *out;
	char *buf;
	int err = 0;

	if (open_image(a->argv[0], 0, &img))
		return 1;
	size = ski_image_header(img)->size;
	created = stat(to, &st) && errno == ENOENT;
	if (!created && in_chain(img, &st)) {
		fprintf(stderr,
			"splitkit img: %s is %s or one of its backing files: not overwritten\n",
			to, a->argv[0]);
		ski_close(img);
		return 1;
	}
	buf = malloc(RAW_CHUNK);
	if (!buf) {
		ski_close(img);
		return sk_fail_errno(a->argv[0], -ENOMEM);
	}
	out = fopen(to, "wb");
	if (!out) {
		err = sk_fail_errno(to, -errno);
		goto free_buf;
	}
	for (off = 0; off < size; off += n) {
		n = size - off < RAW_CHUNK ? size - off : RAW_CHUNK;
		err = ski_read(img, buf, n, off);
		if (err) {
			err = sk_fail_errno(a->argv[0], err);
			break;
		}
		if (fwrite(buf, 1, n, out) != n) {
			err = sk_fail_errno(to, -EIO);
			break;
		}
	}
	if (fclose(out) && !err)
		err = sk_fail_errno(to, -EIO);
	/* no half a disk left behind under a name that was free */
	if (err && created)
		unlink(to);
free_buf:
	free(buf);
	ski_close(img);
	return err;
}

/*
 * Whether [@off, @off + @len) passes the end of a disk of @size bytes;
 * says so, naming @path, when it does.
 */
static bool past_end(const char *path, uint64_t off, uint64_t len,
		     uint64_t size)
{
	if (off <= size && len <= size - off)
		return false;
	fprintf(stderr, "splitkit img: %s: %llu bytes at offset %llu pass the disk's end (%llu bytes)\n",
		path, (unsigned long long)len, (unsigned long long)off,
		(unsigned long long)size);
	return true;
}

static int cmd_write(const struct sk_args *a)
{
	struct ski_image *img;
	uint64_t off, size, start;
	struct stat st;
	bool reported = false;
	size_t n;
	FILE *in;
	char *buf;
	int err = 0, flushed;

	if (sk_parse_size(a->argv[2], &off))
		return sk_usage_error(a);
	in = fopen(a->argv[1], "rb");
	if (!in)
		return sk_fail_errno(a->argv[1], -errno);
	if (open_image(a->argv[0], SKI_OPEN_RW, &img)) {
		fclose(in);
		return 1;
	}
	size = ski_image_header(img)->size;
	start = off;
	/* a file's length is known: nothing is written past the end */
	if (!fstat(fileno(in), &st) && S_ISREG(st.st_mode) && st.st_size &&
	    past_end(a->argv[0], off, st.st_size, size)) {
		fclose(in);
		ski_close(img);
		return 1;
	}
	buf = malloc(RAW_CHUNK);
	while (buf && !err && (n = fread(buf, 1, RAW_CHUNK, in)) > 0) {
		/*
		 * A pipe's is not: the chunk that passes the end is refused
		 * whole, the chunks before it stay written.
		 */
		if (past_end(a->argv[0], off, n, size)) {
			if (off > start)
				fprintf(stderr, "splitkit img: %s: the input's first %llu bytes were written\n",
					a->argv[0],
					(unsigned long long)(off - start));
			err = -EINVAL;
			reported = true;
			break;
		}
		err = ski_write(img, buf, n, off);
		off += n;
	}
	if (!buf)
		err = -ENOMEM;
	/* what was read is written either way; a short input is an error */
	if (!err && ferror(in)) {
		fprintf(stderr, "splitkit img: reading %s failed\n",
			a->argv[1]);
		err = -EIO;
	}
	/* the new clusters' mappings are written (and made durable) here */
	flushed = ski_flush(img);
	if (flushed && reported)
		sk_fail_errno(a->argv[0], flushed);
	if (!err)
		err = flushed;
	free(buf);
	fclose(in);
	ski_close(img);
	if (err && reported)
		return 1;
	return err ? sk_fail_errno(a->argv[0], err) : 0;
}

static int cmd_discard(const struct sk_args *a)
{
	struct ski_image *img;
	uint64_t off, len;
	int err;

	if (sk_parse_size(a->argv[1], &off) || sk_parse_size(a->argv[2], &len))
		return sk_usage_error(a);
	if (open_image(a->argv[0], SKI_OPEN_RW, &img))
		return 1;
	if (past_end(a->argv[0], off, len, ski_image_header(img)->size)) {
		ski_close(img);
		return 1;
	}
	err = ski_discard(img, off, len);
	ski_close(img);
	return err ? sk_fail_errno(a->argv[0], err) : 0;
}

/* ---- the area --------------------------------------------------------- */

/* name, synopsis, summary, options, operands min and max, handler */
#define SK_CMD(n, syn, sum, o, mn, mx, fn, ...)				\
	{ .name = n, .synopsis = syn, .summary = sum, .opts = o,	\
	  .min_args = mn, .max_args = mx, .run = fn, __VA_ARGS__ }

static const struct sk_cmd meta_cmds[] = {
	SK_CMD("list", "[--json] FILE", "print the VM information",
	  SK_OPT_JSON, 1, 1, cmd_meta_list),
	SK_CMD("get", "FILE KEY", "print one field", 0, 2, 2, cmd_meta_get),
	SK_CMD("set", "[-f] FILE KEY VALUE", "set a field (tag adds a tag)",
	  SK_OPT_FORCE, 3, 3, cmd_meta_edit, .kind = META_SET),
	SK_CMD("rm", "FILE KEY [VALUE]", "remove a field, or one tag",
	  0, 2, 3, cmd_meta_edit, .kind = META_RM),
	SK_CMD("copy", "FROM TO", "copy the VM information to another image",
	  0, 2, 2, cmd_meta_copy),
	{ }
};

static const struct sk_cmd img_cmds[] = {
	SK_CMD("create", "[-c CLUSTER] [-b BACKING [-F qcow2|raw]] "
	  "[-m KEY=VALUE]... FILE [SIZE]", "create a qcow2 v3 image",
	  SK_OPT_CLUSTER | SK_OPT_BACKING | SK_OPT_BACKING_FMT | SK_OPT_META,
	  1, 2, cmd_create),
	SK_CMD("info", "[--json] FILE", "describe an image",
	  SK_OPT_JSON, 1, 1, cmd_info),
	SK_CMD("check", "[-r] [--json] FILE",
	  "check refcounts; exit 0 clean, 2 errors, 3 leaks",
	  SK_OPT_JSON | SK_OPT_REPAIR, 1, 1, cmd_check),
	SK_CMD("map", "[--json] FILE", "what each guest range is and where",
	  SK_OPT_JSON, 1, 1, cmd_map),
	{ .name = "meta", .summary = "VM information", .sub = meta_cmds },
	SK_CMD("search", "[--json] [-t TAG]... [KEY=VALUE]... DIR",
	  "find images by VM information",
	  SK_OPT_JSON | SK_OPT_TAG, 1, -1, cmd_search),
	SK_CMD("compact", "[-s STEP] FILE", "move clusters into holes, shrink",
	  SK_OPT_STEP, 1, 1, cmd_op, .kind = SKI_OP_COMPACT),
	SK_CMD("defrag", "[-s STEP] FILE", "make guest order file order",
	  SK_OPT_STEP, 1, 1, cmd_op, .kind = SKI_OP_DEFRAG),
	SK_CMD("merge", "[--stream] [-s STEP] FILE",
	  "commit FILE into its backing file, or with --stream pull the "
	  "chain into FILE", SK_OPT_STEP | SK_OPT_STREAM, 1, 1, cmd_op,
	  .kind = SKI_OP_COMMIT),
	SK_CMD("export", "FILE OUT.raw", "write the guest content to a raw file",
	  0, 2, 2, cmd_export),
	SK_CMD("write", "FILE IN OFFSET", "write a file's bytes at a guest offset",
	  0, 3, 3, cmd_write),
	SK_CMD("discard", "FILE OFFSET LEN", "discard whole clusters in a range",
	  0, 3, 3, cmd_discard),
	{ }
};

const struct sk_area sk_img_area = {
	.name = "img",
	.summary = "create, inspect, check and maintain qcow2 disk images",
	.cmds = img_cmds,
};
