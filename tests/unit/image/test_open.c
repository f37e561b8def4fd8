// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests of the image core's public interface as splitkit_back will use
 * it: ski_open_file() on a file descriptor the caller opened (the kernel
 * build takes a struct file the same way), with the caller's descriptor
 * left open after the image is closed, a relative backing file found
 * through the name given, the accessors of an opened image, and refusals
 * (a bad descriptor, a file that is not an image); the flags splitkit_back
 * opens with (SKI_OPEN_STRICT: no probing of backing formats, backing names
 * relative without ".."; SKI_OPEN_PUNCH: freed clusters leave the file,
 * a run of them in one punch); runs of clusters read and written with one
 * file I/O each; ski_map_data() and the free hook of splitkit_back's
 * direct path.
 * Black-box: only
 * image.h, ops.h and the platform layer.
 */
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <stdlib.h>
#include <unistd.h>

#include "ktap.h"
#include "helpers.h"
#include "core/image.h"
#include "core/ops.h"
#include "user/platform_user.h"


static const char *path_of(const char *name)
{
	return imgt_path("/tmp/sk-image-open.XXXXXX", name);
}

static int open_fd(const char *path, unsigned int flags,
		   const char *name, int *fdp, struct ski_image **imgp)
{
	struct skp_file *file;
	int err;

	*fdp = open(path, flags & SKI_OPEN_RW ? O_RDWR : O_RDONLY);
	if (*fdp < 0)
		return -errno;
	err = skp_file_from_fd(*fdp, &file);
	if (err)
		return err;
	return ski_open_file(file, name, flags, imgp);
}

static void test_open_file_rw(void)
{
	struct ski_create_opts co = { .size = 1 << 20 };
	const char *path = path_of("fd.qcow2");
	u8 buf[5000], back[5000];
	struct ski_image *img;
	u64 size;
	int fd;

	memset(buf, 0x5a, sizeof(buf));
	unlink(path);
	KTAP_ASSERT(!ski_create(path, &co));
	KTAP_ASSERT(!open_fd(path, SKI_OPEN_RW, path, &fd, &img));
	KTAP_EXPECT(!strcmp(ski_image_path(img), path));
	KTAP_EXPECT_EQ(ski_image_header(img)->size, 1 << 20);
	KTAP_EXPECT(ski_image_vminfo(img) == NULL);
	KTAP_EXPECT(!ski_write(img, buf, sizeof(buf), 70000));
	KTAP_EXPECT(!ski_image_file_size(img, &size));
	KTAP_EXPECT(size > 0);
	ski_close(img);
	/* The caller's descriptor outlives the image. */
	KTAP_EXPECT(fcntl(fd, F_GETFD) >= 0);
	close(fd);

	KTAP_ASSERT(!ski_open(path, 0, &img));
	KTAP_EXPECT(!ski_read(img, back, sizeof(back), 70000));
	KTAP_EXPECT(!memcmp(buf, back, sizeof(buf)));
	ski_close(img);
}

static void test_open_file_backing(void)
{
	struct ski_create_opts base = { .size = 1 << 20 };
	struct ski_create_opts child = {
		.size = 1 << 20, .backing_file = "base.qcow2",
		.backing_format = "qcow2",
	};
	const char *base_path = path_of("base.qcow2");
	const char *child_path = path_of("child.qcow2");
	struct ski_image *img;
	u8 buf[512], back[512];
	int fd;

	memset(buf, 0xa5, sizeof(buf));
	unlink(base_path);
	unlink(child_path);
	KTAP_ASSERT(!ski_create(base_path, &base));
	KTAP_ASSERT(!ski_open(base_path, SKI_OPEN_RW, &img));
	KTAP_EXPECT(!ski_write(img, buf, sizeof(buf), 4096));
	ski_close(img);
	KTAP_ASSERT(!ski_create(child_path, &child));
	/* The name locates the relative backing file. */
	KTAP_ASSERT(!open_fd(child_path, 0, child_path, &fd, &img));
	KTAP_EXPECT(!strcmp(ski_image_header(img)->backing_file,
			    "base.qcow2"));
	KTAP_EXPECT(!ski_read(img, back, sizeof(back), 4096));
	KTAP_EXPECT(!memcmp(buf, back, sizeof(buf)));
	ski_close(img);
	close(fd);
}

