// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests of the image engine on real files in a temporary directory:
 * create, guest writes and reads against a reference buffer, discard,
 * refcount-table growth with small clusters, the consistency check, and
 * compaction, defragmentation, commit and stream, each also cut at every
 * mutation by a forked child (skp_user_set_crash_after) and verified for
 * a clean check and unchanged guest content.  These cut the process, not
 * the disk; test_wbcache.c replays the same work under power cuts that lose
 * unflushed writes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ktap.h"
#include "core/image_priv.h"
#include "core/ops.h"
#include "user/platform_user.h"
#include "helpers.h"

static const char *tmp_path(const char *name)
{
	return imgt_path("/tmp/sk-image-unit.XXXXXX", name);
}

static void fill(u8 *buf, size_t len, unsigned int seed)
{
	imgt_fill(buf, len, seed, 0);
}

static bool image_clean(const char *path)
{
	return imgt_check_ok(path, false);
}

static bool image_has_no_errors(const char *path)
{
	return imgt_check_ok(path, true);
}

static int write_at(const char *path, const u8 *buf, size_t len, u64 off)
{
	struct ski_image *img;
	int err = ski_open(path, SKI_OPEN_RW, &img);

	if (err)
		return err;
	err = ski_write(img, buf, len, off);
	ski_close(img);
	return err;
}

static int discard_at(const char *path, u64 off, u64 len)
{
	struct ski_image *img;
	int err = ski_open(path, SKI_OPEN_RW, &img);

	if (err)
		return err;
	err = ski_discard(img, off, len);
	ski_close(img);
	return err;
}

static void copy_file(const char *from, const char *to)
{
	char cmd[512];

	snprintf(cmd, sizeof(cmd), "cp '%s' '%s'", from, to);
	if (system(cmd))
		abort();
}

static u64 file_size(const char *path)
{
	FILE *f = fopen(path, "rb");
	long size;

	if (!f)
		return 0;
	fseek(f, 0, SEEK_END);
	size = ftell(f);
	fclose(f);
	return size;
}

#define GUEST	(4 << 20)

static void test_write_read(void)
{
	struct ski_create_opts co = { .size = GUEST + 1000 };
	static u8 ref[GUEST + 1000], chunk[200000];
	const char *path = tmp_path("rw.qcow2");

	unlink(path);
	KTAP_ASSERT(!ski_create(path, &co));
	KTAP_EXPECT(image_clean(path));
	KTAP_EXPECT(imgt_equals(path, ref, sizeof(ref)));
	fill(chunk, sizeof(chunk), 1);
	/* Unaligned, spanning clusters, then an overwrite, then the tail. */
	KTAP_EXPECT(!write_at(path, chunk, sizeof(chunk), 12345));
	memcpy(ref + 12345, chunk, sizeof(chunk));
	fill(chunk, 70000, 2);
	KTAP_EXPECT(!write_at(path, chunk, 70000, 100000));
	memcpy(ref + 100000, chunk, 70000);
	KTAP_EXPECT(!write_at(path, chunk, 1000, GUEST));
	memcpy(ref + GUEST, chunk, 1000);
	KTAP_EXPECT(imgt_equals(path, ref, sizeof(ref)));
	KTAP_EXPECT(image_clean(path));
	/* Reads and writes past the end are refused. */
	KTAP_EXPECT_EQ(write_at(path, chunk, 1001, GUEST), -EINVAL);
	/* Discard: whole clusters inside the range read as zero. */
	KTAP_EXPECT(!discard_at(path, 0, 3 * 65536));
	memset(ref, 0, 3 * 65536);
	KTAP_EXPECT(imgt_equals(path, ref, sizeof(ref)));
	KTAP_EXPECT(image_clean(path));
}

