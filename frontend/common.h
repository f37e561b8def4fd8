/* SPDX-License-Identifier: GPL-2.0 */
/*
 * splitkit_front: blk-mq frontend (domU) of the standard Xen blkif
 * protocol, built on splitkit_ring.  Its peer is any blkif backend: Linux's
 * xen-blkback, QEMU's qdisk, or splitkit's own backend/ in dom0.
 *
 * This header is what the files of frontend/ share:
 *   main.c       module parameters, block major, driver registration
 *   xenbus.c     probe, negotiation, state changes, save/restore resume
 *   blkmq.c      blk-mq ops, request -> blkif mapping, indirect segments
 *   bounce.c     granted bounce pages: take, fill, copy out, give back
 *   completion.c response validation and completion, in-flight recovery
 *   pollq.c      blk-mq ->poll glue for polled splitkit_ring channels
 *   core/        portable checks shared with tests/unit/front/: slot
 *                tracking (track.c), negotiation checks (negotiate.c),
 *                device naming (vdev.c), segment layout (segs.c)
 *
 * Calls go one way: xenbus.c -> blkmq.c -> pollq.c -> completion.c ->
 * bounce.c (and each to core/ and splitkit_ring), never back.
 *
 * Data is always copied through pages of a grant pool (sk_gpool): the
 * backend never sees the guest's page cache pages, so nothing it writes
 * outside a completed read can reach them, and request layout is
 * independent of bio layout (N bytes = ceil(N / 4096) packed segments).
 * With persistent grants negotiated the pool keeps its pages granted;
 * without, each page's grant ends when the request completes.
 *
 * Lock hierarchy (outermost first):
 *   skf_dev.xb.lock (mutex): setup, connect, disconnect, resume, remove.
 *     Everything below marked "xb.lock" changes only under it, and only
 *     while the blk-mq queue is quiesced, so queue_rq reads it locklessly.
 *   sk_chan lock (inside splitkit_ring): ring producer/consumer state;
 *     a polled channel's responses are completed under it.
 *   sk_gpool lock (inside splitkit_ring): the page pool.
 */
#ifndef _SPLITKIT_FRONT_COMMON_H
#define _SPLITKIT_FRONT_COMMON_H

#include <linux/bio.h>
#include <linux/blk-mq.h>
#include <linux/blkdev.h>
#include <linux/spinlock.h>
#include <linux/workqueue.h>
#include <splitkit/blkif.h>
#include <xen/xenbus.h>

#include <splitkit/ring.h>

#include "core/check.h"
#include "vbd_number.h"

#define SKF_NAME		"splitkit_front"
#define SKF_MAX_QUEUES		16
#define SKF_DEFAULT_SEGS	32

struct skf_dev;

/**
 * struct skf_req - per-request driver data (blk-mq pdu).
 * @nr_pages: data pages granted for this request.
 * @nr_ind:   indirect descriptor pages.
 * @pages:    @nr_pages data pages, then @nr_ind indirect pages.
 *
 * Owned by whoever holds the request: queue_rq until the push, then the
 * queue's consumer (or the disconnect path once the ring is gone).
 */
struct skf_req {
	u16 nr_pages;
	u8 nr_ind;
	struct sk_gpage *pages[];
};

/**
 * struct skf_stats - counters of one queue (single writer each).
 * @issued:     ring requests pushed (queue_rq).
 * @completed:  responses accepted (consumer).
 * @irq_done:   of those, completed from the ring's event path.
 * @work_done:  of @irq_done, those completed in the ring's work item
 *	        rather than its event handler (irq_completion=0, or a
 *	        handler that found the ring busy or ran out of budget).
 * @poll_done:  of those, reaped by blk-mq's ->poll (no interrupt).
 * @poll_calls: ->poll invocations.
 * @events:     events received on a polled ring of an earlier connection
 *	        (should stay near 0; the current one's are the channel's).
 * @errors:     requests failed with an error.
 * @violations: responses rejected as a protocol violation.
 * @requeued:   requests taken back at a disconnect and re-issued.
 * @resplit:    requests larger than the current backend takes, whose bios
 *	        were submitted again to be split to its limits (blkmq.c).
 * @rerouted:   requests of this hctx sent on ring 0 because the current
 *	        backend gave it no ring of its kind (fewer queues; blkmq.c).
 * @spurious:   events on a polled ring of an earlier connection, all
 *	        spurious (the current one's are the channel's).
 * @copied_w:   bytes of writes copied into granted pages before issue
 *	        (bounce.c; written by queue_rq).
 * @copied_r:   bytes of reads copied out of granted pages on completion
 *	        (written by the consumer).
 */