static void test_open_file_refused(void)
{
	const char *path = path_of("garbage");
	struct skp_file *file;
	struct ski_image *img;
	FILE *f;
	int fd;

	KTAP_EXPECT_EQ(skp_file_from_fd(-1, &file), -EBADF);
	f = fopen(path, "wb");
	KTAP_ASSERT(f);
	fputs("not an image, long enough to hold a header's first fields",
	      f);
	fclose(f);
	skp_user_set_log_level(-1);
	KTAP_EXPECT_EQ(open_fd(path, 0, path, &fd, &img), -EINVAL);
	skp_user_set_log_level(SKP_LOG_WARN);
	/* A failed open releases the wrapper, never the caller's file. */
	KTAP_EXPECT(fcntl(fd, F_GETFD) >= 0);
	close(fd);
}

/* A child of @backing (recorded as @fmt, may be NULL) at @name in dir. */
static int strict_open(const char *name, const char *backing,
		       const char *fmt, unsigned int flags)
{
	struct ski_create_opts co = {
		.size = 1 << 20, .backing_file = backing,
		.backing_format = fmt,
	};
	const char *path = path_of(name);
	struct ski_image *img;
	int fd, err;

	unlink(path);
	if (ski_create(path, &co))
		return -1000;
	skp_user_set_log_level(-1);
	err = open_fd(path, flags, path, &fd, &img);
	skp_user_set_log_level(SKP_LOG_WARN);
	if (!err)
		ski_close(img);
	close(fd);
	return err;
}

/*
 * SKI_OPEN_STRICT, as splitkit_back opens: backing formats are never
 * probed, names stay in and under the image's directory.
 */
static void test_open_strict(void)
{
	struct ski_create_opts base = { .size = 1 << 20 };
	char abs[160];
	FILE *f;

	unlink(path_of("sbase.qcow2"));
	KTAP_ASSERT(!ski_create(path_of("sbase.qcow2"), &base));
	f = fopen(path_of("sbase.raw"), "wb");
	KTAP_ASSERT(f);
	KTAP_ASSERT(!ftruncate(fileno(f), 1 << 20));
	fclose(f);
	snprintf(abs, sizeof(abs), "%s", path_of("sbase.qcow2"));

	KTAP_EXPECT_EQ(strict_open("s1.qcow2", "sbase.qcow2", "qcow2",
				   SKI_OPEN_STRICT), 0);
	KTAP_EXPECT_EQ(strict_open("s2.qcow2", "sbase.raw", "raw",
				   SKI_OPEN_STRICT | SKI_OPEN_RW), 0);
	/* unrecorded: the tool probes, the strict open refuses ... */
	KTAP_EXPECT_EQ(strict_open("s3.qcow2", "sbase.qcow2", NULL, 0), 0);
	KTAP_EXPECT_EQ(strict_open("s3.qcow2", "sbase.qcow2", NULL,
				   SKI_OPEN_STRICT), -EPERM);
	/* ... or, when told, opens raw: the qcow2 header is guest data */
	KTAP_EXPECT_EQ(strict_open("s3.qcow2", "sbase.qcow2", NULL,
				   SKI_OPEN_STRICT | SKI_OPEN_UNRECORDED_RAW),
		       0);
	KTAP_EXPECT_EQ(strict_open("s4.qcow2", abs, "qcow2", 0), 0);
	KTAP_EXPECT_EQ(strict_open("s4.qcow2", abs, "qcow2",
				   SKI_OPEN_STRICT), -EPERM);
	KTAP_EXPECT_EQ(strict_open("s5.qcow2", "../sbase.qcow2", "qcow2",
				   SKI_OPEN_STRICT), -EPERM);
	KTAP_EXPECT_EQ(strict_open("s5.qcow2", "x/../../sbase.qcow2",
				   "qcow2", SKI_OPEN_STRICT), -EPERM);
	KTAP_EXPECT_EQ(strict_open("s5.qcow2", "..", "qcow2",
				   SKI_OPEN_STRICT), -EPERM);
	/* a name that only looks like ".." is a name */
	KTAP_EXPECT_EQ(strict_open("s6.qcow2", "..sbase.qcow2", "qcow2",
				   SKI_OPEN_STRICT), -ENOENT);
}

