/* SPDX-License-Identifier: GPL-2.0 */
/*
 * splitkit_back: shared definitions of the blkif backend (dom0).  The
 * module (main.c: init, parameters), its xenbus control plane (xenbus.c:
 * probe, hotplug watch, connect, disconnect, XenStore keys) and its data
 * path meet here.  The data path is layered: blkif.c takes each request
 * off the ring, validates it (core/blkreq.c) and dispatches it; req.c owns
 * a request from allocation to answer (bounce pages, grant copies, in-flight
 * counts, the response); barrier.c orders WRITE_BARRIERs; and one struct
 * skb_backing_ops per kind of backing store does the I/O (bdev.c for block
 * devices, file.c for regular files, qcow2.c for qcow2 images through
 * splitkit_image.ko; backing.c opens one and picks its ops; share.c keeps
 * two domains from writing one backing, qemulock.c QEMU from a file we
 * serve).  gmap.c keeps a frontend's
 * persistent grants mapped, one pool per disk shared by its rings, so that
 * bdev.c, file.c and qcow2.c can do the I/O on the guest's own pages
 * instead of bounce pages (zero copy).  Design:
 * Documentation/design.rst.  The frontend counterpart is
 * Linux's xen-blkfront or splitkit's frontend/; the protocol is
 * <splitkit/blkif.h>, the transport splitkit_ring (include/splitkit/ring.h).
 *
 * Lock hierarchy: the sleeping locks (mutexes) are skb_dev.xb.lock (sk_xb:
 * connect, disconnect, backing open/close), then, each taken inside it or
 * alone and never around it or the other, skb_share_lock (share.c: which
 * backings are in use) and skb_rings_lock (rings.c: ring agreements and
 * the devices they reconfigure; the xenwatch thread takes it too), and
 * qcow2.c's own (the image lock, the list of attached images; see there).
 * skb_limit_lock (limit.c: the I/O limits) is a spinlock that is not
 * interrupt-safe: taken in process context only (the consumer, the
 * setter, its sysfs reader) with no other lock inside it, it must stay out
 * of completion context (bio end_io).  The data path's spinlocks, all
 * taken with interrupts off (requests are answered from bio end_io) and
 * never nested in one another: a disk's grant pool lock (gmap.c),
 * skb_budget_lock (budget.c), the channel's lock (splitkit_ring), and
 * skb_dev.drain_lock, only where the device's in-flight count falls to
 * zero; it nests outside skb_dev.drain_wq's lock.  Request state belongs
 * to whoever holds the struct skb_req: the channel's consumer while it
 * validates and submits, then the I/O completion, which answers it, or
 * hands it to the completion work item (a read on bounce pages, or a
 * request with vmalloc'ed arrays; req.c).  In-flight counts
 * are atomics (req.c): skb_dev.inflight (the whole device, for disconnect)
 * and skb_queue.inflight (one ring, for barriers; barrier.c).
 */
#ifndef _SPLITKIT_BACK_COMMON_H
#define _SPLITKIT_BACK_COMMON_H

#include <linux/atomic.h>
#include <linux/blkdev.h>
#include <linux/bvec.h>
#include <linux/fs.h>
#include <linux/llist.h>
#include <linux/wait.h>
#include <linux/workqueue.h>
#include <xen/xenbus.h>

#include <splitkit/blkif.h>
#include <splitkit/qemu_lock.h>
#include <splitkit/ring.h>

#include "core/blkreq.h"
#include "core/gmap.h"
#include "core/share.h"

#define SKB_NAME	"splitkit_back"

/* Most queues (rings) per disk: the top of the max_queues parameter. */
#define SKB_MAX_QUEUES	32

/*
 * Fewest indirect segments ever advertised: the bottom of the
 * max_indirect_segs parameter.  Linux's xen-blkback always offers 256
 * (MAX_INDIRECT_SEGMENTS in its common.h), so a guest may have set its
 * queue up for that many; a stock xen-blkfront restored or migrated onto a
 * backend that offers fewer keeps the requests already queued in their old
 * shape and crashes on them (BUG in blkif_queue_rq()).  Offering at least
 * what xen-blkback offers keeps every guest that ran against either
 * backend safe when it reconnects to this one.
 */
