// SPDX-License-Identifier: GPL-2.0
/*
 * Guest I/O on an open image: reads through the backing chain and
 * compressed clusters, copy-on-write writes in batches, discard.
 *
 * Writes follow the core's ordering rule (refcount.c): data goes into a
 * cluster the image alone owns in place, otherwise into a freshly allocated
 * cluster that is mapped only after a flush, and what it replaced is
 * released only after a second flush.  Compressed clusters are inflated
 * through the platform layer (skp_inflate(): zlib in both worlds).
 */
#include "image_priv.h"

#define SKI_DISCARD_BATCH	32

static int read_backing(struct ski_image *img, void *buf, u64 len, u64 off)
{
	u64 size, avail;

	if (img->backing)
		size = img->backing->hdr.size;
	else if (img->backing_raw)
		size = img->backing_raw_size;
	else
		size = 0;
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
	src = skp_zalloc(end - start);
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

/* Read @len bytes at @in_off inside guest cluster @gc; never crosses it. */
static int read_in_cluster(struct ski_image *img, u64 gc, void *buf, u64 len,
			   u64 in_off)
{
	u64 entry;
	int err;

	err = ski_l2_entry(img, gc, &entry);
	if (err)
		return err;
	if (entry & QCOW2_OFLAG_COMPRESSED)
		return read_compressed(img, entry, buf, len, in_off);
	if (entry & QCOW2_OFLAG_ZERO) {
		memset(buf, 0, len);
		return 0;
	}
	if (!(entry & QCOW2_OFFSET_MASK))
		return read_backing(img, buf, len,
				    (gc << img->cluster_bits) + in_off);
	return skp_pread(img->file, buf, len,
			 (entry & QCOW2_OFFSET_MASK) + in_off);
}

/** ski_read() - read guest bytes [@off, @off + @len) */
int ski_read(struct ski_image *img, void *buf, u64 len, u64 off)
{
	u8 *p = buf;
	int err;

	if (!ski_guest_range_ok(img, off, len))
		return -EINVAL;
	while (len) {
		u64 gc = off >> img->cluster_bits;
		u64 in_off = off & (img->cluster_size - 1);
		u64 n = img->cluster_size - in_off;

		if (n > len)
			n = len;
		err = read_in_cluster(img, gc, p, n, in_off);
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

/* ---- writes ------------------------------------------------------------- */


/*
 * Write up to SKI_WRITE_BATCH clusters: in place where the cluster is ours
 * alone, otherwise into freshly allocated clusters that are mapped only after
 * a flush, with the replaced clusters released after a second flush.
 */
static int write_batch(struct ski_image *img, const u8 *buf, u64 len,
		       u64 off, u64 *done)
{
	struct ski_pending_map *pend = img->pending;
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
			err = skp_pwrite(img->file, buf + pos, n,
					 (entry & QCOW2_OFFSET_MASK) + in_off);
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
		err = skp_pwrite(img->file,
				 n == img->cluster_size ? buf + pos :
				 img->cow_buf, img->cluster_size,
				 cluster << img->cluster_bits);
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
		err = skp_flush(img->file);
		for (i = 0; !err && i < nr; i++)
			err = ski_set_l2_entry(img, pend[i].guest_cluster,
					       pend[i].new_entry);
		if (!err && release)
			err = skp_flush(img->file);
		for (i = 0; !err && release && i < nr; i++)
			err = ski_release_entry(img, pend[i].old_entry);
	}
	*done = pos;
	return err;
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

/**
 * ski_discard() - drop the whole clusters inside [@off, @off + @len)
 * @img: writable image
 * @off: guest offset
 * @len: bytes
 *
 * A discarded cluster reads as zeroes: it becomes a zero cluster when a
 * backing file could otherwise show through, unallocated when not.  Its host
 * cluster is released after the L2 change is flushed.
 */
int ski_discard(struct ski_image *img, u64 off, u64 len)
{
	u64 first, last, gc, entry, new_entry;
	u64 old[SKI_DISCARD_BATCH];
	unsigned int nr = 0, i;
	int err = 0;

	if (!img->writable)
		return -EROFS;
	if (!ski_guest_range_ok(img, off, len))
		return -EINVAL;
	first = (off + img->cluster_size - 1) >> img->cluster_bits;
	last = (off + len) >> img->cluster_bits;
	if (off + len == img->hdr.size)
		last = img->guest_clusters;
	new_entry = (img->backing || img->backing_raw ||
		     img->hdr.backing_file[0]) ? QCOW2_OFLAG_ZERO : 0;
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
		if (nr == SKI_DISCARD_BATCH || gc + 1 == last) {
			err = skp_flush(img->file);
			for (i = 0; !err && i < nr; i++)
				err = ski_release_entry(img, old[i]);
			nr = 0;
			if (err)
				break;
		}
	}
	if (!err && nr) {
		err = skp_flush(img->file);
		for (i = 0; !err && i < nr; i++)
			err = ski_release_entry(img, old[i]);
	}
	return err;
}
