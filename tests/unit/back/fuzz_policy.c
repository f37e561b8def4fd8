// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target: what splitkit_back reads of a qcow2 image at attach
 * beyond the header, i.e. the VM information extension as decoded by the
 * image core and judged by the attach rules (backend/core/policy.c).  The
 * first 16 bytes choose the attach (read-only, concurrent attaches, a
 * writer among them, the time, whether the guest has a name); the rest is
 * the extension.  Whatever the input: the verdict is 0, -EBUSY or
 * -EACCES, a refusal's reason is a terminated string within its buffer,
 * an accepted attach leaves the buffer untouched, and the backend's own
 * rule always wins (a writable attach beside another is refused).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "policy.h"

#define CHECK(c)	do { if (!(c)) abort(); } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct skb_policy_in in = { 0 };
	struct ski_vminfo info;
	const char *reason;
	char why[64 + 1];
	u64 now = 0;
	int i, ret;

	if (size < 16)
		return 0;
	in.read_only = data[0] & 1;
	in.attached_writer = data[0] & 2;
	in.dom_name = data[0] & 4 ? "vm1" : NULL;
	in.dom_uuid = data[0] & 8 ? "12345678-1234-1234-1234-123456789abc" :
				    NULL;
	in.attached = data[1] & 3;
	for (i = 0; i < 8; i++)
		now = now << 8 | data[8 + i];
	in.now = now;
	/* its entries decoded before a failure are ours to free too */
	if (ski_vminfo_decode(data + 16, size - 16, &info, &reason)) {
		ski_vminfo_free(&info);
		return 0;
	}
	memset(why, 0x5a, sizeof(why));
	why[sizeof(why) - 1] = 0;
	ret = skb_policy_check(&info, &in, why, sizeof(why) - 1);
	CHECK(ret == 0 || ret == -EBUSY || ret == -EACCES);
	if (ret) {
		CHECK(memchr(why, 0, sizeof(why) - 1) != NULL);
		CHECK(why[0] != 0);
	} else {
		for (i = 0; i < (int)sizeof(why) - 1; i++)
			CHECK(why[i] == 0x5a);
	}
	if (in.attached && (in.attached_writer || !in.read_only))
		CHECK(ret == -EBUSY);
	ski_vminfo_free(&info);
	return 0;
}
