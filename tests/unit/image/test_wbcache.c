// SPDX-License-Identifier: GPL-2.0
/*
 * Power-cut tests of the image engine under a write-back disk cache model
 * (wbcache.c): each case records one piece of engine work on real files,
 * then checks every state a cut at any point, with any allowed loss of
 * unflushed writes, could leave on disk.  Covered: guest writes and
 * discards (standalone and over a backing file, over zero and compressed
 * clusters), a new refcount block, refcount-table growth,
 * compaction, defragmentation (also with small reverse-map windows), commit
 * (also growing a smaller parent with
 * larger clusters), stream and a header rewrite.
 *
 * What a state must satisfy: qemu-img check and our check find no errors
 * (leaks are allowed); guest content reads exactly what was written and
 * flushed (ski_flush) before the cut, and each byte written or discarded
 * since then reads either its old value or one of the values written since,
 * never anything else; long operations show unchanged guest content, and
 * some states are resumed and must then finish cleanly.
 */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "ktap.h"
#include "core/image_priv.h"
#include "core/ops.h"
#include "user/platform_user.h"
#include "helpers.h"
#include "wbcache.h"

static const char *tmp_path(const char *name)
{
	skp_user_set_log_level(-1);
	return imgt_path("/tmp/sk-wbc-unit.XXXXXX", name);
}

static void fill(u8 *buf, size_t len, unsigned int seed)
{
	imgt_fill(buf, len, seed, 1);	/* never zero: a lost write shows */
}

static bool image_clean(const char *path)
{
	return imgt_check_ok(path, false);
}

static void expect_replay(const struct wbc_scenario *sc, long min_states)
{
	struct wbc_stats st;

	KTAP_EXPECT(!wbc_replay(sc, &st));
	KTAP_EXPECT(st.states >= min_states);
	KTAP_EXPECT_EQ(st.failures, 0);
}

/* ---- guest I/O: what each byte may read after a cut --------------------- */

#define FLUSH_MARK	100000L	/* mark FLUSH_MARK + n: ops < n are flushed */

struct guest_op {
	bool discard;		/* whole clusters only */
	bool flush;
	u64 off, len;
	u8 *data;
};

struct guest_model {
	const char *name;	/* the image the guest writes, in the chain */
	unsigned int image;	/* its index in the watched files */
	const u8 *initial;	/* guest content before the recording */
	u64 size;
	struct guest_op *ops;
	unsigned int nr;
	u8 *baseline, *read;	/* scratch, @size each */
	/* online: a long operation runs, a guest op after each step */
	bool online;
	enum ski_op_kind kind;
	u64 budget;
};

static void apply_guest_op(u8 *buf, const struct guest_op *op)
{
	if (op->flush)
		return;
	if (op->discard)
		memset(buf + op->off, 0, op->len);
	else
		memcpy(buf + op->off, op->data, op->len);
}

static bool guest_verify(void *ctx, const struct wbc_state *st)
{
	struct guest_model *g = ctx;
	unsigned int begun = 0, flushed = 0, i;
	struct ski_image *img;
	u64 b;
	bool ok;

	for (i = 0; i < st->nr_marks; i++) {
		if (st->marks[i] >= FLUSH_MARK)
			flushed = st->marks[i] - FLUSH_MARK;
		else
			begun = st->marks[i] + 1;
	}
	if (ski_open(st->paths[g->image], 0, &img)) {
		printf("# guest image does not open\n");
		return false;
	}
	ok = img->hdr.size == g->size &&
	     !ski_read(img, g->read, g->size, 0);
	ski_close(img);
	if (!ok) {
		printf("# guest image does not read\n");
		return false;
	}
	memcpy(g->baseline, g->initial, g->size);
	for (i = 0; i < flushed; i++)
		apply_guest_op(g->baseline, &g->ops[i]);
	for (b = 0; b < g->size; b++) {
		/* Fast path: a whole aligned block as flushed. */
		if (!(b & 4095) && b + 4096 <= g->size &&
		    !memcmp(g->read + b, g->baseline + b, 4096)) {
			b += 4095;
			continue;
		}
		u8 v = g->read[b];
		bool allowed = v == g->baseline[b];

		for (i = flushed; !allowed && i < begun; i++) {
			const struct guest_op *op = &g->ops[i];

			if (op->flush || b < op->off || b >= op->off + op->len)
				continue;
			allowed = v == (op->discard ? 0 : op->data[b - op->off]);
		}
		if (!allowed) {
			printf("# guest byte %llu reads 0x%02x: neither flushed (0x%02x) nor written since (%u of %u ops flushed, %u begun)\n",
			       (unsigned long long)b, v, g->baseline[b], flushed,
			       g->nr, begun);
			return false;
		}
	}
	return true;
}

