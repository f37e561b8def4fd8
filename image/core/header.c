// SPDX-License-Identifier: GPL-2.0
/*
 * qcow2 header cluster: parse it into struct ski_header and build it back.
 *
 * The header cluster comes from a file a guest may have crafted, so every
 * length and offset is checked against the buffer before use and the parser
 * never trusts a field it has not bounded.  The builder writes the fixed
 * header, the extensions we keep (backing format, splitkit VM information,
 * the feature-name table and unknown extensions verbatim), the end marker and
 * the backing file name, all inside one cluster.
 */
#include "endian.h"
#include "qcow2.h"

static int fail(const char **reason, const char *why)
{
	if (reason)
		*reason = why;
	return -EINVAL;
}

static bool ext_is_dropped(u32 type)
{
	return type == QCOW2_EXT_BACKING_FORMAT ||
	       type == QCOW2_EXT_SPLITKIT_VMINFO;
}

static int parse_fixed(const u8 *buf, size_t len, struct ski_header *hdr,
		       const char **reason)
{
	if (len < QCOW2_V3_HEADER_MIN)
		return fail(reason, "file too short for a qcow2 header");
	if (ski_get_be32(buf) != QCOW2_MAGIC)
		return fail(reason, "not a qcow2 image (bad magic)");
	hdr->version = ski_get_be32(buf + 4);
	if (hdr->version != 3)
		return fail(reason, "only qcow2 version 3 is supported "
			    "(qemu-img amend -o compat=1.1 upgrades)");
	hdr->cluster_bits = ski_get_be32(buf + 20);
	if (hdr->cluster_bits < QCOW2_MIN_CLUSTER_BITS ||
	    hdr->cluster_bits > QCOW2_MAX_CLUSTER_BITS)
		return fail(reason, "cluster size out of range");
	hdr->size = ski_get_be64(buf + 24);
	if (hdr->size > QCOW2_MAX_GUEST_SIZE)
		return fail(reason, "virtual size too large");
	hdr->crypt_method = ski_get_be32(buf + 32);
	hdr->l1_size = ski_get_be32(buf + 36);
	hdr->l1_table_offset = ski_get_be64(buf + 40);
	hdr->refcount_table_offset = ski_get_be64(buf + 48);
	hdr->refcount_table_clusters = ski_get_be32(buf + 56);
	hdr->nb_snapshots = ski_get_be32(buf + 60);
	hdr->snapshots_offset = ski_get_be64(buf + 64);
	hdr->incompatible_features = ski_get_be64(buf + 72);
	hdr->compatible_features = ski_get_be64(buf + 80);
	hdr->autoclear_features = ski_get_be64(buf + 88);
	hdr->refcount_order = ski_get_be32(buf + 96);
	hdr->header_length = ski_get_be32(buf + 100);
	return 0;
}

static int check_fixed(struct ski_header *hdr, size_t len,
		       const char **reason)
{
	u64 cluster_size = 1ULL << hdr->cluster_bits;
	u64 l2_entries = cluster_size / 8;
	u64 guest_clusters, l1_needed;

	if (hdr->header_length < QCOW2_V3_HEADER_MIN ||
	    hdr->header_length > cluster_size || hdr->header_length > len)
		return fail(reason, "header length out of range");
	if (hdr->refcount_order > 6)
		return fail(reason, "refcount order out of range");
	if (hdr->l1_table_offset & (cluster_size - 1))
		return fail(reason, "L1 table offset not cluster aligned");
	if ((u64)hdr->l1_size * 8 > QCOW2_MAX_L1_BYTES)
		return fail(reason, "L1 table too large");
	guest_clusters = (hdr->size + cluster_size - 1) >> hdr->cluster_bits;
	l1_needed = (guest_clusters + l2_entries - 1) / l2_entries;
	if (hdr->l1_size < l1_needed)
		return fail(reason, "L1 table too small for the virtual size");
	if (hdr->l1_size && !hdr->l1_table_offset)
		return fail(reason, "L1 table at offset 0");
	if (hdr->l1_table_offset > QCOW2_OFFSET_MASK)
		return fail(reason, "L1 table offset out of range");
	if (hdr->refcount_table_offset & (cluster_size - 1) ||
	    !hdr->refcount_table_offset ||
	    hdr->refcount_table_offset > QCOW2_OFFSET_MASK)
		return fail(reason, "refcount table offset invalid");
	if (!hdr->refcount_table_clusters ||
	    ((u64)hdr->refcount_table_clusters << hdr->cluster_bits) >
	    QCOW2_MAX_REFTABLE_BYTES)
		return fail(reason, "refcount table size out of range");
	if (hdr->incompatible_features & ~QCOW2_INCOMPAT_KNOWN)
		return fail(reason, "unknown incompatible feature bits set");
	return 0;
}

