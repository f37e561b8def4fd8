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
 *   completion.c response validation and completion, in-flight recovery
 *   pollq.c      polled queues (blk-mq HCTX_TYPE_POLL) on local rings
 *   core/        portable checks shared with tests/unit/front/
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
 *   sk_chan lock (inside splitkit_ring): ring producer/consumer state.
 *   skf_pollring.lock (spinlock): a polled ring's state.
 *   sk_gpool lock (inside splitkit_ring): the page pool.
 */
#ifndef _SPLITKIT_FRONT_COMMON_H
#define _SPLITKIT_FRONT_COMMON_H

#include <linux/blk-mq.h>
#include <linux/blkdev.h>
#include <linux/spinlock.h>
#include <linux/workqueue.h>
#include <xen/interface/io/blkif.h>
#include <xen/xenbus.h>

#include <splitkit/ring.h>

#include "core/check.h"

#define SKF_NAME		"splitkit_front"
#define SKF_MAX_QUEUES		16
#define SKF_DEFAULT_SEGS	32

struct skf_dev;
struct skf_pollring;

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
 * @poll_done:  of those, reaped by blk-mq's ->poll (no interrupt).
 * @poll_calls: ->poll invocations.
 * @events:     events received on a polled ring (should stay near 0).
 * @errors:     requests failed with an error.
 * @violations: responses rejected as a protocol violation.
 * @requeued:   requests taken back at a disconnect and re-issued.
 */
struct skf_stats {
	u64 issued;
	u64 completed;
	u64 irq_done;
	u64 poll_done;
	u64 poll_calls;
	u64 events;
	u64 errors;
	u64 violations;
	u64 requeued;
};

/**
 * struct skf_queue - one hardware queue, one ring.
 * @dev:   owning device.
 * @index: queue number (ring number; the blk-mq hctx index).
 * @poll:  true for a polled queue (@pr), false for an event queue (@ch).
 * @ch:    event-driven ring while connected, else NULL (xb.lock).
 * @pr:    polled ring while connected, else NULL (written under xb.lock,
 *	   read under RCU: blk-mq's ->poll may run at any time).
 * @track: which slots (tags) are in flight and with which operation.
 * @slots: @track's slot array.
 * @rqs:   request of each in-flight slot.
 * @stats: counters.
 */
struct skf_queue {
	struct skf_dev *dev;
	unsigned int index;
	bool poll;
	struct sk_chan *ch;
	struct skf_pollring __rcu *pr;
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
 */
struct skf_features {
	unsigned int order;
	u8 flush_op;
	bool discard;
	bool persistent;
	u32 indirect;
	u32 max_segs;
	struct skf_discard disc;
};

/**
 * struct skf_dev - one virtual block device.
 * @xb:        xenbus state helper; its lock is the device's outer lock.
 * @xbdev:     the xenbus device.
 * @vdevice:   "virtual-device" value.
 * @handle:    the device id (last component of the XenStore path).
 * @vdev:      decoded minor, minors and disk index.
 * @link:      rings of the current connection (xb.lock).
 * @pool:      grant pool of the current connection (xb.lock).
 * @tag_set:   blk-mq tag set (created at the first connection).
 * @gd:        the disk, or NULL before the first connection.
 * @queues:    @nr_queues queues: @nr_queues - @nr_poll event queues, then
 *	       @nr_poll polled ones.
 * @nr_queues: queues fixed at the first connection.
 * @nr_poll:   polled queues among them.
 * @depth:     requests per queue (slots).
 * @cap_segs:  most segments a request may need (the queue limit).
 * @feat:      negotiated features (xb.lock).
 * @geom:      geometry of the current connection.
 * @info:      backend's "info" bits (VDISK_*).
 * @connected: rings up and features read (xb.lock).
 * @quiesced:  we hold the blk-mq queue quiesced (xb.lock).
 * @added:     the disk was added (device_add_disk).
 * @broken:    the backend broke the protocol: I/O fails from now on.
 * @dead:      the device is being removed: I/O fails from now on.
 * @fatal_work: reports a broken backend to XenStore (process context).
 */
struct skf_dev {
	struct sk_xb xb;
	struct xenbus_device *xbdev;
	u32 vdevice;
	u16 handle;
	struct skf_vdev vdev;
	struct sk_link *link;
	struct sk_gpool *pool;
	struct blk_mq_tag_set tag_set;
	struct gendisk *gd;
	struct skf_queue *queues;
	unsigned int nr_queues;
	unsigned int nr_poll;
	unsigned int depth;
	unsigned int cap_segs;
	struct skf_features feat;
	struct skf_geom geom;
	u32 info;
	bool connected;
	bool quiesced;
	bool added;
	bool broken;
	bool dead;
	struct work_struct fatal_work;
};

/* main.c: module parameters (validated on write) */
extern unsigned int skf_max_queues;
extern unsigned int skf_max_ring_order;
extern unsigned int skf_max_indirect_segs;
extern unsigned int skf_poll_queues;
extern bool skf_persistent_grants;

/* xenbus.c */
extern struct xenbus_driver skf_xenbus_driver;

/* blkmq.c */
int skf_blkmq_create(struct skf_dev *dev);
void skf_blkmq_destroy(struct skf_dev *dev);
void skf_blkmq_release_pages(struct skf_dev *dev, struct request *rq);
void skf_copy_to_bio(struct skf_req *r, struct request *rq);

/* completion.c */
extern const struct sk_chan_ops skf_chan_ops;
void skf_complete_rsp(struct skf_queue *q, const struct blkif_response *rsp,
		      bool polled);
void skf_recover_inflight(struct skf_dev *dev);
void skf_backend_broken(struct skf_dev *dev, struct skf_queue *q,
			const char *why, u64 id, unsigned int op, int status);
void skf_fatal_work(struct work_struct *work);

/* pollq.c */
int skf_pollq_alloc(struct skf_dev *dev, unsigned int first,
		    unsigned int nr, unsigned int order);
int skf_pollq_publish(struct skf_dev *dev, struct xenbus_transaction xbt,
		      unsigned int first);
void skf_pollq_free(struct skf_dev *dev);
int skf_pollq_put(struct skf_queue *q, const struct blkif_request *req);
void skf_pollq_push(struct skf_queue *q);
int skf_pollq_reap(struct skf_queue *q, struct io_comp_batch *iob);

#endif /* _SPLITKIT_FRONT_COMMON_H */
