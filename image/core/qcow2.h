/* SPDX-License-Identifier: GPL-2.0 */
/*
 * qcow2 version 3 on-disk format: constants and the parsed header.
 *
 * Written from QEMU's format description (docs/interop/qcow2.txt).  Only the
 * constants the engine needs are here; header.c turns the header cluster
 * into struct ski_header and back, treating every byte as hostile.
 */
#ifndef _SPLITKIT_IMAGE_QCOW2_H
#define _SPLITKIT_IMAGE_QCOW2_H

#include "platform.h"

#define QCOW2_MAGIC			0x514649fbU	/* "QFI\xfb" */
#define QCOW2_V3_HEADER_MIN		104
#define QCOW2_V3_HEADER_LEN		112	/* incl. compression type */
#define QCOW2_MIN_CLUSTER_BITS		9
#define QCOW2_MAX_CLUSTER_BITS		21
#define QCOW2_MAX_BACKING_NAME		1023
#define QCOW2_MAX_BACKING_FORMAT	31
/* Same ceilings qemu applies, so every image it makes opens here. */
#define QCOW2_MAX_L1_BYTES		(32ULL << 20)
#define QCOW2_MAX_REFTABLE_BYTES	(8ULL << 20)
/* Guest sizes beyond this are refused: offsets stay far from u64 overflow. */
#define QCOW2_MAX_GUEST_SIZE		(1ULL << 56)

/* Header extension types. */
#define QCOW2_EXT_END			0x00000000U
#define QCOW2_EXT_BACKING_FORMAT	0xe2792acaU
#define QCOW2_EXT_FEATURE_TABLE		0x6803f857U
#define QCOW2_EXT_BITMAPS		0x23852875U
#define QCOW2_EXT_CRYPTO		0x0537be77U
#define QCOW2_EXT_DATA_FILE		0x44415441U
/* splitkit's embedded VM information ("SKVM"), see vminfo.h. */
#define QCOW2_EXT_SPLITKIT_VMINFO	0x534b564dU

/* Feature bits. */
#define QCOW2_INCOMPAT_DIRTY		(1ULL << 0)
#define QCOW2_INCOMPAT_CORRUPT		(1ULL << 1)
#define QCOW2_INCOMPAT_DATA_FILE	(1ULL << 2)
#define QCOW2_INCOMPAT_COMPRESSION	(1ULL << 3)
#define QCOW2_INCOMPAT_EXTL2		(1ULL << 4)
/*
 * Set by splitkit when the VM information is marked "required": readers that
 * do not know the bit (qemu, older splitkit) must refuse the image.
 */
#define QCOW2_INCOMPAT_SPLITKIT_REQUIRED (1ULL << SKI_REQUIRED_FEATURE_BIT)
#define QCOW2_INCOMPAT_KNOWN	(QCOW2_INCOMPAT_DIRTY | \
				 QCOW2_INCOMPAT_CORRUPT | \
				 QCOW2_INCOMPAT_DATA_FILE | \
				 QCOW2_INCOMPAT_COMPRESSION | \
				 QCOW2_INCOMPAT_EXTL2 | \
				 QCOW2_INCOMPAT_SPLITKIT_REQUIRED)
#define QCOW2_COMPAT_LAZY_REFCOUNTS	(1ULL << 0)
#define QCOW2_AUTOCLEAR_BITMAPS		(1ULL << 0)
#define QCOW2_AUTOCLEAR_DATA_FILE_RAW	(1ULL << 1)

/* L1, L2 and refcount-table entry bits. */
#define QCOW2_OFFSET_MASK		0x00fffffffffffe00ULL
#define QCOW2_L1_RESERVED		0x7f000000000001ffULL
#define QCOW2_L2_RESERVED		0x3f000000000001feULL
#define QCOW2_REFT_RESERVED		0x00000000000001ffULL
#define QCOW2_OFLAG_COPIED		(1ULL << 63)
#define QCOW2_OFLAG_COMPRESSED		(1ULL << 62)
#define QCOW2_OFLAG_ZERO		(1ULL << 0)

#define QCOW2_COMPRESSION_ZLIB		0
#define QCOW2_COMPRESSION_ZSTD		1

/* One header extension kept verbatim (feature table, unknown types). */
struct ski_raw_ext {
	u32 type;
	u32 len;
	u8 *data;
};

#define SKI_MAX_RAW_EXTS	16

struct ski_header {
	u32 version;
	u32 cluster_bits;
	u64 size;			/* guest-visible bytes */
	u32 crypt_method;
	u32 l1_size;			/* entries */
	u64 l1_table_offset;
	u64 refcount_table_offset;
	u32 refcount_table_clusters;
	u32 nb_snapshots;
	u64 snapshots_offset;
	u64 incompatible_features;
	u64 compatible_features;
	u64 autoclear_features;
	u32 refcount_order;
	u32 header_length;
	u8 compression_type;

	char backing_file[QCOW2_MAX_BACKING_NAME + 1];
	char backing_format[QCOW2_MAX_BACKING_FORMAT + 1];
	bool has_bitmaps;
	bool has_crypto;
	bool has_data_file;

	/* Our extension's payload, still encoded (vminfo.c decodes it). */
	u8 *vminfo;
	u32 vminfo_len;

	struct ski_raw_ext raw_exts[SKI_MAX_RAW_EXTS];
	unsigned int nr_raw_exts;
};

int ski_header_parse(const u8 *buf, size_t len, struct ski_header *hdr,
		     const char **reason);
int ski_header_build(const struct ski_header *hdr, u8 *buf, size_t len);
void ski_header_release(struct ski_header *hdr);
int ski_header_set_vminfo(struct ski_header *hdr, const u8 *data, u32 len);
int ski_header_name_feature(struct ski_header *hdr, u8 type, u8 bit,
			    const char *name);

#define SKI_REQUIRED_FEATURE_NAME	"splitkit VM information (required)"
#define SKI_REQUIRED_FEATURE_BIT	40

#endif /* _SPLITKIT_IMAGE_QCOW2_H */
