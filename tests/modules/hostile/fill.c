// SPDX-License-Identifier: GPL-2.0
/*
 * splitkit_hostile fill test (module parameter test=fill, scenario
 * back-bound): a frontend that keeps its ring full of the largest requests
 * the backend takes - indirect READs of feature-max-indirect-segments
 * pages each (at most one indirect page, 512 segments) - and sends a new
 * one for every answer, until fill_requests have been answered (by default
 * until fill_stop is set, or the module removed).  Against
 * splitkit_back every request holds that many bounce pages of dom0 until
 * it is answered, so this is the guest that would pin dom0's memory; the
 * backend's page budget must make the excess wait, never fail: every
 * answer must be OKAY.  All segments read into the one honestly granted
 * page.  Verdicts, once it stops: "fill: N of M requests of S segments
 * answered, K not OKAY" and the padding check; then "fill test done".
 */
#include <linux/kthread.h>
#include <linux/mm.h>
#include <linux/moduleparam.h>
#include <xen/grant_table.h>
#include <xen/page.h>
#include <xen/xenbus.h>

#include "hostile.h"

#define HF_ID		100000	/* ids of this test */
#define HF_MAX_SEGS	(PAGE_SIZE / sizeof(struct sk_blkif_segment))

static bool fill_stop;
module_param(fill_stop, bool, 0644);
MODULE_PARM_DESC(fill_stop,
		 "test=fill: write 1 to stop filling and report (default 0)");

static unsigned int fill_requests;
module_param(fill_requests, uint, 0444);
MODULE_PARM_DESC(fill_requests,
		 "test=fill: requests to have answered, then stop; 0 (the default): until the module is removed");

/* An indirect READ of @nr whole pages at @sector through @ind_ref. */
static void hf_request(struct sk_blkif_request *r, unsigned int nr,
		       u64 sector, grant_ref_t ind_ref, u64 id)
{
	memset(r, 0, sizeof(*r));
	r->operation = SK_BLKIF_OP_INDIRECT;
	r->u.indirect.indirect_op = SK_BLKIF_OP_READ;
	r->u.indirect.nr_segments = nr;
	r->u.indirect.id = id;
	r->u.indirect.sector_number = sector;
	r->u.indirect.indirect_grefs[0] = ind_ref;
}

/*
 * Keep the ring full until @total answers came; returns the answers seen
 * (h->got counts them, h->rsp_errors the ones not OKAY).
 */
static unsigned int hf_fill(struct hostile *h, unsigned int nr,
			    grant_ref_t ind_ref, unsigned int total)
{
	struct sk_chan *ch = sk_link_chan(h->link, 0);
	u64 span = (u64)nr * (PAGE_SIZE >> 9), sector = 0, id = HF_ID;
	unsigned int sent = 0, start = atomic_read(&h->got);
	struct sk_blkif_request r;

	while (!kthread_should_stop() && !READ_ONCE(fill_stop)) {
		unsigned int answered = atomic_read(&h->got) - start;

		if (total && answered >= total)
			break;
		reinit_completion(&h->done);
		while ((!total || sent < total) && sent - answered < 4096) {
			if (sector + span > h->sectors)
				sector = 0;
			hf_request(&r, nr, sector, ind_ref, id++);
			if (sk_chan_put(ch, &r))
				break;	/* ring full */
			sector += span;
			sent++;
		}
		sk_chan_push(ch);
		/* an answer, or 60 s of none: the backend stopped serving */
		if (atomic_read(&h->got) - start == answered &&
		    !wait_for_completion_timeout(&h->done, 60 * HZ))
			break;
	}
	return atomic_read(&h->got) - start;
}

/**
 * hostile_fill_test() - the test thread of one disk (test=fill).
 * @arg: the struct hostile.
 *
 * Return: 0, once stopped.
 */
int hostile_fill_test(void *arg)
{
	struct hostile *h = arg;
	unsigned int nr, got;
	struct page *ind;
	grant_ref_t ref;
	char name[128];

	nr = min_t(unsigned int, h->max_indirect, HF_MAX_SEGS);
	snprintf(name, sizeof(name),
		 "backend offers indirect segments (%u)", h->max_indirect);
	hostile_result(h, nr > 0, name);
	ind = nr ? hostile_indirect_page(h, nr, &ref) : NULL;
	if (!ind)
		goto done;
	got = hf_fill(h, nr, ref, fill_requests);
	snprintf(name, sizeof(name),
		 "fill: %u of %u requests of %u segments answered, %d not OKAY",
		 got, fill_requests, nr, atomic_read(&h->rsp_errors));
	hostile_result(h, got && got >= fill_requests &&
		       !atomic_read(&h->rsp_errors), name);
	hostile_padding_result(h);
	hostile_indirect_free(ind, ref);
done:
	return hostile_test_end(h, "fill test");
}
