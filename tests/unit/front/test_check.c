// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests of splitkit_front's portable core (frontend/core/: track.c,
 * negotiate.c, segs.c, vdev.c): response tracking against honest and hostile backends, negotiation
 * checks of backend-written XenStore values, segment layout and the
 * xvdX naming that must match xen-blkfront's.
 */
#include "ktap.h"

#include "../../../frontend/core/check.h"

#define DEPTH 8

static struct skf_slot slots[DEPTH];
static struct skf_track t;

/* The id a slot's current request carries. */
#define ID(slot)	skf_track_id(&t, (slot))

/* Issue a request and put it in the ring (skf_track_commit()). */
static int issue(struct skf_track *tr, u32 slot, u8 op, u8 alt_op)
{
	int err = skf_track_issue(tr, slot, op, alt_op);

	if (!err)
		skf_track_commit(tr, slot);
	return err;
}

static void track_fresh(void)
{
	skf_track_init(&t, slots, DEPTH);
}

static void honest_round_trip(void)
{
	u32 slot = 99;

	track_fresh();
	KTAP_EXPECT_EQ(issue(&t, 3, SK_BLKIF_OP_READ, SK_BLKIF_OP_READ), 0);
	KTAP_EXPECT_EQ(skf_track_busy(&t), 1);
	KTAP_EXPECT_EQ(skf_track_complete(&t, ID(3), SK_BLKIF_OP_READ, SK_BLKIF_RSP_OKAY,
					  &slot), SKF_V_OK);
	KTAP_EXPECT_EQ(slot, 3);
	KTAP_EXPECT_EQ(skf_track_busy(&t), 0);
}

static void status_values(void)
{
	static const struct {
		int status;
		enum skf_verdict v;
	} cases[] = {
		{ SK_BLKIF_RSP_OKAY, SKF_V_OK },
		{ SK_BLKIF_RSP_ERROR, SKF_V_IOERR },
		{ SK_BLKIF_RSP_EOPNOTSUPP, SKF_V_NOTSUPP },
		{ -3, SKF_V_BAD_STATUS },
		{ 1, SKF_V_BAD_STATUS },
		{ 32767, SKF_V_BAD_STATUS },
		{ -32768, SKF_V_BAD_STATUS },
	};
	unsigned int i;
	u32 slot;

	for (i = 0; i < KTAP_ARRAY_SIZE(cases); i++) {
		track_fresh();
		issue(&t, 1, SK_BLKIF_OP_WRITE, SK_BLKIF_OP_WRITE);
		KTAP_EXPECT_EQ(skf_track_complete(&t, ID(1), SK_BLKIF_OP_WRITE,
						  cases[i].status, &slot),
			       cases[i].v);
		/* whatever the status, the slot is retired exactly once */
		KTAP_EXPECT_EQ(skf_track_busy(&t), 0);
		KTAP_EXPECT(skf_verdict_retires(cases[i].v));
	}
}

static void hostile_ids(void)
{
	/* low halves beyond the slots, whatever the high half says */
	static const u64 ids[] = { DEPTH, DEPTH + 1, 0xffffffffull,
				   0x100000000ull | DEPTH, ~0ull };
	static const u64 stale[] = { 1, 0x200000001ull, 0xffffffff00000001ull };
	unsigned int i;
	u32 slot = 77;
	u64 id;

	track_fresh();
	issue(&t, 1, SK_BLKIF_OP_READ, SK_BLKIF_OP_READ);
	for (i = 0; i < KTAP_ARRAY_SIZE(ids); i++) {
		enum skf_verdict v = skf_track_complete(&t, ids[i],
							SK_BLKIF_OP_READ, 0, &slot);

		KTAP_EXPECT_EQ(v, SKF_V_BAD_ID);
		KTAP_EXPECT(skf_verdict_violation(v));
		KTAP_EXPECT(!skf_verdict_retires(v));
	}
	/* slot 1 in any other generation (its first issue is generation 1) */
	id = ID(1);
	KTAP_EXPECT_EQ(id, 0x100000001ull);
	for (i = 0; i < KTAP_ARRAY_SIZE(stale); i++)
		KTAP_EXPECT_EQ(skf_track_complete(&t, stale[i], SK_BLKIF_OP_READ,
						  0, &slot), SKF_V_STALE);
	/* a truncating implementation would have hit slot 1 or 0 */
	KTAP_EXPECT_EQ(skf_track_busy(&t), 1);
	KTAP_EXPECT_EQ(slot, 77);
	KTAP_EXPECT_EQ(skf_track_complete(&t, id, SK_BLKIF_OP_READ, 0, &slot),
		       SKF_V_OK);
}

