/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What splitkit's modules need to know of the VFS across the kernels they
 * build for, where a header gives no trace of the change.
 *
 * Freeze protection of a write through vfs_iocb_iter_write(): since Linux
 * 6.7 the call takes it itself (and drops it unless the kiocb was queued,
 * in which case the completion must); before, the caller takes and drops
 * it (file_start_write() / kiocb_start_write()).  The change is inside
 * fs/read_write.c, hence the one version test.  Used by splitkit_back's
 * file backing (backend/file.c) and by the image engine's direct bulk
 * copies (image/kernel/platform_kernel.c).
 */
#ifndef _SPLITKIT_VFS_H
#define _SPLITKIT_VFS_H

#include <linux/version.h>

#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 7, 0)
#define SK_VFS_TAKES_FREEZE	true
#else
#define SK_VFS_TAKES_FREEZE	false
#endif

#endif /* _SPLITKIT_VFS_H */
