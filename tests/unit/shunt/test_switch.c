// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests of splitkit_shunt's switch core (shunt/core/switch.c): a
 * model of the kernel side drives it the way the module will - bios
 * submitted and completed on two paths, switches asked for, the PV path
 * breaking and coming back, the switch's flush of the emulated disk
 * succeeding or failing, the emulated disk unplugged for good - and checks the rules of Documentation/shunt.rst
 * at every step: a bio goes to a path only while nothing is in flight on
 * the other one; no bio goes to the PV path unless a flush of the
 * emulated disk completed after the emulated path's last completion;
 * held bios leave in submission order; none goes to an unplugged
 * emulated disk (a failing PV path holds them); every bio completes to its
 * submitter exactly once, none is lost.  Directed cases first, then
 * seeded random runs.
 */
#include <stdio.h>
#include <stdlib.h>

#include "ktap.h"
#include "shunt_core.h"

#define MAX_BIOS	4096

/* One bio of the model. */
struct mbio {
	struct sks_bio core;	/* first: container_of by cast */
	int where;		/* -1 not yet, 0/1 in flight on a path, 2 held */
	int completed;		/* times completed to its submitter */
};

/* The model of the kernel side around one struct sks_shunt. */
struct model {
	struct sks_shunt s;
	struct mbio bios[MAX_BIOS];
	unsigned int nr;
	u64 now;
	bool pv_down;		/* the PV disk fails every bio */
	bool emul_gone;		/* the emulated disk was unplugged */
	bool flush_out;		/* the switch's flush is in flight */
	u64 events;
	u64 last_emul_done;	/* event of the last emulated completion */
	u64 last_flush_ok;	/* event of the last good flush completion */
	u64 last_release_seq;	/* in the current release batch */
	unsigned int violations;
	unsigned int seed;
};

static unsigned int rnd(struct model *m, unsigned int n)
{
	m->seed = m->seed * 1103515245U + 12345U;
	return (m->seed >> 8) % n;
}

static void violation(struct model *m, const char *what, u64 seq)
{
	if (m->violations++ < 5)
		printf("# violation: %s (bio %llu, event %llu)\n", what,
		       (unsigned long long)seq, (unsigned long long)m->events);
}

/* A bio goes down @p: the rules that must hold at that moment. */
static void dispatched(struct model *m, struct mbio *b, enum sks_path p)
{
	enum sks_path other = p == SKS_EMUL ? SKS_PV : SKS_EMUL;
	unsigned int i;

	for (i = 0; i < m->nr; i++)
		if (m->bios[i].where == (int)other) {
			violation(m, "dispatched while the other path has bios in flight",
				  b->core.seq);
			break;
		}
	if (p == SKS_EMUL && m->emul_gone)
		violation(m, "dispatched to the unplugged emulated disk",
			  b->core.seq);
	if (p == SKS_PV && m->last_flush_ok <= m->last_emul_done &&
	    m->last_emul_done)
		violation(m, "PV dispatch without a flush after the last emulated completion",
			  b->core.seq);
	b->where = p;
}

static void do_actions(struct model *m);

static void release(struct model *m)
{
	struct sks_bio *cb;
	enum sks_path p;
	u64 last = 0;

	while ((cb = sks_next_held(&m->s, &p))) {
		struct mbio *b = (struct mbio *)cb;

		if (b->where != 2)
			violation(m, "released a bio that was not held", cb->seq);
		if (cb->seq <= last)
			violation(m, "held bios released out of order", cb->seq);
		last = cb->seq;
		dispatched(m, b, p);
	}
}

/*
 * The clock sks_progress() is given: the module reads none on a settled
 * path (sks_switching() false), so the model gives a wrong one there; a
 * held time computed from it would show.
 */
static u64 progress_now(const struct model *m)
{
	return sks_switching(&m->s) ? m->now : 0xdead0000ULL;
}

static void do_actions(struct model *m)
{
	for (;;) {
		switch (sks_progress(&m->s, progress_now(m))) {
		case SKS_ACT_NONE:
			if (m->s.last_held_ns > m->now)
				violation(m, "a held time from a clock not read while switching",
					  0);
			return;
		case SKS_ACT_FLUSH_EMUL:
			if (m->flush_out)
				violation(m, "a second flush while one is out", 0);
			m->flush_out = true;
			return;
		case SKS_ACT_RELEASE:
			release(m);
			break;
		}
	}
}