struct skf_stats {
	u64 issued;
	u64 completed;
	u64 irq_done;
	u64 work_done;
	u64 poll_done;
	u64 poll_calls;
	u64 events;
	u64 errors;
	u64 violations;
	u64 requeued;
	u64 resplit;
	u64 rerouted;
	u64 spurious;
	u64 copied_w;
	u64 copied_r;
};

/**
 * struct skf_queue - one hardware queue, one ring.
 * @dev:   owning device.
 * @index: queue number (ring number; the blk-mq hctx index).
 * @poll:  true if its ring of the current connection is polled (xb.lock;
 *	   the event-driven rings come first, frontend/core/route.c).
 * @ch:    its splitkit_ring channel while connected, else NULL (xb.lock;
 *	   queue_rq reads it locklessly, the queue being quiesced while it
 *	   changes).
 * @poll_ch: @ch again for a polled queue, for ->poll, which may run at any
 *	   time: written under xb.lock, read under RCU (pollq.c).
 * @track: which slots (tags) are in flight and with which operation;
 *	   queue 0 has more, for requests of hctxs without a ring of their
 *	   own (skf_ring_slots()).
 * @slots: @track's slot array.
 * @rqs:   request of each in-flight slot.
 * @stats: counters.
 */
struct skf_queue {
	struct skf_dev *dev;
	unsigned int index;
	bool poll;
	struct sk_chan *ch;
	struct sk_chan __rcu *poll_ch;
	struct skf_track track;
	struct skf_slot *slots;
	struct request **rqs;
	struct skf_stats stats;
};

/**
 * struct skf_features - what was negotiated with the backend (xb.lock).
 * @order:        ring-page-order in use.
 * @flush_op:     BLKIF_OP_FLUSH_DISKCACHE, BLKIF_OP_WRITE_BARRIER or 0.
 * @discard:      discard supported.
 * @persistent:   persistent grants in use.
 * @indirect:     segments per indirect request, 0 if none.
 * @max_segs:     segments per request (@indirect or 11).
 * @disc:         discard parameters.
 * @flush_refused: the backend answered a flush with EOPNOTSUPP: flushes
 *		  fail from now on (without it, a backend that offers no
 *		  flush has no volatile cache and a flush has nothing to do).
 */
struct skf_features {
	unsigned int order;
	u8 flush_op;
	bool discard;
	bool persistent;
	u32 indirect;
	u32 max_segs;
	struct skf_discard disc;
	bool flush_refused;
};

/**
 * struct skf_dev - one virtual block device.
 * @xb:        xenbus state helper; its lock is the device's outer lock.
 * @xbdev:     the xenbus device.
 * @vdevice:   "virtual-device" value.
 * @handle:    the device id (last component of the XenStore path).
 * @vdev:      decoded minor, minors and disk index.
 * @link:      rings of the current connection (xb.lock; WRITE_ONCE, as
 *	       the completion path compares its channels' link with it).
 * @next_link: rings set up for a reconfiguration the backend started,
 *	       in use once it is Connected again (xb.lock; xenbus.c).
 * @pool:      grant pool of the current connection (xb.lock).
 * @tag_set:   blk-mq tag set (created at the first connection).
 * @gd:        the disk, or NULL before the first connection.
 * @queues:    @cap_queues queues, the first @nr_queues with a ring of the
 *	       current connection: @nr_queues - @nr_poll event-driven,
 *	       then @nr_poll polled ones.
 * @cap:       the disk's queues, fixed at the first connection (the
 *	       blk-mq tag set has at most that many hardware queues).
 * @cap_queues: @cap's total, the size of @queues.
 * @nr_queues: rings of the current connection, at most @cap_queues
 *	       (xb.lock; queue_rq reads it locklessly while connected).
 * @nr_poll:   polled rings among them.
 * @mq:        the layout blk-mq's queue map was last built for (reshape
 *	       work and ->map_queues only).
 * @depth:     requests per queue (tags).
 * @cap_segs:  most segments a request may ever need (sizes the blk-mq
 *	       pdu; fixed at the first connection).
 * @lim_segs:  segments the queue's max_hw_sectors now allows, at most
 *	       @cap_segs (reshape work only).
 * @feat:      negotiated features (xb.lock).
 * @geom:      geometry of the current connection.
 * @info:      backend's "info" bits (VDISK_*).
 * @connected: rings up and features read (xb.lock).
 * @quiesced:  we hold the blk-mq queue quiesced (xb.lock).
 * @reconfigured: reconfigurations the backend started that took effect.
 * @added:     the disk was added (device_add_disk(): @reshape_work
 *	       only, once, at the first connection).
 * @add_tried: that add was tried (@reshape_work only): one that failed is
 *	       not tried again on the same disk.
 * @broken:    the backend broke the protocol: I/O fails from now on.
 * @dead:      the device is being removed: I/O fails from now on.
 * @fatal_work: reports a broken backend to XenStore and stops the
 *	       connection (process context; xenbus.c).
 * @reshape_work: adds the disk after the first connection (its partition
 *	       scan reads from the backend, which must not be waited for
 *	       under xb.lock in the xenwatch thread), updates the blk-mq
 *	       queues and queue limits to the current backend and submits
 *	       @resubmit again (blkmq.c); one work item, so the add and a
 *	       reshape never run at once.
 * @resubmit_lock: protects @resubmit.
 * @resubmit:  bios of requests too large for the current backend.
 */
