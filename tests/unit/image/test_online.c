// SPDX-License-Identifier: GPL-2.0
/*
 * Long operations while the guest runs: compaction, defragmentation, commit
 * and stream on an image that keeps taking guest writes, discards and
 * zero-writes between every two steps, the way splitkit_back interleaves
 * them (each engine call, a step included, under the image's lock; see
 * Documentation/image.rst, "Online operations").
 *
 * The rule under test: a step is atomic with respect to guest I/O, and the
 * engine keeps its own state (reverse map, plan, cursor) current across
 * the guest's writes, so a guest write to a cluster the operation is about
 * to move, or has just moved, is never lost or torn.  Each step is followed
 * by guest I/O aimed at the operation's next victims (the highest host
 * clusters for compaction, the clusters at the merge cursor) and random
 * I/O, then the whole disk is read back against a reference buffer.  At
 * the end the image must check clean (no leaks: nothing crashed) and, for
 * a commit, the child must hold nothing, so that the backend can serve the
 * parent alone.
 *
 * With ski_op_set_unlock(), as splitkit_back runs them, a relocation step
 * drops the lock around its copy and flushes: test_unlocked_* do guest
 * I/O inside those windows, aimed at the very clusters just copied
 * (writes into them, discards of them, then random I/O), so each rule of
 * do_moves() is exercised: a written source copied again, a discarded one
 * given up; test_unlocked_commit does the same to a commit's steps.
 * Those runs also do splitkit_back's direct path (ski_map_data()): direct
 * writes into clusters being copied and reads of others, mapped in the
 * window and landed when the backend would drain them (the relock, a
 * step's start, the free hook).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ktap.h"
#include "core/image_priv.h"
#include "core/ops.h"
#include "helpers.h"
#include "user/platform_user.h"

#define DISK_BYTES	(512U << 10)
#define CLUSTER		4096U
#define NR_CLUSTERS	(DISK_BYTES / CLUSTER)

/*
 * A read or write on splitkit_back's direct path (backend/qcow2.c): mapped
 * by ski_map_data() under the lock, done on the file later, when the
 * backend drains it (a relock, a step's start, the free hook).
 */
#define MAX_DIRECT	8
#define DIRECT_MAX_LEN	1024
/* A stream's pending copies looked at across an unlocked window. */
#define MAX_SNAP	16

struct direct_io {
	int fd;			/* the file it is done on */
	bool write;
	u64 host;
	u64 len;
	u8 data[DIRECT_MAX_LEN];	/* written, or what it must read */
};

/* One run: the image, what the guest must read, and a private PRNG. */
struct online {
	struct ski_image *img;
	struct ski_op op;
	u8 *ref;
	u8 *buf;
	unsigned int rng;
	unsigned int mismatches;
	unsigned int io_errors;
	u64 targeted;
	u64 windows;		/* unlocked windows the guest wrote in */
	u64 copy_windows;	/* of which around a copy */
	unsigned int last_copying;	/* moves of the last copy window */
	bool locked;		/* the lock the unlock hooks drop */
	bool lock_misuse;	/* unlocked twice, or relocked twice */
	int fd;			/* the image file, for the direct path; or -1 */
	struct ski_image *serve;	/* a finished commit's parent, once met */
	int serve_fd;		/* its file, for the direct path; or -1 */
	u64 direct_serve;	/* direct I/O done in @serve's file */
	unsigned int nr_direct;	/* in flight */
	struct direct_io direct[MAX_DIRECT];
	u64 direct_done;
	unsigned int nr_snap;	/* pending copies sampled at the unlock */
	bool snap_unwritten[MAX_SNAP];	/* not holding their copy yet */
	u64 written_unlocked;	/* of them, written before the relock */
	u8 *base_ref;		/* make_chain()'s base, as made */
	u64 pending_checked;	/* pending copies looked at by a relock */
	u64 pending_bad;	/* of them, not the base's bytes or refcount 1 */
};

static unsigned int rnd(struct online *o, unsigned int n)
{
	o->rng = o->rng * 1103515245U + 12345U;
	return (o->rng >> 8) % n;
}

static const char *tmp_path(const char *name)
{
	return imgt_path("/tmp/sk-image-online.XXXXXX", name);
}

static void guest_write(struct online *o, u64 off, u64 len)
{
	imgt_fill(o->buf, len, o->rng ^ (unsigned int)off, 0);
	if (ski_write(o->img, o->buf, len, off)) {
		o->io_errors++;
		return;
	}
	memcpy(o->ref + off, o->buf, len);
}

static void guest_discard(struct online *o, u64 off, u64 len)
{
	if (ski_discard(o->img, off, len)) {
		o->io_errors++;
		return;
	}
	memset(o->ref + off, 0, len);
}

static void guest_zeroes(struct online *o, u64 off, u64 len)
{
	if (ski_write_zeroes(o->img, off, len)) {
		o->io_errors++;
		return;
	}
	memset(o->ref + off, 0, len);
}

static void land_direct(struct online *o);
static void land_direct_hook(void *arg);

/*
 * The file of @in, the image ski_map_data_in() mapped into: the served
 * image's, or, after a finished commit, the parent's, opened the first
 * time it is met and given the free hook, as splitkit_back's
 * skb_qcow2_file_of().
 */
static int direct_fd(struct online *o, struct ski_image *in)
{
	if (in == o->img)
		return o->fd;
	if (in != o->serve) {
		land_direct(o);
		if (o->serve_fd >= 0)
			close(o->serve_fd);
		o->serve = in;
		o->serve_fd = open(ski_image_path(in), O_RDWR);
		ski_set_free_hook(in, land_direct_hook, o);
	}
	return o->serve_fd;
}

/*
 * Start a direct read or write of [@off, @off + @len), inside one cluster,
 * if the engine maps it (else the guest would have gone through the
 * engine: nothing to do here).  A write counts in the model at once: it
 * lands before anything reads it.
 */
