// SPDX-License-Identifier: GPL-2.0
/*
 * splitkit_shunt's disk: the emulated disk and its PV twin, and the bios
 * of the emulated disk from the hook (hook.c) to their completion.  The
 * switch core (core/switch.c) decides where each bio goes; this file does
 * what it says: sends a bio down the PV disk (or back), keeps the order in
 * which routed bios are submitted, completes bios to their submitters,
 * issues the switch's flush of the emulated disk and checks, at that
 * flushed and drained instant, that the two faces hold the same bytes.
 *
 * The submitter's bio itself never goes down a path: each try is a clone
 * of it from the shunt's bio_set, so the bio's own fields (its status, its
 * chain to other bios, its encryption context) stay as the submitter left
 * them until the shunt ends it, once, with the final try's status.
 *
 * Contexts: sksh_disk_submit() runs in the submitter's context (process
 * context as a rule; a REQ_NOWAIT bio is never made to sleep); completion
 * (sksh_end_io()) in any context up to hard IRQ; the flush, the identity
 * check and every release of held bios in the work item.  Routed bios are
 * submitted by one task at a time in routing order (sksh_dispatch()), so
 * a new bio never overtakes one released before it.  REQ_NOWAIT is kept
 * only on the clone of a bio its own submitter sends down while its
 * submit_bio() runs (a "try again" must reach it there, where io_uring
 * looks for it); that submitter sends no other bio.  Every other clone -
 * a bio held through a switch, one another task or the work item sends -
 * is sent without REQ_NOWAIT and may wait for a request slot, so its
 * submitter is never told "try again" from another context, long after
 * its call returned.
 *
 * Locking: sksh_disk.lock (irqsave) protects the core's state and the
 * dispatch list; nothing sleeps or submits under it.
 */
#include <linux/blk-mq.h>
#include <linux/completion.h>
#include <linux/fs.h>
#include <linux/ktime.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>

#include "common.h"

/* Pages compared on each side at a switch: first, last and spread. */
#define SKSH_ID_SAMPLES	16
#define SKSH_ID_BYTES	PAGE_SIZE

static struct kmem_cache *sksh_ctx_cache;

static u64 sksh_now(void)
{
	return ktime_get_ns();
}

/*
 * The clock for sks_progress() after a completion: read only while a
 * switch is under way, the only time it is used.  A settled path reads no
 * clock per bio (in an HVM guest a clock read may trap to the hypervisor:
 * an emulated TSC, or a watchdog's fallback to HPET).  Under d->lock.
 */
static u64 sksh_progress_now(struct sksh_disk *d)
{
	return sks_switching(&d->s) ? sksh_now() : 0;
}

/* Aim @ctx's next try at @p: the PV disk, or what it was sent to. */
static void sksh_aim(struct sksh_disk *d, struct sksh_ctx *ctx,
		     enum sks_path p)
{
	ctx->to = p;
	ctx->target = p == SKS_PV ? d->pv : ctx->bdev;
}

/*
 * A try of @ctx's bio down its path: a clone sharing its pages, aimed as
 * sksh_aim() said.  @nowait: its own REQ_NOWAIT submitter sends it, in
 * its submit_bio(); otherwise the clone goes without REQ_NOWAIT.  Process
 * context, outside d->lock; NULL only with @nowait when memory is short
 * (the bio_set's reserve serves the others).
 */
static struct bio *sksh_clone(struct sksh_disk *d, struct sksh_ctx *ctx,
			      bool nowait)
{
	struct bio *src = ctx->bio;
	struct bio *clone;

	clone = bio_alloc_clone(ctx->target, src,
				nowait ? GFP_NOWAIT : GFP_NOIO, &d->bs);
	if (!clone)
		return NULL;
	/* the bio was not polled either (sksh_disk_submit()) */
	clone->bi_opf &= ~REQ_POLLED;
	if (!nowait)
		clone->bi_opf &= ~REQ_NOWAIT;
	if (ctx->to == SKS_PV) {
		/* the same bytes of the PV whole disk: the tables are the same */
		if (bdev_is_partition(ctx->bdev) && !ctx->remapped)
			clone->bi_iter.bi_sector += ctx->bdev->bd_start_sect;
	} else if (ctx->remapped) {
		bio_set_flag(clone, BIO_REMAPPED);
	}
	clone->bi_end_io = sksh_end_io;
	clone->bi_private = ctx;
	return clone;
}

