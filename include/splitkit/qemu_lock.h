/* SPDX-License-Identifier: GPL-2.0 */
/*
 * QEMU's image locks: the convention of its file-posix driver, which
 * splitkit_back (backend/qemulock.c) and the splitkit tool's image opens
 * (image/user/platform_user.c) both follow, so that either refuses an
 * image QEMU (a VM, qemu-img, qemu-io) has open in a conflicting way and
 * QEMU refuses theirs.  An open file description holds a shared OFD lock
 * (F_OFD_SETLK, one byte) on SK_QEMU_LOCK_USED + n while it uses
 * permission n, and on SK_QEMU_LOCK_UNSHARED + n while it does not let
 * others have it.  A newcomer that uses n conflicts with another's lock
 * on SK_QEMU_LOCK_UNSHARED + n; one that does not share n, with another's
 * on SK_QEMU_LOCK_USED + n (tested with F_OFD_GETLK for a write lock).
 * The permissions are the bit numbers of QEMU's BLK_PERM_* (include/block/
 * block-common.h in QEMU 7.2); 2 (unchanged) is never locked by an image
 * user and 4 (graph-mod) is no longer locked at all.
 */
#ifndef _SPLITKIT_QEMU_LOCK_H
#define _SPLITKIT_QEMU_LOCK_H

#define SK_QEMU_LOCK_USED	100	/* + n: permission n in use */
#define SK_QEMU_LOCK_UNSHARED	200	/* + n: permission n not shared */

enum sk_qemu_perm {
	SK_QEMU_PERM_READ = 0,		/* BLK_PERM_CONSISTENT_READ */
	SK_QEMU_PERM_WRITE = 1,		/* BLK_PERM_WRITE */
	SK_QEMU_PERM_RESIZE = 3,	/* BLK_PERM_RESIZE */
	SK_QEMU_PERMS = 4,		/* bits 0 .. 3 */
};

#endif /* _SPLITKIT_QEMU_LOCK_H */
