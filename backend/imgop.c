// SPDX-License-Identifier: GPL-2.0
/*
 * splitkit_back online image operations: compaction, defragmentation and
 * merge (commit into the parent, or stream the parent in) of a qcow2 image
 * while its guest runs.  The engine (image/core/ops.h) does the work in
 * bounded steps that leave the image valid and the guest's view unchanged;
 * this file runs those steps, one per work item on system_unbound_wq,
 * each under the image's lock (struct skb_qcow2.lock) like every guest
 * request, so a step is atomic with respect to guest I/O and a guest
 * request waits at most one step, less its data copy and flushes: a
 * compaction, defragmentation or commit step drops the lock around them
 * (ski_op_set_unlock(); the engine copies a cluster the guest wrote
 * meanwhile again, and gives up a move whose cluster the guest
 * discarded), and a stream drops it to read its backing file, to write
 * its copies into new clusters and around the flush before it maps a
 * batch of them (giving up those the guest wrote meanwhile).  With
 * image_op/guest_pace set, a step
 * is queued only after the guest has sent that many requests since the
 * last one (skb_imgop_count()): guest I/O paces the operation, which then
 * stalls while the guest is idle; a test uses it to put guest writes
 * between every two steps whatever the machine's speed.  Guest writes
 * between steps are kept consistent by the engine itself (its reverse
 * map, and a commit's redirection of writes behind its cursor to the
 * parent); see Documentation/image.rst, "Online operations".
 *
 * Control and progress are the disk's sysfs directory image_op/ (xenbus.c
 * owns the files; tools/splitkit "splitkit vbd" drives them).  The
 * operation and its end are recorded in the image's VM history.  A detach
 * cancels a running operation (skb_imgop_stop()) before the image closes.
 */
#include <linux/kernel.h>
#include <linux/sched/mm.h>
#include <linux/workqueue.h>

#include "common.h"
#include "qcow2.h"

/* Clusters one step moves at most, unless sysfs says otherwise. */
#define SKB_IMGOP_STEP_DEFAULT	16

static const char *const skb_imgop_names[] = {
	[SKI_OP_COMPACT] = "compact",
	[SKI_OP_DEFRAG] = "defrag",
	[SKI_OP_COMMIT] = "commit",
	[SKI_OP_STREAM] = "stream",
};

/*
 * Append "@what: @detail" to the history of @img (the served image or its
 * parent); best effort.  Under q->lock.
 */
static void skb_imgop_note(struct skb_qcow2 *q, struct ski_image *img,
			   const char *what, const char *detail)
{
	int err = ski_note_history(img, what, detail);

	if (!err)
		err = ski_flush(img);
	if (err)
		pr_warn(SKB_NAME ": %s: recording '%s' in the history of %s: %d\n",
			q->path, what, ski_image_path(img), err);
}

/*
 * The image file the operation works on: the served image, or the parent
 * a finished commit serves the guest from (ski_op_begin()).
 */
static struct ski_image *skb_imgop_image(struct skb_qcow2 *q)
{
	return q->imgop.op.img ? q->imgop.op.img : q->img;
}

/* Progress as sysfs shows it.  Under q->lock. */
static void skb_imgop_sample(struct skb_qcow2 *q)
{
	struct skb_imgop *o = &q->imgop;
	u64 size;

	o->done = o->op.done;
	o->total = o->op.total;
	o->moved = o->op.moved;
	o->recopied = o->op.recopied;
	o->given_up = o->op.dropped;
	if (!ski_image_file_size(skb_imgop_image(q), &size))
		o->file_bytes = size;
}

