// SPDX-License-Identifier: GPL-2.0
/*
 * Memory limits of the image engine on the I/O path: the metadata caches
 * keep to their budget with least-recently-used eviction whatever the image
 * size (cache.c), relocation keeps a reverse map of one bounded window of
 * the file (relocate.c), and an allocation that fails anywhere on the I/O path or
 * in a long-operation step surfaces as -ENOMEM and leaves an image that
 * qemu-img check and our check call consistent (leaks allowed) and that
 * reads, byte for byte, either what it held before the failing call or
 * what that call was writing.  Failures are injected through the userspace
 * platform layer (skp_user_fail_alloc(): the N-th SKP_ALLOC_IO allocation
 * fails), for every N until a run completes.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ktap.h"
#include "core/image_priv.h"
#include "core/ops.h"
#include "user/platform_user.h"
#include "helpers.h"

static const char *tmp_path(const char *name)
{
	skp_user_set_log_level(-1);
	return imgt_path("/tmp/sk-image-limits.XXXXXX", name);
}

static void copy_file(const char *from, const char *to)
{
	char cmd[512];

	snprintf(cmd, sizeof(cmd), "cp '%s' '%s'", from, to);
	if (system(cmd))
		abort();
}

/* qemu-img check: 0 clean, 3 leaks only; anything else is corruption. */
static bool qemu_consistent(const char *path)
{
	char cmd[512];
	int rc;

	snprintf(cmd, sizeof(cmd), "qemu-img check -q '%s' >/dev/null 2>&1",
		 path);
	rc = system(cmd);
	return WIFEXITED(rc) && (WEXITSTATUS(rc) == 0 ||
				 WEXITSTATUS(rc) == 3);
}

/*
 * 4 KiB clusters: one L2 table maps 2 MiB, so a 64 MiB guest has 32 of
 * them.  A budget of four tables must hold four, evict the least recently
 * used, and keep the engine's memory flat while every table is visited.
 */
#define BIG_GUEST	(64ULL << 20)
#define L2_SPAN		(2ULL << 20)
#define NR_TABLES	(BIG_GUEST / L2_SPAN)

static void test_l2_cache_budget(void)
{
	struct ski_create_opts co = { .size = BIG_GUEST, .cluster_bits = 12 };
	const char *path = tmp_path("big.qcow2");
	u8 buf[4096], back[4096];
	u64 t, live0, live, peak, calls, loads;
	struct ski_image *img;
	bool all_read = true, bounded = true;

	unlink(path);
	KTAP_ASSERT(!ski_create(path, &co));
	KTAP_ASSERT(!ski_open(path, SKI_OPEN_RW, &img));
	KTAP_ASSERT(!ski_set_cache_budget(img, 4 * 4096, 2 * 4096));
	KTAP_EXPECT_EQ(img->l2_cache.nr_slots, 4);
	/* One cluster under every L2 table: warm-up, then steady state. */
	for (t = 0; t < NR_TABLES; t++) {
		imgt_fill(buf, sizeof(buf), t, 1);
		KTAP_ASSERT(!ski_write(img, buf, sizeof(buf), t * L2_SPAN));
	}
	skp_user_alloc_stats(&live0, &peak, &calls);
	skp_user_alloc_reset_peak();
	for (t = 0; t < NR_TABLES; t++) {
		imgt_fill(buf, sizeof(buf), t, 1);
		if (ski_read(img, back, sizeof(back), t * L2_SPAN) ||
		    memcmp(buf, back, sizeof(buf)))
			all_read = false;
		if (ski_cache_cached(&img->l2_cache) > 4)
			bounded = false;
	}
	skp_user_alloc_stats(&live, &peak, &calls);
	KTAP_EXPECT(all_read);
	KTAP_EXPECT(bounded);
	KTAP_EXPECT(img->l2_cache.evictions >= NR_TABLES - 4);
	/* Steady state: a sweep over all tables allocates nothing new. */
	printf("# live %llu -> %llu bytes, peak %llu during the sweep\n",
	       (unsigned long long)live0, (unsigned long long)live,
	       (unsigned long long)peak);
	KTAP_EXPECT_EQ(peak, live0);
	KTAP_EXPECT_EQ(live, live0);

	/* LRU, not FIFO or drop-all: a table in use survives the others. */
	for (t = 0; t < 4; t++)
		KTAP_ASSERT(!ski_read(img, back, 1, t * L2_SPAN));
	KTAP_ASSERT(!ski_read(img, back, 1, 0));	/* table 0 used again */
	KTAP_ASSERT(!ski_read(img, back, 1, 4 * L2_SPAN));
	KTAP_EXPECT(ski_cache_lookup(&img->l2_cache, 0) != NULL);
	KTAP_EXPECT(ski_cache_lookup(&img->l2_cache, 1) == NULL);
	loads = img->l2_cache.loads;
	KTAP_ASSERT(!ski_read(img, back, 1, 0));
	KTAP_EXPECT_EQ(img->l2_cache.loads, loads);	/* a hit */
	KTAP_EXPECT(ski_cache_cached(&img->rb_cache) <= 2);
	ski_close(img);
	KTAP_EXPECT(imgt_check_ok(path, false));
	KTAP_EXPECT(qemu_consistent(path));
}

