// SPDX-License-Identifier: GPL-2.0
/*
 * splitkit_shunt switch core (see shunt_core.h): which path each bio of a
 * shunted disk takes, holding bios while a switch drains the old path and
 * flushes the emulated disk, releasing them in submission order, and
 * putting back, in order, the bios a broken PV path failed.
 *
 * The rules it keeps (Documentation/shunt.rst, "Why nothing is lost"):
 *  - a bio is dispatched to a path only while nothing is in flight on the
 *    other one;
 *  - before the first bio goes to the PV path after a switch, a flush of
 *    the emulated disk completed after its last bio did;
 *  - held bios leave in submission order, requeued ones among them by
 *    their original number;
 *  - once the emulated disk is unplugged, no bio goes to it: a failing PV
 *    path holds them until it is repaired;
 *  - every bio is completed to its submitter exactly once.
 */
#include "shunt_core.h"

static enum sks_path sks_other(enum sks_path p)
{
	return p == SKS_EMUL ? SKS_PV : SKS_EMUL;
}

/* The path a switch in @state goes to, or the path @state is on. */
static enum sks_path sks_target(enum sks_state state)
{
	return state == SKS_ON_PV || state == SKS_TO_PV ? SKS_PV : SKS_EMUL;
}

/**
 * sks_init() - a shunted disk on its emulated path, nothing in flight.
 * @s: the state to set up.
 */
void sks_init(struct sks_shunt *s)
{
	memset(s, 0, sizeof(*s));
	s->state = SKS_ON_EMUL;
	s->next_seq = 1;
}

/**
 * sks_current_path() - where bios go now, or will once a switch is done.
 * @s: the disk.
 *
 * Return: the path.
 */
enum sks_path sks_current_path(const struct sks_shunt *s)
{
	return sks_target(s->state);
}

/**
 * sks_switching() - is a switch under way?
 * @s: the disk.
 *
 * sks_progress() reads its @now_ns only then: a caller on a settled path
 * need not read a clock for every completion.
 *
 * Return: true between sks_request() and the switch's arrival.
 */
bool sks_switching(const struct sks_shunt *s)
{
	return s->state == SKS_TO_PV || s->state == SKS_TO_EMUL;
}

/* Insert @b into the held FIFO by its number (appending is the usual). */
static void sks_hold(struct sks_shunt *s, struct sks_bio *b)
{
	struct sks_bio **pp;

	b->next = NULL;
	if (!s->held || s->held_tail->seq < b->seq) {
		if (s->held)
			s->held_tail->next = b;
		else
			s->held = b;
		s->held_tail = b;
	} else {
		for (pp = &s->held; *pp && (*pp)->seq < b->seq;
		     pp = &(*pp)->next)
			;
		b->next = *pp;
		*pp = b;
	}
	s->nr_held++;
	if (s->nr_held > s->max_held)
		s->max_held = s->nr_held;
}

/* Send @b down @p now. */
static void sks_dispatch(struct sks_shunt *s, struct sks_bio *b,
			 enum sks_path p)
{
	b->path = p;
	s->inflight[p]++;
}

/**
 * sks_submit() - decide the way of a new bio of the shunted disk.
 * @s: the disk.
 * @b: the bio's core context; numbered here.
 *
 * Return: dispatch to the emulated path or the PV disk now, or held (the
 * core keeps @b until sks_next_held() gives it back).
 */
enum sks_route sks_submit(struct sks_shunt *s, struct sks_bio *b)
{
	b->seq = s->next_seq++;
	/* older bios still held go first, whatever the state */
	if (s->held) {
		sks_hold(s, b);
		return SKS_ROUTE_HELD;
	}
	switch (s->state) {
	case SKS_ON_EMUL:
		sks_dispatch(s, b, SKS_EMUL);
		return SKS_ROUTE_EMUL;
	case SKS_ON_PV:
		sks_dispatch(s, b, SKS_PV);
		return SKS_ROUTE_PV;
	default:
		sks_hold(s, b);
		return SKS_ROUTE_HELD;
	}
}