#define SKB_MIN_INDIRECT_SEGS	256
/* Largest page budget (budget.c) a parameter may set: 64 GiB. */
#define SKB_MAX_BUDGET_PAGES	(1U << 24)

struct skb_backing;
struct skb_req;

/* The format of a disk, as the administrator's config says (never probed). */
enum skb_format {
	SKB_FMT_RAW,
	SKB_FMT_QCOW2,
};

/**
 * struct skb_backing_ops - one kind of backing store.
 * @name: what it is, for messages ("block device", "file").
 * @describe: set up a just-opened backing and fill in how the disk looks
 *	to the frontend (@sectors, sector sizes, discard, @io); may refuse
 *	it with -errno.  Process context.
 * @submit: start a validated request that carries data: a read, a write,
 *	or a flush with data (SKB_KIND_FLUSH, WRITE_BARRIER included), which
 *	must make every write completed before it durable first and itself
 *	durable before it completes.  Consumer context, may sleep.  Every
 *	part of the I/O ends in skb_req_done(), and so does the submitter's
 *	own reference on the request, before or after the I/O ends.
 * @flush: make every completed write durable (a flush without data).
 *	Consumer context, sleeps.  Return: 0 or -errno.
 * @discard: discard a validated, non-empty range of sectors.  Consumer
 *	context, sleeps.  Return: 0, -EOPNOTSUPP if the backing refuses
 *	discards, or -errno.
 * @close: undo @describe; may be NULL.  No I/O is in flight.  The file is
 *	closed by skb_backing_close() afterwards.
 * @map_ok: @submit may do its I/O on the frontend's mapped pages (gmap.c)
 *	instead of bounce pages: it reads and writes them only through
 *	@req->bvec, and never keeps them past the request's completion.
 * @size_now: the backing's size now, in 512-byte sectors, for a kind
 *	whose size can change in dom0 while a guest uses it (resize.c);
 *	NULL if it cannot.  Any context, no lock, never sleeps: a read of
 *	the size the kernel keeps.
 */
struct skb_backing_ops {
	const char *name;
	int (*describe)(struct skb_backing *be);
	void (*submit)(struct skb_req *req);
	int (*flush)(struct skb_backing *be);
	int (*discard)(struct skb_backing *be, u64 sector, u64 nr_sectors);
	void (*close)(struct skb_backing *be);
	bool map_ok;
	u64 (*size_now)(const struct skb_backing *be);
};

/**
 * struct skb_backing - what a disk is backed by.
 * @ops: its kind (bdev.c, file.c).
 * @file: the open file or block device special file.
 * @bdev: block device only: bios go straight to it (bdev.c).
 * @path: the path it was opened by (physical-device-path or params).
 * @io: how the I/O is done, for messages ("bio", "direct", "buffered").
 * @read_only: opened read-only (mode "r", access=ro).
 * @direct: regular file on a filesystem that takes IOCB_DIRECT at
 *	512-byte alignment; otherwise file I/O goes through the page cache.
 * @discard: discard can be offered (device discards, or file fallocate).
 * @write_cache: writes may sit in a volatile cache until a flush: a
 *	regular file (the page cache) always, a block device as its queue
 *	says (/sys/block/X/queue/write_cache).  Flush is offered only then.
 * @sectors: size in 512-byte sectors.
 * @sector_size: logical sector size advertised (sector-size).
 * @phys_sector_size: physical-sector-size.
 * @discard_granularity: bytes; discard-granularity.
 * @discard_alignment: bytes; discard-alignment.
 * @format: what the administrator's config says the file is.
 * @backing_raw: qcow2: a backing file of unrecorded format is raw.
 * @qcow2_direct: qcow2: the direct path is allowed (struct skb_attach).
 * @qcow2_writeback: qcow2: the qcow2_writeback parameter (struct
 *	skb_attach).
 * @dom_name: the guest's name, for image policy and history (or NULL).
 * @dom_uuid: the guest's UUID, likewise ("" if unknown).
 * @share_write: the toolstack shares it on purpose (mode "w!"): QEMU's
 *	image lock on writing is not taken (qemulock.c).
 * @no_qemu_lock: take no QEMU image locks: the guest's device model
 *	serves the same file as the disk's emulated twin (share.c).
 * @qlock: QEMU's image locks on the file, shared by all our disks on it
 *	(share.c), or NULL.
 * @priv: the ops' own state (qcow2.c).
 * @why: why describe refused, for the xenbus error ("" if it did not say).
 */