static void sksh_done(struct sksh_ctx *ctx, blk_status_t status,
		      bool from_path);

/* Do @act of the core.  Under d->lock; tells whether work must run. */
static bool sksh_act(struct sksh_disk *d, enum sks_action act)
{
	struct sks_bio *b;
	enum sks_path p;

	enum sks_path to;

	if (act == SKS_ACT_FLUSH_EMUL)
		d->flush_wanted = true;
	for (to = SKS_EMUL; to < SKS_NR_PATHS; to++)
		if (d->told[to] != d->s.switches[to]) {
			d->told[to] = d->s.switches[to];
			pr_info(SKSH_NAME ": %pg now on its %s path; %llu bios held for %llu ns\n",
				d->emul, to == SKS_PV ? "PV" : "emulated",
				d->s.nr_held, d->s.last_held_ns);
			/*
			 * Settled on the emulated path, however it got there
			 * (a refused switch, root's "emul" while idle): a dead
			 * PV disk may be let go, a new one taken (back.c).
			 */
			if (to == SKS_EMUL && !d->back_stopped)
				mod_delayed_work(system_unbound_wq,
						 &d->back_work, 0);
		}
	while ((b = sks_next_held(&d->s, &p))) {
		struct sksh_ctx *ctx = container_of(b, struct sksh_ctx, core);

		sksh_aim(d, ctx, p);
		list_add_tail(&ctx->node, &d->dispatch);
	}
	return d->flush_wanted || (!d->dispatching &&
				   !list_empty(&d->dispatch));
}

/*
 * Submit the dispatch list in order until it is empty (one task at a
 * time: d->dispatching).  @own: the task is this REQ_NOWAIT bio's
 * submitter, in its submit_bio(), and must not sleep: it sends that bio
 * only, if it is first, and hands the rest of the list, still in order,
 * to the work item at the first bio that is not its own.  NULL: the task
 * may sleep, and every clone it sends goes without REQ_NOWAIT.
 */
static void sksh_dispatch(struct sksh_disk *d, struct sksh_ctx *own)
{
	struct sksh_ctx *ctx;
	struct bio *clone;
	unsigned long flags;

	for (;;) {
		spin_lock_irqsave(&d->lock, flags);
		ctx = list_first_entry_or_null(&d->dispatch, struct sksh_ctx,
					       node);
		if (!ctx || (own && ctx != own)) {
			d->dispatching = false;
			if (ctx)
				d->nowait_handoffs++;
			spin_unlock_irqrestore(&d->lock, flags);
			if (ctx)
				queue_work(d->wq, &d->work);
			return;
		}
		list_del_init(&ctx->node);
		spin_unlock_irqrestore(&d->lock, flags);
		clone = sksh_clone(d, ctx, ctx == own);
		if (!clone) {
			/* as a full queue answers REQ_NOWAIT; not the path's */
			sksh_done(ctx, ctx == own ? BLK_STS_AGAIN :
				  BLK_STS_RESOURCE, false);
			continue;
		}
		/* from our bio_set (sksh_bio_owned()): not routed again */
		submit_bio_noacct(clone);
	}
}

static void sksh_free_ctx(struct sksh_disk *d, struct sksh_ctx *ctx)
{
	mempool_free(ctx, d->ctx_pool);
	if (atomic_dec_and_test(&d->nr_ctx))
		wake_up_all(&d->idle);
}

/* Does @status say the PV path failed (I/O error, transport, offline)? */
static bool sksh_path_error(blk_status_t status)
{
	return status == BLK_STS_IOERR || status == BLK_STS_TRANSPORT ||
	       status == BLK_STS_OFFLINE;
}

/*
 * A try of @ctx's bio ended with @status (@from_path: the path answered;
 * false: no try could be made).  Tells the core; a bio a failing PV path
 * gave back is held again for the emulated path, any other is ended to
 * its submitter.  Any context up to hard IRQ.
 */
