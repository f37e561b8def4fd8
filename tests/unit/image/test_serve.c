// SPDX-License-Identifier: GPL-2.0
/*
 * The image engine driven the way splitkit_back drives it
 * (backend/qcow2.c): a chain opened as the backend opens it (a top image
 * with 64 KiB clusters over a backing image with 2 MiB clusters, relative
 * name, recorded format, SKI_OPEN_STRICT | SKI_OPEN_PUNCH), an "attached"
 * history record, then several threads - one per ring - each issuing
 * requests of 4 KiB segments, one ski_read()/ski_write() per segment,
 * every request under the one per-image mutex, flushes with and without
 * data, and discards, all aimed at a few clusters so that the threads
 * keep meeting in the same clusters and L2 table.  A reference model is
 * updated under the same mutex; every read is compared with it, and at
 * the end the image must check clean and read back as the model.  Run
 * twice: all through the engine, and with the direct path for what the
 * image holds in place (the file I/O outside the mutex, the free hook
 * draining it), a guest never having two requests on the same bytes.
 */
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ktap.h"
#include "core/image_priv.h"
#include "helpers.h"

#define GUEST		(8ULL << 20)
#define SEG		4096
#define THREADS		4
#define REQS		300
#define MAX_SEGS	64

struct serve {
	struct ski_image *img;
	pthread_mutex_t lock;		/* qcow2.c's skb_qcow2.lock */
	u8 *model;			/* guest content, under @lock */
	int err;			/* first failure, under @lock */
	unsigned int mismatches;
	/* the direct path (qcow2.c's skb_qcow2_try_direct()), when @fd >= 0 */
	int fd;				/* the image file */
	pthread_mutex_t aio_lock;	/* @aio_inflight */
	pthread_cond_t aio_idle;
	unsigned int aio_inflight;	/* raised under @lock too */
	unsigned long direct, drains;
	/* a guest never has two requests on the same bytes in flight */
	pthread_mutex_t range_lock;
	pthread_cond_t range_free;
	u8 busy[GUEST / SEG];		/* under @range_lock */
};

static const char *tmp_path(const char *name)
{
	return imgt_path("/tmp/sk-image-serve.XXXXXX", name);
}

/* base.qcow2 (2 MiB clusters, seeded) and data.qcow2 over it. */
static int make_chain(u8 *model)
{
	struct ski_create_opts o = { .size = GUEST, .cluster_bits = 21 };
	struct ski_image *img;
	int err;

	err = ski_create(tmp_path("base.qcow2"), &o);
	if (!err)
		err = ski_open(tmp_path("base.qcow2"), SKI_OPEN_RW, &img);
	if (err)
		return err;
	imgt_fill(model, GUEST, 1, 1);
	err = ski_write(img, model, GUEST, 0);
	ski_close(img);
	if (err)
		return err;
	o.cluster_bits = 16;
	o.backing_file = "base.qcow2";
	o.backing_format = "qcow2";
	return ski_create(tmp_path("data.qcow2"), &o);
}

/* What ski_discard() zeroes: the whole clusters inside the range. */
static void model_discard(u8 *model, u64 off, u64 len)
{
	u64 cs = 1ULL << 16;
	u64 first = (off + cs - 1) & ~(cs - 1), last = (off + len) & ~(cs - 1);

	if (off + len == GUEST)
		last = GUEST;
	if (first < last)
		memset(model + first, 0, last - first);
}

static void fail(struct serve *s, int err)
{
	if (!s->err)
		s->err = err;
}

/* The free hook: wait for the direct I/O in flight (@s->lock held). */
static void drain(void *arg)
{
	struct serve *s = arg;

	pthread_mutex_lock(&s->aio_lock);
	if (s->aio_inflight)
		s->drains++;
	while (s->aio_inflight)
		pthread_cond_wait(&s->aio_idle, &s->aio_lock);
	pthread_mutex_unlock(&s->aio_lock);
}

#define MAX_RUNS	(MAX_SEGS * SEG / 4096 + 1)

/*
 * A read or write on the direct path: the runs mapped under @s->lock,
 * the file I/O done after it is dropped.  False (nothing done) if the
 * engine must serve it.
 */