/* Guest op @i of @g on @img, its progress marked in the log. */
static int guest_op_run(struct guest_model *g, struct ski_image *img,
			unsigned int i)
{
	const struct guest_op *op = &g->ops[i];
	int err;

	wbc_mark(i);
	if (op->flush) {
		err = ski_flush(img);
		wbc_mark(FLUSH_MARK + i + 1);
	} else if (op->discard) {
		err = ski_discard(img, op->off, op->len);
	} else {
		err = ski_write(img, op->data, op->len, op->off);
	}
	return err;
}

/* The guest between two steps, or in a step's unlocked window. */
struct guest_run {
	struct guest_model *g;
	struct ski_image *img;
	unsigned int next;	/* the guest's next op */
	int err;
};

static void guest_next(struct guest_run *r)
{
	if (!r->err && r->next < r->g->nr)
		r->err = guest_op_run(r->g, r->img, r->next++);
}

static void nop_unlock(void *arg)
{
}

/* As a step takes the lock back: the guest's request that came meanwhile. */
static void relock_guest(void *arg)
{
	guest_next(arg);
}

/*
 * Run the guest's ops on the watched image, marking progress in the log;
 * online, one op after each step of the long operation (as splitkit_back
 * interleaves them) and one in each window a step runs unlocked
 * (ski_op_set_unlock()), until both are done.
 */
static int guest_run(struct guest_model *g, const char *path)
{
	struct guest_run r = { .g = g };
	struct ski_op op;
	bool op_done = !g->online;
	int err = ski_open(path, SKI_OPEN_RW, &r.img);

	if (!err && g->online) {
		err = ski_op_begin(&op, r.img, g->kind);
		ski_op_set_unlock(&op, nop_unlock, relock_guest, &r);
	}
	while (!err && !r.err && (!op_done || r.next < g->nr)) {
		if (!op_done) {
			err = ski_op_step(&op, g->budget);
			op_done = err == 1;
			if (err == 1)
				err = 0;
		}
		if (!err)
			guest_next(&r);
	}
	if (!err)
		err = r.err;
	if (g->online && r.img)
		ski_op_end(&op);
	if (r.img)
		ski_close(r.img);
	return err;
}

static void guest_scenario(const char *name, struct guest_model *g,
			   const char *const *paths, unsigned int nr_paths,
			   long min_states)
{
	struct wbc_scenario sc = { .name = name, .verify = guest_verify,
				   .ctx = g };
	unsigned int i;

	g->baseline = malloc(g->size);
	g->read = malloc(g->size);
	KTAP_ASSERT(g->baseline && g->read);
	KTAP_ASSERT(imgt_equals(paths[g->image], g->initial, g->size));
	wbc_record_start(paths, nr_paths);
	KTAP_EXPECT(!guest_run(g, paths[g->image]));
	wbc_record_stop();
	expect_replay(&sc, min_states);
	for (i = 0; i < g->nr; i++)
		free(g->ops[i].data);
	free(g->baseline);
	free(g->read);
}

/* Writes (in place, copy-on-write, partial, spanning) and discards. */
static unsigned int guest_ops(struct guest_op *ops, u64 cs)
{
	static const struct { char kind; u64 off, len; } plan[] = {
		{ 'w', 2, 1 },		/* a whole cluster */
		{ 'w', 5, 0 },		/* a partial one (len = 3000 bytes) */
		{ 'f', 0, 0 },
		{ 'w', 1, 2 },		/* overwrite across two clusters */
		{ 'd', 4, 2 },		/* discard two clusters */
		{ 'w', 4, 0 },		/* partial write into the discarded */
		{ 'f', 0, 0 },
		{ 'w', 10, 9 },		/* a multi-cluster batch */
		{ 'd', 0, 3 },
		{ 'w', 11, 0 },
		{ 'f', 0, 0 },
		{ 'w', 30, 2 },		/* left unflushed at the end */
	};
	unsigned int i;

	for (i = 0; i < KTAP_ARRAY_SIZE(plan); i++) {
		struct guest_op *op = &ops[i];

		memset(op, 0, sizeof(*op));
		op->flush = plan[i].kind == 'f';
		op->discard = plan[i].kind == 'd';
		op->off = plan[i].off * cs + (plan[i].len ? 0 : 700);
		op->len = plan[i].len ? plan[i].len * cs : 3000;
		if (plan[i].kind == 'w') {
			op->data = malloc(op->len);
			fill(op->data, op->len, 100 + i);
		}
	}
	return i;
}