static void sksh_done(struct sksh_ctx *ctx, blk_status_t status,
		      bool from_path)
{
	struct sksh_disk *d = ctx->d;
	bool failed = from_path && status != BLK_STS_OK;
	unsigned long flags, retry = 0;
	enum sks_done done;
	bool work, back;

	spin_lock_irqsave(&d->lock, flags);
	/*
	 * With the emulated disk gone, only a failing path holds bios; an
	 * answer of the disk's own (not supported, no space, try again for
	 * REQ_NOWAIT, a medium error) goes to the submitter as it came.
	 */
	if (failed && d->s.emul_gone && !sksh_path_error(status))
		failed = false;
	/*
	 * "Try again" (a REQ_NOWAIT bio found the queue full) is the
	 * submitter's to act on, on either path: no failure of the path.
	 */
	if (status == BLK_STS_AGAIN)
		failed = false;
	/* a PV error sends the disk back; the bio is retried there */
	if (failed && ctx->core.path == SKS_PV) {
		if (!d->s.pv_broken) {
			pr_warn(SKSH_NAME ": %pg failed a bio (status %d): %s\n",
				d->pv, status, d->s.emul_gone ?
				"the emulated disk is unplugged: bios held until the PV disk is back" :
				"back to the emulated path, bios retried there");
			retry = sksh_retry_failed(d, sksh_now());
		}
		sks_pv_broken(&d->s, sksh_now());
	}
	/* any PV completion while the PV path is failing may settle it */
	back = ctx->core.path == SKS_PV && d->s.pv_broken;
	done = sks_complete(&d->s, &ctx->core, failed);
	work = sksh_act(d, sks_progress(&d->s, sksh_progress_now(d)));
	spin_unlock_irqrestore(&d->lock, flags);
	if (work)
		queue_work(d->wq, &d->work);
	/* a failing PV disk may have gone: let go of it once settled */
	if (back)
		mod_delayed_work(system_unbound_wq, &d->back_work, 0);
	/* with auto_switch, a failing PV disk that stays is asked again */
	if (retry)
		queue_delayed_work(system_unbound_wq, &d->retry_work, retry);
	/* every bio passes here: wake only a drain that waits */
	if (wq_has_sleeper(&d->idle))
		wake_up_all(&d->idle);
	if (done == SKS_DONE_REQUEUED)
		return;
	/* an error a chained child left in the bio stays the first one */
	if (status != BLK_STS_OK && ctx->bio->bi_status == BLK_STS_OK)
		ctx->bio->bi_status = status;
	bio_endio(ctx->bio);
	/* last: the wake-up may let the module go */
	sksh_free_ctx(d, ctx);
}

/**
 * sksh_end_io() - completion of a try the shunt sent down a path.
 * @clone: the clone; its bi_private is its bio's struct sksh_ctx.
 *
 * Any context up to hard IRQ.
 */
void sksh_end_io(struct bio *clone)
{
	struct sksh_ctx *ctx = clone->bi_private;
	blk_status_t status = clone->bi_status;

	bio_put(clone);
	sksh_done(ctx, status, true);
}

/**
 * sksh_disk_submit() - route one bio of the shunted disk (from the hook).
 * @d: the disk.
 * @bio: a bio aimed at it or one of its partitions.
 *
 * The submitter's context; sleeps only for the context's memory, and not
 * for a REQ_NOWAIT bio (which then fails with BLK_STS_AGAIN, as a full
 * queue would make it).
 */
void sksh_disk_submit(struct sksh_disk *d, struct bio *bio)
{
	gfp_t gfp = bio->bi_opf & REQ_NOWAIT ? GFP_NOWAIT : GFP_NOIO;
	enum sks_route route;
	struct sksh_ctx *ctx;
	unsigned long flags;
	bool go = false;

	/*
	 * On the PV path a partition's bio goes to the whole disk, where
	 * nothing checks the partition's end: checked here, as the block
	 * layer does for the partition (bio_check_eod()), on either path.
	 */
	if (bdev_is_partition(bio->bi_bdev) &&
	    !bio_flagged(bio, BIO_REMAPPED) && bio_sectors(bio) &&
	    (bio_sectors(bio) > bdev_nr_sectors(bio->bi_bdev) ||
	     bio->bi_iter.bi_sector >
	     bdev_nr_sectors(bio->bi_bdev) - bio_sectors(bio))) {
		pr_warn_ratelimited(SKSH_NAME ": %pg: bio of %u sectors at %llu past the partition's end refused\n",
				    bio->bi_bdev, bio_sectors(bio),
				    (unsigned long long)bio->bi_iter.bi_sector);
		bio_io_error(bio);
		return;
	}
	/*
	 * The bio itself is never queued, only its clones, which are not
	 * polled: clear it as submit_bio_noacct() does for a queue that
	 * cannot poll (on 6.1 that also drops REQ_ALLOC_CACHE, whose bio must
	 * not be freed in the interrupt that now ends it).
	 */
	if (bio->bi_opf & REQ_POLLED)
		bio_clear_polled(bio);
	ctx = mempool_alloc(d->ctx_pool, gfp);
	if (!ctx) {
		bio_wouldblock_error(bio);
		return;
	}
	atomic_inc(&d->nr_ctx);
	ctx->d = d;
	ctx->bio = bio;
	ctx->bdev = bio->bi_bdev;
	ctx->remapped = bio_flagged(bio, BIO_REMAPPED);
	INIT_LIST_HEAD(&ctx->node);

	spin_lock_irqsave(&d->lock, flags);
	route = sks_submit(&d->s, &ctx->core);
	if (route != SKS_ROUTE_HELD) {
		sksh_aim(d, ctx, route == SKS_ROUTE_PV ? SKS_PV : SKS_EMUL);
		list_add_tail(&ctx->node, &d->dispatch);
		if (!d->dispatching)
			go = d->dispatching = true;
	}
	spin_unlock_irqrestore(&d->lock, flags);
	if (go)
		sksh_dispatch(d, bio->bi_opf & REQ_NOWAIT ? ctx : NULL);
}

