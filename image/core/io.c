// SPDX-License-Identifier: GPL-2.0
/*
 * Guest I/O on an open image: reads through the backing chain and
 * compressed clusters, copy-on-write writes in batches, discard.
 *
 * Writes follow the core's ordering rule (refcount.c): data goes into a
 * cluster the image alone owns in place, otherwise into a freshly allocated
 * cluster that is mapped only after a flush, and what it replaced is
 * released only after a second flush.  A new cluster that replaces
 * nothing (the guest cluster was unallocated or a zero cluster) is mapped
 * in the cached L2 table at once and in the file at the next sync
 * (table.c, ski_l2_defer()), which flushes first: the flush is paid once
 * per guest flush, not once per write.  Compressed clusters are inflated
 * through the platform layer (skp_inflate(): zlib in both worlds).
 */
#include "image_priv.h"

#define SKI_DISCARD_BATCH	32

static int read_backing(struct ski_image *img, void *buf, u64 len, u64 off)
{
	u64 size = ski_backing_size(img), avail;

	avail = off < size ? size - off : 0;
	if (avail > len)
		avail = len;
	memset((u8 *)buf + avail, 0, len - avail);
	if (!avail)
		return 0;
	if (img->backing)
		return ski_read(img->backing, buf, avail, off);
	return skp_pread(img->backing_raw, buf, avail, off);
}

static int read_compressed(struct ski_image *img, u64 entry, void *buf,
			   u64 len, u64 in_off)
{
	u64 start, end;
	u8 *src;
	int err;

	if (img->hdr.compression_type != QCOW2_COMPRESSION_ZLIB) {
		skp_log(SKP_LOG_ERR, "%s: zstd-compressed clusters are not "
			"supported", img->path);
		return -EOPNOTSUPP;
	}
	err = ski_compressed_range(img, entry, &start, &end);
	if (err)
		return err;
	if (end - start > 2 * img->cluster_size)
		return ski_corrupt(img, "compressed cluster too long", entry);
	src = ski_io_zalloc(end - start);
	if (!src)
		return -ENOMEM;
	err = skp_pread(img->file, src, end - start, start);
	if (!err)
		err = skp_inflate(src, end - start, img->inflate_buf,
				  img->cluster_size);
	skp_free(src);
	if (err)
		return err == -EINVAL ? ski_corrupt(img, "bad compressed data",
						    entry) : err;
	memcpy(buf, img->inflate_buf + in_off, len);
	return 0;
}

/* How a guest cluster reads, from its L2 entry. */
enum read_kind { READ_DATA, READ_ZERO, READ_BACKING, READ_COMPRESSED };

static enum read_kind read_kind(u64 entry)
{
	if (entry & QCOW2_OFLAG_COMPRESSED)
		return READ_COMPRESSED;
	if (entry & QCOW2_OFLAG_ZERO)
		return READ_ZERO;
	return entry & QCOW2_OFFSET_MASK ? READ_DATA : READ_BACKING;
}

/*
 * Whether guest cluster @k clusters after the one of @entry, whose entry is
 * @next, reads in the same go: zeroes after zeroes, the backing file after
 * the backing file, data that follows the first cluster's in the file.
 */
static bool same_span(const struct ski_image *img, u64 entry, u64 next, u64 k)
{
	enum read_kind kind = read_kind(entry);

	if (kind == READ_COMPRESSED || read_kind(next) != kind)
		return false;
	return kind != READ_DATA ||
	       (next & QCOW2_OFFSET_MASK) ==
	       (entry & QCOW2_OFFSET_MASK) + (k << img->cluster_bits);
}

/*
 * How many bytes from @in_off in guest cluster @gc, whose L2 entry is
 * @entry, up to @len, go in one go (same_span()); with @private, only
 * while each further cluster is the image's own too
 * (ski_entry_is_private()), as a write in place needs.  Sets *@n.
 */