#define IO_SIZE	(40 << 12)

static void test_guest_io(void)
{
	struct ski_create_opts co = { .size = IO_SIZE, .cluster_bits = 12 };
	static u8 ref[IO_SIZE];
	const char *path = tmp_path("io.qcow2");
	struct guest_op ops[16];
	struct guest_model g = { .initial = ref, .size = IO_SIZE, .ops = ops };
	enum ski_cluster_kind kind;
	struct ski_image *img;
	char cmd[256];
	u64 host;

	unlink(path);
	KTAP_ASSERT(!ski_create(path, &co));
	/* Every other cluster allocated, so writes hit both kinds. */
	fill(ref, sizeof(ref), 1);
	KTAP_ASSERT(!ski_open(path, SKI_OPEN_RW, &img));
	for (u64 c = 0; c < IO_SIZE >> 12; c += 2)
		KTAP_ASSERT(!ski_write(img, ref + (c << 12), 4096, c << 12));
	ski_close(img);
	for (u64 c = 1; c < IO_SIZE >> 12; c += 2)
		memset(ref + (c << 12), 0, 4096);
	/*
	 * Entries the writes must release once they are replaced: cluster 2 a
	 * zero cluster that keeps its allocation, cluster 5 compressed.
	 */
	snprintf(cmd, sizeof(cmd), "qemu-io -f qcow2 -c 'write -q -z 8k 4k' "
		 "-c 'write -q -c -P 0x55 20k 4k' '%s' >/dev/null", path);
	KTAP_ASSERT(!system(cmd));
	memset(ref + (2 << 12), 0, 4096);
	memset(ref + (5 << 12), 0x55, 4096);
	KTAP_ASSERT(!ski_open(path, 0, &img));
	KTAP_ASSERT(!ski_block_status(img, 2, &kind, &host) &&
		    kind == SKI_ZERO && host);
	KTAP_ASSERT(!ski_block_status(img, 5, &kind, &host) &&
		    kind == SKI_COMPRESSED);
	ski_close(img);
	g.nr = guest_ops(ops, 4096);
	guest_scenario("guest writes and discards", &g, &path, 1, 50);
}

static void test_guest_io_backing(void)
{
	struct ski_create_opts co = { .size = IO_SIZE, .cluster_bits = 12 };
	static u8 ref[IO_SIZE];
	const char *paths[] = { tmp_path("iobase.qcow2"),
				tmp_path("iochild.qcow2") };
	struct guest_op ops[16];
	struct guest_model g = { .initial = ref, .size = IO_SIZE, .ops = ops,
				 .image = 1 };
	struct ski_image *img;

	unlink(paths[0]);
	unlink(paths[1]);
	KTAP_ASSERT(!ski_create(paths[0], &co));
	fill(ref, sizeof(ref), 2);
	KTAP_ASSERT(!ski_open(paths[0], SKI_OPEN_RW, &img));
	KTAP_ASSERT(!ski_write(img, ref, sizeof(ref), 0));
	ski_close(img);
	co.backing_file = "iobase.qcow2";
	co.backing_format = "qcow2";
	KTAP_ASSERT(!ski_create(paths[1], &co));
	KTAP_ASSERT(!ski_open(paths[1], SKI_OPEN_RW, &img));
	for (u64 c = 0; c < IO_SIZE >> 12; c += 3) {
		fill(ref + (c << 12), 4096, 200 + c);
		KTAP_ASSERT(!ski_write(img, ref + (c << 12), 4096, c << 12));
	}
	ski_close(img);
	g.nr = guest_ops(ops, 4096);
	guest_scenario("guest writes and discards over a backing file", &g,
		       paths, 2, 50);
}

/*
 * Online: compaction, defragmentation and commit with the guest writing,
 * discarding and flushing between their steps and inside their unlocked
 * windows.  At every cut the guest
 * reads what it had flushed, or for bytes written since, what it wrote;
 * a commit's guest writes behind its cursor go to the parent, and the
 * guest's flush must make those durable too.
 */
