// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests of the image engine's parsers: the qcow2 header and its
 * extensions (header.c), the VM information extension (vminfo.c) and the
 * platform layer's inflate (skp_inflate(): our bounds and exact-output rule
 * around zlib).  Hostile inputs are table-driven: each row
 * corrupts one field of a valid header and names the refusal it expects.
 */
#include "ktap.h"
#include "core/endian.h"
#include "core/image.h"

static u8 hdr_buf[65536];

/* A valid 64 KiB-cluster header with a backing file and our extension. */
static size_t make_header(u8 *buf)
{
	struct ski_header h;
	struct ski_vminfo info = { 0 };
	u8 vm[256];
	size_t used;

	memset(&h, 0, sizeof(h));
	h.version = 3;
	h.cluster_bits = 16;
	h.size = 1 << 30;
	h.l1_size = 2;
	h.l1_table_offset = 3 << 16;
	h.refcount_table_offset = 1 << 16;
	h.refcount_table_clusters = 1;
	h.refcount_order = 4;
	strcpy(h.backing_file, "base.qcow2");
	strcpy(h.backing_format, "qcow2");
	ski_vminfo_set(&info, "name", "vm1");
	ski_vminfo_encode(&info, vm, sizeof(vm), &used);
	ski_vminfo_free(&info);
	ski_header_set_vminfo(&h, vm, used);
	if (ski_header_build(&h, buf, 65536))
		abort();
	ski_header_release(&h);
	return 65536;
}

static void test_header_roundtrip(void)
{
	struct ski_header h;
	const char *reason = NULL;
	size_t len = make_header(hdr_buf);

	KTAP_ASSERT(!ski_header_parse(hdr_buf, len, &h, &reason));
	KTAP_EXPECT_EQ(h.cluster_bits, 16);
	KTAP_EXPECT_EQ(h.size, 1 << 30);
	KTAP_EXPECT(!strcmp(h.backing_file, "base.qcow2"));
	KTAP_EXPECT(!strcmp(h.backing_format, "qcow2"));
	KTAP_EXPECT(h.vminfo_len > SKI_VMINFO_HDR_LEN);
	KTAP_EXPECT_EQ(h.header_length, QCOW2_V3_HEADER_LEN);
	ski_header_release(&h);
}

struct bad_header {
	const char *name;
	size_t off;
	int width;		/* 4 or 8 */
	u64 value;
};

static const struct bad_header bad_headers[] = {
	{ "magic", 0, 4, 0x12345678 },
	{ "version 2", 4, 4, 2 },
	{ "cluster bits 8", 20, 4, 8 },
	{ "cluster bits 22", 20, 4, 22 },
	{ "huge size", 24, 8, 1ULL << 62 },
	{ "L1 too small", 36, 4, 1 },
	{ "L1 too large", 36, 4, 0x10000000 },
	{ "L1 unaligned", 40, 8, (3 << 16) + 512 },
	{ "reftable at 0", 48, 8, 0 },
	{ "reftable unaligned", 48, 8, 4096 },
	{ "reftable clusters 0", 56, 4, 0 },
	{ "reftable huge", 56, 4, 0x10000 },
	{ "unknown incompat", 72, 8, 1ULL << 20 },
	{ "refcount order 7", 96, 4, 7 },
	{ "header length 8", 100, 4, 8 },
	{ "header length huge", 100, 4, 0x20000 },
	{ "backing offset out", 8, 8, 65530 },
	{ "backing len huge", 16, 4, 5000 },
	{ "compression bit without type", 72, 8, 1ULL << 3 },
};

static void test_header_hostile(void)
{
	size_t i;

	for (i = 0; i < KTAP_ARRAY_SIZE(bad_headers); i++) {
		const struct bad_header *b = &bad_headers[i];
		struct ski_header h;
		const char *reason = NULL;
		int err;

		make_header(hdr_buf);
		if (b->width == 4)
			ski_put_be32(hdr_buf + b->off, b->value);
		else
			ski_put_be64(hdr_buf + b->off, b->value);
		err = ski_header_parse(hdr_buf, sizeof(hdr_buf), &h, &reason);
		if (err != -EINVAL)
			ktap_fail_at(__FILE__, __LINE__, "%s accepted",
				     b->name);
		else
			KTAP_EXPECT(reason != NULL);
		ski_header_release(&h);
	}
}

