// SPDX-License-Identifier: GPL-2.0
/*
 * Two-thread tests of ring/core/ring.c: a frontend thread and a backend
 * thread exchange requests and responses through one shared page, each
 * sleeping on an emulated event channel when its final check finds the ring
 * empty.  A lost wake-up (a notify suppressed by the hold-off while the
 * consumer went to sleep) shows up as a wait that times out.  Order and
 * content of every message are checked; indices start just below 2^32 so
 * they wrap during the run.
 *
 *   frontend thread                         backend thread
 *   put_req..push --notify?--> event[B] --> wait, get_req, put_rsp, push
 *   get_rsp, final_check <-- event[F] <--notify?--------------------'
 */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include <splitkit/ring_core.h>
#include "ktap.h"

#define NR_MSGS		300000u
#define START_IDX	0xfffff000u

struct msg { uint64_t seq; uint64_t check; };

/* An event channel: a pending flag plus a condition variable. */
struct evt {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int pending;
	unsigned long sent;
};

static struct evt ev_front = { PTHREAD_MUTEX_INITIALIZER,
			       PTHREAD_COND_INITIALIZER, 0, 0 };
static struct evt ev_back = { PTHREAD_MUTEX_INITIALIZER,
			      PTHREAD_COND_INITIALIZER, 0, 0 };

static void evt_notify(struct evt *e)
{
	pthread_mutex_lock(&e->lock);
	e->pending = 1;
	e->sent++;
	pthread_cond_signal(&e->cond);
	pthread_mutex_unlock(&e->lock);
}

/* Return: 0, or -ETIMEDOUT after two seconds without an event. */
static int evt_wait(struct evt *e)
{
	struct timespec ts;
	int rc = 0;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += 2;
	pthread_mutex_lock(&e->lock);
	while (!e->pending && rc == 0)
		rc = pthread_cond_timedwait(&e->cond, &e->lock, &ts);
	e->pending = 0;
	pthread_mutex_unlock(&e->lock);
	return rc ? -ETIMEDOUT : 0;
}

static union {
	struct sk_sring s;
	uint8_t bytes[SK_RING_PAGE_SIZE];
} page;

static struct sk_ring_desc desc;
static struct sk_front fr;
static struct sk_back bk;
static unsigned int batch;
static unsigned int coalesce;	/* 0: an event per answer */
static int front_err, back_err;

static uint64_t checksum(uint64_t seq)
{
	return seq * 0x9e3779b97f4a7c15ull ^ 0x5a5a5a5aull;
}

static void *backend(void *arg)
{
	uint64_t expect = 0;
	struct msg m;
	int n;

	while (expect < NR_MSGS) {
		n = sk_back_get_req(&bk, &m);
		if (n < 0) {
			back_err = n;
			break;
		}
		if (n == 0) {
			if (sk_back_push(&bk))
				evt_notify(&ev_front);
			n = sk_back_final_check(&bk);
			if (n < 0) {
				back_err = n;
				break;
			}
			if (n == 0 && evt_wait(&ev_back)) {
				back_err = -ETIMEDOUT;
				break;
			}
			continue;
		}
		if (m.seq != expect || m.check != checksum(m.seq)) {
			back_err = -EBADMSG;
			break;
		}
		expect++;
		m.check = ~m.check;
		if (sk_back_put_rsp(&bk, &m)) {
			back_err = -ENOSPC;
			break;
		}
		/* answer in batches: push when the request batch ends */
		if (bk.req_cons == bk.req_seen && sk_back_push(&bk))
			evt_notify(&ev_front);
	}
	if (sk_back_push(&bk))
		evt_notify(&ev_front);
	return NULL;
}

static void *frontend(void *arg)
{
	uint64_t sent = 0, got = 0;
	unsigned int k;
	struct msg m;
	int n;

	while (got < NR_MSGS) {
		for (k = 0; k < batch && sent < NR_MSGS &&
			    sk_front_free(&fr); k++) {
			m.seq = sent;
			m.check = checksum(sent);
			sk_front_put_req(&fr, &m);
			sent++;
		}
		if (sk_front_push(&fr))
			evt_notify(&ev_back);
		n = sk_front_get_rsp(&fr, &m);
		if (n < 0) {
			front_err = n;
			break;
		}
		if (n == 1) {
			if (m.seq != got || m.check != ~checksum(got)) {
				front_err = -EBADMSG;
				break;
			}
			got++;
			continue;
		}
		/* nothing to read: sleep only if we cannot send either */
		if (sk_front_free(&fr) && sent < NR_MSGS)
			continue;
		n = coalesce ? sk_front_final_check_batch(&fr, coalesce) :
			       sk_front_final_check(&fr);
		if (n < 0) {
			front_err = n;
			break;
		}
		if (n == 0 && evt_wait(&ev_front)) {
			front_err = -ETIMEDOUT;
			break;
		}
	}
	return NULL;
}

static void run(unsigned int b, unsigned int c)
{
	pthread_t tf, tb;

	batch = b;
	coalesce = c;
	front_err = back_err = 0;
	ev_front.pending = ev_back.pending = 0;
	ev_front.sent = ev_back.sent = 0;
	KTAP_ASSERT(sk_ring_desc_init_typed(&desc, struct msg, struct msg,
					    sizeof(page)) == 0);
	sk_front_init(&fr, &page.s, &desc);
	sk_back_init(&bk, &page.s, &desc);
	page.s.req_prod = page.s.rsp_prod = START_IDX;
	page.s.req_event = page.s.rsp_event = START_IDX + 1;
	fr.req_prod_pvt = fr.req_pushed = fr.rsp_cons = START_IDX;
	fr.rsp_seen = START_IDX;
	bk.rsp_prod_pvt = bk.rsp_pushed = bk.req_cons = START_IDX;
	bk.req_seen = START_IDX;

	pthread_create(&tb, NULL, backend, NULL);
	pthread_create(&tf, NULL, frontend, NULL);
	pthread_join(tf, NULL);
	pthread_join(tb, NULL);
	KTAP_EXPECT_EQ(front_err, 0);
	KTAP_EXPECT_EQ(back_err, 0);
	KTAP_EXPECT_EQ(fr.rsp_cons, (uint32_t)(START_IDX + NR_MSGS));
	printf("# batch %u, coalesce %u: %lu events to backend, %lu to frontend for %u messages\n",
	       b, c, ev_back.sent, ev_front.sent, NR_MSGS);
}

static void test_batch1(void)
{
	run(1, 0);
}

static void test_batch8(void)
{
	run(8, 0);
}

static void test_batch_full(void)
{
	run(1000, 0);
}

/*
 * Response events asked for 8 answers ahead (sk_front_final_check_batch()),
 * clamped to the requests in flight: the tail of the run, with fewer than
 * 8 left, must not wait for an event that never comes.
 */
static void test_coalesce8(void)
{
	run(8, 8);
}

static void test_coalesce_full(void)
{
	run(1000, 8);
}

static void test_coalesce_odd(void)
{
	run(3, 5);
}

static const struct ktap_case cases[] = {
	KTAP_CASE(test_batch1),
	KTAP_CASE(test_batch8),
	KTAP_CASE(test_batch_full),
	KTAP_CASE(test_coalesce8),
	KTAP_CASE(test_coalesce_full),
	KTAP_CASE(test_coalesce_odd),
};

KTAP_MAIN(cases)