struct skb_backing {
	const struct skb_backing_ops *ops;
	struct file *file;
	struct block_device *bdev;
	char *path;
	const char *io;
	bool read_only;
	bool direct;
	bool discard;
	bool write_cache;
	u64 sectors;
	u32 sector_size;
	u32 phys_sector_size;
	u32 discard_granularity;
	u32 discard_alignment;
	enum skb_format format;
	bool backing_raw;
	bool qcow2_direct;
	const bool *qcow2_writeback;
	char *dom_name;
	char dom_uuid[40];
	bool share_write;
	bool no_qemu_lock;
	struct skb_qlock *qlock;
	void *priv;
	char why[192];
};

/**
 * struct skb_offer - the optional blkif operations a disk offers, derived
 *	from its backing alone by skb_backing_offer(): the keys written once
 *	the backing is open (feature-flush-cache, feature-barrier,
 *	feature-discard) and the limits the request validator checks come
 *	from this one place, so that they never disagree.
 * @flush: BLKIF_OP_FLUSH_DISKCACHE, only over a volatile cache.
 * @barrier: BLKIF_OP_WRITE_BARRIER, a flush plus ordering: with @flush.
 * @discard: BLKIF_OP_DISCARD, on a writable disk whose backing discards.
 */
struct skb_offer {
	bool flush;
	bool barrier;
	bool discard;
};

/**
 * struct skb_attach - what the toolstack says about a disk to attach.
 * @format: SKB_FMT_RAW (file or device served as is) or SKB_FMT_QCOW2.
 * @backing_raw: qcow2 only: open a backing file whose format the image
 *	does not record as raw (otherwise it is refused).
 * @dom_name: the guest domain's name, or NULL.
 * @dom_uuid: its UUID, or NULL.
 * @qcow2_direct: qcow2 only: read and write what the image holds in place
 *	on its file directly (the qcow2_direct parameter; qcow2.c).
 * @qcow2_writeback: qcow2 only: the qcow2_writeback parameter itself,
 *	read at each write through the image engine (qcow2.c).
 * @share_write: the disk is shared on purpose (mode "w!").
 * @no_qemu_lock: the guest's device model has the same file as the
 *	disk's emulated twin (skb_share_dm_twin()).
 */
struct skb_attach {
	enum skb_format format;
	bool backing_raw;
	bool qcow2_direct;
	const bool *qcow2_writeback;
	const char *dom_name;
	const char *dom_uuid;
	bool share_write;
	bool no_qemu_lock;
};