static struct mbio *submit(struct model *m)
{
	struct mbio *b;

	if (m->nr == MAX_BIOS)
		return NULL;
	b = &m->bios[m->nr++];
	b->where = -1;
	switch (sks_submit(&m->s, &b->core)) {
	case SKS_ROUTE_EMUL:
		dispatched(m, b, SKS_EMUL);
		break;
	case SKS_ROUTE_PV:
		dispatched(m, b, SKS_PV);
		break;
	case SKS_ROUTE_HELD:
		b->where = 2;
		break;
	}
	do_actions(m);
	return b;
}

/* Complete in-flight bio @b: a PV bio fails while the PV disk is down. */
static void complete(struct model *m, struct mbio *b)
{
	bool failed = b->where == SKS_PV && m->pv_down;
	int was = b->where;

	if (was == SKS_EMUL)
		m->last_emul_done = ++m->events;
	if (sks_complete(&m->s, &b->core, failed) == SKS_DONE_COMPLETE) {
		if (failed)
			violation(m, "a bio failed by a broken PV path reached its submitter",
				  b->core.seq);
		b->completed++;
		b->where = 3;
	} else {
		if (!failed)
			violation(m, "a good completion was requeued", b->core.seq);
		b->where = 2;
	}
	do_actions(m);
}

static void flush_done(struct model *m, bool ok)
{
	m->flush_out = false;
	if (ok)
		m->last_flush_ok = ++m->events;
	sks_flush_done(&m->s, ok, m->now);
	do_actions(m);
}

static void break_pv(struct model *m)
{
	m->pv_down = true;
	sks_pv_broken(&m->s, m->now);
	do_actions(m);
}

/* The emulated disk is unplugged: allowed only when settled on PV. */
static int unplug(struct model *m)
{
	int err = sks_emul_gone(&m->s);

	if (!err)
		m->emul_gone = true;
	return err;
}

/* The PV disk is back and the module asks for it again. */
static void repair_pv(struct model *m)
{
	m->pv_down = false;
	sks_pv_repaired(&m->s);
	sks_request(&m->s, SKS_PV, m->now);
	do_actions(m);
}

static void model_init(struct model *m, unsigned int seed)
{
	memset(m, 0, sizeof(*m));
	sks_init(&m->s);
	m->seed = seed;
	m->events = 1;
}

/* Complete everything in flight, answer the flush, until nothing moves. */
static void settle(struct model *m)
{
	bool moved = true;
	unsigned int i;

	while (moved) {
		moved = false;
		for (i = 0; i < m->nr; i++)
			if (m->bios[i].where == SKS_EMUL ||
			    m->bios[i].where == SKS_PV) {
				complete(m, &m->bios[i]);
				moved = true;
			}
		if (m->flush_out) {
			flush_done(m, true);
			moved = true;
		}
	}
}

static unsigned int count_where(const struct model *m, int where)
{
	unsigned int i, n = 0;

	for (i = 0; i < m->nr; i++)
		n += m->bios[i].where == where;
	return n;
}

static bool all_completed_once(const struct model *m)
{
	unsigned int i;

	for (i = 0; i < m->nr; i++)
		if (m->bios[i].completed != 1)
			return false;
	return true;
}

/* ---- directed cases ----------------------------------------------------- */

static void test_switch_waits_drain_and_flush(void)
{
	static struct model m;
	struct mbio *a, *b, *c;

	model_init(&m, 1);
	a = submit(&m);
	b = submit(&m);
	KTAP_EXPECT_EQ(a->where, SKS_EMUL);
	m.now = 1000;
	KTAP_EXPECT_EQ(sks_request(&m.s, SKS_PV, m.now), 0);
	do_actions(&m);
	c = submit(&m);
	KTAP_EXPECT_EQ(c->where, 2);		/* held */
	KTAP_EXPECT(!m.flush_out);		/* a, b still in flight */
	complete(&m, a);
	KTAP_EXPECT(!m.flush_out);
	complete(&m, b);
	KTAP_EXPECT(m.flush_out);		/* drained: flush asked */
	KTAP_EXPECT_EQ(c->where, 2);
	m.now = 5000;
	flush_done(&m, true);
	KTAP_EXPECT_EQ(c->where, SKS_PV);	/* released on PV */
	KTAP_EXPECT_EQ(m.s.state, SKS_ON_PV);
	KTAP_EXPECT_EQ(m.s.last_held_ns, 4000);
	KTAP_EXPECT_EQ(m.s.switches[SKS_PV], 1);
	KTAP_EXPECT_EQ(submit(&m)->where, SKS_PV);
	KTAP_EXPECT_EQ(sks_request(&m.s, SKS_PV, m.now), -EALREADY);
	settle(&m);
	KTAP_EXPECT(all_completed_once(&m));
	KTAP_EXPECT_EQ(m.violations, 0);
}