static void test_small_clusters_grow_refcounts(void)
{
	struct ski_create_opts co = { .size = 8 << 20, .cluster_bits = 9 };
	static u8 ref[8 << 20];
	const char *path = tmp_path("small.qcow2");
	struct ski_image *img;

	unlink(path);
	KTAP_ASSERT(!ski_create(path, &co));
	fill(ref, sizeof(ref), 3);
	/* 16384 data clusters need many refcount blocks and a bigger table. */
	KTAP_ASSERT(!write_at(path, ref, sizeof(ref), 0));
	KTAP_EXPECT(image_clean(path));
	KTAP_EXPECT(imgt_equals(path, ref, sizeof(ref)));
	KTAP_ASSERT(!ski_open(path, 0, &img));
	KTAP_EXPECT(img->hdr.refcount_table_clusters > 1);
	ski_close(img);
	/* Compaction then has to move the grown table back down. */
	KTAP_ASSERT(!discard_at(path, 0, 5 << 20));
	memset(ref, 0, 5 << 20);
	KTAP_EXPECT(!imgt_run_op(path, SKI_OP_COMPACT, 1000));
	KTAP_EXPECT(file_size(path) < (4 << 20));
	KTAP_EXPECT(image_clean(path));
	KTAP_EXPECT(imgt_equals(path, ref, sizeof(ref)));
}

static void test_hostile_l2_refused(void)
{
	struct ski_create_opts co = { .size = 1 << 20, .cluster_bits = 12 };
	const char *path = tmp_path("hostile.qcow2");
	struct ski_image *img;
	u8 buf[4096], entry[8];
	FILE *f;

	unlink(path);
	KTAP_ASSERT(!ski_create(path, &co));
	memset(buf, 1, sizeof(buf));
	KTAP_ASSERT(!write_at(path, buf, sizeof(buf), 0));
	KTAP_ASSERT(!ski_open(path, 0, &img));
	{
		u64 l2 = img->l1[0] & QCOW2_OFFSET_MASK;

		ski_close(img);
		/* Unaligned data cluster offset in L2 entry 0. */
		f = fopen(path, "r+b");
		KTAP_ASSERT(f);
		fseek(f, l2, SEEK_SET);
		memcpy(entry, "\x80\x00\x00\x00\x00\x00\x12\x00", 8);
		fwrite(entry, 1, 8, f);
		fclose(f);
	}
	KTAP_ASSERT(!ski_open(path, 0, &img));
	KTAP_EXPECT_EQ(ski_read(img, buf, 4096, 0), -EUCLEAN);
	ski_close(img);
	KTAP_EXPECT(!image_has_no_errors(path));
}

static void test_compact_and_defrag(void)
{
	static u8 ref[256 << 10];
	const char *path = tmp_path("frag.qcow2");
	u64 before, after;

	imgt_make_fragmented(path, ref, sizeof(ref), 0);
	before = file_size(path);
	KTAP_EXPECT(!imgt_run_op(path, SKI_OP_COMPACT, 3));
	after = file_size(path);
	KTAP_EXPECT(after < before);
	KTAP_EXPECT(image_clean(path));
	KTAP_EXPECT(imgt_equals(path, ref, sizeof(ref)));

	imgt_make_fragmented(path, ref, sizeof(ref), 0);
	KTAP_EXPECT(!imgt_run_op(path, SKI_OP_DEFRAG, 5));
	KTAP_EXPECT(image_clean(path));
	KTAP_EXPECT(imgt_equals(path, ref, sizeof(ref)));
	{
		struct ski_image *img;
		enum ski_cluster_kind kind;
		u64 gc, host, prev = 0;
		bool ordered = true;

		KTAP_ASSERT(!ski_open(path, 0, &img));
		for (gc = 1; gc < img->guest_clusters; gc += 2) {
			KTAP_EXPECT(!ski_block_status(img, gc, &kind, &host));
			if (host <= prev)
				ordered = false;
			prev = host;
		}
		ski_close(img);
		KTAP_EXPECT(ordered);
	}
	KTAP_EXPECT(file_size(path) <= after);
}