static void test_header_extension_overrun(void)
{
	struct ski_header h;
	const char *reason;

	make_header(hdr_buf);
	/* First extension claims more bytes than the cluster holds. */
	ski_put_be32(hdr_buf + QCOW2_V3_HEADER_LEN + 4, 0xfffffff0);
	KTAP_EXPECT_EQ(ski_header_parse(hdr_buf, sizeof(hdr_buf), &h, &reason),
		       -EINVAL);
	ski_header_release(&h);
	/* No end marker before the backing name. */
	make_header(hdr_buf);
	memset(hdr_buf + QCOW2_V3_HEADER_LEN, 0xee,
	       ski_get_be64(hdr_buf + 8) - QCOW2_V3_HEADER_LEN);
	KTAP_EXPECT_EQ(ski_header_parse(hdr_buf, sizeof(hdr_buf), &h, &reason),
		       -EINVAL);
	ski_header_release(&h);
	/* Truncated buffers of every length below the fixed header. */
	make_header(hdr_buf);
	{
		size_t len;

		for (len = 0; len < QCOW2_V3_HEADER_MIN; len++) {
			KTAP_EXPECT_EQ(ski_header_parse(hdr_buf, len, &h,
							&reason), -EINVAL);
			ski_header_release(&h);
		}
	}
}

static void test_header_keeps_unknown_extension(void)
{
	struct ski_header h, again;
	const char *reason;
	static u8 out[65536];
	size_t pos;

	make_header(hdr_buf);
	/* Splice an unknown extension in front of the others. */
	memmove(hdr_buf + QCOW2_V3_HEADER_LEN + 16,
		hdr_buf + QCOW2_V3_HEADER_LEN, 1024);
	ski_put_be32(hdr_buf + QCOW2_V3_HEADER_LEN, 0xabcdef01);
	ski_put_be32(hdr_buf + QCOW2_V3_HEADER_LEN + 4, 5);
	memcpy(hdr_buf + QCOW2_V3_HEADER_LEN + 8, "hello\0\0\0", 8);
	pos = ski_get_be64(hdr_buf + 8);
	ski_put_be64(hdr_buf + 8, pos + 16);
	KTAP_ASSERT(!ski_header_parse(hdr_buf, sizeof(hdr_buf), &h, &reason));
	KTAP_EXPECT_EQ(h.nr_raw_exts, 1);
	KTAP_ASSERT(!ski_header_build(&h, out, sizeof(out)));
	KTAP_ASSERT(!ski_header_parse(out, sizeof(out), &again, &reason));
	KTAP_EXPECT_EQ(again.nr_raw_exts, 1);
	KTAP_EXPECT_EQ(again.raw_exts[0].type, 0xabcdef01);
	KTAP_EXPECT(!memcmp(again.raw_exts[0].data, "hello", 5));
	KTAP_EXPECT(!strcmp(again.backing_file, "base.qcow2"));
	KTAP_EXPECT_EQ(again.vminfo_len, h.vminfo_len);
	ski_header_release(&h);
	ski_header_release(&again);
}

