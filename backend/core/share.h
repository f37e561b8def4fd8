/* SPDX-License-Identifier: GPL-2.0 */
/*
 * splitkit_back sharing policy: the portable decisions about who may use a
 * backing file or block device at the same time.  It reads the toolstack's
 * access mode ("mode": "r", "w", or "w!" for a disk shared on purpose) and
 * decides whether a new user of a backing may join the users it already
 * has: a writable disk is never served to two domains at once, unless they
 * are one VM (the same "vm" path in XenStore: the two halves of a
 * migration, which Xen's block script lets through too) or the newcomer
 * asked for sharing with "w!" (shared-disk clusters).  It also names the
 * disks of an HVM guest that libxl hands its device model too, whose
 * files QEMU locks itself.  Compiled into splitkit_back.ko
 * (backend/share.c keeps the users and applies it) and, unchanged, into
 * the unit tests (tests/unit/back/test_share.c).
 */
#ifndef _SPLITKIT_BACK_SHARE_H
#define _SPLITKIT_BACK_SHARE_H

#include <splitkit/platform.h>

/**
 * struct skb_mode - the access a toolstack asked for.
 * @writable: "mode" has a 'w' ("w", "w!"); absent or anything else is
 *	read-only.
 * @force: "mode" has a '!' as well ("w!"): skip the sharing checks.  Only
 *	meaningful with @writable; a read-only disk never conflicts with
 *	another read-only user anyway.
 */
struct skb_mode {
	bool writable;
	bool force;
};

/**
 * struct skb_user - one disk using a backing.
 * @domid: the frontend's domain.
 * @vm: its "/local/domain/<domid>/vm" value, NULL if unknown.
 * @mode: what it was opened with.
 */
struct skb_user {
	int domid;
	const char *vm;
	struct skb_mode mode;
};

void skb_mode_parse(const char *s, struct skb_mode *m);
bool skb_share_ok(const struct skb_user *me, const struct skb_user *other);
bool skb_share_dm_disk(const char *vdev);

#endif /* _SPLITKIT_BACK_SHARE_H */