/* ---- the switch's flush and identity check (work item) ---------------- */

/**
 * sksh_sync_end_io() - completion of the shunt's own flush or read.
 * @bio: the bio; its bi_private is the waiter's completion.
 *
 * Any context.
 */
void sksh_sync_end_io(struct bio *bio)
{
	complete(bio->bi_private);
}

/* Read or flush synchronously past the hook; 0 or -errno. */
static int sksh_sync_io(struct block_device *bdev, blk_opf_t opf,
			sector_t sector, struct page *page)
{
	DECLARE_COMPLETION_ONSTACK(done);
	struct bio *bio;
	int err;

	bio = bio_alloc(bdev, page ? 1 : 0, opf, GFP_NOIO);
	bio->bi_iter.bi_sector = sector;
	if (page)
		__bio_add_page(bio, page, SKSH_ID_BYTES, 0);
	bio->bi_end_io = sksh_sync_end_io;
	bio->bi_private = &done;
	submit_bio_noacct(bio);		/* marked: passes the hook */
	wait_for_completion_io(&done);
	err = blk_status_to_errno(bio->bi_status);
	bio_put(bio);
	return err;
}

/* Do the two faces have the same size?  Says why not unless @quiet. */
static bool sksh_same_size(struct sksh_disk *d, bool quiet)
{
	sector_t sectors = bdev_nr_sectors(d->emul);

	if (bdev_nr_sectors(d->pv) == sectors &&
	    sectors >= SKSH_ID_BYTES >> SECTOR_SHIFT &&
	    bdev_logical_block_size(d->pv) == bdev_logical_block_size(d->emul))
		return true;
	if (!quiet)
		pr_err(SKSH_NAME ": %pg has %llu sectors of %u bytes, %pg %llu of %u: not the same disk\n",
		       d->emul, (unsigned long long)sectors,
		       bdev_logical_block_size(d->emul), d->pv,
		       (unsigned long long)bdev_nr_sectors(d->pv),
		       bdev_logical_block_size(d->pv));
	return false;
}

/*
 * Do the two faces (of the same size) hold the same bytes?  The first,
 * the last and evenly spread pages, read from both.  Says why not unless
 * @quiet.
 */
static bool sksh_same_bytes(struct sksh_disk *d, bool quiet)
{
	sector_t sectors = bdev_nr_sectors(d->emul);
	sector_t step, s = 0, per = SKSH_ID_BYTES >> SECTOR_SHIFT;
	struct page *a, *b;
	int err = 0, differ = 0;
	unsigned int i;

	a = alloc_page(GFP_NOIO);
	b = alloc_page(GFP_NOIO);
	if (!a || !b) {
		err = -ENOMEM;
		goto free;
	}
	step = (sectors - per) / (SKSH_ID_SAMPLES - 1);
	for (i = 0; !err && !differ && i < SKSH_ID_SAMPLES; i++) {
		s = i == SKSH_ID_SAMPLES - 1 ? sectors - per : i * step;
		s = round_down(s, per);
		err = sksh_sync_io(d->emul, REQ_OP_READ, s, a);
		if (!err)
			err = sksh_sync_io(d->pv, REQ_OP_READ, s, b);
		if (!err)
			differ = memcmp(page_address(a), page_address(b),
					SKSH_ID_BYTES);
	}
free:
	if (a)
		__free_page(a);
	if (b)
		__free_page(b);
	if (err && !quiet)
		pr_err(SKSH_NAME ": reading sector %llu of %pg and %pg to compare them: %d\n",
		       (unsigned long long)s, d->emul, d->pv, err);
	else if (differ && !quiet)
		pr_err(SKSH_NAME ": %pg and %pg differ at sector %llu: not the same backing\n",
		       d->emul, d->pv, (unsigned long long)s);
	return !err && !differ;
}