static void online_case(const char *name, enum ski_op_kind kind, u64 budget)
{
	static u8 ref[IO_SIZE], base_ref[IO_SIZE];
	const char *paths[] = { tmp_path("onbase.qcow2"),
				tmp_path("online.qcow2") };
	struct ski_create_opts co = { .size = IO_SIZE, .cluster_bits = 12 };
	struct guest_op ops[16];
	struct guest_model g = { .initial = ref, .size = IO_SIZE, .ops = ops,
				 .online = true, .kind = kind,
				 .budget = budget };
	struct ski_image *img;
	u64 c;

	if (kind != SKI_OP_COMMIT) {
		imgt_make_fragmented(paths[1], ref, IO_SIZE, 1);
		g.nr = guest_ops(ops, 4096);
		guest_scenario(name, &g, &paths[1], 1, 30);
		return;
	}
	unlink(paths[0]);
	unlink(paths[1]);
	KTAP_ASSERT(!ski_create(paths[0], &co));
	fill(base_ref, sizeof(base_ref), 3);
	KTAP_ASSERT(!ski_open(paths[0], SKI_OPEN_RW, &img));
	KTAP_ASSERT(!ski_write(img, base_ref, sizeof(base_ref), 0));
	ski_close(img);
	memcpy(ref, base_ref, sizeof(ref));
	co.backing_file = "onbase.qcow2";
	co.backing_format = "qcow2";
	KTAP_ASSERT(!ski_create(paths[1], &co));
	KTAP_ASSERT(!ski_open(paths[1], SKI_OPEN_RW, &img));
	for (c = 0; c < IO_SIZE >> 12; c += 3) {
		fill(ref + (c << 12), 4096, 300 + c);
		KTAP_ASSERT(!ski_write(img, ref + (c << 12), 4096, c << 12));
	}
	ski_close(img);
	g.image = 1;
	g.nr = guest_ops(ops, 4096);
	guest_scenario(name, &g, paths, 2, 30);
}

static void test_online(void)
{
	online_case("online compact, guest writing", SKI_OP_COMPACT, 2);
	online_case("online defrag, guest writing", SKI_OP_DEFRAG, 3);
	online_case("online commit, guest writing", SKI_OP_COMMIT, 2);
}

/*
 * 512-byte clusters: a refcount block covers 256 clusters and the first
 * refcount table (one cluster, 64 entries) 8 MiB of file.  A little guest
 * data, then refcounts raised on every cluster up to just below @limit
 * (leaks, which keep the guest small and each replayed state quick to
 * read), then a recorded write that allocates past @limit.
 */
#define GROW_SIZE	(256 << 10)
#define RB_CLUSTERS	256
#define GROW_LIMIT	(64 * RB_CLUSTERS)

static void refcount_case(const char *name, u64 limit, const char *file)
{
	struct ski_create_opts co = { .size = GROW_SIZE, .cluster_bits = 9 };
	static u8 ref[GROW_SIZE];
	const char *path = tmp_path(file);
	struct guest_op ops[2];
	struct guest_model g = { .initial = ref, .size = GROW_SIZE,
				 .ops = ops, .nr = 2 };
	struct ski_image *img;
	u64 at = GROW_SIZE / 2, c;

	unlink(path);
	KTAP_ASSERT(!ski_create(path, &co));
	fill(ref, sizeof(ref), 3);
	KTAP_ASSERT(!ski_open(path, SKI_OPEN_RW, &img));
	KTAP_ASSERT(!ski_write(img, ref, at, 0));
	for (c = img->end_cluster; c < limit - 6; c++)
		KTAP_ASSERT(!ski_set_refcount(img, c, 1));
	KTAP_ASSERT(!ski_flush(img));
	/* The input: no refcount block (nor table slot) for @limit yet. */
	KTAP_ASSERT(img->hdr.refcount_table_clusters == 1);
	KTAP_ASSERT(limit / RB_CLUSTERS >= img->reftable_entries ||
		    !img->reftable[limit / RB_CLUSTERS]);
	ski_close(img);
	memset(ref + at, 0, sizeof(ref) - at);
	memset(ops, 0, sizeof(ops));
	ops[0].off = at + 100;
	ops[0].len = 16 * 512;
	ops[0].data = malloc(ops[0].len);
	fill(ops[0].data, ops[0].len, 4);
	ops[1].flush = true;
	guest_scenario(name, &g, &path, 1, 20);
	KTAP_ASSERT(!ski_open(path, 0, &img));
	KTAP_EXPECT(limit / RB_CLUSTERS < img->reftable_entries &&
		    img->reftable[limit / RB_CLUSTERS]);
	ski_close(img);
}

static void test_new_refcount_block(void)
{
	refcount_case("new refcount block", 63 * RB_CLUSTERS, "rb.qcow2");
}

static void test_reftable_growth(void)
{
	refcount_case("refcount-table growth", GROW_LIMIT, "grow.qcow2");
}

/* ---- long operations: content never changes ----------------------------- */

#define OP_SIZE	(64 << 10)