static int span_bytes(struct ski_image *img, u64 gc, u64 entry, u64 in_off,
		      u64 len, bool private, u64 *n)
{
	u64 next, run = img->cluster_size - in_off, k;
	int err;

	for (k = 1; run < len; k++) {
		err = ski_l2_entry(img, gc + k, &next);
		if (err)
			return err;
		if (!same_span(img, entry, next, k) ||
		    (private && !ski_entry_is_private(next)))
			break;
		run += img->cluster_size;
	}
	*n = run < len ? run : len;
	return 0;
}

/*
 * Read @len bytes at guest offset @off, which starts in guest cluster @gc
 * at @in_off: as much of it as reads in one go (same_span()), up to @len.
 * Sets *@done to the bytes read: one file read for a run of data clusters
 * that follow each other in the file, one backing read for a run of
 * clusters the image does not hold.
 */
static int read_span(struct ski_image *img, u64 gc, u8 *buf, u64 len, u64 off,
		     u64 in_off, u64 *done)
{
	u64 entry, n;
	int err;

	err = ski_l2_entry(img, gc, &entry);
	if (!err)
		err = span_bytes(img, gc, entry, in_off, len, false, &n);
	if (err)
		return err;
	*done = n;
	switch (read_kind(entry)) {
	case READ_COMPRESSED:
		return read_compressed(img, entry, buf, n, in_off);
	case READ_ZERO:
		memset(buf, 0, n);
		return 0;
	case READ_BACKING:
		return read_backing(img, buf, n, off);
	case READ_DATA:
		break;
	}
	return skp_pread(img->file, buf, n,
			 (entry & QCOW2_OFFSET_MASK) + in_off);
}

/** ski_read() - read guest bytes [@off, @off + @len) */
int ski_read(struct ski_image *img, void *buf, u64 len, u64 off)
{
	u8 *p = buf;
	u64 n;
	int err;

	if (!ski_guest_range_ok(img, off, len))
		return -EINVAL;
	while (len) {
		err = read_span(img, off >> img->cluster_bits, p, len, off,
				off & (img->cluster_size - 1), &n);
		if (err)
			return err;
		p += n;
		off += n;
		len -= n;
	}
	return 0;
}

/** ski_block_status() - what guest cluster @guest_cluster is */
int ski_block_status(struct ski_image *img, u64 guest_cluster,
		     enum ski_cluster_kind *kind, u64 *host)
{
	u64 entry;
	int err = ski_l2_entry(img, guest_cluster, &entry);

	*host = 0;
	if (err)
		return err;
	if (entry & QCOW2_OFLAG_COMPRESSED) {
		u64 end;

		*kind = SKI_COMPRESSED;
		return ski_compressed_range(img, entry, host, &end);
	}
	if (entry & QCOW2_OFLAG_ZERO) {
		*kind = SKI_ZERO;
		*host = entry & QCOW2_OFFSET_MASK;	/* preallocated, or 0 */
	} else if (entry & QCOW2_OFFSET_MASK) {
		*kind = SKI_DATA;
		*host = entry & QCOW2_OFFSET_MASK;
	} else {
		*kind = SKI_UNALLOCATED;
	}
	return 0;
}

/*
 * Whether the guest cluster of L2 entry @entry may take I/O its caller
 * does itself at the entry's host offset: plain data of this file, and for
 * a write, data this image alone owns (written in place, nothing to map).
 */
static bool data_direct(u64 entry, bool write)
{
	if (write)
		return ski_entry_is_private(entry);
	return read_kind(entry) == READ_DATA;
}

