// SPDX-License-Identifier: GPL-2.0
/*
 * Raw DEFLATE decoder (RFC 1951) for reading compressed qcow2 clusters.
 *
 * qemu stores a compressed cluster as a raw deflate stream (no zlib header)
 * padded to a 512-byte sector.  The input is hostile: every read of input
 * bits, every back-reference distance and every output byte is bounds
 * checked, and a code table that is over-subscribed is rejected.  The
 * output must fill the cluster exactly, as qemu requires.  Decoding walks
 * canonical Huffman codes one bit at a time; speed is not the point here,
 * compressed clusters are rare and only ever read.
 */
#include "image.h"

#define MAX_BITS	15
#define MAX_LIT		288
#define MAX_DIST	30

struct huffman {
	u16 count[MAX_BITS + 1];	/* codes of each length */
	u16 symbol[MAX_LIT];		/* symbols ordered by code */
};

/* Code tables live on the heap: too big for a kernel stack. */
struct inflate_tables {
	struct huffman lit;
	struct huffman dist;
	struct huffman lencode;
	u8 lengths[MAX_LIT + MAX_DIST];
};

struct bit_reader {
	struct inflate_tables *t;
	const u8 *in;
	size_t in_len;
	size_t pos;		/* next byte */
	u32 bits;		/* pending bits, LSB first */
	u32 nbits;
	u8 *out;
	size_t out_len;
	size_t out_pos;
};

static int get_bits(struct bit_reader *br, u32 n, u32 *val)
{
	while (br->nbits < n) {
		if (br->pos >= br->in_len)
			return -EINVAL;
		br->bits |= (u32)br->in[br->pos++] << br->nbits;
		br->nbits += 8;
	}
	*val = br->bits & ((1U << n) - 1);
	br->bits >>= n;
	br->nbits -= n;
	return 0;
}

/* Build canonical code tables from code lengths; reject over-subscription. */
static int build(struct huffman *h, const u8 *lengths, u32 n)
{
	u16 offs[MAX_BITS + 1];
	int left = 1;
	u32 i, len;

	memset(h->count, 0, sizeof(h->count));
	for (i = 0; i < n; i++)
		h->count[lengths[i]]++;
	if (h->count[0] == n)
		return 0;
	for (len = 1; len <= MAX_BITS; len++) {
		left <<= 1;
		left -= h->count[len];
		if (left < 0)
			return -EINVAL;
	}
	offs[1] = 0;
	for (len = 1; len < MAX_BITS; len++)
		offs[len + 1] = offs[len] + h->count[len];
	for (i = 0; i < n; i++)
		if (lengths[i])
			h->symbol[offs[lengths[i]]++] = i;
	return 0;
}

static int decode(struct bit_reader *br, const struct huffman *h, u32 *sym)
{
	int code = 0, first = 0, index = 0;
	u32 len, bit;

	for (len = 1; len <= MAX_BITS; len++) {
		if (get_bits(br, 1, &bit))
			return -EINVAL;
		code |= bit;
		if (code - first < h->count[len]) {
			*sym = h->symbol[index + (code - first)];
			return 0;
		}
		index += h->count[len];
		first = (first + h->count[len]) << 1;
		code <<= 1;
	}
	return -EINVAL;
}

static const u16 len_base[29] = {
	3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31,
	35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258 };
static const u8 len_extra[29] = {
	0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2,
	3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0 };
static const u16 dist_base[30] = {
	1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193,
	257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145,
	8193, 12289, 16385, 24577 };
static const u8 dist_extra[30] = {
	0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6,
	7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13 };

/* Decode one block's symbols; 1 when the output is full. */
static int inflate_codes(struct bit_reader *br, const struct huffman *lit,
			 const struct huffman *dist)
{
	u32 sym, extra, len, d;

	for (;;) {
		if (decode(br, lit, &sym))
			return -EINVAL;
		if (sym < 256) {
			if (br->out_pos == br->out_len)
				return 1;
			br->out[br->out_pos++] = sym;
			continue;
		}
		if (sym == 256)
			return 0;
		sym -= 257;
		if (sym >= 29 || get_bits(br, len_extra[sym], &extra))
			return -EINVAL;
		len = len_base[sym] + extra;
		if (decode(br, dist, &sym) || sym >= 30 ||
		    get_bits(br, dist_extra[sym], &extra))
			return -EINVAL;
		d = dist_base[sym] + extra;
		if (d > br->out_pos)
			return -EINVAL;
		while (len--) {
			if (br->out_pos == br->out_len)
				return 1;
			br->out[br->out_pos] = br->out[br->out_pos - d];
			br->out_pos++;
		}
	}
}

