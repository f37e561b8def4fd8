/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Set-up and check helpers shared by the image engine's unit tests
 * (test_engine.c, test_wbcache.c and the wbcache.c model): the scratch
 * directory, seeded guest data, fragmented images, running a long
 * operation to its end, and reading an image back for its check and its
 * guest content.  Everything here reaches the files through the engine
 * (ski_*), never through libc, so in the image_wbcache binary, which is
 * linked with -Wl,--wrap= on skp_*, the write-back cache model sees all
 * the I/O these helpers cause.
 */
#ifndef _SPLITKIT_TEST_IMAGE_HELPERS_H
#define _SPLITKIT_TEST_IMAGE_HELPERS_H

#include <stdbool.h>
#include <stddef.h>

#include "core/image.h"
#include "core/ops.h"

const char *imgt_path(const char *tmpl, const char *name);
const char *imgt_dir(void);
void imgt_fill(u8 *buf, size_t len, unsigned int seed, u8 set_bits);
bool imgt_check_ok(const char *path, bool leaks_ok);
bool imgt_equals(const char *path, const u8 *ref, size_t len);
int imgt_run_op(const char *path, enum ski_op_kind kind, u64 budget);
/* Reverse-map window (clusters) imgt_run_op() sets; 0: the default. */
extern u64 imgt_rmap_window;
extern u64 imgt_stream_pending;
void imgt_make_fragmented(const char *path, u8 *ref, size_t len,
			  u8 set_bits);

#endif /* _SPLITKIT_TEST_IMAGE_HELPERS_H */