static void start_direct(struct online *o, bool write, u64 off, u64 len)
{
	struct direct_io *d = &o->direct[o->nr_direct];
	struct ski_image *in;
	u64 host, n;

	if (o->fd < 0 || o->nr_direct == MAX_DIRECT || len > DIRECT_MAX_LEN ||
	    ski_map_data_in(o->img, off, len, write, &host, &n, &in) ||
	    n != len)
		return;
	d->fd = direct_fd(o, in);
	if (d->fd < 0) {
		o->io_errors++;
		return;
	}
	if (in != o->img)
		o->direct_serve++;
	d->write = write;
	d->host = host;
	d->len = len;
	if (write) {
		imgt_fill(d->data, len, o->rng ^ (unsigned int)off ^ 0x5a, 0);
		memcpy(o->ref + off, d->data, len);
	} else {
		memcpy(d->data, o->ref + off, len);
	}
	o->nr_direct++;
	o->targeted++;
}

/* End the direct I/O in flight, as splitkit_back's skb_qcow2_drain(). */
static void land_direct(struct online *o)
{
	u8 got[DIRECT_MAX_LEN];
	unsigned int i;

	for (i = 0; i < o->nr_direct; i++) {
		struct direct_io *d = &o->direct[i];
		ssize_t r = d->write ? pwrite(d->fd, d->data, d->len, d->host) :
			    pread(d->fd, got, d->len, d->host);

		if (r != (ssize_t)d->len)
			o->io_errors++;
		else if (!d->write && memcmp(got, d->data, d->len))
			o->mismatches++;
		o->direct_done++;
	}
	o->nr_direct = 0;
}

static void land_direct_hook(void *arg)
{
	land_direct(arg);
}

/* The guest cluster whose data sits highest in the file, or -1. */
static long highest_data(struct online *o)
{
	enum ski_cluster_kind kind;
	u64 gc, host, best_host = 0;
	long best = -1;

	for (gc = 0; gc < NR_CLUSTERS; gc++) {
		if (ski_block_status(o->img, gc, &kind, &host) ||
		    kind != SKI_DATA)
			continue;
		if (best < 0 || host > best_host) {
			best = (long)gc;
			best_host = host;
		}
	}
	return best;
}

/*
 * Guest I/O aimed at the operation's next and last victims: a partial
 * write into the highest data cluster (compaction moves it next) and into
 * the clusters around the merge cursor (just copied, or about to be).
 */
static void targeted_io(struct online *o)
{
	long gc = highest_data(o);
	u64 cur = o->op.cursor;

	if (gc >= 0) {
		guest_write(o, (u64)gc * CLUSTER + 100, 1000);
		o->targeted++;
	}
	if (o->op.kind == SKI_OP_COMMIT || o->op.kind == SKI_OP_STREAM) {
		if (cur > 0 && cur <= NR_CLUSTERS) {
			guest_write(o, (cur - 1) * CLUSTER + 7, 300);
			o->targeted++;
		}
		if (cur < NR_CLUSTERS) {
			guest_write(o, cur * CLUSTER + 2000, 500);
			o->targeted++;
		}
	}
}

/* A few random guest requests: writes (unaligned too), discards, zeroes. */
static void random_io(struct online *o, unsigned int n)
{
	while (n--) {
		u64 c = rnd(o, NR_CLUSTERS - 3), len;

		switch (rnd(o, 6)) {
		case 0:
		case 1:
		case 2:
			len = 1 + rnd(o, 3 * CLUSTER - 1);
			guest_write(o, c * CLUSTER + rnd(o, CLUSTER), len);
			break;
		case 3:
			guest_write(o, c * CLUSTER, CLUSTER);
			break;
		case 4:
			guest_discard(o, c * CLUSTER, (1 + rnd(o, 2)) * CLUSTER);
			break;
		default:
			guest_zeroes(o, c * CLUSTER + rnd(o, 512),
				     1 + rnd(o, 2 * CLUSTER));
			break;
		}
	}
}

static void verify(struct online *o)
{
	if (ski_read(o->img, o->buf, DISK_BYTES, 0)) {
		o->io_errors++;
		return;
	}
	if (memcmp(o->buf, o->ref, DISK_BYTES))
		o->mismatches++;
}

/*
 * Guest I/O while a step has dropped the lock, as the window closes (the
 * relock hook: after the step's copy and flush, as a guest request that
 * came last would): into the source of every other move copied (a
 * partial write; in every fourth such window a discard; in every fourth
 * a discard and a whole-cluster write, which the allocator may put back
 * into the freed source), then random I/O.  nr_copying is 0 in the window
 * around the flush after the switch: writes into every third guest cluster
 * the copy before it moved, then random I/O.
 */
static void unlocked_io(struct online *o)
{
	unsigned int i;

	if (o->op.nr_copying)
		o->copy_windows++;
	for (i = 0; i < o->op.nr_copying; i += 2) {
		u64 gc = o->op.moves[i].owner & SKI_RMAP_INDEX;

		if (o->copy_windows % 4 == 2) {
			guest_discard(o, gc * CLUSTER, CLUSTER);
		} else if (o->copy_windows % 4 == 3) {
			/* back into the freed source, by copy-on-write */
			guest_discard(o, gc * CLUSTER, CLUSTER);
			guest_write(o, gc * CLUSTER, CLUSTER);
		} else {
			guest_write(o, gc * CLUSTER + 64 * (i + 1), 700);
		}
		o->targeted++;
	}
	/* the window after the switch: into what the copy just moved */
	for (i = 1; !o->op.nr_copying && i < o->last_copying; i += 3) {
		u64 gc = o->op.moves[i].owner & SKI_RMAP_INDEX;

		guest_write(o, gc * CLUSTER + 32 * i, 900);
		o->targeted++;
	}
	o->last_copying = o->op.nr_copying;
	random_io(o, 2);
	o->windows++;
}

/*
 * Whether a stream's pending copy @k holds in its new cluster the base's
 * bytes for its guest cluster, as it must once written.
 */
static bool pending_is_base(struct online *o, unsigned int k)
{
	u64 to = o->op.moves[k].to, gc = o->op.moves[k].owner;
	u8 c[CLUSTER];

	return pread(o->fd, c, CLUSTER, to * CLUSTER) == (ssize_t)CLUSTER &&
	       !memcmp(c, o->base_ref + gc * CLUSTER, CLUSTER);
}

static bool stream_checked(const struct online *o)
{
	return o->fd >= 0 && o->op.kind == SKI_OP_STREAM && o->base_ref;
}

/*
 * A stream's copies pending at an unlock: which do not hold their copy
 * yet, so that the relock sees which were written in the window
 * (snap_written()), that is with the lock dropped.
 */
