// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target: the qcow2 header cluster parser (header.c), the VM
 * information decoder on whatever extension it finds, and the header
 * builder on every header the parser accepts.
 */
#include <stdint.h>
#include <stdlib.h>

#include "core/image.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ski_header hdr;
	struct ski_vminfo info;
	const char *reason;
	static u8 out[1 << 16];

	if (!ski_header_parse(data, size, &hdr, &reason)) {
		if (hdr.vminfo) {
			ski_vminfo_decode(hdr.vminfo, hdr.vminfo_len, &info,
					  &reason);
			ski_vminfo_free(&info);
		}
		ski_header_build(&hdr, out, sizeof(out));
	}
	ski_header_release(&hdr);
	return 0;
}
