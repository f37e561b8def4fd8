// SPDX-License-Identifier: GPL-2.0
/*
 * Crafted images against the engine's metadata overlap checks
 * (image/core/overlap.c) and table limits: each case builds a sound image
 * through the engine, then rewrites one pointer in the file with plain
 * pwrite() - an L2 entry naming the header, the L1 table or the refcount
 * table, a refcount-table slot emptied or doubled, a chain that names
 * itself - and checks that the engine refuses the one operation with
 * -EUCLEAN (or the open with a clear error) and that the metadata the
 * pointer named is still what it was: the header's magic, the L1 entry,
 * the refcount-table entry, the guest data behind them.  Run under ASan
 * and UBSan (tests/unit): a refused check must also not crash.
 * Black-box: image.h, ops.h, the platform layer.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ktap.h"
#include "helpers.h"
#include "core/endian.h"
#include "core/image.h"
#include "core/ops.h"
#include "user/platform_user.h"

#define CS		65536ULL	/* cluster size of most cases */
#define COPIED		(1ULL << 63)
#define COMPRESSED	(1ULL << 62)
#define OFFSET_MASK	0x00fffffffffffe00ULL

static u8 buf[CS];

static const char *path_of(const char *name)
{
	return imgt_path("/tmp/sk-image-overlap.XXXXXX", name);
}

static u64 get64(const char *path, u64 off)
{
	u8 raw[8] = { 0 };
	int fd = open(path, O_RDONLY);

	if (fd < 0 || pread(fd, raw, 8, off) != 8)
		abort();
	close(fd);
	return ski_get_be64(raw);
}

static void put(const char *path, u64 off, const void *data, size_t len)
{
	int fd = open(path, O_RDWR);

	if (fd < 0 || pwrite(fd, data, len, off) != (ssize_t)len)
		abort();
	close(fd);
}

static void put64(const char *path, u64 off, u64 v)
{
	u8 raw[8];

	ski_put_be64(raw, v);
	put(path, off, raw, 8);
}

static void put32(const char *path, u64 off, u32 v)
{
	u8 raw[4];

	ski_put_be32(raw, v);
	put(path, off, raw, 4);
}

/*
 * A sound image of @size bytes whose guest clusters [0, @nr) hold 0xab,
 * @bits-bit clusters.  Return: the offset of its first L2 table.
 */
static u64 sound_image(const char *path, u64 size, unsigned int bits,
		       unsigned int nr)
{
	struct ski_create_opts co = { .size = size, .cluster_bits = bits };
	struct ski_image *img;
	unsigned int i;

	unlink(path);
	if (ski_create(path, &co) || ski_open(path, SKI_OPEN_RW, &img))
		abort();
	memset(buf, 0xab, sizeof(buf));
	for (i = 0; i < nr; i++)
		if (ski_write(img, buf, 1ULL << bits, (u64)i << bits))
			abort();
	ski_close(img);
	return get64(path, get64(path, 40)) & OFFSET_MASK;
}

/* Guest cluster @gc of a (read-only opened) image still holds 0xab. */
static bool still_ab(const char *path, u64 gc)
{
	struct ski_image *img;
	bool ok;

	if (ski_open(path, 0, &img))
		return false;
	memset(buf, 0, sizeof(buf));
	ok = !ski_read(img, buf, CS, gc * CS) && buf[0] == 0xab &&
	     buf[CS - 1] == 0xab;
	ski_close(img);
	return ok;
}

/*
 * A compressed L2 entry whose bytes lie in the header cluster, or in the
 * L1 table's cluster past its one entry: rewriting or discarding that
 * guest cluster releases the entry (after its replacement is in place,
 * so the call fails late); its host cluster must not be freed or punched.
 */