static void test_flush_failure_stays_emulated(void)
{
	static struct model m;
	struct mbio *a, *b;

	model_init(&m, 2);
	a = submit(&m);
	KTAP_EXPECT_EQ(sks_request(&m.s, SKS_PV, 0), 0);
	do_actions(&m);
	b = submit(&m);
	complete(&m, a);
	KTAP_EXPECT(m.flush_out);
	flush_done(&m, false);
	KTAP_EXPECT_EQ(m.s.state, SKS_ON_EMUL);
	KTAP_EXPECT_EQ(b->where, SKS_EMUL);	/* back where it was */
	KTAP_EXPECT_EQ(m.s.flush_errors, 1);
	settle(&m);
	KTAP_EXPECT(all_completed_once(&m));
	KTAP_EXPECT_EQ(m.violations, 0);
}

static void test_broken_pv_requeues_in_order(void)
{
	static struct model m;
	struct mbio *p[4], *n;
	unsigned int i;

	model_init(&m, 3);
	KTAP_EXPECT_EQ(sks_request(&m.s, SKS_PV, 0), 0);
	do_actions(&m);
	flush_done(&m, true);
	KTAP_ASSERT(m.s.state == SKS_ON_PV);
	for (i = 0; i < 4; i++)
		p[i] = submit(&m);
	break_pv(&m);
	KTAP_EXPECT_EQ(m.s.state, SKS_TO_EMUL);
	KTAP_EXPECT_EQ(sks_request(&m.s, SKS_PV, 0), -EIO);
	n = submit(&m);				/* held behind them */
	KTAP_EXPECT_EQ(n->where, 2);
	complete(&m, p[2]);			/* fail, requeued */
	complete(&m, p[0]);
	complete(&m, p[3]);
	KTAP_EXPECT_EQ(count_where(&m, 2), 4);
	complete(&m, p[1]);			/* PV drained: all released */
	KTAP_EXPECT_EQ(m.s.state, SKS_ON_EMUL);
	for (i = 0; i < 4; i++)
		KTAP_EXPECT_EQ(p[i]->where, SKS_EMUL);
	KTAP_EXPECT_EQ(n->where, SKS_EMUL);
	KTAP_EXPECT_EQ(m.s.requeued, 4);
	settle(&m);
	KTAP_EXPECT(all_completed_once(&m));
	m.pv_down = false;
	sks_pv_repaired(&m.s);
	KTAP_EXPECT_EQ(sks_request(&m.s, SKS_PV, 0), 0);
	do_actions(&m);
	KTAP_EXPECT(m.flush_out);		/* a new flush for the way back */
	settle(&m);
	KTAP_EXPECT_EQ(m.s.state, SKS_ON_PV);
	KTAP_EXPECT_EQ(m.violations, 0);
}

static void test_reverse_a_switch_under_way(void)
{
	static struct model m;
	struct mbio *a, *b;

	model_init(&m, 4);
	a = submit(&m);
	KTAP_EXPECT_EQ(sks_request(&m.s, SKS_PV, 0), 0);
	b = submit(&m);
	KTAP_EXPECT_EQ(sks_request(&m.s, SKS_EMUL, 0), 0);
	do_actions(&m);
	KTAP_EXPECT_EQ(b->where, 2);
	complete(&m, a);
	KTAP_EXPECT(!m.flush_out);		/* no flush for going back */
	KTAP_EXPECT_EQ(b->where, SKS_EMUL);
	settle(&m);
	KTAP_EXPECT(all_completed_once(&m));
	KTAP_EXPECT_EQ(m.violations, 0);
}