struct op_ctx {
	enum ski_op_kind kind;
	u64 budget;
	unsigned int image;		/* watched index of the op's image */
	int parent;			/* commit: watched index of the parent */
	const u8 *ref;			/* guest content throughout */
	const u8 *parent_ref;		/* commit: parent content before */
	u64 size;			/* guest size; 0: OP_SIZE */
};

static bool parent_old_or_new(const struct op_ctx *o, const char *path)
{
	static u8 buf[OP_SIZE];
	struct ski_image *img;
	bool ok;
	size_t b;

	if (ski_open(path, SKI_OPEN_NO_BACKING, &img))
		return false;
	ok = !ski_read(img, buf, OP_SIZE, 0);
	ski_close(img);
	for (b = 0; ok && b < OP_SIZE; b++)
		ok = buf[b] == o->ref[b] || buf[b] == o->parent_ref[b];
	return ok;
}

static bool op_verify(void *ctx, const struct wbc_state *st)
{
	struct op_ctx *o = ctx;

	if (!imgt_equals(st->paths[o->image], o->ref, o->size)) {
		printf("# guest content changed\n");
		return false;
	}
	if (o->parent >= 0 && !parent_old_or_new(o, st->paths[o->parent])) {
		printf("# parent holds neither its old nor the child's data\n");
		return false;
	}
	return true;
}

static bool op_resume(void *ctx, const struct wbc_state *st)
{
	struct op_ctx *o = ctx;
	const char *path = st->paths[o->image];

	if (imgt_run_op(path, o->kind, o->budget) ||
	    !imgt_equals(path, o->ref, o->size))
		return false;
	if (o->kind <= SKI_OP_DEFRAG && !image_clean(path))
		return false;
	if (o->parent >= 0 && !imgt_equals(st->paths[o->parent], o->ref,
					    OP_SIZE))
		return false;
	return true;
}

static void op_scenario(const char *name, struct op_ctx *o,
			const char *const *paths, unsigned int nr,
			long min_states)
{
	struct wbc_scenario sc = { .name = name, .verify = op_verify,
				   .resume = op_resume, .ctx = o };

	if (!o->size)
		o->size = OP_SIZE;
	wbc_record_start(paths, nr);
	KTAP_EXPECT(!imgt_run_op(paths[o->image], o->kind, o->budget));
	wbc_record_stop();
	KTAP_EXPECT(imgt_equals(paths[o->image], o->ref, o->size));
	expect_replay(&sc, min_states);
}

/* Compaction or defragmentation of a fragmented image (helpers.c). */
static void frag_scenario(const char *name, enum ski_op_kind kind)
{
	static u8 ref[OP_SIZE];
	const char *path = tmp_path("frag.qcow2");
	struct op_ctx o = { kind, 2, 0, -1, ref, NULL, 0 };

	imgt_make_fragmented(path, ref, OP_SIZE, 1);
	op_scenario(name, &o, &path, 1, 50);
}

static void test_compact(void)
{
	frag_scenario("compact", SKI_OP_COMPACT);
}

static void test_defrag(void)
{
	frag_scenario("defrag", SKI_OP_DEFRAG);
}

/* The same with 4-cluster reverse-map windows moving through the file. */
static void test_windows(void)
{
	imgt_rmap_window = 4;
	frag_scenario("compact, 4-cluster windows", SKI_OP_COMPACT);
	frag_scenario("defrag, 4-cluster windows", SKI_OP_DEFRAG);
	imgt_rmap_window = 0;
}

/*
 * Compaction moving the L1 table: qemu-img resize puts a grown L1 table at
 * the end of the file (512-byte clusters: one L1 cluster maps 2 MiB), a
 * discard then leaves holes below it, and compaction moves the table down
 * with one header write (move_header_table()).
 */
#define L1_SIZE		(4 << 20)

