// SPDX-License-Identifier: GPL-2.0
/*
 * Growing the virtual size of an open image, crash-safely: what commit
 * does to a parent smaller than its child (as qemu-img commit does), and
 * what qemu-img resize does to grow an image.
 *
 * The new size is the last thing written.  Before it, while everything
 * past the old size is still invisible: the L1 table grows if it must
 * (table.c: ski_grow_l1(), its own flushed switch), the bytes of the old
 * last cluster past the old size are made to read zero, and where a
 * backing file longer than the old size would show through the new
 * clusters, they become zero clusters; one flush; then the 8-byte size
 * field (bytes 24-31, in the first sector) and a flush.  A cut before the
 * size write leaves the image at its old size with at worst unused L1
 * entries, zero entries past its end and leaked clusters; after it, the
 * image has its new size and the new range reads zero, as it must.
 */
#include "endian.h"
#include "image_priv.h"

/* How far a backing file could show through; ~0 when it is not open. */
static u64 backing_reach(const struct ski_image *img)
{
	if (img->backing)
		return img->backing->hdr.size;
	if (img->backing_raw)
		return img->backing_raw_size;
	return img->hdr.backing_file[0] ? ~0ULL : 0;
}

/**
 * ski_grow() - raise the virtual size to @new_size
 * @img: writable image
 * @new_size: bytes, not less than the size now
 *
 * Everything from the old size up to @new_size reads as zeroes afterwards,
 * whatever the backing chain holds there.
 *
 * Return: 0, -EINVAL for a smaller size, -EFBIG past what qcow2 allows
 * here, -EROFS, or another negative errno from the file.
 */
int ski_grow(struct ski_image *img, u64 new_size)
{
	u64 old_size = img->hdr.size, mask = img->cluster_size - 1;
	u64 old_clusters = img->guest_clusters, new_clusters, first, last;
	u64 reach = backing_reach(img);
	u8 field[8];
	int err;

	if (!img->writable)
		return -EROFS;
	if (new_size < old_size)
		return -EINVAL;
	if (new_size == old_size)
		return 0;
	if (new_size > QCOW2_MAX_GUEST_SIZE)
		return -EFBIG;
	new_clusters = (new_size + mask) >> img->cluster_bits;
	err = ski_grow_l1(img, (new_clusters + img->l2_entries - 1) /
			  img->l2_entries);
	if (err)
		return err;
	/* The rest of the old last cluster, past the old size. */
	if (old_size & mask) {
		err = ski_zero_partial(img, old_size, (old_size | mask) + 1);
		if (err)
			return err;
	}
	/* Whole new clusters a longer backing file would show through. */
	first = (old_size + mask) >> img->cluster_bits;
	last = reach > new_size ? new_clusters :
	       (reach + mask) >> img->cluster_bits;
	if (first < last) {
		img->guest_clusters = new_clusters;
		err = ski_drop_clusters(img, first, last, QCOW2_OFLAG_ZERO);
		img->guest_clusters = old_clusters;
		if (err)
			return err;
	}
	/*
	 * Zero entries flush their own writes; the mapping of a last cluster
	 * copied on write may wait in the cache (ski_l2_defer()) and must be
	 * in the file before the size, or the backing file shows through
	 * there after a cut; and this flush is for zeroes written in place
	 * into a private last cluster (the tail may hold bytes another
	 * writer left past the old size).
	 */
	err = ski_l2_sync(img);
	if (!err)
		err = skp_flush(img->file);
	if (err)
		return err;
	ski_put_be64(field, new_size);
	err = skp_pwrite(img->file, field, sizeof(field), 24);
	if (!err)
		err = skp_flush(img->file);
	if (err)
		return err;
	img->hdr.size = new_size;
	img->guest_clusters = new_clusters;
	return 0;
}