/*
 * Do the two faces hold the same bytes, at the switch's drained and
 * flushed instant (nothing in flight, nothing new let through)?  Sizes,
 * then the bytes, unless the same PV disk's bytes were found the same
 * just before the switch was asked for (sksh_precheck()).  Says why not
 * in the kernel log.
 */
static bool sksh_same_backing(struct sksh_disk *d)
{
	unsigned long flags;
	bool prechecked;

	spin_lock_irqsave(&d->lock, flags);
	prechecked = d->prechecked && d->prechecked == d->pv;
	d->prechecked = NULL;
	spin_unlock_irqrestore(&d->lock, flags);
	return sksh_same_size(d, false) &&
	       (prechecked || sksh_same_bytes(d, false));
}

/*
 * Before a switch to PV holds anything: flush the emulated disk, then
 * compare the two faces' bytes while the guest's I/O goes on.  Bytes
 * that match prove the backing as well as they would at the switch's
 * flushed instant (a guest write between the two reads of a page can
 * make them differ, not match: nobody but the shunt writes to the PV
 * disk it holds), so the switch's held time need not pay for the reads;
 * bytes that differ may be such a write and are compared again there.
 * Process context; only while the disk is on its emulated path.  True
 * when the bytes matched.
 */
static bool sksh_precheck(struct sksh_disk *d)
{
	unsigned long flags;
	bool same, on_emul;

	mutex_lock(&d->pv_mutex);
	spin_lock_irqsave(&d->lock, flags);
	on_emul = d->s.state == SKS_ON_EMUL;
	spin_unlock_irqrestore(&d->lock, flags);
	same = on_emul && d->pv && sksh_same_size(d, true) &&
	       !sksh_sync_io(d->emul, REQ_OP_WRITE | REQ_PREFLUSH, 0, NULL) &&
	       sksh_same_bytes(d, true);
	spin_lock_irqsave(&d->lock, flags);
	d->prechecked = same ? d->pv : NULL;
	spin_unlock_irqrestore(&d->lock, flags);
	mutex_unlock(&d->pv_mutex);
	return same;
}

static void sksh_work(struct work_struct *work)
{
	struct sksh_disk *d = container_of(work, struct sksh_disk, work);
	unsigned long flags;
	bool flush, ok, to_pv, go = false;

	spin_lock_irqsave(&d->lock, flags);
	flush = d->flush_wanted;
	d->flush_wanted = false;
	spin_unlock_irqrestore(&d->lock, flags);
	if (flush && !d->queue_waited) {
		/*
		 * Nothing the shunt routed is in flight on the emulated path;
		 * bios that entered its queue before the hook was there are
		 * waited for by freezing the queue once (new bios are held).
		 */
		blk_mq_freeze_queue(bdev_get_queue(d->emul));
		blk_mq_unfreeze_queue(bdev_get_queue(d->emul));
		d->queue_waited = true;
	}
	if (flush) {
		ok = !sksh_sync_io(d->emul, REQ_OP_WRITE | REQ_PREFLUSH, 0,
				   NULL);
		if (!ok)
			pr_warn(SKSH_NAME ": flushing %pg failed: the disk stays on its emulated path\n",
				d->emul);
		/* (a switch reversed meanwhile needs no proof of identity) */
		spin_lock_irqsave(&d->lock, flags);
		to_pv = d->s.state == SKS_TO_PV;
		spin_unlock_irqrestore(&d->lock, flags);
		if (ok && to_pv && !sksh_same_backing(d)) {
			pr_err(SKSH_NAME ": not switching %pg to %pg\n",
			       d->emul, d->pv);
			ok = false;
			spin_lock_irqsave(&d->lock, flags);
			d->identity_refusals++;
			spin_unlock_irqrestore(&d->lock, flags);
		}
		spin_lock_irqsave(&d->lock, flags);
		sks_flush_done(&d->s, ok, sksh_now());
		sksh_act(d, sks_progress(&d->s, sksh_now()));
		spin_unlock_irqrestore(&d->lock, flags);
		wake_up_all(&d->idle);
	}
	spin_lock_irqsave(&d->lock, flags);
	if (!d->dispatching && !list_empty(&d->dispatch))
		go = d->dispatching = true;
	flush = d->flush_wanted;
	spin_unlock_irqrestore(&d->lock, flags);
	if (go)
		sksh_dispatch(d, NULL);
	if (flush)
		queue_work(d->wq, &d->work);
}

