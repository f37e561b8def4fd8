// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests of splitkit_back's sharing policy (backend/core/share.c):
 * how the toolstack's "mode" key is read ("w!" is writable, not read-only)
 * and, one table row per case, whether a disk may use a backing another
 * disk already has open: readers together, a writer against anyone, the
 * same domain twice, two domains of one VM (a migration), the "w!"
 * opt-out of shared-disk clusters; and which disk names of an HVM guest
 * libxl also gives its device model (served without QEMU's locks).
 */
#include <string.h>

#include "ktap.h"
#include "share.h"

static void modes(void)
{
	static const struct {
		const char *s;
		bool writable, force;
	} v[] = {
		{ "w", true, false },
		{ "w!", true, true },
		{ "!w", true, true },
		{ "r", false, false },
		{ "r!", false, false },	/* '!' alone opts out of nothing */
		{ "", false, false },
		{ "rw", true, false },
		{ "ro", false, false },
		{ NULL, false, false },	/* no key: read-only */
	};
	struct skb_mode m;
	unsigned int i;

	for (i = 0; i < KTAP_ARRAY_SIZE(v); i++) {
		memset(&m, 0xff, sizeof(m));
		skb_mode_parse(v[i].s, &m);
		if (m.writable != v[i].writable || m.force != v[i].force)
			ktap_fail_at(__FILE__, __LINE__,
				     "row %u mode '%s': writable %d force %d, want %d %d",
				     i, v[i].s ? v[i].s : "(none)", m.writable,
				     m.force, v[i].writable, v[i].force);
	}
}

#define R	{ false, false }
#define W	{ true, false }
#define WF	{ true, true }
#define VM_A	"/vm/00000000-0000-0000-0000-00000000000a"
#define VM_B	"/vm/00000000-0000-0000-0000-00000000000b"

static void sharing(void)
{
	static const struct {
		const char *what;
		struct skb_user me, other;
		bool ok;
	} v[] = {
		{ "two readers", { 2, VM_A, R }, { 3, VM_B, R }, true },
		{ "writer after a reader", { 2, VM_A, W }, { 3, VM_B, R },
		  false },
		{ "reader after a writer", { 2, VM_A, R }, { 3, VM_B, W },
		  false },
		{ "two writers", { 2, VM_A, W }, { 3, VM_B, W }, false },
		{ "two writers, one domain", { 2, VM_A, W }, { 2, VM_A, W },
		  true },
		{ "two writers, one VM (migration)", { 4, VM_A, W },
		  { 3, VM_A, W }, true },
		{ "two writers, no vm key", { 4, NULL, W }, { 3, NULL, W },
		  false },
		{ "two writers, empty vm keys", { 4, "", W }, { 3, "", W },
		  false },
		{ "mine missing, other's set", { 4, NULL, W }, { 3, VM_A, W },
		  false },
		{ "w! next to a writer", { 2, VM_A, WF }, { 3, VM_B, W },
		  true },
		{ "w! next to w!", { 2, VM_A, WF }, { 3, VM_B, WF }, true },
		{ "writer next to w!: the newcomer did not opt out",
		  { 2, VM_A, W }, { 3, VM_B, WF }, false },
		{ "reader next to w!", { 2, VM_A, R }, { 3, VM_B, WF },
		  false },
	};
	unsigned int i;

	for (i = 0; i < KTAP_ARRAY_SIZE(v); i++)
		if (skb_share_ok(&v[i].me, &v[i].other) != v[i].ok)
			ktap_fail_at(__FILE__, __LINE__,
				     "row %u %s: %s, want %s", i, v[i].what,
				     v[i].ok ? "refused" : "shared",
				     v[i].ok ? "shared" : "refused");
}

/* libxl__device_disk_dev_number()'s names and libxl_dm.c's choice */
static void dm_disks(void)
{
	static const struct {
		const char *vdev;
		bool twin;
	} v[] = {
		/* read as libxl reads them: the first six disks, every sdX */
		{ "xvda", true }, { "xvdf", true }, { "xvdg", false },
		{ "xvda1", true }, { "xvdz", false }, { "xvdaa", false },
		{ "xvdg255", false }, { "xvdzz3", false },
		{ "hda", true }, { "hdd", true }, { "hdb3", true },
		{ "hdb63", true }, { "sda", true }, { "sdp", true },
		{ "sdb15", true },
		{ "d0p0", true }, { "d1p255", true }, { "d5p1", true },
		{ "d6p0", false }, { "d10p1", false }, { "d1048575p0", false },
		/* bare numbers: no index, no emulated disk */
		{ "51712", false }, { "768", false }, { "0", false },
		{ "0x1", false },
		/*
		 * forms not read here (libxl refuses some, takes others
		 * through sscanf's %i or strtoul): a twin, to be safe
		 */
		{ "xvdg256", true }, { "xvda01", true }, { "xvda0", true },
		{ "xvda+1", true }, { "xvd1", true }, { "xvd", true },
		{ "xvdA", true }, { "xvda1x", true }, { "hde", true },
		{ "hdb64", true }, { "hd5", true }, { "hd", true },
		{ "sdq", true }, { "sd", true }, { "d0", true }, { "d5", true },
		{ "d1p", true }, { "d1x", true }, { "d1p256", true },
		{ "d0x3p0", true }, { "d+1p0", true }, { "d 1p0", true },
		{ "d1048576p0", true }, { "d99999999999999999999p0", true },
		{ "dp1", true }, { "", true }, { "vda", true },
		{ "xvdaaaaaaaaaaaaaaaaaaaaaaaaaa", true },
		{ NULL, true },	/* no "dev": as if it were one */
	};
	unsigned int i;

	for (i = 0; i < KTAP_ARRAY_SIZE(v); i++)
		if (skb_share_dm_disk(v[i].vdev) != v[i].twin)
			ktap_fail_at(__FILE__, __LINE__,
				     "row %u '%s': %s, want %s", i,
				     v[i].vdev ? v[i].vdev : "(none)",
				     v[i].twin ? "no twin" : "a twin",
				     v[i].twin ? "a twin" : "no twin");
}

static const struct ktap_case cases[] = {
	KTAP_CASE(modes),
	KTAP_CASE(sharing),
	KTAP_CASE(dm_disks),
};

KTAP_MAIN(cases)