/*
 * Relocation keeps a reverse map of one window, not of the whole file: a
 * fragmented 4 MiB image with 4 KiB clusters (about 1500 host clusters)
 * compacted and defragmented with a 64-cluster window never holds a map
 * larger than that, and ends compacted, clean and with its content.
 */
static void test_rmap_window(void)
{
	static u8 ref[4 << 20];
	const char *path = tmp_path("frag.qcow2");
	enum ski_op_kind kind;
	u64 most, before, end;
	struct ski_image *img;
	struct ski_op op;
	int err;

	for (kind = SKI_OP_COMPACT; kind <= SKI_OP_DEFRAG; kind++) {
		imgt_make_fragmented(path, ref, sizeof(ref), 1);
		KTAP_ASSERT(!ski_open(path, SKI_OPEN_RW, &img));
		before = img->end_cluster;
		img->rmap_window = 64;
		most = 0;
		err = ski_op_begin(&op, img, kind);
		while (!err) {
			err = ski_op_step(&op, 16);
			if (img->rmap && img->rmap->nr > most)
				most = img->rmap->nr;
		}
		ski_op_end(&op);
		end = img->end_cluster;
		ski_close(img);
		printf("# %s: %llu -> %llu host clusters, map of %llu\n",
		       kind == SKI_OP_COMPACT ? "compact" : "defrag",
		       (unsigned long long)before, (unsigned long long)end,
		       (unsigned long long)most);
		KTAP_EXPECT_EQ(err, 1);
		KTAP_EXPECT(most && most <= 64);
		KTAP_EXPECT(end < before * 2 / 3);
		KTAP_EXPECT(imgt_check_ok(path, false));
		KTAP_EXPECT(qemu_consistent(path));
		KTAP_EXPECT(imgt_equals(path, ref, sizeof(ref)));
	}
}

/* ---- allocation failures ------------------------------------------------ */

#define FAIL_SIZE	(1ULL << 20)

struct fail_step {
	char kind;		/* 'w' write, 'z' write zeroes, 'd' discard,
				 * 'c' compact, 'g' grow (size in len) */
	u64 off, len;
};

static const struct fail_step fail_steps[] = {
	{ 'w', 0, 300 << 10 },		/* new L2 tables, refcount growth */
	{ 'w', 700000, 5000 },
	{ 'd', 0, 64 << 10 },
	{ 'z', 100000, 70000 },
	{ 'c', 0, 0 },			/* reverse map, move buffers */
	{ 'w', 900 << 10, 100 << 10 },
	{ 'g', 0, FAIL_SIZE + (3 << 20) },	/* L1 grows */
	{ 'w', FAIL_SIZE + (2 << 20), 8192 },
};