static int inflate_stored(struct bit_reader *br)
{
	u32 len, nlen;

	br->bits = 0;
	br->nbits = 0;
	if (br->in_len - br->pos < 4)
		return -EINVAL;
	len = br->in[br->pos] | (br->in[br->pos + 1] << 8);
	nlen = br->in[br->pos + 2] | (br->in[br->pos + 3] << 8);
	br->pos += 4;
	if (len != (~nlen & 0xffff) || len > br->in_len - br->pos)
		return -EINVAL;
	if (len > br->out_len - br->out_pos)
		len = br->out_len - br->out_pos;
	memcpy(br->out + br->out_pos, br->in + br->pos, len);
	br->pos += len;
	br->out_pos += len;
	return br->out_pos == br->out_len;
}

static int inflate_fixed(struct bit_reader *br)
{
	struct huffman *lit = &br->t->lit, *dist = &br->t->dist;
	u8 *lengths = br->t->lengths;
	u32 i;

	for (i = 0; i < 144; i++)
		lengths[i] = 8;
	for (; i < 256; i++)
		lengths[i] = 9;
	for (; i < 280; i++)
		lengths[i] = 7;
	for (; i < MAX_LIT; i++)
		lengths[i] = 8;
	build(lit, lengths, MAX_LIT);
	for (i = 0; i < MAX_DIST; i++)
		lengths[i] = 5;
	build(dist, lengths, MAX_DIST);
	return inflate_codes(br, lit, dist);
}

static int inflate_dynamic(struct bit_reader *br)
{
	static const u8 order[19] = {
		16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1,
		15 };
	struct huffman *lit = &br->t->lit, *dist = &br->t->dist;
	struct huffman *lencode = &br->t->lencode;
	u8 *lengths = br->t->lengths;
	u32 nlen, ndist, ncode, i, sym, v;

	if (get_bits(br, 5, &nlen) || get_bits(br, 5, &ndist) ||
	    get_bits(br, 4, &ncode))
		return -EINVAL;
	nlen += 257;
	ndist += 1;
	ncode += 4;
	if (nlen > 286 || ndist > MAX_DIST)
		return -EINVAL;
	memset(lengths, 0, sizeof(br->t->lengths));
	for (i = 0; i < ncode; i++) {
		if (get_bits(br, 3, &v))
			return -EINVAL;
		lengths[order[i]] = v;
	}
	if (build(lencode, lengths, 19))
		return -EINVAL;
	i = 0;
	while (i < nlen + ndist) {
		u32 rep, fill = 0;

		if (decode(br, lencode, &sym))
			return -EINVAL;
		if (sym < 16) {
			lengths[i++] = sym;
			continue;
		}
		if (sym == 16) {
			if (!i || get_bits(br, 2, &rep))
				return -EINVAL;
			fill = lengths[i - 1];
			rep += 3;
		} else if (sym == 17) {
			if (get_bits(br, 3, &rep))
				return -EINVAL;
			rep += 3;
		} else {
			if (get_bits(br, 7, &rep))
				return -EINVAL;
			rep += 11;
		}
		if (i + rep > nlen + ndist)
			return -EINVAL;
		while (rep--)
			lengths[i++] = fill;
	}
	if (!lengths[256])
		return -EINVAL;
	if (build(lit, lengths, nlen) || build(dist, lengths + nlen, ndist))
		return -EINVAL;
	return inflate_codes(br, lit, dist);
}

/**
 * ski_inflate() - decode a raw deflate stream into exactly @dst_len bytes
 * @src: deflate stream
 * @src_len: bytes in @src (padding after the stream is ignored)
 * @dst: output
 * @dst_len: bytes the stream must produce
 *
 * Return: 0, -EINVAL for malformed data or output that comes up short,
 * -ENOMEM.
 */
int ski_inflate(const u8 *src, size_t src_len, u8 *dst, size_t dst_len)
{
	struct bit_reader br = {
		.in = src, .in_len = src_len, .out = dst, .out_len = dst_len,
	};
	u32 last, type;
	int ret;

	br.t = skp_zalloc(sizeof(*br.t));
	if (!br.t)
		return -ENOMEM;
	do {
		if (get_bits(&br, 1, &last) || get_bits(&br, 2, &type)) {
			ret = -EINVAL;
			break;
		}
		if (type == 0)
			ret = inflate_stored(&br);
		else if (type == 1)
			ret = inflate_fixed(&br);
		else if (type == 2)
			ret = inflate_dynamic(&br);
		else
			ret = -EINVAL;
		if (ret)
			break;
	} while (!last);
	skp_free(br.t);
	if (ret < 0)
		return ret;
	/* Output full (ret 1), or the last block ended: it must be full. */
	return br.out_pos == br.out_len ? 0 : -EINVAL;
}