/**
 * struct skb_stats - counters of one disk, shown in sysfs (skb_stats/).
 * @reqs: requests consumed.
 * @refused: requests answered with an error because they were invalid.
 * @io_errors: requests whose I/O or grant copy failed.
 * @reasons: refusals by enum skb_reason.
 * @grant_errors: grant copies the hypervisor refused (bad grant refs).
 * @nomem: requests failed for lack of memory.
 * @barriers: WRITE_BARRIERs performed (ring drained, flushed, written).
 * @page_waits: requests that waited for the page budget (budget.c).
 * @gcopy_segs: grant copy operations (one per segment or indirect page).
 * @gcopy_bytes: bytes grant-copied, both ways.
 * @gnt_maps: grant map operations (gmap.c).
 * @gnt_unmaps: grant unmap operations.
 * @gnt_map_hits: segments whose grant was mapped already.
 * @zc_segs: segments done on mapped pages (zero copy).
 * @zc_full: segments copied because the disk's pool had no slot to spare
 *	or their grant was being mapped by another ring's request.
 * @zc_failed: segments copied because their mapping failed.
 * @grants_mapped: grants mapped now, all rings.
 * @grant_evictions: idle mappings unmapped to map another grant.
 * @completion_runs: runs of a ring's completion work, each answering every
 *	read on bounce pages that completed since the last, pushed once.
 * @direct_answers: requests answered where their I/O completed (req.c).
 * @image_direct: qcow2 reads and writes done as the backing's own I/O
 *	between the request's pages and the image file (qcow2.c).
 * @image_cached: qcow2 reads and writes on the direct path with pages
 *	dom0's page cache held dirty or being written back, read from or
 *	written into that cache instead of with O_DIRECT (qcow2.c,
 *	skb_qcow2_piece()).
 * @image_cached_bytes: the bytes of those pages, in bytes.
 * @image_writeback: qcow2 write-back passes run (qcow2.c,
 *	skb_qcow2_writeback()).
 * @image_dirty: qcow2: 1 from a write through the image engine until a
 *	flush or a write-back pass left no page of the image's file dirty or
 *	being written back in dom0's page cache, then 0.
 * @reconfigured: ring reconfigurations taken up (xenbus.c, rings.c).
 * @left_to_frontend: requests a reconfiguration's drain left on the rings
 *	for the frontend to issue again (blkif.c).
 * @resized: new backing sizes announced to the frontend (resize.c).
 */
struct skb_stats {
	atomic64_t reqs;
	atomic64_t refused;
	atomic64_t io_errors;
	atomic64_t reasons[SKB_NR_REASONS];
	atomic64_t grant_errors;
	atomic64_t nomem;
	atomic64_t barriers;
	atomic64_t page_waits;
	atomic64_t gcopy_segs;
	atomic64_t gcopy_bytes;
	atomic64_t gnt_maps;
	atomic64_t gnt_unmaps;
	atomic64_t gnt_map_hits;
	atomic64_t zc_segs;
	atomic64_t zc_full;
	atomic64_t zc_failed;
	atomic64_t grants_mapped;
	atomic64_t grant_evictions;
	atomic64_t completion_runs;
	atomic64_t direct_answers;
	atomic64_t image_direct;
	atomic64_t image_cached;
	atomic64_t image_cached_bytes;
	atomic64_t image_writeback;
	atomic_t image_dirty;
	atomic64_t reconfigured;
	atomic64_t left_to_frontend;
	atomic64_t resized;
};

struct skb_gpool;

/* max_grants' limit (main.c): slots per ring offered. */
#define SKB_MAX_GRANTS		65536
/* Most slots one disk's pool may have (1 GiB of mapped pages). */
#define SKB_GPOOL_MAX_SLOTS	262144

/**
 * struct skb_queue - data-path state of one ring (channel).
 * @inflight: requests of this ring taken by its consumer and not yet
 *	answered.  Only the consumer raises it, so while the consumer waits
 *	(in a barrier) it only falls.
 * @idle: woken when @inflight falls to 1 or 0: a barrier waits on it.
 * @gp: the disk's mapped grants while connected with zero copy (gmap.c;
 *	the same pool for every ring), else NULL (also for a ring the
 *	frontend added after the pool was made: it grant-copies).  Set
 *	before the ring connects, freed after the rings are gone.
 * @done: requests whose I/O has completed and that the completion work
 *	answers (reads on bounce pages, req.c), not yet answered (lock-free:
 *	any context adds, only @done_work takes).
 * @done_work: answers what is on @done, one push for all (req.c).
 */
struct skb_queue {
	atomic_t inflight;
	wait_queue_head_t idle;
	struct skb_gpool *gp;
	struct llist_head done;
	struct work_struct done_work;
};

