// SPDX-License-Identifier: GPL-2.0
/*
 * Creating a new, empty qcow2 version 3 image.
 */
#include "endian.h"
#include "image_priv.h"

/**
 * ski_create() - make a new, empty qcow2 v3 image
 * @path: file to create; must not exist
 * @opts: size, cluster size, backing file, VM information
 *
 * Layout: header, refcount table, refcount blocks, L1 table, each starting
 * on a cluster boundary, refcounts covering exactly those clusters.
 */
int ski_create(const char *path, const struct ski_create_opts *opts)
{
	u32 cluster_bits = opts->cluster_bits ? opts->cluster_bits : 16;
	u64 cs, l2_entries, rb_entries, l1_size, l1_clusters;
	u64 rt_clusters = 1, rb_clusters = 1, total, i;
	struct ski_header hdr;
	struct skp_file *file;
	size_t used;
	u8 *buf;
	int err;

	if (cluster_bits < QCOW2_MIN_CLUSTER_BITS ||
	    cluster_bits > QCOW2_MAX_CLUSTER_BITS ||
	    opts->size > QCOW2_MAX_GUEST_SIZE)
		return -EINVAL;
	cs = 1ULL << cluster_bits;
	l2_entries = cs / 8;
	rb_entries = cs / 2;
	l1_size = ((opts->size + cs - 1) / cs + l2_entries - 1) / l2_entries;
	if (l1_size * 8 > QCOW2_MAX_L1_BYTES)
		return -EFBIG;
	l1_clusters = (l1_size * 8 + cs - 1) / cs;
	for (;;) {
		u64 rb_need, rt_need;

		total = 1 + rt_clusters + rb_clusters + l1_clusters;
		rb_need = (total + rb_entries - 1) / rb_entries;
		rt_need = (rb_need * 8 + cs - 1) / cs;
		if (rb_need == rb_clusters && rt_need == rt_clusters)
			break;
		rb_clusters = rb_need;
		rt_clusters = rt_need;
	}

	memset(&hdr, 0, sizeof(hdr));
	hdr.version = 3;
	hdr.cluster_bits = cluster_bits;
	hdr.size = opts->size;
	hdr.l1_size = l1_size;
	hdr.l1_table_offset = (1 + rt_clusters + rb_clusters) * cs;
	hdr.refcount_table_offset = cs;
	hdr.refcount_table_clusters = rt_clusters;
	hdr.refcount_order = 4;
	hdr.header_length = QCOW2_V3_HEADER_LEN;
	if (opts->backing_file) {
		if (strlen(opts->backing_file) > QCOW2_MAX_BACKING_NAME)
			return -ENAMETOOLONG;
		memcpy(hdr.backing_file, opts->backing_file,
		       strlen(opts->backing_file) + 1);
	}
	if (opts->backing_format) {
		if (strlen(opts->backing_format) > QCOW2_MAX_BACKING_FORMAT)
			return -EINVAL;
		memcpy(hdr.backing_format, opts->backing_format,
		       strlen(opts->backing_format) + 1);
	}

	buf = skp_zalloc(cs > SKI_VMINFO_MAX_LEN ? cs : SKI_VMINFO_MAX_LEN);
	if (!buf)
		return -ENOMEM;
	if (opts->vminfo) {
		err = ski_vminfo_encode(opts->vminfo, buf, SKI_VMINFO_MAX_LEN,
					&used);
		if (!err)
			err = ski_header_set_vminfo(&hdr, buf, used);
		if (err)
			goto free_buf;
		if (opts->vminfo->flags & SKI_VMINFO_F_REQUIRED) {
			hdr.incompatible_features |=
				QCOW2_INCOMPAT_SPLITKIT_REQUIRED;
			err = ski_header_name_feature(&hdr, 0,
						      SKI_REQUIRED_FEATURE_BIT,
						      SKI_REQUIRED_FEATURE_NAME);
			if (err)
				goto free_buf;
		}
	}
	err = ski_header_build(&hdr, buf, cs);
	if (err)
		goto free_buf;
	err = skp_create(path, &file);
	if (err)
		goto free_buf;
	err = skp_pwrite(file, buf, cs, 0);

	/* Refcount table, then blocks counting every initial cluster. */
	memset(buf, 0, cs);
	for (i = 0; !err && i < rt_clusters; i++) {
		u64 j;

		memset(buf, 0, cs);
		for (j = 0; j < l2_entries; j++) {
			u64 idx = i * l2_entries + j;

			if (idx < rb_clusters)
				ski_put_be64(buf + j * 8,
					     (1 + rt_clusters + idx) * cs);
		}
		err = skp_pwrite(file, buf, cs, (1 + i) * cs);
	}
	for (i = 0; !err && i < rb_clusters; i++) {
		u64 j;

		memset(buf, 0, cs);
		for (j = 0; j < rb_entries; j++)
			if (i * rb_entries + j < total)
				ski_put_be16(buf + j * 2, 1);
		err = skp_pwrite(file, buf, cs, (1 + rt_clusters + i) * cs);
	}
	memset(buf, 0, cs);
	for (i = 0; !err && i < l1_clusters; i++)
		err = skp_pwrite(file, buf, cs, hdr.l1_table_offset + i * cs);
	if (!err)
		err = skp_truncate(file, total * cs);
	if (!err)
		err = skp_flush(file);
	skp_close(file);
free_buf:
	ski_header_release(&hdr);
	skp_free(buf);
	return err;
}
