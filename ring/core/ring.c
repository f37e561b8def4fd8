// SPDX-License-Identifier: GPL-2.0
/*
 * splitkit portable ring core: index arithmetic and peer-index validation.
 *
 * The frontend half (sk_front_*) is the counterpart of the backend half
 * (sk_back_*) in the other domain; both speak the Xen io/ring.h protocol on
 * the shared page.  Every index the peer owns (rsp_prod for the frontend,
 * req_prod for the backend) is read exactly once per poll, checked against
 * what the protocol allows, and only then followed by the read barrier and
 * by entry accesses.  A violation marks the ring broken: from then on every
 * call reports -EIO and nothing is read from or written to the entries.
 * Built into splitkit_ring.ko and into the userspace unit tests.
 *
 * Barrier pairing (the same four pairs as io/ring.h):
 *  (1) producer: entries written, sk_wmb(), index published;
 *      consumer: index read, sk_rmb(), entries read.
 *  (2) producer: index published, sk_mb(), event index read (notify test);
 *      consumer: event index written, sk_mb(), producer index re-read
 *      (final check).  Either the producer sees the new event index and
 *      notifies, or the consumer sees the new work: no lost wake-up.
 */
#include <splitkit/ring_core.h>

/**
 * sk_ring_desc_init() - compute the shape of a ring.
 * @d: descriptor to fill.
 * @req_size: bytes of one request.
 * @rsp_size: bytes of one response.
 * @ent_size: bytes of one entry; at least the larger of the two.
 * @ring_bytes: bytes of shared memory (header included).
 *
 * The entry count is rounded down to a power of two exactly as ring.h's
 * __RING_SIZE() does, so both ends of a stock protocol agree on it.
 *
 * Return: 0, or -EINVAL if the sizes cannot make a ring of one entry.
 */
int sk_ring_desc_init(struct sk_ring_desc *d, size_t req_size,
		      size_t rsp_size, size_t ent_size, size_t ring_bytes)
{
	size_t n;
	u32 p2 = 1;

	if (!req_size || !rsp_size || ent_size < req_size ||
	    ent_size < rsp_size || ent_size > SK_RING_PAGE_SIZE ||
	    ring_bytes > ((size_t)SK_RING_PAGE_SIZE << SK_RING_MAX_ORDER) ||
	    ring_bytes < SK_SRING_HDR_SIZE + ent_size)
		return -EINVAL;
	n = (ring_bytes - SK_SRING_HDR_SIZE) / ent_size;
	while ((size_t)p2 * 2 <= n)
		p2 *= 2;
	d->req_size = req_size;
	d->rsp_size = rsp_size;
	d->ent_size = ent_size;
	d->nr_ents = p2;
	d->mask = p2 - 1;
	return 0;
}

/* ---- frontend ---- */

/**
 * sk_front_init() - initialise a fresh shared page and the frontend state.
 * @f: frontend state.
 * @s: the shared page, owned by this domain until it is granted.
 * @d: ring shape.
 *
 * Matches SHARED_RING_INIT() + FRONT_RING_INIT(): indices 0, event indices 1.
 */
void sk_front_init(struct sk_front *f, struct sk_sring *s,
		   const struct sk_ring_desc *d)
{
	s->req_prod = 0;
	s->rsp_prod = 0;
	s->req_event = 1;
	s->rsp_event = 1;
	memset(s->pad, 0, sizeof(s->pad));
	f->sring = s;
	f->desc = *d;
	f->req_prod_pvt = 0;
	f->req_pushed = 0;
	f->rsp_cons = 0;
	f->rsp_seen = 0;
	f->broken = false;
}

/**
 * sk_front_free() - number of request slots the frontend may still fill.
 * @f: frontend state.
 *
 * Return: free slots; 0 when full or broken.
 */
u32 sk_front_free(const struct sk_front *f)
{
	if (f->broken)
		return 0;
	return f->desc.nr_ents - (f->req_prod_pvt - f->rsp_cons);
}

/**
 * sk_front_next_req() - claim the next request slot for in-place filling.
 * @f: frontend state.
 *
 * The slot belongs to the frontend until the next sk_front_push(); writing
 * the request there avoids a staging copy.
 *
 * Return: the slot (desc.req_size bytes), or NULL if the ring is full.
 */
void *sk_front_next_req(struct sk_front *f)
{
	if (!sk_front_free(f))
		return NULL;
	return sk_ring_ent(&f->desc, f->sring, f->req_prod_pvt++);
}

/**
 * sk_front_put_req() - copy one request into the ring (not yet published).
 * @f: frontend state.
 * @req: desc.req_size bytes.
 *
 * Return: 0, -ENOSPC if the ring is full, -EIO if it is broken.
 */
