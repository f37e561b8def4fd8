// SPDX-License-Identifier: GPL-2.0
/*
 * splitkit_back file path: a validated read or write on a regular file is
 * one kiocb over a bvec iterator of our bounce pages, submitted with
 * vfs_iocb_iter_read() / vfs_iocb_iter_write() - no loop device in between.
 * Where the filesystem supports it (FMODE_CAN_ODIRECT and 512-byte
 * alignment) the kiocb is IOCB_DIRECT and completes asynchronously;
 * otherwise (tmpfs, for one) it goes through the page cache and completes
 * before the call returns.  FLUSH_DISKCACHE with data is bracketed by
 * vfs_fsync() in blkif.c.  Counterpart of bdev.c for block devices.
 *
 * Freeze protection of writes: since Linux 6.7 vfs_iocb_iter_write() takes
 * it itself and drops it unless the kiocb was queued, in which case the
 * completion must drop it; before, the caller takes and drops it.  That
 * change is inside fs/read_write.c with no header trace to probe, hence
 * the one version test below.
 */
#include <linux/fs.h>
#include <linux/uio.h>
#include <linux/version.h>

#include "common.h"

#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 7, 0)
#define SKB_VFS_TAKES_FREEZE	true
#else
#define SKB_VFS_TAKES_FREEZE	false
#endif

static void skb_kiocb_done(struct kiocb *iocb, long ret)
{
	struct skb_req *req = container_of(iocb, struct skb_req, iocb);
	u64 want = req->desc.nr_sectors << SECTOR_SHIFT;

	if (req->end_write)
		kiocb_end_write(iocb);

	/* the range was checked against the size: short means failure */
	skb_req_done(req, ret < 0 ? (int)ret : (u64)ret != want ? -EIO : 0);
}

/**
 * skb_file_submit() - submit a validated request to the backing file.
 * @req: the request, bounce pages filled (writes).
 *
 * Consumer context.  The kiocb completes through skb_kiocb_done(), either
 * later (direct I/O) or before this returns.
 */
void skb_file_submit(struct skb_req *req)
{
	struct file *file = req->d->be.file;
	bool write = req->desc.kind != SKB_KIND_READ;
	struct iov_iter iter;
	ssize_t ret;

	iov_iter_bvec(&iter, write ? WRITE : READ, req->bvec,
		      req->desc.nr_segs, req->desc.nr_sectors << SECTOR_SHIFT);
	init_sync_kiocb(&req->iocb, file);
	req->iocb.ki_pos = req->desc.sector << SECTOR_SHIFT;
	req->iocb.ki_flags = req->d->be.direct ? IOCB_DIRECT : 0;
	req->iocb.ki_complete = skb_kiocb_done;
	atomic_inc(&req->pending);
	/*
	 * Freeze protection (see the top of the file): a completion the
	 * filesystem calls later always drops it; when the call completes
	 * at once, only the protection we took ourselves is ours to drop.
	 */
	req->end_write = write;
	if (write) {
		if (!SKB_VFS_TAKES_FREEZE)
			kiocb_start_write(&req->iocb);
		ret = vfs_iocb_iter_write(file, &req->iocb, &iter);
	} else {
		ret = vfs_iocb_iter_read(file, &req->iocb, &iter);
	}
	if (ret != -EIOCBQUEUED) {
		req->end_write = write && !SKB_VFS_TAKES_FREEZE;
		skb_kiocb_done(&req->iocb, ret);
	}
	skb_req_done(req, 0);
}
