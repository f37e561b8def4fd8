/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What splitkit's modules need to know of the VFS across the kernels they
 * build for.
 *
 * Freeze protection of a write through vfs_iocb_iter_write(): since Linux
 * 6.7 the call takes it itself (and drops it unless the kiocb was queued,
 * in which case the completion must); before, the caller takes and drops
 * it (file_start_write() / kiocb_start_write()).  The change is inside
 * fs/read_write.c: no header shows it, hence a version test.  Used by
 * splitkit_back's file backing (backend/file.c) and by the image engine's
 * direct bulk copies (image/kernel/platform_kernel.c).
 *
 * File locks: struct file_lock's owner, flags, type, file and pid moved
 * into its struct file_lock_core c in Linux 6.9 (and the lock API into
 * <linux/filelock.h> in 6.3); SK_FLC() names a field on either.  Used by
 * splitkit_back's QEMU image locks (backend/qemulock.c).
 */
#ifndef _SPLITKIT_VFS_H
#define _SPLITKIT_VFS_H

#include <linux/version.h>

#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 7, 0)
#define SK_VFS_TAKES_FREEZE	true
#else
#define SK_VFS_TAKES_FREEZE	false
#endif

#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 3, 0)
#include <linux/filelock.h>
#else
#include <linux/fs.h>
#endif

#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 9, 0)
#define SK_FLC(fl, field)	((fl)->c.flc_##field)
#else
#define SK_FLC(fl, field)	((fl)->fl_##field)
#endif

#endif /* _SPLITKIT_VFS_H */
