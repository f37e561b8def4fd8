// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests of ring/core/ring.c: ring shape, full/empty, index wrap-around,
 * the hold-off (event index) decisions and malicious peer indices.  The
 * shared page is plain memory here; both ends run in one thread.
 */
#include <stdint.h>
#include <stdlib.h>

#include <splitkit/ring_core.h>
#include "ktap.h"

struct req { uint64_t id; uint32_t val; uint32_t pad; };
struct rsp { uint64_t id; int32_t status; };
struct odd12 { uint32_t a, b, c; };

static union {
	struct sk_sring s;
	uint8_t bytes[SK_RING_PAGE_SIZE];
} page;

static struct sk_ring_desc desc;
static struct sk_front fr;
static struct sk_back bk;

static void setup(uint32_t start)
{
	KTAP_EXPECT_EQ(sk_ring_desc_init_typed(&desc, struct req, struct rsp,
					       sizeof(page)), 0);
	sk_front_init(&fr, &page.s, &desc);
	sk_back_init(&bk, &page.s, &desc);
	/* start every index at @start to exercise wrap-around */
	page.s.req_prod = page.s.rsp_prod = start;
	page.s.req_event = page.s.rsp_event = start + 1;
	fr.req_prod_pvt = fr.req_pushed = fr.rsp_cons = fr.rsp_seen = start;
	bk.rsp_prod_pvt = bk.rsp_pushed = bk.req_cons = bk.req_seen = start;
}

static void test_layout(void)
{
	struct sk_ring_desc d;

	KTAP_EXPECT_EQ(offsetof(struct sk_sring, req_prod), 0);
	KTAP_EXPECT_EQ(offsetof(struct sk_sring, req_event), 4);
	KTAP_EXPECT_EQ(offsetof(struct sk_sring, rsp_prod), 8);
	KTAP_EXPECT_EQ(offsetof(struct sk_sring, rsp_event), 12);
	KTAP_EXPECT_EQ(offsetof(struct sk_sring, ring), 64);
	/* blkif: 112-byte union on one page gives 32 entries */
	KTAP_EXPECT_EQ(sk_ring_desc_init(&d, 112, 12, 112, 4096), 0);
	KTAP_EXPECT_EQ(d.nr_ents, 32);
	KTAP_EXPECT_EQ(sk_ring_desc_init(&d, 112, 12, 112, 4096 << 4), 0);
	KTAP_EXPECT_EQ(d.nr_ents, 512);
	/* (4096-64)/24 = 168 rounds down to 128 */
	KTAP_EXPECT_EQ(sk_ring_desc_init(&d, 24, 16, 24, 4096), 0);
	KTAP_EXPECT_EQ(d.nr_ents, 128);
	KTAP_EXPECT_EQ(d.mask, 127);
	KTAP_EXPECT_EQ(SK_RING_ENT_SIZE(struct req, struct rsp), 16);
	/* the union rounds up to the stricter alignment, as ring.h's does */
	KTAP_EXPECT_EQ(SK_RING_ENT_SIZE(struct odd12, uint64_t), 16);
	KTAP_EXPECT_EQ(sk_ring_desc_init(&d, 0, 8, 8, 4096), -EINVAL);
	KTAP_EXPECT_EQ(sk_ring_desc_init(&d, 16, 8, 8, 4096), -EINVAL);
	KTAP_EXPECT_EQ(sk_ring_desc_init(&d, 8, 8, 8, 64), -EINVAL);
	KTAP_EXPECT_EQ(sk_ring_desc_init(&d, 8, 8, 8, 4096u << 10), -EINVAL);
}