static void test_compact_moves_l1(void)
{
	struct ski_create_opts co = { .size = 2 << 20, .cluster_bits = 9 };
	static u8 ref[L1_SIZE];
	const char *path = tmp_path("l1.qcow2");
	struct op_ctx o = { SKI_OP_COMPACT, 4, 0, -1, ref, NULL, L1_SIZE };
	struct ski_image *img;
	char cmd[256];
	u64 l1_before;

	unlink(path);
	KTAP_ASSERT(!ski_create(path, &co));
	fill(ref, 64 << 10, 5);
	KTAP_ASSERT(!ski_open(path, SKI_OPEN_RW, &img));
	KTAP_ASSERT(!ski_write(img, ref, 64 << 10, 0));
	ski_close(img);
	snprintf(cmd, sizeof(cmd), "qemu-img resize -q -f qcow2 '%s' %d",
		 path, L1_SIZE);
	KTAP_ASSERT(!system(cmd));
	KTAP_ASSERT(!ski_open(path, SKI_OPEN_RW, &img));
	KTAP_ASSERT(!ski_discard(img, 8 << 10, 16 << 10));
	memset(ref + (8 << 10), 0, 16 << 10);
	l1_before = img->hdr.l1_table_offset;
	/* The input: a two-cluster L1 table on top of the file. */
	KTAP_ASSERT(img->hdr.l1_size == 128 &&
		    (l1_before >> 9) + 2 == img->end_cluster);
	ski_close(img);
	op_scenario("compact moving the L1 table", &o, &path, 1, 20);
	KTAP_ASSERT(!ski_open(path, 0, &img));
	KTAP_EXPECT(img->hdr.l1_table_offset < l1_before);
	ski_close(img);
}

/* cbase.qcow2 <- chain.qcow2, the child holding a few clusters. */
static void make_chain(u8 *ref, u8 *base_ref)
{
	struct ski_create_opts co = { .size = OP_SIZE, .cluster_bits = 12 };
	const char *base = tmp_path("cbase.qcow2");
	const char *child = tmp_path("chain.qcow2");
	struct ski_image *img;
	u8 buf[4096];

	unlink(base);
	unlink(child);
	if (ski_create(base, &co) || ski_open(base, SKI_OPEN_RW, &img))
		abort();
	fill(base_ref, OP_SIZE, 21);
	if (ski_write(img, base_ref, OP_SIZE, 0))
		abort();
	ski_close(img);
	memcpy(ref, base_ref, OP_SIZE);
	co.backing_file = "cbase.qcow2";
	co.backing_format = "qcow2";
	if (ski_create(child, &co) || ski_open(child, SKI_OPEN_RW, &img))
		abort();
	fill(buf, sizeof(buf), 22);
	if (ski_write(img, buf, 3000, 10000) ||
	    ski_write(img, buf, 4096, 40960) ||
	    ski_discard(img, 16384, 8192))
		abort();
	ski_close(img);
	memcpy(ref + 10000, buf, 3000);
	memcpy(ref + 40960, buf, 4096);
	memset(ref + 16384, 0, 8192);
}

static void test_commit(void)
{
	static u8 ref[OP_SIZE], base_ref[OP_SIZE];
	const char *paths[] = { tmp_path("cbase.qcow2"),
				tmp_path("chain.qcow2") };
	struct op_ctx o = { SKI_OP_COMMIT, 1, 1, 0, ref, base_ref, 0 };

	make_chain(ref, base_ref);
	op_scenario("commit", &o, paths, 2, 20);
	KTAP_EXPECT(imgt_equals(paths[0], ref, OP_SIZE));
}

/*
 * Commit into a smaller parent with larger clusters: the parent (16 KiB
 * clusters, 40 KiB) grows to the child's 64 KiB (the L1 table stays, the
 * tail of its last cluster is zeroed, then the size field), and a zero
 * cluster of the child (4 KiB) covers part of a parent cluster, which must
 * be written as zeroes.  In every state the child reads as before, and the
 * parent has its old or new size and reads, byte by byte, its old content
 * (zero past its old end) or the child's.
 */
struct grow_ctx {
	const u8 *ref, *parent_ref;	/* OP_SIZE each; parent_ref zero-padded */
	u64 psize;			/* the parent's size before */
	bool chain;			/* the parent has a backing file */
};

static bool grow_verify(void *ctx, const struct wbc_state *st)
{
	struct grow_ctx *g = ctx;
	static u8 buf[OP_SIZE];
	struct ski_image *img;
	bool ok;
	u64 b, size;

	if (!imgt_equals(st->paths[1], g->ref, OP_SIZE)) {
		printf("# child content changed\n");
		return false;
	}
	if (ski_open(st->paths[0], g->chain ? 0 : SKI_OPEN_NO_BACKING, &img))
		return false;
	size = img->hdr.size;
	ok = (size == g->psize || size == OP_SIZE) &&
	     !ski_read(img, buf, size, 0);
	ski_close(img);
	for (b = 0; ok && b < size; b++)
		ok = buf[b] == g->ref[b] || buf[b] == g->parent_ref[b];
	if (!ok)
		printf("# parent (size %llu) holds neither its old nor the "
		       "child's data\n", (unsigned long long)size);
	return ok;
}