/*
 * ski_l2_absent_span(): 4 KiB clusters (512 entries an L2 table, 2 MiB of
 * guest a range) over a 5 MiB + 4 KiB guest, 1281 clusters: ranges 0 and
 * 1 whole, range 2 cut to 257 clusters by the image's end.  Data in range
 * 1 only: ranges 0 and 2 are stepped over whole (from any cluster in
 * them, to the range's or the image's end), range 1 never, nothing past
 * the end, and every cluster a span covers is unallocated to
 * ski_block_status().
 */
static void test_l2_absent_span(void)
{
	struct ski_create_opts co = { .size = (5 << 20) + 4096,
				      .cluster_bits = 12 };
	const char *path = tmp_path("span.qcow2");
	enum ski_cluster_kind kind;
	struct ski_image *img;
	u64 gc, host, span;
	u8 buf[4096];
	bool agree = true;

	unlink(path);
	KTAP_ASSERT(!ski_create(path, &co));
	fill(buf, sizeof(buf), 9);
	KTAP_ASSERT(!write_at(path, buf, sizeof(buf), (2 << 20) + 8192));
	KTAP_ASSERT(!ski_open(path, 0, &img));
	KTAP_EXPECT_EQ(img->guest_clusters, 1281);
	KTAP_EXPECT_EQ(ski_l2_absent_span(img, 0), 512);
	KTAP_EXPECT_EQ(ski_l2_absent_span(img, 100), 412);
	KTAP_EXPECT_EQ(ski_l2_absent_span(img, 511), 1);
	KTAP_EXPECT_EQ(ski_l2_absent_span(img, 512), 0);
	KTAP_EXPECT_EQ(ski_l2_absent_span(img, 1023), 0);
	KTAP_EXPECT_EQ(ski_l2_absent_span(img, 1024), 257);
	KTAP_EXPECT_EQ(ski_l2_absent_span(img, 1280), 1);
	KTAP_EXPECT_EQ(ski_l2_absent_span(img, 1281), 0);
	for (gc = 0; gc < img->guest_clusters; gc++) {
		span = ski_l2_absent_span(img, gc);
		KTAP_EXPECT(!ski_block_status(img, gc, &kind, &host));
		if (span && kind != SKI_UNALLOCATED)
			agree = false;
	}
	KTAP_EXPECT(agree);
	ski_close(img);
}

/*
 * Compaction and defragmentation with reverse-map windows of 5 clusters
 * (the image has about 70) end where they do with one window covering the
 * file: the same size, the same content, clean.
 */
static void test_compact_and_defrag_windows(void)
{
	static u8 ref[256 << 10];
	const char *path = tmp_path("frag.qcow2");
	enum ski_op_kind kind;
	u64 whole;

	for (kind = SKI_OP_COMPACT; kind <= SKI_OP_DEFRAG; kind++) {
		imgt_make_fragmented(path, ref, sizeof(ref), 0);
		KTAP_EXPECT(!imgt_run_op(path, kind, 3));
		whole = file_size(path);
		imgt_rmap_window = 5;
		imgt_make_fragmented(path, ref, sizeof(ref), 0);
		KTAP_EXPECT(!imgt_run_op(path, kind, 3));
		imgt_rmap_window = 0;
		KTAP_EXPECT_EQ(file_size(path), whole);
		KTAP_EXPECT(image_clean(path));
		KTAP_EXPECT(imgt_equals(path, ref, sizeof(ref)));
	}
}