/* The operation is over (@state), for good.  Under q->lock. */
static void skb_imgop_finish(struct skb_qcow2 *q, enum skb_imgop_state state,
			     int err)
{
	struct skb_imgop *o = &q->imgop;
	char detail[96];

	skb_imgop_sample(q);
	ski_op_end(&o->op);
	o->state = state;
	o->error = err;
	snprintf(detail, sizeof(detail), "%s: %llu clusters, %llu -> %llu bytes%s",
		 skb_imgop_names[o->kind], o->moved, o->file_before,
		 o->file_bytes, state == SKB_IMGOP_CANCELLED ? ", cancelled" :
		 state == SKB_IMGOP_FAILED ? ", failed" : "");
	skb_imgop_note(q, q->img, "online-op-end", detail);
	/*
	 * The image that serves the guest from now on has the record too: the
	 * parent of a finished commit (it took the child's VM information,
	 * start record included, before this end), or the parent an earlier
	 * commit left serving, which this operation worked on.
	 */
	if (o->kind == SKI_OP_COMMIT && state == SKB_IMGOP_DONE && o->op.parent)
		skb_imgop_note(q, o->op.parent, "online-op-end", detail);
	else if (o->op.img && o->op.img != q->img)
		skb_imgop_note(q, o->op.img, "online-op-end", detail);
	if (state == SKB_IMGOP_FAILED)
		pr_warn(SKB_NAME ": %s: %s failed: %d\n", q->path,
			skb_imgop_names[o->kind], err);
}

/*
 * The step lets go of the image lock, which it took at @o->held_since:
 * keep the longest such stretch (held_max_us, what a guest request may
 * have waited behind).  Under q->lock.
 */
static void skb_imgop_held(struct skb_imgop *o)
{
	u64 ns = ktime_to_ns(ktime_sub(ktime_get(), o->held_since));

	if (ns > o->held_max_ns)
		o->held_max_ns = ns;
}

/* One step, then the next one is queued, or the operation ends. */
static void skb_imgop_work(struct work_struct *work)
{
	struct skb_imgop *o = container_of(work, struct skb_imgop, work);
	struct skb_qcow2 *q = container_of(o, struct skb_qcow2, imgop);
	unsigned int noio;
	bool again = false;
	int err;

	noio = skb_qcow2_lock(q);
	o->held_since = ktime_get();
	if (o->state != SKB_IMGOP_RUNNING)
		goto unlock;
	if (READ_ONCE(o->cancel)) {
		skb_imgop_finish(q, SKB_IMGOP_CANCELLED, 0);
		goto unlock;
	}
	/* what the guest mapped to the file before the step lands first */
	skb_qcow2_drain(q);
	err = ski_op_step(&o->op, READ_ONCE(o->step_clusters));
	if (err >= 0)
		o->steps++;
	if (err < 0)
		skb_imgop_finish(q, SKB_IMGOP_FAILED, err);
	else if (err > 0)
		skb_imgop_finish(q, SKB_IMGOP_DONE, 0);
	else if (o->guest_pace) {
		skb_imgop_sample(q);
		o->pace_at = o->guest_reqs + o->guest_pace;
		o->paced = true;	/* skb_imgop_count() queues the next */
	} else {
		skb_imgop_sample(q);
		again = true;
	}
unlock:
	skb_imgop_held(o);
	skb_qcow2_unlock(q, noio);
	if (again)
		queue_work(system_unbound_wq, &o->work);
}

/* The engine drops and retakes the image's lock around a step's copy. */
static void skb_imgop_unlock(void *arg)
{
	struct skb_qcow2 *q = arg;

	skb_imgop_held(&q->imgop);
	mutex_unlock(&q->lock);
}

static void skb_imgop_relock(void *arg)
{
	struct skb_qcow2 *q = arg;

	mutex_lock(&q->lock);
	q->imgop.held_since = ktime_get();
	/* guest writes mapped meanwhile land before the step checks them */
	skb_qcow2_drain(q);
}

/**
 * skb_imgop_init() - set up the operation state of a new served image.
 * @q: the image, not yet visible to sysfs.
 */
void skb_imgop_init(struct skb_qcow2 *q)
{
	INIT_WORK(&q->imgop.work, skb_imgop_work);
	q->imgop.state = SKB_IMGOP_IDLE;
	q->imgop.step_clusters = SKB_IMGOP_STEP_DEFAULT;
	q->imgop.guest_pace = 0;
}

/*
 * Before a commit begins (it opens the parent writable and may grow it):
 * claim the parent, the qcow2 backing image of the image that serves the
 * guest now, against other attaches (skb_qcow2_commit_claim()).  A
 * serving image with no qcow2 backing is left to ski_op_begin() to
 * refuse.  @q->lock held.
 */