static void fill_and_drain(uint32_t start)
{
	struct req q;
	struct rsp r;
	uint32_t i, n;

	setup(start);
	n = desc.nr_ents;
	KTAP_EXPECT_EQ(sk_front_free(&fr), n);
	KTAP_EXPECT_EQ(sk_back_poll_req(&bk), 0);
	for (i = 0; i < n; i++) {
		q.id = i;
		q.val = i * 3;
		KTAP_ASSERT(sk_front_put_req(&fr, &q) == 0);
	}
	KTAP_EXPECT_EQ(sk_front_free(&fr), 0);
	KTAP_EXPECT_EQ(sk_front_put_req(&fr, &q), -ENOSPC);
	KTAP_EXPECT(sk_front_next_req(&fr) == NULL);
	/* nothing visible before the push */
	KTAP_EXPECT_EQ(sk_back_poll_req(&bk), 0);
	KTAP_EXPECT(sk_front_push(&fr));	/* req_event was start+1 */
	KTAP_EXPECT_EQ(sk_back_poll_req(&bk), n);
	/* no response slot before a request is consumed */
	KTAP_EXPECT(sk_back_next_rsp(&bk) == NULL);
	for (i = 0; i < n; i++) {
		KTAP_ASSERT(sk_back_get_req(&bk, &q) == 1);
		KTAP_EXPECT_EQ(q.id, i);
		KTAP_EXPECT_EQ(q.val, i * 3);
		r.id = q.id;
		r.status = (int32_t)i;
		KTAP_ASSERT(sk_back_put_rsp(&bk, &r) == 0);
	}
	KTAP_EXPECT_EQ(sk_back_get_req(&bk, &q), 0);
	KTAP_EXPECT_EQ(sk_back_put_rsp(&bk, &r), -ENOSPC);
	KTAP_EXPECT(sk_back_push(&bk));
	KTAP_EXPECT_EQ(sk_front_inflight(&fr), n);
	for (i = 0; i < n; i++) {
		KTAP_ASSERT(sk_front_get_rsp(&fr, &r) == 1);
		KTAP_EXPECT_EQ(r.id, i);
		KTAP_EXPECT_EQ(r.status, (int32_t)i);
	}
	KTAP_EXPECT_EQ(sk_front_get_rsp(&fr, &r), 0);
	KTAP_EXPECT_EQ(sk_front_free(&fr), n);
	KTAP_EXPECT_EQ(sk_front_inflight(&fr), 0);
	KTAP_EXPECT(!fr.broken && !bk.broken);
}

static void test_full_empty(void)
{
	fill_and_drain(0);
}

static void test_wraparound(void)
{
	static const uint32_t starts[] = {
		0xffffffffu, 0xfffffff0u, 0x80000000u - 5, 0x7fffffffu,
	};
	size_t i;
	int round;

	for (i = 0; i < KTAP_ARRAY_SIZE(starts); i++)
		for (round = 0; round < 3; round++)
			fill_and_drain(starts[i] - round * 7);
}

static void test_zero_copy_slots(void)
{
	struct req *q;
	struct rsp *r, out;

	setup(0xfffffffeu);
	q = sk_front_next_req(&fr);
	KTAP_ASSERT(q);
	q->id = 77;
	sk_front_push(&fr);
	KTAP_EXPECT_EQ(sk_back_poll_req(&bk), 1);
	KTAP_ASSERT(sk_back_get_req(&bk, &(struct req){0}) == 1);
	r = sk_back_next_rsp(&bk);
	KTAP_ASSERT(r);
	r->id = 78;
	sk_back_push(&bk);
	KTAP_ASSERT(sk_front_get_rsp(&fr, &out) == 1);
	KTAP_EXPECT_EQ(out.id, 78);
}

/* The sk_need_notify() truth table, including wrapped indices. */
static void test_need_notify(void)
{
	static const struct { uint32_t old, new, ev; bool want; } v[] = {
		{ 0, 1, 1, true },
		{ 0, 5, 1, true },
		{ 0, 5, 5, true },
		{ 0, 5, 6, false },	/* consumer wants a later one */
		{ 5, 9, 5, false },	/* event already passed */
		{ 5, 9, 6, true },
		{ 0xfffffffe, 2, 0xffffffff, true },
		{ 0xfffffffe, 2, 0, true },
		{ 0xfffffffe, 2, 3, false },
		{ 0xfffffffe, 2, 0xfffffffe, false },
		{ 7, 7, 8, false },	/* nothing pushed */
	};
	size_t i;

	for (i = 0; i < KTAP_ARRAY_SIZE(v); i++)
		KTAP_EXPECT_EQ(sk_need_notify(v[i].old, v[i].new, v[i].ev),
			       v[i].want);
}

/*
 * Hold-off: a consumer that has not re-armed is not notified again, one
 * that re-armed is notified exactly once per batch.
 */