static bool request_direct(struct serve *s, bool write, u8 *buf, u64 off,
			   u64 len)
{
	u64 host[MAX_RUNS], n[MAX_RUNS], pos = 0;
	unsigned int nr = 0, i;
	bool ok = true;

	pthread_mutex_lock(&s->lock);
	while (pos < len && nr < MAX_RUNS) {
		if (ski_map_data(s->img, off + pos, len - pos, write, &host[nr],
				 &n[nr]))
			break;
		pos += n[nr++];
	}
	if (pos < len) {
		pthread_mutex_unlock(&s->lock);
		return false;
	}
	pthread_mutex_lock(&s->aio_lock);
	s->aio_inflight++;
	s->direct++;
	pthread_mutex_unlock(&s->aio_lock);
	if (write)
		memcpy(s->model + off, buf, len);
	pthread_mutex_unlock(&s->lock);

	for (i = 0, pos = 0; i < nr; pos += n[i++]) {
		ssize_t r = write ? pwrite(s->fd, buf + pos, n[i], host[i]) :
			    pread(s->fd, buf + pos, n[i], host[i]);

		ok &= r == (ssize_t)n[i];
	}
	pthread_mutex_lock(&s->aio_lock);
	if (!--s->aio_inflight)
		pthread_cond_broadcast(&s->aio_idle);
	pthread_mutex_unlock(&s->aio_lock);

	pthread_mutex_lock(&s->lock);
	if (!ok)
		fail(s, -EIO);
	else if (!write && memcmp(buf, s->model + off, len))
		s->mismatches++;
	pthread_mutex_unlock(&s->lock);
	return true;
}

static void range_lock(struct serve *s, u64 off, u64 len, bool lock)
{
	u64 i, first = off / SEG, last = (off + len) / SEG;
	bool free_;

	pthread_mutex_lock(&s->range_lock);
	do {
		free_ = true;
		for (i = first; lock && i < last; i++)
			free_ &= !s->busy[i];
		if (!free_)
			pthread_cond_wait(&s->range_free, &s->range_lock);
	} while (!free_);
	for (i = first; i < last; i++)
		s->busy[i] = lock;
	if (!lock)
		pthread_cond_broadcast(&s->range_free);
	pthread_mutex_unlock(&s->range_lock);
}

/* One request, as skb_qcow2_submit() does it; @s->lock held. */
static void request(struct serve *s, unsigned int kind, u8 *buf, u64 off,
		    unsigned int segs)
{
	u64 len = (u64)segs * SEG, i;
	int err = 0;

	switch (kind) {
	case 0:		/* read */
		for (i = 0; i < segs && !err; i++)
			err = ski_read(s->img, buf + i * SEG, SEG, off + i * SEG);
		if (!err && memcmp(buf, s->model + off, len))
			s->mismatches++;
		break;
	case 1:		/* write */
	case 2:		/* flush with data */
		if (kind == 2)
			err = ski_flush(s->img);
		for (i = 0; i < segs && !err; i++)
			err = ski_write(s->img, buf + i * SEG, SEG, off + i * SEG);
		if (!err && kind == 2)
			err = ski_flush(s->img);
		if (!err)
			memcpy(s->model + off, buf, len);
		break;
	case 3:		/* discard */
		err = ski_discard(s->img, off, len);
		if (!err)
			model_discard(s->model, off, len);
		break;
	default:	/* flush */
		err = ski_flush(s->img);
		break;
	}
	if (err)
		fail(s, err);
}

static struct serve serve;

static void *ring(void *arg)
{
	unsigned int seed = (unsigned int)(uintptr_t)arg, n;
	u8 *buf = malloc((size_t)MAX_SEGS * SEG);

	if (!buf)
		abort();
	for (n = 0; n < REQS; n++) {
		unsigned int kind, segs;
		u64 off;

		seed = seed * 1103515245 + 12345;
		kind = (seed >> 8) % 10;
		kind = kind < 5 ? 0 : kind < 8 ? 1 : kind == 8 ? 2 : 3 +
		       ((seed >> 20) & 1);
		segs = 1 + (seed >> 12) % MAX_SEGS;
		/* the first 1 MiB most of the time: threads meet there */
		off = ((seed >> 3) % ((seed & 3) ? 256 : GUEST / SEG)) * SEG;
		if (off + (u64)segs * SEG > GUEST)
			segs = (GUEST - off) / SEG;
		imgt_fill(buf, (size_t)segs * SEG, seed, 1);
		range_lock(&serve, off, (u64)segs * SEG, true);
		if (serve.fd < 0 || kind > 1 ||
		    !request_direct(&serve, kind == 1, buf, off,
				    (u64)segs * SEG)) {
			pthread_mutex_lock(&serve.lock);
			request(&serve, kind, buf, off, segs);
			pthread_mutex_unlock(&serve.lock);
		}
		range_lock(&serve, off, (u64)segs * SEG, false);
	}
	free(buf);
	return NULL;
}