static void test_unplugged_holds_until_repair(void)
{
	static struct model m;
	struct mbio *a, *p[3], *n;
	unsigned int i;

	model_init(&m, 5);
	a = submit(&m);
	KTAP_EXPECT_EQ(sks_request(&m.s, SKS_PV, 0), 0);
	do_actions(&m);
	KTAP_EXPECT_EQ(unplug(&m), -EBUSY);	/* not on PV yet */
	complete(&m, a);
	flush_done(&m, true);
	KTAP_ASSERT(m.s.state == SKS_ON_PV);
	KTAP_EXPECT_EQ(unplug(&m), 0);
	KTAP_EXPECT_EQ(unplug(&m), -EALREADY);
	KTAP_EXPECT_EQ(sks_request(&m.s, SKS_EMUL, 0), -ENODEV);
	for (i = 0; i < 3; i++)
		p[i] = submit(&m);
	m.now = 100;
	break_pv(&m);
	KTAP_EXPECT_EQ(m.s.state, SKS_TO_PV);	/* no way back: waits */
	complete(&m, p[1]);			/* fail, held */
	complete(&m, p[0]);
	complete(&m, p[2]);
	n = submit(&m);
	KTAP_EXPECT_EQ(count_where(&m, 2), 4);
	KTAP_EXPECT(!m.flush_out);		/* no emulated disk to flush */
	KTAP_EXPECT_EQ(m.s.state, SKS_TO_PV);	/* still waiting */
	m.now = 700;
	repair_pv(&m);
	KTAP_EXPECT_EQ(m.s.state, SKS_ON_PV);
	for (i = 0; i < 3; i++)
		KTAP_EXPECT_EQ(p[i]->where, SKS_PV);
	KTAP_EXPECT_EQ(n->where, SKS_PV);
	KTAP_EXPECT_EQ(m.s.last_held_ns, 600);
	KTAP_EXPECT(!m.flush_out);
	settle(&m);
	KTAP_EXPECT(all_completed_once(&m));
	KTAP_EXPECT_EQ(m.violations, 0);
}

/* ---- random runs ------------------------------------------------------- */

/* random runs in which the emulated disk was unplugged */
static unsigned int runs_unplugged;

static void random_run(unsigned int seed, unsigned int steps)
{
	static struct model m;
	unsigned int i, k;

	model_init(&m, seed);
	for (i = 0; i < steps; i++) {
		m.now += 1 + rnd(&m, 100);
		k = rnd(&m, 100);
		if (k < 40) {
			if (!submit(&m))
				break;
		} else if (k < 75) {
			unsigned int j, start = rnd(&m, m.nr ? m.nr : 1);

			for (j = 0; j < m.nr; j++) {
				struct mbio *b = &m.bios[(start + j) % m.nr];

				if (b->where == SKS_EMUL || b->where == SKS_PV) {
					complete(&m, b);
					break;
				}
			}
		} else if (k < 83) {
			if (m.flush_out)
				flush_done(&m, rnd(&m, 10) != 0);
		} else if (k < 91) {
			sks_request(&m.s, rnd(&m, 2) ? SKS_PV : SKS_EMUL,
				    m.now);
			do_actions(&m);
		} else if (k < 95) {
			if (!m.pv_down)
				break_pv(&m);
		} else if (k < 96 && seed % 3 == 0) {
			unplug(&m);	/* refused unless settled on PV */
		} else if (m.pv_down) {
			if (m.emul_gone) {
				repair_pv(&m);
				continue;
			}
			m.pv_down = false;
			sks_pv_repaired(&m.s);
			do_actions(&m);
		}
	}
	/* the PV disk comes back; everything drains */
	if (m.emul_gone) {
		runs_unplugged++;
		repair_pv(&m);
	}
	m.pv_down = false;
	settle(&m);
	if (!all_completed_once(&m) || count_where(&m, 2) || m.violations) {
		printf("# seed %u: %u bios, %u held at the end, %u violations, state %d\n",
		       seed, m.nr, count_where(&m, 2), m.violations,
		       m.s.state);
		KTAP_EXPECT(false);
	}
}

static void test_random_runs(void)
{
	unsigned int seed;

	for (seed = 1; seed <= 300; seed++)
		random_run(seed, 3000);
	/* the unplugged case was reached, not only tried */
	KTAP_EXPECT(runs_unplugged >= 10);
}

static const struct ktap_case cases[] = {
	KTAP_CASE(test_switch_waits_drain_and_flush),
	KTAP_CASE(test_flush_failure_stays_emulated),
	KTAP_CASE(test_broken_pv_requeues_in_order),
	KTAP_CASE(test_reverse_a_switch_under_way),
	KTAP_CASE(test_unplugged_holds_until_repair),
	KTAP_CASE(test_random_runs),
};

KTAP_MAIN(cases);