/**
 * ski_map_data() - where guest bytes lie in the image file, for a caller
 *	that reads or writes them itself (splitkit_back's asynchronous I/O)
 * @img: the image
 * @off: guest offset, bytes
 * @len: bytes wanted, > 0
 * @write: the caller will write them; each cluster must then be one this
 *	image alone owns (QCOW2_OFLAG_COPIED), which a write changes in
 *	place with no L2 or refcount update
 * @host: set to the file offset of guest byte @off
 * @n: set to how many bytes from @off (at most @len) lie one after the
 *	other from @host in the file: a run of data clusters that follow
 *	each other there
 *
 * The caller loops until @len is covered, then does the I/O on the file
 * with the image unlocked.  It must not let a cluster it got here be
 * freed while its I/O runs: ski_set_free_hook() tells it when one is
 * about to be.  While a long operation (ops.h) runs, the caller must also
 * have ended that I/O before each ski_op_step() and before its relock
 * hook (ski_op_set_unlock()) returns: a write mapped here marks the
 * clusters an unlocked copy is moving (ski_op_note_change()), and the
 * step copies them again once it has the lock back, so the write must
 * have landed by then.
 *
 * Context: the image's lock held; may read L2 tables from the file.
 * Return: 0; -EAGAIN when guest byte @off is not plain data of this file
 * (unallocated, a zero cluster, compressed; for a write also a cluster
 * shared with a snapshot or not marked as the image's own), or lies
 * where a running commit sends guest I/O to the parent: then ski_read()
 * or ski_write() serves it; -EINVAL for a range outside the disk; -EROFS
 * for a write to a read-only image; -EUCLEAN for a write a damaged L2
 * entry would put on the image's metadata (overlap.c); or the -errno of
 * reading an L2 table.
 */
int ski_map_data(struct ski_image *img, u64 off, u64 len, bool write,
		 u64 *host, u64 *n)
{
	u64 gc = off >> img->cluster_bits, in_off, entry;
	int err;

	if (!len || !ski_guest_range_ok(img, off, len))
		return -EINVAL;
	if (write && !img->writable)
		return -EROFS;
	/* below a commit's cursor the parent serves: io.c's redirection */
	if (img->commit_to && gc < img->commit_below)
		return -EAGAIN;
	err = ski_l2_entry(img, gc, &entry);
	if (err)
		return err;
	if (!data_direct(entry, write))
		return -EAGAIN;
	in_off = off & (img->cluster_size - 1);
	err = span_bytes(img, gc, entry, in_off, len, write, n);
	if (err)
		return err;
	*host = (entry & QCOW2_OFFSET_MASK) + in_off;
	if (write) {
		err = ski_overlap_check(img, *host, *n, SKI_RMAP_FREE,
					"a guest write");
		if (err)
			return err;
		ski_op_note_change(img, *host, *n);
	}
	return 0;
}

/**
 * ski_map_data_in() - ski_map_data() that also follows a finished commit
 * @img: the image
 * @off: guest offset, bytes
 * @len: bytes wanted, > 0
 * @write: as for ski_map_data()
 * @host: set to the file offset of guest byte @off in *@in's file
 * @n: as for ski_map_data()
 * @in: set to the image whose file holds the bytes: @img, or, once a
 *	commit of @img has finished (the parent then serves every guest
 *	request, merge.c), the image that serves them, found the same way
 *
 * The caller's rules of ski_map_data() hold for *@in as for @img: its free
 * hook (ski_set_free_hook() on *@in) must wait for the caller's I/O on its
 * clusters, and a write mapped here marks the clusters an operation on
 * *@in is moving.
 *
 * Context: the image's lock held (the chain shares it).
 * Return: as ski_map_data().
 */
int ski_map_data_in(struct ski_image *img, u64 off, u64 len, bool write,
		    u64 *host, u64 *n, struct ski_image **in)
{
	*in = ski_serving(img);
	return ski_map_data(*in, off, len, write, host, n);
}

/**
 * ski_set_free_hook() - be told before a cluster of the image's file is
 *	freed
 * @img: the image
 * @fn: called (the image's lock held, as in the call that frees) before
 *	a host cluster's refcount is set to 0 and the cluster may be punched
 *	or reused; NULL for none
 * @arg: passed to @fn
 *
 * For a caller doing I/O on clusters ski_map_data() gave it: @fn waits for
 * that I/O to end, so a read never returns, and a write never lands in,
 * what the cluster holds next.
 */
void ski_set_free_hook(struct ski_image *img, void (*fn)(void *arg),
		       void *arg)
{
	img->free_hook = fn;
	img->free_hook_arg = arg;
}

/* ---- writes ------------------------------------------------------------- */


/**
 * ski_data_run_write() - write out the pending run of new clusters, if any
 * @img: writable image
 * @r: the run; empty after
 *
 * Return: 0 or a negative errno.
 */