static void test_commit_and_stream(void)
{
	static u8 base_ref[256 << 10], ref[256 << 10];
	const char *base = tmp_path("base.qcow2");
	const char *child = tmp_path("child.qcow2");
	struct ski_create_opts co = { .size = sizeof(ref), .cluster_bits = 12 };
	u8 buf[10000];

	unlink(base);
	KTAP_ASSERT(!ski_create(base, &co));
	fill(base_ref, sizeof(base_ref), 11);
	KTAP_ASSERT(!write_at(base, base_ref, sizeof(base_ref), 0));
	unlink(child);
	co.backing_file = "base.qcow2";
	co.backing_format = "qcow2";
	KTAP_ASSERT(!ski_create(child, &co));
	memcpy(ref, base_ref, sizeof(ref));
	fill(buf, sizeof(buf), 12);
	KTAP_ASSERT(!write_at(child, buf, sizeof(buf), 5000));
	memcpy(ref + 5000, buf, sizeof(buf));
	KTAP_ASSERT(!discard_at(child, 65536, 8192));
	memset(ref + 65536, 0, 8192);
	KTAP_EXPECT(imgt_equals(child, ref, sizeof(ref)));

	copy_file(base, tmp_path("base.orig"));
	copy_file(child, tmp_path("child.orig"));
	KTAP_EXPECT(!imgt_run_op(child, SKI_OP_COMMIT, 2));
	KTAP_EXPECT(image_clean(base));
	KTAP_EXPECT(image_clean(child));
	KTAP_EXPECT(imgt_equals(base, ref, sizeof(ref)));
	KTAP_EXPECT(imgt_equals(child, ref, sizeof(ref)));

	copy_file(tmp_path("base.orig"), base);
	copy_file(tmp_path("child.orig"), child);
	KTAP_EXPECT(!imgt_run_op(child, SKI_OP_STREAM, 3));
	KTAP_EXPECT(image_clean(child));
	unlink(base);
	KTAP_EXPECT(imgt_equals(child, ref, sizeof(ref)));
	copy_file(tmp_path("base.orig"), base);
}

/*
 * Commit across cluster sizes: a child with smaller clusters zeroes a range
 * that covers only part of a parent cluster (ski_discard() of whole child
 * clusters, i.e. zero clusters over the backing file), and holds data past
 * a parent that is smaller than the child.  After the commit the parent
 * must read exactly what the child read, zeroes included, at the child's
 * size.
 */
static void commit_across(unsigned int pbits, unsigned int cbits,
			  u64 psize)
{
	struct ski_create_opts co = { .size = psize, .cluster_bits = pbits };
	const char *parent = tmp_path("xparent.qcow2");
	const char *child = tmp_path("xchild.qcow2");
	static u8 ref[6 << 20], buf[6 << 20];
	u64 csize = 6 << 20, zlen = 1ULL << cbits;
	struct ski_image *img;

	unlink(parent);
	unlink(child);
	KTAP_ASSERT(!ski_create(parent, &co));
	memset(ref, 0, sizeof(ref));
	fill(ref, psize, pbits);
	KTAP_ASSERT(!write_at(parent, ref, psize, 0));
	co.size = csize;
	co.cluster_bits = cbits;
	co.backing_file = "xparent.qcow2";
	co.backing_format = "qcow2";
	KTAP_ASSERT(!ski_create(child, &co));
	KTAP_ASSERT(!discard_at(child, 0, zlen));
	KTAP_ASSERT(!discard_at(child, 3 << 20, zlen));
	memset(ref, 0, zlen);
	memset(ref + (3 << 20), 0, zlen);
	fill(buf, 10000, cbits);
	KTAP_ASSERT(!write_at(child, buf, 10000, (5 << 20) + 100));
	memcpy(ref + (5 << 20) + 100, buf, 10000);
	KTAP_ASSERT(imgt_equals(child, ref, csize));

	KTAP_EXPECT(!imgt_run_op(child, SKI_OP_COMMIT, 7));
	KTAP_EXPECT(image_clean(parent));
	KTAP_EXPECT(image_clean(child));
	KTAP_EXPECT(imgt_equals(child, ref, csize));
	KTAP_ASSERT(!ski_open(parent, SKI_OPEN_NO_BACKING, &img));
	KTAP_EXPECT_EQ(img->hdr.size, csize);
	KTAP_EXPECT(!ski_read(img, buf, csize, 0));
	ski_close(img);
	if (memcmp(buf, ref, csize)) {
		u64 b = 0;

		while (buf[b] == ref[b])
			b++;
		printf("# parent %u, child %u bits: byte %llu reads 0x%02x, "
		       "child read 0x%02x\n", pbits, cbits,
		       (unsigned long long)b, buf[b], ref[b]);
		KTAP_EXPECT(false);
	}
}

