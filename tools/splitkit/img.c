// SPDX-License-Identifier: GPL-2.0
/*
 * "splitkit img": create, inspect, check and maintain qcow2 disk images.
 *
 * A thin front end over the portable image core (image/core): argument
 * parsing, human and JSON output, and the loops that drive the core's
 * bounded long-operation steps with a progress bar.
 */
#include <errno.h>
#include <ftw.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/image.h"
#include "core/ops.h"
#include "user/platform_user.h"
#include "splitkit.h"

#define STEP_DEFAULT	256

static const char *const img_usage =
"usage: splitkit img <command> ...\n"
"  create [-c CLUSTER] [-b BACKING [-F qcow2|raw]] [-m KEY=VALUE]...\n"
"         FILE [SIZE]\n"
"  info [--json] FILE\n"
"  check [-r] [--json] FILE        exit 0 clean, 2 errors, 3 leaks\n"
"  map [--json] FILE\n"
"  meta list [--json] FILE | get FILE KEY | set FILE KEY VALUE\n"
"       | rm FILE KEY [VALUE] | copy FROM TO\n"
"  search [--json] [-t TAG]... [KEY=VALUE]... DIR\n"
"  compact [-s STEP] FILE          move clusters into holes, shrink\n"
"  defrag [-s STEP] FILE           make guest order file order\n"
"  merge [--stream] [-s STEP] FILE commit FILE into its backing file,\n"
"                                  or with --stream pull the chain into FILE\n"
"  export FILE OUT.raw | write FILE IN OFFSET | discard FILE OFFSET LEN\n";

static int usage_error(void)
{
	fputs(img_usage, stderr);
	return 2;
}

static int fail_errno(const char *what, int err)
{
	fprintf(stderr, "splitkit img: %s: %s\n", what, strerror(-err));
	return 1;
}

static int parse_size(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;
	int shift = 0;

	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || end == s)
		return -EINVAL;
	switch (*end) {
	case 'k': case 'K': shift = 10; end++; break;
	case 'm': case 'M': shift = 20; end++; break;
	case 'g': case 'G': shift = 30; end++; break;
	case 't': case 'T': shift = 40; end++; break;
	}
	if (*end || (shift && v > (~0ULL >> shift)))
		return -EINVAL;
	*out = v << shift;
	return 0;
}

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
	return ski_vminfo_set(info, key, eq + 1);
}

static int cmd_create(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "cluster-size", required_argument, NULL, 'c' },
		{ "backing", required_argument, NULL, 'b' },
		{ "backing-format", required_argument, NULL, 'F' },
		{ "meta", required_argument, NULL, 'm' },
		{ NULL, 0, NULL, 0 } };
	struct ski_create_opts co = { 0 };
	struct ski_vminfo info = { 0 };
	uint64_t cluster = 65536;
	int c, err, ret = 1;

	while ((c = getopt_long(argc, argv, "c:b:F:m:", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			if (parse_size(optarg, &cluster) ||
			    cluster < 512 || cluster > (2 << 20) ||
			    (cluster & (cluster - 1))) {
				fprintf(stderr, "splitkit img: cluster size "
					"must be a power of two, 512..2M\n");
				goto free_info;
			}
			break;
		case 'b':
			co.backing_file = optarg;
			break;
		case 'F':
			co.backing_format = optarg;
			break;
		case 'm':
			if (set_pair(&info, optarg))
				goto free_info;
			break;
		default:
			ret = usage_error();
			goto free_info;
		}
	}
	if (optind >= argc || argc - optind > 2) {
		ret = usage_error();
		goto free_info;
	}
	co.cluster_bits = __builtin_ctzll(cluster);
	if (argc - optind == 2) {
		if (parse_size(argv[optind + 1], &co.size)) {
			fprintf(stderr, "splitkit img: bad size '%s'\n",
				argv[optind + 1]);
			goto free_info;
		}
	} else if (co.backing_file) {
		struct ski_image *base;
		char *dir = strdup(argv[optind]), *slash, *path;

		slash = strrchr(dir, '/');
		if (slash && co.backing_file[0] != '/') {
			slash[1] = 0;
			if (asprintf(&path, "%s%s", dir, co.backing_file) < 0)
				path = NULL;
		} else {
			path = strdup(co.backing_file);
		}
		free(dir);
		if (!path)
			goto free_info;
		if (co.backing_format && !strcmp(co.backing_format, "raw")) {
			FILE *f = fopen(path, "rb");

			if (f && !fseek(f, 0, SEEK_END))
				co.size = ftell(f);
			if (f)
				fclose(f);
			err = f ? 0 : -errno;
		} else {
			err = open_image(path, SKI_OPEN_NO_BACKING, &base);
			if (!err) {
				co.size = base->hdr.size;
				ski_close(base);
			}
		}
		free(path);
		if (err)
			goto free_info;
	} else {
		ret = usage_error();
		goto free_info;
	}
	ski_vminfo_add_history(&info, "created", skp_time(), NULL);
	co.vminfo = &info;
	err = ski_create(argv[optind], &co);
	if (err) {
		ret = fail_errno(argv[optind], err);
		goto free_info;
	}
	ret = 0;
free_info:
	ski_vminfo_free(&info);
	return ret;
}