static void compressed_on(const char *name, bool on_l1)
{
	const char *path = path_of(name);
	struct ski_image *img;
	int discard;

	for (discard = 0; discard < 2; discard++) {
		u64 l2 = sound_image(path, 1 << 20, 16, 1);
		u64 l1 = get64(path, 40), l1e = get64(path, l1);

		put64(path, l2 + 8, COMPRESSED | ((on_l1 ? l1 : 0) + 0x10));
		KTAP_ASSERT(!ski_open(path, SKI_OPEN_RW | SKI_OPEN_PUNCH,
				      &img));
		memset(buf, 0x41, sizeof(buf));
		KTAP_EXPECT_EQ(discard ? ski_discard(img, CS, CS) :
			       ski_write(img, buf, CS, CS), -EUCLEAN);
		ski_close(img);
		KTAP_EXPECT_EQ(get64(path, 0) >> 32, 0x514649fbULL);
		KTAP_EXPECT_EQ(get64(path, l1), l1e);
		KTAP_EXPECT(still_ab(path, 0));
	}
}

static void compressed_on_header(void)
{
	compressed_on("ch.qcow2", false);
}

static void compressed_on_l1_cluster(void)
{
	compressed_on("cl1.qcow2", true);
}

/*
 * A private (COPIED) data entry naming the refcount table: a guest write
 * there is in place, so it is refused before any byte lands, through
 * ski_write() and through ski_map_data() (splitkit_back's direct path).
 */
static void copied_on_reftable(void)
{
	const char *path = path_of("rt.qcow2");
	u64 l2 = sound_image(path, 1 << 20, 16, 1);
	u64 rt = get64(path, 48), rte = get64(path, rt);
	struct ski_image *img;
	u64 host = 0, n = 0;

	put64(path, l2 + 8, COPIED | rt);
	KTAP_ASSERT(!ski_open(path, SKI_OPEN_RW, &img));
	KTAP_EXPECT_EQ(ski_map_data(img, CS, CS, true, &host, &n), -EUCLEAN);
	memset(buf, 0x41, sizeof(buf));
	KTAP_EXPECT_EQ(ski_write(img, buf, 512, CS), -EUCLEAN);
	/* its own guest data: written in place as before */
	KTAP_EXPECT(!ski_write(img, buf, 512, 0));
	ski_close(img);
	KTAP_EXPECT_EQ(get64(path, rt), rte);
}

/*
 * A private data entry naming its own L2 table (found through the
 * writable image's filter of table clusters): the write is refused and
 * the table still maps guest cluster 0.
 */
static void copied_on_l2(void)
{
	const char *path = path_of("l2.qcow2");
	u64 l2 = sound_image(path, 1 << 20, 16, 1), e0;
	struct ski_image *img;

	e0 = get64(path, l2);
	put64(path, l2 + 8, COPIED | l2);
	KTAP_ASSERT(!ski_open(path, SKI_OPEN_RW, &img));
	memset(buf, 0x41, sizeof(buf));
	KTAP_EXPECT_EQ(ski_write(img, buf, CS, CS), -EUCLEAN);
	ski_close(img);
	KTAP_EXPECT_EQ(get64(path, l2), e0);
	KTAP_EXPECT(still_ab(path, 0));
}

/*
 * The L1 entry names the refcount table as an L2 table: the table is not
 * taken (a write through it would rewrite refcounts).
 */
static void l2_on_reftable(void)
{
	const char *path = path_of("l2rt.qcow2");
	struct ski_image *img;
	u64 rt, rte;

	sound_image(path, 1 << 20, 16, 1);
	rt = get64(path, 48);
	rte = get64(path, rt);
	put64(path, get64(path, 40), COPIED | rt);
	KTAP_ASSERT(!ski_open(path, SKI_OPEN_RW, &img));
	memset(buf, 0x41, sizeof(buf));
	KTAP_EXPECT_EQ(ski_write(img, buf, 512, 0), -EUCLEAN);
	KTAP_EXPECT_EQ(ski_read(img, buf, 512, 0), -EUCLEAN);
	ski_close(img);
	KTAP_EXPECT_EQ(get64(path, rt), rte);
}