/* ---- control ----------------------------------------------------------- */

/*
 * Ask the core for @to now: the PV disk's checks done (or none needed),
 * the switch carried out by the work item.  A switch to the emulated path
 * that is made (or already made) ends a retry of the PV path; a retry
 * (@retry) that finds the retries ended, or unload begun, asks for
 * nothing (-ECANCELED).  Process context.
 */
static int sksh_disk_request(struct sksh_disk *d, enum sks_path to,
			     bool retry)
{
	unsigned long flags;
	bool work = false;
	int err;

	spin_lock_irqsave(&d->lock, flags);
	if (retry && (!d->retrying || d->back_stopped)) {
		spin_unlock_irqrestore(&d->lock, flags);
		return -ECANCELED;
	}
	if (to == SKS_PV && !d->pv) {
		spin_unlock_irqrestore(&d->lock, flags);
		return -ENODEV;
	}
	/* with the emulated disk gone, the check of its bytes was the last */
	if (to == SKS_PV && d->s.emul_gone && !sksh_same_size(d, false)) {
		spin_unlock_irqrestore(&d->lock, flags);
		return -EINVAL;
	}
	if (to == SKS_PV)
		sks_pv_repaired(&d->s);
	err = sks_request(&d->s, to, sksh_now());
	/* (not when refused: with the emulated disk gone, bios stay held) */
	if (to == SKS_EMUL && (!err || err == -EALREADY))
		d->retrying = false;
	/* (held bios waiting for a repaired PV path go on -EALREADY too) */
	if (!err || err == -EALREADY)
		work = sksh_act(d, sks_progress(&d->s, sksh_now()));
	spin_unlock_irqrestore(&d->lock, flags);
	if (work)
		queue_work(d->wq, &d->work);
	return err;
}

/**
 * sksh_disk_emul_gone() - was the emulated disk unplugged?
 * @d: the disk.
 *
 * Any context; takes the disk's lock.  Once true, true until unload.
 */
bool sksh_disk_emul_gone(struct sksh_disk *d)
{
	unsigned long flags;
	bool gone;

	spin_lock_irqsave(&d->lock, flags);
	gone = d->s.emul_gone;
	spin_unlock_irqrestore(&d->lock, flags);
	return gone;
}

/*
 * Ask for the PV path: a live PV disk (kept, or taken back), its bytes
 * compared with the emulated disk's before anything is held.  A retry
 * (@retry) asks for nothing while they fail or differ (-EIO), unless the
 * emulated disk is unplugged: its bios are held anyway.  Process context.
 */
static int sksh_disk_to_pv(struct sksh_disk *d, bool retry)
{
	int err;

	err = sksh_back_take(d);
	if (err)
		return err;
	if (!sksh_precheck(d) && retry && !sksh_disk_emul_gone(d))
		return -EIO;
	return sksh_disk_request(d, SKS_PV, retry);
}

/**
 * sksh_disk_switch() - ask for the disk's bios to go down @to.
 * @d: the disk.
 * @to: the path.
 *
 * Process context.  Returns once the switch is under way; the held time
 * and the outcome show in the control files.  Asking for PV also ends a
 * fallback (the PV disk is taken as repaired) and takes a PV disk that
 * came after the load or came back after it went away (back.c).
 *
 * Return: 0; -EALREADY when the bios already go (or are going) there;
 * -ENODEV when there is no PV disk (gone, or not come yet), or for the
 * emulated path once it is unplugged; -EINVAL for a PV disk of another
 * size once the emulated disk is unplugged (its bytes cannot be compared
 * any more); the error of taking one that came (sksh_back_take()).
 */
int sksh_disk_switch(struct sksh_disk *d, enum sks_path to)
{
	return to == SKS_PV ? sksh_disk_to_pv(d, false) :
			      sksh_disk_request(d, to, false);
}