static int fail_do(struct ski_image *img, const struct fail_step *s,
		   const u8 *data)
{
	struct ski_op op;
	int err;

	switch (s->kind) {
	case 'w':
		return ski_write(img, data, s->len, s->off);
	case 'z':
		return ski_write_zeroes(img, s->off, s->len);
	case 'd':
		return ski_discard(img, s->off, s->len);
	case 'g':
		return ski_grow(img, s->len);
	case 'c':
		err = ski_op_begin(&op, img, SKI_OP_COMPACT);
		while (!err)
			err = ski_op_step(&op, 3);
		ski_op_end(&op);
		return err == 1 ? 0 : err;
	}
	return -EINVAL;
}

/* What step @s leaves in @ref (guest content of size @size). */
static void fail_apply(u8 *ref, const struct fail_step *s, const u8 *data)
{
	if (s->kind == 'w')
		memcpy(ref + s->off, data, s->len);
	else if (s->kind == 'z' || s->kind == 'd')
		memset(ref + s->off, 0, s->len);
}

#define FAIL_MAX	(FAIL_SIZE + (3 << 20))

/*
 * Run every step with the @nth SKP_ALLOC_IO allocation failing.  Return 1
 * when nothing failed, 0 when a step failed cleanly, -1 on a bad result.
 */
static int fail_run(long nth, const char *orig, const char *path,
		    u8 *const *data)
{
	static u8 ref[FAIL_MAX], got[FAIL_MAX];
	const struct fail_step *bad = NULL;
	struct ski_image *img;
	u64 size = FAIL_SIZE, b, live, peak, calls0, calls;
	unsigned int i;
	int err = 0;

	copy_file(orig, path);
	memset(ref, 0, sizeof(ref));
	if (ski_open(path, SKI_OPEN_RW, &img))
		return -1;
	/* Small caches, so tables are evicted and loaded again. */
	if (ski_set_cache_budget(img, 2 * 4096, 2 * 4096))
		return -1;
	skp_user_alloc_stats(&live, &peak, &calls0);
	skp_user_fail_alloc(nth, SKP_ALLOC_IO);
	for (i = 0; i < KTAP_ARRAY_SIZE(fail_steps); i++) {
		err = fail_do(img, &fail_steps[i], data[i]);
		if (err) {
			bad = &fail_steps[i];
			break;
		}
		fail_apply(ref, &fail_steps[i], data[i]);
		if (fail_steps[i].kind == 'g')
			size = fail_steps[i].len;
	}
	skp_user_alloc_stats(&live, &peak, &calls);
	skp_user_fail_alloc(-1, 0);
	ski_close(img);
	/* The failure must surface, and only a failure may. */
	if ((calls - calls0 > (u64)nth) != (err == -ENOMEM)) {
		printf("# fail at %ld: %s, step %u returned %d\n", nth,
		       calls - calls0 > (u64)nth ? "allocation failed" :
		       "no allocation failed", i, err);
		return -1;
	}
	if (err && err != -ENOMEM) {
		printf("# fail at %ld: step %u returned %d, not -ENOMEM\n",
		       nth, i, err);
		return -1;
	}
	if (!imgt_check_ok(path, true) || !qemu_consistent(path)) {
		printf("# fail at %ld (step %u): image inconsistent\n", nth, i);
		return -1;
	}
	if (ski_open(path, 0, &img))
		return -1;
	/* A failed grow may or may not have set the new size. */
	if (img->hdr.size != size &&
	    !(bad && bad->kind == 'g' && img->hdr.size == bad->len)) {
		ski_close(img);
		printf("# fail at %ld: size %llu\n", nth,
		       (unsigned long long)img->hdr.size);
		return -1;
	}
	size = img->hdr.size;
	err = ski_read(img, got, size, 0);
	ski_close(img);
	if (err)
		return -1;
	for (b = 0; b < size; b++) {
		bool in_bad = bad && bad->kind != 'c' && bad->kind != 'g' &&
			      b >= bad->off && b < bad->off + bad->len;
		u8 now = bad && bad->kind == 'w' && in_bad ?
			 data[bad - fail_steps][b - bad->off] : 0;

		if (got[b] == ref[b] || (in_bad && got[b] == now))
			continue;
		printf("# fail at %ld (step %u): byte %llu reads 0x%02x, "
		       "expected 0x%02x\n", nth, i, (unsigned long long)b,
		       got[b], ref[b]);
		return -1;
	}
	return bad ? 0 : 1;
}