/*
 * Refcount-table slot 0 empty, or the table past the end of the file
 * (read as zeroes): a new block 0 would go on the header cluster.  Both
 * are refused at open.
 */
static void reftable_slot0_missing(void)
{
	const char *path = path_of("rt0.qcow2");
	struct ski_image *img = NULL;

	sound_image(path, 1 << 20, 16, 1);
	put64(path, get64(path, 48), 0);
	KTAP_EXPECT_EQ(ski_open(path, SKI_OPEN_RW, &img), -EUCLEAN);
	KTAP_EXPECT_EQ(ski_open(path, 0, &img), -EUCLEAN);

	sound_image(path, 1 << 20, 16, 1);
	put64(path, 48, 1ULL << 32);
	KTAP_EXPECT_EQ(ski_open(path, SKI_OPEN_RW, &img), -EUCLEAN);
	KTAP_EXPECT_EQ(get64(path, 0) >> 32, 0x514649fbULL);
}

/*
 * Two refcount-table slots naming one block whose every count is 1 (512-
 * byte clusters: a block counts 256): an allocating write would look past
 * the first block's clusters and meet the same block again and again.  A
 * writable open refuses the image (ski_meta_distinct()); read-only, it
 * opens and reads.  An L1 entry naming a refcount block, and two L1
 * entries naming one L2 table, are refused the same way.
 */
static void refblock_named_twice(void)
{
	const char *path = path_of("rb2.qcow2");
	u64 rt, rb0, i, l2;
	struct ski_image *img;
	u8 ones[512];

	sound_image(path, 1 << 20, 9, 1);
	rt = get64(path, 48);
	rb0 = get64(path, rt);
	for (i = 0; i < 256; i++)
		ski_put_be16(ones + 2 * i, 1);
	put(path, rb0, ones, sizeof(ones));
	for (i = 1; i < 64; i++)
		put64(path, rt + i * 8, rb0);
	KTAP_EXPECT_EQ(ski_open(path, SKI_OPEN_RW, &img), -EUCLEAN);
	KTAP_ASSERT(!ski_open(path, 0, &img));
	KTAP_EXPECT_EQ(ski_read(img, buf, 512, 0), 0);
	ski_close(img);

	/* an L1 entry on refcount block 0 */
	l2 = sound_image(path, 1 << 20, 16, 1);
	put64(path, get64(path, 40), COPIED | get64(path, get64(path, 48)));
	KTAP_EXPECT_EQ(ski_open(path, SKI_OPEN_RW, &img), -EUCLEAN);
	/* two L1 entries on one L2 table (a 2 GiB disk has 4) */
	l2 = sound_image(path, 2ULL << 30, 16, 1);
	put64(path, get64(path, 40) + 8, COPIED | l2);
	KTAP_EXPECT_EQ(ski_open(path, SKI_OPEN_RW, &img), -EUCLEAN);
	KTAP_EXPECT(still_ab(path, 0));
}

/* sound_image() of 8 clusters, the first 4 discarded: room to move. */
static u64 holey_image(const char *path)
{
	u64 l2 = sound_image(path, 4 << 20, 16, 8);
	struct ski_image *img;

	if (ski_open(path, SKI_OPEN_RW, &img) || ski_discard(img, 0, 4 * CS))
		abort();
	ski_close(img);
	return l2;
}

/* Run operation @kind on @path to its end: its last step's result. */
static int run_op(const char *path, enum ski_op_kind kind, u64 *moved)
{
	struct ski_image *img;
	struct ski_op op;
	int r;

	if (ski_open(path, SKI_OPEN_RW, &img))
		return -EIO;
	r = ski_op_begin(&op, img, kind);
	if (!r) {
		while (!(r = ski_op_step(&op, 16)))
			;
		*moved = op.moved;
		ski_op_end(&op);
	}
	ski_close(img);
	return r;
}