/**
 * struct skb_dev - one vbd backend device.
 * @dev: the xenbus device.
 * @xb: xenbus state helper; its lock protects @link, @be and @ready.
 * @link: the rings while connected, else NULL.
 * @be: the backing file or device, once the hotplug script published it.
 * @ready: @be is open and the disk keys are written.
 * @gone: the toolstack took the disk away (closed with "online" 0): @be
 *	is closed and never opened again (skb_release()).  Written under
 *	@xb.lock; image_op/ reads it without (imgop.c).
 * @lim: limits the validator checks against (set before connecting).
 * @adv_order: max-ring-page-order advertised in probe.
 * @adv_queues: multi-queue-max-queues advertised in probe.
 * @adv_segs: feature-max-indirect-segments advertised in probe.
 * @user: who uses @be, how (share.c).
 * @vm: the frontend domain's "vm" path, NULL if it has none; @user.vm.
 * @share_node: in share.c's list of users, under skb_share_lock.
 * @sharing: on that list.
 * @hotplug_watch: watch on our hotplug-status key.
 * @watching: @hotplug_watch is registered.
 * @format_watch: watch on our splitkit-format key (hotplug script).
 * @watching_format: @format_watch is registered.
 * @inflight: requests being handled (consumer through response).
 * @stopping: set by disconnect before draining @inflight.
 * @reconfiguring: set with @stopping when the disconnect is a
 *	reconfiguration's: a request taken then is left to the frontend
 *	(blkif.c) instead of failed.
 * @rings_pending: a ring agreement waits for both ends to be Connected
 *	(skb_rings_apply()).
 * @rings_work: puts it in force (skb_rings_apply()).
 * @rings_node: in rings.c's list of devices (skb_rings_lock), empty when
 *	not on it.
 * @sectors_seen: the backing's size (512-byte sectors) when @resize_work
 *	last looked, or when it was opened (resize.c); written under
 *	@xb.lock, read by the data path without it.
 * @resize_work: announces a new size of the backing (resize.c).
 * @resize_poll: looks at the backing's size once a second while
 *	connected (resize.c).
 * @drain_lock: held by whoever brings @inflight to zero until it has woken
 *	@drain_wq, and by disconnect while it checks @inflight: the hand-over
 *	after which the device may be freed (req.c, skb_inflight_put()).
 * @drain_wq: woken when @inflight drops to zero.
 * @test_waking: test builds: the last answer is still waking @drain_wq
 *	(req.c, skb_test_drained()).
 * @queues: per-ring state, indexed by sk_chan_index().
 * @stats: counters.
 * @grant_slots: the slots of this connection's pool of mapped grants
 *	(@queues .gp, one for the rings the frontend asked for; gmap.c):
 *	most grants mapped at once, max_grants x the queues offered (at
 *	most SKB_GPOOL_MAX_SLOTS); 0 without zero copy.  Under @xb.lock; read without
 *	it by sysfs.
 * @pages: pages its requests hold in the page budget, bookkeeping and
 *	bounce pages (budget.c, skb_budget_lock).
 * @pages_peak: the most they held at once.
 */
struct skb_dev {
	struct xenbus_device *dev;
	struct sk_xb xb;
	struct sk_link *link;
	struct skb_backing be;
	bool ready;
	bool gone;
	struct skb_limits lim;
	unsigned int adv_order;
	unsigned int adv_queues;
	unsigned int adv_segs;
	struct skb_user user;
	char *vm;
	struct list_head share_node;
	bool sharing;
	struct xenbus_watch hotplug_watch;
	bool watching;
	struct xenbus_watch format_watch;
	bool watching_format;
	atomic_t inflight;
	bool stopping;
	bool reconfiguring;
	bool rings_pending;
	struct work_struct rings_work;
	struct list_head rings_node;
	u64 sectors_seen;
	struct work_struct resize_work;
	struct delayed_work resize_poll;
	spinlock_t drain_lock;
	wait_queue_head_t drain_wq;
	bool test_waking;
	struct skb_queue queues[SKB_MAX_QUEUES];
	struct skb_stats stats;
	unsigned int grant_slots;
	unsigned long pages;
	unsigned long pages_peak;
};

