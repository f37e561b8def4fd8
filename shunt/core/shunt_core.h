/* SPDX-License-Identifier: GPL-2.0 */
/*
 * splitkit_shunt portable core: the routing decisions of the switch
 * between a disk's emulated path and its PV path (Documentation/shunt.rst,
 * "The switch"), as plain C over <splitkit/platform.h>, so that the same
 * file builds into the module and into the host unit tests
 * (tests/unit/shunt/).  The core never touches a bio: the caller embeds a
 * struct sks_bio in its per-bio context, asks where each bio goes, tells
 * the core what completed, and carries out the actions the core returns.
 *
 * Locking: none inside.  The caller serialises every call on one struct
 * sks_shunt (the module: one spinlock per shunted disk, taken at bio
 * submission and completion, so nothing here may sleep), and carries out
 * an SKS_ACT_RELEASE under the same lock hold that returned it, so no new
 * bio overtakes a held one.  A failed PV bio is reported after the caller
 * has told the core that the PV path is broken (sks_pv_broken()), if it
 * is, so that it is requeued rather than failed.  Time is the caller's
 * (ns); the core never reads a clock.
 */
#ifndef _SPLITKIT_SHUNT_CORE_H
#define _SPLITKIT_SHUNT_CORE_H

#include <splitkit/platform.h>

/* The two ways to the same backing. */
enum sks_path {
	SKS_EMUL,		/* the emulated disk (QEMU's IDE/AHCI) */
	SKS_PV,			/* splitkit_front's disk */
	SKS_NR_PATHS
};

/* Where the disk stands (see shunt.rst for the table). */
enum sks_state {
	SKS_ON_EMUL,
	SKS_TO_PV,		/* draining the emulated path, then its flush */
	SKS_ON_PV,
	SKS_TO_EMUL,		/* draining the PV path */
};

/* What sks_submit() decided for a bio. */
enum sks_route {
	SKS_ROUTE_EMUL,		/* send it down the emulated path now */
	SKS_ROUTE_PV,		/* send it to the PV disk now */
	SKS_ROUTE_HELD,		/* the core keeps it; released later */
};

/* What the caller must do next (sks_progress()). */
enum sks_action {
	SKS_ACT_NONE,
	SKS_ACT_FLUSH_EMUL,	/* issue one flush to the emulated disk */
	SKS_ACT_RELEASE,	/* dispatch sks_next_held() until NULL */
};

/* What became of a completed bio (sks_complete()). */
enum sks_done {
	SKS_DONE_COMPLETE,	/* complete it to its submitter */
	SKS_DONE_REQUEUED,	/* failed on a broken PV path: held again */
};

/**
 * struct sks_bio - the core's part of one bio's context.
 * @seq: submission order, from 1.
 * @path: the path it was sent down (valid while in flight).
 * @next: in the held FIFO.
 */
struct sks_bio {
	u64 seq;
	enum sks_path path;
	struct sks_bio *next;
};

/**
 * struct sks_shunt - the switch state of one shunted disk.
 * @state: enum sks_state.
 * @flushing: the switch's flush of the emulated disk is in flight.
 * @flushed: it completed, successfully, since the drain.
 * @pv_broken: the PV path is failing: bios that fail on it are requeued
 *	for the emulated path instead of completed with the error.
 * @emul_gone: the emulated disk was unplugged (sks_emul_gone()): no
 *	switch back; while the PV path is failing, bios are held for it.
 * @next_seq: the next submission number.
 * @inflight: bios in flight on each path.
 * @held: the held FIFO, in @seq order.
 * @held_tail: its last entry.
 * @nr_held: entries in @held.
 * @hold_start_ns: when the current switch began to hold.
 * @last_held_ns: how long the last finished switch held bios.
 * @max_held: most bios ever held at once.
 * @switches: finished switches to each path.
 * @requeued: bios that failed on a broken PV path and were requeued.
 * @flush_errors: switch flushes that failed (the switch was undone).
 */
struct sks_shunt {
	enum sks_state state;
	bool flushing;
	bool flushed;
	bool pv_broken;
	bool emul_gone;
	u64 next_seq;
	u64 inflight[SKS_NR_PATHS];
	struct sks_bio *held;
	struct sks_bio *held_tail;
	u64 nr_held;
	u64 hold_start_ns;
	u64 last_held_ns;
	u64 max_held;
	u64 switches[SKS_NR_PATHS];
	u64 requeued;
	u64 flush_errors;
};

void sks_init(struct sks_shunt *s);
enum sks_route sks_submit(struct sks_shunt *s, struct sks_bio *b);
enum sks_done sks_complete(struct sks_shunt *s, struct sks_bio *b,
			   bool failed);
int sks_request(struct sks_shunt *s, enum sks_path to, u64 now_ns);
enum sks_action sks_progress(struct sks_shunt *s, u64 now_ns);
void sks_flush_done(struct sks_shunt *s, bool ok, u64 now_ns);
struct sks_bio *sks_next_held(struct sks_shunt *s, enum sks_path *path);
void sks_pv_broken(struct sks_shunt *s, u64 now_ns);
void sks_pv_repaired(struct sks_shunt *s);
enum sks_path sks_current_path(const struct sks_shunt *s);
bool sks_switching(const struct sks_shunt *s);
int sks_emul_gone(struct sks_shunt *s);

#endif /* _SPLITKIT_SHUNT_CORE_H */