/*
 * A defragment of an image whose guest cluster 60 is mapped (COPIED) onto
 * the L1 table's cluster: the reverse map refuses the cluster's second
 * owner, nothing moves, and the L1 table is where and what it was.
 */
static void defrag_data_on_l1(void)
{
	const char *path = path_of("dl1.qcow2");
	u64 l2 = holey_image(path), l1 = get64(path, 40);
	u64 l1e = get64(path, l1), moved = ~0ULL;

	put64(path, l2 + 8 * 60, COPIED | l1);
	KTAP_EXPECT_EQ(run_op(path, SKI_OP_DEFRAG, &moved), -EUCLEAN);
	KTAP_EXPECT_EQ(moved, 0);
	KTAP_EXPECT_EQ(get64(path, 40), l1);
	KTAP_EXPECT_EQ(get64(path, l1), l1e);
	KTAP_EXPECT(still_ab(path, 5));
}

/*
 * Two guest clusters mapped (COPIED) onto one host cluster: a compaction
 * would move it for one and free it under the other; it stops instead.
 */
static void compact_cluster_twice(void)
{
	const char *path = path_of("c2.qcow2");
	u64 l2 = holey_image(path), moved;

	put64(path, l2 + 8 * 6, get64(path, l2 + 8 * 7));
	KTAP_EXPECT_EQ(run_op(path, SKI_OP_COMPACT, &moved), -EUCLEAN);
	KTAP_EXPECT(still_ab(path, 6) && still_ab(path, 7));
}

/*
 * An L2 entry past the virtual size (a crafted image: guest cluster 100 of
 * 64) mapping a cluster of its own with refcount 1.  No guest request can
 * reach it, and no L2 update may change it, so compaction and
 * defragmentation leave it where it is instead of moving it and failing
 * at the switch (every later run failing the same way).
 */
/* The file's length in bytes. */
static u64 file_bytes(const char *path)
{
	int fd = open(path, O_RDONLY);
	off_t len = fd < 0 ? -1 : lseek(fd, 0, SEEK_END);

	if (len < 0)
		abort();
	close(fd);
	return len;
}

static void entry_past_size(void)
{
	static const enum ski_op_kind kinds[] = { SKI_OP_COMPACT,
						  SKI_OP_DEFRAG };
	const char *path = path_of("past.qcow2");
	u64 l2, end, moved, rb;
	unsigned int i;
	u8 rc[2] = { 0, 1 };

	for (i = 0; i < KTAP_ARRAY_SIZE(kinds); i++) {
		l2 = holey_image(path);
		end = (file_bytes(path) + CS - 1) / CS;
		memset(buf, 0xee, sizeof(buf));
		put(path, end * CS, buf, CS);
		put64(path, l2 + 8 * 100, COPIED | (end * CS));
		rb = get64(path, get64(path, 48));
		put(path, rb + 2 * end, rc, sizeof(rc));
		KTAP_EXPECT(imgt_check_ok(path, false));
		KTAP_EXPECT_EQ(run_op(path, kinds[i], &moved), 1);
		KTAP_EXPECT_EQ(get64(path, l2 + 8 * 100), COPIED | (end * CS));
		KTAP_EXPECT(still_ab(path, 4) && still_ab(path, 7));
		KTAP_EXPECT(imgt_check_ok(path, false));
		/* and again: nothing left half done */
		KTAP_EXPECT_EQ(run_op(path, kinds[i], &moved), 1);
		KTAP_EXPECT(imgt_check_ok(path, false));
	}
}

/*
 * An image at the format's largest L1 table (32 MiB, sparse) that names
 * itself as its qcow2 backing file: the open fails (chain too long)
 * having held a few MiB, not sixteen copies of its tables.
 */