static void test_alloc_failures(void)
{
	struct ski_create_opts co = { .size = FAIL_SIZE, .cluster_bits = 9 };
	const char *orig = tmp_path("fail.orig");
	const char *path = tmp_path("fail.qcow2");
	u8 *data[KTAP_ARRAY_SIZE(fail_steps)];
	int failed = 0, bad = 0, r = 0;
	unsigned int i;
	long nth;

	unlink(orig);
	KTAP_ASSERT(!ski_create(orig, &co));
	for (i = 0; i < KTAP_ARRAY_SIZE(fail_steps); i++) {
		data[i] = malloc(fail_steps[i].len ? fail_steps[i].len : 1);
		KTAP_ASSERT(data[i]);
		imgt_fill(data[i], fail_steps[i].len, 40 + i, 1);
	}
	for (nth = 0; nth < 100000; nth++) {
		r = fail_run(nth, orig, path, data);
		if (r < 0)
			bad++;
		if (r != 0)
			break;
		failed++;
	}
	printf("# %d allocation failures injected, each clean\n", failed);
	KTAP_EXPECT_EQ(bad, 0);
	KTAP_EXPECT_EQ(r, 1);
	KTAP_EXPECT(failed > 15);
	for (i = 0; i < KTAP_ARRAY_SIZE(fail_steps); i++)
		free(data[i]);
}

/*
 * Rewriting a header that carries VM information builds a bridge header
 * from the one on disk (meta.c, build_bridge()); its parse allocates the
 * extensions, and a parse that fails part-way (an allocation, or a header
 * cluster rewritten behind the engine) must free what it took.  The update
 * itself succeeds either way (a bridge without the VM information).
 */
static void vminfo_big(struct ski_vminfo *info)
{
	static char val[2000];

	memset(info, 0, sizeof(*info));
	memset(val, 'x', sizeof(val) - 1);
	info->flags = SKI_VMINFO_F_REQUIRED;	/* and the feature table */
	KTAP_ASSERT(!ski_vminfo_set(info, "config", val));
}

static void test_header_bridge_leaks(void)
{
	const char *path = tmp_path("bridge.qcow2");
	struct ski_create_opts co = { .size = 1 << 20, .cluster_bits = 16 };
	/* an unknown extension, then one running past the cluster */
	static const u8 bad_ext[24] = { 0x12, 0x34, 0x56, 0x78, 0, 0, 0, 8,
					[19] = 1, [20] = 0xff, [21] = 0xff };
	u64 before, after, peak, calls;
	struct ski_vminfo info;
	struct ski_image *img;
	int leaky = 0, swept = 0, fd;
	long nth;

	vminfo_big(&info);
	KTAP_ASSERT(!ski_create(path, &co));
	KTAP_ASSERT(!ski_open(path, SKI_OPEN_RW, &img));
	KTAP_ASSERT(!ski_set_vminfo(img, &info));	/* header > 512 bytes */
	ski_close(img);
	for (nth = 0; nth < 64; nth++) {
		skp_user_alloc_stats(&before, &peak, &calls);
		KTAP_ASSERT(!ski_open(path, SKI_OPEN_RW, &img));
		skp_user_fail_alloc(nth, 0);
		ski_set_vminfo(img, &info);
		skp_user_fail_alloc(-1, 0);
		ski_close(img);
		skp_user_alloc_stats(&after, &peak, &calls);
		swept++;
		if (after != before) {
			printf("# allocation %ld failing: %llu bytes left\n",
			       nth, (unsigned long long)(after - before));
			leaky++;
		}
	}
	KTAP_EXPECT_EQ(leaky, 0);
	KTAP_EXPECT_EQ(swept, 64);

	KTAP_ASSERT(!ski_open(path, SKI_OPEN_RW, &img));
	fd = open(path, O_RDWR);
	KTAP_ASSERT(fd >= 0);
	KTAP_ASSERT(pwrite(fd, bad_ext, sizeof(bad_ext), 112) ==
		    sizeof(bad_ext));
	close(fd);
	skp_user_alloc_stats(&before, &peak, &calls);
	KTAP_EXPECT_EQ(ski_set_vminfo(img, &info), 0);
	skp_user_alloc_stats(&after, &peak, &calls);
	KTAP_EXPECT_EQ(after, before);
	ski_close(img);
	ski_vminfo_free(&info);
}