static void snap_pending(struct online *o)
{
	unsigned int k;

	o->nr_snap = 0;
	if (!stream_checked(o))
		return;
	for (k = 0; k < o->op.nr_pending && k < MAX_SNAP; k++)
		o->snap_unwritten[k] = !pending_is_base(o, k);
	o->nr_snap = k;
}

static void snap_written(struct online *o)
{
	unsigned int k;

	for (k = 0; k < o->nr_snap && k < o->op.nr_pending; k++)
		o->written_unlocked += o->snap_unwritten[k] &&
				       pending_is_base(o, k);
	o->nr_snap = 0;
}

/*
 * At a relock in a stream: every pending copy's new cluster holds what the
 * base holds for its guest cluster (nothing else wrote there while the
 * lock was dropped) and is still the child's alone (refcount 1), however
 * the guest wrote, discarded and allocated in the window.
 */
static void check_pending(struct online *o)
{
	unsigned int k;
	u16 rc;

	if (!stream_checked(o))
		return;
	for (k = 0; k < o->op.nr_pending; k++) {
		if (!pending_is_base(o, k) ||
		    ski_refcount(o->img, o->op.moves[k].to, &rc) || rc != 1)
			o->pending_bad++;
		o->pending_checked++;
	}
}

/*
 * As a step drops the lock outside a copy (the flush after a switch, a
 * compaction's tail punched): guest requests that come before the step's
 * unlocked work, writes into unallocated clusters among them, which the
 * allocator may place in the tail being punched.
 */
static void unlock(void *arg)
{
	struct online *o = arg;
	unsigned int i;

	if (!o->locked)
		o->lock_misuse = true;
	snap_pending(o);
	/* a stream's flush before it maps: into clusters not mapped yet */
	for (i = 0; i < o->op.nr_pending; i += 3) {
		guest_write(o, o->op.moves[i].owner * CLUSTER + 50, 600);
		o->targeted++;
	}
	if (!o->op.nr_copying)
		random_io(o, 4);
	/*
	 * Last (nothing else in the window touches their bytes): direct
	 * writes into the clusters being copied that unlocked_io() leaves
	 * alone (the odd ones: only these writes make their moves dirty),
	 * in flight until the relock, and reads of others.
	 */
	for (i = 1; i < o->op.nr_copying; i += 2) {
		u64 gc = o->op.moves[i].owner & SKI_RMAP_INDEX;

		start_direct(o, i % 4 == 1, gc * CLUSTER + 300 + i, 400);
	}
	start_direct(o, true, rnd(o, NR_CLUSTERS) * CLUSTER + 1000, 512);
	start_direct(o, false, rnd(o, NR_CLUSTERS) * CLUSTER + 8, 700);
	o->locked = false;
}

static void relock(void *arg)
{
	struct online *o = arg;

	if (o->locked)
		o->lock_misuse = true;
	snap_written(o);
	check_pending(o);
	/* splitkit_back's relock drains the direct path first */
	land_direct(o);
	/* a stream's run was just read unlocked: into its last cluster */
	if (o->op.kind == SKI_OP_STREAM && o->op.cursor) {
		guest_write(o, (o->op.cursor - 1) * CLUSTER + 100, 300);
		o->targeted++;
	}
	unlocked_io(o);
	o->locked = true;
}

/*
 * Run @kind on the open image in steps of @budget clusters with guest I/O
 * after every step; returns the operation's result (1: finished).
 */
static int run_online(struct online *o, enum ski_op_kind kind, u64 budget,
		      unsigned int io_per_step, unsigned int *steps)
{
	int err;

	err = ski_op_begin(&o->op, o->img, kind);
	if (!err && o->locked)
		ski_op_set_unlock(&o->op, unlock, relock, o);
	if (o->fd >= 0)
		ski_set_free_hook(o->img, land_direct_hook, o);
	for (*steps = 0; !err && *steps < 100000; (*steps)++) {
		land_direct(o);		/* a step's start drains too */
		err = ski_op_step(&o->op, budget);
		if (err)
			break;
		targeted_io(o);
		random_io(o, io_per_step);
		verify(o);
	}
	ski_op_end(&o->op);
	return err;
}

static void online_init(struct online *o, unsigned int seed)
{
	memset(o, 0, sizeof(*o));
	o->rng = seed;
	o->fd = -1;
	o->serve_fd = -1;
	o->ref = calloc(1, DISK_BYTES);
	o->buf = malloc(DISK_BYTES);
	if (!o->ref || !o->buf)
		abort();
}

static void online_free(struct online *o)
{
	if (o->fd >= 0)
		close(o->fd);
	if (o->serve_fd >= 0)
		close(o->serve_fd);
	free(o->ref);
	free(o->buf);
	free(o->base_ref);
}

static void report(const char *what, const struct online *o,
		   unsigned int steps)
{
	printf("# %s: %u steps, %llu clusters moved, %llu targeted writes, %u mismatches, %u I/O errors\n",
	       what, steps, (unsigned long long)o->op.moved,
	       (unsigned long long)o->targeted, o->mismatches, o->io_errors);
}

/*
 * After an operation run with the unlock hooks: the guest wrote inside
 * windows around a copy and others, moves were copied again and given up,
 * and the hooks were called in pairs.
 */
static void expect_unlocked(const struct online *o)
{
	printf("# %llu unlocked windows (%llu around a copy), %llu moves copied again, %llu given up, %llu direct I/Os\n",
	       (unsigned long long)o->windows,
	       (unsigned long long)o->copy_windows,
	       (unsigned long long)o->op.recopied,
	       (unsigned long long)o->op.dropped,
	       (unsigned long long)o->direct_done);
	KTAP_EXPECT(o->copy_windows > 0 && o->windows > o->copy_windows);
	KTAP_EXPECT(o->direct_done > 0);
	KTAP_EXPECT(o->op.recopied > 0);
	KTAP_EXPECT(o->op.dropped > 0);
	KTAP_EXPECT(o->locked && !o->lock_misuse);
}

/*
 * Compaction or defragmentation of a fragmented image, guest writing
 * between steps and, if @unlocked, inside them (unlocked_io()).
 */
