// SPDX-License-Identifier: GPL-2.0
/*
 * Header rewrite and the embedded VM information of an open image.
 *
 * The header cluster is rebuilt in memory (header.c) and written with one
 * write between two flushes; the VM information (vminfo.c) lives in it as
 * splitkit's header extension.
 */
#include "image_priv.h"

/**
 * ski_update_header() - rewrite the header cluster from img->hdr
 * @img: writable image
 *
 * The header, extensions and backing name are built in memory and written
 * with one write after a flush; the fields that locate metadata all sit in
 * the first 112 bytes, which a single sector write replaces atomically.
 */
int ski_update_header(struct ski_image *img)
{
	int err;

	err = ski_header_build(&img->hdr, img->scratch, img->cluster_size);
	if (err) {
		skp_log(SKP_LOG_ERR, "%s: header does not fit in one cluster",
			img->path);
		return err;
	}
	err = skp_flush(img->file);
	if (!err)
		err = skp_pwrite(img->file, img->scratch, img->cluster_size, 0);
	if (!err)
		err = skp_flush(img->file);
	return err;
}

/** ski_set_vminfo() - store @info (NULL drops it) in the header */
int ski_set_vminfo(struct ski_image *img, const struct ski_vminfo *info)
{
	u8 *buf;
	size_t used = 0;
	int err;

	if (!img->writable)
		return -EROFS;
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

/** ski_note_history() - append an operation to the VM history */
int ski_note_history(struct ski_image *img, const char *op, const char *note)
{
	struct ski_vminfo *info = skp_zalloc(sizeof(*info));
	int err = 0;

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
	return err;
}