/*
 * An allocation whose refcount update fails (here: loading the refcount
 * block of a range that has none yet) leaves the cluster free, and the
 * next allocation takes it: no hole grows in the file.  Refcount block 0
 * is crafted to count every cluster it covers, so the lowest free cluster
 * is the first of refcount-table slot 1.
 */
/* A fresh image whose refcount block 0 counts all it covers as used. */
static void hint_craft(const char *path)
{
	struct ski_create_opts co = { .size = 1 << 20, .cluster_bits = 16 };
	static u8 rb[65536];
	u8 raw[8];
	u32 i;
	int fd;

	unlink(path);
	KTAP_ASSERT(!ski_create(path, &co));
	fd = open(path, O_RDWR);
	KTAP_ASSERT(fd >= 0);
	KTAP_ASSERT(pread(fd, raw, 8, 65536) == 8);	/* reftable[0] */
	for (i = 0; i < sizeof(rb) / 2; i++)
		ski_put_be16(rb + 2 * i, 1);
	KTAP_ASSERT(pwrite(fd, rb, sizeof(rb), ski_get_be64(raw)) ==
		    sizeof(rb));
	close(fd);
}

static void test_alloc_retry_takes_free(void)
{
	const char *path = tmp_path("hint.qcow2");
	const u64 first = 65536 / 2;	/* clusters refcount block 0 covers */
	static u8 data[65536];
	enum ski_cluster_kind kind;
	struct ski_image *img;
	int failures = 0, err = -ENOMEM;
	u64 host, end, c;
	u16 rc;
	long nth;

	imgt_fill(data, sizeof(data), 77, 1);
	for (nth = 0; err; nth++) {
		hint_craft(path);
		KTAP_ASSERT(!ski_open(path, SKI_OPEN_RW, &img));
		skp_user_fail_alloc(nth, SKP_ALLOC_IO);
		err = ski_write(img, data, sizeof(data), 0);
		skp_user_fail_alloc(-1, 0);
		if (err) {
			failures++;
			KTAP_EXPECT_EQ(err, -ENOMEM);
			KTAP_EXPECT_EQ(ski_write(img, data, sizeof(data), 0), 0);
			/* every cluster from @first to the end is taken */
			KTAP_EXPECT_EQ(ski_file_clusters(img, &end), 0);
			for (c = first; c < end; c++) {
				rc = 0;
				ski_refcount(img, c, &rc);
				if (!rc)
					printf("# allocation %ld failing: cluster %llu left free\n",
					       nth, (unsigned long long)c);
				KTAP_EXPECT(rc);
			}
			KTAP_EXPECT(!ski_block_status(img, 0, &kind, &host));
			KTAP_EXPECT(host >> 16 < end);
		}
		ski_close(img);
	}
	printf("# %d failing allocations retried\n", failures);
	KTAP_EXPECT(failures > 0);
}

static void test_cleanup(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", imgt_dir());
	KTAP_EXPECT(!system(cmd));
}

static const struct ktap_case cases[] = {
	KTAP_CASE(test_l2_cache_budget),
	KTAP_CASE(test_rmap_window),
	KTAP_CASE(test_alloc_failures),
	KTAP_CASE(test_header_bridge_leaks),
	KTAP_CASE(test_alloc_retry_takes_free),
	KTAP_CASE(test_cleanup),
};

int main(void)
{
	return ktap_main(cases, KTAP_ARRAY_SIZE(cases));
}