/* SKI_OPEN_PUNCH: a discarded cluster's space goes back to the file system. */
static void test_open_punch(void)
{
	struct ski_create_opts co = { .size = 8 << 20 };
	const char *path = path_of("punch.qcow2");
	static u8 buf[4 << 20];
	struct ski_image *img;
	struct stat st;
	blkcnt_t full, with, without;
	int fd;

	memset(buf, 0x3c, sizeof(buf));
	unlink(path);
	KTAP_ASSERT(!ski_create(path, &co));
	KTAP_ASSERT(!open_fd(path, SKI_OPEN_RW, path, &fd, &img));
	KTAP_ASSERT(!ski_write(img, buf, sizeof(buf), 0));
	KTAP_ASSERT(!fstat(fd, &st));
	full = st.st_blocks;
	KTAP_EXPECT(!ski_discard(img, 0, 2 << 20));
	KTAP_ASSERT(!fstat(fd, &st));
	without = st.st_blocks;
	ski_close(img);
	close(fd);
	KTAP_EXPECT(without == full);	/* the tool keeps the bytes */

	KTAP_ASSERT(!open_fd(path, SKI_OPEN_RW | SKI_OPEN_PUNCH, path, &fd,
			     &img));
	KTAP_EXPECT(!ski_write(img, buf, sizeof(buf), 0));
	KTAP_ASSERT(!fstat(fd, &st));
	with = st.st_blocks;
	KTAP_EXPECT(!ski_discard(img, 0, 2 << 20));
	KTAP_ASSERT(!fstat(fd, &st));
	/* 2 MiB freed: 4096 blocks of 512 bytes, allow for metadata */
	if (!(st.st_blocks + 3072 < with))
		printf("# blocks %lld with, %lld after the discard\n",
		       (long long)with, (long long)st.st_blocks);
	KTAP_EXPECT(st.st_blocks + 3072 < with);
	ski_close(img);
	close(fd);
}

/*
 * SKI_OPEN_PUNCH frees a run of host clusters with one punch, not one per
 * cluster (a punch is a file-system transaction): a discard of 32
 * contiguous clusters, and a commit of 32 contiguous child clusters in two
 * steps, each punch one range; content and allocation checked after.
 */
static void test_open_punch_runs(void)
{
	struct ski_create_opts co = { .size = 4 << 20 };
	const char *base = path_of("pbase.qcow2");
	const char *child = path_of("pchild.qcow2");
	static u8 buf[2 << 20], back[2 << 20];
	struct ski_image *img;
	struct ski_op op;
	struct stat st;
	blkcnt_t with;
	u64 before;
	int fd, err;

	memset(buf, 0x5a, sizeof(buf));
	unlink(base);
	unlink(child);
	KTAP_ASSERT(!ski_create(base, &co));
	KTAP_ASSERT(!open_fd(base, SKI_OPEN_RW | SKI_OPEN_PUNCH, base, &fd,
			     &img));
	KTAP_ASSERT(!ski_write(img, buf, sizeof(buf), 0));
	KTAP_ASSERT(!ski_write(img, buf, sizeof(buf), 2 << 20));
	before = skp_user_punches();
	KTAP_EXPECT(!ski_discard(img, 0, 2 << 20));
	KTAP_EXPECT_EQ(skp_user_punches() - before, 1);
	ski_close(img);
	close(fd);

	co.backing_file = "pbase.qcow2";
	co.backing_format = "qcow2";
	KTAP_ASSERT(!ski_create(child, &co));
	KTAP_ASSERT(!open_fd(child, SKI_OPEN_RW | SKI_OPEN_PUNCH, child, &fd,
			     &img));
	memset(buf, 0xa5, sizeof(buf));
	KTAP_ASSERT(!ski_write(img, buf, sizeof(buf), 2 << 20));
	KTAP_ASSERT(!fstat(fd, &st));
	with = st.st_blocks;
	before = skp_user_punches();
	err = ski_op_begin(&op, img, SKI_OP_COMMIT);
	while (!err)
		err = ski_op_step(&op, 16);
	ski_op_end(&op);
	KTAP_EXPECT_EQ(err, 1);
	/* 32 clusters of 64 KiB, 16 a step: one punch a step */
	KTAP_EXPECT_EQ(skp_user_punches() - before, 2);
	KTAP_ASSERT(!fstat(fd, &st));
	KTAP_EXPECT(st.st_blocks + 3072 < with);
	KTAP_EXPECT(!ski_read(img, back, sizeof(back), 2 << 20));
	KTAP_EXPECT(!memcmp(back, buf, sizeof(buf)));
	ski_close(img);
	close(fd);
}

