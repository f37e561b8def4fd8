// SPDX-License-Identifier: GPL-2.0
/*
 * splitkit_back regular-file backing (struct skb_backing_ops): the file is
 * used in place, no loop device in between.  A validated read or write is
 * one kiocb over a bvec iterator of our bounce pages, submitted with
 * vfs_iocb_iter_read() / vfs_iocb_iter_write().  Where the filesystem
 * supports it (FMODE_CAN_ODIRECT and 512-byte alignment) the kiocb is
 * IOCB_DIRECT and completes asynchronously; otherwise (tmpfs, for one) it
 * goes through the page cache and completes before the call returns.  A
 * flush without data is vfs_fsync(); a flush carrying data (FLUSH_DISKCACHE
 * or WRITE_BARRIER) is fsync, write, fsync, all in skb_file_submit(); a
 * discard punches a hole (fallocate PUNCH_HOLE | KEEP_SIZE), which gives
 * the space back to the host filesystem.  Counterpart of bdev.c for block
 * devices; completion goes to req.c (skb_req_done()).
 *
 * Freeze protection of writes: whether vfs_iocb_iter_write() takes it
 * itself depends on the kernel (SK_VFS_TAKES_FREEZE, <splitkit/vfs.h>).
 */
#include <linux/blkdev.h>
#include <linux/falloc.h>
#include <linux/fs.h>
#include <linux/uio.h>
#include <splitkit/vfs.h>

#include "common.h"

static int skb_file_describe(struct skb_backing *be)
{
	struct inode *inode = file_inode(be->file);
	struct super_block *sb = inode->i_sb;

	be->sectors = i_size_read(inode) >> SECTOR_SHIFT;
	be->sector_size = SECTOR_SIZE;
	be->phys_sector_size = SECTOR_SIZE;
	/* O_DIRECT needs the host device's alignment: ours is 512 bytes */
	be->direct = (be->file->f_mode & FMODE_CAN_ODIRECT) &&
		     (!sb->s_bdev ||
		      bdev_logical_block_size(sb->s_bdev) <= SECTOR_SIZE);
	be->io = be->direct ? "direct" : "buffered";
	be->discard = be->file->f_op->fallocate != NULL;
	be->write_cache = true;	/* the page cache, even with O_DIRECT's metadata */
	be->discard_granularity = i_blocksize(inode);
	be->discard_alignment = 0;
	return 0;
}

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
 * skb_kiocb_submit() - start a read or write of a backing file.
 * @iocb: set up by the caller: file, position (bytes), flags and, for
 *	asynchronous completion, ki_complete.
 * @iter: the data.
 * @write: write, else read.
 * @end_write: where the completion learns whether it must drop the
 *	freeze protection (kiocb_end_write()); set before the I/O starts.
 *
 * Process context, may sleep.  Freeze protection as the top of the file
 * says.  Used by this file and by qcow2.c for data it writes straight
 * into an image file.
 *
 * Return: -EIOCBQUEUED when @iocb->ki_complete will be called, else the
 * result (bytes or -errno), which the caller passes to its completion.
 */
ssize_t skb_kiocb_submit(struct kiocb *iocb, struct iov_iter *iter,
			 bool write, bool *end_write)
{
	ssize_t ret;

	*end_write = write;
	if (write) {
		if (!SK_VFS_TAKES_FREEZE)
			kiocb_start_write(iocb);
		ret = vfs_iocb_iter_write(iocb->ki_filp, iocb, iter);
	} else {
		ret = vfs_iocb_iter_read(iocb->ki_filp, iocb, iter);
	}
	/*
	 * A completion the filesystem calls later always drops it; when the
	 * call completes at once, only the protection we took ourselves is
	 * ours to drop.
	 */
	if (ret != -EIOCBQUEUED)
		*end_write = write && !SK_VFS_TAKES_FREEZE;
	return ret;
}

/*
 * One kiocb over the bounce pages.  It completes through skb_kiocb_done(),
 * later (direct I/O) or before this returns; with @sync always before, the
 * kiocb having no completion callback of its own.
 */
static void skb_file_rw(struct skb_req *req, bool sync)
{
	struct file *file = req->d->be.file;
	bool write = req->desc.kind != SKB_KIND_READ;
	struct iov_iter iter;
	ssize_t ret;

	iov_iter_bvec(&iter, write ? WRITE : READ, req->bvec,
		      req->desc.nr_segs, req->desc.nr_sectors << SECTOR_SHIFT);
	init_sync_kiocb(&req->iocb, file);
	req->iocb.ki_pos = req->desc.sector << SECTOR_SHIFT;
	atomic_inc(&req->pending);
	/*
	 * The guest never makes its file longer: past the end is a size that
	 * shrank in dom0 and is not yet announced (resize.c).
	 */
	if (write && req->iocb.ki_pos + iov_iter_count(&iter) >
		     i_size_read(file_inode(file))) {
		req->end_write = false;
		skb_kiocb_done(&req->iocb, -EIO);
		return;
	}
	req->iocb.ki_flags = req->d->be.direct ? IOCB_DIRECT : 0;
	if (!sync)
		req->iocb.ki_complete = skb_kiocb_done;
	ret = skb_kiocb_submit(&req->iocb, &iter, write, &req->end_write);
	if (ret != -EIOCBQUEUED)
		skb_kiocb_done(&req->iocb, ret);
}

/*
 * Submit a validated request (skb_backing_ops.submit).  A flush with data
 * is done here from start to end, in the consumer: the first fsync makes
 * every write completed before it durable before its own data is written,
 * the second makes that data durable before it is answered.
 */
static void skb_file_submit(struct skb_req *req)
{
	struct file *file = req->d->be.file;
	int err;

	if (req->desc.kind != SKB_KIND_FLUSH) {
		skb_file_rw(req, false);
		skb_req_done(req, 0);
		return;
	}
	err = vfs_fsync(file, 0);
	if (!err) {
		skb_file_rw(req, true);
		err = READ_ONCE(req->error);
	}
	if (!err)
		err = vfs_fsync(file, 0);
	skb_req_done(req, err);
}

static int skb_file_flush(struct skb_backing *be)
{
	return vfs_fsync(be->file, 0);
}

static int skb_file_discard(struct skb_backing *be, u64 sector,
			    u64 nr_sectors)
{
	/* vfs_fallocate() takes the freeze protection itself */
	return vfs_fallocate(be->file,
			     FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
			     sector << SECTOR_SHIFT, nr_sectors << SECTOR_SHIFT);
}

/* A file truncated or extended in dom0: whole sectors, as describe. */
static u64 skb_file_size_now(const struct skb_backing *be)
{
	return i_size_read(file_inode(be->file)) >> SECTOR_SHIFT;
}

const struct skb_backing_ops skb_file_ops = {
	.name = "file",
	.describe = skb_file_describe,
	.submit = skb_file_submit,
	.flush = skb_file_flush,
	.discard = skb_file_discard,
	/* its I/O only goes through req->bvec: fine on mapped grants */
	.map_ok = true,
	.size_now = skb_file_size_now,
};
