/* SPDX-License-Identifier: GPL-2.0 */
/*
 * splitkit_shunt's private declarations: one shunted disk (disk.c), the
 * ftrace hook that routes its bios (hook.c), the module's control files
 * (main.c).  See Documentation/shunt.rst.
 */
#ifndef _SPLITKIT_SHUNT_COMMON_H
#define _SPLITKIT_SHUNT_COMMON_H

#include <linux/bio.h>
#include <linux/blkdev.h>
#include <linux/mempool.h>
#include <linux/mutex.h>
#include <linux/notifier.h>
#include <linux/spinlock.h>
#include <linux/wait.h>
#include <linux/workqueue.h>

#include "shunt_core.h"

#define SKSH_NAME	"splitkit_shunt"

/**
 * struct sksh_ctx - one bio of the shunted disk while the shunt has it.
 * @core: the switch core's part (first member).
 * @d: the disk.
 * @bio: the submitter's bio.  Never sent down itself and never changed
 *	until it is ended: each try on a path is a clone of it
 *	(sksh_disk.bs), so a bio chained to others (bio_chain()) is counted
 *	by its own try's completion, not by its chain, and an error a
 *	chained child left in it is kept.
 * @bdev: the block_device it was submitted to (the emulated disk or one
 *	of its partitions).
 * @remapped: it had BIO_REMAPPED (partition offset already applied).
 * @to: the path its next try goes down (set when it is routed or
 *	released, under sksh_disk.lock).
 * @target: that path's block_device (the PV whole disk, or @bdev).
 * @node: in sksh_disk.dispatch while waiting to be submitted.
 */
struct sksh_ctx {
	struct sks_bio core;
	struct sksh_disk *d;
	struct bio *bio;
	struct block_device *bdev;
	bool remapped;
	enum sks_path to;
	struct block_device *target;
	struct list_head node;
};

/**
 * struct sksh_disk - the one shunted disk.
 * @emul_file: the emulated disk, opened (not exclusively: it is mounted).
 * @emul: its whole-disk block_device.
 * @pv_file: the PV disk, opened exclusively: nobody else may use it; NULL
 *	while a PV disk that went away is released and not back yet, and
 *	while one that was not there at load has not come.
 * @pv: its whole-disk block_device (NULL with @pv_file).
 * @pv_path: the PV disk's device node (the module's pv=), opened again
 *	when a switch to PV finds no disk.
 * @pv_name: its kernel name (e.g. xvda), how a coming disk is known; set
 *	at load.
 * @pv_waited: there was none at load (auto_switch=1 waited for it).
 * @pv_taken: a PV disk was taken once (a later one is a return).
 * @claimed: the disk index whose twin the shunt asked splitkit_front for
 *	(dropped when it goes), or -1.
 * @pv_mutex: serialises releasing and taking the PV disk (back.c), and
 *	protects @pv_waited and @pv_taken; a change of @pv_file and
 *	@pv is also made under @lock.
 * @auto_forward: switch to the PV path when the disk comes or comes back,
 *	and wait for one not there at load (set before sksh_disk_open(), and
 *	by an unplug: then the only way on).
 * @back_work: releases a PV disk that went away and takes it back when it
 *	returns (back.c).
 * @back_dev: the coming disk the last add notice named, referenced,
 *	until the work item has taken it or given up (under @lock).
 * @back_stopped: unload began: no disk is taken or switched to any more
 *	(under @lock).
 * @retry_work: with @auto_forward, asks for the PV path again after it
 *	failed while its disk stayed (back.c), each time twice as late, from
 *	SKSH_RETRY_FIRST_MS up to SKSH_RETRY_MAX_MS.
 * @retrying: the PV path failed with @auto_forward and has not been found
 *	carrying bios again since; cleared by a switch to the emulated path
 *	asked for, and when the PV disk went away (its return switches).
 * @retry_ms: the delay before the next retry.
 * @retry_ok_ns: when a retry last found the disk back on its PV path; a
 *	failure more than SKSH_RETRY_MAX_MS later starts from the first
 *	delay again.
 * @pv_retries: retries made.
 * @lock: protects @s, @dispatch, @dispatching, @flush_wanted,
 *	@identity_refusals, @told, @pv_returns, @nowait_handoffs,
 *	@back_dev, @back_stopped, @prechecked, @retrying, @retry_ms,
 *	@retry_ok_ns, @pv_retries, and @pv_file and @pv against a change
 *	while it is held.
 * @s: the switch core's state.
 * @dispatch: bios routed but not yet submitted, in order.
 * @dispatching: a task is submitting @dispatch; others append to it.
 * @flush_wanted: the core asked for the switch's flush.
 * @work: carries out the core's actions in process context, on @wq.
 * @wq: @work's queue (WQ_MEM_RECLAIM: it submits bios).
 * @ctx_pool: struct sksh_ctx for every bio in flight.
 * @bs: the clones the shunt sends down a path (with a rescuer: they are
 *	allocated inside a submitter's submit_bio()).
 * @nr_ctx: contexts out of @ctx_pool (bios the shunt has).
 * @idle: woken when a bio completes or a switch moves.
 * @identity_refusals: switches undone because the two faces differed.
 * @pv_returns: PV disks taken back after they had gone away.
 * @nowait_handoffs: times a REQ_NOWAIT submitter found a bio not its own
 *	at the head of @dispatch and left the list to @work.
 * @told: switches to each path already reported in the kernel log.
 * @queue_waited: the emulated queue was frozen once, at the first switch
 *	to PV, for bios that entered it before the hook (work item only).
 * @unplug_nb: once the emulated disk is unplugged, sets its SCSI device
 *	offline at shutdown (unplug.c).
 * @prechecked: the PV disk whose bytes matched the emulated disk's,
 *	flushed, just before the last switch to PV was asked for: that
 *	switch's flushed instant compares sizes only; cleared when used and
 *	when the PV disk is let go (under @lock).
 */