/* ---- info ------------------------------------------------------------- */

static void print_vminfo_json(FILE *out, const struct ski_vminfo *info)
{
	unsigned int i;
	const char *sep = "";

	fprintf(out, "{\"required\": %s, \"fields\": {",
		info->flags & SKI_VMINFO_F_REQUIRED ? "true" : "false");
	for (i = 0; i < info->nr; i++) {
		if (info->entries[i].type != SKI_VM_FIELD)
			continue;
		fputs(sep, out);
		sk_json_string(out, info->entries[i].key);
		fputs(": ", out);
		sk_json_string(out, info->entries[i].value);
		sep = ", ";
	}
	fputs("}, \"tags\": [", out);
	sep = "";
	for (i = 0; i < info->nr; i++) {
		if (info->entries[i].type != SKI_VM_TAG)
			continue;
		fputs(sep, out);
		sk_json_string(out, info->entries[i].value);
		sep = ", ";
	}
	fputs("], \"history\": [", out);
	sep = "";
	for (i = 0; i < info->nr; i++) {
		if (info->entries[i].type != SKI_VM_HISTORY)
			continue;
		fprintf(out, "%s{\"op\": ", sep);
		sk_json_string(out, info->entries[i].key);
		fprintf(out, ", \"time\": %" PRIu64 ", \"note\": ",
			(uint64_t)info->entries[i].time);
		sk_json_string(out, info->entries[i].value);
		fputc('}', out);
		sep = ", ";
	}
	fputs("]}", out);
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

		switch (e->type) {
		case SKI_VM_FIELD:
			printf("  %s: %s\n", e->key, e->value);
			break;
		case SKI_VM_TAG:
			printf("  tag: %s\n", e->value);
			break;
		case SKI_VM_HISTORY:
			strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S",
				 gmtime(&t));
			printf("  history: %s %s%s%s\n", when, e->key,
			       e->value[0] ? " " : "", e->value);
			break;
		}
	}
}

static bool expired(const struct ski_vminfo *info)
{
	const char *exp = ski_vminfo_get(info, "expires");

	return exp && strtoull(exp, NULL, 10) &&
	       strtoull(exp, NULL, 10) < (unsigned long long)time(NULL);
}