static void relocate_online_how(enum ski_op_kind kind, u64 budget, u64 window,
				unsigned int seed, bool unlocked)
{
	const char *path = tmp_path("reloc.qcow2");
	struct online o;
	unsigned int steps;
	char what[64];
	int err;

	online_init(&o, seed);
	imgt_make_fragmented(path, o.ref, DISK_BYTES, 0);
	KTAP_ASSERT(!ski_open(path, SKI_OPEN_RW, &o.img));
	o.img->rmap_window = window;
	o.locked = unlocked;
	if (unlocked)
		o.fd = open(path, O_RDWR);
	err = run_online(&o, kind, budget, 3, &steps);
	snprintf(what, sizeof(what), "%s budget %llu window %llu%s",
		 kind == SKI_OP_COMPACT ? "compact" : "defrag",
		 (unsigned long long)budget, (unsigned long long)window,
		 unlocked ? " unlocked" : "");
	report(what, &o, steps);
	KTAP_EXPECT_EQ(err, 1);
	if (unlocked)
		expect_unlocked(&o);
	KTAP_EXPECT(o.op.moved > 0);
	KTAP_EXPECT(o.targeted > 0);
	KTAP_EXPECT_EQ(o.mismatches, 0);
	KTAP_EXPECT_EQ(o.io_errors, 0);
	/* the guest goes on after the operation */
	random_io(&o, 50);
	verify(&o);
	KTAP_EXPECT_EQ(o.mismatches, 0);
	ski_close(o.img);
	KTAP_EXPECT(imgt_check_ok(path, false));
	KTAP_EXPECT(imgt_equals(path, o.ref, DISK_BYTES));
	online_free(&o);
}

static void relocate_online(enum ski_op_kind kind, u64 budget, u64 window,
			    unsigned int seed)
{
	relocate_online_how(kind, budget, window, seed, false);
}

static void test_compact_online(void)
{
	relocate_online(SKI_OP_COMPACT, 1, 0, 1);
	relocate_online(SKI_OP_COMPACT, 5, 0, 2);
	relocate_online(SKI_OP_COMPACT, 3, 16, 3);
}

static void test_defrag_online(void)
{
	relocate_online(SKI_OP_DEFRAG, 1, 0, 4);
	relocate_online(SKI_OP_DEFRAG, 7, 0, 5);
	relocate_online(SKI_OP_DEFRAG, 4, 16, 6);
}

/* A base with data everywhere and a child with some of its own. */
/* The guest writes and discards the clusters a step copies, unlocked. */
static void test_unlocked_compact(void)
{
	relocate_online_how(SKI_OP_COMPACT, 4, 0, 21, true);
	relocate_online_how(SKI_OP_COMPACT, 9, 16, 22, true);
}

static void test_unlocked_defrag(void)
{
	relocate_online_how(SKI_OP_DEFRAG, 4, 0, 23, true);
	relocate_online_how(SKI_OP_DEFRAG, 8, 16, 24, true);
}

/*
 * A base with data everywhere (with @holes, every seventh cluster left
 * unallocated, so that a commit also allocates in it) and a child with
 * some of its own.
 */
static void make_chain(struct online *o, const char *base, const char *child,
		       bool holes)
{
	struct ski_create_opts co = { .size = DISK_BYTES,
				      .cluster_bits = 12 };
	struct ski_image *img;
	u64 c;

	unlink(base);
	unlink(child);
	if (ski_create(base, &co) || ski_open(base, SKI_OPEN_RW, &img))
		abort();
	imgt_fill(o->ref, DISK_BYTES, 31, 0);
	if (ski_write(img, o->ref, DISK_BYTES, 0))
		abort();
	for (c = 2; holes && c < NR_CLUSTERS; c += 7) {
		if (ski_discard(img, c * CLUSTER, CLUSTER))
			abort();
		memset(o->ref + c * CLUSTER, 0, CLUSTER);
	}
	ski_close(img);
	o->base_ref = malloc(DISK_BYTES);
	if (!o->base_ref)
		abort();
	memcpy(o->base_ref, o->ref, DISK_BYTES);
	co.backing_file = "obase.qcow2";
	co.backing_format = "qcow2";
	if (ski_create(child, &co) || ski_open(child, SKI_OPEN_RW, &o->img))
		abort();
	for (c = 0; c < NR_CLUSTERS; c += 5)
		guest_write(o, c * CLUSTER + 11, 5000);
	for (c = 3; c < NR_CLUSTERS; c += 11)
		guest_discard(o, c * CLUSTER, CLUSTER);
	if (o->io_errors)
		abort();
}

/* Whether @child holds no cluster of its own (every L2 entry is 0). */
static bool child_empty(struct ski_image *img)
{
	enum ski_cluster_kind kind;
	u64 gc, host;

	for (gc = 0; gc < NR_CLUSTERS; gc++)
		if (ski_block_status(img, gc, &kind, &host) ||
		    kind != SKI_UNALLOCATED)
			return false;
	return true;
}

/*
 * After a stream that mapped what it wrote every few clusters: guest
 * writes into clusters written and not mapped yet kept the guest's data
 * and gave the copies back; with the unlock hooks, the guest also wrote
 * while the flush before a mapping ran, and the hooks came in pairs.
 */
static void expect_stream_pending(const struct online *o, bool unlocked)
{
	printf("# %llu unlocked windows, %llu copies given up\n",
	       (unsigned long long)o->windows,
	       (unsigned long long)o->op.dropped);
	KTAP_EXPECT(o->op.dropped > 0);
	if (unlocked)
		KTAP_EXPECT(o->windows > 0 && o->locked && !o->lock_misuse);
}

/*
 * Commit or stream of a chain, guest writing between steps and, if
 * @unlocked, inside a commit step's unlocked windows (unlocked_io()).
 */