int ski_data_run_write(struct ski_image *img, struct ski_data_run *r)
{
	int err = 0;

	if (r->len)
		err = skp_pwrite(img->file, r->src, r->len, r->host);
	r->len = 0;
	return err;
}

/**
 * ski_data_run_add() - add a whole new cluster to a run of them
 * @img: writable image
 * @r: the run
 * @src: the cluster's bytes, which stay valid until the run is written
 * @host: its file offset, bytes
 *
 * Joins the run when @host and @src follow it, else writes the run out
 * and starts a new one.  Return: 0 or a negative errno.
 */
int ski_data_run_add(struct ski_image *img, struct ski_data_run *r,
		     const u8 *src, u64 host)
{
	int err;

	if (r->len && r->host + r->len == host && r->src + r->len == src) {
		r->len += img->cluster_size;
		return 0;
	}
	err = ski_data_run_write(img, r);
	r->host = host;
	r->src = src;
	r->len = img->cluster_size;
	return err;
}

/*
 * Write up to SKI_WRITE_BATCH clusters: in place where the cluster is ours
 * alone, otherwise into freshly allocated clusters that are mapped only after
 * a flush, with the replaced clusters released after a second flush.
 */
static int write_batch(struct ski_image *img, const u8 *buf, u64 len,
		       u64 off, u64 *done)
{
	struct ski_pending_map *pend = img->pending;
	struct ski_release rel = { 0 };
	struct ski_data_run run = { 0 };
	unsigned int nr = 0, i;
	bool release = false;
	u64 pos = 0;
	int err = 0;

	while (pos < len && nr < SKI_WRITE_BATCH) {
		u64 gc = (off + pos) >> img->cluster_bits;
		u64 in_off = (off + pos) & (img->cluster_size - 1);
		u64 n = img->cluster_size - in_off, entry, cluster;

		if (n > len - pos)
			n = len - pos;
		err = ski_l2_entry(img, gc, &entry);
		if (err)
			return err;
		if (ski_entry_is_private(entry)) {
			u64 host = (entry & QCOW2_OFFSET_MASK) + in_off;

			err = ski_overlap_check(img, host, n, SKI_RMAP_FREE,
						"a guest write");
			if (err)
				return err;
			ski_op_note_change(img, host, n);
			err = skp_pwrite(img->file, buf + pos, n, host);
			if (err)
				return err;
			pos += n;
			continue;
		}
		/* Copy-on-write into a new cluster. */
		err = ski_ensure_l2(img, gc / img->l2_entries);
		if (err)
			return err;
		if (n != img->cluster_size) {
			u64 whole = img->cluster_size;

			if ((gc << img->cluster_bits) + whole > img->hdr.size)
				whole = img->hdr.size -
					(gc << img->cluster_bits);
			memset(img->cow_buf, 0, img->cluster_size);
			err = ski_read(img, img->cow_buf, whole,
				       gc << img->cluster_bits);
			if (err)
				return err;
			memcpy(img->cow_buf + in_off, buf + pos, n);
		}
		err = ski_alloc_cluster(img, &cluster);
		if (err)
			return err;
		if (n == img->cluster_size) {
			err = ski_data_run_add(img, &run, buf + pos,
					   cluster << img->cluster_bits);
		} else {
			/* cow_buf is used again for the next partial one */
			err = ski_data_run_write(img, &run);
			if (!err)
				err = skp_pwrite(img->file, img->cow_buf,
						 img->cluster_size,
						 cluster << img->cluster_bits);
		}
		if (err)
			return err;
		pend[nr].guest_cluster = gc;
		pend[nr].old_entry = entry;
		pend[nr].new_entry = (cluster << img->cluster_bits) |
				     QCOW2_OFLAG_COPIED;
		if ((entry & QCOW2_OFFSET_MASK) ||
		    (entry & QCOW2_OFLAG_COMPRESSED))
			release = true;
		nr++;
		pos += n;
	}
	if (nr) {
		err = ski_data_run_write(img, &run);
		/* nothing replaced: mapped in the cache, the file later */
		for (i = 0; !err && !release && i < nr; i++)
			err = ski_l2_defer(img, pend[i].guest_cluster,
					   pend[i].new_entry);
		if (!err && release)
			err = skp_flush(img->file);
		for (i = 0; !err && release && i < nr; i++)
			err = ski_set_l2_entry(img, pend[i].guest_cluster,
					       pend[i].new_entry);
		if (!err && release)
			err = skp_flush(img->file);
		for (i = 0; !err && release && i < nr; i++)
			err = ski_release_entry(img, pend[i].old_entry, &rel);
		ski_release_end(img, &rel);
	}
	*done = pos;
	return err;
}