static int parse_ext(struct ski_header *hdr, u32 type, const u8 *data,
		     u32 dlen, const char **reason)
{
	struct ski_raw_ext *raw;

	switch (type) {
	case QCOW2_EXT_BACKING_FORMAT:
		if (dlen > QCOW2_MAX_BACKING_FORMAT)
			return fail(reason, "backing format name too long");
		memcpy(hdr->backing_format, data, dlen);
		hdr->backing_format[dlen] = 0;
		return 0;
	case QCOW2_EXT_SPLITKIT_VMINFO:
		if (hdr->vminfo)
			return fail(reason,
				    "duplicate VM information extension");
		return ski_header_set_vminfo(hdr, data, dlen);
	case QCOW2_EXT_BITMAPS:
		hdr->has_bitmaps = true;
		break;
	case QCOW2_EXT_CRYPTO:
		hdr->has_crypto = true;
		break;
	case QCOW2_EXT_DATA_FILE:
		hdr->has_data_file = true;
		break;
	}
	if (hdr->nr_raw_exts == SKI_MAX_RAW_EXTS)
		return fail(reason, "too many header extensions");
	raw = &hdr->raw_exts[hdr->nr_raw_exts];
	raw->data = skp_zalloc(dlen ? dlen : 1);
	if (!raw->data)
		return -ENOMEM;
	memcpy(raw->data, data, dlen);
	raw->type = type;
	raw->len = dlen;
	hdr->nr_raw_exts++;
	return 0;
}

/**
 * ski_header_parse() - parse a qcow2 v3 header cluster
 * @buf: the first bytes of the image (a whole cluster where available)
 * @len: bytes in @buf
 * @hdr: filled in; release with ski_header_release() even on failure
 * @reason: on -EINVAL, a static message saying what is wrong
 *
 * Return: 0, -EINVAL for an image we refuse, -ENOMEM.
 */
