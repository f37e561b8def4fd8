// SPDX-License-Identifier: GPL-2.0
/*
 * bench-ring: messages per second through splitkit's ring core versus the
 * same traffic through the plain Xen io/ring.h macros (the kernel headers'
 * copy) used the naive way, with a notification after every push.
 *
 *   frontend thread (CPU 0)                    backend thread (CPU 1)
 *   requests --> one shared 4 KiB ring page --> echo as responses
 *            <-- eventfd per direction (the "event channel") -->
 *
 * An event is an eventfd write (a system call, like the hypercall) that
 * wakes a thread blocked in read (like an interrupt plus a context switch).
 * The baseline notifies after every push and sleeps whenever its ring is
 * empty.  splitkit notifies only when the peer's event index asks for it
 * and, when its ring runs dry, polls for an adaptive window before
 * re-arming and sleeping.  Both check the order and content of every
 * request and response.  Batch b means the frontend pushes after every b
 * requests.  Output: msgs/s and events per message for both, and the ratio.
 *
 * Usage: bench_ring [-n messages] [-p max_poll_ns] [-r repeats]
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include <splitkit/ring_core.h>

/* What io/ring.h wants from its includer, for two CPUs sharing memory. */
#define virt_mb()	__atomic_thread_fence(__ATOMIC_SEQ_CST)
#define virt_rmb()	__atomic_thread_fence(__ATOMIC_ACQUIRE)
#define virt_wmb()	__atomic_thread_fence(__ATOMIC_RELEASE)
#include XEN_RING_H

struct bench_req {
	uint64_t seq;
	uint64_t data[6];
	uint64_t check;
};

struct bench_rsp {
	uint64_t seq;
	uint64_t check;
};

DEFINE_RING_TYPES(bench, struct bench_req, struct bench_rsp);

#define PAGE	4096

static union {
	struct bench_sring plain;
	struct sk_sring sk;
	uint8_t bytes[PAGE];
} __attribute__((aligned(PAGE))) shared;

struct evt {
	int fd;
	unsigned long sent;
};

static struct evt to_back, to_front;
static uint64_t nr_msgs = 500000;
static uint32_t max_poll_ns = 50000;
static unsigned int batch;
static volatile int failed;

/* splitkit state (one per side) */
static struct sk_ring_desc desc;
static struct sk_front skf;
static struct sk_back skb;
/* plain ring.h state */
static struct bench_front_ring pf;
static struct bench_back_ring pb;