static bool grow_resume(void *ctx, const struct wbc_state *st)
{
	struct grow_ctx *g = ctx;
	int err = imgt_run_op(st->paths[1], SKI_OP_COMMIT, 1);

	if (err) {
		printf("# resumed commit: %d\n", err);
		return false;
	}
	/* A cut may leak clusters (a new L1 table not yet switched to). */
	if (!imgt_equals(st->paths[1], g->ref, OP_SIZE) ||
	    !imgt_equals(st->paths[0], g->ref, OP_SIZE) ||
	    !imgt_check_ok(st->paths[0], true)) {
		printf("# resumed commit: wrong content or errors\n");
		return false;
	}
	return true;
}

static void grow_case(const char *name, unsigned int pbits, u64 psize,
		      bool chain)
{
	struct ski_create_opts co = { .size = psize, .cluster_bits = pbits };
	static u8 ref[OP_SIZE], parent_ref[OP_SIZE];
	const char *paths[] = { tmp_path("gbase.qcow2"),
				tmp_path("gchild.qcow2"),
				tmp_path("ggp.qcow2") };
	struct grow_ctx g = { ref, parent_ref, psize, chain };
	struct wbc_scenario sc = { .name = name,
				   .verify = grow_verify,
				   .resume = grow_resume, .ctx = &g };
	struct ski_image *img;
	u8 buf[3000];

	unlink(paths[0]);
	unlink(paths[1]);
	unlink(paths[2]);
	memset(parent_ref, 0, OP_SIZE);
	if (chain) {
		/* A grandparent longer than the parent, which holds little. */
		struct ski_create_opts gco = { .size = OP_SIZE,
					       .cluster_bits = 12 };

		KTAP_ASSERT(!ski_create(paths[2], &gco));
		fill(ref, OP_SIZE, 33);
		KTAP_ASSERT(!ski_open(paths[2], SKI_OPEN_RW, &img));
		KTAP_ASSERT(!ski_write(img, ref, OP_SIZE, 0));
		ski_close(img);
		co.backing_file = "ggp.qcow2";
		co.backing_format = "qcow2";
	}
	KTAP_ASSERT(!ski_create(paths[0], &co));
	fill(ref, psize, 31);
	KTAP_ASSERT(!ski_open(paths[0], SKI_OPEN_RW, &img));
	KTAP_ASSERT(!ski_write(img, ref, chain ? 5000 : psize, 0));
	KTAP_ASSERT(!ski_read(img, parent_ref, psize, 0));
	ski_close(img);
	memcpy(ref, parent_ref, OP_SIZE);
	co.size = OP_SIZE;
	co.cluster_bits = 12;
	co.backing_file = "gbase.qcow2";
	co.backing_format = "qcow2";
	KTAP_ASSERT(!ski_create(paths[1], &co));
	KTAP_ASSERT(!ski_open(paths[1], SKI_OPEN_RW, &img));
	fill(buf, sizeof(buf), 32);
	KTAP_ASSERT(!ski_discard(img, 4096, 4096));
	KTAP_ASSERT(!ski_write(img, buf, sizeof(buf), 50000));
	ski_close(img);
	memset(ref + 4096, 0, 4096);
	memcpy(ref + 50000, buf, sizeof(buf));
	KTAP_ASSERT(imgt_equals(paths[1], ref, OP_SIZE));

	wbc_record_start(paths, chain ? 3 : 2);
	KTAP_EXPECT(!imgt_run_op(paths[1], SKI_OP_COMMIT, 1));
	wbc_record_stop();
	KTAP_EXPECT(imgt_equals(paths[0], ref, OP_SIZE));
	expect_replay(&sc, 20);
}

static void test_commit_grows_parent(void)
{
	/* Larger parent clusters: a partial one zeroed, its tail too. */
	grow_case("commit growing a parent (16 KiB clusters)", 14, 40 << 10,
		  false);
	/* 512-byte clusters: the parent's L1 table must grow first. */
	grow_case("commit growing a parent and its L1 table", 9, 20000, false);
	/*
	 * A grandparent longer than the parent: the new range must become
	 * zero clusters (and the tail of the last one zeroes) before the new
	 * size is durable, or the grandparent shows through the child.
	 */
	grow_case("commit growing a parent over a longer grandparent", 14,
		  40 << 10, true);
}

static void test_stream(void)
{
	static u8 ref[OP_SIZE], base_ref[OP_SIZE];
	const char *paths[] = { tmp_path("cbase.qcow2"),
				tmp_path("chain.qcow2") };
	struct op_ctx o = { SKI_OP_STREAM, 1, 1, -1, ref, NULL, 0 };

	make_chain(ref, base_ref);
	op_scenario("stream", &o, paths, 2, 50);
	/* mapping what it wrote every 3 clusters: a flush and a map each */
	imgt_stream_pending = 3;
	o.budget = 2;
	make_chain(ref, base_ref);
	op_scenario("stream, mapped every 3 clusters", &o, paths, 2, 50);
	imgt_stream_pending = 0;
}

