// SPDX-License-Identifier: GPL-2.0
/*
 * Set-up and check helpers shared by the image engine's unit tests (see
 * helpers.h).  File I/O goes through the engine only, so that in the
 * image_wbcache binary every write these helpers cause passes the
 * --wrap'ed skp_* functions and is seen by the write-back cache model.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/image_priv.h"
#include "helpers.h"

static char dir[64];

/**
 * imgt_path() - a path in the test's scratch directory
 * @tmpl: mkdtemp() template for the directory, used on the first call
 * @name: file name inside it
 *
 * The first call makes the directory and sets SPLITKIT_IMG_NOSYNC.  Each name
 * keeps one stable buffer, so the path stays valid for the whole run; more
 * than 32 names abort the test.
 */
const char *imgt_path(const char *tmpl, const char *name)
{
	static char names[32][32], paths[32][128];
	int i;

	if (!dir[0]) {
		snprintf(dir, sizeof(dir), "%s", tmpl);
		if (!mkdtemp(dir))
			abort();
		setenv("SPLITKIT_IMG_NOSYNC", "1", 1);
	}
	for (i = 0; i < 32 && names[i][0]; i++)
		if (!strcmp(names[i], name))
			return paths[i];
	if (i == 32)
		abort();
	snprintf(names[i], sizeof(names[i]), "%s", name);
	snprintf(paths[i], sizeof(paths[i]), "%s/%s", dir, name);
	return paths[i];
}

/**
 * imgt_dir() - the scratch directory imgt_path() made ("" before it)
 */
const char *imgt_dir(void)
{
	return dir;
}

/**
 * imgt_fill() - seeded pseudo-random guest data
 * @buf: where
 * @len: how many bytes
 * @seed: the same seed gives the same bytes
 * @set_bits: OR'ed into every byte (1: never zero, so a lost write shows)
 */
void imgt_fill(u8 *buf, size_t len, unsigned int seed, u8 set_bits)
{
	size_t i;

	for (i = 0; i < len; i++) {
		seed = seed * 1103515245 + 12345;
		buf[i] = (seed >> 16) | set_bits;
	}
}

/**
 * imgt_check_ok() - our check of an image on its own (no backing file)
 * @path: the image
 * @leaks_ok: true to accept leaked clusters, false to want none
 *
 * Return: true when it opens and the check finds no errors (and no leaks
 * unless @leaks_ok).
 */
bool imgt_check_ok(const char *path, bool leaks_ok)
{
	struct ski_check_result res;
	struct ski_image *img;
	int err;

	if (ski_open(path, SKI_OPEN_NO_BACKING, &img))
		return false;
	err = ski_check(img, 0, &res);
	ski_close(img);
	return !err && !res.errors && (leaks_ok || !res.leaks);
}

/**
 * imgt_equals() - whether an image's guest content is exactly @ref
 * @path: the image, opened with its backing chain
 * @ref: the expected content
 * @len: its length, which must also be the virtual size
 */
bool imgt_equals(const char *path, const u8 *ref, size_t len)
{
	struct ski_image *img;
	u8 *buf = malloc(len);
	bool same;

	if (ski_open(path, 0, &img)) {
		free(buf);
		return false;
	}
	same = img->hdr.size == len && !ski_read(img, buf, len, 0) &&
	       !memcmp(buf, ref, len);
	ski_close(img);
	free(buf);
	return same;
}

u64 imgt_rmap_window;
u64 imgt_stream_pending;

/**
 * imgt_run_op() - run a long operation to its end in steps
 * @path: the image, opened read-write
 * @kind: the operation
 * @budget: the step budget
 *
 * Return: 0 when it finished, else the error.
 */
int imgt_run_op(const char *path, enum ski_op_kind kind, u64 budget)
{
	struct ski_image *img;
	struct ski_op op;
	int err = ski_open(path, SKI_OPEN_RW, &img);

	if (err)
		return err;
	img->rmap_window = imgt_rmap_window;
	img->stream_pending = imgt_stream_pending;
	err = ski_op_begin(&op, img, kind);
	while (!err)
		err = ski_op_step(&op, budget);
	ski_op_end(&op);
	ski_close(img);
	return err == 1 ? 0 : err;
}

/**
 * imgt_make_fragmented() - a fragmented image with 4 KiB clusters
 * @path: the image, (re)created
 * @ref: gets the guest content, @len bytes
 * @len: virtual size, a multiple of 4096
 * @set_bits: for imgt_fill()
 *
 * Written backwards, then every other cluster discarded.  Aborts the test on
 * any error, since a test without its input must not pass.
 */
void imgt_make_fragmented(const char *path, u8 *ref, size_t len,
			  u8 set_bits)
{
	struct ski_create_opts co = { .size = len, .cluster_bits = 12 };
	size_t c, n = len / 4096;
	struct ski_image *img;

	unlink(path);
	if (ski_create(path, &co) || ski_open(path, SKI_OPEN_RW, &img))
		abort();
	for (c = n; c-- > 0;) {
		imgt_fill(ref + c * 4096, 4096, c + 7, set_bits);
		if (ski_write(img, ref + c * 4096, 4096, c * 4096))
			abort();
	}
	for (c = 0; c < n; c += 2) {
		if (ski_discard(img, c * 4096, 4096))
			abort();
		memset(ref + c * 4096, 0, 4096);
	}
	ski_close(img);
}