static void duplicate_and_invented(void)
{
	u32 slot;

	track_fresh();
	KTAP_EXPECT_EQ(skf_track_complete(&t, ID(2), SK_BLKIF_OP_READ, 0, &slot),
		       SKF_V_STALE);
	issue(&t, 2, SK_BLKIF_OP_READ, SK_BLKIF_OP_READ);
	KTAP_EXPECT_EQ(skf_track_complete(&t, ID(2), SK_BLKIF_OP_READ, 0, &slot),
		       SKF_V_OK);
	KTAP_EXPECT_EQ(skf_track_complete(&t, ID(2), SK_BLKIF_OP_READ, 0, &slot),
		       SKF_V_STALE);
}

/*
 * An answer replayed once its slot carries a new request (blk-mq reuses
 * tags): the new request must not complete with it (front-hostile's
 * dup-id attack does this on a real ring).
 */
static void replay_after_reuse(void)
{
	u64 old, now;
	u32 slot = 55;

	track_fresh();
	issue(&t, 2, SK_BLKIF_OP_READ, SK_BLKIF_OP_READ);
	old = ID(2);
	KTAP_EXPECT_EQ(skf_track_complete(&t, old, SK_BLKIF_OP_READ, 0, &slot),
		       SKF_V_OK);
	issue(&t, 2, SK_BLKIF_OP_READ, SK_BLKIF_OP_READ);
	now = ID(2);
	KTAP_EXPECT(now != old);
	slot = 55;
	KTAP_EXPECT_EQ(skf_track_complete(&t, old, SK_BLKIF_OP_READ, 0, &slot),
		       SKF_V_STALE);
	KTAP_EXPECT_EQ(slot, 55);
	KTAP_EXPECT_EQ(skf_track_busy(&t), 1);
	/* a reconnect keeps generations: the old answer stays stale */
	skf_track_reset(&t);
	issue(&t, 2, SK_BLKIF_OP_READ, SK_BLKIF_OP_READ);
	KTAP_EXPECT_EQ(skf_track_complete(&t, now, SK_BLKIF_OP_READ, 0, &slot),
		       SKF_V_STALE);
	KTAP_EXPECT_EQ(skf_track_complete(&t, ID(2), SK_BLKIF_OP_READ, 0,
					  &slot), SKF_V_OK);
	KTAP_EXPECT_EQ(slot, 2);
	KTAP_EXPECT_EQ(skf_track_busy(&t), 0);
}

static void wrong_operation(void)
{
	u32 slot = 0;

	track_fresh();
	issue(&t, 4, SK_BLKIF_OP_WRITE, SK_BLKIF_OP_WRITE);
	KTAP_EXPECT_EQ(skf_track_complete(&t, ID(4), SK_BLKIF_OP_READ, 0, &slot),
		       SKF_V_BAD_OP);
	/* retired: its request is failed by the caller, never twice */
	KTAP_EXPECT_EQ(slot, 4);
	KTAP_EXPECT_EQ(skf_track_busy(&t), 0);
}

static void indirect_either_op(void)
{
	u32 slot;

	track_fresh();
	issue(&t, 0, SK_BLKIF_OP_INDIRECT, SK_BLKIF_OP_READ);
	issue(&t, 1, SK_BLKIF_OP_INDIRECT, SK_BLKIF_OP_WRITE);
	KTAP_EXPECT_EQ(skf_track_complete(&t, ID(0), SK_BLKIF_OP_READ, 0, &slot),
		       SKF_V_OK);	/* xen-blkback's answer */
	KTAP_EXPECT_EQ(skf_track_complete(&t, ID(1), SK_BLKIF_OP_INDIRECT, 0, &slot),
		       SKF_V_OK);	/* io/blkif.h's "copied" */
	issue(&t, 2, SK_BLKIF_OP_INDIRECT, SK_BLKIF_OP_READ);
	KTAP_EXPECT_EQ(skf_track_complete(&t, ID(2), SK_BLKIF_OP_WRITE, 0, &slot),
		       SKF_V_BAD_OP);
}