static void rings_share_an_image(bool direct)
{
	u8 *back = malloc(GUEST);
	pthread_t t[THREADS];
	unsigned int i;
	int err;

	memset(&serve, 0, sizeof(serve));
	serve.fd = -1;
	serve.model = malloc(GUEST);
	if (!back || !serve.model)
		abort();
	pthread_mutex_init(&serve.lock, NULL);
	pthread_mutex_init(&serve.aio_lock, NULL);
	pthread_cond_init(&serve.aio_idle, NULL);
	pthread_mutex_init(&serve.range_lock, NULL);
	pthread_cond_init(&serve.range_free, NULL);
	unlink(tmp_path("base.qcow2"));
	unlink(tmp_path("data.qcow2"));
	KTAP_EXPECT_EQ(make_chain(serve.model), 0);
	err = ski_open(tmp_path("data.qcow2"), SKI_OPEN_RW | SKI_OPEN_STRICT |
		       SKI_OPEN_PUNCH, &serve.img);
	KTAP_EXPECT_EQ(err, 0);
	if (err)
		goto out;
	if (direct) {
		serve.fd = open(tmp_path("data.qcow2"), O_RDWR);
		KTAP_ASSERT(serve.fd >= 0);
		ski_set_free_hook(serve.img, drain, &serve);
	}
	KTAP_EXPECT_EQ(ski_note_history(serve.img, "attached", "guest"), 0);
	KTAP_EXPECT_EQ(ski_flush(serve.img), 0);
	for (i = 0; i < THREADS; i++)
		if (pthread_create(&t[i], NULL, ring, (void *)(uintptr_t)(i + 7)))
			abort();
	for (i = 0; i < THREADS; i++)
		pthread_join(t[i], NULL);
	KTAP_EXPECT_EQ(serve.err, 0);
	KTAP_EXPECT_EQ(serve.mismatches, 0);
	KTAP_EXPECT_EQ(ski_read(serve.img, back, GUEST, 0), 0);
	KTAP_EXPECT(!memcmp(back, serve.model, GUEST));
	KTAP_EXPECT_EQ(ski_note_history(serve.img, "detached", "guest"), 0);
	ski_close(serve.img);
	if (direct) {
		printf("# direct requests %lu, drains %lu\n",
			       serve.direct, serve.drains);
		KTAP_EXPECT(serve.direct > 0);
		close(serve.fd);
	}
	KTAP_EXPECT(imgt_check_ok(tmp_path("data.qcow2"), false));
	KTAP_EXPECT(imgt_check_ok(tmp_path("base.qcow2"), false));
	KTAP_EXPECT(imgt_equals(tmp_path("data.qcow2"), serve.model, GUEST));
out:
	free(back);
	free(serve.model);
}

static void test_rings_share_an_image(void)
{
	rings_share_an_image(false);
}

/*
 * The same with splitkit_back's direct path: reads and writes of data the
 * image holds in place mapped under the lock (ski_map_data()) and done on
 * the file after it is dropped, the free hook waiting for them.
 */
static void test_rings_direct(void)
{
	rings_share_an_image(true);
}

static const struct ktap_case cases[] = {
	KTAP_CASE(test_rings_share_an_image),
	KTAP_CASE(test_rings_direct),
};

int main(void)
{
	char cmd[128];
	int rc = ktap_main(cases, KTAP_ARRAY_SIZE(cases));

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", imgt_dir());
	if (imgt_dir()[0] && system(cmd))
		rc = 1;
	return rc;
}