struct sksh_disk {
	struct file *emul_file;
	struct block_device *emul;
	struct file *pv_file;
	struct block_device *pv;
	const char *pv_path;
	char pv_name[BDEVNAME_SIZE];
	bool pv_waited;
	bool pv_taken;
	int claimed;
	struct mutex pv_mutex;
	bool auto_forward;
	struct delayed_work back_work;
	struct device *back_dev;
	bool back_stopped;
	struct delayed_work retry_work;
	bool retrying;
	unsigned int retry_ms;
	u64 retry_ok_ns;
	u64 pv_retries;
	spinlock_t lock;
	struct sks_shunt s;
	struct list_head dispatch;
	bool dispatching;
	bool flush_wanted;
	struct work_struct work;
	struct workqueue_struct *wq;
	mempool_t *ctx_pool;
	struct bio_set bs;
	atomic_t nr_ctx;
	wait_queue_head_t idle;
	u64 identity_refusals;
	u64 pv_returns;
	u64 nowait_handoffs;
	u64 told[SKS_NR_PATHS];
	bool queue_waited;
	struct block_device *prechecked;
	struct notifier_block unplug_nb;
};

/* disk.c */
void sksh_end_io(struct bio *bio);
void sksh_sync_end_io(struct bio *bio);
int sksh_disk_open(struct sksh_disk *d, const char *emul, const char *pv);
void sksh_disk_close(struct sksh_disk *d);
void sksh_disk_submit(struct sksh_disk *d, struct bio *bio);
int sksh_disk_switch(struct sksh_disk *d, enum sks_path to);
int sksh_disk_retry_pv(struct sksh_disk *d);
bool sksh_disk_emul_gone(struct sksh_disk *d);
void sksh_disk_drain(struct sksh_disk *d);
int sksh_pv_get(struct sksh_disk *d, dev_t devt, struct file **file,
		struct block_device **bdev);
void sksh_pv_put(struct sksh_disk *d, struct file *file,
		 struct block_device *bdev);

/**
 * sksh_bio_owned() - does the shunt carry @bio already?
 * @d: the shunted disk.
 * @bio: a bio entering submit_bio_noacct().
 *
 * The clones the shunt sends down a path come from its own bio_set, and
 * so does the remainder the block layer resubmits when it splits one
 * (whatever its bi_end_io is by then: blk-crypto's fallback replaces it);
 * the switch's own flush and identity reads complete through
 * sksh_sync_end_io().  Any context.
 */
static inline bool sksh_bio_owned(const struct sksh_disk *d,
				  const struct bio *bio)
{
	return bio->bi_pool == &d->bs || bio->bi_end_io == sksh_end_io ||
	       bio->bi_end_io == sksh_sync_end_io;
}

/**
 * sksh_bio_wanted() - must the hook route @bio?
 * @d: the shunted disk.
 * @bio: a bio entering submit_bio_noacct().
 *
 * Return: true for a bio aimed at the emulated disk or one of its
 * partitions that the shunt does not carry yet.  Any context, no locks:
 * the ftrace callback calls it for every bio of the system.
 */
static inline bool sksh_bio_wanted(const struct sksh_disk *d,
				   const struct bio *bio)
{
	return bio->bi_bdev && bio->bi_bdev->bd_disk == d->emul->bd_disk &&
	       !sksh_bio_owned(d, bio);
}

/* back.c */
int sksh_back_init(struct sksh_disk *d, const char *pv);
void sksh_back_notice(struct sksh_disk *d, struct device *dev, bool added);
int sksh_back_take(struct sksh_disk *d);
void sksh_back_stop(struct sksh_disk *d);
void sksh_back_unclaim(struct sksh_disk *d);
unsigned long sksh_retry_failed(struct sksh_disk *d, u64 now_ns);

/* position.c */
struct scsi_device;
struct scsi_device *sksh_sdev(struct gendisk *disk);
int sksh_live_disk(struct gendisk *disk,
		   int (*fn)(struct gendisk *disk, void *arg), void *arg);
int sksh_emul_index(struct block_device *bdev);
int sksh_position_check(struct block_device *emul, struct block_device *pv);

/* position.c: the platform device's unplug */
int sksh_unplug_bits(struct gendisk *disk);
bool sksh_unplug_takes(struct gendisk *disk, int bits);

/* unplug.c */
int sksh_unplug(struct sksh_disk *d);

/* hook.c */
int sksh_hook_install(struct sksh_disk *d);
void sksh_hook_remove(void);

#endif /* _SPLITKIT_SHUNT_COMMON_H */