static void issue_bounds(void)
{
	track_fresh();
	KTAP_EXPECT_EQ(issue(&t, DEPTH, SK_BLKIF_OP_READ, 0), -EINVAL);
	KTAP_EXPECT_EQ(issue(&t, 5, SK_BLKIF_OP_READ, 0), 0);
	KTAP_EXPECT_EQ(issue(&t, 5, SK_BLKIF_OP_READ, 0), -EBUSY);
	KTAP_EXPECT_EQ(skf_track_busy(&t), 1);
	issue(&t, 6, SK_BLKIF_OP_READ, 0);
	skf_track_reset(&t);
	KTAP_EXPECT_EQ(skf_track_busy(&t), 0);
}

/*
 * A request is taken as in flight only once it is in the ring
 * (skf_track_commit(), under the ring's lock): a backend that guesses the
 * next id (the slot and the generation after the one it saw) and answers
 * while the issuer is between skf_track_issue() and the put must get a
 * stale verdict, not complete a request that is not yet on the ring (the
 * issuer would then write a completed request's grants into the ring, or
 * end it twice when the ring refuses it; found by a review, 2026-12-06).
 */
static void guessed_id_before_commit(void)
{
	u32 slot = 99;
	u64 guess;

	track_fresh();
	issue(&t, 2, SK_BLKIF_OP_READ, SK_BLKIF_OP_READ);
	KTAP_EXPECT_EQ(skf_track_complete(&t, ID(2), SK_BLKIF_OP_READ,
					  SK_BLKIF_RSP_OKAY, &slot), SKF_V_OK);
	/* the backend saw generation g; the next request carries g + 1 */
	guess = ID(2) + (1ull << 32);
	KTAP_EXPECT_EQ(skf_track_issue(&t, 2, SK_BLKIF_OP_READ,
				       SK_BLKIF_OP_READ), 0);
	KTAP_EXPECT_EQ(ID(2), guess);
	KTAP_EXPECT_EQ(skf_track_busy(&t), 0);
	slot = 99;
	KTAP_EXPECT_EQ(skf_track_complete(&t, guess, SK_BLKIF_OP_READ,
					  SK_BLKIF_RSP_OKAY, &slot),
		       SKF_V_STALE);
	KTAP_EXPECT_EQ(slot, 99);
	/* the ring refused it: issued again, never answered meanwhile */
	KTAP_EXPECT_EQ(skf_track_issue(&t, 2, SK_BLKIF_OP_WRITE,
				       SK_BLKIF_OP_WRITE), 0);
	guess = ID(2);
	skf_track_commit(&t, 2);
	KTAP_EXPECT_EQ(skf_track_busy(&t), 1);
	KTAP_EXPECT_EQ(skf_track_complete(&t, guess, SK_BLKIF_OP_WRITE,
					  SK_BLKIF_RSP_OKAY, &slot), SKF_V_OK);
	KTAP_EXPECT_EQ(slot, 2);
}

static void layout_check(void)
{
	static const struct skf_layout cap = { 2, 1 };
	static const struct {
		struct skf_layout now;
		int err;
	} cases[] = {
		{ { 2, 1 }, 0 }, { { 1, 1 }, 0 }, { { 2, 0 }, 0 },
		{ { 1, 0 }, 0 },	/* a backend with one queue */
		{ { 0, 1 }, -EINVAL }, { { 3, 0 }, -EINVAL },
		{ { 2, 2 }, -EINVAL },
	};
	unsigned int i;

	for (i = 0; i < KTAP_ARRAY_SIZE(cases); i++)
		KTAP_EXPECT_EQ(skf_layout_check(&cap, &cases[i].now),
			       cases[i].err);
}

/*
 * Restore from 2 event-driven + 1 polled queue (hctx 0, 1 default, hctx 2
 * polled) onto backends that offer fewer: every hctx reaches a ring of the
 * right kind (a default hctx never lands on a polled ring nobody would
 * poll), and no two (hctx, tag) pairs share a ring's slot.
 */
