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
 * the end the image must check clean and read back as the model.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
		pthread_mutex_lock(&serve.lock);
		request(&serve, kind, buf, off, segs);
		pthread_mutex_unlock(&serve.lock);
	}
	free(buf);
	return NULL;
}

static void test_rings_share_an_image(void)
{
	u8 *back = malloc(GUEST);
	pthread_t t[THREADS];
	unsigned int i;
	int err;

	serve.model = malloc(GUEST);
	if (!back || !serve.model)
		abort();
	pthread_mutex_init(&serve.lock, NULL);
	KTAP_EXPECT_EQ(make_chain(serve.model), 0);
	err = ski_open(tmp_path("data.qcow2"), SKI_OPEN_RW | SKI_OPEN_STRICT |
		       SKI_OPEN_PUNCH, &serve.img);
	KTAP_EXPECT_EQ(err, 0);
	if (err)
		goto out;
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
	KTAP_EXPECT(imgt_check_ok(tmp_path("data.qcow2"), false));
	KTAP_EXPECT(imgt_check_ok(tmp_path("base.qcow2"), false));
	KTAP_EXPECT(imgt_equals(tmp_path("data.qcow2"), serve.model, GUEST));
out:
	free(back);
	free(serve.model);
}

static const struct ktap_case cases[] = {
	KTAP_CASE(test_rings_share_an_image),
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
