// SPDX-License-Identifier: GPL-2.0
/*
 * splitkit_back qcow2 backing (struct skb_backing_ops): a disk whose
 * administrator said format qcow2 (the hotplug script's "splitkit-format"
 * key; the format is never guessed from the file's bytes) is served
 * through the image core of splitkit_image.ko (image/core/image.h).  The
 * core reads through the backing chain, copies on write into the top
 * image, frees discarded clusters (and punches them out of the file), and
 * writes metadata through in its crash-safe order, so a flush is the
 * core's: data, then L2 tables, then refcounts are durable when it returns.
 *
 * The core is not thread-safe: every call on an image holds the image's
 * mutex.  Engine calls run in the ring consumer's process context inside
 * memalloc_noio_save(): the core's GFP_KERNEL allocations (L2 and
 * refcount blocks, a compressed cluster's input) become GFP_NOIO there, so
 * serving a disk never recurses into I/O for reclaim; a failed allocation
 * fails the request with -ENOMEM, nothing else.
 *
 * Reads, and writes of 64 KiB or more, of data the image already holds in
 * place take the direct path: under the mutex the engine says where the
 * request's bytes lie in the file (ski_map_data_in()), then, unlocked,
 * each run of them is one asynchronous O_DIRECT kiocb between the
 * request's pages and the file, as the raw file backing does, so a guest
 * keeps many requests in flight on a qcow2 disk as on a raw one.  The
 * engine's smaller writes stay in dom0's page cache until dom0 writes them
 * back (or at once, with the qcow2_writeback parameter:
 * skb_qcow2_writeback()); a run over pages still dirty there takes those
 * pages through the page cache and the rest with O_DIRECT
 * (skb_qcow2_piece()).
 * Everything else (unallocated and zero clusters, the backing chain,
 * compressed clusters, allocating writes, flushes, discards, and what a
 * running commit sends to the parent) goes through the engine synchronously
 * under the mutex.  Once a commit has finished, the parent serves the guest
 * and the direct path maps there, on the parent's file opened with O_DIRECT
 * (skb_qcow2_file_of()), under the same rules.  The rule that keeps the two
 * apart: a cluster with direct I/O in flight is never freed (the engine's
 * free hook waits for that I/O first, skb_qcow2_drain()), and a long
 * operation's step waits for it when it starts and each time it takes the
 * mutex back after copying unlocked (imgop.c), so a direct write into a
 * cluster being moved has landed before the step checks the move's dirty
 * mark, which ski_map_data() set.  A direct write changes no metadata: the
 * engine hands out only clusters the image alone owns for one.  No page of
 * the file holds both what a direct write changes and what the engine
 * writes through the page cache at the same time: clusters are a page or
 * larger (or the direct path is off), and an engine write or discard of
 * part of a page (of any size with large folios) waits for the direct
 * I/O first (skb_qcow2_part_page()).  The direct path's own writes into
 * the page cache (pages it found dirty there, skb_qcow2_piece()) are made
 * under the mutex too, before the next request is mapped: a page that a
 * request found clean and took with O_DIRECT becomes dirty while that
 * I/O is in flight only through a write of the same bytes.
 * So guest reads and writes of the image's own data wait for an operation's
 * step only to be mapped.
 *
 * With zero copy (gmap.c) a request's segments may be the frontend's own
 * pages, mapped grants: the direct path does its I/O on them as on bounce
 * pages; the engine reads and writes them at their kernel address (one
 * buffer for a request of contiguous segments, skb_qcow2_rw_linear()).
 *
 * At attach (skb_qcow2_describe()) the image's own policy, from its VM
 * information extension (Documentation/image.rst), is enforced through
 * core/policy.c (portable, unit-tested and fuzzed): expiry,
 * features the image requires us to understand, the domains allowed, a
 * read-only policy and a limit on concurrent attaches; a writable image
 * then gets an "attached" history record, and a "detached" one at close.
 * A refusal leaves its reason in skb_backing.why for xenbus.c to report.
 * Long operations on a served image (compact, defragment, merge) are
 * imgop.c's, under the same lock.
 */
#include <linux/file.h>
#include <linux/kernel.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/pagemap.h>
#include <linux/refcount.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>
#include <linux/timekeeping.h>
#include <linux/uio.h>
#include <linux/vmalloc.h>

#include "../image/core/image.h"

#include "common.h"
#include "core/policy.h"
#include "qcow2.h"

/* Every qcow2 image attached by this backend, for the attach rules. */
static LIST_HEAD(skb_qcow2_list);
static DEFINE_MUTEX(skb_qcow2_list_lock);