/*
 * Bytes of [@off, @off + @len) that a running commit sends to the parent:
 * the part below its cursor, where the child holds nothing any more and
 * must not again, or the commit could never end under a writing guest.
 */
static u64 commit_bytes(const struct ski_image *img, u64 off, u64 len)
{
	u64 below;

	if (!img->commit_to)
		return 0;
	below = img->commit_below << img->cluster_bits;
	if (off >= below)
		return 0;
	return below - off < len ? below - off : len;
}

/** ski_write() - write guest bytes [@off, @off + @len) */
int ski_write(struct ski_image *img, const void *buf, u64 len, u64 off)
{
	const u8 *p = buf;
	u64 done;
	int err;

	if (!img->writable)
		return -EROFS;
	if (!ski_guest_range_ok(img, off, len))
		return -EINVAL;
	done = commit_bytes(img, off, len);
	if (done) {
		err = ski_write(img->commit_to, p, done, off);
		if (err)
			return err;
		p += done;
		off += done;
		len -= done;
	}
	while (len) {
		err = write_batch(img, p, len, off, &done);
		if (err)
			return err;
		p += done;
		off += done;
		len -= done;
	}
	return 0;
}

/* Could a backing file show through an unallocated cluster? */
static bool may_show_backing(const struct ski_image *img)
{
	return img->backing || img->backing_raw || img->hdr.backing_file[0];
}

/*
 * Point guest clusters [@first, @last) at @new_entry (0 or a zero cluster)
 * and release what they held, after a flush.  No range check: ski_grow()
 * also zeroes clusters just past the virtual size it is about to set.
 */
int ski_drop_clusters(struct ski_image *img, u64 first, u64 last,
		      u64 new_entry)
{
	u64 gc, entry, old[SKI_DISCARD_BATCH];
	struct ski_release rel = { 0 };
	unsigned int nr = 0, i;
	int err = 0;

	for (gc = first; gc < last; gc++) {
		err = ski_l2_entry(img, gc, &entry);
		if (err)
			break;
		if (entry == new_entry)
			continue;
		err = ski_set_l2_entry(img, gc, new_entry);
		if (err)
			break;
		old[nr++] = entry;
		if (nr == SKI_DISCARD_BATCH) {
			err = skp_flush(img->file);
			for (i = 0; !err && i < nr; i++)
				err = ski_release_entry(img, old[i], &rel);
			ski_release_end(img, &rel);
			nr = 0;
			if (err)
				break;
		}
	}
	/* Flush even on error: a cleared entry may be on its way to disk. */
	if (nr) {
		int ferr = skp_flush(img->file);

		for (i = 0; !ferr && !err && i < nr; i++)
			err = ski_release_entry(img, old[i], &rel);
		ski_release_end(img, &rel);
		if (!err)
			err = ferr;
	}
	return err;
}

/**
 * ski_discard() - drop the whole clusters inside [@off, @off + @len)
 * @img: writable image
 * @off: guest offset
 * @len: bytes
 *
 * A discarded cluster reads as zeroes: it becomes a zero cluster when a
 * backing file could otherwise show through, unallocated when not.  Its host
 * cluster is released after the L2 change is flushed.  Partial clusters at
 * either end are left alone (a guest's discard is only a hint);
 * ski_write_zeroes() is the one that must read as zeroes afterwards.
 */