static void merge_online_how(enum ski_op_kind kind, u64 budget,
			     unsigned int seed, bool unlocked, u64 pending)
{
	const char *base = tmp_path("obase.qcow2");
	const char *child = tmp_path("ochild.qcow2");
	struct online o;
	unsigned int steps;
	char what[64];
	int err;

	online_init(&o, seed);
	make_chain(&o, base, child, unlocked);
	o.img->stream_pending = pending;
	o.locked = unlocked;
	if (unlocked)
		o.fd = open(child, O_RDWR);
	err = run_online(&o, kind, budget, 2, &steps);
	snprintf(what, sizeof(what), "%s budget %llu%s",
		 kind == SKI_OP_COMMIT ? "commit" : "stream",
		 (unsigned long long)budget, unlocked ? " unlocked" : "");
	report(what, &o, steps);
	KTAP_EXPECT_EQ(err, 1);
	if (unlocked && kind == SKI_OP_COMMIT)
		expect_unlocked(&o);
	if (pending)
		expect_stream_pending(&o, unlocked);
	/* a stream's steps read the backing with the lock dropped */
	if (unlocked && kind == SKI_OP_STREAM && !pending) {
		printf("# %llu unlocked windows in %u steps, %llu copies written in one\n",
		       (unsigned long long)o.windows, steps,
		       (unsigned long long)o.written_unlocked);
		KTAP_EXPECT(o.windows >= steps / 2);
		/* and writes its copies with the lock dropped */
		KTAP_EXPECT(o.written_unlocked > 0);
	}
	if (unlocked && kind == SKI_OP_STREAM) {
		printf("# %llu pending copies checked at relocks, %llu bad\n",
		       (unsigned long long)o.pending_checked,
		       (unsigned long long)o.pending_bad);
		KTAP_EXPECT(o.pending_checked > 0);
		KTAP_EXPECT_EQ(o.pending_bad, 0);
		KTAP_EXPECT(o.locked && !o.lock_misuse);
	}
	KTAP_EXPECT(o.targeted > 0);
	KTAP_EXPECT_EQ(o.mismatches, 0);
	KTAP_EXPECT_EQ(o.io_errors, 0);
	if (kind == SKI_OP_COMMIT) {
		/* the parent alone serves the guest now, writes included */
		KTAP_EXPECT(child_empty(o.img));
		random_io(&o, 50);
		verify(&o);
		KTAP_EXPECT_EQ(o.mismatches, 0);
		KTAP_EXPECT(child_empty(o.img));
		KTAP_EXPECT(!ski_flush(o.img));
		ski_close(o.img);
		KTAP_EXPECT(imgt_check_ok(base, false));
		KTAP_EXPECT(imgt_equals(base, o.ref, DISK_BYTES));
	} else {
		KTAP_EXPECT(!ski_image_header(o.img)->backing_file[0]);
		ski_close(o.img);
		unlink(base);	/* the child must not need it any more */
	}
	KTAP_EXPECT(imgt_check_ok(child, false));
	KTAP_EXPECT(imgt_equals(child, o.ref, DISK_BYTES));
	online_free(&o);
}

static void merge_online(enum ski_op_kind kind, u64 budget,
			 unsigned int seed)
{
	merge_online_how(kind, budget, seed, false, 0);
}

static void test_commit_online(void)
{
	merge_online(SKI_OP_COMMIT, 1, 7);
	merge_online(SKI_OP_COMMIT, 6, 8);
	merge_online(SKI_OP_COMMIT, 40, 9);
}

/*
 * The guest writes into, discards, and discards then rewrites the clusters
 * a commit step copies unlocked, into a parent it holds (copied in place)
 * or not (new clusters).
 */
static void test_unlocked_commit(void)
{
	merge_online_how(SKI_OP_COMMIT, 1, 25, true, 0);
	merge_online_how(SKI_OP_COMMIT, 6, 26, true, 0);
	merge_online_how(SKI_OP_COMMIT, 3, 27, true, 0);
}

static void test_stream_online(void)
{
	merge_online(SKI_OP_STREAM, 1, 10);
	merge_online(SKI_OP_STREAM, 6, 11);
	merge_online(SKI_OP_STREAM, 40, 12);
}

/*
 * A stream that maps what it wrote every 5 or 7 clusters, inside a step
 * too (budget 9, 40), the guest writing between steps into the clusters
 * around the cursor, written and not mapped yet, and, with the unlock
 * hooks, into every third of them while the flush before the mapping runs.
 */
static void test_stream_pending(void)
{
	merge_online_how(SKI_OP_STREAM, 1, 28, false, 5);
	merge_online_how(SKI_OP_STREAM, 9, 29, true, 5);
	merge_online_how(SKI_OP_STREAM, 40, 30, true, 7);
}

/*
 * A stream whose steps read the backing file with the lock dropped, the
 * guest writing into the last cluster of each run read meanwhile (and at
 * random): the guest's data wins over the copies.
 */
static void test_stream_unlocked_read(void)
{
	merge_online_how(SKI_OP_STREAM, 4, 33, true, 0);
	merge_online_how(SKI_OP_STREAM, 13, 34, true, 0);
}

/*
 * A stream cut short with clusters written and not mapped (cancelled, as a
 * detach does): ski_op_end() gives them back, the child has no leak, and
 * reads as before through its backing file.
 */
static void test_stream_cancel(void)
{
	const char *base = tmp_path("obase.qcow2");
	const char *child = tmp_path("ochild.qcow2");
	struct online o;
	unsigned int steps;
	int err = 0;

	online_init(&o, 31);
	make_chain(&o, base, child, false);
	o.img->stream_pending = 64;
	KTAP_ASSERT(!ski_op_begin(&o.op, o.img, SKI_OP_STREAM));
	for (steps = 0; !err && steps < 6; steps++)
		err = ski_op_step(&o.op, 4);
	KTAP_EXPECT_EQ(err, 0);
	KTAP_EXPECT(o.op.nr_pending > 0);
	ski_op_end(&o.op);
	verify(&o);
	KTAP_EXPECT_EQ(o.mismatches, 0);
	KTAP_EXPECT(!ski_flush(o.img));
	ski_close(o.img);
	KTAP_EXPECT(imgt_check_ok(child, false));
	KTAP_EXPECT(imgt_equals(child, o.ref, DISK_BYTES));
	online_free(&o);
}

/*
 * A new @child of virtual size @size over a new qcow2 @base of @base_size
 * whose first @len bytes are @ref, opened read-write with @flags; aborts
 * the test when it cannot be made.
 */
static struct ski_image *over_base(const char *base, u64 base_size,
				   const u8 *ref, u64 len, const char *child,
				   u64 size, unsigned int flags)
{
	struct ski_create_opts co = { .size = base_size, .cluster_bits = 12 };
	struct ski_image *img;

	unlink(base);
	unlink(child);
	if (ski_create(base, &co) || ski_open(base, SKI_OPEN_RW, &img))
		abort();
	if (ski_write(img, ref, len, 0))
		abort();
	ski_close(img);
	co.size = size;
	co.backing_file = strrchr(base, '/') + 1;
	co.backing_format = "qcow2";
	if (ski_create(child, &co) || ski_open(child, SKI_OPEN_RW | flags, &img))
		abort();
	return img;
}