/* A new 4 MiB image at @path (backing file @backing, qcow2, or none). */
static int new_image(const char *path, const char *backing, int *fdp,
		     struct ski_image **imgp)
{
	struct ski_create_opts co = { .size = 4 << 20,
				      .backing_file = backing,
				      .backing_format = backing ? "qcow2" : NULL };
	int err;

	unlink(path);
	err = ski_create(path, &co);
	return err ? err : open_fd(path, SKI_OPEN_RW, path, fdp, imgp);
}

/*
 * A guest write of 16 whole new clusters that follow each other in the
 * file goes out as one write of the file, not 16 (each extends it).
 */
static void test_open_write_runs(void)
{
	const char *path = path_of("wruns.qcow2");
	static u8 buf[1 << 20], back[1 << 20];
	struct ski_image *img;
	int fd;

	memset(buf, 0x6b, sizeof(buf));
	KTAP_ASSERT(!new_image(path, NULL, &fd, &img));
	/* the L2 table first: its own 64 KiB write */
	KTAP_ASSERT(!ski_write(img, buf, 4096, 0));
	skp_user_count_writes(64 << 10);
	KTAP_EXPECT(!ski_write(img, buf, sizeof(buf), 1 << 20));
	KTAP_EXPECT_EQ(skp_user_writes(), 1);
	skp_user_count_writes(~0ULL);
	KTAP_EXPECT(!ski_read(img, back, sizeof(back), 1 << 20));
	KTAP_EXPECT(!memcmp(back, buf, sizeof(buf)));
	ski_close(img);
	close(fd);
}

/*
 * A guest read of 16 clusters that follow each other in the file is one
 * read of the file, and so is one of 16 clusters the child lacks, read
 * through its backing file; a read across both kinds is one of each.
 */
static void test_open_read_runs(void)
{
	const char *base = path_of("rbase.qcow2");
	const char *child = path_of("rchild.qcow2");
	static u8 buf[2 << 20], back[2 << 20];
	struct ski_image *img;
	int fd;

	memset(buf, 0x3c, sizeof(buf));
	KTAP_ASSERT(!new_image(base, NULL, &fd, &img));
	KTAP_ASSERT(!ski_write(img, buf, 1 << 20, 1 << 20));
	ski_close(img);
	close(fd);
	KTAP_ASSERT(!new_image(child, "rbase.qcow2", &fd, &img));
	memset(buf + (1 << 20), 0xc3, 1 << 20);
	KTAP_ASSERT(!ski_write(img, buf + (1 << 20), 1 << 20, 2 << 20));
	/* the L2 tables in the cache first: each a 64 KiB read */
	KTAP_ASSERT(!ski_read(img, back, 2 << 20, 1 << 20));
	skp_user_count_reads(64 << 10);
	KTAP_EXPECT(!ski_read(img, back, 1 << 20, 1 << 20));
	KTAP_EXPECT_EQ(skp_user_reads(), 1);
	KTAP_EXPECT(!memcmp(back, buf, 1 << 20));
	skp_user_count_reads(64 << 10);
	KTAP_EXPECT(!ski_read(img, back, 1 << 20, 2 << 20));
	KTAP_EXPECT_EQ(skp_user_reads(), 1);
	KTAP_EXPECT(!memcmp(back, buf + (1 << 20), 1 << 20));
	skp_user_count_reads(64 << 10);
	KTAP_EXPECT(!ski_read(img, back, 2 << 20, 1 << 20));
	KTAP_EXPECT_EQ(skp_user_reads(), 2);
	KTAP_EXPECT(!memcmp(back, buf, 2 << 20));
	skp_user_count_reads(~0ULL);
	ski_close(img);
	close(fd);
}