static void test_holdoff(void)
{
	struct req q = { 0 };
	int i;

	setup(0);
	KTAP_EXPECT(sk_front_put_req(&fr, &q) == 0);
	KTAP_EXPECT(sk_front_push(&fr));		/* armed at 1 */
	for (i = 0; i < 5; i++) {			/* not re-armed */
		KTAP_EXPECT(sk_front_put_req(&fr, &q) == 0);
		KTAP_EXPECT(!sk_front_push(&fr));
	}
	KTAP_EXPECT(!sk_front_push(&fr));		/* empty push */
	while (sk_back_get_req(&bk, &q) == 1)
		sk_back_put_rsp(&bk, &(struct rsp){0});
	KTAP_EXPECT_EQ(sk_back_final_check(&bk), 0);	/* re-armed at 7 */
	KTAP_EXPECT_EQ(page.s.req_event, 7);
	for (i = 0; i < 3; i++)
		KTAP_EXPECT(sk_front_put_req(&fr, &q) == 0);
	KTAP_EXPECT(sk_front_push(&fr));		/* one event, 3 reqs */
	KTAP_EXPECT_EQ(sk_back_final_check(&bk), 3);	/* work: no re-arm */
	KTAP_EXPECT_EQ(page.s.req_event, 7);
	/* responses: the frontend arms rsp_event itself */
	KTAP_EXPECT(sk_back_push(&bk));			/* rsp_event 1 */
	while (sk_front_get_rsp(&fr, &(struct rsp){0}) == 1)
		;
	KTAP_EXPECT_EQ(sk_front_final_check(&fr), 0);
	KTAP_EXPECT_EQ(page.s.rsp_event, 7);
}

/*
 * Coalesced response events: armed some answers ahead, the backend's push
 * notifies once, at that answer; never further ahead than the requests in
 * flight, or the last answers would wait for an event that never comes.
 */
static void test_coalesce(void)
{
	struct req q = { 0 };
	int i;

	setup(0xfffffffa);				/* wraps below */
	for (i = 0; i < 10; i++)
		KTAP_EXPECT(sk_front_put_req(&fr, &q) == 0);
	sk_front_push(&fr);
	while (sk_back_get_req(&bk, &q) == 1)
		;
	KTAP_EXPECT_EQ(sk_front_inflight(&fr), 10);
	KTAP_EXPECT_EQ(sk_back_owed(&bk), 10);
	KTAP_EXPECT_EQ(sk_front_final_check_batch(&fr, 4), 0);
	for (i = 1; i <= 4; i++) {			/* event at the 4th */
		sk_back_put_rsp(&bk, &(struct rsp){0});
		KTAP_EXPECT_EQ(sk_back_push(&bk), i == 4);
	}
	while (sk_front_get_rsp(&fr, &(struct rsp){0}) == 1)
		;
	KTAP_EXPECT_EQ(sk_front_inflight(&fr), 6);
	/* 100 asked, 6 in flight: armed at the last one */
	KTAP_EXPECT_EQ(sk_front_final_check_batch(&fr, 100), 0);
	KTAP_EXPECT_EQ(page.s.rsp_event, (uint32_t)(0xfffffffa + 10));
	for (i = 1; i <= 6; i++) {
		sk_back_put_rsp(&bk, &(struct rsp){0});
		KTAP_EXPECT_EQ(sk_back_push(&bk), i == 6);
	}
	while (sk_front_get_rsp(&fr, &(struct rsp){0}) == 1)
		;
	/* nothing in flight, or 0 asked: the next answer, as ever */
	KTAP_EXPECT_EQ(sk_front_final_check_batch(&fr, 8), 0);
	KTAP_EXPECT_EQ(page.s.rsp_event, (uint32_t)(0xfffffffa + 11));
	KTAP_EXPECT(sk_front_put_req(&fr, &q) == 0);
	sk_front_push(&fr);
	KTAP_EXPECT_EQ(sk_front_final_check_batch(&fr, 0), 0);
	KTAP_EXPECT_EQ(page.s.rsp_event, (uint32_t)(0xfffffffa + 11));
	/* an answer already there is reported, whatever the batch */
	KTAP_EXPECT_EQ(sk_back_get_req(&bk, &q), 1);
	sk_back_put_rsp(&bk, &(struct rsp){0});
	KTAP_EXPECT(sk_back_push(&bk));
	KTAP_EXPECT_EQ(sk_front_final_check_batch(&fr, 8), 1);
}