/**
 * sksh_disk_retry_pv() - ask for the PV path again after it failed.
 * @d: the disk; its PV disk failed a bio and stayed (back.c's retry).
 *
 * Process context.  On the emulated path the PV disk's bytes are
 * compared with the emulated disk's first (sksh_precheck()): while it
 * still fails or differs, nothing is switched and nothing held.  With the
 * emulated disk unplugged its bios are held anyway: they are let go to
 * the PV disk again (sksh_disk_switch()).
 *
 * Return: 0 when the switch is under way; -EIO while the PV disk fails
 * or differs; -ECANCELED when the retries ended meanwhile (a switch to
 * the emulated path asked for, unload); the errors of sksh_back_take()
 * and of the request (sksh_disk_switch()).
 */
int sksh_disk_retry_pv(struct sksh_disk *d)
{
	return sksh_disk_to_pv(d, true);
}

static bool sksh_on_emul(struct sksh_disk *d)
{
	unsigned long flags;
	bool settled;

	spin_lock_irqsave(&d->lock, flags);
	settled = d->s.state == SKS_ON_EMUL && !d->s.nr_held;
	spin_unlock_irqrestore(&d->lock, flags);
	return settled;
}

/**
 * sksh_disk_drain() - bring the disk back to its emulated path and wait.
 * @d: the disk.
 *
 * Process context, sleeps until the disk is on its emulated path with
 * nothing held.  Used before the hook goes away.
 */
void sksh_disk_drain(struct sksh_disk *d)
{
	sksh_disk_switch(d, SKS_EMUL);
	wait_event(d->idle, sksh_on_emul(d));
}

/* Open @path as a block device, not exclusively (it is mounted). */
static struct file *sksh_open(const char *path, struct block_device **bdev)
{
	struct file *f;

	f = filp_open(path, O_RDWR | O_LARGEFILE, 0);
	if (IS_ERR(f))
		return f;
	if (!S_ISBLK(file_inode(f)->i_mode)) {
		filp_close(f, NULL);
		return ERR_PTR(-ENOTBLK);
	}
	*bdev = I_BDEV(f->f_mapping->host);
	return f;
}

/*
 * The PV disk is opened by device number, exclusively (holder: the shunt's
 * disk), by pv= at load and by a returning disk's number later (back.c).
 * Linux 6.9 made such an open a file (bdev_file_open_by_dev()); probed in
 * Kbuild as SKSH_HAVE_BDEV_FILE.
 */
#ifdef SKSH_HAVE_BDEV_FILE
#define SKSH_PV_MODE	(BLK_OPEN_READ | BLK_OPEN_WRITE)
#else
#define SKSH_PV_MODE	(FMODE_READ | FMODE_WRITE | FMODE_EXCL)
#endif

/**
 * sksh_pv_get() - open a PV disk exclusively.
 * @d: the shunted disk (the holder).
 * @devt: the disk's device number.
 * @file: where its file goes (NULL before Linux 6.9).
 * @bdev: where its block_device goes.
 *
 * Process context (may sleep).
 *
 * Return: 0 or -errno (-ENXIO: no such disk, or not live yet; -EBUSY: in
 * use).
 */
int sksh_pv_get(struct sksh_disk *d, dev_t devt, struct file **file,
		struct block_device **bdev)
{
#ifdef SKSH_HAVE_BDEV_FILE
	*file = bdev_file_open_by_dev(devt, SKSH_PV_MODE, d, NULL);
	if (IS_ERR(*file))
		return PTR_ERR(*file);
	*bdev = file_bdev(*file);
#else
	*file = NULL;
	*bdev = blkdev_get_by_dev(devt, SKSH_PV_MODE, d);
	if (IS_ERR(*bdev))
		return PTR_ERR(*bdev);
#endif
	return 0;
}

/**
 * sksh_pv_put() - close what sksh_pv_get() opened.
 * @d: the shunted disk (the holder).
 * @file: the file it gave (NULL before Linux 6.9).
 * @bdev: the block_device it gave.
 *
 * Process context.  The exclusive claim ends at once, and so does the open
 * (splitkit_front's unclaim, which may follow, refuses while the disk is
 * open): on Linux 6.9 and later the file's last reference is dropped here,
 * not left to the task's return to user space (rmmod) or to the delayed
 * fput of a worker.
 */