#define skb_refuse(be, fmt, ...) \
	snprintf((be)->why, sizeof((be)->why), fmt, ##__VA_ARGS__)

/* The struct file the engine reads and writes @img's file through. */
static struct file *skb_qcow2_filp(struct ski_image *img)
{
	return skp_file_filp(ski_image_file(img));
}

static bool skb_inode_in(struct inode *const *v, unsigned int n,
			 const struct inode *inode)
{
	while (n--)
		if (v[n] == inode)
			return true;
	return false;
}

/*
 * Attaches of @inode now, and whether one is writable: disks served from
 * it, and the parent a commit of another disk writes (a writer).  List
 * lock held.
 */
static unsigned int skb_attaches(struct inode *inode, bool *writer)
{
	struct skb_qcow2 *q;
	unsigned int n = 0;

	*writer = false;
	list_for_each_entry(q, &skb_qcow2_list, node) {
		if (skb_inode_in(q->written, q->nr_written, inode)) {
			n++;
			*writer = true;
		}
		if (q->inode != inode)
			continue;
		n++;
		*writer |= q->writable;
	}
	return n;
}

/* Does an attached disk but @self read through @inode?  List lock held. */
static bool skb_read_through(struct inode *inode, struct skb_qcow2 *self)
{
	struct skb_qcow2 *q;

	list_for_each_entry(q, &skb_qcow2_list, node)
		if (q != self && skb_inode_in(q->chain, q->nr_chain, inode))
			return true;
	return false;
}

/*
 * The rules for backing chains between attaches (as QEMU's image locks
 * keep them): an image another disk reads through is not written, and a
 * disk does not read through an image another one writes.  0, or -EBUSY
 * with @be->why set.  List lock held.
 */
static int skb_qcow2_chain_rules(struct skb_backing *be, struct skb_qcow2 *q)
{
	unsigned int i;
	bool writer;

	if (q->writable && skb_read_through(q->inode, q)) {
		skb_refuse(be, "image is the backing file of an attached image: attach it with access=ro");
		return -EBUSY;
	}
	for (i = 0; i < q->nr_chain; i++) {
		if (skb_attaches(q->chain[i], &writer) && writer) {
			skb_refuse(be, "a backing file of this image (link %u of its chain) is attached writable or is being committed into",
				   i + 1);
			return -EBUSY;
		}
	}
	return 0;
}

/*
 * @img's own policy (core/policy.c) for @be's domain opening it
 * (@read_only or not), now; 0, or -errno with @why set.  List lock held.
 */
static int skb_qcow2_policy_for(const struct skb_backing *be,
				struct ski_image *img,
				struct inode *inode, bool read_only,
				char *why, size_t len)
{
	struct skb_policy_in in = {
		.dom_name = be->dom_name,
		.dom_uuid = be->dom_uuid[0] ? be->dom_uuid : NULL,
		.read_only = read_only,
		.now = ktime_get_real_seconds(),
	};

	in.attached = skb_attaches(inode, &in.attached_writer);
	return skb_policy_check(ski_image_vminfo(img), &in, why, len);
}

/*
 * The attach rules (the image's policy, the chain rules) for this attach;
 * 0, or -errno with @be->why set.  Called with skb_qcow2_list_lock held.
 */
static int skb_qcow2_policy(struct skb_backing *be, struct skb_qcow2 *q)
{
	return skb_qcow2_policy_for(be, q->img, q->inode, be->read_only,
				    be->why, sizeof(be->why)) ?:
	       skb_qcow2_chain_rules(be, q);
}

/**
 * skb_qcow2_commit_claim() - may a commit of @q write into @parent?
 * @q: the disk; its lock held (imgop.c, skb_imgop_start()).
 * @parent: the image the commit writes guest data into.
 *
 * Process context, takes the list lock.  @parent must be attached nowhere
 * (as a disk, or as another commit's parent), no other disk may read
 * through it, and its own policy (Documentation/image.rst: expires,
 * required features, allowed domains, read-only) must let @q's domain
 * write it.  Once claimed, @parent counts as attached writable until @q
 * is detached, so no attach takes it or reads through it meanwhile.  The
 * kernel log says why a claim is refused.
 *
 * Return: 1 when claimed now, 0 when this disk's earlier commit claimed
 * it already; -EBUSY (attached, or read through by another disk), the
 * policy's errors (-EACCES, -EROFS, -EPERM...); -ENOSPC past
 * SKI_MAX_CHAIN commits.
 */
int skb_qcow2_commit_claim(struct skb_qcow2 *q, struct ski_image *parent)
{
	struct inode *inode = file_inode(skb_qcow2_filp(parent));
	char why[128] = "";
	bool writer;
	int err;

	mutex_lock(&skb_qcow2_list_lock);
	if (skb_inode_in(q->written, q->nr_written, inode)) {
		err = 0;	/* this disk's earlier commit: claimed already */
		goto unlock;
	}
	err = -EBUSY;
	if (skb_attaches(inode, &writer)) {
		snprintf(why, sizeof(why), "the parent is attached");
		goto unlock;
	}
	if (skb_read_through(inode, q)) {
		snprintf(why, sizeof(why),
			 "another attached image reads through the parent");
		goto unlock;
	}
	err = skb_qcow2_policy_for(q->be, parent, inode, false, why,
				   sizeof(why));
	if (err)
		goto unlock;
	err = -ENOSPC;
	if (q->nr_written == ARRAY_SIZE(q->written)) {
		snprintf(why, sizeof(why), "too many commits");
		goto unlock;
	}
	q->written[q->nr_written++] = inode;
	err = 1;
unlock:
	mutex_unlock(&skb_qcow2_list_lock);
	if (err < 0)
		pr_warn(SKB_NAME ": %s: commit into %s refused: %s\n", q->path,
			ski_image_path(parent), why);
	return err;
}

/**
 * skb_qcow2_commit_unclaim() - the commit just claimed did not begin.
 * @q: the disk; its lock held.
 *
 * Process context, takes the list lock.  Drops the last parent
 * skb_qcow2_commit_claim() claimed (when it returned 1).
 */
void skb_qcow2_commit_unclaim(struct skb_qcow2 *q)
{
	mutex_lock(&skb_qcow2_list_lock);
	if (q->nr_written)
		q->nr_written--;
	mutex_unlock(&skb_qcow2_list_lock);
}

/* Append a history record; best effort, the guest is not disturbed. */
static void skb_qcow2_history(struct skb_backing *be, struct skb_qcow2 *q,
			      const char *op)
{
	unsigned int noio;
	int err;

	if (be->read_only)
		return;
	noio = skb_qcow2_lock(q);
	err = ski_note_history(q->img, op, be->dom_name ? be->dom_name : "");
	if (!err)
		err = ski_flush(q->img);
	skb_qcow2_unlock(q, noio);
	if (err)
		pr_warn(SKB_NAME ": %s: recording '%s' in the image history: %d\n",
			be->path, op, err);
}

/*
 * @img's file @file again, with O_DIRECT, for the direct path; NULL where
 * the filesystem takes no direct I/O at our 512-byte alignment (file.c's
 * rule), or where the image's clusters are smaller than a page or a
 * filesystem block (then a cluster shares its page with others, metadata
 * included, which the engine writes through the page cache: a direct
 * write in flight to the same page would be lost when that page is
 * written back); then its requests go through the engine.  Opened by
 * @file's path, never by name (another file may have that name now).
 */
static struct file *skb_qcow2_open_direct(struct file *file,
					  struct ski_image *img,
					  bool read_only)
{
	struct inode *inode = file_inode(file);
	struct super_block *sb = inode->i_sb;
	u64 cluster = 1ULL << ski_image_header(img)->cluster_bits;
	int flags = O_LARGEFILE | O_DIRECT;
	struct file *f;

	if (!(file->f_mode & FMODE_CAN_ODIRECT) ||
	    (sb->s_bdev && bdev_logical_block_size(sb->s_bdev) > SECTOR_SIZE) ||
	    cluster < PAGE_SIZE || cluster < i_blocksize(inode))
		return NULL;
	flags |= read_only ? O_RDONLY : O_RDWR;
	f = dentry_open(&file->f_path, flags, current_cred());
	if (IS_ERR(f)) {
		pr_info(SKB_NAME ": %s: no direct I/O (%ld): its requests through the image engine\n",
			ski_image_path(img), PTR_ERR(f));
		return NULL;
	}
	return f;
}

/* The engine's free hook: a cluster is about to be freed. */
static void skb_qcow2_freeing(void *arg)
{
	skb_qcow2_drain(arg);
}

/*
 * Write back what dom0's page cache holds of @file not yet on the disk and
 * wait for it, keeping any error for the engine's next flush to report.
 * It waits first for write-back someone else started (dom0's flusher, an
 * O_DIRECT write's), which a write-back without waiting skips even when
 * the page was written again meanwhile.  An error ->writepages returns
 * without recording it (ext4 giving up a delayed allocation) is recorded
 * on the file, as a flush that met it would have reported it.
 * Return: whether a page of @file is still dirty or being written back
 * (written again meanwhile).
 */
static bool skb_qcow2_write_back(struct file *file)
{
	struct address_space *mapping = file->f_mapping;
	int err;

	filemap_fdatawait_keep_errors(mapping);
	err = filemap_flush(mapping);
	if (err && err != -ENOMEM && err != -EAGAIN)
		mapping_set_error(mapping, err);
	filemap_fdatawait_keep_errors(mapping);
	return mapping_tagged(mapping, PAGECACHE_TAG_DIRTY) ||
	       mapping_tagged(mapping, PAGECACHE_TAG_WRITEBACK);
}

/*
 * Files a write-back pass looks at: the top image's and, from the first
 * step of a commit, those of the parents it writes guest data into
 * (ski_image_commit_to(); a commit of the parent it serves from after a
 * finished commit adds the next).
 */
#define SKB_QCOW2_WB_FILES	4

/*
 * A write-back pass (skb_qcow2.writeback, on system_unbound_wq), queued
 * with the qcow2_writeback parameter set by each guest write or discard
 * the engine served.  Those land in dom0's page cache and would stay dirty
 * until dom0's periodic write-back (30 s and more by default), and the
 * direct path takes such pages through the page cache (skb_qcow2_piece()).
 * Started at once, the pages are mostly clean again by the time the guest
 * reads them, for the price of a disk write each while the guest still
 * writes: make bench-qcow2 with both in one run (BENCH_PAIRS="qcow2
 * qcow2wb raw", 3 rounds), 4 KiB random writes at 0.42x (queue depth 1)
 * and 0.79x (32) the IOPS without the pass, 1 MiB reads and writes after
 * them at 1.25x and 1.12x (which then do not meet dom0's write-back of
 * the earlier jobs' pages).  The image lock is held only to take
 * references to the files the engine writes guest data into, and again to
 * set skb_stats/image_dirty to what the pass left, unless a write or
 * flush came since it began (@q->wb_gen).  Ordering is the engine's
 * flushes', never the page cache's, which may write any page back at any
 * time: writing pages back early changes no guarantee.
 */
static void skb_qcow2_writeback(struct work_struct *work)
{
	struct skb_qcow2 *q = container_of(work, struct skb_qcow2, writeback);
	struct file *files[SKB_QCOW2_WB_FILES];
	unsigned int i, n = 0, noio;
	struct ski_image *img;
	bool dirty = false;
	u64 gen;

	if (!READ_ONCE(*q->writeback_on))
		return;		/* turned off since it was queued */
	noio = skb_qcow2_lock(q);
	gen = q->wb_gen;
	for (img = q->img; img && n < SKB_QCOW2_WB_FILES;
	     img = ski_image_commit_to(img))
		files[n++] = get_file(skb_qcow2_filp(img));
	skb_qcow2_unlock(q, noio);
	for (i = 0; i < n; i++) {
		dirty |= skb_qcow2_write_back(files[i]);
		fput(files[i]);
	}
	noio = skb_qcow2_lock(q);
	if (q->wb_gen == gen)
		atomic_set(&q->stats->image_dirty, dirty);
	skb_qcow2_unlock(q, noio);
	atomic64_inc(&q->stats->image_writeback);
}

/*
 * The image's file is clean in dom0's page cache (a flush succeeded):
 * image_dirty says so, and a pass begun before cannot say otherwise.
 * @q->lock held.
 */
static void skb_qcow2_flushed(struct skb_qcow2 *q)
{
	q->wb_gen++;
	atomic_set(&q->stats->image_dirty, 0);
}

static int skb_qcow2_describe(struct skb_backing *be)
{
	unsigned int flags = SKI_OPEN_STRICT | SKI_OPEN_PUNCH;
	struct ski_image *img;
	struct skb_qcow2 *q;
	struct skp_file *f;
	u64 size;
	int err;

	if (!be->read_only)
		flags |= SKI_OPEN_RW;
	if (be->backing_raw)
		flags |= SKI_OPEN_UNRECORDED_RAW;
	q = kzalloc(sizeof(*q), GFP_KERNEL);
	if (!q)
		return -ENOMEM;
	mutex_init(&q->lock);
	atomic_set(&q->aio_inflight, 0);
	init_waitqueue_head(&q->aio_idle);
	INIT_WORK(&q->writeback, skb_qcow2_writeback);
	q->writeback_on = be->qcow2_writeback;
	q->stats = &container_of(be, struct skb_dev, be)->stats;
	q->be = be;
	skb_imgop_init(q);
	q->inode = file_inode(be->file);
	q->path = be->path;
	q->writable = !be->read_only;
	INIT_LIST_HEAD(&q->node);
	err = skp_file_from_filp(be->file, &f);
	if (err)
		goto free_q;
	/* the image owns the wrapper from here, failure or not */
	err = ski_open_file(f, be->path, flags, &q->img);
	if (err) {
		if (err == -EPERM)
			skb_refuse(be, "qcow2 backing chain refused: a backing file without recorded format, or a name outside the image's directory (dom0 kernel log says which)");
		else if (err == -EOPNOTSUPP && !be->read_only)
			skb_refuse(be, "qcow2 image cannot be written here (internal snapshots, bitmaps, refcount width, dirty or corrupt; see dom0 kernel log): attach it with access=ro");
		else if (err == -EOPNOTSUPP)
			skb_refuse(be, "qcow2 image uses a feature splitkit_back does not support (see dom0 kernel log)");
		else if (err == -EINVAL)
			skb_refuse(be, "not a valid qcow2 image (see dom0 kernel log)");
		else
			skb_refuse(be, "opening the qcow2 image or its backing chain failed (%d)",
				   err);
		goto free_q;
	}
	for (img = ski_image_backing(q->img); img && q->nr_chain < SKI_MAX_CHAIN;
	     img = ski_image_backing(img))
		q->chain[q->nr_chain++] = file_inode(skb_qcow2_filp(img));
	mutex_lock(&skb_qcow2_list_lock);
	err = skb_qcow2_policy(be, q);
	if (!err)
		list_add(&q->node, &skb_qcow2_list);
	mutex_unlock(&skb_qcow2_list_lock);
	if (err)
		goto close_img;

	if (be->qcow2_direct)
		q->direct = skb_qcow2_open_direct(be->file, q->img,
						  be->read_only);
	ski_set_free_hook(q->img, skb_qcow2_freeing, q);
	size = ski_image_header(q->img)->size;
	be->priv = q;
	/* large folios: writes over dirty pages are not split (below) */
	if (!q->direct)
		be->io = "qcow2";
	else if (mapping_large_folio_support(q->inode->i_mapping))
		be->io = "qcow2+direct (large folios)";
	else
		be->io = "qcow2+direct";
	be->sectors = size >> SECTOR_SHIFT;
	be->sector_size = SECTOR_SIZE;
	be->phys_sector_size = SECTOR_SIZE;
	be->direct = false;
	be->discard = !be->read_only;
	be->write_cache = true;
	be->discard_granularity = 1U << ski_image_header(q->img)->cluster_bits;
	be->discard_alignment = 0;
	skb_qcow2_history(be, q, "attached");
	return 0;

close_img:
	ski_close(q->img);
free_q:
	kfree(q);
	return err;
}

/*
 * Whether any of @req's segments is on the frontend's own page, a grant
 * mapped by gmap.c (zero copy).  Such a page is mapped at its kernel
 * address only: a PV dom0 may not map another domain's frame a second
 * time through its own page tables, so vm_map_ram() is not for it.
 */
static bool skb_qcow2_any_mapped(struct skb_req *req)
{
	unsigned int i;

	for (i = 0; i < req->desc.nr_segs; i++)
		if (skb_gpool_mapped(req, i))
			return true;
	return false;
}

/*
 * The most a request's linear buffer holds (skb_qcow2_rw_linear()): a
 * larger request (max_indirect_segs above 256) goes through it in pieces
 * of this size, cut at multiples of it in the disk.  One buffer per ring
 * at a time (the consumer waits for the engine), so at most this much per
 * ring, outside the page budget (budget.c).
 */
#define SKB_QCOW2_LINEAR_MAX	(1U << 20)

/*
 * A request of contiguous segments, some of them on mapped grants, for
 * the engine in pieces of up to SKB_QCOW2_LINEAR_MAX: its bytes go through
 * one linear buffer, copied in from the segments' pages for a write and
 * out to them after a read.  One memcpy in dom0 where the bounce pages
 * cost a grant copy each, and one engine call per piece, so an allocating
 * write is not cut into 4 KiB ones (each a copy-on-write of its cluster).
 * @buf holds min(@len, SKB_QCOW2_LINEAR_MAX) bytes.  Return: 0 or the
 * engine's -errno.
 */
static int skb_qcow2_rw_linear(struct skb_qcow2 *q, struct skb_req *req,
			       void *buf, u64 pos, u64 len, bool write)
{
	struct iov_iter iter;
	int err = 0;
	u64 n;

	iov_iter_bvec(&iter, write ? WRITE : READ, req->bvec,
		      req->desc.nr_segs, len);
	while (len && !err) {
		n = SKB_QCOW2_LINEAR_MAX - (pos & (SKB_QCOW2_LINEAR_MAX - 1));
		n = min(n, len);
		if (write) {
			err = -EFAULT;
			if (copy_from_iter(buf, n, &iter) == n)
				err = ski_write(q->img, buf, n, pos);
		} else {
			err = ski_read(q->img, buf, n, pos);
			if (!err && copy_to_iter(buf, n, &iter) != n)
				err = -EFAULT;
		}
		pos += n;
		len -= n;
	}
	return err;
}

/*
 * A request of contiguous segments (skb_segs_contiguous(): no gap between
 * one segment's end and the next one's start, as Linux frontends send
 * them) for the engine at once, so it does a lookup and a file I/O per
 * cluster instead of per 4 KiB segment: its bounce pages mapped into one
 * virtual range (vm_map_ram()), or, with a segment on a mapped grant,
 * through skb_qcow2_rw_linear().  Inside skb_qcow2_lock() (GFP_NOIO).
 * Return: true with the engine's result in *@err, or false without memory
 * for the mapping or the buffer (nothing done).
 */
static bool skb_qcow2_rw_whole(struct skb_qcow2 *q, struct skb_req *req,
			       u64 pos, u64 len, bool write, int *err)
{
	unsigned int n = req->desc.nr_segs;
	void *map, *buf;

	if (skb_qcow2_any_mapped(req)) {
		buf = kvmalloc(min_t(u64, len, SKB_QCOW2_LINEAR_MAX),
			       GFP_KERNEL | __GFP_NOWARN);
		if (!buf)
			return false;
		*err = skb_qcow2_rw_linear(q, req, buf, pos, len, write);
		kvfree(buf);
		return true;
	}
	map = vm_map_ram(req->pages, n, NUMA_NO_NODE);
	if (!map)
		return false;
	buf = map + req->bvec[0].bv_offset;
	if (write)
		*err = ski_write(q->img, buf, len, pos);
	else
		*err = ski_read(q->img, buf, len, pos);
	vm_unmap_ram(map, n);
	return true;
}

/*
 * Reads and writes under the image lock: the whole request at once where
 * skb_qcow2_rw_whole() can, else segment by segment, each at its page's
 * kernel address.
 */
static int skb_qcow2_rw(struct skb_qcow2 *q, struct skb_req *req)
{
	bool write = req->desc.kind != SKB_KIND_READ;
	u64 pos = req->desc.sector << SECTOR_SHIFT;
	u64 len = req->desc.nr_sectors << SECTOR_SHIFT;
	unsigned int i, n = req->desc.nr_segs;
	int err = 0;

	if (n > 1 && skb_segs_contiguous(req->segs, n) &&
	    skb_qcow2_rw_whole(q, req, pos, len, write, &err))
		return err;
	for (i = 0; i < n && !err; i++) {
		struct bio_vec *bv = &req->bvec[i];
		void *buf = page_address(bv->bv_page) + bv->bv_offset;

		if (write)
			err = ski_write(q->img, buf, bv->bv_len, pos);
		else
			err = ski_read(q->img, buf, bv->bv_len, pos);
		pos += bv->bv_len;
	}
	return err;
}

/**
 * struct skb_qcow2_aio - one run of a request's bytes read or written
 *	straight between its pages and the image file (the direct path).
 * @iocb: the O_DIRECT kiocb on skb_qcow2.direct or .serve_direct; the
 *	run holds a reference to that file until it is freed, which may be
 *	after skb_qcow2_serve_drop() let the disk's own go.
 * @req: the request; holds a reference of its I/O for each run.
 * @q: the image; the run counts in its aio_inflight.
 * @next: the request's next run while they are being mapped.
 * @pos: where the run starts in the request's data, bytes.
 * @len: its length, bytes.
 * @ref: 2 once started: the completion's and the submitter's, for a
 *	filesystem may still use @iocb after its read_iter or write_iter
 *	returned -EIOCBQUEUED, when the completion may have run already
 *	(ext4's read touches iocb->ki_filp then).  The last one frees.
 * @end_write: the completion drops the freeze protection.
 */
struct skb_qcow2_aio {
	struct kiocb iocb;
	struct skb_req *req;
	struct skb_qcow2 *q;
	struct skb_qcow2_aio *next;
	u64 pos;
	u64 len;
	refcount_t ref;
	bool end_write;
};

static void skb_qcow2_aio_put(struct skb_qcow2_aio *aio)
{
	if (refcount_dec_and_test(&aio->ref)) {
		fput(aio->iocb.ki_filp);
		kfree(aio);
	}
}

/*
 * @iter over bytes [@pos, @pos + @n) of @req's data (its segments), for
 * @dir (READ: into them, WRITE: from them).
 */
static void skb_qcow2_iter(struct iov_iter *iter, struct skb_req *req,
			   unsigned int dir, u64 pos, u64 n)
{
	iov_iter_bvec(iter, dir, req->bvec, req->desc.nr_segs,
		      req->desc.nr_sectors << SECTOR_SHIFT);
	iov_iter_advance(iter, pos);
	iov_iter_truncate(iter, n);
}

/*
 * A read that ended short at the file's end: the rest reads as zeroes, as
 * in the engine (skp_pread()), which a cluster mapped past the end of a
 * file another tool wrote would show.
 */
static void skb_qcow2_aio_zero_tail(struct skb_qcow2_aio *aio, u64 got)
{
	struct iov_iter iter;

	skb_qcow2_iter(&iter, aio->req, READ, aio->pos + got, aio->len - got);
	iov_iter_zero(aio->len - got, &iter);
}

/* Any context: a run's kiocb completed. */
static void skb_qcow2_aio_done(struct kiocb *iocb, long ret)
{
	struct skb_qcow2_aio *aio = container_of(iocb, struct skb_qcow2_aio,
						 iocb);
	struct skb_req *req = aio->req;
	struct skb_qcow2 *q = aio->q;
	bool read = req->desc.kind == SKB_KIND_READ;
	int err = 0;

	if (ret < 0)
		err = ret;
	else if ((u64)ret < aio->len && read)
		skb_qcow2_aio_zero_tail(aio, ret);
	else if ((u64)ret != aio->len)
		err = -EIO;
	if (aio->end_write)
		kiocb_end_write(iocb);
	skb_qcow2_aio_put(aio);
	/* before the request's end: a detach waits for that, then frees q */
	if (atomic_dec_and_test(&q->aio_inflight))
		wake_up(&q->aio_idle);
	skb_req_done(req, err);
}

static void skb_qcow2_aio_free(struct skb_qcow2_aio *aio)
{
	struct skb_qcow2_aio *next;

	for (; aio; aio = next) {
		next = aio->next;
		fput(aio->iocb.ki_filp);
		kfree(aio);
	}
}

/*
 * Stop doing direct I/O on @q->serve's file: its I/O drained, its free
 * hook gone, the disk's reference to the file dropped (a run whose
 * submitter is still returning holds its own).  @q->lock held, or at
 * close, when no request is left.
 */
static void skb_qcow2_serve_drop(struct skb_qcow2 *q)
{
	if (!q->serve)
		return;
	skb_qcow2_drain(q);
	ski_set_free_hook(q->serve, NULL, NULL);
	if (q->serve_direct)
		fput(q->serve_direct);
	q->serve = NULL;
	q->serve_direct = NULL;
}

/*
 * The O_DIRECT file of @in, the image ski_map_data_in() mapped a run in:
 * the top image's, or, after a finished commit, that of the parent that
 * serves the guest, opened the first time a request meets it, with the
 * free hook that keeps its clusters from being freed under our I/O.
 * NULL: that image takes no direct I/O.  @q->lock held.
 */
static struct file *skb_qcow2_file_of(struct skb_qcow2 *q,
				      struct ski_image *in)
{
	if (in == q->img)
		return q->direct;
	if (in != q->serve) {
		skb_qcow2_serve_drop(q);
		q->serve = in;
		q->serve_direct = skb_qcow2_open_direct(skb_qcow2_filp(in),
							in, !q->writable);
		ski_set_free_hook(in, skb_qcow2_freeing, q);
	}
	return q->serve_direct;
}

/*
 * The engine wrote guest data or zeroes into dom0's page cache, or a
 * direct-path write some into pages already dirty there: the image is
 * dirty, and, with the direct path on and the qcow2_writeback
 * parameter set, a write-back pass is queued (none if one is queued
 * already; one running is queued again).  @q->lock held.
 */
static void skb_qcow2_written(struct skb_qcow2 *q)
{
	q->wb_gen++;
	atomic_set(&q->stats->image_dirty, 1);
	if (q->direct && READ_ONCE(*q->writeback_on))
		queue_work(system_unbound_wq, &q->writeback);
}

/*
 * Whether dom0's page cache may hold bytes of @file's [@host, @host +
 * @n) newer than the disk's: a page there dirty, being written back or
 * locked (filemap_range_needs_writeback(); a locked page may only be
 * being read in).  The engine's writes under SKB_QCOW2_DIRECT_WRITE_MIN
 * land in the page cache.  O_DIRECT on such a range first writes those
 * pages back and waits for them, in the ring's consumer
 * (iomap_dio_rw(): filemap_write_and_wait_range()), so such a run is
 * split into pieces (skb_qcow2_piece()).  Only a choice of path: each is
 * coherent.
 */
static bool skb_qcow2_range_dirty(struct file *file, u64 host, u64 n)
{
	return filemap_range_needs_writeback(file->f_mapping, host,
					     host + n - 1);
}

/* Whether page @index of @mapping is dirty or being written back. */
static bool skb_qcow2_page_cached(struct address_space *mapping,
				  pgoff_t index)
{
	return xa_get_mark(&mapping->i_pages, index, PAGECACHE_TAG_DIRTY) ||
	       xa_get_mark(&mapping->i_pages, index, PAGECACHE_TAG_WRITEBACK);
}

/*
 * The first page of @mapping in [@index, @last] dirty or being written
 * back, else @last + 1.  (A large folio found may start before @index.)
 */
static pgoff_t skb_qcow2_next_cached(struct address_space *mapping,
				     pgoff_t index, pgoff_t last)
{
	pgoff_t dirty = index, wb = index;

	if (index > last)
		return index;
	if (!xa_find(&mapping->i_pages, &dirty, last, PAGECACHE_TAG_DIRTY))
		dirty = last + 1;
	if (!xa_find(&mapping->i_pages, &wb, last, PAGECACHE_TAG_WRITEBACK))
		wb = last + 1;
	return max(index, min(dirty, wb));
}

/*
 * The first piece of a run [@host, @host + @n) of the image file whose
 * range the page cache holds dirty (skb_qcow2_range_dirty()): its pages
 * that are dirty or being written back (*@cached true), read from or
 * written into the page cache, or those that are not (false), done with
 * O_DIRECT, which then finds nothing to write back.  After a burst of
 * small random writes a 1 MiB read meets a few such pages: before the
 * split it either waited for their write-back (make bench-qcow2 of
 * 28139bd, 1 MiB reads after 4 KiB random writes at 0.68x the raw
 * file's throughput) or read its whole run through the page cache,
 * synchronously, mostly from the disk (2fd636d, 0.62x).  A read's page
 * may be written back or dirtied between this look and its I/O: O_DIRECT
 * then waits for it, a buffered read reads it in; coherent either way.
 * A write's cached pieces are written at once, under the image lock
 * (skb_qcow2_write_cached()).  The marks are a folio's: with large folios
 * a piece is one folio's pages (writes then take no pieces at all,
 * skb_qcow2_split_writes()).
 * Return: the piece's length, bytes.
 */
static u64 skb_qcow2_piece(struct address_space *mapping, u64 host, u64 n,
			   bool *cached)
{
	pgoff_t first = host >> PAGE_SHIFT, last = (host + n - 1) >> PAGE_SHIFT;
	pgoff_t end;

	*cached = skb_qcow2_page_cached(mapping, first);
	if (*cached) {
		for (end = first + 1; end <= last; end++)
			if (!skb_qcow2_page_cached(mapping, end))
				break;
	} else {
		end = skb_qcow2_next_cached(mapping, first + 1, last);
	}
	return min_t(u64, n, ((u64)end << PAGE_SHIFT) - host);
}

/*
 * A run of @req's bytes, [@pos, @pos + @n) of its data, at @host in
 * @file (@flags: IOCB_DIRECT or 0), or NULL when memory ran out.
 */
static struct skb_qcow2_aio *skb_qcow2_run(struct skb_qcow2 *q,
					   struct skb_req *req,
					   struct file *file, int flags,
					   u64 host, u64 pos, u64 n)
{
	struct skb_qcow2_aio *aio;

	aio = kmalloc(sizeof(*aio), GFP_NOIO);
	if (!aio)
		return NULL;
	init_sync_kiocb(&aio->iocb, get_file(file));
	aio->iocb.ki_pos = host;
	aio->iocb.ki_flags = flags;
	aio->iocb.ki_complete = skb_qcow2_aio_done;
	aio->req = req;
	aio->q = q;
	aio->next = NULL;
	aio->pos = pos;
	aio->len = n;
	refcount_set(&aio->ref, 2);
	return aio;
}

/*
 * Write [@pos, @pos + @n) of @req's data at @host into the page cache of
 * @file (the engine's own, buffered), now: pages there dirty or being
 * written back (skb_qcow2_piece()).  @q->lock held, as for the engine's
 * own writes: the write lands before any later request is mapped, so no
 * page becomes dirty that a later mapping took for clean, with O_DIRECT in
 * flight on the rest of it that the page's write-back would undo.
 * Return: 0, or -errno (-EIO for a short write).
 */
static int skb_qcow2_write_cached(struct skb_req *req, struct file *file,
				  u64 host, u64 pos, u64 n)
{
	struct iov_iter iter;
	struct kiocb iocb;
	bool end_write;
	ssize_t ret;

	skb_qcow2_iter(&iter, req, WRITE, pos, n);
	init_sync_kiocb(&iocb, file);
	iocb.ki_pos = host;
	iocb.ki_flags = 0;
	ret = skb_kiocb_submit(&iocb, &iter, true, &end_write);
	if (end_write)
		kiocb_end_write(&iocb);
	if (ret < 0)
		return ret;
	return (u64)ret == n ? 0 : -EIO;
}

/*
 * Whether a write's run over pages dirty in the page cache may be split
 * (skb_qcow2_piece()): only where the file's page cache holds no folio
 * larger than a page (XFS's may be), since the dirty mark and the
 * write-back are a folio's, and a buffered write into one page of a large
 * folio could have the folio's write-back undo O_DIRECT on another.
 * Otherwise the run is one O_DIRECT write, which writes those pages back
 * and waits for them first.
 */
static bool skb_qcow2_split_writes(struct file *file)
{
	return !mapping_large_folio_support(file->f_mapping);
}

/*
 * The runs of @req's bytes in the image file (the top image's, or, after
 * a finished commit, the parent's: skb_qcow2_file_of()) into *@runs: 0,
 * or -errno when part of the request is not for the direct path (the
 * engine said -EAGAIN, or any other error, which the engine's own path
 * then meets and reports; or the file takes no direct I/O) or memory ran
 * out, and the engine serves the whole request.  A run whose pages the
 * page cache holds dirty or being written back is split
 * (skb_qcow2_piece()): a read reads those pages through the engine's own
 * file, buffered, like the others with the lock dropped; the same cluster
 * rules hold for it (it counts in @q->aio_inflight until it ends).  A
 * write writes them into the page cache here, under the lock
 * (skb_qcow2_write_cached(); *@runs may then be NULL: nothing left to
 * start).  @q->lock held; on success the runs count in
 * @q->aio_inflight and in @req's I/O references already.
 */
static int skb_qcow2_map(struct skb_qcow2 *q, struct skb_req *req,
			 bool write, struct skb_qcow2_aio **runs)
{
	u64 pos = 0, len = req->desc.nr_sectors << SECTOR_SHIFT;
	u64 off = req->desc.sector << SECTOR_SHIFT;
	struct skb_qcow2_aio *first = NULL, **tail = &first, *aio;
	struct file *file, *buffered;
	u64 host, n, done, piece, in_cache = 0;
	struct ski_image *in;
	unsigned int nr = 0;
	bool split, cached;
	int err;

	while (pos < len) {
		err = ski_map_data_in(q->img, off + pos, len - pos, write,
				      &host, &n, &in);
		if (err)
			goto free_runs;
		err = -EOPNOTSUPP;
		file = skb_qcow2_file_of(q, in);
		if (!file)
			goto free_runs;
		buffered = skb_qcow2_filp(in);
		split = (!write || skb_qcow2_split_writes(file)) &&
			skb_qcow2_range_dirty(file, host, n);
		for (done = 0; done < n; done += piece) {
			piece = n - done;
			cached = false;
			if (split)
				piece = skb_qcow2_piece(file->f_mapping,
							host + done, piece,
							&cached);
			if (cached)
				in_cache += piece;
			if (cached && write) {
				err = skb_qcow2_write_cached(req, buffered,
							     host + done,
							     pos + done, piece);
				if (err)
					goto free_runs;
				continue;
			}
			err = -ENOMEM;
			aio = skb_qcow2_run(q, req, cached ? buffered : file,
					    cached ? 0 : IOCB_DIRECT,
					    host + done, pos + done, piece);
			if (!aio)
				goto free_runs;
			*tail = aio;
			tail = &aio->next;
			nr++;
		}
		pos += n;
	}
	atomic_add(nr, &q->aio_inflight);
	atomic_add(nr, &req->pending);
	if (in_cache) {
		atomic64_inc(&req->d->stats.image_cached);
		atomic64_add(in_cache, &req->d->stats.image_cached_bytes);
		if (write)
			skb_qcow2_written(q);
	}
	*runs = first;
	return 0;

free_runs:
	/* the engine serves it: a write then marks the image written too */
	skb_qcow2_aio_free(first);
	return err;
}

/* Start the runs skb_qcow2_map() made, the image unlocked. */
static void skb_qcow2_aio_start(struct skb_req *req,
				struct skb_qcow2_aio *aio, bool write)
{
	struct skb_qcow2_aio *next;
	struct iov_iter iter;
	ssize_t ret;

	for (; aio; aio = next) {
		next = aio->next;
		skb_qcow2_iter(&iter, req, write ? WRITE : READ, aio->pos,
			       aio->len);
		ret = skb_kiocb_submit(&aio->iocb, &iter, write,
				       &aio->end_write);
		if (ret != -EIOCBQUEUED)
			skb_qcow2_aio_done(&aio->iocb, ret);
		skb_qcow2_aio_put(aio);		/* the submitter's */
	}
}

/*
 * Writes smaller than this go through the engine, into dom0's page cache,
 * even onto clusters the direct path could take: a 4 KiB random write
 * costs a memcpy there and a disk write each on the direct path, which
 * made them slower (make bench-qcow2 at ab0fbc8, 4 KiB random writes at
 * queue depth 32: 0.70x the raw file's IOPS direct, 1.14x before through
 * the page cache), where large writes gain (1 MiB: 0.76x raw direct,
 * 0.46x through the engine).  Reads of any size may take the direct path.
 */
#define SKB_QCOW2_DIRECT_WRITE_MIN	(64U << 10)

/*
 * The direct path for a read or write (see the top of the file): true if
 * @req was started on it, false if the engine must serve it.
 */
static bool skb_qcow2_try_direct(struct skb_qcow2 *q, struct skb_req *req)
{
	bool write = req->desc.kind == SKB_KIND_WRITE;
	struct skb_qcow2_aio *aio;
	unsigned int noio;
	int err;

	if (!q->direct || req->desc.kind == SKB_KIND_FLUSH)
		return false;
	if (write && (req->desc.nr_sectors << SECTOR_SHIFT) <
		     SKB_QCOW2_DIRECT_WRITE_MIN)
		return false;
	noio = skb_qcow2_lock(q);
	err = skb_qcow2_map(q, req, write, &aio);
	if (!err)
		skb_imgop_count(q);
	skb_qcow2_unlock(q, noio);
	if (err)
		return false;
	atomic64_inc(&req->d->stats.image_direct);
	skb_qcow2_aio_start(req, aio, write);
	skb_req_done(req, 0);	/* the submitter's reference */
	return true;
}

/*
 * Whether the engine, writing guest sectors [@sector, @sector + @nr),
 * may write part of a page of the file: the page cache then reads the
 * page, changes part of it and writes it back whole later, over what a
 * direct write in flight to the rest of that page puts there.  Such a
 * write or discard waits for the direct path's I/O first.  (Guest sector
 * and file offset agree within a page: a cluster is a page or more.)
 * Where the image's page cache may hold folios larger than a page (XFS),
 * any write may: the dirty folio is written back whole.  After a commit
 * the parent's file takes direct I/O too (@q->serve_direct), and it may
 * live on another filesystem than the top image.  @q->lock held.
 */
static bool skb_qcow2_part_page(struct skb_qcow2 *q, u64 sector, u64 nr)
{
	if (mapping_large_folio_support(q->inode->i_mapping) ||
	    (q->serve_direct &&
	     mapping_large_folio_support(q->serve_direct->f_mapping)))
		return true;
	return (sector | nr) & ((PAGE_SIZE >> SECTOR_SHIFT) - 1);
}

/*
 * Submit a validated request (skb_backing_ops.submit): on the direct path
 * where it can, else through the engine from start to end in the
 * consumer.  A flush with data: flush, write, flush.
 */
static void skb_qcow2_submit(struct skb_req *req)
{
	struct skb_qcow2 *q = req->d->be.priv;
	bool flush = req->desc.kind == SKB_KIND_FLUSH;
	unsigned int noio;
	int err = 0;

	if (skb_qcow2_try_direct(q, req))
		return;
	noio = skb_qcow2_lock(q);
	skb_imgop_count(q);
	if (req->desc.kind != SKB_KIND_READ &&
	    skb_qcow2_part_page(q, req->desc.sector, req->desc.nr_sectors))
		skb_qcow2_drain(q);
	if (flush)
		err = ski_flush(q->img);
	if (!err)
		err = skb_qcow2_rw(q, req);
	if (!err && flush)
		err = ski_flush(q->img);
	if (flush && !err)
		skb_qcow2_flushed(q);
	else if (req->desc.kind != SKB_KIND_READ)
		skb_qcow2_written(q);	/* a flush that failed may have too */
	skb_qcow2_unlock(q, noio);
	if (err == -ENOMEM)
		atomic64_inc(&req->d->stats.nomem);
	skb_req_done(req, err);
}

static int skb_qcow2_flush(struct skb_backing *be)
{
	struct skb_qcow2 *q = be->priv;
	unsigned int noio;
	int err;

	noio = skb_qcow2_lock(q);
	skb_imgop_count(q);	/* a guest request too (blkif.c) */
	err = ski_flush(q->img);
	if (!err)
		skb_qcow2_flushed(q);
	skb_qcow2_unlock(q, noio);
	return err;
}

static int skb_qcow2_discard(struct skb_backing *be, u64 sector,
			     u64 nr_sectors)
{
	struct skb_qcow2 *q = be->priv;
	unsigned int noio;
	int err;

	noio = skb_qcow2_lock(q);
	skb_imgop_count(q);
	if (skb_qcow2_part_page(q, sector, nr_sectors))
		skb_qcow2_drain(q);	/* it zeroes what it cannot free */
	err = ski_discard(q->img, sector << SECTOR_SHIFT,
			  nr_sectors << SECTOR_SHIFT);
	skb_qcow2_written(q);
	skb_qcow2_unlock(q, noio);
	return err;
}

static void skb_qcow2_close(struct skb_backing *be)
{
	struct skb_qcow2 *q = be->priv;

	if (!q)
		return;
	skb_imgop_stop(q);	/* a detach cancels a running operation */
	cancel_work_sync(&q->writeback);	/* no write queues it again */
	skb_qcow2_history(be, q, "detached");
	skb_qcow2_serve_drop(q);	/* its I/O ended with the requests' */
	ski_close(q->img);	/* flushes a writable image */
	/* the attach rules count it until its last write is done */
	mutex_lock(&skb_qcow2_list_lock);
	list_del(&q->node);
	mutex_unlock(&skb_qcow2_list_lock);
	if (q->direct)
		fput(q->direct);
	kfree(q);
	be->priv = NULL;
}

const struct skb_backing_ops skb_qcow2_ops = {
	.name = "qcow2 image",
	.describe = skb_qcow2_describe,
	.submit = skb_qcow2_submit,
	.flush = skb_qcow2_flush,
	.discard = skb_qcow2_discard,
	.close = skb_qcow2_close,
	.map_ok = true,
};