static void test_commit_cluster_sizes(void)
{
	static const unsigned int pbits[] = { 17, 20, 21 }, cbits[] = { 12, 16 };
	unsigned int p, c;

	for (p = 0; p < KTAP_ARRAY_SIZE(pbits); p++)
		for (c = 0; c < KTAP_ARRAY_SIZE(cbits); c++)
			commit_across(pbits[p], cbits[c], 6 << 20);
	/* Child clusters larger than the parent's: whole parent clusters. */
	commit_across(12, 16, 6 << 20);
}

static void test_commit_grows_parent(void)
{
	/* Smaller parent, its size not a multiple of its clusters. */
	commit_across(16, 12, (4 << 20) + 4096);
	commit_across(21, 16, 4 << 20);
	commit_across(12, 12, 100000);
}

/*
 * Cut @kind at every mutation: a forked child runs it with the crash point
 * set, the parent checks the survivor.  Stops when a run completes.
 */
static void crash_every_step(const char *what, enum ski_op_kind kind,
			     void (*setup)(u8 *ref, size_t len), u8 *ref,
			     size_t len, const char *path, u64 budget)
{
	long cut;
	int crashed = 0, bad = 0;

	for (cut = 0; cut < 100000; cut++) {
		pid_t pid;
		int status;

		setup(ref, len);
		fflush(stdout);
		pid = fork();
		if (pid == 0) {
			skp_user_set_log_level(-1);
			skp_user_set_crash_after(cut);
			_exit(imgt_run_op(path, kind, budget) ? 1 : 0);
		}
		waitpid(pid, &status, 0);
		if (!WIFEXITED(status) || (WEXITSTATUS(status) != 99 &&
					   WEXITSTATUS(status) != 0)) {
			bad++;
			break;
		}
		if (!image_has_no_errors(path) ||
		    !imgt_equals(path, ref, len)) {
			printf("# %s: bad image after cut %ld\n", what, cut);
			bad++;
			break;
		}
		/*
		 * Resuming after the crash must finish with the same content;
		 * a crash may leak clusters, which only compaction reclaims.
		 */
		if (WEXITSTATUS(status) == 99 && (cut % 7 == 0)) {
			if (imgt_run_op(path, kind, budget) ||
			    !image_has_no_errors(path) ||
			    !imgt_equals(path, ref, len) ||
			    (kind <= SKI_OP_DEFRAG && !image_clean(path))) {
				printf("# %s: resume failed after cut %ld\n",
				       what, cut);
				bad++;
				break;
			}
		}
		if (WEXITSTATUS(status) == 0)
			break;
		crashed++;
	}
	printf("# %s: %d crash points verified\n", what, crashed);
	KTAP_EXPECT(crashed > 10);
	KTAP_EXPECT_EQ(bad, 0);
}

static void setup_frag(u8 *ref, size_t len)
{
	imgt_make_fragmented(tmp_path("crash.qcow2"), ref, len, 0);
}

static void test_crash_compact(void)
{
	static u8 ref[64 << 10];

	crash_every_step("compact", SKI_OP_COMPACT, setup_frag, ref,
			 sizeof(ref), tmp_path("crash.qcow2"), 2);
}

static void test_crash_defrag(void)
{
	static u8 ref[64 << 10];

	crash_every_step("defrag", SKI_OP_DEFRAG, setup_frag, ref,
			 sizeof(ref), tmp_path("crash.qcow2"), 2);
}

