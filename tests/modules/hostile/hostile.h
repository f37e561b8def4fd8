/* SPDX-License-Identifier: GPL-2.0 */
/*
 * splitkit_hostile: what the attack (hostile.c), the barrier test
 * (barrier.c), the alignment test (align.c), the gap test (gaps.c) and
 * the read-only test (ro.c)
 * of the test-only vbd frontend
 * share: one struct per disk,
 * raw request building and sending, and result printing.  Nothing here is
 * a real frontend: requests are written into the ring as the tests want
 * them, not as blkif's rules would have them.
 *
 * Locking: sk_xb.lock serialises setup / connect / disconnect.  The
 * channel consumer (hostile_msg()) is the only writer of @rsp, @got and
 * @log/@nlog; the test thread reads @rsp after @done completed and @log
 * up to atomic_read_acquire(@nlog).
 */
#ifndef _SPLITKIT_HOSTILE_H
#define _SPLITKIT_HOSTILE_H

#include <linux/atomic.h>
#include <linux/completion.h>
#include <linux/types.h>
#include <xen/grant_table.h>
#include <splitkit/blkif.h>

#include <splitkit/ring.h>

/* Responses kept in arrival order (ring order), from the start of a test. */
#define HOSTILE_LOG	64

/**
 * struct hostile - one hostile vbd frontend.
 * @xb: xenbus state helper.
 * @link: the ring while connected.
 * @thread: the attack or test, started on connect.
 * @done: completed by each response.
 * @rsp: last response.
 * @got: responses received in this connection.
 * @log: the first %HOSTILE_LOG responses since @nlog was last reset.
 * @nlog: entries in @log.
 * @sectors: disk size the backend published.
 * @ro: the backend published a read-only disk.
 * @barrier: the backend offers feature-barrier.
 * @flush: the backend offers feature-flush-cache.
 * @discard: the backend offers feature-discard.
 * @max_indirect: the backend's feature-max-indirect-segments (0: none).
 * @sector_size: the backend's sector-size (logical block size, bytes).
 * @rsp_seen: responses whose raw bytes were checked (all of them).
 * @rsp_dirty: of those, responses with a padding byte (9, 12-15) not zero.
 * @rsp_errors: responses whose status is not OKAY.
 * @dirty: the raw bytes of the first such response.
 * @page: an honestly granted page for the good read.
 * @ref: its grant.
 */
struct hostile {
	struct sk_xb xb;
	struct sk_link *link;
	struct task_struct *thread;
	struct completion done;
	struct sk_blkif_response rsp;
	atomic_t got;
	struct sk_blkif_response log[HOSTILE_LOG];
	atomic_t nlog;
	u64 sectors;
	bool ro;
	bool barrier;
	bool flush;
	bool discard;
	unsigned int max_indirect;
	unsigned int sector_size;
	atomic_t rsp_seen;
	atomic_t rsp_dirty;
	atomic_t rsp_errors;
	u8 dirty[SK_BLKIF_RSP_SIZE];
	struct page *page;
	grant_ref_t ref;
};

/* hostile.c */
void hostile_result(struct hostile *h, bool ok, const char *name);
void hostile_padding_result(struct hostile *h);
int hostile_test_end(struct hostile *h, const char *what);
int hostile_send(struct hostile *h, struct sk_blkif_request *req);
void hostile_rw(struct sk_blkif_request *r, u8 op, u8 nr, u64 sector,
		grant_ref_t ref, u64 id);
/* sends @r and records whether the answer is what @what expects */
typedef void (*hostile_judge_fn)(struct hostile *h, struct sk_blkif_request *r,
				 bool offered, const char *what);
void hostile_indirect_write(struct hostile *h, unsigned int nr, u64 sector,
			    u64 id, hostile_judge_fn judge, const char *what);
struct page *hostile_indirect_page(struct hostile *h, unsigned int nr,
				   grant_ref_t *ref);
void hostile_indirect_free(struct page *ind, grant_ref_t ref);

/* barrier.c */
int hostile_barrier_test(void *arg);

/* align.c */
int hostile_align_test(void *arg);

/* fill.c */
int hostile_fill_test(void *arg);

/* gaps.c */
int hostile_gaps_test(void *arg);

/* ro.c */
void hostile_ro_checks(struct hostile *h);
int hostile_ro_test(void *arg);

#endif /* _SPLITKIT_HOSTILE_H */
