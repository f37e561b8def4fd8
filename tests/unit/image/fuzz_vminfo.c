// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target: the VM information extension decoder (vminfo.c).  An
 * input that decodes must encode again to the same bytes' meaning: decode
 * of the re-encoding succeeds with the same number of records.
 */
#include <stdint.h>
#include <stdlib.h>

#include "core/vminfo.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static u8 out[SKI_VMINFO_MAX_LEN * 4];
	struct ski_vminfo info, again;
	const char *reason;
	size_t used;

	if (!ski_vminfo_decode(data, size, &info, &reason) &&
	    !ski_vminfo_encode(&info, out, sizeof(out), &used)) {
		if (ski_vminfo_decode(out, used, &again, &reason) ||
		    again.nr != info.nr)
			abort();
		ski_vminfo_free(&again);
	}
	ski_vminfo_free(&info);
	return 0;
}