int sk_front_put_req(struct sk_front *f, const void *req)
{
	void *slot;

	if (f->broken)
		return -EIO;
	slot = sk_front_next_req(f);
	if (!slot)
		return -ENOSPC;
	memcpy(slot, req, f->desc.req_size);
	return 0;
}

/**
 * sk_front_push() - publish every request written so far.
 * @f: frontend state.
 *
 * One store of req_prod covers the whole batch.
 *
 * Return: true if the backend asked for an event (req_event hold-off).
 */
bool sk_front_push(struct sk_front *f)
{
	u32 old = f->req_pushed, new = f->req_prod_pvt;

	if (old == new || f->broken)
		return false;
	sk_wmb();	/* entries before index; pairs with sk_rmb() in poll */
	SK_WRITE_ONCE(f->sring->req_prod, new);
	f->req_pushed = new;
	sk_mb();	/* index before req_event; pairs with final check */
	return sk_need_notify(old, new, SK_READ_ONCE(f->sring->req_event));
}

/**
 * sk_front_poll_rsp() - read and validate the backend's response index.
 * @f: frontend state.
 *
 * A response can only answer a published request: rsp_prod may run ahead of
 * rsp_cons by at most the number of requests in flight.  Anything else is a
 * malicious or buggy backend and breaks the ring.
 *
 * Return: number of responses ready to consume, or -EIO.
 */
int sk_front_poll_rsp(struct sk_front *f)
{
	u32 prod;

	if (f->broken)
		return -EIO;
	prod = SK_READ_ONCE(f->sring->rsp_prod);
	if ((u32)(prod - f->rsp_cons) > (u32)(f->req_pushed - f->rsp_cons)) {
		f->broken = true;
		return -EIO;
	}
	sk_rmb();	/* index before entries; pairs with sk_wmb() in push */
	f->rsp_seen = prod;
	return prod - f->rsp_cons;
}

/**
 * sk_front_get_rsp() - copy the next response out of the shared page.
 * @f: frontend state.
 * @rsp: desc.rsp_size bytes of private memory.
 *
 * The copy is what the caller must validate: the backend can rewrite the
 * shared entry at any time.  The shared index is re-read only when the
 * responses validated by the previous read are used up.
 *
 * Return: 1 if a response was copied, 0 if none is ready, -EIO if broken.
 */
int sk_front_get_rsp(struct sk_front *f, void *rsp)
{
	int n;

	if (f->rsp_cons == f->rsp_seen) {
		n = sk_front_poll_rsp(f);
		if (n <= 0)
			return n;
	}
	if (f->broken)
		return -EIO;
	memcpy(rsp, sk_ring_ent(&f->desc, f->sring, f->rsp_cons),
	       f->desc.rsp_size);
	f->rsp_cons++;
	return 1;
}

/**
 * sk_front_final_check() - re-arm the response event unless work is pending.
 * @f: frontend state.
 *
 * RING_FINAL_CHECK_FOR_RESPONSES(): if nothing is ready, ask for an event at
 * the next response and look once more, so a response published between
 * the two reads is not left waiting for an event that will never come.
 *
 * Return: number of responses ready (0: armed, sleep), or -EIO.
 */
int sk_front_final_check(struct sk_front *f)
{
	return sk_front_final_check_batch(f, 1);
}

/**
 * sk_front_final_check_batch() - re-arm the response event a few answers on.
 * @f: frontend state.
 * @batch: answers to wait for; at least 1, at most the requests in flight.
 *
 * sk_front_final_check() with rsp_event set @batch responses ahead, so the
 * backend sends one event for @batch answers (io/ring.h's hold-off: it
 * notifies when its push crosses rsp_event).  Every published request is
 * answered, so an event at the @batch-th answer is sure to come as long as
 * @batch requests are in flight; @batch is clamped to that number.
 *
 * Return: number of responses ready (0: armed, sleep), or -EIO.
 */
int sk_front_final_check_batch(struct sk_front *f, u32 batch)
{
	u32 inflight = sk_front_inflight(f);
	int n = sk_front_poll_rsp(f);

	if (n)
		return n;
	if (batch > inflight)
		batch = inflight;
	if (!batch)
		batch = 1;
	SK_WRITE_ONCE(f->sring->rsp_event, f->rsp_cons + batch);
	sk_mb();	/* rsp_event before rsp_prod; pairs with back push */
	return sk_front_poll_rsp(f);
}

/* ---- backend ---- */

