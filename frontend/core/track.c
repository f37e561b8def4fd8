// SPDX-License-Identifier: GPL-2.0
/*
 * splitkit_front portable core: response tracking.  Every request slot
 * (one per blk-mq tag of a queue) is idle or in flight with the operation
 * it carries; a response is accepted only if its id names an in-flight
 * slot in the generation of its current request (skf_track_id()), its
 * operation is the one sent and its status one blkif defines.  Without the
 * generation a backend replaying an answer it gave earlier would complete
 * whichever request reuses the slot (blk-mq tags are reused all the time),
 * before that request was even served.  Ids are bounds-checked before they
 * index anything.
 * Linked into splitkit_front.ko and built unchanged on the host by
 * tests/unit/front/ (unit test and libFuzzer target); see check.h.
 */
#include "check.h"

/**
 * skf_track_init() - set up the slots of one queue, all idle.
 * @t: tracker.
 * @slots: @nr slots of caller memory.
 * @nr: queue depth.
 */
void skf_track_init(struct skf_track *t, struct skf_slot *slots, u32 nr)
{
	u32 i;

	t->slots = slots;
	t->nr = nr;
	for (i = 0; i < nr; i++)
		slots[i].gen = 0;
	skf_track_reset(t);
}

/**
 * skf_track_reset() - forget every in-flight request (after a disconnect,
 *		       once the caller has taken the requests back).
 * @t: tracker.
 *
 * Generations are kept: an answer from an earlier connection stays stale.
 */
void skf_track_reset(struct skf_track *t)
{
	u32 i;

	for (i = 0; i < t->nr; i++) {
		t->slots[i].busy = 0;
		t->slots[i].op = 0;
		t->slots[i].alt_op = 0;
	}
}

/**
 * skf_track_issue() - start a slot's next request, not yet in flight.
 * @t: tracker.
 * @slot: slot number (the blk-mq tag).
 * @op: operation written in the request.
 * @alt_op: other operation the backend may answer with (or @op).
 *
 * Starts a new generation of @slot; the request must carry
 * skf_track_id(@t, @slot) as its id.  No answer is taken for it until
 * skf_track_commit(), which the caller makes once the request is in the
 * ring (under the ring's lock, before it can be published): until then an
 * answer naming it is stale, whatever its id.
 *
 * Return: 0; -EINVAL if @slot is out of range; -EBUSY if it is in use.
 */
int skf_track_issue(struct skf_track *t, u32 slot, u8 op, u8 alt_op)
{
	struct skf_slot *s;

	if (slot >= t->nr)
		return -EINVAL;
	s = &t->slots[slot];
	if (s->busy)
		return -EBUSY;
	s->gen++;
	s->op = op;
	s->alt_op = alt_op;
	return 0;
}

/**
 * skf_track_commit() - put a slot's request in flight.
 * @t: tracker.
 * @slot: a slot below @t->nr, after its skf_track_issue().
 *
 * Any context; the caller's stores before it (the generation, the
 * operation, its own record of the request) are visible to a consumer
 * that finds the slot in flight (skf_track_complete()).
 */
void skf_track_commit(struct skf_track *t, u32 slot)
{
	sk_wmb();	/* pairs with skf_track_complete()'s sk_rmb() */
	SK_WRITE_ONCE(t->slots[slot].busy, 1);
}

/**
 * skf_track_id() - the id a slot's current request carries on the ring.
 * @t: tracker.
 * @slot: a slot below @t->nr, after its skf_track_issue().
 *
 * Return: @slot in the low 32 bits, its generation in the high 32.
 */
u64 skf_track_id(const struct skf_track *t, u32 slot)
{
	return (u64)t->slots[slot].gen << 32 | slot;
}

/**
 * skf_track_busy() - number of slots in flight.
 * @t: tracker.
 *
 * Return: the count (a snapshot while issuers and the consumer run).
 */
u32 skf_track_busy(const struct skf_track *t)
{
	u32 i, n = 0;

	for (i = 0; i < t->nr; i++)
		n += t->slots[i].busy ? 1 : 0;
	return n;
}

/**
 * skf_track_complete() - judge one response and retire its slot.
 * @t: tracker.
 * @id: the response's id, as the backend wrote it (any 64-bit value).
 * @op: the response's operation.
 * @status: the response's status.
 * @slot: set to the slot retired when skf_verdict_retires() holds.
 *
 * Return: the verdict; see enum skf_verdict.
 */
enum skf_verdict skf_track_complete(struct skf_track *t, u64 id, u8 op,
				    int status, u32 *slot)
{
	struct skf_slot *s;

	if (SKF_ID_SLOT(id) >= t->nr)
		return SKF_V_BAD_ID;
	s = &t->slots[SKF_ID_SLOT(id)];
	if (!SK_READ_ONCE(s->busy))
		return SKF_V_STALE;
	sk_rmb();	/* the generation and operation of the committed request */
	if (SKF_ID_GEN(id) != s->gen)
		return SKF_V_STALE;
	s->busy = 0;
	*slot = SKF_ID_SLOT(id);
	if (op != s->op && op != s->alt_op)
		return SKF_V_BAD_OP;
	switch (status) {
	case SK_BLKIF_RSP_OKAY:
		return SKF_V_OK;
	case SK_BLKIF_RSP_ERROR:
		return SKF_V_IOERR;
	case SK_BLKIF_RSP_EOPNOTSUPP:
		return SKF_V_NOTSUPP;
	default:
		return SKF_V_BAD_STATUS;
	}
}
