// SPDX-License-Identifier: GPL-2.0
/*
 * splitkit_front portable core: which ring a request goes to when the
 * backend offers fewer queues than the disk's blk-mq queues.
 *
 * A disk's queues are created at its first connection: blk-mq hardware
 * queue (hctx) i is ring i, the event-driven ones first, then the polled
 * ones.  A later backend (after xl restore, migration or a restart) may
 * offer fewer; the rings of that connection are laid out the same way
 * (struct skf_layout) and blk-mq is told to use that many queues
 * (blk_mq_update_nr_hw_queues(), frontend/blkmq.c), which needs a frozen
 * queue and so happens after the connection is up.  Until then, and for
 * requests that were queued on a hctx that no longer has a ring of its
 * type, skf_route() sends the request to ring 0 (always event-driven, so
 * it completes without anyone polling) under a slot of its own: ring 0
 * has skf_ring_slots() slots, its native ones (the tags of hctx 0) and
 * one block of the queue depth per hctx that may borrow it, so slots never
 * collide and issuers of different slots never touch the same one.
 * Linked into splitkit_front.ko and built unchanged on the host by
 * tests/unit/front/; see check.h.
 */
#include "check.h"

/**
 * skf_layout_check() - can a connection with these rings serve the disk?
 * @cap: the disk's queues (its first connection).
 * @now: the rings the backend let us set up this time.
 *
 * Fewer rings of either kind are fine, down to one event-driven ring;
 * more than the disk has cannot be (its per-ring state is sized once).
 *
 * Return: 0, or -EINVAL.
 */
int skf_layout_check(const struct skf_layout *cap, const struct skf_layout *now)
{
	if (!now->nr_event || now->nr_event > cap->nr_event ||
	    now->nr_poll > cap->nr_poll)
		return -EINVAL;
	return 0;
}

/**
 * skf_ring_slots() - slots of ring @ring's tracker.
 * @ring: ring (queue) number.
 * @depth: the queue depth (tags per hctx).
 * @nr_hctx: most blk-mq hardware queues the disk can have.
 *
 * Return: @depth, and for ring 0 one more @depth per hctx.
 */
u32 skf_ring_slots(u32 ring, u32 depth, u32 nr_hctx)
{
	return ring ? depth : depth * (1 + nr_hctx);
}

/**
 * skf_route() - ring and slot of a request.
 * @now: the rings of the current connection.
 * @depth: the queue depth (tags per hctx).
 * @hctx: the request's blk-mq hardware queue.
 * @polled: @hctx is a polled one (HCTX_TYPE_POLL).
 * @tag: the request's tag, below @depth.
 * @ring: set to the ring to use.
 * @slot: set to the slot to use on it.
 *
 * A hctx that still has a ring of its own type uses it, the tag being the
 * slot.  Any other goes to ring 0, slot @depth * (1 + @hctx) + @tag.
 *
 * Return: true if the request uses its own ring, false if it borrows.
 */
bool skf_route(const struct skf_layout *now, u32 depth, u32 hctx, bool polled,
	       u32 tag, u32 *ring, u32 *slot)
{
	if (hctx < now->nr_event + now->nr_poll &&
	    (hctx >= now->nr_event) == polled) {
		*ring = hctx;
		*slot = tag;
		return true;
	}
	*ring = 0;
	*slot = depth * (1 + hctx) + tag;
	return false;
}
