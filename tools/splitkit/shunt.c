// SPDX-License-Identifier: GPL-2.0
/*
 * splitkit shunt: the guest-side control of splitkit_shunt
 * (Documentation/shunt.rst): show which path the shunted disk's I/O takes
 * and the switch counters, and switch it to the PV path ("on") or back to
 * the emulated one ("off"), waiting until the switch is done, or have the
 * device model unplug the emulated disk for good ("unplug").  The kernel
 * side is /sys/kernel/splitkit_shunt/, one value per file.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include "splitkit.h"

#define SHUNT_SYS	"/sys/kernel/splitkit_shunt"

static const char *const shunt_counters[] = {
	"unplugged", "last_held_ns", "held", "max_held", "switches_to_pv",
	"switches_to_emul", "requeued", "flush_errors", "identity_refusals",
	"inflight_emul", "inflight_pv", "pv_returns", "nowait_handoffs",
	"pv_retries",
};

#define NR_COUNTERS	(sizeof(shunt_counters) / sizeof(shunt_counters[0]))

static const char *const shunt_strings[] = { "emul", "pv", "path" };

#define NR_STRINGS	(sizeof(shunt_strings) / sizeof(shunt_strings[0]))

static int shunt_read(const char *file, char *buf, size_t n)
{
	char path[128];

	snprintf(path, sizeof(path), SHUNT_SYS "/%s", file);
	return sk_read_line(path, buf, n);
}

static int shunt_loaded(void)
{
	if (access(SHUNT_SYS, F_OK)) {
		fprintf(stderr, "splitkit shunt: splitkit_shunt is not loaded (insmod splitkit_shunt.ko emul=/dev/sdX pv=/dev/xvdX)\n");
		return 0;
	}
	return 1;
}

static int shunt_status(const struct sk_args *a)
{
	struct json_object *o;
	char buf[64];
	size_t i;

	if (!shunt_loaded())
		return 1;
	o = json_object_new_object();
	/* the two disks, then the path their I/O takes */
	for (i = 0; i < NR_STRINGS; i++)
		if (!shunt_read(shunt_strings[i], buf, sizeof(buf)))
			json_object_object_add(o, shunt_strings[i],
					       json_object_new_string(buf));
	for (i = 0; i < NR_COUNTERS; i++)
		if (!shunt_read(shunt_counters[i], buf, sizeof(buf)))
			json_object_object_add(o, shunt_counters[i],
				json_object_new_int64(strtoll(buf, NULL, 10)));
	if (a->json) {
		sk_json_print(o);
		return 0;
	}
	json_object_object_foreach(o, key, val)
		printf("%-18s %s\n", key, json_object_get_string(val));
	json_object_put(o);
	return 0;
}

/* Ask for @path ("pv" or "emul") and wait until the shunt is there. */
static int shunt_switch(const char *want)
{
	char buf[32];
	FILE *f;
	int tries;

	if (!shunt_loaded())
		return 1;
	f = fopen(SHUNT_SYS "/path", "w");
	if (!f || fputs(want, f) < 0 || fclose(f)) {
		int err = errno;

		fprintf(stderr, "splitkit shunt: asking for %s: %s%s\n", want,
			strerror(err), err != ENODEV ? "" : strcmp(want, "pv") ?
			" (the emulated disk is unplugged: no way back)" :
			" (no PV disk: it went away, or has not come yet; attach it)");
		return 1;
	}
	/* a switch waits for the old path to drain: poll its state */
	for (tries = 0; tries < 1200; tries++) {
		if (shunt_read("path", buf, sizeof(buf)))
			return 1;
		if (!strcmp(buf, want))
			break;
		if (strncmp(buf, "to-", 3)) {
			fprintf(stderr, "splitkit shunt: the switch to %s was undone (now %s; see dmesg)\n",
				want, buf);
			return 1;
		}
		usleep(100 * 1000);
	}
	if (strcmp(buf, want)) {
		fprintf(stderr, "splitkit shunt: still %s after 120 s\n", buf);
		return 1;
	}
	shunt_read("last_held_ns", buf, sizeof(buf));
	printf("on the %s path; bios held %s ns\n",
	       strcmp(want, "pv") ? "emulated" : "PV", buf);
	return 0;
}

static int shunt_on(const struct sk_args *a)
{
	return shunt_switch("pv");
}

static int shunt_off(const struct sk_args *a)
{
	return shunt_switch("emul");
}

/* Unplug the emulated disk for good (the kernel log says why not). */
static int shunt_unplug(const struct sk_args *a)
{
	FILE *f;

	if (!shunt_loaded())
		return 1;
	f = fopen(SHUNT_SYS "/unplugged", "w");
	if (!f || fputs("1", f) < 0 || fclose(f)) {
		fprintf(stderr, "splitkit shunt: unplugging the emulated disk: %s%s\n",
			strerror(errno), errno == EBUSY ?
			" (not settled on the PV path, or another disk would go with it; see dmesg)" :
			" (see dmesg)");
		return 1;
	}
	printf("the emulated disk is unplugged: its I/O stays on the PV path for good (no shunt off, no unload)\n");
	return 0;
}

static const struct sk_cmd shunt_cmds[] = {
	{ "status", "[--json]",
	  "the two disks, the path the shunted disk's I/O takes, and the switch counters",
	  SK_OPT_JSON, 0, 0, shunt_status, NULL, 0 },
	{ "on", "",
	  "move the emulated disk's I/O to the PV disk (waits for the switch)",
	  0, 0, 0, shunt_on, NULL, 0 },
	{ "off", "",
	  "move it back to the emulated disk (waits for the switch)",
	  0, 0, 0, shunt_off, NULL, 0 },
	{ "unplug", "",
	  "on the PV path, have QEMU unplug the emulated disk for good (no way back)",
	  0, 0, 0, shunt_unplug, NULL, 0 },
	{ NULL, NULL, NULL, 0, 0, 0, NULL, NULL, 0 },
};

const struct sk_area sk_shunt_area = {
	.name = "shunt",
	.summary = "HVM guest: move a disk's I/O between its emulated and PV paths",
	.cmds = shunt_cmds,
};