static int skb_imgop_claim_parent(struct skb_qcow2 *q, bool *claimed)
{
	struct ski_image *img = q->img, *parent;
	int err;

	while (ski_image_commit_to(img))
		img = ski_image_commit_to(img);
	parent = ski_image_backing(img);
	if (!parent)
		return 0;
	err = skb_qcow2_commit_claim(q, parent);
	*claimed = err > 0;
	return err < 0 ? err : 0;
}

/**
 * skb_imgop_start() - start a long operation on a served image.
 * @q: the image.
 * @kind: compact, defrag, commit (into the qcow2 parent) or stream (the
 *	chain into this image, then its backing file is dropped).
 *
 * Process context, may sleep (takes @q->lock; the engine reads the
 * image's tables).  The operation then runs in the background until it
 * ends, fails or is cancelled; sysfs shows its progress.
 *
 * Return: 0; -EROFS for an image served read-only; -EBUSY while another
 * operation runs; for a commit, the refusals of skb_qcow2_commit_claim()
 * (-EBUSY: the parent is attached or read through elsewhere; its policy's
 * errors); the engine's errors from ski_op_begin() (-EINVAL: a merge
 * without a backing file, -EOPNOTSUPP: commit into a raw backing,
 * -ENOMEM).
 */
int skb_imgop_start(struct skb_qcow2 *q, enum ski_op_kind kind)
{
	struct skb_imgop *o = &q->imgop;
	unsigned int noio;
	bool claimed;
	int err;

	if (!q->writable)
		return -EROFS;
	noio = skb_qcow2_lock(q);
	if (o->state == SKB_IMGOP_RUNNING) {
		err = -EBUSY;
		goto unlock;
	}
	o->kind = kind;
	o->cancel = false;
	o->error = 0;
	o->guest_reqs = 0;
	o->steps = 0;
	o->held_max_ns = 0;
	o->paced = false;
	claimed = false;
	if (kind == SKI_OP_COMMIT) {
		err = skb_imgop_claim_parent(q, &claimed);
		if (err)
			goto failed;
	}
	err = ski_op_begin(&o->op, q->img, kind);
	if (err) {
		ski_op_end(&o->op);
		if (claimed)
			skb_qcow2_commit_unclaim(q);
		goto failed;
	}
	/*
	 * Safe: only the worker calls the engine's op functions, and
	 * skb_imgop_stop() and a detach wait for it (cancel_work_sync()).
	 */
	ski_op_set_unlock(&o->op, skb_imgop_unlock, skb_imgop_relock, q);
	if (ski_image_file_size(skb_imgop_image(q), &o->file_before))
		o->file_before = 0;
	o->state = SKB_IMGOP_RUNNING;
	skb_imgop_sample(q);
	skb_imgop_note(q, q->img, "online-op-start", skb_imgop_names[kind]);
	if (o->op.img != q->img)
		skb_imgop_note(q, o->op.img, "online-op-start",
			       skb_imgop_names[kind]);
	queue_work(system_unbound_wq, &o->work);
	goto unlock;

failed:
	o->error = err;
	o->state = SKB_IMGOP_FAILED;
unlock:
	skb_qcow2_unlock(q, noio);
	return err;
}

/**
 * skb_imgop_stop() - cancel a running operation and wait for its worker.
 * @q: the image.
 *
 * Process context, may sleep.  Used by sysfs ("cancel") and at detach.
 * The image stays valid: steps are atomic, and the engine's state after
 * any step is a valid image that reads what the guest wrote.
 */
void skb_imgop_stop(struct skb_qcow2 *q)
{
	struct skb_imgop *o = &q->imgop;
	unsigned int noio;

	WRITE_ONCE(o->cancel, true);
	cancel_work_sync(&o->work);
	/* the worker may have been taken off before it saw @cancel */
	noio = skb_qcow2_lock(q);
	if (o->state == SKB_IMGOP_RUNNING)
		skb_imgop_finish(q, SKB_IMGOP_CANCELLED, 0);
	o->paced = false;
	skb_qcow2_unlock(q, noio);
	/*
	 * A guest request may have queued the next paced step between the
	 * first cancel and the lock; none can queue one now that the state is
	 * not running, so this one is the last.
	 */
	cancel_work_sync(&o->work);
}

