// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target: the xenbus state machine driven by an arbitrary
 * sequence of peer states (any 32-bit value, as a hostile peer can write),
 * re-asking after each action as ring/xbstate.c does.  Checks that every
 * event settles within a bounded number of steps and that our own state
 * always stays a valid enum value.
 */
#include <stdint.h>
#include <stdlib.h>

#include <splitkit/ring_core.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	bool front;
	uint32_t local, peer;
	enum sk_xb_action a;
	size_t i;
	int steps;

	if (size < 1)
		return 0;
	front = data[0] & 1;
	local = front ? SK_XB_INITIALISING : SK_XB_INITWAIT;
	for (i = 1; i + 4 <= size; i += 4) {
		peer = (uint32_t)data[i] | (uint32_t)data[i + 1] << 8 |
		       (uint32_t)data[i + 2] << 16 |
		       (uint32_t)data[i + 3] << 24;
		if (!(data[i + 3] & 0x80))
			peer %= SK_XB_NR_STATES;
		for (steps = 0; ; steps++) {
			a = sk_xb_next(front, local, peer);
			if (a == SK_XB_NONE)
				break;
			if (steps >= 3)
				abort();
			local = sk_xb_target(front, a);
			if (local == SK_XB_UNKNOWN ||
			    local >= SK_XB_NR_STATES)
				abort();
		}
	}
	return 0;
}
