// SPDX-License-Identifier: GPL-2.0
/*
 * splitkit vbd: the disks splitkit_back serves, in dom0.  Lists them
 * (domain, vdev, backing, format, size, allocated bytes, fragments of a
 * qcow2 image), starts, watches and cancels an online image operation on
 * one (compact, defrag, commit, stream), and shows its counters.  The
 * kernel side is each disk's sysfs directory
 * /sys/bus/xen-backend/devices/vbd-<domid>-<devid>/ (skb_stats/ and
 * image_op/, Documentation/ABI/testing/sysfs-bus-xen-splitkit); names and
 * paths come from XenStore (libxenstore).  A disk is named as its sysfs
 * device, "vbd-<domid>-<devid>", or "<domid>/<devid>".
 */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json-c/json.h>
#include <xenstore.h>

#include "core/image.h"
#include "splitkit.h"
#include "user/platform_user.h"

#define VBD_SYS		"/sys/bus/xen-backend/devices"

/* One served disk, as the list shows it. */
struct vbd_info {
	unsigned int domid, devid;
	char name[128], vdev[32], params[512], format[16];
	char op[16], state[16];
	uint64_t sectors, allocated, fragments;
	bool ours, have_fragments;
};

/* Read a one-line sysfs file of disk @dev into @buf (newline dropped). */
static int vbd_sysfs(const char *dev, const char *file, char *buf, size_t n)
{
	char path[512];

	snprintf(path, sizeof(path), VBD_SYS "/%s/%s", dev, file);
	return sk_read_line(path, buf, n);
}

static uint64_t vbd_sysfs_u64(const char *dev, const char *file)
{
	char buf[32];

	return vbd_sysfs(dev, file, buf, sizeof(buf)) ? 0 :
	       strtoull(buf, NULL, 10);
}

static int vbd_sysfs_write(const char *dev, const char *file, const char *v)
{
	char path[256];
	FILE *f;
	int err = 0;

	snprintf(path, sizeof(path), VBD_SYS "/%s/%s", dev, file);
	f = fopen(path, "w");
	if (!f)
		return -errno;
	if (fputs(v, f) < 0)
		err = -errno;
	if (fclose(f) && !err)
		err = -errno;
	return err;
}

/* A XenStore value into @buf, "" when absent. */
static void vbd_xs(struct xs_handle *h, const char *path, char *buf, size_t n)
{
	unsigned int len;
	char *v = xs_read(h, XBT_NULL, path, &len);

	snprintf(buf, n, "%s", v ? v : "");
	free(v);
}

/* Fragments of a qcow2 image: runs of guest clusters stored apart. */
static int vbd_fragments(const char *path, uint64_t *out)
{
	struct ski_image *img;
	enum ski_cluster_kind kind;
	u64 gc, host, next = 0, n = 0, nr, span;
	int err;

	skp_user_set_log_level(-1);
	err = ski_open(path, SKI_OPEN_NO_BACKING, &img);
	skp_user_set_log_level(SKP_LOG_WARN);
	if (err)
		return err;
	nr = (ski_image_header(img)->size + (1ULL << ski_image_header(img)->cluster_bits) - 1) >>
	     ski_image_header(img)->cluster_bits;
	for (gc = 0; gc < nr; gc++) {
		/* a range without an L2 table holds no data: step over it */
		span = ski_l2_absent_span(img, gc);
		if (span) {
			gc += span - 1;
			continue;
		}
		if (ski_block_status(img, gc, &kind, &host) ||
		    kind != SKI_DATA)
			continue;
		if (host != next)
			n++;
		next = host + (1ULL << ski_image_header(img)->cluster_bits);
	}
	ski_close(img);
	*out = n;
	return 0;
}

static void vbd_read(struct xs_handle *h, const char *dev,
		     struct vbd_info *v)
{
	char be[128], path[256], buf[64];
	struct stat st;

