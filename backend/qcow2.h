/* SPDX-License-Identifier: GPL-2.0 */
/*
 * splitkit_back's qcow2 backing, shared by qcow2.c (attach, guest I/O,
 * detach) and imgop.c (compaction, defragmentation and merge of a served
 * image while the guest runs).  Private to splitkit_back.
 */
#ifndef _SPLITKIT_BACK_QCOW2_H
#define _SPLITKIT_BACK_QCOW2_H

#include <linux/ktime.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/sched/mm.h>
#include <linux/wait.h>
#include <linux/workqueue.h>

#include "../image/core/image.h"
#include "../image/core/ops.h"

struct skb_backing;

/* What an image's long operation is doing (imgop.c), for sysfs. */
enum skb_imgop_state {
	SKB_IMGOP_IDLE,		/* none has run since attach */
	SKB_IMGOP_RUNNING,
	SKB_IMGOP_DONE,
	SKB_IMGOP_CANCELLED,
	SKB_IMGOP_FAILED,
};

/**
 * struct skb_imgop - the long operation of one served image.
 * @work: runs one step, then queues itself again until the end.
 * @op: the engine's operation (image/core/ops.h).
 * @state: where it is; under skb_qcow2.lock.
 * @kind: which operation runs or ran last.
 * @cancel: asked to stop (sysfs or detach); read by @work.
 * @error: the errno it failed with, 0 if none.
 * @step_clusters: clusters one step moves or copies at most.
 * @file_before: the image file's size in bytes when it started.
 * @file_bytes: the size now, updated after every step.
 * @done: @op.done when last seen (clusters), for sysfs.
 * @total: @op.total likewise.
 * @moved: @op.moved likewise.
 * @recopied: @op.recopied likewise: moves copied again, the guest having
 *	written into them while a step copied them unlocked.
 * @given_up: @op.dropped likewise: moves given up, the guest having
 *	discarded or moved their cluster meanwhile.
 * @steps: steps taken since it started; under skb_qcow2.lock.
 * @guest_reqs: guest requests (reads, writes, flushes, discards) served
 *	while it ran, counted from its start; under skb_qcow2.lock.  Shows
 *	that guest I/O interleaved with the steps.
 * @guest_pace: guest requests to serve between two steps, 0 for none
 *	(steps follow each other at once); read when a step ends.
 * @paced: a step ended and the next waits for the guest: @work is queued
 *	again by skb_imgop_count() once @guest_reqs reaches @pace_at;
 *	under skb_qcow2.lock.
 * @pace_at: the value of @guest_reqs the next step waits for.
 * @held_since: when the step last took the image lock.
 * @held_max_ns: the longest a step has held the image lock at a stretch
 *	since the operation started (in the step's work and between the
 *	engine's unlocked windows), for sysfs; under skb_qcow2.lock.
 */
struct skb_imgop {
	struct work_struct work;
	struct ski_op op;
	enum skb_imgop_state state;
	enum ski_op_kind kind;
	bool cancel;
	int error;
	unsigned int step_clusters;
	u64 file_before;
	u64 file_bytes;
	u64 done;
	u64 total;
	u64 moved;
	u64 recopied;
	u64 given_up;
	u64 steps;
	u64 guest_reqs;
	unsigned int guest_pace;
	bool paced;
	u64 pace_at;
	ktime_t held_since;
	u64 held_max_ns;
};