/*
 * Guest writes into new clusters cost no flush each: their mappings wait
 * in the cached L2 table (ski_l2_defer()) for the guest's flush, which
 * flushes once before writing them and once after.  Read before the flush,
 * after it and after a reopen, the data is there.
 */
static void test_open_write_deferred(void)
{
	const char *path = path_of("wdefer.qcow2");
	static u8 buf[1 << 20], back[1 << 20];
	struct ski_image *img;
	u64 before;
	int fd, i;

	for (i = 0; i < (int)sizeof(buf); i++)
		buf[i] = (u8)(i * 7 + i / 4096);
	KTAP_ASSERT(!new_image(path, NULL, &fd, &img));
	/* the L2 table first: its own flush */
	KTAP_ASSERT(!ski_write(img, buf, 4096, 0));
	before = skp_user_flushes();
	for (i = 0; i < 16; i++)
		KTAP_EXPECT(!ski_write(img, buf + (i << 16), 1 << 16,
				       (1 << 20) + (i << 16)));
	KTAP_EXPECT_EQ(skp_user_flushes() - before, 0);
	KTAP_EXPECT(!ski_read(img, back, sizeof(back), 1 << 20));
	KTAP_EXPECT(!memcmp(back, buf, sizeof(buf)));
	KTAP_EXPECT(!ski_flush(img));
	KTAP_EXPECT_EQ(skp_user_flushes() - before, 2);
	ski_close(img);
	close(fd);
	KTAP_ASSERT(!open_fd(path, 0, path, &fd, &img));
	KTAP_EXPECT(!ski_read(img, back, sizeof(back), 1 << 20));
	KTAP_EXPECT(!memcmp(back, buf, sizeof(buf)));
	ski_close(img);
	close(fd);
}