/*
 * The same with a reverse-map window of 8 clusters (the 64 KiB image has
 * about 20 host clusters): the leak pass, defragmentation and compaction
 * each move their window through the file.
 */
static void test_crash_compact_windows(void)
{
	static u8 ref[64 << 10];

	imgt_rmap_window = 8;
	crash_every_step("compact, 8-cluster windows", SKI_OP_COMPACT,
			 setup_frag, ref, sizeof(ref), tmp_path("crash.qcow2"),
			 2);
	imgt_rmap_window = 0;
}

static void test_crash_defrag_windows(void)
{
	static u8 ref[64 << 10];

	imgt_rmap_window = 8;
	crash_every_step("defrag, 8-cluster windows", SKI_OP_DEFRAG,
			 setup_frag, ref, sizeof(ref), tmp_path("crash.qcow2"),
			 2);
	imgt_rmap_window = 0;
}

static void setup_chain(u8 *ref, size_t len)
{
	struct ski_create_opts co = { .size = len, .cluster_bits = 12 };
	const char *base = tmp_path("cbase.qcow2");
	u8 buf[4096];

	unlink(base);
	if (ski_create(base, &co))
		abort();
	fill(ref, len, 21);
	if (write_at(base, ref, len, 0))
		abort();
	unlink(tmp_path("crash.qcow2"));
	co.backing_file = "cbase.qcow2";
	co.backing_format = "qcow2";
	if (ski_create(tmp_path("crash.qcow2"), &co))
		abort();
	fill(buf, sizeof(buf), 22);
	if (write_at(tmp_path("crash.qcow2"), buf, 3000, 10000) ||
	    write_at(tmp_path("crash.qcow2"), buf, 4096, 40960))
		abort();
	memcpy(ref + 10000, buf, 3000);
	memcpy(ref + 40960, buf, 4096);
	if (discard_at(tmp_path("crash.qcow2"), 16384, 8192))
		abort();
	memset(ref + 16384, 0, 8192);
}

static void test_crash_commit(void)
{
	static u8 ref[64 << 10];

	crash_every_step("commit", SKI_OP_COMMIT, setup_chain, ref,
			 sizeof(ref), tmp_path("crash.qcow2"), 1);
	KTAP_EXPECT(image_clean(tmp_path("cbase.qcow2")));
	KTAP_EXPECT(imgt_equals(tmp_path("cbase.qcow2"), ref, sizeof(ref)));
}

static void test_crash_stream(void)
{
	static u8 ref[64 << 10];

	crash_every_step("stream", SKI_OP_STREAM, setup_chain, ref,
			 sizeof(ref), tmp_path("crash.qcow2"), 1);
}

/* Remove the scratch directory: housekeeping, not a test case. */
static void remove_scratch(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", imgt_dir());
	if (system(cmd))
		printf("# could not remove %s\n", imgt_dir());
}

static const struct ktap_case cases[] = {
	KTAP_CASE(test_write_read),
	KTAP_CASE(test_small_clusters_grow_refcounts),
	KTAP_CASE(test_hostile_l2_refused),
	KTAP_CASE(test_compact_and_defrag),
	KTAP_CASE(test_l2_absent_span),
	KTAP_CASE(test_compact_and_defrag_windows),
	KTAP_CASE(test_commit_and_stream),
	KTAP_CASE(test_commit_cluster_sizes),
	KTAP_CASE(test_commit_grows_parent),
	KTAP_CASE(test_crash_compact),
	KTAP_CASE(test_crash_defrag),
	KTAP_CASE(test_crash_compact_windows),
	KTAP_CASE(test_crash_defrag_windows),
	KTAP_CASE(test_crash_commit),
	KTAP_CASE(test_crash_stream),
};

int main(void)
{
	int rc = ktap_main(cases, KTAP_ARRAY_SIZE(cases));

	remove_scratch();
	return rc;
}
