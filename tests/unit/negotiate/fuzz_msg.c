// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target: dom0's slot driven by whatever a hostile guest writes
 * (negotiate/core/parse.c and state.c).  The input is a sequence of
 * operations: a request (five raw strings of any bytes), a selection (two
 * raw strings), a capacity change, time passing, a withdrawal, the guest
 * going away, dom0's module reloading.  Each is classified, decided and
 * committed as negotiate/back.c does.  Checked independently of the core
 * after every step: the state and offer count stay in range; offers stand
 * only while offered or renegotiating, strictly decreasing, within the
 * request's min .. max and what was available; a selection is applied only
 * if its generation, parsed here on its own, is the one published and the
 * index below the offer count; what is applied is one of the standing
 * offers (or, on a timeout, the largest); offer generations never go
 * back; an idle slot holds nothing.  The guest's offer parser and the
 * error text run on the same bytes.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "negotiate_core.h"

#define CHECK(c)	do { if (!(c)) abort(); } while (0)

struct in {
	const uint8_t *p;
	size_t left;
};

static uint8_t byte(struct in *in)
{
	if (!in->left)
		return 0;
	in->left--;
	return *in->p++;
}

/* A raw value of up to 23 bytes, or absent. */
static struct skn_raw raw(struct in *in)
{
	struct skn_raw r = { NULL, 0 };
	uint8_t n = byte(in);

	if (n == 0xff)
		return r;
	n %= 24;
	if (n > in->left)
		n = (uint8_t)in->left;
	r.s = (const char *)in->p;
	r.len = n;
	in->p += n;
	in->left -= n;
	return r;
}

static u64 num(struct in *in)
{
	u64 v = 0;
	int i;

	for (i = 0; i < 8; i++)
		v = v << 8 | byte(in);
	return v;
}

/* Our own reading of a generation: all digits, fits in 32 bits. */
static bool plain_u32(const struct skn_raw *r, u32 *out)
{
	u64 v = 0;
	size_t i;

	if (!r->s)
		return false;
	for (i = 0; i < r->len && r->s[i]; i++) {
		if (r->s[i] < '0' || r->s[i] > '9' || i >= 10)
			return false;
		v = v * 10 + (u64)(r->s[i] - '0');
	}
	if (!i || v > 0xffffffffull)
		return false;
	*out = (u32)v;
	return true;
}