	snprintf(be, sizeof(be), "/local/domain/0/backend/vbd/%u/%u",
		 v->domid, v->devid);
	snprintf(path, sizeof(path), "/local/domain/%u/name", v->domid);
	vbd_xs(h, path, v->name, sizeof(v->name));
	snprintf(path, sizeof(path), "%s/dev", be);
	vbd_xs(h, path, v->vdev, sizeof(v->vdev));
	/*
	 * The file itself: "params" of a qcow2 disk carries the format
	 * prefix ("qcow2:/srv/vm.qcow2"); the hotplug script writes the bare
	 * path as physical-device-path, which the backend opens.
	 */
	snprintf(path, sizeof(path), "%s/physical-device-path", be);
	vbd_xs(h, path, v->params, sizeof(v->params));
	if (stat(v->params, &st) || !S_ISREG(st.st_mode)) {
		snprintf(path, sizeof(path), "%s/params", be);
		vbd_xs(h, path, v->params, sizeof(v->params));
	}
	snprintf(path, sizeof(path), "%s/splitkit-format", be);
	vbd_xs(h, path, v->format, sizeof(v->format));
	if (!v->format[0])
		snprintf(v->format, sizeof(v->format), "raw");
	snprintf(path, sizeof(path), "%s/sectors", be);
	vbd_xs(h, path, buf, sizeof(buf));
	v->sectors = strtoull(buf, NULL, 10);
	v->ours = !vbd_sysfs(dev, "image_op/op", v->op, sizeof(v->op)) &&
		  !vbd_sysfs(dev, "image_op/state", v->state,
			     sizeof(v->state));
	if (!stat(v->params, &st) && S_ISREG(st.st_mode))
		v->allocated = (uint64_t)st.st_blocks * 512;
	/*
	 * The backend maps a guest's new clusters in the file at the guest's
	 * flush: have it write them now (root only; without, the count may
	 * lag behind the guest's latest writes).
	 */
	if (!strcmp(v->format, "qcow2")) {
		if (v->ours)
			vbd_sysfs_write(dev, "image_op/sync", "1");
		v->have_fragments = !vbd_fragments(v->params, &v->fragments);
	}
}

static struct json_object *vbd_json(const struct vbd_info *v)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "domid", json_object_new_int((int)v->domid));
	json_object_object_add(o, "devid", json_object_new_int((int)v->devid));
	json_object_object_add(o, "domain", json_object_new_string(v->name));
	json_object_object_add(o, "vdev", json_object_new_string(v->vdev));
	json_object_object_add(o, "backing", json_object_new_string(v->params));
	json_object_object_add(o, "format", json_object_new_string(v->format));
	json_object_object_add(o, "size",
			       json_object_new_int64((int64_t)v->sectors * 512));
	json_object_object_add(o, "allocated",
			       json_object_new_int64((int64_t)v->allocated));
	if (v->have_fragments)
		json_object_object_add(o, "fragments",
				       json_object_new_int64((int64_t)v->fragments));
	json_object_object_add(o, "op", json_object_new_string(v->op));
	json_object_object_add(o, "state", json_object_new_string(v->state));
	return o;
}

static int vbd_list(const struct sk_args *a)
{
	struct json_object *arr = a->json ? json_object_new_array() : NULL;
	struct xs_handle *h = xs_open(XS_OPEN_READONLY);
	struct dirent *e;
	DIR *d;

	if (!h) {
		fprintf(stderr, "splitkit vbd: cannot open XenStore (dom0 only): %s\n",
			strerror(errno));
		return 1;
	}
	d = opendir(VBD_SYS);
	if (!a->json)
		printf("%-12s %-16s %-6s %-7s %10s %10s %9s %-8s %s\n", "DISK",
		       "DOMAIN", "VDEV", "FORMAT", "SIZE", "ALLOCATED",
		       "FRAGMENTS", "OP", "BACKING");
	while (d && (e = readdir(d))) {
		struct vbd_info v = { 0 };
		char frag[24] = "-";

		if (sscanf(e->d_name, "vbd-%u-%u", &v.domid, &v.devid) != 2)
			continue;
		vbd_read(h, e->d_name, &v);
		if (!v.ours)
			continue;	/* another backend's disk */
		if (arr) {
			json_object_array_add(arr, vbd_json(&v));
			continue;
		}
		if (v.have_fragments)
			snprintf(frag, sizeof(frag), "%" PRIu64, v.fragments);
		printf("%-12s %-16s %-6s %-7s %10" PRIu64 " %10" PRIu64
		       " %9s %-8s %s\n", e->d_name, v.name, v.vdev, v.format,
		       v.sectors * 512, v.allocated, frag,
		       strcmp(v.state, "running") ? "-" : v.op, v.params);
	}
	if (d)
		closedir(d);
	xs_close(h);
	if (arr)
		sk_json_print(arr);
	return 0;
}