/*
 * sysfs: /sys/bus/xen-backend/devices/vbd-<dom>-<id>/image_op/, one value
 * per file (Documentation/ABI/testing/sysfs-bus-xen-splitkit).  Writing
 * "op" starts an operation ("compact", "defrag", "commit", "stream") or
 * cancels the running one ("cancel"); root only (CAP_SYS_ADMIN).  The
 * other files are read-only but step_clusters and guest_pace (-ERANGE
 * outside their ranges).  A disk that is not a qcow2 image shows "none"
 * and refuses every write (-EOPNOTSUPP); a read-only one refuses to start
 * (-EROFS).
 *
 * Locking: the device's xb.lock keeps its backing open while a file is
 * read or written; it nests outside skb_qcow2.lock.
 */

/* The served qcow2 image of @dev, with its xb.lock held, or NULL. */
static struct skb_qcow2 *skb_imgop_get(struct device *dev)
{
	struct skb_dev *d = sk_xb_from_dev(dev)->priv;

	mutex_lock(&d->xb.lock);
	if (d->ready && d->be.ops == &skb_qcow2_ops && d->be.priv)
		return d->be.priv;
	mutex_unlock(&d->xb.lock);
	return NULL;
}

/*
 * The disk was released for its removal (skb_release()): its files fail
 * with -ENODEV from then on, as once the device is gone, rather than
 * reading like a disk that never served an image.
 */
static bool skb_imgop_released(struct device *dev)
{
	struct skb_dev *d = sk_xb_from_dev(dev)->priv;

	return READ_ONCE(d->gone);
}

static void skb_imgop_put(struct device *dev)
{
	struct skb_dev *d = sk_xb_from_dev(dev)->priv;

	mutex_unlock(&d->xb.lock);
}

static const char *const skb_imgop_states[] = {
	[SKB_IMGOP_IDLE] = "idle",
	[SKB_IMGOP_RUNNING] = "running",
	[SKB_IMGOP_DONE] = "done",
	[SKB_IMGOP_CANCELLED] = "cancelled",
	[SKB_IMGOP_FAILED] = "failed",
};

/* The files with one number each, in struct skb_imgop. */
enum skb_imgop_file {
	SKB_IMGOP_F_DONE,
	SKB_IMGOP_F_TOTAL,
	SKB_IMGOP_F_MOVED,
	SKB_IMGOP_F_STEPS,
	SKB_IMGOP_F_FILE_BEFORE,
	SKB_IMGOP_F_FILE_BYTES,
	SKB_IMGOP_F_ERROR,
	SKB_IMGOP_F_STEP,
	SKB_IMGOP_F_GUEST_REQS,
	SKB_IMGOP_F_GUEST_PACE,
	SKB_IMGOP_F_RECOPIED,
	SKB_IMGOP_F_GIVEN_UP,
	SKB_IMGOP_F_HELD_MAX,
};

static u64 skb_imgop_value(const struct skb_imgop *o, enum skb_imgop_file f)
{
	const u64 v[] = {
		[SKB_IMGOP_F_DONE] = o->done,
		[SKB_IMGOP_F_TOTAL] = o->total,
		[SKB_IMGOP_F_MOVED] = o->moved,
		[SKB_IMGOP_F_STEPS] = o->steps,
		[SKB_IMGOP_F_FILE_BEFORE] = o->file_before,
		[SKB_IMGOP_F_FILE_BYTES] = o->file_bytes,
		[SKB_IMGOP_F_ERROR] = -o->error,
		[SKB_IMGOP_F_STEP] = o->step_clusters,
		[SKB_IMGOP_F_GUEST_REQS] = o->guest_reqs,
		[SKB_IMGOP_F_GUEST_PACE] = o->guest_pace,
		[SKB_IMGOP_F_RECOPIED] = o->recopied,
		[SKB_IMGOP_F_GIVEN_UP] = o->given_up,
		[SKB_IMGOP_F_HELD_MAX] = div_u64(o->held_max_ns, NSEC_PER_USEC),
	};

	return v[f];
}

struct skb_imgop_attr {
	struct device_attribute attr;
	enum skb_imgop_file file;
};