static u64 be64_at(const u8 *p)
{
	u64 v = 0;
	int i;

	for (i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

/* Clear the COPIED flag of guest cluster @gc's L2 entry (first L2 table). */
static int clear_copied(const char *path, unsigned int gc)
{
	u8 hdr[48], raw[8];
	u64 l1, l2;
	int fd, err = -EIO;

	fd = open(path, O_RDWR);
	if (fd < 0)
		return -errno;
	if (pread(fd, hdr, sizeof(hdr), 0) != sizeof(hdr) ||
	    pread(fd, raw, 8, be64_at(hdr + 40)) != 8)
		goto out;
	l1 = be64_at(raw) & 0x00fffffffffffe00ULL;
	if (!l1 || pread(fd, raw, 8, l1 + 8 * gc) != 8)
		goto out;
	l2 = be64_at(raw) & ~(1ULL << 63);
	for (err = 0; err < 8; err++)
		raw[err] = (u8)(l2 >> (56 - 8 * err));
	err = pwrite(fd, raw, 8, l1 + 8 * gc) == 8 ? 0 : -EIO;
out:
	close(fd);
	return err;
}

/*
 * ski_map_data(), the engine's answer to splitkit_back's direct path:
 * where guest bytes lie in the file, a run of data clusters that follow
 * each other there at most, and -EAGAIN for everything the engine must
 * serve itself (unallocated and zero clusters, what a child does not
 * hold, a write into a cluster it does not own alone).  What it points at
 * holds the guest's bytes.
 */
static void test_open_map_data(void)
{
	const char *path = path_of("map.qcow2");
	const char *child = path_of("mapchild.qcow2");
	static u8 buf[256 << 10], back[256 << 10];
	struct ski_image *img;
	struct ski_op op;
	u64 host, n, h5, h6;
	int fd, i;

	for (i = 0; i < (int)sizeof(buf); i++)
		buf[i] = (u8)(i * 13 + i / 512);
	KTAP_ASSERT(!new_image(path, NULL, &fd, &img));
	KTAP_ASSERT(!ski_write(img, buf, sizeof(buf), 0));
	KTAP_EXPECT_EQ(ski_map_data(img, 4096, sizeof(buf) - 4096, false,
				    &host, &n), 0);
	KTAP_EXPECT_EQ(n, sizeof(buf) - 4096);
	KTAP_EXPECT_EQ(pread(fd, back, n, host), (ssize_t)n);
	KTAP_EXPECT(!memcmp(back, buf + 4096, n));
	/* the run ends where the data does */
	KTAP_EXPECT_EQ(ski_map_data(img, 0, 512 << 10, false, &host, &n), 0);
	KTAP_EXPECT_EQ(n, sizeof(buf));
	KTAP_EXPECT_EQ(ski_map_data(img, 256 << 10, 4096, false, &host, &n),
		       -EAGAIN);
	/* clusters 6 then 5: neighbours in the guest, not in the file */
	KTAP_ASSERT(!ski_write(img, buf, 64 << 10, 384 << 10));
	KTAP_ASSERT(!ski_write(img, buf, 64 << 10, 320 << 10));
	KTAP_EXPECT_EQ(ski_map_data(img, 384 << 10, 4096, true, &h6, &n), 0);
	KTAP_EXPECT_EQ(ski_map_data(img, 320 << 10, 128 << 10, true, &h5, &n),
		       0);
	KTAP_EXPECT_EQ(n, 64 << 10);
	KTAP_EXPECT(h6 != h5 + (64 << 10));
	/* a zero cluster, a range past the end */
	KTAP_ASSERT(!ski_write_zeroes(img, 512 << 10, 64 << 10));
	KTAP_EXPECT_EQ(ski_map_data(img, 512 << 10, 4096, false, &host, &n),
		       -EAGAIN);
	KTAP_EXPECT_EQ(ski_map_data(img, (4 << 20) - 4096, 8192, false, &host,
				    &n), -EINVAL);
	/* while an operation runs too (test_online: the rule then) */
	KTAP_ASSERT(!ski_op_begin(&op, img, SKI_OP_COMPACT));
	KTAP_EXPECT_EQ(ski_map_data(img, 0, 4096, true, &host, &n), 0);
	ski_op_end(&op);
	ski_close(img);
	close(fd);

	/* read-only: reads only */
	KTAP_ASSERT(!open_fd(path, 0, path, &fd, &img));
	KTAP_EXPECT_EQ(ski_map_data(img, 0, 4096, false, &host, &n), 0);
	KTAP_EXPECT_EQ(ski_map_data(img, 0, 4096, true, &host, &n), -EROFS);
	ski_close(img);
	close(fd);

	/*
	 * Guest cluster 1 without QCOW2_OFLAG_COPIED (as qemu leaves a
	 * cluster a snapshot shares): read in place, written only by the
	 * engine (copy on write).
	 */
	KTAP_ASSERT(!clear_copied(path, 1));
	KTAP_ASSERT(!open_fd(path, SKI_OPEN_RW, path, &fd, &img));
	KTAP_EXPECT_EQ(ski_map_data(img, 64 << 10, 4096, false, &host, &n), 0);
	KTAP_EXPECT_EQ(ski_map_data(img, 64 << 10, 4096, true, &host, &n),
		       -EAGAIN);
	KTAP_EXPECT_EQ(ski_map_data(img, 0, 128 << 10, true, &host, &n), 0);
	KTAP_EXPECT_EQ(n, 64 << 10);
	ski_close(img);
	close(fd);

	/* a child: what it holds, not what it reads through its backing */
	KTAP_ASSERT(!new_image(child, "map.qcow2", &fd, &img));
	KTAP_ASSERT(!ski_write(img, buf, 64 << 10, 64 << 10));
	KTAP_EXPECT_EQ(ski_map_data(img, 0, 4096, false, &host, &n), -EAGAIN);
	KTAP_EXPECT_EQ(ski_map_data(img, 64 << 10, 128 << 10, true, &host,
				    &n), 0);
	KTAP_EXPECT_EQ(n, 64 << 10);
	ski_close(img);
	close(fd);
}

/* A direct write splitkit_back has in flight, as test_open_map_freed sees it. */
static struct {
	int fd;
	u64 host;
	const u8 *data;
	unsigned int hooks;
} in_flight;

static void land_in_flight(void)
{
	if (in_flight.data &&
	    pwrite(in_flight.fd, in_flight.data, 4096, in_flight.host) != 4096)
		abort();
	in_flight.data = NULL;
}

/* The free hook: splitkit_back waits there for its I/O to end. */
static void freeing(void *arg)
{
	(void)arg;
	in_flight.hooks++;
	land_in_flight();
}

/*
 * The free hook runs before a cluster given out by ski_map_data() can be
 * reused.  The guest writes cluster 0 directly (its write in flight),
 * discards it meanwhile, then writes cluster 16, which gets the freed host
 * cluster.  The write in flight must end before the discard frees it
 * (splitkit_back drains in the hook); if it landed later, it would land in
 * cluster 16's data.
 */
static void test_open_map_freed(void)
{
	const char *path = path_of("mapfree.qcow2");
	static u8 a[64 << 10], b[4096], c[64 << 10], back[64 << 10];
	struct ski_check_result res;
	struct ski_image *img;
	u64 host, n;
	int fd;

	memset(a, 0xa1, sizeof(a));
	memset(b, 0xb2, sizeof(b));
	memset(c, 0xc3, sizeof(c));
	KTAP_ASSERT(!new_image(path, NULL, &fd, &img));
	ski_set_free_hook(img, freeing, NULL);
	KTAP_ASSERT(!ski_write(img, a, sizeof(a), 0));
	KTAP_ASSERT(!ski_flush(img));
	KTAP_ASSERT(!ski_map_data(img, 0, sizeof(b), true, &host, &n));
	in_flight.fd = fd;
	in_flight.host = host;
	in_flight.data = b;
	in_flight.hooks = 0;
	/* writing in place frees nothing */
	KTAP_EXPECT(!ski_write(img, a, 4096, 8192));
	KTAP_EXPECT_EQ(in_flight.hooks, 0);
	KTAP_EXPECT(!ski_discard(img, 0, 64 << 10));
	KTAP_EXPECT(in_flight.hooks >= 1);
	KTAP_EXPECT(!in_flight.data);
	KTAP_EXPECT(!ski_write(img, c, sizeof(c), 1 << 20));
	KTAP_EXPECT(!ski_map_data(img, 1 << 20, 4096, false, &host, &n));
	KTAP_EXPECT_EQ(host, in_flight.host);	/* the freed cluster again */
	land_in_flight();	/* a write the hook did not wait for: now */
	KTAP_EXPECT(!ski_read(img, back, sizeof(back), 1 << 20));
	KTAP_EXPECT(!memcmp(back, c, sizeof(c)));
	KTAP_EXPECT(!ski_check(img, 0, &res));
	KTAP_EXPECT_EQ(res.errors, 0);
	ski_close(img);
	close(fd);
}

static void test_cleanup(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", imgt_dir());
	KTAP_EXPECT(!system(cmd));
}

static const struct ktap_case cases[] = {
	KTAP_CASE(test_open_file_rw),
	KTAP_CASE(test_open_file_backing),
	KTAP_CASE(test_open_file_refused),
	KTAP_CASE(test_open_strict),
	KTAP_CASE(test_open_punch),
	KTAP_CASE(test_open_punch_runs),
	KTAP_CASE(test_open_write_runs),
	KTAP_CASE(test_open_read_runs),
	KTAP_CASE(test_open_write_deferred),
	KTAP_CASE(test_open_map_data),
	KTAP_CASE(test_open_map_freed),
	KTAP_CASE(test_cleanup),
};

int main(void)
{
	return ktap_main(cases, KTAP_ARRAY_SIZE(cases));
}
