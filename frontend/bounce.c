// SPDX-License-Identifier: GPL-2.0
/*
 * splitkit_front bounce pages: data is always copied through pages of the
 * connection's grant pool (sk_gpool), never granted from the page cache,
 * so the backend cannot see or scribble on guest memory beyond a completed
 * read, and a request's layout is independent of its bio layout (N bytes =
 * ceil(N / 4096) packed pages).  blkmq.c takes pages and fills them for a
 * write; completion.c copies a read out and gives them back.
 */
#include <linux/bio.h>
#include <linux/blk-mq.h>
#include <linux/highmem.h>

#include "common.h"

/**
 * skf_bounce_put() - give a request's pages back to the pool.
 * @dev: device.
 * @rq: the request; its driver data forgets the pages.
 *
 * Without persistent grants the pool keeps a reserve of idle pages
 * granted (reused, as with persistent grants: they only ever hold this
 * disk's data) and ends the grant of the rest here; a page the backend
 * still maps is held back, not reused (grants_held).
 */
void skf_bounce_put(struct skf_dev *dev, struct request *rq)
{
	struct skf_req *r = blk_mq_rq_to_pdu(rq);
	unsigned int i, n = r->nr_pages + r->nr_ind;

	for (i = 0; i < n; i++) {
		sk_gpool_put(dev->pool, r->pages[i]);
		r->pages[i] = NULL;
	}
	r->nr_pages = 0;
	r->nr_ind = 0;
}

/**
 * skf_bounce_get() - take the granted pages a request needs.
 * @dev: device.
 * @r: the request's driver data.
 * @nr_data: data pages.
 * @nr_ind: indirect descriptor pages.
 *
 * Atomic context (queue_rq).
 *
 * Return: 0, or -ENOMEM with nothing taken (retry later).
 */
int skf_bounce_get(struct skf_dev *dev, struct skf_req *r,
		   unsigned int nr_data, unsigned int nr_ind)
{
	unsigned int i;

	for (i = 0; i < nr_data + nr_ind; i++) {
		r->pages[i] = sk_gpool_get(dev->pool, GFP_ATOMIC | __GFP_NOWARN);
		if (!r->pages[i])
			break;
	}
	if (i < nr_data + nr_ind) {
		while (i--)
			sk_gpool_put(dev->pool, r->pages[i]);
		return -ENOMEM;
	}
	r->nr_pages = nr_data;
	r->nr_ind = nr_ind;
	return 0;
}

/**
 * skf_bounce_copy() - copy between a request's bio pages and its granted
 *		       pages, which hold the data packed from offset 0.
 * @r: the request's driver data.
 * @rq: the request.
 * @to_bio: false: into the granted pages (a write, before issue); true:
 *	    out of them (a completed read).
 */
void skf_bounce_copy(struct skf_req *r, struct request *rq, bool to_bio)
{
	struct req_iterator it;
	struct bio_vec bv;
	size_t pos = 0;

	rq_for_each_segment(bv, rq, it) {
		u8 *buf = bvec_kmap_local(&bv);
		unsigned int done = 0;

		while (done < bv.bv_len) {
			struct page *pg = r->pages[pos / PAGE_SIZE]->page;
			u8 *granted = (u8 *)page_address(pg) + pos % PAGE_SIZE;
			size_t n = min_t(size_t, bv.bv_len - done,
					 PAGE_SIZE - pos % PAGE_SIZE);

			if (to_bio)
				memcpy(buf + done, granted, n);
			else
				memcpy(granted, buf + done, n);
			done += n;
			pos += n;
		}
		kunmap_local(buf);
		if (to_bio)
			flush_dcache_page(bv.bv_page);
	}
}