int ski_discard(struct ski_image *img, u64 off, u64 len)
{
	u64 first, last, start, end, below;

	if (!img->writable)
		return -EROFS;
	if (!ski_guest_range_ok(img, off, len))
		return -EINVAL;
	first = (off + img->cluster_size - 1) >> img->cluster_bits;
	last = (off + len) >> img->cluster_bits;
	if (off + len == img->hdr.size)
		last = img->guest_clusters;
	if (first >= last)
		return 0;
	/*
	 * Below a running commit's cursor the whole clusters must read zero
	 * whatever the parent's cluster size: zeroes in the parent, not a
	 * parent discard.
	 */
	start = first << img->cluster_bits;
	end = last << img->cluster_bits;
	if (end > img->hdr.size)
		end = img->hdr.size;
	below = commit_bytes(img, start, end - start);
	if (below) {
		int err = ski_write_zeroes(img->commit_to, start, below);

		if (err)
			return err;
		first = (start + below + img->cluster_size - 1) >>
			img->cluster_bits;
		if (first >= last)
			return 0;
	}
	return ski_drop_clusters(img, first, last,
				 may_show_backing(img) ? QCOW2_OFLAG_ZERO : 0);
}

/* Zeroes written in place of a partial cluster, a chunk at a time. */
static const u8 zero_chunk[4096];

/*
 * Make [@off, @end) of one guest cluster read as zeroes: nothing to do when
 * the whole cluster already does, else zeroes written (copy-on-write as any
 * write).  No range check: ski_grow() zeroes the tail of the last cluster,
 * past the virtual size, before it raises the size.
 */
int ski_zero_partial(struct ski_image *img, u64 off, u64 end)
{
	u64 entry, done;
	int err;

	err = ski_l2_entry(img, off >> img->cluster_bits, &entry);
	if (err)
		return err;
	if ((entry & QCOW2_OFLAG_ZERO) && !(entry & QCOW2_OFLAG_COMPRESSED))
		return 0;
	if (!entry && !may_show_backing(img))
		return 0;
	while (off < end) {
		u64 n = end - off;

		if (n > sizeof(zero_chunk))
			n = sizeof(zero_chunk);
		err = write_batch(img, zero_chunk, n, off, &done);
		if (err)
			return err;
		off += done;
	}
	return 0;
}

/**
 * ski_write_zeroes() - make guest bytes [@off, @off + @len) read as zeroes
 * @img: writable image
 * @off: guest offset, any alignment
 * @len: bytes
 *
 * Whole clusters become zero clusters (or unallocated, as ski_discard()
 * does); the parts of clusters at either end are written with zeroes, so
 * the whole range reads zero whatever this image's cluster size is.  This
 * is what a zero cluster of a child with other-sized clusters becomes in its
 * parent on commit.
 *
 * Return: 0 or a negative errno.
 */
int ski_write_zeroes(struct ski_image *img, u64 off, u64 len)
{
	u64 mask = img->cluster_size - 1, end, head_end, tail;
	int err;

	if (!img->writable)
		return -EROFS;
	if (!ski_guest_range_ok(img, off, len))
		return -EINVAL;
	head_end = commit_bytes(img, off, len);
	if (head_end) {
		err = ski_write_zeroes(img->commit_to, off, head_end);
		if (err)
			return err;
		off += head_end;
		len -= head_end;
	}
	if (!len)
		return 0;
	end = off + len;
	/* The last cluster counts as whole when the range reaches the end. */
	if (end == img->hdr.size)
		end = img->guest_clusters << img->cluster_bits;
	head_end = (off + mask) & ~mask;
	if (head_end > end)
		head_end = end;
	tail = end & ~mask;
	if (tail < head_end)
		tail = head_end;
	if (off < head_end) {
		err = ski_zero_partial(img, off, head_end < img->hdr.size ?
				       head_end : img->hdr.size);
		if (err)
			return err;
	}
	if (head_end < tail) {
		err = ski_drop_clusters(img, head_end >> img->cluster_bits,
					tail >> img->cluster_bits,
					may_show_backing(img) ?
					QCOW2_OFLAG_ZERO : 0);
		if (err)
			return err;
	}
	if (tail < end)
		return ski_zero_partial(img, tail, end);
	return 0;
}