/**
 * sks_complete() - a dispatched bio completed.
 * @s: the disk.
 * @b: the bio.
 * @failed: it completed with an error.
 *
 * A bio that failed on the PV path while that path is known broken is not
 * completed: it is held again, by its original number, for the emulated
 * path (call sks_progress() next).  Anything else completes as it came.
 *
 * Return: complete it to its submitter, or requeued.
 */
enum sks_done sks_complete(struct sks_shunt *s, struct sks_bio *b,
			   bool failed)
{
	s->inflight[b->path]--;
	if (failed && b->path == SKS_PV && s->pv_broken) {
		s->requeued++;
		sks_hold(s, b);
		return SKS_DONE_REQUEUED;
	}
	return SKS_DONE_COMPLETE;
}

/**
 * sks_request() - begin a switch to @to.
 * @s: the disk.
 * @to: the path wanted.
 * @now_ns: the caller's clock.
 *
 * New bios are held from now on until the switch is done (sks_progress()).
 * A switch to the PV path is refused while that path is known broken;
 * one to the emulated path once the emulated disk is gone.
 *
 * Return: 0; -EALREADY if bios already go (or are going) to @to; -EIO for
 * PV while broken; -ENODEV for the emulated path once it is gone.
 */
int sks_request(struct sks_shunt *s, enum sks_path to, u64 now_ns)
{
	if (sks_target(s->state) == to)
		return -EALREADY;
	if (to == SKS_EMUL && s->emul_gone)
		return -ENODEV;
	if (to == SKS_PV && s->pv_broken)
		return -EIO;
	if (s->state == SKS_ON_EMUL || s->state == SKS_ON_PV)
		s->hold_start_ns = now_ns;
	/* reversing a switch under way keeps its hold start and its bios */
	s->state = to == SKS_PV ? SKS_TO_PV : SKS_TO_EMUL;
	s->flushed = false;
	return 0;
}

/* The switch to @to is done: bios go there, held ones first. */
static enum sks_action sks_arrive(struct sks_shunt *s, enum sks_path to,
				  u64 now_ns)
{
	s->state = to == SKS_PV ? SKS_ON_PV : SKS_ON_EMUL;
	s->flushed = false;
	s->switches[to]++;
	s->last_held_ns = now_ns - s->hold_start_ns;
	return s->held ? SKS_ACT_RELEASE : SKS_ACT_NONE;
}

/**
 * sks_progress() - what the caller must do next.
 * @s: the disk.
 * @now_ns: the caller's clock.
 *
 * Call after every sks_complete(), sks_request(), sks_flush_done() and
 * sks_pv_broken(), and after sks_pv_repaired() once the emulated disk is
 * gone.  @now_ns is read only while sks_switching().  A switch to the PV
 * path waits until nothing is in flight on the emulated one, then asks
 * for one flush of the emulated disk (none once it is gone), then
 * arrives; a switch to the emulated path waits until nothing is in flight
 * on the PV one, then arrives (the PV backend wrote through to the
 * backing).  While the emulated disk is gone and the PV path failing, a
 * switch to PV waits for its repair.  On arrival, or when bios were
 * requeued on a settled path, the held bios are to be released.
 *
 * Return: nothing to do, issue the flush, or release the held bios.
 */
enum sks_action sks_progress(struct sks_shunt *s, u64 now_ns)
{
	switch (s->state) {
	case SKS_TO_PV:
		/* (only with the emulated disk gone: waiting for PV's repair) */
		if (s->inflight[SKS_EMUL] || s->inflight[SKS_PV] ||
		    s->flushing || s->pv_broken)
			return SKS_ACT_NONE;
		/* nothing to flush of an emulated disk that is gone */
		if (!s->flushed && !s->emul_gone) {
			s->flushing = true;
			return SKS_ACT_FLUSH_EMUL;
		}
		return sks_arrive(s, SKS_PV, now_ns);
	case SKS_TO_EMUL:
		if (s->inflight[SKS_PV] || s->inflight[SKS_EMUL] ||
		    s->flushing)
			return SKS_ACT_NONE;
		return sks_arrive(s, SKS_EMUL, now_ns);
	default:
		/* requeued bios on a path that is already in use */
		if (s->held && !s->inflight[sks_other(sks_target(s->state))])
			return SKS_ACT_RELEASE;
		return SKS_ACT_NONE;
	}
}