static void chain_names_itself(void)
{
	const char *path = path_of("self.qcow2");
	u64 live, peak, calls, hl;
	struct ski_image *img = NULL;
	u8 hdr[512], ext[16] = { 0 };
	int fd;

	sound_image(path, 1 << 20, 16, 0);
	put32(path, 36, (32u << 20) / 8);	/* l1_size */
	put64(path, 40, 16ULL << 20);		/* L1 at 16 MiB: zeroes */
	fd = open(path, O_RDWR);
	KTAP_ASSERT(fd >= 0 && !ftruncate(fd, (16 + 32) << 20));
	KTAP_ASSERT(pread(fd, hdr, sizeof(hdr), 0) == sizeof(hdr));
	close(fd);
	hl = ski_get_be32(hdr + 100);
	ski_put_be32(ext, 0xe2792acaU);		/* backing format: qcow2 */
	ski_put_be32(ext + 4, 5);
	memcpy(ext + 8, "qcow2", 5);
	memcpy(hdr + hl, ext, 16);
	memset(hdr + hl + 16, 0, 8);		/* end of extensions */
	memcpy(hdr + 0x180, "self.qcow2", 10);
	ski_put_be64(hdr + 8, 0x180);
	ski_put_be32(hdr + 16, 10);
	put(path, 0, hdr, sizeof(hdr));

	skp_user_alloc_stats(&live, &peak, &calls);
	KTAP_EXPECT(ski_open(path, SKI_OPEN_STRICT, &img) < 0);
	skp_user_alloc_stats(&live, &peak, &calls);
	printf("# peak platform allocation %llu KiB\n",
	       (unsigned long long)(peak >> 10));
	KTAP_EXPECT(peak < (16 << 20));	/* not one link's 32 MiB L1 */
}

/*
 * Eight links of 32 MiB L1 tables each (sparse): over
 * SKI_CHAIN_TABLE_BYTES; seven open, and the top link alone.
 */
static void chain_tables_bounded(void)
{
	struct ski_create_opts co = { .size = 1 << 20, .cluster_bits = 16,
				      .backing_format = "qcow2" };
	struct ski_image *img = NULL;
	char name[8][24];
	int i, fd;

	for (i = 0; i < 8; i++) {
		const char *p;

		snprintf(name[i], sizeof(name[i]), "big%d.qcow2", i);
		p = path_of(name[i]);
		if (!i) {
			sound_image(p, 1 << 20, 16, 0);
		} else {
			co.backing_file = name[i - 1];
			unlink(p);
			KTAP_ASSERT(!ski_create(p, &co));
		}
		put32(p, 36, (32u << 20) / 8);
		put64(p, 40, 16ULL << 20);
		fd = open(p, O_RDWR);
		KTAP_ASSERT(fd >= 0 && !ftruncate(fd, (16 + 32) << 20));
		close(fd);
	}
	KTAP_EXPECT(!ski_open(path_of(name[6]), 0, &img));
	if (img)
		ski_close(img);
	img = NULL;
	KTAP_EXPECT_EQ(ski_open(path_of(name[7]), 0, &img), -EFBIG);
	KTAP_EXPECT(!ski_open(path_of(name[7]), SKI_OPEN_NO_BACKING, &img));
	if (img)
		ski_close(img);
}

static const struct ktap_case cases[] = {
	KTAP_CASE(compressed_on_header),
	KTAP_CASE(compressed_on_l1_cluster),
	KTAP_CASE(copied_on_reftable),
	KTAP_CASE(copied_on_l2),
	KTAP_CASE(l2_on_reftable),
	KTAP_CASE(reftable_slot0_missing),
	KTAP_CASE(refblock_named_twice),
	KTAP_CASE(defrag_data_on_l1),
	KTAP_CASE(compact_cluster_twice),
	KTAP_CASE(entry_past_size),
	KTAP_CASE(chain_names_itself),
	KTAP_CASE(chain_tables_bounded),
};

KTAP_MAIN(cases)