/**
 * struct skb_qcow2 - one served qcow2 image.
 * @img: the open image (and its chain).
 * @lock: serialises every call on @img, guest I/O and operation steps.
 * @inode: the top image's inode, to count attaches of the same file.
 * @writable: attached for writing.
 * @node: in qcow2.c's list of attached images.
 * @path: the image's path, for messages.
 * @imgop: its long operation.
 * @direct: the top image file opened again with O_DIRECT, for the guest
 *	data qcow2.c reads and writes itself (ski_map_data_in()); NULL where
 *	the filesystem does not take direct I/O at 512-byte alignment.
 * @serve: once a commit has finished, the image that serves the guest
 *	from then on (its parent, ski_map_data_in()), from the first request
 *	the direct path maps there; NULL before.  Under @lock; the image
 *	lives until @img is closed.
 * @serve_direct: @serve's file opened again with O_DIRECT, or NULL where
 *	it takes none (its requests then go through the engine).
 * @aio_inflight: those reads and writes started and not ended; raised
 *	under @lock only, so that with @lock held it only falls.
 * @aio_idle: woken when @aio_inflight falls to 0.
 * @writeback: a write-back pass (skb_qcow2_writeback()), with the
 *	qcow2_writeback parameter set: what the engine wrote into dom0's
 *	page cache goes to the disk soon, not after dom0's dirty expiry.
 * @writeback_on: the qcow2_writeback parameter, read at each write and
 *	each pass.
 * @wb_gen: raised by each write through the engine and each flush, so a
 *	pass begun before them leaves image_dirty alone; under @lock.
 * @stats: the disk's counters (image_writeback, image_dirty).
 * @be: the disk's backing (its domain's name and UUID, for a commit's
 *	parent's policy).
 * @chain: the inodes of the qcow2 images @img reads through, as at attach
 *	(a stream's end leaves them: the rules stay as strict).
 * @nr_chain: entries in @chain.
 * @written: the inodes of the parents a commit of this disk began to
 *	write into, until detach.
 * @nr_written: entries in @written.
 *	The four are written and read under qcow2.c's list lock only: the
 *	attach rules (skb_qcow2_policy(), skb_qcow2_commit_claim()).
 */
struct skb_qcow2 {
	struct ski_image *img;
	struct mutex lock;
	struct inode *inode;
	bool writable;
	struct list_head node;
	const char *path;
	struct skb_imgop imgop;
	struct file *direct;
	struct ski_image *serve;
	struct file *serve_direct;
	atomic_t aio_inflight;
	wait_queue_head_t aio_idle;
	struct work_struct writeback;
	const bool *writeback_on;
	u64 wb_gen;
	struct skb_stats *stats;
	const struct skb_backing *be;
	struct inode *chain[SKI_MAX_CHAIN];
	unsigned int nr_chain;
	struct inode *written[SKI_MAX_CHAIN];
	unsigned int nr_written;
};

/**
 * skb_qcow2_lock() - take an image's lock for calls into its engine.
 * @q: the image.
 *
 * Process context, sleeps.  Inside memalloc_noio_save(), so the engine's
 * GFP_KERNEL allocations become GFP_NOIO: serving a disk never recurses
 * into I/O for reclaim.
 *
 * Return: what skb_qcow2_unlock() restores.
 */
static inline unsigned int skb_qcow2_lock(struct skb_qcow2 *q)
{
	unsigned int noio = memalloc_noio_save();

	mutex_lock(&q->lock);
	return noio;
}

/**
 * skb_qcow2_unlock() - undo skb_qcow2_lock().
 * @q: the image.
 * @noio: skb_qcow2_lock()'s return.
 */
static inline void skb_qcow2_unlock(struct skb_qcow2 *q, unsigned int noio)
{
	mutex_unlock(&q->lock);
	memalloc_noio_restore(noio);
}

/*
 * Wait for the reads and writes qcow2.c runs itself on the image file to
 * end (@q->lock held: none starts meanwhile).  Before a cluster they may
 * use is freed (the engine's free hook), and when a long operation's step
 * starts or takes the lock back after copying unlocked (imgop.c): a
 * direct write into a cluster it copies must have landed before it checks
 * what the guest wrote (ski_map_data()).
 */
static inline void skb_qcow2_drain(struct skb_qcow2 *q)
{
	wait_event(q->aio_idle, !atomic_read(&q->aio_inflight));
}

/*
 * A guest request is being served (under @q->lock): count it for sysfs,
 * and start the next step of an operation paced by guest I/O once the
 * guest has sent its share (skb_imgop.guest_pace).  The step waits for
 * @q->lock, so it runs after this request.
 */
static inline void skb_imgop_count(struct skb_qcow2 *q)
{
	struct skb_imgop *o = &q->imgop;

	if (o->state != SKB_IMGOP_RUNNING)
		return;
	o->guest_reqs++;
	if (o->paced && o->guest_reqs >= o->pace_at) {
		o->paced = false;
		queue_work(system_unbound_wq, &o->work);
	}
}

/* imgop.c */
void skb_imgop_init(struct skb_qcow2 *q);
int skb_imgop_start(struct skb_qcow2 *q, enum ski_op_kind kind);
int skb_qcow2_commit_claim(struct skb_qcow2 *q, struct ski_image *parent);
void skb_qcow2_commit_unclaim(struct skb_qcow2 *q);
void skb_imgop_stop(struct skb_qcow2 *q);

#endif /* _SPLITKIT_BACK_QCOW2_H */