/**
 * sks_flush_done() - the switch's flush of the emulated disk completed.
 * @s: the disk.
 * @ok: it succeeded.
 * @now_ns: the caller's clock.
 *
 * A failed flush undoes the switch: the disk stays on the emulated path
 * (what the emulated disk holds is not known durable, so the PV path may
 * not take over), and the held bios go back there.  Call sks_progress().
 */
void sks_flush_done(struct sks_shunt *s, bool ok, u64 now_ns)
{
	s->flushing = false;
	if (ok) {
		s->flushed = s->state == SKS_TO_PV;
		return;
	}
	s->flush_errors++;
	if (s->state == SKS_TO_PV)
		s->state = SKS_TO_EMUL;
}

/**
 * sks_next_held() - the next held bio to dispatch, once a path is settled.
 * @s: the disk.
 * @path: set to where it goes.
 *
 * Return: the held bio with the lowest number, counted as in flight on
 * @path; NULL when none is left or no path may take bios now.
 */
struct sks_bio *sks_next_held(struct sks_shunt *s, enum sks_path *path)
{
	struct sks_bio *b = s->held;
	enum sks_path p;

	if (!b || (s->state != SKS_ON_EMUL && s->state != SKS_ON_PV))
		return NULL;
	p = sks_target(s->state);
	if (s->inflight[sks_other(p)])
		return NULL;
	s->held = b->next;
	if (!s->held)
		s->held_tail = NULL;
	s->nr_held--;
	b->next = NULL;
	sks_dispatch(s, b, p);
	*path = p;
	return b;
}

/**
 * sks_pv_broken() - the PV path fails (its backend went away, or the
 * frontend reported the device broken).
 * @s: the disk.
 * @now_ns: the caller's clock.
 *
 * Bios that fail on it from now on are requeued for the emulated path, and
 * the disk switches back there (a switch to PV under way is reversed);
 * once the emulated disk is gone (sks_emul_gone()) they are requeued and
 * held, new ones with them, until the PV path is repaired.  Call
 * sks_progress().
 */
void sks_pv_broken(struct sks_shunt *s, u64 now_ns)
{
	s->pv_broken = true;
	if (sks_target(s->state) != SKS_PV)
		return;
	if (!s->emul_gone) {
		sks_request(s, SKS_EMUL, now_ns);
		return;
	}
	/* no way back: hold everything until the PV path is repaired */
	if (s->state == SKS_ON_PV) {
		s->hold_start_ns = now_ns;
		s->state = SKS_TO_PV;
		s->flushed = false;
	}
}

/**
 * sks_emul_gone() - the emulated disk is about to be unplugged for good.
 * @s: the disk, on its PV path.
 *
 * From now on no bio goes to the emulated path: sks_request() refuses it,
 * and a PV path that fails holds the bios (its failed ones requeued) until
 * sks_pv_repaired() and sks_progress() let them go to the PV path again,
 * with no flush of the emulated disk.
 *
 * Return: 0; -EBUSY unless the disk is settled on the PV path (no switch
 * under way, nothing held, nothing in flight on the emulated path, the PV
 * path not failing); -EALREADY if it was gone already.
 */
int sks_emul_gone(struct sks_shunt *s)
{
	if (s->emul_gone)
		return -EALREADY;
	if (s->state != SKS_ON_PV || s->held || s->inflight[SKS_EMUL] ||
	    s->pv_broken)
		return -EBUSY;
	s->emul_gone = true;
	return 0;
}

/**
 * sks_pv_repaired() - the PV disk is connected again; a switch to it may
 * be requested (once the emulated disk is gone, the held bios go to it at
 * the next sks_progress()).
 * @s: the disk.
 */
void sks_pv_repaired(struct sks_shunt *s)
{
	s->pv_broken = false;
}