/**
 * struct skb_req - one request from validation to its response.
 * @d: the device.
 * @ch: the channel it came from and is answered on.
 * @desc: the validated request.
 * @segs: its segments (@desc.segs, or the copy of the indirect pages).
 * @pages: one page per segment, data at the segment's offset: a bounce
 *	page, or the frontend's own page mapped (skb_gpool_mapped()).
 * @bvec: the same as bio_vecs (file path).
 * @pending: outstanding completions (bios, or the kiocb) plus one for the
 *	submitter.
 * @error: first error seen, 0 if none.
 * @end_write: the kiocb completion drops the write freeze protection.
 * @budget: pages it holds in the page budget (budget.c): its bookkeeping's
 *	(the struct and its per-segment arrays) and its bounce pages; until
 *	skb_req_set_bounce() also its indirect buffer's and a bounce page's
 *	for every segment (req.c, skb_req_alloc()).
 * @meta_pages: of @budget, its bookkeeping's pages (skb_req_alloc()).
 * @bounce: its segments on bounce pages, grant-copied (0 until
 *	skb_req_set_bounce()).
 * @iocb: file path.
 * @done_node: on its ring's list of completed requests (skb_queue.done).
 * @gcopy: grant-copy batch.
 * @gslot: per segment, its slot in the ring's mapped-grant pool, or
 *	SKB_GMAP_NONE: a bounce page, grant copy.
 * @gact: per segment, what the pool asked for it (enum skb_gmap_act).
 * @gpool: the pool whose slots it may hold (skb_gpool_map() was called),
 *	or NULL: every segment on a bounce page.
 */
struct skb_req {
	struct skb_dev *d;
	struct sk_chan *ch;
	struct skb_req_desc desc;
	struct skb_seg *segs;
	struct page **pages;
	struct bio_vec *bvec;
	atomic_t pending;
	int error;
	bool end_write;
	unsigned int budget;
	unsigned int meta_pages;
	unsigned int bounce;
	struct kiocb iocb;
	struct llist_node done_node;
	struct sk_gcopy gcopy;
	u32 *gslot;
	u8 *gact;
	struct skb_gpool *gpool;
};

/**
 * struct skb_params - the module parameters (main.c), handed to xenbus.c.
 * @max_queues: multi-queue-max-queues advertised.
 * @max_ring_order: max-ring-page-order advertised.
 * @max_indirect_segs: feature-max-indirect-segments advertised.
 * @poll_ns: longest adaptive ring poll window.
 * @max_pages: pages one disk's requests may hold (budget.c): bounce pages
 *	and bookkeeping.
 * @max_pages_all: pages all disks' requests may hold.
 * @zero_copy: map persistent grants and do I/O on them (gmap.c).
 * @qcow2_direct: qcow2 disks take the direct path (qcow2.c).
 * @qcow2_writeback: qcow2 disks write back the engine's writes at once.
 * @max_grants: grants a disk keeps mapped at most, per queue it offers.
 *
 * Each may change at any time (0644): read them once, with READ_ONCE().
 */
struct skb_params {
	unsigned int max_queues;
	unsigned int max_ring_order;
	unsigned int max_indirect_segs;
	unsigned int poll_ns;
	unsigned int max_pages;
	unsigned int max_pages_all;
	bool zero_copy;
	bool qcow2_direct;
	bool qcow2_writeback;
	unsigned int max_grants;
};

/* A ring's state; the index is below the queue count we advertised. */
static inline struct skb_queue *skb_queue(struct skb_dev *d,
					  struct sk_chan *ch)
{
	return &d->queues[sk_chan_index(ch)];
}

/* xenbus.c */
int skb_xenbus_register(const struct skb_params *params);
void skb_xenbus_unregister(void);
int skb_vdev_of(struct xenbus_device *dev, u32 *vdev);
bool skb_front_follows(struct skb_dev *d);

/* rings.c */
void skb_rings_cap(u16 domid, u32 vdev, unsigned int *queues,
		   unsigned int *order);
void skb_rings_add(struct skb_dev *d);
void skb_rings_del(struct skb_dev *d);
void skb_rings_exit(void);

/* blkif.c */
void skb_chan_msg(struct sk_chan *ch, const void *msg);
void skb_build_limits(struct skb_dev *d, unsigned int max_segs);

