// SPDX-License-Identifier: GPL-2.0
/*
 * Header rewrite and the embedded VM information of an open image.
 *
 * The header cluster is rebuilt in memory (header.c) and written between
 * flushes: one write when it ends within the first sector, else through a
 * one-sector bridge header (build_bridge()); the VM information (vminfo.c)
 * lives in it as splitkit's header extension.
 */
#include "image_priv.h"

#define SKI_SECTOR	512

/* Bytes of @buf up to its last non-zero one. */
static size_t used_bytes(const u8 *buf, size_t len)
{
	while (len && !buf[len - 1])
		len--;
	return len;
}

/*
 * The bridge header of a rewrite: img->hdr in the first sector alone, with
 * the VM information now on disk if that fits there, else with none (and
 * without the required bit, which would refuse an image without it).
 * Return: 0, or -ENOSPC when even that does not fit in one sector.
 */
static int build_bridge(struct ski_image *img, u8 *sector)
{
	/* Two headers are too big for a kernel stack. */
	struct {
		struct ski_header bridge, old;
	} *h = skp_zalloc(sizeof(*h));
	const char *reason;
	u8 *raw;
	int err = -ENOMEM;

	raw = skp_zalloc(img->cluster_size);
	if (!h || !raw)
		goto free_bufs;
	h->bridge = img->hdr;
	err = skp_pread(img->file, raw, img->cluster_size, 0);
	if (!err)
		err = ski_header_parse(raw, img->cluster_size, &h->old,
				       &reason);
	if (!err) {
		h->bridge.vminfo = h->old.vminfo;
		h->bridge.vminfo_len = h->old.vminfo_len;
		err = ski_header_build(&h->bridge, sector, SKI_SECTOR);
	}
	/* a parse that failed may have allocated extensions too */
	ski_header_release(&h->old);
	if (!err)
		goto free_bufs;
	h->bridge.vminfo = NULL;
	h->bridge.vminfo_len = 0;
	h->bridge.incompatible_features &= ~QCOW2_INCOMPAT_SPLITKIT_REQUIRED;
	err = ski_header_build(&h->bridge, sector, SKI_SECTOR);
free_bufs:
	skp_free(raw);
	skp_free(h);
	return err;
}

/**
 * ski_update_header() - rewrite the header cluster from img->hdr
 * @img: writable image
 *
 * The fields that locate metadata sit in the first 112 bytes, but the
 * extension chain and the backing file name follow, and a disk writes only
 * a sector atomically.  A header that ends within the first sector is one
 * write between two flushes.  A longer one (VM information) written in one
 * go could be torn by a power cut into a new first sector pointing at a
 * backing file name the old tail still holds, which loses the backing chain.
 * So it goes in three flushed steps, each one sector or unreferenced: a
 * bridge header in the first sector alone (build_bridge()), the new tail
 * (sectors the bridge does not reference), then the new first sector.
 */
int ski_update_header(struct ski_image *img)
{
	u8 *bridge;
	int err;

	/* a new backing file or size changes what unmapped clusters read */
	err = ski_l2_sync(img);
	if (err)
		return err;

	err = ski_header_build(&img->hdr, img->scratch, img->cluster_size);
	if (err) {
		skp_log(SKP_LOG_ERR, "%s: header does not fit in one cluster",
			img->path);
		return err;
	}
	err = skp_flush(img->file);
	if (err)
		return err;
	if (img->cluster_size > SKI_SECTOR &&
	    used_bytes(img->scratch, img->cluster_size) > SKI_SECTOR) {
		bridge = skp_zalloc(SKI_SECTOR);
		if (!bridge)
			return -ENOMEM;
		err = build_bridge(img, bridge);
		if (err != -ENOSPC) {
			if (!err)
				err = skp_pwrite(img->file, bridge,
						 SKI_SECTOR, 0);
			skp_free(bridge);
			if (!err)
				err = skp_flush(img->file);
			if (!err)
				err = skp_pwrite(img->file,
						 img->scratch + SKI_SECTOR,
						 img->cluster_size - SKI_SECTOR,
						 SKI_SECTOR);
			if (!err)
				err = skp_flush(img->file);
			if (!err)
				err = skp_pwrite(img->file, img->scratch,
						 SKI_SECTOR, 0);
			if (!err)
				err = skp_flush(img->file);
			return err;
		}
		skp_free(bridge);
		/* No bridge fits (a very long backing name): one write. */
	}
	err = skp_pwrite(img->file, img->scratch, img->cluster_size, 0);
	if (!err)
		err = skp_flush(img->file);
	return err;
}