int ski_header_parse(const u8 *buf, size_t len, struct ski_header *hdr,
		     const char **reason)
{
	u64 cluster_size, limit, pos;
	u64 backing_off;
	u32 backing_len;
	int err;

	memset(hdr, 0, sizeof(*hdr));
	err = parse_fixed(buf, len, hdr, reason);
	if (err)
		return err;
	err = check_fixed(hdr, len, reason);
	if (err)
		return err;
	if (hdr->header_length >= QCOW2_V3_HEADER_MIN + 1)
		hdr->compression_type = buf[104];
	if (hdr->compression_type > QCOW2_COMPRESSION_ZSTD)
		return fail(reason, "unknown compression type");
	if (!!hdr->compression_type !=
	    !!(hdr->incompatible_features & QCOW2_INCOMPAT_COMPRESSION))
		return fail(reason,
			    "compression type and feature bit disagree");

	cluster_size = 1ULL << hdr->cluster_bits;
	limit = len < cluster_size ? len : cluster_size;

	backing_off = ski_get_be64(buf + 8);
	backing_len = ski_get_be32(buf + 16);
	if (backing_off) {
		if (backing_len > QCOW2_MAX_BACKING_NAME)
			return fail(reason, "backing file name too long");
		if (backing_off >= limit || backing_len > limit - backing_off)
			return fail(reason, "backing file name outside "
				    "the header cluster");
		memcpy(hdr->backing_file, buf + backing_off, backing_len);
		hdr->backing_file[backing_len] = 0;
		if (strlen(hdr->backing_file) != backing_len)
			return fail(reason, "NUL in backing file name");
		limit = backing_off;
	}

	/* Extensions: type, length, data padded to 8 bytes, until type 0. */
	pos = hdr->header_length;
	for (;;) {
		u32 type, dlen;

		if (pos + 8 > limit)
			return fail(reason, "header extensions run past "
				    "the header cluster");
		type = ski_get_be32(buf + pos);
		dlen = ski_get_be32(buf + pos + 4);
		pos += 8;
		if (type == QCOW2_EXT_END)
			break;
		if (dlen > limit - pos)
			return fail(reason, "header extension too long");
		err = parse_ext(hdr, type, buf + pos, dlen, reason);
		if (err)
			return err;
		pos += ((u64)dlen + 7) & ~7ULL;
	}
	return 0;
}

/** ski_header_release() - free what ski_header_parse() allocated */
void ski_header_release(struct ski_header *hdr)
{
	unsigned int i;

	for (i = 0; i < hdr->nr_raw_exts; i++)
		skp_free(hdr->raw_exts[i].data);
	hdr->nr_raw_exts = 0;
	skp_free(hdr->vminfo);
	hdr->vminfo = NULL;
	hdr->vminfo_len = 0;
}

/** ski_header_set_vminfo() - replace the encoded VM information (0 drops) */
int ski_header_set_vminfo(struct ski_header *hdr, const u8 *data, u32 len)
{
	u8 *copy = NULL;

	if (len) {
		copy = skp_zalloc(len);
		if (!copy)
			return -ENOMEM;
		memcpy(copy, data, len);
	}
	skp_free(hdr->vminfo);
	hdr->vminfo = copy;
	hdr->vminfo_len = len;
	return 0;
}

static int put_ext(u8 *buf, size_t len, size_t *pos, u32 type,
		   const void *data, u32 dlen)
{
	size_t padded = ((size_t)dlen + 7) & ~(size_t)7;

	if (*pos + 8 + padded > len)
		return -ENOSPC;
	ski_put_be32(buf + *pos, type);
	ski_put_be32(buf + *pos + 4, dlen);
	memset(buf + *pos + 8, 0, padded);
	if (dlen)
		memcpy(buf + *pos + 8, data, dlen);
	*pos += 8 + padded;
	return 0;
}

/**
 * ski_header_build() - serialise a header into a header cluster
 * @hdr: the header; header_length is always written as 112
 * @buf: output, zeroed first
 * @len: size of @buf, at most one cluster
 *
 * Extensions qemu knows but we do not implement (bitmaps and the like) are
 * kept verbatim; callers refuse to write such images in the first place.
 *
 * Return: 0, or -ENOSPC when the header does not fit in @len bytes.
 */