static int cmd_info(int argc, char **argv)
{
	struct ski_image *img;
	struct ski_header *h;
	u64 file_size = 0;
	bool json = false;
	int c;

	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' }, { NULL, 0, NULL, 0 } };
	while ((c = getopt_long(argc, argv, "j", opts, NULL)) != -1)
		if (c != 'j')
			return usage_error();
		else
			json = true;
	if (optind + 1 != argc)
		return usage_error();
	if (open_image(argv[optind], SKI_OPEN_NO_BACKING, &img))
		return 1;
	h = &img->hdr;
	skp_size(img->file, &file_size);
	if (json) {
		printf("{\"filename\": ");
		sk_json_string(stdout, argv[optind]);
		printf(", \"format\": \"qcow2\", \"virtual-size\": %" PRIu64
		       ", \"cluster-size\": %" PRIu64 ", \"file-size\": %"
		       PRIu64 ", \"refcount-bits\": %u, \"dirty\": %s, "
		       "\"corrupt\": %s, \"snapshots\": %u",
		       (uint64_t)h->size, (uint64_t)img->cluster_size,
		       (uint64_t)file_size, 1U << h->refcount_order,
		       h->incompatible_features & QCOW2_INCOMPAT_DIRTY ?
		       "true" : "false",
		       h->incompatible_features & QCOW2_INCOMPAT_CORRUPT ?
		       "true" : "false", h->nb_snapshots);
		if (h->backing_file[0]) {
			printf(", \"backing-filename\": ");
			sk_json_string(stdout, h->backing_file);
			if (h->backing_format[0]) {
				printf(", \"backing-format\": ");
				sk_json_string(stdout, h->backing_format);
			}
		}
		if (img->has_vminfo) {
			printf(", \"expired\": %s, \"vm\": ",
			       expired(&img->vminfo) ? "true" : "false");
			print_vminfo_json(stdout, &img->vminfo);
		}
		printf("}\n");
	} else {
		printf("image: %s\nformat: qcow2 (v3)\n"
		       "virtual size: %" PRIu64 " bytes\n"
		       "file size: %" PRIu64 " bytes\n"
		       "cluster size: %" PRIu64 "\nrefcount bits: %u\n",
		       argv[optind], (uint64_t)h->size, (uint64_t)file_size,
		       (uint64_t)img->cluster_size, 1U << h->refcount_order);
		if (h->backing_file[0])
			printf("backing file: %s%s%s%s\n", h->backing_file,
			       h->backing_format[0] ? " (format " : "",
			       h->backing_format,
			       h->backing_format[0] ? ")" : "");
		if (h->incompatible_features & QCOW2_INCOMPAT_DIRTY)
			printf("dirty: yes\n");
		if (h->incompatible_features & QCOW2_INCOMPAT_CORRUPT)
			printf("corrupt: yes\n");
		if (h->nb_snapshots)
			printf("internal snapshots: %u\n", h->nb_snapshots);
		if (img->has_vminfo) {
			printf("VM information:%s\n",
			       expired(&img->vminfo) ? " (EXPIRED)" : "");
			print_vminfo_human(&img->vminfo);
		}
	}
	ski_close(img);
	return 0;
}

/* ---- check ------------------------------------------------------------ */