/*
 * A stream whose mapping of 200 pending copies drops the lock every 64:
 * the guest writes the guest cluster of copy 63 while the flush runs (so
 * that copy is given back), then, in the window at the 64th mapping, writes
 * a new cluster, which the allocator may place where the copy was.  With
 * the copy's punch left pending across that window, the punch takes the
 * guest's data.
 */
struct punch_ctx {
	struct ski_image *img;
	struct ski_op op;
	unsigned int unlocks;
	u8 data[CLUSTER];
};

static void punch_unlock(void *arg)
{
	struct punch_ctx *c = arg;
	u8 buf[CLUSTER];

	if (++c->unlocks == 1) {
		memset(buf, 0xab, sizeof(buf));
		if (ski_write(c->img, buf, CLUSTER,
			      c->op.moves[63].owner * CLUSTER))
			abort();
	} else if (c->unlocks == 2) {
		if (ski_write(c->img, c->data, CLUSTER,
			      (NR_CLUSTERS - 1) * CLUSTER))
			abort();
	}
}

static void punch_relock(void *arg)
{
}

static void test_stream_map_window(void)
{
	const char *base = tmp_path("pbase.qcow2");
	const char *child = tmp_path("pchild.qcow2");
	static struct punch_ctx c;
	static u8 ref[DISK_BYTES], back[CLUSTER];
	unsigned int steps = 0;
	int err = 0;

	memset(&c, 0, sizeof(c));
	imgt_fill(ref, sizeof(ref), 5, 1);
	c.img = over_base(base, DISK_BYTES, ref, DISK_BYTES, child, DISK_BYTES,
			  SKI_OPEN_PUNCH);
	c.img->stream_pending = 200;
	imgt_fill(c.data, CLUSTER, 77, 1);
	KTAP_ASSERT(!ski_op_begin(&c.op, c.img, SKI_OP_STREAM));
	ski_op_set_unlock(&c.op, punch_unlock, punch_relock, &c);
	while (!err && steps++ < 1000)
		err = ski_op_step(&c.op, 100);
	ski_op_end(&c.op);
	KTAP_EXPECT_EQ(err, 1);
	KTAP_EXPECT(c.unlocks >= 2);
	KTAP_EXPECT(!ski_read(c.img, back, CLUSTER,
			      (NR_CLUSTERS - 1) * CLUSTER));
	KTAP_EXPECT(!memcmp(back, c.data, CLUSTER));
	ski_close(c.img);
	KTAP_EXPECT(imgt_check_ok(child, false));
}

/*
 * A file longer than its refcount blocks describe (a tail added with
 * truncate, another tool's output): compaction trims the tail with the
 * lock dropped around each chunk's punch, holding the chunk's clusters
 * meanwhile.  Holding clusters no refcount block describes would create
 * that block inside the chunk, which the punch zeroes and the release
 * frees while the refcount table points at it (a review's find,
 * 2026-12-06): the check must stay clean and the guest's data intact.
 */
static void nop_unlock(void *arg)
{
	(*(unsigned int *)arg)++;
}

static void nop_relock(void *arg)
{
}

static void test_trim_past_refblocks(void)
{
	const char *path = tmp_path("tail.qcow2");
	struct ski_create_opts co = { .size = DISK_BYTES, .cluster_bits = 12 };
	static u8 ref[DISK_BYTES];
	unsigned int unlocks = 0, steps = 0;
	struct ski_image *img;
	struct ski_op op;
	int err = 0;

	unlink(path);
	imgt_fill(ref, sizeof(ref), 41, 0);
	KTAP_ASSERT(!ski_create(path, &co));
	KTAP_ASSERT(!ski_open(path, SKI_OPEN_RW, &img));
	KTAP_ASSERT(!ski_write(img, ref, DISK_BYTES, 0));
	ski_close(img);
	/* 4 KiB clusters: a refcount block covers 8 MiB; 24 MiB of file */
	KTAP_ASSERT(!truncate(path, 24 << 20));
	KTAP_ASSERT(!ski_open(path, SKI_OPEN_RW | SKI_OPEN_PUNCH, &img));
	KTAP_ASSERT(!ski_op_begin(&op, img, SKI_OP_COMPACT));
	ski_op_set_unlock(&op, nop_unlock, nop_relock, &unlocks);
	while (!err && steps++ < 100000)
		err = ski_op_step(&op, 64);
	ski_op_end(&op);
	KTAP_EXPECT_EQ(err, 1);
	ski_close(img);
	printf("# tail past the refcount blocks: %u steps, %u unlocked\n",
	       steps, unlocks);
	KTAP_EXPECT(imgt_check_ok(path, true));
	KTAP_EXPECT(imgt_equals(path, ref, DISK_BYTES));
}

/*
 * A commit cancelled after guest writes went to the parent (below its
 * cursor, into clusters neither image held: mapped in the parent's cache,
 * ski_l2_defer()): the guest's flush that follows must make them durable
 * in the parent, which stays writable behind the child.
 */
static void test_commit_cancel_flush(void)
{
	const char *base = tmp_path("fbase.qcow2");
	const char *child = tmp_path("fchild.qcow2");
	static u8 full[DISK_BYTES], data[CLUSTER], back[CLUSTER];
	struct ski_image *img, *parent;
	struct ski_op op;
	int i;

	imgt_fill(full, sizeof(full), 3, 1);
	/* the base holds clusters 0-15 only, the child 30-63 */
	img = over_base(base, DISK_BYTES, full, 16 * CLUSTER, child,
			DISK_BYTES, 0);
	KTAP_ASSERT(!ski_write(img, full, 34 * CLUSTER, 30 * CLUSTER));
	KTAP_ASSERT(!ski_op_begin(&op, img, SKI_OP_COMMIT));
	for (i = 0; i < 2; i++)
		KTAP_ASSERT(ski_op_step(&op, 4) == 0);
	KTAP_ASSERT(img->commit_below > 20);
	imgt_fill(data, CLUSTER, 123, 1);
	KTAP_ASSERT(!ski_write(img, data, CLUSTER, 20 * CLUSTER));
	ski_op_end(&op);
	KTAP_EXPECT(!ski_flush(img));
	/* the parent as its file holds it now, as after a cut */
	KTAP_ASSERT(!ski_open(base, SKI_OPEN_NO_BACKING, &parent));
	KTAP_EXPECT(!ski_read(parent, back, CLUSTER, 20 * CLUSTER));
	KTAP_EXPECT(!memcmp(back, data, CLUSTER));
	ski_close(parent);
	ski_close(img);
}