int ski_header_build(const struct ski_header *hdr, u8 *buf, size_t len)
{
	size_t pos = QCOW2_V3_HEADER_LEN, name_len;
	unsigned int i;
	int err;

	if (len < QCOW2_V3_HEADER_LEN)
		return -ENOSPC;
	memset(buf, 0, len);
	ski_put_be32(buf, QCOW2_MAGIC);
	ski_put_be32(buf + 4, 3);
	ski_put_be32(buf + 20, hdr->cluster_bits);
	ski_put_be64(buf + 24, hdr->size);
	ski_put_be32(buf + 32, hdr->crypt_method);
	ski_put_be32(buf + 36, hdr->l1_size);
	ski_put_be64(buf + 40, hdr->l1_table_offset);
	ski_put_be64(buf + 48, hdr->refcount_table_offset);
	ski_put_be32(buf + 56, hdr->refcount_table_clusters);
	ski_put_be32(buf + 60, hdr->nb_snapshots);
	ski_put_be64(buf + 64, hdr->snapshots_offset);
	ski_put_be64(buf + 72, hdr->incompatible_features);
	ski_put_be64(buf + 80, hdr->compatible_features);
	ski_put_be64(buf + 88, hdr->autoclear_features);
	ski_put_be32(buf + 96, hdr->refcount_order);
	ski_put_be32(buf + 100, QCOW2_V3_HEADER_LEN);
	buf[104] = hdr->compression_type;

	if (hdr->backing_format[0]) {
		err = put_ext(buf, len, &pos, QCOW2_EXT_BACKING_FORMAT,
			      hdr->backing_format,
			      strlen(hdr->backing_format));
		if (err)
			return err;
	}
	for (i = 0; i < hdr->nr_raw_exts; i++) {
		const struct ski_raw_ext *raw = &hdr->raw_exts[i];

		if (ext_is_dropped(raw->type))
			continue;
		err = put_ext(buf, len, &pos, raw->type, raw->data, raw->len);
		if (err)
			return err;
	}
	if (hdr->vminfo_len) {
		err = put_ext(buf, len, &pos, QCOW2_EXT_SPLITKIT_VMINFO,
			      hdr->vminfo, hdr->vminfo_len);
		if (err)
			return err;
	}
	err = put_ext(buf, len, &pos, QCOW2_EXT_END, NULL, 0);
	if (err)
		return err;

	name_len = strlen(hdr->backing_file);
	if (name_len) {
		if (pos + name_len > len)
			return -ENOSPC;
		memcpy(buf + pos, hdr->backing_file, name_len);
		ski_put_be64(buf + 8, pos);
		ski_put_be32(buf + 16, name_len);
	}
	return 0;
}

/**
 * ski_header_name_feature() - name a feature bit in the feature-name table
 * @hdr: header to change (in memory)
 * @type: 0 incompatible, 1 compatible, 2 autoclear
 * @bit: bit number
 * @name: at most 46 bytes, shown by qemu when it refuses the image
 *
 * Adds the table extension if the header has none; does nothing when the
 * bit is already named.
 *
 * Return: 0, -ENOSPC (too many extensions), -ENOMEM.
 */
int ski_header_name_feature(struct ski_header *hdr, u8 type, u8 bit,
			    const char *name)
{
	struct ski_raw_ext *table = NULL;
	size_t name_len = strlen(name);
	unsigned int i;
	u32 off;
	u8 *grown;

	for (i = 0; i < hdr->nr_raw_exts; i++)
		if (hdr->raw_exts[i].type == QCOW2_EXT_FEATURE_TABLE)
			table = &hdr->raw_exts[i];
	if (table) {
		for (off = 0; off + 48 <= table->len; off += 48)
			if (table->data[off] == type &&
			    table->data[off + 1] == bit)
				return 0;
	} else {
		if (hdr->nr_raw_exts == SKI_MAX_RAW_EXTS)
			return -ENOSPC;
		table = &hdr->raw_exts[hdr->nr_raw_exts];
		memset(table, 0, sizeof(*table));
		table->type = QCOW2_EXT_FEATURE_TABLE;
	}
	grown = skp_zalloc(table->len + 48);
	if (!grown)
		return -ENOMEM;
	if (table->len)
		memcpy(grown, table->data, table->len);
	grown[table->len] = type;
	grown[table->len + 1] = bit;
	memcpy(grown + table->len + 2, name, name_len > 46 ? 46 : name_len);
	if (table == &hdr->raw_exts[hdr->nr_raw_exts])
		hdr->nr_raw_exts++;
	skp_free(table->data);
	table->data = grown;
	table->len += 48;
	return 0;
}