static ssize_t skb_imgop_num_show(struct device *dev,
				  struct device_attribute *attr, char *buf)
{
	struct skb_imgop_attr *a = container_of(attr, struct skb_imgop_attr,
						attr);
	struct skb_qcow2 *q;
	u64 v = 0;

	if (skb_imgop_released(dev))
		return -ENODEV;
	q = skb_imgop_get(dev);
	if (q) {
		mutex_lock(&q->lock);
		v = skb_imgop_value(&q->imgop, a->file);
		mutex_unlock(&q->lock);
		skb_imgop_put(dev);
	}
	return sysfs_emit(buf, "%llu\n", v);
}

/* The writable numbers: their ranges. */
static const struct {
	unsigned int min, max;
} skb_imgop_ranges[] = {
	[SKB_IMGOP_F_STEP] = { 1, 4096 },
	[SKB_IMGOP_F_GUEST_PACE] = { 0, 65536 },
};

/*
 * Set guest_pace to @v.  A step waiting for the guest waits for the new
 * share instead (counted from the end of the last step), or runs now if
 * the guest has sent that much already.  Under q->lock.
 */
static void skb_imgop_set_pace(struct skb_imgop *o, unsigned int v)
{
	if (o->paced) {
		o->pace_at = o->pace_at - o->guest_pace + v;
		if (o->guest_reqs >= o->pace_at) {
			o->paced = false;
			queue_work(system_unbound_wq, &o->work);
		}
	}
	o->guest_pace = v;
}

static ssize_t skb_imgop_num_store(struct device *dev,
				   struct device_attribute *attr,
				   const char *buf, size_t count)
{
	struct skb_imgop_attr *a = container_of(attr, struct skb_imgop_attr,
						attr);
	struct skb_qcow2 *q;
	unsigned int v;
	int err;

	if (!capable(CAP_SYS_ADMIN))
		return -EPERM;
	err = kstrtouint(buf, 0, &v);
	if (err)
		return err;
	if (v < skb_imgop_ranges[a->file].min ||
	    v > skb_imgop_ranges[a->file].max)
		return -ERANGE;
	q = skb_imgop_get(dev);
	if (!q)
		return -EOPNOTSUPP;
	mutex_lock(&q->lock);
	if (a->file == SKB_IMGOP_F_STEP)
		WRITE_ONCE(q->imgop.step_clusters, v);
	else
		skb_imgop_set_pace(&q->imgop, v);
	mutex_unlock(&q->lock);
	skb_imgop_put(dev);
	return count;
}

#define SKB_IMGOP_NUM(_name, _file)					\
	static struct skb_imgop_attr skb_imgop_attr_##_name = {	\
		.attr = __ATTR(_name, 0444, skb_imgop_num_show, NULL),	\
		.file = _file,						\
	}
SKB_IMGOP_NUM(done, SKB_IMGOP_F_DONE);
SKB_IMGOP_NUM(total, SKB_IMGOP_F_TOTAL);
SKB_IMGOP_NUM(moved, SKB_IMGOP_F_MOVED);
SKB_IMGOP_NUM(steps, SKB_IMGOP_F_STEPS);
SKB_IMGOP_NUM(file_bytes_before, SKB_IMGOP_F_FILE_BEFORE);
SKB_IMGOP_NUM(file_bytes, SKB_IMGOP_F_FILE_BYTES);
SKB_IMGOP_NUM(error, SKB_IMGOP_F_ERROR);
SKB_IMGOP_NUM(guest_requests, SKB_IMGOP_F_GUEST_REQS);
SKB_IMGOP_NUM(recopied, SKB_IMGOP_F_RECOPIED);
SKB_IMGOP_NUM(given_up, SKB_IMGOP_F_GIVEN_UP);
SKB_IMGOP_NUM(held_max_us, SKB_IMGOP_F_HELD_MAX);
#define SKB_IMGOP_NUM_RW(_name, _file)					\
	static struct skb_imgop_attr skb_imgop_attr_##_name = {	\
		.attr = __ATTR(_name, 0644, skb_imgop_num_show,		\
			       skb_imgop_num_store),			\
		.file = _file,						\
	}