/*
 * Growing an image whose old last cluster is copied on write from a longer
 * backing file (its mapping deferred): the new size must not reach the
 * file before that mapping, or after a cut the backing file shows through
 * past the old size.  The file is read again without closing the image.
 */
static void test_grow_deferred(void)
{
	const char *grand = tmp_path("ggrand.qcow2");
	const char *par = tmp_path("gpar.qcow2");
	static u8 data[12 << 10], back[2048], zero[2048];
	struct ski_image *img, *again;

	imgt_fill(data, sizeof(data), 9, 1);
	img = over_base(grand, sizeof(data), data, sizeof(data), par,
			10 << 10, 0);
	KTAP_ASSERT(!ski_grow(img, 32 << 10));
	KTAP_EXPECT(!ski_read(img, back, sizeof(back), 10 << 10));
	KTAP_EXPECT(!memcmp(back, zero, sizeof(back)));
	KTAP_ASSERT(!ski_open(par, 0, &again));
	KTAP_EXPECT_EQ(ski_image_header(again)->size, 32 << 10);
	KTAP_EXPECT(!ski_read(again, back, sizeof(back), 10 << 10));
	KTAP_EXPECT(!memcmp(back, zero, sizeof(back)));
	ski_close(again);
	ski_close(img);
}

/*
 * Operations after a finished commit, on the same open image, as a backend
 * serving the guest would start them: they work on the parent, which
 * serves every guest request now (ski_op_begin()).  A stream of the child
 * would otherwise copy the parent into itself through the redirection and
 * then close the parent the child still redirects to.  Unlocked, with the
 * direct path: after the commit ski_map_data_in() maps guest I/O into the
 * parent's file, including into the clusters the parent's own operations
 * are moving.
 */
static void test_ops_after_commit(void)
{
	static const enum ski_op_kind kinds[] = {
		SKI_OP_COMPACT, SKI_OP_DEFRAG, SKI_OP_STREAM, SKI_OP_COMMIT,
	};
	const char *base = tmp_path("obase.qcow2");
	const char *child = tmp_path("ochild.qcow2");
	struct ski_image *parent;
	struct online o;
	unsigned int steps, i;

	online_init(&o, 13);
	make_chain(&o, base, child, false);
	o.fd = open(child, O_RDWR);
	KTAP_ASSERT(o.fd >= 0);
	o.locked = true;
	KTAP_EXPECT_EQ(run_online(&o, SKI_OP_COMMIT, 8, 2, &steps), 1);
	KTAP_EXPECT_EQ(o.direct_serve, 0);
	parent = o.img->commit_to;
	KTAP_ASSERT(parent != NULL);
	for (i = 0; i < KTAP_ARRAY_SIZE(kinds); i++) {
		int err = run_online(&o, kinds[i], 8, 2, &steps);

		printf("# after commit: op %d on the parent: %d after %u steps\n",
		       kinds[i], err, steps);
		/* a commit of a parent without a backing file is refused */
		if (kinds[i] == SKI_OP_COMMIT)
			KTAP_EXPECT_EQ(err, -EINVAL);
		else
			KTAP_EXPECT_EQ(err, 1);
		KTAP_EXPECT(o.op.img == parent);
		KTAP_EXPECT(child_empty(o.img));
	}
	land_direct(&o);
	printf("# after commit: %llu direct I/Os in the parent's file, %llu in all\n",
	       (unsigned long long)o.direct_serve,
	       (unsigned long long)o.direct_done);
	KTAP_EXPECT(o.serve == parent);
	KTAP_EXPECT(o.direct_serve > 0);
	KTAP_EXPECT(!o.lock_misuse);
	verify(&o);
	KTAP_EXPECT_EQ(o.mismatches, 0);
	KTAP_EXPECT_EQ(o.io_errors, 0);
	KTAP_EXPECT(!ski_flush(o.img));
	ski_close(o.img);
	KTAP_EXPECT(imgt_check_ok(base, false));
	KTAP_EXPECT(imgt_check_ok(child, false));
	KTAP_EXPECT(imgt_equals(base, o.ref, DISK_BYTES));
	KTAP_EXPECT(imgt_equals(child, o.ref, DISK_BYTES));
	online_free(&o);
}

/*
 * After a finished commit a direct write mapped into the parent's file
 * (ski_map_data_in()) is in flight when the guest discards its cluster
 * through the child (sent to the parent, which frees it) and writes it
 * again, into a new cluster, the freed one when the allocator takes it
 * back: the parent's free hook,
 * set where the parent is first met (direct_fd(), as splitkit_back's
 * skb_qcow2_file_of()), lands the write first, so it cannot reach the
 * new data.
 */
static void test_commit_map_freed(void)
{
	const char *base = tmp_path("obase.qcow2");
	const char *child = tmp_path("ochild.qcow2");
	struct online o;
	unsigned int steps;
	u64 c;

	online_init(&o, 15);
	make_chain(&o, base, child, false);
	o.fd = open(child, O_RDWR);
	KTAP_ASSERT(o.fd >= 0);
	KTAP_EXPECT_EQ(run_online(&o, SKI_OP_COMMIT, 8, 0, &steps), 1);
	for (c = 1; c < NR_CLUSTERS; c += 9) {
		start_direct(&o, true, c * CLUSTER + 100, 512);
		if (!o.nr_direct) {	/* a zero or unallocated cluster */
			printf("# cluster %llu not mapped\n",
			       (unsigned long long)c);
			continue;
		}
		guest_discard(&o, c * CLUSTER, CLUSTER);
		guest_write(&o, c * CLUSTER, CLUSTER);
		land_direct(&o);
	}
	verify(&o);
	printf("# %llu direct writes into the parent, %u mismatches\n",
	       (unsigned long long)o.direct_serve, o.mismatches);
	KTAP_EXPECT(o.direct_serve > 0);
	KTAP_EXPECT_EQ(o.mismatches, 0);
	KTAP_EXPECT_EQ(o.io_errors, 0);
	ski_close(o.img);
	KTAP_EXPECT(imgt_check_ok(base, false));
	online_free(&o);
}