struct skf_dev {
	struct sk_xb xb;
	struct xenbus_device *xbdev;
	u32 vdevice;
	u16 handle;
	struct skf_vdev vdev;
	struct sk_link *link;
	struct sk_link *next_link;
	struct sk_gpool *pool;
	struct blk_mq_tag_set tag_set;
	struct gendisk *gd;
	struct skf_queue *queues;
	struct skf_layout cap;
	unsigned int cap_queues;
	unsigned int nr_queues;
	unsigned int nr_poll;
	struct skf_layout mq;
	unsigned int depth;
	unsigned int cap_segs;
	unsigned int lim_segs;
	struct skf_features feat;
	struct skf_geom geom;
	u32 info;
	bool connected;
	bool quiesced;
	u64 reconfigured;
	bool added;
	bool add_tried;
	bool broken;
	bool dead;
	struct work_struct fatal_work;
	struct work_struct reshape_work;
	spinlock_t resubmit_lock;
	struct bio_list resubmit;
};

/* The rings of the current connection (xb.lock, or quiesced readers). */
static inline struct skf_layout skf_now(const struct skf_dev *dev)
{
	return (struct skf_layout){ .nr_event = dev->nr_queues - dev->nr_poll,
				    .nr_poll = dev->nr_poll };
}

/* main.c: module parameters (validated on write) */
extern unsigned int skf_max_queues;
extern unsigned int skf_max_ring_order;
extern unsigned int skf_max_indirect_segs;
extern unsigned int skf_poll_queues;
extern bool skf_persistent_grants;
extern bool skf_irq_completion;
extern unsigned int skf_rsp_coalesce;

/* xenbus.c */
extern struct sk_xb_driver skf_xenbus_driver;

/* claim.c */
bool skf_claimed(u32 vdevice, u32 index);

/* blkmq.c */
int skf_blkmq_create(struct skf_dev *dev);
void skf_blkmq_destroy(struct skf_dev *dev);
void skf_blkmq_reshape(struct skf_dev *dev);
void skf_reshape_work(struct work_struct *work);

/* bounce.c */
int skf_bounce_get(struct skf_dev *dev, struct skf_req *r,
		   unsigned int nr_data, unsigned int nr_ind);
void skf_bounce_put(struct skf_dev *dev, struct request *rq);
void skf_bounce_copy(struct skf_req *r, struct request *rq, bool to_bio);

/* completion.c */
extern const struct sk_chan_ops skf_chan_ops;
void skf_complete_rsp(struct skf_queue *q, const struct sk_blkif_response *rsp,
		      bool polled);
void skf_recover_inflight(struct skf_dev *dev);
void skf_backend_broken(struct skf_dev *dev, struct skf_queue *q,
			const char *why, u64 id, unsigned int op, int status);

/* pollq.c */
void skf_pollq_attach(struct skf_dev *dev);
void skf_pollq_detach(struct skf_dev *dev);
int skf_pollq_reap(struct skf_queue *q, struct io_comp_batch *iob);

#endif /* _SPLITKIT_FRONT_COMMON_H */
