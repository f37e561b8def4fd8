// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target: the raw deflate decoder used for compressed clusters.
 */
#include <stdint.h>
#include <stdlib.h>

#include "core/image.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static u8 out[65536];
	size_t out_len;

	if (size < 2)
		return 0;
	/* First two bytes pick the output (cluster) size: 512..64 KiB. */
	out_len = 512U << (data[0] % 8);
	ski_inflate(data + 2, size - 2, out, out_len);
	return 0;
}