static void check_slot(const struct skn_slot *s, u32 gen_before)
{
	u32 i;

	CHECK(s->state < SKN_NR_STATES);
	CHECK(s->offers.n <= SKN_MAX_OFFERS);
	CHECK(s->offers.gen >= gen_before);
	if (s->state != SKN_OFFERED && s->state != SKN_RENEG)
		CHECK(!s->offers.n);
	for (i = 0; i < s->offers.n; i++) {
		CHECK(s->offers.v[i] >= s->req.min);
		CHECK(s->offers.v[i] <= s->req.max);
		CHECK(!i || s->offers.v[i] < s->offers.v[i - 1]);
		/* a pow2 provider's apply takes only powers of two */
		CHECK(!skn_providers[s->req.provider].pow2 ||
		      !(s->offers.v[i] & (s->offers.v[i] - 1)));
	}
	if (s->state == SKN_IDLE)
		CHECK(!skn_slot_held(s) && !s->applied);
	if (s->applied) {
		CHECK(s->applied >= skn_providers[s->req.provider].min);
		CHECK(s->applied <= skn_providers[s->req.provider].max);
		CHECK(s->applied_gen && s->applied_gen <= s->offers.gen);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct in in = { data, size };
	struct skn_slot s;
	u64 now = 0, available = 1000;
	int ops = 0;

	skn_slot_init(&s, data[0 % (size ? size : 1)] * (size ? 1u : 0u));
	while (in.left && ops++ < 64) {
		struct skn_input input = { .available = available };
		struct skn_decision d;
		struct skn_request req;
		struct skn_offers o;
		struct skn_raw_offers ro;
		const char *what = NULL;
		int event = -1, r;
		u32 gen_before = s.offers.gen, sel = 0, g, j;
		char err[SKN_ERR_MAX + 1];

		switch (byte(&in) % 7) {
		case 0: {
			struct skn_raw_request rr;

			rr.resource = raw(&in);
			rr.target = raw(&in);
			rr.min = raw(&in);
			rr.max = raw(&in);
			rr.gen = raw(&in);
			r = skn_classify_request(&s, &rr, &req, &what);
			if (r < 0) {
				event = SKN_EV_BAD;
				input.err = r;
			} else if (r == SKN_MSG_NEW) {
				CHECK(req.min <= req.max && req.gen > s.last_req);
				CHECK(req.provider < SKN_NR_PROVIDERS);
				event = SKN_EV_REQUEST;
				input.req = &req;
			}
			/* the same bytes as dom0's offers, read by a guest */
			ro.gen = rr.resource;
			ro.for_gen = rr.target;
			ro.n = rr.min;
			ro.v[0] = rr.max;
			ro.v[1] = rr.gen;
			ro.v[2] = rr.min;
			ro.v[3] = rr.target;
			if (!skn_parse_offers(&ro, &s.req, &o, &what)) {
				CHECK(o.n <= SKN_MAX_OFFERS && o.gen);
				for (j = 0; j < o.n; j++)
					CHECK(o.v[j] >= s.req.min &&
					      o.v[j] <= s.req.max);
			}
			break;
		}
		case 1: {
			struct skn_raw rg = raw(&in), ri = raw(&in);

			r = skn_classify_select(&s, &rg, &ri, &sel, &what);
			if (r < 0) {
				event = SKN_EV_BAD;
				input.err = r;
			} else if (r == SKN_MSG_NEW) {
				CHECK(plain_u32(&rg, &g) && g == s.offers.gen);
				CHECK(s.state == SKN_OFFERED ||
				      s.state == SKN_RENEG);
				CHECK(sel < s.offers.n);
				event = SKN_EV_SELECT;
				input.select = sel;
			} else if (r == SKN_MSG_STALE) {
				event = SKN_EV_STALE;
			}
			break;
		}
		case 2:
			available = num(&in) % (1ull << 41);
			input.available = available;
			event = SKN_EV_CAPACITY;
			break;
		case 3:
			now += num(&in) % (100000ull * 1000000ull);
			if (skn_slot_expired(&s, now))
				event = SKN_EV_TIMEOUT;
			break;
		case 4:
			event = SKN_EV_WITHDRAW;
			break;
		case 5:
			event = SKN_EV_GONE;
			break;
		case 6:
			skn_slot_init(&s, s.offers.gen);
			break;
		}
		if (what)
			CHECK(skn_format_error(err, sizeof(err), -EINVAL,
					       what) <= SKN_ERR_MAX);
		if (event < 0) {
			check_slot(&s, gen_before);
			continue;
		}
		skn_back_decide(&s, (u32)event, &input, &d);
		CHECK(d.action < SKN_NR_ACTIONS && d.action != SKN_ACT_FALLBACK);
		if (d.action == SKN_ACT_APPLY) {
			bool found = false;

			for (j = 0; j < s.offers.n; j++)
				found |= d.value == s.offers.v[j];
			CHECK(found);
			CHECK(event == SKN_EV_SELECT || event == SKN_EV_TIMEOUT);
			if (event == SKN_EV_TIMEOUT)
				CHECK(d.value == s.offers.v[0] &&
				      d.value <= available);
		}
		if (d.action == SKN_ACT_OFFER) {
			CHECK(d.offers.n >= 1 && d.offers.gen != s.offers.gen);
			for (j = 0; j < d.offers.n; j++)
				CHECK(d.offers.v[j] <= input.available);
		}
		skn_back_commit(&s, &d, now, 30000);
		check_slot(&s, gen_before);
	}
	return 0;
}