/* A second operation while one runs is refused and leaves it alone. */
static void test_busy(void)
{
	const char *base = tmp_path("obase.qcow2");
	const char *child = tmp_path("ochild.qcow2");
	struct ski_op second;
	struct online o;
	unsigned int steps;
	int err;

	online_init(&o, 14);
	make_chain(&o, base, child, false);
	KTAP_ASSERT(!ski_op_begin(&o.op, o.img, SKI_OP_COMMIT));
	KTAP_EXPECT_EQ(ski_op_step(&o.op, 4), 0);
	KTAP_EXPECT_EQ(ski_op_begin(&second, o.img, SKI_OP_COMPACT), -EBUSY);
	ski_op_end(&second);
	KTAP_EXPECT(o.img->op == &o.op);
	for (steps = 0, err = 0; !err && steps < 100000; steps++) {
		err = ski_op_step(&o.op, 4);
		random_io(&o, 2);
		verify(&o);
	}
	ski_op_end(&o.op);
	KTAP_EXPECT_EQ(err, 1);
	KTAP_EXPECT_EQ(o.mismatches, 0);
	ski_close(o.img);
	KTAP_EXPECT(imgt_check_ok(base, false));
	KTAP_EXPECT(imgt_equals(base, o.ref, DISK_BYTES));
	online_free(&o);
}

/* @in (8 pages) holds zeroes, then @out's @len bytes at @at, then zeroes. */
static void expect_bulk_read(const u8 *in, const u8 *out, size_t len,
			     size_t at)
{
	size_t i;

	for (i = 0; i < at; i++)
		KTAP_EXPECT(in[i] == 0);
	KTAP_EXPECT(!memcmp(in + at, out, len));
	for (i = at + len; i < 8 * 4096; i++)
		KTAP_EXPECT(in[i] == 0);
}

/* An unlocked operation (the cases above) whose copies take the model. */
static void bulk_op(enum ski_op_kind kind, u64 budget, unsigned int seed)
{
	u64 calls = skp_user_uncached_calls();

	if (kind == SKI_OP_COMPACT || kind == SKI_OP_DEFRAG)
		relocate_online_how(kind, budget, 0, seed, true);
	else
		merge_online_how(kind, budget, seed, true, 0);
	printf("# %llu uncached calls\n",
	       (unsigned long long)(skp_user_uncached_calls() - calls));
	KTAP_EXPECT(skp_user_uncached_calls() > calls);
}

/*
 * The bulk copies (core/bulkio.c) over a model of the kernel's uncached
 * primitives (platform_user.c): a file written (two of five pages by the
 * model, the rest and an unaligned tail the ordinary way) and read
 * back by the model twice: two pages a call, then eight, its read short
 * at the end of the file and the rest zeroes; then the unlocked
 * operations with copies moved two pages a call and whole, each reading
 * as the guest wrote and each taking the model.
 */
static void test_bulk_copies(void)
{
	const char *path = tmp_path("bulk.raw");
	const size_t page = 4096, len = 5 * page + 512;
	struct skp_file *file;
	u64 calls;
	u8 *out, *in;
	size_t i;

	out = aligned_alloc(page, 8 * page);
	in = aligned_alloc(page, 8 * page);
	KTAP_EXPECT(out && in);
	if (!out || !in)
		goto free;
	for (i = 0; i < len; i++)
		out[i] = (u8)(i * 7 + 1);
	memset(in, 0xee, 8 * page);
	unlink(path);
	skp_user_set_uncached(2);
	KTAP_EXPECT_EQ(skp_create(path, &file), 0);
	calls = skp_user_uncached_calls();
	KTAP_EXPECT_EQ(skp_pwrite_bulk(file, out, 5 * page, page), 0);
	KTAP_EXPECT_EQ(skp_pwrite_bulk(file, out + 5 * page, 512, 6 * page), 0);
	/* one call of two pages; the rest, and the tail, the ordinary way */
	KTAP_EXPECT_EQ(skp_user_uncached_calls() - calls, 1);
	KTAP_EXPECT_EQ(skp_pread_bulk(file, in, 8 * page, 0), 0);
	expect_bulk_read(in, out, len, page);
	skp_user_set_uncached(8);
	memset(in, 0xee, 8 * page);
	calls = skp_user_uncached_calls();
	KTAP_EXPECT_EQ(skp_pread_bulk(file, in, 8 * page, 0), 0);
	KTAP_EXPECT_EQ(skp_user_uncached_calls() - calls, 1);
	expect_bulk_read(in, out, len, page);
	skp_close(file);

	/* the seeds of the unlocked cases above, whose checks they meet */
	skp_user_set_uncached(2);
	bulk_op(SKI_OP_COMPACT, 4, 21);
	bulk_op(SKI_OP_COMMIT, 3, 27);
	bulk_op(SKI_OP_STREAM, 4, 33);
	skp_user_set_uncached(1024);
	bulk_op(SKI_OP_DEFRAG, 4, 23);
	bulk_op(SKI_OP_COMMIT, 6, 26);
	bulk_op(SKI_OP_STREAM, 13, 34);
	skp_user_set_uncached(0);
	unlink(path);
free:
	free(out);
	free(in);
}

static const struct ktap_case cases[] = {
	KTAP_CASE(test_compact_online),
	KTAP_CASE(test_defrag_online),
	KTAP_CASE(test_unlocked_compact),
	KTAP_CASE(test_unlocked_defrag),
	KTAP_CASE(test_commit_online),
	KTAP_CASE(test_unlocked_commit),
	KTAP_CASE(test_stream_online),
	KTAP_CASE(test_stream_pending),
	KTAP_CASE(test_stream_unlocked_read),
	KTAP_CASE(test_stream_cancel),
	KTAP_CASE(test_stream_map_window),
	KTAP_CASE(test_trim_past_refblocks),
	KTAP_CASE(test_commit_cancel_flush),
	KTAP_CASE(test_grow_deferred),
	KTAP_CASE(test_ops_after_commit),
	KTAP_CASE(test_commit_map_freed),
	KTAP_CASE(test_busy),
	KTAP_CASE(test_bulk_copies),
};

int main(void)
{
	char cmd[128];
	int rc = ktap_main(cases, KTAP_ARRAY_SIZE(cases));

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", imgt_dir());
	if (system(cmd))
		printf("# could not remove %s\n", imgt_dir());
	return rc;
}