static int cmd_check(int argc, char **argv)
{
	struct ski_check_result res;
	struct ski_image *img;
	bool json = false, repair = false;
	int c, err;

	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "repair", no_argument, NULL, 'r' }, { NULL, 0, NULL, 0 } };
	while ((c = getopt_long(argc, argv, "jr", opts, NULL)) != -1) {
		if (c == 'j')
			json = true;
		else if (c == 'r')
			repair = true;
		else
			return usage_error();
	}
	if (optind + 1 != argc)
		return usage_error();
	if (open_image(argv[optind], SKI_OPEN_NO_BACKING |
		       (repair ? SKI_OPEN_RW : 0), &img))
		return 1;
	err = ski_check(img, repair ? SKI_CHECK_REPAIR_LEAKS : 0, &res);
	ski_close(img);
	if (err)
		return fail_errno(argv[optind], err);
	if (json) {
		printf("{\"filename\": ");
		sk_json_string(stdout, argv[optind]);
		printf(", \"check-errors\": %" PRIu64 ", \"leaks\": %" PRIu64
		       ", \"leaks-fixed\": %" PRIu64
		       ", \"allocated-clusters\": %" PRIu64
		       ", \"image-end-offset\": %" PRIu64 "}\n",
		       (uint64_t)res.errors, (uint64_t)res.leaks,
		       (uint64_t)res.leaks_fixed,
		       (uint64_t)res.allocated_clusters,
		       (uint64_t)res.image_end);
	} else {
		printf("%s: %" PRIu64 " errors, %" PRIu64 " leaked clusters"
		       "%s, %" PRIu64 " clusters allocated, image end %" PRIu64
		       "\n", argv[optind], (uint64_t)res.errors,
		       (uint64_t)res.leaks,
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

static int cmd_map(int argc, char **argv)
{
	struct ski_image *img;
	enum ski_cluster_kind kind, run_kind = SKI_UNALLOCATED;
	u64 gc, host, run_start = 0, run_host = 0, run_len = 0;
	bool json = false, first = true;
	int c, err = 0;

	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' }, { NULL, 0, NULL, 0 } };
	while ((c = getopt_long(argc, argv, "j", opts, NULL)) != -1)
		if (c != 'j')
			return usage_error();
		else
			json = true;
	if (optind + 1 != argc)
		return usage_error();
	if (open_image(argv[optind], SKI_OPEN_NO_BACKING, &img))
		return 1;
	if (json)
		printf("[");
	for (gc = 0; gc <= img->guest_clusters; gc++) {
		bool extends;

		if (gc < img->guest_clusters) {
			err = ski_block_status(img, gc, &kind, &host);
			if (err)
				break;
			extends = run_len && kind == run_kind &&
				  (kind == SKI_COMPRESSED ||
				   (!!host == !!run_host &&
				    (!host || host == run_host +
				     (run_len << img->cluster_bits))));
			if (extends) {
				run_len++;
				continue;
			}
		}
		if (run_len) {
			u64 start = run_start << img->cluster_bits;
			u64 len = (run_len << img->cluster_bits);

			if (start + len > img->hdr.size)
				len = img->hdr.size - start;
			if (json) {
				printf("%s\n{\"start\": %" PRIu64
				       ", \"length\": %" PRIu64
				       ", \"type\": \"%s\"", first ? "" : ",",
				       (uint64_t)start, (uint64_t)len,
				       kind_names[run_kind]);
				if (run_host && run_kind != SKI_COMPRESSED)
					printf(", \"offset\": %" PRIu64,
					       (uint64_t)run_host);
				printf("}");
			} else {
				printf("%#14" PRIx64 " %#14" PRIx64 " %-12s",
				       (uint64_t)start, (uint64_t)len,
				       kind_names[run_kind]);
				if (run_host && run_kind != SKI_COMPRESSED)
					printf(" %#" PRIx64,
					       (uint64_t)run_host);
				printf("\n");
			}
			first = false;
		}
		run_start = gc;
		run_kind = kind;
		run_host = host;
		run_len = 1;
	}
	if (json)
		printf("\n]\n");
	ski_close(img);
	return err ? fail_errno(argv[optind], err) : 0;
}

/* ---- meta ------------------------------------------------------------- */

static int save_vminfo(struct ski_image *img, struct ski_vminfo *info)
{
	int err = ski_set_vminfo(img, info);

	if (err == -ENOSPC)
		fprintf(stderr, "splitkit img: VM information does not fit in "
			"the header cluster\n");
	else if (err)
		fail_errno(img->path, err);
	return err;
}

static int cmd_meta(int argc, char **argv)
{
	struct ski_vminfo info = { 0 };
	struct ski_image *img, *dst;
	const char *sub, *path;
	int err, ret = 1;

	if (argc < 3)
		return usage_error();
	sub = argv[1];
	if (!strcmp(sub, "list")) {
		bool json = argc == 4 && !strcmp(argv[2], "--json");

		if (argc != 3 + json)
			return usage_error();
		if (open_image(argv[2 + json], SKI_OPEN_NO_BACKING, &img))
			return 1;
		if (img->has_vminfo) {
			if (json) {
				print_vminfo_json(stdout, &img->vminfo);
				putchar('\n');
			} else {
				print_vminfo_human(&img->vminfo);
			}
		} else if (json) {
			printf("null\n");
		}
		ski_close(img);
		return 0;
	}
	path = argv[2];
	if (!strcmp(sub, "get")) {
		const char *v = NULL;

		if (argc != 4)
			return usage_error();
		if (open_image(path, SKI_OPEN_NO_BACKING, &img))
			return 1;
		if (img->has_vminfo)
			v = ski_vminfo_get(&img->vminfo, argv[3]);
		if (v)
			printf("%s\n", v);
		else
			fprintf(stderr, "splitkit img: %s: no field '%s'\n",
				path, argv[3]);
		ski_close(img);
		return v ? 0 : 1;
	}
	if (!strcmp(sub, "copy")) {
		if (argc != 4)
			return usage_error();
		if (open_image(path, SKI_OPEN_NO_BACKING, &img))
			return 1;
		if (open_image(argv[3], SKI_OPEN_NO_BACKING | SKI_OPEN_RW,
			       &dst)) {
			ski_close(img);
			return 1;
		}
		if (img->has_vminfo) {
			err = ski_vminfo_copy(&info, &img->vminfo);
			if (!err)
				err = save_vminfo(dst, &info);
			if (!err)
				err = ski_note_history(dst, "restored",
						       "meta copy");
			ret = err ? 1 : 0;
		} else {
			fprintf(stderr, "splitkit img: %s has no VM "
				"information\n", path);
		}
		ski_vminfo_free(&info);
		ski_close(dst);
		ski_close(img);
		return ret;
	}
	if (strcmp(sub, "set") && strcmp(sub, "rm"))
		return usage_error();
	if (!strcmp(sub, "set") ? argc != 5 : (argc != 4 && argc != 5))
		return usage_error();
	if (open_image(path, SKI_OPEN_NO_BACKING | SKI_OPEN_RW, &img))
		return 1;
	err = img->has_vminfo ? ski_vminfo_copy(&info, &img->vminfo) : 0;
	if (!err && !strcmp(sub, "set"))
		err = ski_vminfo_set(&info, argv[3], argv[4]);
	else if (!err)
		err = ski_vminfo_remove(&info, argv[3],
					argc == 5 ? argv[4] : NULL);
	if (err == -EINVAL)
		fprintf(stderr, "splitkit img: bad key or value (keys: "
			"a-z 0-9 - _ .; required takes 0 or 1)\n");
	else if (err == -ENOENT)
		fprintf(stderr, "splitkit img: %s: no such field\n", path);
	else if (err)
		fail_errno(path, err);
	if (!err)
		err = save_vminfo(img, &info);
	ski_vminfo_free(&info);
	ski_close(img);
	return err ? 1 : 0;
}

/* ---- search ----------------------------------------------------------- */

static struct {
	char **tags;
	int nr_tags;
	char **pairs;
	int nr_pairs;
	bool json;
	int found;
} search;

static bool matches(const struct ski_vminfo *info)
{
	int i;

	for (i = 0; i < search.nr_tags; i++)
		if (!ski_vminfo_has_tag(info, search.tags[i]))
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

static int search_visit(const char *path, const struct stat *st, int type,
			struct FTW *ftw)
{
	struct ski_image *img;
	unsigned char magic[4];
	FILE *f;

	if (type != FTW_F || st->st_size < 512)
		return 0;
	f = fopen(path, "rb");
	if (!f)
		return 0;
	if (fread(magic, 1, 4, f) != 4 || memcmp(magic, "QFI\xfb", 4)) {
		fclose(f);
		return 0;
	}
	fclose(f);
	skp_user_set_log_level(-1);
	if (ski_open(path, SKI_OPEN_NO_BACKING, &img)) {
		skp_user_set_log_level(SKP_LOG_WARN);
		return 0;
	}
	skp_user_set_log_level(SKP_LOG_WARN);
	if (img->has_vminfo && matches(&img->vminfo)) {
		if (search.json) {
			printf("%s{\"filename\": ", search.found ? ",\n" : "");
			sk_json_string(stdout, path);
			printf(", \"vm\": ");
			print_vminfo_json(stdout, &img->vminfo);
			printf("}");
		} else {
			printf("%s\n", path);
		}
		search.found++;
	}
	ski_close(img);
	return 0;
}

static int cmd_search(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "tag", required_argument, NULL, 't' },
		{ NULL, 0, NULL, 0 } };
	char *tags[64];
	int c;

	memset(&search, 0, sizeof(search));
	search.tags = tags;
	while ((c = getopt_long(argc, argv, "jt:", opts, NULL)) != -1) {
		if (c == 'j')
			search.json = true;
		else if (c == 't' && search.nr_tags < 64)
			tags[search.nr_tags++] = optarg;
		else
			return usage_error();
	}
	if (optind >= argc)
		return usage_error();
	search.pairs = argv + optind;
	search.nr_pairs = argc - optind - 1;
	for (c = 0; c < search.nr_pairs; c++)
		if (!strchr(search.pairs[c], '='))
			return usage_error();
	if (search.json)
		printf("[");
	if (nftw(argv[argc - 1], search_visit, 16, FTW_PHYS)) {
		fprintf(stderr, "splitkit img: cannot walk %s\n",
			argv[argc - 1]);
		return 1;
	}
	if (search.json)
		printf("%s]\n", search.found ? "\n" : "");
	return search.found ? 0 : 1;
}

/* ---- long operations -------------------------------------------------- */

static int run_op(int argc, char **argv, enum ski_op_kind kind)
{
	static const struct option opts[] = {
		{ "step", required_argument, NULL, 's' },
		{ "stream", no_argument, NULL, 'S' },
		{ NULL, 0, NULL, 0 } };
	static const char *const names[] = {
		[SKI_OP_COMPACT] = "compact", [SKI_OP_DEFRAG] = "defrag",
		[SKI_OP_COMMIT] = "merge", [SKI_OP_STREAM] = "stream" };
	static const char *const history[] = {
		[SKI_OP_COMPACT] = "compacted",
		[SKI_OP_DEFRAG] = "defragmented" };
	struct ski_image *img;
	struct ski_op op;
	uint64_t step = STEP_DEFAULT, size_before = 0, size_after = 0;
	int c, err;

	while ((c = getopt_long(argc, argv, "s:", opts, NULL)) != -1) {
		if (c == 's') {
			if (parse_size(optarg, &step) || !step)
				return usage_error();
		} else if (c == 'S' && kind == SKI_OP_COMMIT) {
			kind = SKI_OP_STREAM;
		} else {
			return usage_error();
		}
	}
	if (optind + 1 != argc)
		return usage_error();
	if (open_image(argv[optind], SKI_OPEN_RW, &img))
		return 1;
	skp_size(img->file, &size_before);
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
	skp_size(img->file, &size_after);
	ski_close(img);
	if (err)
		return fail_errno(argv[optind], err);
	printf("%s: %s done, %" PRIu64 " clusters moved, file %" PRIu64
	       " -> %" PRIu64 " bytes\n", argv[optind], names[kind],
	       (uint64_t)op.moved, size_before, size_after);
	return 0;
}

/* ---- raw helpers (tests, scripting) ----------------------------------- */

static int cmd_export(int argc, char **argv)
{
	struct ski_image *img;
	u64 off, n;
	FILE *out;
	char *buf;
	int err = 0;

	if (argc != 3)
		return usage_error();
	if (open_image(argv[1], 0, &img))
		return 1;
	out = fopen(argv[2], "wb");
	buf = malloc(1 << 20);
	if (!out || !buf) {
		err = -errno;
		goto close;
	}
	for (off = 0; off < img->hdr.size; off += n) {
		n = img->hdr.size - off < (1 << 20) ? img->hdr.size - off :
		    (1 << 20);
		err = ski_read(img, buf, n, off);
		if (err)
			break;
		if (fwrite(buf, 1, n, out) != n) {
			err = -EIO;
			break;
		}
	}
close:
	if (out && fclose(out) && !err)
		err = -EIO;
	free(buf);
	ski_close(img);
	return err ? fail_errno(argv[1], err) : 0;
}

static int cmd_write(int argc, char **argv)
{
	struct ski_image *img;
	uint64_t off;
	size_t n;
	FILE *in;
	char *buf;
	int err = 0;

	if (argc != 4 || parse_size(argv[3], &off))
		return usage_error();
	in = fopen(argv[2], "rb");
	if (!in)
		return fail_errno(argv[2], -errno);
	if (open_image(argv[1], SKI_OPEN_RW, &img)) {
		fclose(in);
		return 1;
	}
	buf = malloc(1 << 20);
	while (buf && !err && (n = fread(buf, 1, 1 << 20, in)) > 0) {
		err = ski_write(img, buf, n, off);
		off += n;
	}
	if (!buf)
		err = -ENOMEM;
	free(buf);
	fclose(in);
	ski_close(img);
	return err ? fail_errno(argv[1], err) : 0;
}

static int cmd_discard(int argc, char **argv)
{
	struct ski_image *img;
	uint64_t off, len;
	int err;

	if (argc != 4 || parse_size(argv[2], &off) || parse_size(argv[3], &len))
		return usage_error();
	if (open_image(argv[1], SKI_OPEN_RW, &img))
		return 1;
	err = ski_discard(img, off, len);
	ski_close(img);
	return err ? fail_errno(argv[1], err) : 0;
}

int splitkit_img_main(int argc, char **argv)
{
	const char *cmd;

	if (argc < 2)
		return usage_error();
	cmd = argv[1];
	argc--;
	argv++;
	optind = 1;
	if (!strcmp(cmd, "create"))
		return cmd_create(argc, argv);
	if (!strcmp(cmd, "info"))
		return cmd_info(argc, argv);
	if (!strcmp(cmd, "check"))
		return cmd_check(argc, argv);
	if (!strcmp(cmd, "map"))
		return cmd_map(argc, argv);
	if (!strcmp(cmd, "meta"))
		return cmd_meta(argc, argv);
	if (!strcmp(cmd, "search"))
		return cmd_search(argc, argv);
	if (!strcmp(cmd, "compact"))
		return run_op(argc, argv, SKI_OP_COMPACT);
	if (!strcmp(cmd, "defrag"))
		return run_op(argc, argv, SKI_OP_DEFRAG);
	if (!strcmp(cmd, "merge"))
		return run_op(argc, argv, SKI_OP_COMMIT);
	if (!strcmp(cmd, "export"))
		return cmd_export(argc, argv);
	if (!strcmp(cmd, "write"))
		return cmd_write(argc, argv);
	if (!strcmp(cmd, "discard"))
		return cmd_discard(argc, argv);
	if (!strcmp(cmd, "help") || !strcmp(cmd, "--help")) {
		fputs(img_usage, stdout);
		return 0;
	}
	fprintf(stderr, "splitkit img: unknown command '%s'\n", cmd);
	return usage_error();
}