static inline void cpu_relax(void)
{
	__builtin_ia32_pause();
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

static void notify(struct evt *e)
{
	uint64_t one = 1;

	if (write(e->fd, &one, sizeof(one)) != sizeof(one))
		failed = 1;
	e->sent++;
}

static void wait_evt(struct evt *e)
{
	uint64_t v;

	if (read(e->fd, &v, sizeof(v)) != sizeof(v) && errno != EINTR)
		failed = 1;
}

static void pin(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
}

static void fill_req(struct bench_req *q, uint64_t seq)
{
	int i;

	q->seq = seq;
	for (i = 0; i < 6; i++)
		q->data[i] = seq * 31 + i;
	q->check = seq ^ 0xfeedfacecafebeefull;
}

static int bad_req(const struct bench_req *q, uint64_t seq)
{
	return q->seq != seq || q->data[5] != seq * 31 + 5 ||
	       q->check != (seq ^ 0xfeedfacecafebeefull);
}

static void fill_rsp(struct bench_rsp *r, const struct bench_req *q)
{
	r->seq = q->seq;
	r->check = ~q->check;
}

static int bad_rsp(const struct bench_rsp *r, uint64_t seq)
{
	return r->seq != seq || r->check != ~(seq ^ 0xfeedfacecafebeefull);
}

/* ---- plain io/ring.h, notify on every push ---- */

static void *plain_front(void *arg)
{
	uint64_t sent = 0, got = 0;
	unsigned int k, consumed;
	RING_IDX rp;

	pin(0);
	while (got < nr_msgs && !failed) {
		for (k = 0; k < batch && sent < nr_msgs && !RING_FULL(&pf); k++)
			fill_req(RING_GET_REQUEST(&pf, pf.req_prod_pvt++),
				 sent++);
		if (k) {
			RING_PUSH_REQUESTS(&pf);
			notify(&to_back);
		}
		consumed = 0;
		rp = pf.sring->rsp_prod;
		virt_rmb();
		while (pf.rsp_cons != rp) {
			if (bad_rsp(RING_GET_RESPONSE(&pf, pf.rsp_cons), got))
				failed = 1;
			pf.rsp_cons++;
			got++;
			consumed++;
		}
		if (!consumed && (RING_FULL(&pf) || sent == nr_msgs))
			wait_evt(&to_front);
	}
	return NULL;
}

static void *plain_back(void *arg)
{
	struct bench_req q;
	uint64_t done = 0;
	RING_IDX rp;

	pin(1);
	while (done < nr_msgs && !failed) {
		rp = pb.sring->req_prod;
		virt_rmb();
		if (pb.req_cons == rp) {
			wait_evt(&to_back);
			continue;
		}
		while (pb.req_cons != rp) {
			q = *RING_GET_REQUEST(&pb, pb.req_cons++);
			if (bad_req(&q, done))
				failed = 1;
			fill_rsp(RING_GET_RESPONSE(&pb, pb.rsp_prod_pvt++), &q);
			done++;
		}
		RING_PUSH_RESPONSES(&pb);
		notify(&to_front);
	}
	return NULL;
}

/* ---- splitkit core: hold-off, adaptive polling, validated indices ---- */

/*
 * Out of work: poll for the adaptive window, then re-arm and sleep.
 * @front selects which ring end re-arms.
 */
static void sk_idle(struct sk_poll *p, int front, struct evt *e)
{
	uint64_t t0 = now_ns(), t = t0;
	uint32_t window = sk_poll_window(p);
	int n;

	while (t - t0 < window) {
		if (front ? sk_front_peek(&skf) : sk_back_peek(&skb)) {
			sk_poll_update(p, now_ns() - t0);
			return;
		}
		cpu_relax();
		t = now_ns();
	}
	n = front ? sk_front_final_check(&skf) : sk_back_final_check(&skb);
	if (n < 0)
		failed = 1;
	if (n)
		return;
	wait_evt(e);
	sk_poll_update(p, now_ns() - t0);
}

static void *sk_front_thread(void *arg)
{
	uint64_t sent = 0, got = 0;
	struct sk_poll poll;
	struct bench_rsp r;
	unsigned int k, consumed;
	void *slot;
	int n;

	pin(0);
	sk_poll_init(&poll, max_poll_ns);
	while (got < nr_msgs && !failed) {
		for (k = 0; k < batch && sent < nr_msgs; k++) {
			slot = sk_front_next_req(&skf);
			if (!slot)
				break;
			fill_req(slot, sent++);
		}
		if (k && sk_front_push(&skf))
			notify(&to_back);
		consumed = 0;
		while ((n = sk_front_get_rsp(&skf, &r)) == 1) {
			if (bad_rsp(&r, got))
				failed = 1;
			got++;
			consumed++;
		}
		if (n < 0)
			failed = 1;
		if (consumed || (sk_front_free(&skf) && sent < nr_msgs))
			continue;
		sk_idle(&poll, 1, &to_front);
	}
	return NULL;
}

static void *sk_back_thread(void *arg)
{
	struct sk_poll poll;
	struct bench_req q;
	uint64_t done = 0;
	int n;

	pin(1);
	sk_poll_init(&poll, max_poll_ns);
	while (done < nr_msgs && !failed) {
		while ((n = sk_back_get_req(&skb, &q)) == 1) {
			if (bad_req(&q, done))
				failed = 1;
			fill_rsp(sk_back_next_rsp(&skb), &q);
			done++;
		}
		if (n < 0)
			failed = 1;
		if (sk_back_push(&skb))
			notify(&to_front);
		if (done < nr_msgs)
			sk_idle(&poll, 0, &to_back);
	}
	return NULL;
}

struct result {
	double mps;
	double ev_per_msg;
};

static struct result run(int splitkit, unsigned int b)
{
	pthread_t tf, tb;
	struct result res;
	uint64_t t0, t1;

	batch = b;
	memset(&shared, 0, sizeof(shared));
	to_back.sent = to_front.sent = 0;
	if (splitkit) {
		sk_ring_desc_init_typed(&desc, struct bench_req,
					struct bench_rsp, PAGE);
		sk_front_init(&skf, &shared.sk, &desc);
		sk_back_init(&skb, &shared.sk, &desc);
	} else {
		SHARED_RING_INIT(&shared.plain);
		FRONT_RING_INIT(&pf, &shared.plain, PAGE);
		BACK_RING_INIT(&pb, &shared.plain, PAGE);
	}
	t0 = now_ns();
	pthread_create(&tb, NULL, splitkit ? sk_back_thread : plain_back,
		       NULL);
	pthread_create(&tf, NULL, splitkit ? sk_front_thread : plain_front,
		       NULL);
	pthread_join(tf, NULL);
	pthread_join(tb, NULL);
	t1 = now_ns();
	/* leftover counts would wake the next run early */
	to_back.fd = (close(to_back.fd), eventfd(0, 0));
	to_front.fd = (close(to_front.fd), eventfd(0, 0));
	res.mps = nr_msgs * 1e9 / (double)(t1 - t0);
	res.ev_per_msg = (double)(to_back.sent + to_front.sent) / nr_msgs;
	return res;
}

static int cmp_res(const void *a, const void *b)
{
	double x = ((const struct result *)a)->mps;
	double y = ((const struct result *)b)->mps;

	return x < y ? -1 : x > y;
}

/* Median of @reps runs, so one descheduled run does not decide. */
static struct result median(int splitkit, unsigned int b, int reps,
			    uint32_t poll_ns)
{
	struct result r[9];
	int i;

	max_poll_ns = poll_ns;
	for (i = 0; i < reps; i++)
		r[i] = run(splitkit, b);
	qsort(r, reps, sizeof(r[0]), cmp_res);
	return r[reps / 2];
}

int main(int argc, char **argv)
{
	static const unsigned int batches[] = { 1, 4, 16, 32 };
	struct result plain, sk, nopoll;
	uint32_t poll_ns;
	double ratio1 = 0;
	int opt, reps = 3;
	size_t i;

	while ((opt = getopt(argc, argv, "n:p:r:")) != -1) {
		switch (opt) {
		case 'n':
			nr_msgs = strtoull(optarg, NULL, 0);
			break;
		case 'p':
			max_poll_ns = strtoul(optarg, NULL, 0);
			break;
		case 'r':
			reps = atoi(optarg);
			break;
		default:
			fprintf(stderr,
				"usage: %s [-n msgs] [-p max_poll_ns] [-r repeats]\n",
				argv[0]);
			return 2;
		}
	}
	if (reps < 1 || reps > 9 || !nr_msgs)
		return 2;
	to_back.fd = eventfd(0, 0);
	to_front.fd = eventfd(0, 0);
	if (to_back.fd < 0 || to_front.fd < 0) {
		perror("eventfd");
		return 1;
	}
	sk_ring_desc_init_typed(&desc, struct bench_req, struct bench_rsp,
				PAGE);
	printf("bench-ring: %llu messages each way per run, median of %d runs\n",
	       (unsigned long long)nr_msgs, reps);
	printf("  %zu-byte requests, %zu-byte responses, %u-entry ring (1 page), CPUs 0 and 1, %ld online\n",
	       sizeof(struct bench_req), sizeof(struct bench_rsp),
	       desc.nr_ents, sysconf(_SC_NPROCESSORS_ONLN));
	printf("  plain = kernel io/ring.h macros, notify every push; splitkit = hold-off + poll <= %u ns\n",
	       max_poll_ns);
	printf("  (no-poll = splitkit with polling off: hold-off alone)\n");
	printf("%5s %12s %7s | %12s %7s | %12s %7s %7s\n", "batch",
	       "plain msg/s", "ev/msg", "no-poll", "ev/msg", "splitkit",
	       "ev/msg", "ratio");
	poll_ns = max_poll_ns;
	for (i = 0; i < sizeof(batches) / sizeof(batches[0]); i++) {
		plain = median(0, batches[i], reps, 0);
		nopoll = median(1, batches[i], reps, 0);
		sk = median(1, batches[i], reps, poll_ns);
		if (failed) {
			printf("FAIL: order or content check failed\n");
			return 1;
		}
		printf("%5u %12.0f %7.3f | %12.0f %7.3f | %12.0f %7.3f %6.2fx\n",
		       batches[i], plain.mps, plain.ev_per_msg, nopoll.mps,
		       nopoll.ev_per_msg, sk.mps, sk.ev_per_msg,
		       sk.mps / plain.mps);
		if (batches[i] == 1)
			ratio1 = sk.mps / plain.mps;
	}
	printf("ratio at batch 1: %.2fx (target >= 1.0x): %s\n", ratio1,
	       ratio1 >= 1.0 ? "met" : "NOT met");
	return 0;
}