SKB_IMGOP_NUM_RW(step_clusters, SKB_IMGOP_F_STEP);
SKB_IMGOP_NUM_RW(guest_pace, SKB_IMGOP_F_GUEST_PACE);

static ssize_t state_show(struct device *dev, struct device_attribute *attr,
			  char *buf)
{
	struct skb_qcow2 *q;
	enum skb_imgop_state s = SKB_IMGOP_IDLE;

	if (skb_imgop_released(dev))
		return -ENODEV;
	q = skb_imgop_get(dev);
	if (q) {
		mutex_lock(&q->lock);
		s = q->imgop.state;
		mutex_unlock(&q->lock);
		skb_imgop_put(dev);
	}
	return sysfs_emit(buf, "%s\n", skb_imgop_states[s]);
}
static DEVICE_ATTR_RO(state);

static ssize_t op_show(struct device *dev, struct device_attribute *attr,
		       char *buf)
{
	struct skb_qcow2 *q;
	const char *name = "none";

	if (skb_imgop_released(dev))
		return -ENODEV;
	q = skb_imgop_get(dev);
	if (q) {
		mutex_lock(&q->lock);
		if (q->imgop.state != SKB_IMGOP_IDLE)
			name = skb_imgop_names[q->imgop.kind];
		mutex_unlock(&q->lock);
		skb_imgop_put(dev);
	}
	return sysfs_emit(buf, "%s\n", name);
}

static ssize_t op_store(struct device *dev, struct device_attribute *attr,
			const char *buf, size_t count)
{
	struct skb_qcow2 *q;
	int kind, err = 0;

	if (!capable(CAP_SYS_ADMIN))
		return -EPERM;
	kind = sysfs_match_string(skb_imgop_names, buf);
	if (kind < 0 && !sysfs_streq(buf, "cancel"))
		return -EINVAL;
	q = skb_imgop_get(dev);
	if (!q)
		return -EOPNOTSUPP;
	if (kind < 0)
		skb_imgop_stop(q);
	else
		err = skb_imgop_start(q, kind);
	skb_imgop_put(dev);
	return err ? err : count;
}
static DEVICE_ATTR_RW(op);

/*
 * Writing "1" to image_op/sync writes what only the engine's caches hold
 * of the image (the mappings of new clusters, which wait for the guest's
 * next flush: Documentation/image.rst, "Crash safety") to its file and
 * flushes it, as a guest flush does: for tools that read the file of a
 * served image (splitkit vbd list).  Root only.
 */
static ssize_t sync_store(struct device *dev, struct device_attribute *attr,
			  const char *buf, size_t count)
{
	struct skb_qcow2 *q;
	unsigned int noio;
	bool v;
	int err;

	if (!capable(CAP_SYS_ADMIN))
		return -EPERM;
	err = kstrtobool(buf, &v);
	if (err || !v)
		return err ? err : -EINVAL;
	q = skb_imgop_get(dev);
	if (!q)
		return -EOPNOTSUPP;
	noio = skb_qcow2_lock(q);
	err = ski_flush(q->img);
	skb_qcow2_unlock(q, noio);
	skb_imgop_put(dev);
	return err ? err : count;
}
static DEVICE_ATTR_WO(sync);

static struct attribute *skb_imgop_attrs[] = {
	&dev_attr_op.attr,
	&dev_attr_sync.attr,
	&dev_attr_state.attr,
	&skb_imgop_attr_done.attr.attr,
	&skb_imgop_attr_total.attr.attr,
	&skb_imgop_attr_moved.attr.attr,
	&skb_imgop_attr_steps.attr.attr,
	&skb_imgop_attr_file_bytes_before.attr.attr,
	&skb_imgop_attr_file_bytes.attr.attr,
	&skb_imgop_attr_error.attr.attr,
	&skb_imgop_attr_guest_requests.attr.attr,
	&skb_imgop_attr_step_clusters.attr.attr,
	&skb_imgop_attr_guest_pace.attr.attr,
	&skb_imgop_attr_recopied.attr.attr,
	&skb_imgop_attr_given_up.attr.attr,
	&skb_imgop_attr_held_max_us.attr.attr,
	NULL
};

const struct attribute_group skb_imgop_group = {
	.name = "image_op",
	.attrs = skb_imgop_attrs,
};