/**
 * sk_back_init() - initialise the backend state of a mapped ring.
 * @b: backend state.
 * @s: the shared page as mapped from the frontend.
 * @d: ring shape.
 *
 * Matches BACK_RING_INIT(); the shared page is not written.
 */
void sk_back_init(struct sk_back *b, struct sk_sring *s,
		  const struct sk_ring_desc *d)
{
	b->sring = s;
	b->desc = *d;
	b->rsp_prod_pvt = 0;
	b->rsp_pushed = 0;
	b->req_cons = 0;
	b->req_seen = 0;
	b->broken = false;
}

/**
 * sk_back_poll_req() - read and validate the frontend's request index.
 * @b: backend state.
 *
 * The frontend may have at most nr_ents requests without a response
 * (io/ring.h RING_REQUEST_PROD_OVERFLOW) and req_prod never moves back.
 * Anything else is a malicious or buggy frontend and breaks the ring.
 *
 * Return: number of requests ready to consume, or -EIO.
 */
int sk_back_poll_req(struct sk_back *b)
{
	u32 prod, avail, outstanding;

	if (b->broken)
		return -EIO;
	prod = SK_READ_ONCE(b->sring->req_prod);
	avail = prod - b->req_cons;
	outstanding = prod - b->rsp_prod_pvt;
	if (outstanding > b->desc.nr_ents || avail > outstanding) {
		b->broken = true;
		return -EIO;
	}
	sk_rmb();	/* index before entries; pairs with sk_wmb() in push */
	b->req_seen = prod;
	return avail;
}

/**
 * sk_back_get_req() - copy the next request out of the shared page.
 * @b: backend state.
 * @req: desc.req_size bytes of private memory.
 *
 * The caller validates the private copy, never the shared entry, so the
 * frontend cannot change a request between check and use.
 *
 * Return: 1 if a request was copied, 0 if none is ready, -EIO if broken.
 */
int sk_back_get_req(struct sk_back *b, void *req)
{
	int n;

	if (b->req_cons == b->req_seen) {
		n = sk_back_poll_req(b);
		if (n <= 0)
			return n;
	}
	if (b->broken)
		return -EIO;
	memcpy(req, sk_ring_ent(&b->desc, b->sring, b->req_cons),
	       b->desc.req_size);
	b->req_cons++;
	return 1;
}

/**
 * sk_back_next_rsp() - claim the next response slot for in-place filling.
 * @b: backend state.
 *
 * A response slot is the slot of a request already consumed, so there is
 * one only while responses lag behind consumed requests.
 *
 * Return: the slot (desc.rsp_size bytes), or NULL.
 */
void *sk_back_next_rsp(struct sk_back *b)
{
	if (b->broken || b->rsp_prod_pvt == b->req_cons)
		return NULL;
	return sk_ring_ent(&b->desc, b->sring, b->rsp_prod_pvt++);
}

/**
 * sk_back_put_rsp() - copy one response into the ring (not yet published).
 * @b: backend state.
 * @rsp: desc.rsp_size bytes.
 *
 * Return: 0, -ENOSPC if every consumed request already has a response,
 * -EIO if the ring is broken.
 */
int sk_back_put_rsp(struct sk_back *b, const void *rsp)
{
	void *slot;

	if (b->broken)
		return -EIO;
	slot = sk_back_next_rsp(b);
	if (!slot)
		return -ENOSPC;
	memcpy(slot, rsp, b->desc.rsp_size);
	return 0;
}

/**
 * sk_back_push() - publish every response written so far.
 * @b: backend state.
 *
 * Return: true if the frontend asked for an event (rsp_event hold-off).
 */
bool sk_back_push(struct sk_back *b)
{
	u32 old = b->rsp_pushed, new = b->rsp_prod_pvt;

	if (old == new || b->broken)
		return false;
	sk_wmb();	/* entries before index; pairs with sk_rmb() in poll */
	SK_WRITE_ONCE(b->sring->rsp_prod, new);
	b->rsp_pushed = new;
	sk_mb();	/* index before rsp_event; pairs with final check */
	return sk_need_notify(old, new, SK_READ_ONCE(b->sring->rsp_event));
}

/**
 * sk_back_final_check() - re-arm the request event unless work is pending.
 * @b: backend state.
 *
 * RING_FINAL_CHECK_FOR_REQUESTS(); see sk_front_final_check().
 *
 * Return: number of requests ready (0: armed, sleep), or -EIO.
 */
int sk_back_final_check(struct sk_back *b)
{
	int n = sk_back_poll_req(b);

	if (n)
		return n;
	SK_WRITE_ONCE(b->sring->req_event, b->req_cons + 1);
	sk_mb();	/* req_event before req_prod; pairs with front push */
	return sk_back_poll_req(b);
}
