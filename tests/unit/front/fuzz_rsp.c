// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target: splitkit_front's response tracking facing a backend
 * that writes arbitrary responses, interleaved with honest issues,
 * commits (the request is in the ring) and abandoned issues (the ring
 * refused the request), plus the backend-written XenStore value checks.
 *
 * Each 12-byte record is one event: issue / commit or abandon / response
 * with a fuzzer-chosen 64-bit id, operation and status; a response either
 * takes the id as it is or (one in two) names the chosen slot's current or
 * an earlier generation, so replays and guesses of an issued request not
 * yet committed are exercised too.  A shadow model of the slots (with
 * their generations) checks that a response retires a slot only if it was
 * committed in that generation, never twice, that every violation is
 * classified as one, and that the tracker's view always equals the
 * model's.  The slot array is exactly
 * sized on the heap, so any out-of-bounds index is caught by ASan.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <splitkit/ring_core.h>
#include "../../../frontend/core/check.h"

static void fuzz_values(const uint8_t *data, size_t size)
{
	struct skf_geom g;
	struct skf_discard d;
	uint64_t v = 0;
	uint32_t a, b;
	char *copy;

	if (size < 16)
		return;
	memcpy(&g.sectors, data, 8);
	memcpy(&g.sector_size, data + 8, 4);
	memcpy(&g.phys_size, data + 12, 4);
	if (skf_geom_check(&g) == 0 &&
	    (g.sector_size < 512 || g.sector_size > 4096 ||
	     (g.sector_size & (g.sector_size - 1)) ||
	     g.phys_size < g.sector_size ||
	     g.sectors % (g.sector_size / 512)))
		abort();
	memcpy(&a, data, 4);
	memcpy(&b, data + 4, 4);
	if (skf_discard_check(a, b, 512, &d) == 0 &&
	    (d.alignment >= d.granularity ||
	     (d.granularity & (d.granularity - 1)) || d.granularity < 512))
		abort();
	if (skf_indirect_segs(a, b) > SK_BLKIF_MAX_INDIRECT_SEGS)
		abort();
	copy = malloc(size);	/* exact size: ASan sees overreads */
	if (!copy)
		abort();
	memcpy(copy, data, size);
	if (sk_parse_u64(copy, size, ~0ull, &v) == 0 && (copy[0] < '0' ||
							  copy[0] > '9'))
		abort();
	free(copy);
}

/*
 * The verdict a response must get, derived from the shadow model alone
 * (blkif's io/blkif.h status values: 0 okay, -1 error, -2 not supported),
 * never from the tracker's own helpers.
 */
static enum skf_verdict model_verdict(const uint8_t *model,
				      const uint32_t *gen, u32 depth,
				      uint64_t id, uint8_t op, int16_t status)
{
	uint32_t s = (uint32_t)id;

	if (s >= depth)
		return SKF_V_BAD_ID;
	if (!model[s] || (uint32_t)(id >> 32) != gen[s])
		return SKF_V_STALE;
	if (op != model[s] - 1)
		return SKF_V_BAD_OP;
	if (status == 0)
		return SKF_V_OK;
	if (status == -1)
		return SKF_V_IOERR;
	if (status == -2)
		return SKF_V_NOTSUPP;
	return SKF_V_BAD_STATUS;
}

/*
 * What each verdict means, written from enum skf_verdict's documentation:
 * is it the backend breaking the protocol, and does it retire a slot.
 */
static const struct {
	bool violation;
	bool retires;
} verdict_meaning[] = {
	[SKF_V_OK]		= { .violation = false, .retires = true },
	[SKF_V_IOERR]		= { .violation = false, .retires = true },
	[SKF_V_NOTSUPP]		= { .violation = false, .retires = true },
	[SKF_V_BAD_ID]		= { .violation = true,  .retires = false },
	[SKF_V_STALE]		= { .violation = true,  .retires = false },
	[SKF_V_BAD_OP]		= { .violation = true,  .retires = true },
	[SKF_V_BAD_STATUS]	= { .violation = true,  .retires = true },
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct skf_track t;
	struct skf_slot *slots;
	uint32_t *gen;
	uint8_t *model, *issued;
	u32 depth, slot;
	size_t i;

	if (!size)
		return 0;
	fuzz_values(data, size);
	depth = 1 + data[0] % 64;
	slots = malloc(depth * sizeof(*slots));
	model = calloc(depth, 1);
	issued = calloc(depth, 1);
	gen = calloc(depth, sizeof(*gen));
	if (!slots || !model || !issued || !gen)
		abort();
	skf_track_init(&t, slots, depth);

	for (i = 1; i + 12 <= size; i += 12) {
		const uint8_t *r = data + i;
		uint64_t id;
		uint8_t op = r[9];
		int16_t status;
		enum skf_verdict v, want;

		memcpy(&id, r + 1, 8);
		memcpy(&status, r + 10, 2);
		switch (r[0] % 4) {
		case 0:	/* issue (honest frontend: only free slots) */
			slot = (u32)(id % depth);
			if (skf_track_issue(&t, slot, op % 7, op % 7) == 0) {
				if (model[slot])
					abort();
				issued[slot] = 1 + op % 7;
				gen[slot]++;
				if (skf_track_id(&t, slot) !=
				    ((uint64_t)gen[slot] << 32 | slot))
					abort();
			} else if (!model[slot]) {
				abort();
			}
			break;
		case 1:	/* the request is in the ring, or it was refused */
			slot = (u32)(id % depth);
			if (!issued[slot])
				break;
			if (r[8] & 2) {
				skf_track_commit(&t, slot);
				model[slot] = issued[slot];
			}
			issued[slot] = 0;
			break;
		default: /* a response from the backend */
			if (r[0] % 4 == 2) {
				/* names a slot, this or an earlier generation */
				slot = (u32)(id % depth);
				id = (uint64_t)(gen[slot] - (r[8] & 1)) << 32 |
				     slot;
			}
			want = model_verdict(model, gen, depth, id, op, status);
			slot = ~0u;
			v = skf_track_complete(&t, id, op, status, &slot);
			if (v != want)
				abort();
			if (skf_verdict_retires(v) !=
			    verdict_meaning[want].retires ||
			    skf_verdict_violation(v) !=
			    verdict_meaning[want].violation)
				abort();
			if (verdict_meaning[want].retires) {
				if (slot != (uint32_t)id)
					abort();
				model[slot] = 0;
			} else if (slot != ~0u) {
				abort();
			}
			break;
		}
		for (slot = 0; slot < depth; slot++)
			if (!!slots[slot].busy != !!model[slot])
				abort();
	}
	free(gen);
	free(issued);
	free(model);
	free(slots);
	return 0;
}