/* "vbd-D-N" or "D/N" -> the sysfs name; 0 or -EINVAL. */
static int vbd_name(const char *arg, char *dev, size_t n)
{
	unsigned int domid, devid;
	char end;

	if (sscanf(arg, "vbd-%u-%u%c", &domid, &devid, &end) != 2 &&
	    sscanf(arg, "%u/%u%c", &domid, &devid, &end) != 2)
		return -EINVAL;
	snprintf(dev, n, "vbd-%u-%u", domid, devid);
	return 0;
}

/* image_op/ of @dev as JSON, for status and the end of a watch. */
static struct json_object *vbd_op_json(const char *dev)
{
	static const char *const nums[] = { "done", "total", "moved", "steps",
		"file_bytes_before", "file_bytes", "error", "step_clusters",
		"guest_requests", "guest_pace", "recopied", "given_up",
		"held_max_us" };
	struct json_object *o = json_object_new_object();
	char file[64], buf[32];
	size_t i;

	vbd_sysfs(dev, "image_op/op", buf, sizeof(buf));
	json_object_object_add(o, "op", json_object_new_string(buf));
	vbd_sysfs(dev, "image_op/state", buf, sizeof(buf));
	json_object_object_add(o, "state", json_object_new_string(buf));
	for (i = 0; i < sizeof(nums) / sizeof(nums[0]); i++) {
		snprintf(file, sizeof(file), "image_op/%s", nums[i]);
		json_object_object_add(o, nums[i],
			json_object_new_int64((int64_t)vbd_sysfs_u64(dev, file)));
	}
	return o;
}

/* Wait for the operation of @dev to end, with a bar on a terminal. */
static int vbd_watch_dev(const char *dev, bool json)
{
	char state[16] = "", op[16] = "";
	struct json_object *o;
	int rc;

	for (;;) {
		if (vbd_sysfs(dev, "image_op/state", state, sizeof(state))) {
			fprintf(stderr, "splitkit vbd: %s is gone\n", dev);
			return 1;
		}
		vbd_sysfs(dev, "image_op/op", op, sizeof(op));
		if (strcmp(state, "running"))
			break;
		sk_progress(op, vbd_sysfs_u64(dev, "image_op/done"),
			    vbd_sysfs_u64(dev, "image_op/total"));
		usleep(200 * 1000);	/* display refresh, not sequencing */
	}
	sk_progress_end();
	rc = strcmp(state, "done") ? 1 : 0;
	o = vbd_op_json(dev);
	if (json) {
		sk_json_print(o);
		return rc;
	}
	printf("%s: %s %s, %" PRId64 " clusters moved, file %" PRId64
	       " -> %" PRId64 " bytes", dev, op, state,
	       json_object_get_int64(json_object_object_get(o, "moved")),
	       json_object_get_int64(json_object_object_get(o, "file_bytes_before")),
	       json_object_get_int64(json_object_object_get(o, "file_bytes")));
	if (rc && !strcmp(state, "failed"))
		printf(" (error %s)", strerror((int)json_object_get_int64(
			json_object_object_get(o, "error"))));
	printf("\n");
	json_object_put(o);
	return rc;
}

/* splitkit_back's most clusters per step (backend/imgop.c) */
#define VBD_STEP_MAX	4096

static int vbd_op(const struct sk_args *a)
{
	static const char *const ops[] = { "compact", "defrag", "commit",
					   "stream" };
	char dev[64], step[24];
	int err;

	if (vbd_name(a->argv[0], dev, sizeof(dev)))
		return sk_usage_error(a);
	if (a->step > VBD_STEP_MAX) {
		fprintf(stderr, "splitkit vbd: --step: 1..%u clusters\n",
			VBD_STEP_MAX);
		return SK_EXIT_USAGE;
	}
	err = vbd_sysfs_write(dev, "image_op/op", ops[a->cmd->kind]);
	if (err == -EOPNOTSUPP) {
		fprintf(stderr, "splitkit vbd: %s: not a writable qcow2 disk of splitkit_back\n",
			dev);
		return 1;
	}
	if (err)
		return sk_fail_errno(dev, err);
	/*
	 * The step once this operation is ours (an operation already running,
	 * EBUSY above, keeps its own); from its next step on.
	 */
	if (a->step) {
		snprintf(step, sizeof(step), "%" PRIu64, a->step);
		err = vbd_sysfs_write(dev, "image_op/step_clusters", step);
		if (err)
			sk_fail_errno(dev, err);
	}
	return vbd_watch_dev(dev, a->json);
}

