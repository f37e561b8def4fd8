// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target: sk_parse_u32() on arbitrary peer-written XenStore
 * values.  Checks that an accepted value is the decimal the bytes spell and
 * is within the bound, and that the parser never reads past the length.
 * The first bytes also feed sk_seg_check() as a peer-chosen segment, and an
 * accepted segment must lie inside the page (checked in 64-bit).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <splitkit/ring_core.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint32_t maxes[] = { 0, 9, 0xffffu, 0xffffffffu };
	uint64_t ref;
	uint32_t out, max;
	size_t i, len;
	char *copy;
	int rc;

	if (!size)
		return 0;
	if (size >= 9) {
		uint32_t off, slen;

		memcpy(&off, data + 1, 4);
		memcpy(&slen, data + 5, 4);
		if (sk_seg_check(off, slen, 4096) == 0 &&
		    (slen == 0 || (uint64_t)off + slen > 4096))
			abort();
		if (sk_seg_check(off, slen, 4096) != 0 &&
		    slen && (uint64_t)off + slen <= 4096)
			abort();
	}
	max = maxes[data[0] % 4];
	len = size - 1;
	copy = malloc(len ? len : 1);	/* exact size: ASan sees overreads */
	if (!copy)
		abort();
	memcpy(copy, data + 1, len);
	rc = sk_parse_u32(copy, len, max, &out);
	if (rc == 0) {
		ref = 0;
		for (i = 0; i < len && copy[i]; i++) {
			if (copy[i] < '0' || copy[i] > '9')
				abort();
			ref = ref * 10 + (uint64_t)(copy[i] - '0');
		}
		if (i == 0 || i > 10 || ref != out || out > max)
			abort();
	} else if (rc != -EINVAL && rc != -ERANGE) {
		abort();
	}
	free(copy);
	return 0;
}