static void route_fewer_queues(void)
{
	enum { D = 4, NHCTX = 3 };
	static const struct skf_layout lays[] = {
		{ 2, 1 }, { 1, 1 }, { 2, 0 }, { 1, 0 },
	};
	static const bool hctx_polled[NHCTX] = { false, false, true };
	unsigned int l, h, tag;

	for (l = 0; l < KTAP_ARRAY_SIZE(lays); l++) {
		const struct skf_layout *now = &lays[l];
		u32 nr = now->nr_event + now->nr_poll;
		u8 used[NHCTX][D * (1 + NHCTX)] = { { 0 } };

		for (h = 0; h < NHCTX; h++) {
			for (tag = 0; tag < D; tag++) {
				u32 ring = 99, slot = 99;
				bool own = skf_route(now, D, h, hctx_polled[h],
						     tag, &ring, &slot);

				KTAP_EXPECT(ring < nr);
				KTAP_EXPECT(slot < skf_ring_slots(ring, D, NHCTX));
				if (ring >= nr ||
				    slot >= skf_ring_slots(ring, D, NHCTX))
					continue;
				/* a polled ring only for a polled hctx */
				KTAP_EXPECT(ring < now->nr_event ||
					    hctx_polled[h]);
				KTAP_EXPECT(!used[ring][slot]);
				used[ring][slot] = 1;
				/* its own ring exactly when it still exists */
				KTAP_EXPECT_EQ(own, h < nr &&
					       (h >= now->nr_event) ==
					       hctx_polled[h]);
				if (own)
					KTAP_EXPECT(ring == h && slot == tag);
			}
		}
	}
}

static void geometry(void)
{
	static const struct {
		struct skf_geom g;
		int ok;
	} cases[] = {
		{ { 524288, 512, 512 }, 1 },
		{ { 524288, 4096, 4096 }, 1 },
		{ { 524288, 512, 4096 }, 1 },
		{ { 0, 512, 512 }, 1 },		/* empty (e.g. no medium) */
		{ { 524288, 0, 512 }, 0 },
		{ { 524288, 256, 256 }, 0 },
		{ { 524288, 1000, 1000 }, 0 },
		{ { 524288, 8192, 8192 }, 0 },
		{ { 524288, 4096, 512 }, 0 },	/* physical below logical */
		{ { 524289, 4096, 4096 }, 0 },	/* not whole 4 KiB blocks */
		{ { 1ull << 48, 512, 512 }, 0 },
		{ { ~0ull, 512, 512 }, 0 },
		{ { 524288, 512, 1u << 17 }, 0 },
	};
	unsigned int i;

	for (i = 0; i < KTAP_ARRAY_SIZE(cases); i++)
		KTAP_EXPECT_EQ(skf_geom_check(&cases[i].g) == 0, cases[i].ok);
}

static void indirect_negotiation(void)
{
	KTAP_EXPECT_EQ(skf_indirect_segs(0, 32), 0);
	KTAP_EXPECT_EQ(skf_indirect_segs(11, 32), 0);
	KTAP_EXPECT_EQ(skf_indirect_segs(32, 32), 32);
	KTAP_EXPECT_EQ(skf_indirect_segs(256, 32), 32);
	KTAP_EXPECT_EQ(skf_indirect_segs(16, 32), 16);
	KTAP_EXPECT_EQ(skf_indirect_segs(~0u, ~0u), SK_BLKIF_MAX_INDIRECT_SEGS);
	KTAP_EXPECT_EQ(skf_indirect_segs(64, 0), 0);
}

static void discard_params(void)
{
	struct skf_discard d;

	KTAP_EXPECT_EQ(skf_discard_check(0, 0, 512, &d), 0);
	KTAP_EXPECT_EQ(d.granularity, 512);
	KTAP_EXPECT_EQ(skf_discard_check(4096, 0, 512, &d), 0);
	KTAP_EXPECT_EQ(d.granularity, 4096);
	KTAP_EXPECT_EQ(skf_discard_check(512, 0, 4096, &d), 0);
	KTAP_EXPECT_EQ(d.granularity, 4096);
	KTAP_EXPECT_EQ(skf_discard_check(3000, 0, 512, &d), -EINVAL);
	KTAP_EXPECT_EQ(skf_discard_check(4096, 4096, 512, &d), -EINVAL);
	KTAP_EXPECT_EQ(skf_discard_check(4096, 100, 512, &d), -EINVAL);
	KTAP_EXPECT_EQ(skf_discard_check(1u << 31, 0, 512, &d), -EINVAL);
}