/* ---- header rewrite ----------------------------------------------------- */

struct header_ctx {
	const u8 *ref;
	const char *old_name, *new_name;
	bool bridge_empty;	/* old info too long for the bridge sector */
};

static bool header_verify(void *ctx, const struct wbc_state *st)
{
	struct header_ctx *h = ctx;
	struct ski_image *img;
	const char *name;
	bool ok;

	if (!imgt_equals(st->paths[1], h->ref, OP_SIZE)) {
		printf("# the chain does not read as before\n");
		return false;
	}
	if (ski_open(st->paths[1], 0, &img))
		return false;
	name = img->has_vminfo ? ski_vminfo_get(&img->vminfo, "name") : NULL;
	ok = name ? !strcmp(name, h->old_name) || !strcmp(name, h->new_name) :
	     h->bridge_empty && !img->has_vminfo;
	ski_close(img);
	if (!ok)
		printf("# VM information is neither the old nor the new\n");
	return ok;
}

/*
 * A child over a backing file gets VM information several sectors long: the
 * backing file name moves behind the bigger extension area.  Then a longer
 * one still: the old header now reaches past the first sector too, so the
 * bridge carries no VM information (which the cut may then lose), and the
 * new tail must not land before the bridge is durable.
 */
static void test_header_rewrite(void)
{
	static u8 ref[OP_SIZE], base_ref[OP_SIZE];
	const char *paths[] = { tmp_path("cbase.qcow2"),
				tmp_path("chain.qcow2") };
	struct header_ctx h = { ref, "old", "new", false };
	struct wbc_scenario sc = { .name = "header rewrite",
				   .verify = header_verify, .ctx = &h };
	struct ski_vminfo info;
	struct ski_image *img;
	char long_value[1500];

	make_chain(ref, base_ref);
	memset(&info, 0, sizeof(info));
	KTAP_ASSERT(!ski_vminfo_set(&info, "name", "old"));
	KTAP_ASSERT(!ski_open(paths[1], SKI_OPEN_RW, &img));
	KTAP_ASSERT(!ski_set_vminfo(img, &info));
	ski_close(img);

	memset(long_value, 'x', sizeof(long_value) - 1);
	long_value[sizeof(long_value) - 1] = 0;
	KTAP_ASSERT(!ski_vminfo_set(&info, "name", "new"));
	KTAP_ASSERT(!ski_vminfo_set(&info, "notes", long_value));
	wbc_record_start(paths, 2);
	KTAP_ASSERT(!ski_open(paths[1], SKI_OPEN_RW, &img));
	KTAP_EXPECT(!ski_set_vminfo(img, &info));
	ski_close(img);
	wbc_record_stop();
	expect_replay(&sc, 3);

	memset(long_value, 'y', sizeof(long_value) - 1);
	KTAP_ASSERT(!ski_vminfo_set(&info, "name", "newer"));
	KTAP_ASSERT(!ski_vminfo_set(&info, "more", long_value));
	h.old_name = "new";
	h.new_name = "newer";
	h.bridge_empty = true;
	wbc_record_start(paths, 2);
	KTAP_ASSERT(!ski_open(paths[1], SKI_OPEN_RW, &img));
	KTAP_EXPECT(!ski_set_vminfo(img, &info));
	ski_close(img);
	wbc_record_stop();
	ski_vminfo_free(&info);
	expect_replay(&sc, 3);
}

static void test_cleanup(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", imgt_dir());
	KTAP_EXPECT(!system(cmd));
}

static const struct ktap_case cases[] = {
	KTAP_CASE(test_guest_io),
	KTAP_CASE(test_guest_io_backing),
	KTAP_CASE(test_new_refcount_block),
	KTAP_CASE(test_reftable_growth),
	KTAP_CASE(test_compact),
	KTAP_CASE(test_defrag),
	KTAP_CASE(test_online),
	KTAP_CASE(test_windows),
	KTAP_CASE(test_compact_moves_l1),
	KTAP_CASE(test_commit),
	KTAP_CASE(test_commit_grows_parent),
	KTAP_CASE(test_stream),
	KTAP_CASE(test_header_rewrite),
	KTAP_CASE(test_cleanup),
};

int main(void)
{
	return ktap_main(cases, KTAP_ARRAY_SIZE(cases));
}
