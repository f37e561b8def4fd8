// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target: decompression of compressed clusters, as the core
 * does it: skp_inflate(), the platform layer's call into zlib, with the
 * exact-output rule on top.
 */
#include <stdint.h>
#include <stdlib.h>

#include "core/platform.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static u8 out[65536];
	size_t out_len;

	if (size < 2)
		return 0;
	/* First two bytes pick the output (cluster) size: 512..64 KiB. */
	out_len = 512U << (data[0] % 8);
	skp_inflate(data + 2, size - 2, out, out_len);
	return 0;
}