static void segment_layout(void)
{
	u8 f = 9, l = 9;

	KTAP_EXPECT_EQ(skf_nr_pages(512), 1);
	KTAP_EXPECT_EQ(skf_nr_pages(4096), 1);
	KTAP_EXPECT_EQ(skf_nr_pages(4608), 2);
	KTAP_EXPECT_EQ(skf_nr_pages(131072), 32);
	KTAP_EXPECT_EQ(skf_seg_sectors(4608, 0, &f, &l), 0);
	KTAP_EXPECT_EQ(f, 0);
	KTAP_EXPECT_EQ(l, 7);
	KTAP_EXPECT_EQ(skf_seg_sectors(4608, 1, &f, &l), 0);
	KTAP_EXPECT_EQ(l, 0);
	KTAP_EXPECT_EQ(skf_seg_sectors(4608, 2, &f, &l), -EINVAL);
	KTAP_EXPECT_EQ(skf_seg_sectors(0, 0, &f, &l), -EINVAL);
	KTAP_EXPECT_EQ(skf_seg_sectors(1000, 0, &f, &l), -EINVAL);
}

static void naming(void)
{
	static const struct {
		u32 vdevice;
		const char *name;
		u32 minor;
		u32 nr_minors;
	} cases[] = {
		{ 51712, "xvda", 0, 16 },		/* (202 << 8) | 0 */
		{ 51728, "xvdb", 16, 16 },
		{ 51713, "xvda1", 1, 1 },
		{ 51952, "xvdp", 240, 16 },		/* last short form */
		{ 768, "xvda", 0, 16 },			/* hda */
		{ 832, "xvdb", 16, 16 },		/* hdb */
		{ 5632, "xvdc", 32, 16 },		/* hdc */
		{ 2048, "xvda", 0, 16 },		/* sda */
		{ 2064, "xvdb", 16, 16 },		/* sdb */
		{ 16640, "xvdq", 256, 16 },		/* sdq (65:0) */
		{ (1u << 28) | (26u << 8), "xvdaa", 26 << 8, 256 },
		{ (1u << 28) | (701u << 8), "xvdzz", 701 << 8, 256 },
		{ (1u << 28) | (702u << 8), "xvdaaa", 702 << 8, 256 },
	};
	unsigned int i;

	for (i = 0; i < KTAP_ARRAY_SIZE(cases); i++) {
		struct skf_vdev v;
		char name[32];

		KTAP_ASSERT(skf_vdev_decode(cases[i].vdevice, &v) == 0);
		KTAP_ASSERT(skf_disk_name(&v, name, sizeof(name)) == 0);
		if (strcmp(name, cases[i].name))
			ktap_fail_at(__FILE__, __LINE__, "%u: %s, want %s",
				     cases[i].vdevice, name, cases[i].name);
		KTAP_EXPECT_EQ(v.minor, cases[i].minor);
		KTAP_EXPECT_EQ(v.nr_minors, cases[i].nr_minors);
	}
}

static void naming_refused(void)
{
	static const u32 bad[] = { 0, 1 << 8, 4 << 8, 0xffff,
				   2u << 28, 0xffffffffu, 0x10000 };
	struct skf_vdev v;
	char small[4];
	unsigned int i;

	for (i = 0; i < KTAP_ARRAY_SIZE(bad); i++)
		KTAP_EXPECT_EQ(skf_vdev_decode(bad[i], &v), -ENODEV);
	KTAP_ASSERT(skf_vdev_decode(51712, &v) == 0);
	KTAP_EXPECT_EQ(skf_disk_name(&v, small, sizeof(small)),
		       -ENAMETOOLONG);
}

static const struct ktap_case cases[] = {
	KTAP_CASE(honest_round_trip),
	KTAP_CASE(status_values),
	KTAP_CASE(hostile_ids),
	KTAP_CASE(duplicate_and_invented),
	KTAP_CASE(replay_after_reuse),
	KTAP_CASE(layout_check),
	KTAP_CASE(route_fewer_queues),
	KTAP_CASE(wrong_operation),
	KTAP_CASE(indirect_either_op),
	KTAP_CASE(issue_bounds),
	KTAP_CASE(guessed_id_before_commit),
	KTAP_CASE(geometry),
	KTAP_CASE(indirect_negotiation),
	KTAP_CASE(discard_params),
	KTAP_CASE(segment_layout),
	KTAP_CASE(naming),
	KTAP_CASE(naming_refused),
};

KTAP_MAIN(cases)