void sksh_pv_put(struct sksh_disk *d, struct file *file,
		 struct block_device *bdev)
{
#ifdef SKSH_HAVE_BDEV_FILE
	get_file(file);
	bdev_fput(file);	/* the claim; our reference keeps the file */
	__fput_sync(file);	/* the open: blkdev_release() now */
#else
	blkdev_put(bdev, SKSH_PV_MODE);
#endif
}

/**
 * sksh_disk_open() - set up the shunted disk.
 * @d: zeroed but for @d->auto_forward.
 * @emul: the emulated disk's device node (a whole disk, e.g. /dev/sda).
 * @pv: splitkit_front's disk of the same backing (e.g. /dev/xvda), which
 *	is then held exclusively; with @d->auto_forward it may come later.
 *
 * Process context.  Their positions in the domain's config are checked
 * when the PV disk is taken (back.c, position.c); their sizes and content
 * at every switch to PV, when nothing is in flight.
 *
 * Return: 0 or -errno (-ENOTBLK, -EINVAL for a partition or two different
 * disks of the domain, -ENODEV for a vbd beside a disk that is no
 * emulated one of QEMU's, -ENOENT or -ENXIO for a PV disk that is not
 * there (without @d->auto_forward), -EIO, -EBUSY if the PV disk is in
 * use, -ENOMEM).
 */
int sksh_disk_open(struct sksh_disk *d, const char *emul, const char *pv)
{
	int err;

	spin_lock_init(&d->lock);
	sks_init(&d->s);
	INIT_LIST_HEAD(&d->dispatch);
	INIT_WORK(&d->work, sksh_work);
	init_waitqueue_head(&d->idle);
	atomic_set(&d->nr_ctx, 0);
	/*
	 * The work item submits bios that writeback and swap wait for (held
	 * ones, those a REQ_NOWAIT submitter left): it must run under memory
	 * pressure, with a rescuer of its own.
	 */
	d->wq = alloc_workqueue("splitkit_shunt", WQ_MEM_RECLAIM | WQ_UNBOUND,
				0);
	if (!d->wq)
		return -ENOMEM;
	sksh_ctx_cache = KMEM_CACHE(sksh_ctx, 0);
	if (!sksh_ctx_cache) {
		err = -ENOMEM;
		goto destroy_wq;
	}
	d->ctx_pool = mempool_create_slab_pool(64, sksh_ctx_cache);
	if (!d->ctx_pool) {
		err = -ENOMEM;
		goto destroy_cache;
	}
	err = bioset_init(&d->bs, BIO_POOL_SIZE, 0, BIOSET_NEED_RESCUER);
	if (err)
		goto destroy_pool;
	d->emul_file = sksh_open(emul, &d->emul);
	if (IS_ERR(d->emul_file)) {
		err = PTR_ERR(d->emul_file);
		goto exit_bioset;
	}
	if (bdev_is_partition(d->emul)) {
		err = -EINVAL;
		goto close_emul;
	}
	err = sksh_back_init(d, pv);
	if (err)
		goto close_emul;
	return 0;

close_emul:
	filp_close(d->emul_file, NULL);
exit_bioset:
	bioset_exit(&d->bs);
destroy_pool:
	mempool_destroy(d->ctx_pool);
destroy_cache:
	kmem_cache_destroy(sksh_ctx_cache);
destroy_wq:
	destroy_workqueue(d->wq);
	return err;
}

/**
 * sksh_disk_close() - undo sksh_disk_open() once no bio is routed.
 * @d: the disk, its hook removed.
 *
 * Process context, sleeps until every routed bio has completed.
 */
void sksh_disk_close(struct sksh_disk *d)
{
	wait_event(d->idle, !atomic_read(&d->nr_ctx));
	/*
	 * The last completion woke us from module code it has not yet left
	 * (sksh_done(), perhaps preempted there): let it return first.
	 */
	synchronize_rcu_tasks();
	/* (back.c's works may queue the switch work: stopped first) */
	sksh_back_stop(d);
	flush_work(&d->work);
	if (d->pv)
		sksh_pv_put(d, d->pv_file, d->pv);
	sksh_back_unclaim(d);
	filp_close(d->emul_file, NULL);
	bioset_exit(&d->bs);
	mempool_destroy(d->ctx_pool);
	kmem_cache_destroy(sksh_ctx_cache);
	destroy_workqueue(d->wq);
}