/**
 * ski_set_vminfo() - store @info (NULL drops it) in the header
 * @img: an image open for writing
 * @info: the VM information it carries from now on
 *
 * VM information the image already has and this version could not read
 * (a newer version's, a bad checksum: the open warned "ignoring VM
 * information") is not replaced unless ski_vminfo_forget() said so: its
 * fields, policy among them, would be lost.
 *
 * Return: 0, -EROFS, -EPERM for such unread information, -ENOSPC when
 * @info does not fit, or an I/O error.
 */
int ski_set_vminfo(struct ski_image *img, const struct ski_vminfo *info)
{
	u8 *buf;
	size_t used = 0;
	int err;

	if (!img->writable)
		return -EROFS;
	if (img->vminfo_unread) {
		skp_log(SKP_LOG_ERR, "%s: VM information this version cannot read is kept, not replaced",
			img->path);
		return -EPERM;
	}
	buf = skp_zalloc(SKI_VMINFO_MAX_LEN);
	if (!buf)
		return -ENOMEM;
	if (info) {
		err = ski_vminfo_encode(info, buf, SKI_VMINFO_MAX_LEN, &used);
		if (err)
			goto free_buf;
	}
	err = ski_header_set_vminfo(&img->hdr, buf, used);
	if (err)
		goto free_buf;
	if (info && info->flags & SKI_VMINFO_F_REQUIRED) {
		img->hdr.incompatible_features |=
			QCOW2_INCOMPAT_SPLITKIT_REQUIRED;
		err = ski_header_name_feature(&img->hdr, 0,
					      SKI_REQUIRED_FEATURE_BIT,
					      SKI_REQUIRED_FEATURE_NAME);
		if (err)
			goto free_buf;
	} else
		img->hdr.incompatible_features &=
			~QCOW2_INCOMPAT_SPLITKIT_REQUIRED;
	err = ski_update_header(img);
	if (err)
		goto free_buf;
	if (img->has_vminfo)
		ski_vminfo_free(&img->vminfo);
	img->has_vminfo = false;
	if (info) {
		err = ski_vminfo_copy(&img->vminfo, info);
		img->has_vminfo = !err;
	}
free_buf:
	skp_free(buf);
	return err;
}

/**
 * ski_vminfo_forget() - let the next ski_set_vminfo() replace VM
 *	information this version could not read
 * @img: an open image
 *
 * For an administrator's explicit replacement ('img meta set --force').
 */
void ski_vminfo_forget(struct ski_image *img)
{
	img->vminfo_unread = false;
}

/**
 * ski_note_history() - append an operation to the VM history
 * @img: an image open for writing
 * @op: what happened ("attached", "compacted", ...)
 * @note: a detail (a domain name), or NULL
 *
 * An image whose VM information this version cannot read keeps it
 * untouched: nothing is recorded.  Nor is a record for which there is no
 * room even once the oldest record went (fields fill the 64 entries or
 * the header cluster): a warning says so, and the operation recorded
 * stands.
 *
 * Return: 0, or the errors of ski_set_vminfo() but -ENOSPC.
 */
int ski_note_history(struct ski_image *img, const char *op, const char *note)
{
	struct ski_vminfo *info;
	int err = 0;

	if (img->vminfo_unread)
		return 0;
	info = skp_zalloc(sizeof(*info));
	if (!info)
		return -ENOMEM;
	if (img->has_vminfo)
		err = ski_vminfo_copy(info, &img->vminfo);
	if (!err)
		err = ski_vminfo_add_history(info, op, skp_time(), note);
	if (!err)
		err = ski_set_vminfo(img, info);
	ski_vminfo_free(info);
	skp_free(info);
	/*
	 * No room even without the oldest record (fields fill the area or
	 * the header cluster): the operation itself is done and stands.
	 */
	if (err == -ENOSPC) {
		skp_log(SKP_LOG_WARN, "%s: no room for the history record '%s' in its VM information",
			img->path, op);
		err = 0;
	}
	return err;
}