/* resize.c */
void skb_resize_init(struct skb_dev *d);
int skb_resize_connect(struct skb_dev *d);
void skb_resize_start(struct skb_dev *d);
void skb_resize_watch(struct skb_dev *d);
void skb_resize_check(struct skb_dev *d);
void skb_resize_unwatch(struct skb_dev *d);
void skb_resize_stop(struct skb_dev *d);

/* req.c */
int skb_req_init(void);
void skb_req_exit(void);
void skb_queues_init(struct skb_dev *d);
void skb_queues_quiesce(struct skb_dev *d);
void skb_inflight_get(struct skb_dev *d, struct sk_chan *ch);
void skb_inflight_put(struct skb_dev *d, struct sk_chan *ch);
void skb_answer(struct skb_dev *d, struct sk_chan *ch,
		const struct skb_req_desc *desc, int status);
struct skb_req *skb_req_alloc(struct skb_dev *d, struct sk_chan *ch,
			      const struct skb_req_desc *desc);
void skb_req_free(struct skb_req *req);
void skb_req_set_bounce(struct skb_req *req, unsigned int n);
int skb_req_fill(struct skb_req *req);
void skb_req_done(struct skb_req *req, int err);
#ifdef SKB_TEST_HOOKS
void skb_test_drained(struct skb_dev *d);
#else
static inline void skb_test_drained(struct skb_dev *d) { }
#endif

/* gmap.c: zero copy on mapped persistent grants */
struct skb_gpool *skb_gpool_create(struct skb_dev *d, unsigned int cap,
				   unsigned int rings);
void skb_gpool_destroy(struct skb_gpool *gp);
unsigned int skb_gpool_map(struct skb_gpool *gp, struct skb_req *req);
bool skb_gpool_mapped(const struct skb_req *req, unsigned int i);
void skb_gpool_put(struct skb_req *req);

/* barrier.c */
void skb_barrier_drain(struct skb_dev *d, struct sk_chan *ch);
void skb_barrier_wait(struct skb_dev *d, struct sk_chan *ch);

/* bdev.c, file.c, qcow2.c */
extern const struct skb_backing_ops skb_bdev_ops;
extern const struct skb_backing_ops skb_file_ops;
ssize_t skb_kiocb_submit(struct kiocb *iocb, struct iov_iter *iter,
			 bool write, bool *end_write);
extern const struct skb_backing_ops skb_qcow2_ops;

/* budget.c: the bound on the pages guests' requests hold */
void skb_budget_init(const struct skb_params *p);
int skb_pages_get(struct skb_dev *d, struct sk_chan *ch, unsigned int n);
void skb_pages_put(struct skb_dev *d, unsigned int n);
void skb_pages_wake(void);
void skb_pages_read(unsigned long *now, unsigned long *peak);
void skb_pages_read_disk(struct skb_dev *d, unsigned long *now,
			 unsigned long *peak);

/* imgop.c: the image_op/ sysfs directory of every disk */
extern const struct attribute_group skb_imgop_group;

/* backing.c */
int skb_backing_open(struct skb_backing *be, const char *path, bool ro,
		     const struct skb_attach *at);
int skb_backing_claim(struct skb_backing *be);
void skb_backing_offer(const struct skb_backing *be, struct skb_offer *o);
void skb_backing_close(struct skb_backing *be);

/* share.c */
int skb_share_qemu_lock(struct skb_backing *be);
void skb_share_qemu_unlock(struct skb_backing *be);
bool skb_share_dm_twin(struct xenbus_device *dev);
int skb_share_join(struct skb_dev *d);
void skb_share_leave(struct skb_dev *d);

/* qemulock.c: QEMU's image locks on a served file (<splitkit/qemu_lock.h>) */
void skb_qemu_perms(const struct skb_backing *be, unsigned int *used,
		    unsigned int *unshared);
bool skb_qemu_supported(struct file *f);
int skb_qemu_take(struct file *f, unsigned int used, unsigned int unshared);
void skb_qemu_drop(struct file *f, unsigned int used, unsigned int unshared);
int skb_qemu_test(struct file *f, unsigned int used, unsigned int unshared,
		  char *why, size_t len);

#endif /* _SPLITKIT_BACK_COMMON_H */