static int vbd_cancel(const struct sk_args *a)
{
	char dev[64];
	int err;

	if (vbd_name(a->argv[0], dev, sizeof(dev)))
		return sk_usage_error(a);
	err = vbd_sysfs_write(dev, "image_op/op", "cancel");
	return err ? sk_fail_errno(dev, err) : 0;
}

static int vbd_watch(const struct sk_args *a)
{
	char dev[64];

	if (vbd_name(a->argv[0], dev, sizeof(dev)))
		return sk_usage_error(a);
	return vbd_watch_dev(dev, a->json);
}

static int vbd_status(const struct sk_args *a)
{
	struct json_object *o, *stats = json_object_new_object();
	char dev[64], path[256];
	struct dirent *e;
	DIR *d;

	if (vbd_name(a->argv[0], dev, sizeof(dev)))
		return sk_usage_error(a);
	snprintf(path, sizeof(path), VBD_SYS "/%s/skb_stats", dev);
	d = opendir(path);
	if (!d) {
		json_object_put(stats);
		return sk_fail_errno(dev, -errno);
	}
	while ((e = readdir(d))) {
		char file[300];

		if (e->d_name[0] == '.')
			continue;
		snprintf(file, sizeof(file), "skb_stats/%s", e->d_name);
		json_object_object_add(stats, e->d_name,
			json_object_new_int64((int64_t)vbd_sysfs_u64(dev, file)));
	}
	closedir(d);
	o = json_object_new_object();
	json_object_object_add(o, "disk", json_object_new_string(dev));
	json_object_object_add(o, "stats", stats);
	json_object_object_add(o, "image_op", vbd_op_json(dev));
	if (a->json) {
		sk_json_print(o);
		return 0;
	}
	printf("%s\n", json_object_to_json_string_ext(o,
			JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
	return 0;
}

static const struct sk_cmd vbd_cmds[] = {
	{ "list", "[--json]",
	  "the disks splitkit_back serves: domain, vdev, format, size, allocated, fragments",
	  SK_OPT_JSON, 0, 0, vbd_list, NULL, 0 },
	{ "compact", "[--step N] [--json] DISK",
	  "move clusters into holes and shrink the image file, guest running",
	  SK_OPT_STEP | SK_OPT_JSON, 1, 1, vbd_op, NULL, 0 },
	{ "defrag", "[--step N] [--json] DISK",
	  "store guest-contiguous data contiguously, guest running",
	  SK_OPT_STEP | SK_OPT_JSON, 1, 1, vbd_op, NULL, 1 },
	{ "commit", "[--step N] [--json] DISK",
	  "merge the image into its qcow2 parent, then serve the parent",
	  SK_OPT_STEP | SK_OPT_JSON, 1, 1, vbd_op, NULL, 2 },
	{ "stream", "[--step N] [--json] DISK",
	  "copy the backing chain into the image, then drop the backing file",
	  SK_OPT_STEP | SK_OPT_JSON, 1, 1, vbd_op, NULL, 3 },
	{ "watch", "[--json] DISK",
	  "wait for the running operation to end, with a progress bar",
	  SK_OPT_JSON, 1, 1, vbd_watch, NULL, 0 },
	{ "cancel", "DISK",
	  "stop the running operation (the image stays valid)",
	  0, 1, 1, vbd_cancel, NULL, 0 },
	{ "status", "[--json] DISK",
	  "a disk's counters (skb_stats/) and its operation (image_op/)",
	  SK_OPT_JSON, 1, 1, vbd_status, NULL, 0 },
	{ NULL, NULL, NULL, 0, 0, 0, NULL, NULL, 0 },
};

const struct sk_area sk_vbd_area = {
	.name = "vbd",
	.summary = "dom0: disks served by splitkit_back, online image operations",
	.cmds = vbd_cmds,
};