/* Indices a malicious or buggy peer may write, and what must happen. */
static void test_malicious_req_prod(void)
{
	static const uint32_t bad[] = {
		33, 0x1000, 0x80000000u, 0xffffffffu, 0xffffff00u,
	};
	struct req q;
	size_t i;

	for (i = 0; i < KTAP_ARRAY_SIZE(bad); i++) {
		setup(0);
		if (desc.nr_ents >= bad[i])
			continue;
		page.s.req_prod = bad[i];
		KTAP_EXPECT_EQ(sk_back_poll_req(&bk), -EIO);
		KTAP_EXPECT(bk.broken);
		/* sticky: even a sane value afterwards is refused */
		page.s.req_prod = 1;
		KTAP_EXPECT_EQ(sk_back_get_req(&bk, &q), -EIO);
		KTAP_EXPECT(sk_back_next_rsp(&bk) == NULL);
		KTAP_EXPECT(!sk_back_push(&bk));
	}
	/* a full ring is fine; one more request is not */
	setup(100);
	page.s.req_prod = 100 + desc.nr_ents;
	KTAP_EXPECT_EQ(sk_back_poll_req(&bk), (int)desc.nr_ents);
	page.s.req_prod = 101 + desc.nr_ents;
	KTAP_EXPECT_EQ(sk_back_poll_req(&bk), -EIO);
	/* req_prod moving backwards after requests were consumed */
	setup(100);
	page.s.req_prod = 110;
	KTAP_EXPECT_EQ(sk_back_poll_req(&bk), 10);
	while (sk_back_get_req(&bk, &q) == 1)
		;
	page.s.req_prod = 105;
	KTAP_EXPECT_EQ(sk_back_poll_req(&bk), -EIO);
	/* requests that have a response do not count against the limit */
	setup(0);
	page.s.req_prod = 4;
	while (sk_back_get_req(&bk, &q) == 1)
		sk_back_put_rsp(&bk, &(struct rsp){0});
	page.s.req_prod = 4 + desc.nr_ents;
	KTAP_EXPECT_EQ(sk_back_poll_req(&bk), (int)desc.nr_ents);
}

static void test_malicious_rsp_prod(void)
{
	struct req q = { 0 };
	struct rsp r;
	int i;

	setup(0);
	/* responses with no request in flight */
	page.s.rsp_prod = 1;
	KTAP_EXPECT_EQ(sk_front_get_rsp(&fr, &r), -EIO);
	KTAP_EXPECT(fr.broken);
	KTAP_EXPECT_EQ(sk_front_free(&fr), 0);
	KTAP_EXPECT_EQ(sk_front_put_req(&fr, &q), -EIO);
	KTAP_EXPECT(!sk_front_push(&fr));

	/* more responses than requests pushed (written is not enough) */
	setup(0xfffffff0u);
	for (i = 0; i < 4; i++)
		sk_front_put_req(&fr, &q);
	sk_front_push(&fr);
	sk_front_put_req(&fr, &q);			/* not pushed */
	page.s.rsp_prod = 0xfffffff0u + 4;
	KTAP_EXPECT_EQ(sk_front_poll_rsp(&fr), 4);
	page.s.rsp_prod = 0xfffffff0u + 5;
	KTAP_EXPECT_EQ(sk_front_poll_rsp(&fr), -EIO);

	/* backwards */
	setup(50);
	for (i = 0; i < 4; i++)
		sk_front_put_req(&fr, &q);
	sk_front_push(&fr);
	page.s.rsp_prod = 52;
	KTAP_EXPECT_EQ(sk_front_get_rsp(&fr, &r), 1);
	KTAP_EXPECT_EQ(sk_front_get_rsp(&fr, &r), 1);
	page.s.rsp_prod = 51;
	KTAP_EXPECT_EQ(sk_front_get_rsp(&fr, &r), -EIO);
}

/*
 * The shared index is read once per poll: changing it between polls does
 * not alter what the previous poll validated.
 */
static void test_read_once(void)
{
	struct req q = { 0 };
	int i;

	setup(0);
	for (i = 0; i < 8; i++)
		sk_front_put_req(&fr, &q);
	sk_front_push(&fr);
	KTAP_EXPECT_EQ(sk_back_poll_req(&bk), 8);
	page.s.req_prod = 0xdead;		/* garbage after validation */
	for (i = 0; i < 8; i++)
		KTAP_EXPECT_EQ(sk_back_get_req(&bk, &q), 1);
	KTAP_EXPECT_EQ(sk_back_get_req(&bk, &q), -EIO);
}

static const struct ktap_case cases[] = {
	KTAP_CASE(test_layout),
	KTAP_CASE(test_full_empty),
	KTAP_CASE(test_wraparound),
	KTAP_CASE(test_zero_copy_slots),
	KTAP_CASE(test_need_notify),
	KTAP_CASE(test_holdoff),
	KTAP_CASE(test_coalesce),
	KTAP_CASE(test_malicious_req_prod),
	KTAP_CASE(test_malicious_rsp_prod),
	KTAP_CASE(test_read_once),
};

KTAP_MAIN(cases)
