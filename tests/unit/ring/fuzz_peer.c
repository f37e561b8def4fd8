// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target: an honest frontend and an honest backend, each facing a
 * malicious peer that the fuzzer input plays.  The input is a script of
 * operations: the honest end's calls interleaved with arbitrary stores to
 * the peer's indices, event indices and entries.  The shared ring is a heap
 * buffer of exactly the ring's size, so any access outside it is an ASan
 * report; the honest end's private invariants are checked after every step.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <splitkit/ring_core.h>

struct input {
	const uint8_t *p;
	size_t n;
};

static uint32_t take(struct input *in, unsigned int bytes)
{
	uint32_t v = 0;

	while (bytes-- && in->n) {
		v = v << 8 | *in->p++;
		in->n--;
	}
	return v;
}

static void check(const struct sk_front *f, const struct sk_back *b)
{
	uint32_t n = f->desc.nr_ents;

	if (f->req_prod_pvt - f->rsp_cons > n ||
	    f->req_pushed - f->rsp_cons > f->req_prod_pvt - f->rsp_cons ||
	    f->rsp_seen - f->rsp_cons > n || sk_front_free(f) > n)
		abort();
	if (b->req_cons - b->rsp_prod_pvt > n ||
	    b->req_seen - b->req_cons > n)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct input in = { data, size };
	struct sk_ring_desc d;
	struct sk_sring *fs, *bs;	/* frontend's ring, backend's ring */
	struct sk_front f;
	struct sk_back b;
	uint8_t buf[SK_RING_PAGE_SIZE];
	size_t bytes, ent, req, rsp;
	uint32_t v;
	void *slot;

	req = 1 + take(&in, 1) % 128;
	rsp = 1 + take(&in, 1) % 128;
	ent = (req > rsp ? req : rsp) + take(&in, 1) % 8;
	bytes = SK_SRING_HDR_SIZE + ent * (1 + take(&in, 1) % 40);
	if (sk_ring_desc_init(&d, req, rsp, ent, bytes))
		return 0;
	fs = malloc(bytes);
	bs = malloc(bytes);
	if (!fs || !bs)
		abort();
	memset(bs, 0, bytes);
	sk_front_init(&f, fs, &d);
	sk_back_init(&b, bs, &d);
	/* arbitrary starting indices: wrap-around is part of the game */
	v = take(&in, 4);
	f.req_prod_pvt = f.req_pushed = f.rsp_cons = f.rsp_seen = v;
	fs->req_prod = fs->rsp_prod = v;
	v = take(&in, 4);
	b.rsp_prod_pvt = b.rsp_pushed = b.req_cons = b.req_seen = v;

	while (in.n) {
		switch (take(&in, 1) % 14) {
		case 0:		/* honest frontend */
			memset(buf, 0xa5, d.req_size);
			sk_front_put_req(&f, buf);
			break;
		case 1:
			slot = sk_front_next_req(&f);
			if (slot)
				memset(slot, 0x5a, d.req_size);
			break;
		case 2:
			sk_front_push(&f);
			break;
		case 3:
			sk_front_get_rsp(&f, buf);
			break;
		case 4:
			sk_front_final_check(&f);
			break;
		case 5:		/* malicious backend */
			fs->rsp_prod = take(&in, 4);
			break;
		case 6:
			fs->req_event = take(&in, 4);
			break;
		case 7:
			((uint8_t *)fs)[take(&in, 2) % bytes] = take(&in, 1);
			break;
		case 8:		/* honest backend */
			sk_back_get_req(&b, buf);
			break;
		case 9:
			memset(buf, 0x3c, d.rsp_size);
			sk_back_put_rsp(&b, buf);
			slot = sk_back_next_rsp(&b);
			if (slot)
				memset(slot, 0xc3, d.rsp_size);
			break;
		case 10:
			sk_back_push(&b);
			break;
		case 11:
			sk_back_final_check(&b);
			break;
		case 12:	/* malicious frontend */
			bs->req_prod = take(&in, 4);
			break;
		case 13:
			bs->rsp_event = take(&in, 4);
			((uint8_t *)bs)[take(&in, 2) % bytes] = take(&in, 1);
			break;
		}
		check(&f, &b);
	}
	free(fs);
	free(bs);
	return 0;
}