static void test_vminfo_roundtrip(void)
{
	struct ski_vminfo info = { 0 }, back;
	const char *reason;
	static u8 buf[SKI_VMINFO_MAX_LEN];
	size_t used;
	int i;

	KTAP_EXPECT(!ski_vminfo_set(&info, "hardware", "x86_64 pvh"));
	KTAP_EXPECT(!ski_vminfo_set(&info, "tag", "web"));
	KTAP_EXPECT(!ski_vminfo_set(&info, "tag", "web"));
	KTAP_EXPECT(!ski_vminfo_set(&info, "tag", "db"));
	KTAP_EXPECT(!ski_vminfo_set(&info, "required", "1"));
	KTAP_EXPECT_EQ(ski_vminfo_set(&info, "Bad Key", "x"), -EINVAL);
	KTAP_EXPECT_EQ(ski_vminfo_set(&info, "required", "yes"), -EINVAL);
	for (i = 0; i < 40; i++)
		KTAP_EXPECT(!ski_vminfo_add_history(&info, "compacted", i, ""));
	KTAP_ASSERT(!ski_vminfo_encode(&info, buf, sizeof(buf), &used));
	KTAP_ASSERT(!ski_vminfo_decode(buf, used, &back, &reason));
	KTAP_EXPECT(!strcmp(ski_vminfo_get(&back, "hardware"), "x86_64 pvh"));
	KTAP_EXPECT(ski_vminfo_has_tag(&back, "db"));
	KTAP_EXPECT(back.flags & SKI_VMINFO_F_REQUIRED);
	/* History is bounded and keeps the newest records. */
	KTAP_EXPECT_EQ(back.nr, 3 + SKI_VM_MAX_HISTORY);
	KTAP_EXPECT_EQ(back.entries[back.nr - 1].time, 39);
	KTAP_EXPECT_EQ(back.entries[3].time, 40 - SKI_VM_MAX_HISTORY);
	KTAP_EXPECT(!ski_vminfo_remove(&back, "tag", "web"));
	KTAP_EXPECT_EQ(ski_vminfo_remove(&back, "nosuch", NULL), -ENOENT);
	ski_vminfo_free(&back);

	/* Any flipped body byte fails the checksum. */
	buf[used - 1] ^= 1;
	KTAP_EXPECT_EQ(ski_vminfo_decode(buf, used, &back, &reason), -EINVAL);
	ski_vminfo_free(&back);
	buf[used - 1] ^= 1;
	/* A newer version is reported as such. */
	ski_put_be32(buf, 2);
	KTAP_EXPECT_EQ(ski_vminfo_decode(buf, used, &back, &reason),
		       -EOPNOTSUPP);
	ski_vminfo_free(&back);
	/* Truncations never read past the end. */
	ski_put_be32(buf, 1);
	for (i = 0; i < (int)used; i++) {
		ski_vminfo_decode(buf, i, &back, &reason);
		ski_vminfo_free(&back);
	}
	ski_vminfo_free(&info);
}

static void test_crc32(void)
{
	/* The standard check value of CRC-32/ISO-HDLC. */
	KTAP_EXPECT_EQ(skp_crc32("123456789", 9), 0xcbf43926);
	KTAP_EXPECT_EQ(skp_crc32("", 0), 0);
}

static void test_inflate(void)
{
	/* Stored block "hello", final. */
	static const u8 stored[] = { 0x01, 0x05, 0x00, 0xfa, 0xff,
				     'h', 'e', 'l', 'l', 'o' };
	/* Fixed-Huffman "aaaaaaaaaa" (literal a, then length 9 dist 1). */
	static const u8 fixed[] = { 0x4b, 0x4c, 0x84, 0x01, 0x00 };
	u8 out[16];

	KTAP_EXPECT(!skp_inflate(stored, sizeof(stored), out, 5));
	KTAP_EXPECT(!memcmp(out, "hello", 5));
	/* Output must fill the cluster exactly. */
	KTAP_EXPECT_EQ(skp_inflate(stored, sizeof(stored), out, 6), -EINVAL);
	KTAP_EXPECT(!skp_inflate(fixed, sizeof(fixed), out, 10));
	KTAP_EXPECT(!memcmp(out, "aaaaaaaaaa", 10));
	/* Truncated, reserved block type, distance before the start. */
	KTAP_EXPECT_EQ(skp_inflate(stored, 4, out, 5), -EINVAL);
	KTAP_EXPECT_EQ(skp_inflate((const u8 *)"\x07", 1, out, 5), -EINVAL);
	KTAP_EXPECT_EQ(skp_inflate((const u8 *)"\x03\x02", 2, out, 5),
		       -EINVAL);
}

static const struct ktap_case cases[] = {
	KTAP_CASE(test_header_roundtrip),
	KTAP_CASE(test_header_hostile),
	KTAP_CASE(test_header_extension_overrun),
	KTAP_CASE(test_header_keeps_unknown_extension),
	KTAP_CASE(test_vminfo_roundtrip),
	KTAP_CASE(test_crc32),
	KTAP_CASE(test_inflate),
};

int main(void)
{
	return ktap_main(cases, KTAP_ARRAY_SIZE(cases));
}
