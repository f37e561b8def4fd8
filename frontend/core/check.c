// SPDX-License-Identifier: GPL-2.0
/*
 * splitkit_front portable core: response tracking, negotiation checks and
 * segment layout (see check.h).  Linked into splitkit_front.ko and built
 * unchanged on the host by tests/unit/front/ for the unit test and the
 * libFuzzer target.  Nothing here trusts a value the backend wrote: ids are
 * bounds-checked before they index anything, XenStore numbers are
 * range-checked before they become block-layer limits.
 */
#include "check.h"

/**
 * skf_track_init() - set up the slots of one queue, all idle.
 * @t: tracker.
 * @slots: @nr slots of caller memory.
 * @nr: queue depth.
 */
void skf_track_init(struct skf_track *t, struct skf_slot *slots, u32 nr)
{
	t->slots = slots;
	t->nr = nr;
	skf_track_reset(t);
}

/**
 * skf_track_reset() - forget every in-flight request (after a disconnect,
 *		       once the caller has taken the requests back).
 * @t: tracker.
 */
void skf_track_reset(struct skf_track *t)
{
	u32 i;

	for (i = 0; i < t->nr; i++) {
		t->slots[i].busy = 0;
		t->slots[i].op = 0;
		t->slots[i].alt_op = 0;
	}
}

/**
 * skf_track_issue() - mark a slot in flight before its request is pushed.
 * @t: tracker.
 * @id: slot number (the blk-mq tag), the id written in the request.
 * @op: operation written in the request.
 * @alt_op: other operation the backend may answer with (or @op).
 *
 * Return: 0; -EINVAL if @id is out of range; -EBUSY if the slot is in use.
 */
int skf_track_issue(struct skf_track *t, u32 id, u8 op, u8 alt_op)
{
	struct skf_slot *s;

	if (id >= t->nr)
		return -EINVAL;
	s = &t->slots[id];
	if (s->busy)
		return -EBUSY;
	s->op = op;
	s->alt_op = alt_op;
	s->busy = 1;
	return 0;
}

/**
 * skf_track_cancel() - give back a slot whose request was never pushed.
 * @t: tracker.
 * @id: slot from a successful skf_track_issue().
 */
void skf_track_cancel(struct skf_track *t, u32 id)
{
	if (id < t->nr)
		t->slots[id].busy = 0;
}

/**
 * skf_track_busy() - number of slots in flight.
 * @t: tracker.
 *
 * Return: the count (a snapshot while issuers and the consumer run).
 */
u32 skf_track_busy(const struct skf_track *t)
{
	u32 i, n = 0;

	for (i = 0; i < t->nr; i++)
		n += t->slots[i].busy ? 1 : 0;
	return n;
}

/**
 * skf_track_complete() - judge one response and retire its slot.
 * @t: tracker.
 * @id: the response's id, as the backend wrote it (any 64-bit value).
 * @op: the response's operation.
 * @status: the response's status.
 * @slot: set to the slot retired when skf_verdict_retires() holds.
 *
 * Return: the verdict; see enum skf_verdict.
 */
enum skf_verdict skf_track_complete(struct skf_track *t, u64 id, u8 op,
				    int status, u32 *slot)
{
	struct skf_slot *s;

	if (id >= t->nr)
		return SKF_V_BAD_ID;
	s = &t->slots[(u32)id];
	if (!s->busy)
		return SKF_V_STALE;
	s->busy = 0;
	*slot = (u32)id;
	if (op != s->op && op != s->alt_op)
		return SKF_V_BAD_OP;
	switch (status) {
	case SK_BLKIF_RSP_OKAY:
		return SKF_V_OK;
	case SK_BLKIF_RSP_ERROR:
		return SKF_V_IOERR;
	case SK_BLKIF_RSP_EOPNOTSUPP:
		return SKF_V_NOTSUPP;
	default:
		return SKF_V_BAD_STATUS;
	}
}

/**
 * skf_parse_u64() - strict decimal parser for backend-written numbers.
 * @s: the bytes XenStore returned (not necessarily NUL-terminated).
 * @len: their count; a NUL before @len ends the value.
 * @max: largest accepted value.
 * @out: the value.
 *
 * Only decimal digits, at least one, at most 20: no sign, spaces, hex or
 * trailing text, unlike sscanf().
 *
 * Return: 0, -EINVAL for a malformed value, -ERANGE above @max.
 */
int skf_parse_u64(const char *s, size_t len, u64 max, u64 *out)
{
	u64 v = 0;
	size_t i;

	for (i = 0; i < len && s[i]; i++) {
		u64 d;

		if (s[i] < '0' || s[i] > '9' || i >= 20)
			return -EINVAL;
		d = (u64)(s[i] - '0');
		if (v > (~0ull - d) / 10)
			return -ERANGE;
		v = v * 10 + d;
	}
	if (!i)
		return -EINVAL;
	if (v > max)
		return -ERANGE;
	*out = v;
	return 0;
}

static bool skf_pow2(u64 x)
{
	return x && !(x & (x - 1));
}

/* Largest capacity accepted: 2^48 sectors (128 PiB), far from overflow. */
#define SKF_MAX_SECTORS		(1ull << 48)

/**
 * skf_geom_check() - validate the geometry the backend announced.
 * @g: geometry read from XenStore.
 *
 * The logical block size must be a power of two from 512 bytes to one
 * page, the physical one a power of two from the logical size to 64 KiB,
 * and the capacity a whole number of logical blocks below 2^48 sectors.
 *
 * Return: 0 or -EINVAL.
 */
int skf_geom_check(const struct skf_geom *g)
{
	if (!skf_pow2(g->sector_size) || g->sector_size < 512 ||
	    g->sector_size > SK_BLKIF_PAGE_SIZE)
		return -EINVAL;
	if (!skf_pow2(g->phys_size) || g->phys_size < g->sector_size ||
	    g->phys_size > 65536)
		return -EINVAL;
	if (g->sectors >= SKF_MAX_SECTORS ||
	    g->sectors % (g->sector_size >> SK_BLKIF_SECTOR_SHIFT))
		return -EINVAL;
	return 0;
}

/**
 * skf_indirect_segs() - segments per indirect request to use.
 * @backend_max: "feature-max-indirect-segments" (0 when absent).
 * @our_max: the module parameter.
 *
 * Return: 0 (no indirect requests) when either side offers no more than a
 * direct request holds, else the smaller offer, capped at what
 * BLKIF_MAX_INDIRECT_PAGES_PER_REQUEST pages can describe.
 */
u32 skf_indirect_segs(u32 backend_max, u32 our_max)
{
	u32 n = backend_max < our_max ? backend_max : our_max;

	if (n > SK_BLKIF_MAX_INDIRECT_SEGS)
		n = SK_BLKIF_MAX_INDIRECT_SEGS;
	return n <= SK_BLKIF_MAX_DIRECT_SEGS ? 0 : n;
}

/**
 * skf_discard_check() - validate the backend's discard parameters.
 * @granularity: "discard-granularity" in bytes (0: one logical block).
 * @alignment: "discard-alignment" in bytes.
 * @sector_size: logical block size, already checked.
 * @out: the values to use.
 *
 * Return: 0, or -EINVAL when the granularity is not a power of two or is
 * above 1 GiB, or the alignment is not a multiple of 512 below the
 * granularity; the caller then leaves discard off.
 */
int skf_discard_check(u32 granularity, u32 alignment, u32 sector_size,
		      struct skf_discard *out)
{
	if (!granularity)
		granularity = sector_size;
	if (granularity < sector_size)
		granularity = sector_size;
	if (!skf_pow2(granularity) || granularity > (1u << 30))
		return -EINVAL;
	if (alignment % 512 || alignment >= granularity)
		return -EINVAL;
	out->granularity = granularity;
	out->alignment = alignment;
	return 0;
}

/**
 * skf_seg_sectors() - the sectors of page @page a request of @bytes uses.
 * @bytes: request length, a non-zero multiple of 512.
 * @page: page index, below skf_nr_pages(@bytes).
 * @first: first sector in the page (always 0: data is packed).
 * @last: last sector in the page, inclusive.
 *
 * Return: 0, or -EINVAL for a length or page index out of range.
 */
int skf_seg_sectors(u32 bytes, u32 page, u8 *first, u8 *last)
{
	u32 left;

	if (!bytes || bytes % 512 || page >= skf_nr_pages(bytes))
		return -EINVAL;
	left = bytes - page * SK_BLKIF_PAGE_SIZE;
	if (left > SK_BLKIF_PAGE_SIZE)
		left = SK_BLKIF_PAGE_SIZE;
	*first = 0;
	*last = (u8)((left >> SK_BLKIF_SECTOR_SHIFT) - 1);
	return 0;
}

/* Linux's minor space under one major: 20 bits. */
#define SKF_MINORBITS		20u
#define SKF_EXT_SHIFT		28u
#define SKF_PARTS		16u
#define SKF_EXT_PARTS		256u

/**
 * struct skf_major - how a major of "virtual-device" maps onto xvd disks.
 * @major:  the Linux major of the named device (hdX, sdX, xvdX).
 * @base:   disk index of its first disk.
 * @shift:  minors per disk of that major, as a shift (6 for IDE, 4 else).
 * @emulated: IDE or SCSI (an emulated disk in an HVM guest).
 */
struct skf_major {
	u16 major;
	u16 base;
	u8 shift;
	bool emulated;
};

/* xen-blkfront's mapping, so that xl configs name the same xvdX. */
static const struct skf_major skf_majors[] = {
	{ 202, 0, 4, false },	/* xvd */
	{ 3, 0, 6, true },	/* hda, hdb */
	{ 22, 2, 6, true },	/* hdc, hdd */
	{ 8, 0, 4, true },	/* sda..sdp */
	{ 65, 16, 4, true }, { 66, 32, 4, true }, { 67, 48, 4, true },
	{ 68, 64, 4, true }, { 69, 80, 4, true }, { 70, 96, 4, true },
	{ 71, 112, 4, true },
	{ 128, 128, 4, true }, { 129, 144, 4, true }, { 130, 160, 4, true },
	{ 131, 176, 4, true }, { 132, 192, 4, true }, { 133, 208, 4, true },
	{ 134, 224, 4, true }, { 135, 240, 4, true },
};

/**
 * skf_vdev_decode() - decode a "virtual-device" number as xen-blkfront does.
 * @vdevice: the number the toolstack wrote (e.g. 51712 for xvda, 768 for
 *	     hda, 2048 for sda, (1 << 28) | (disk << 8) for xvd beyond xvdp).
 * @out: minor range and disk index.
 *
 * hdX and sdX become xvd disks at the same index xen-blkfront gives them,
 * so an xl config names the same /dev/xvdX with either driver.
 *
 * Return: 0, or -ENODEV for a number outside every known range.
 */
int skf_vdev_decode(u32 vdevice, struct skf_vdev *out)
{
	u32 major, minor, parts, i;
	const struct skf_major *m = NULL;

	memset(out, 0, sizeof(*out));
	if (vdevice >> SKF_EXT_SHIFT) {
		if (vdevice >> SKF_EXT_SHIFT != 1)
			return -ENODEV;
		minor = vdevice & ((1u << SKF_EXT_SHIFT) - 1);
		parts = SKF_EXT_PARTS;
		out->index = minor / parts;
	} else {
		if (vdevice >> 16)
			return -ENODEV;
		major = vdevice >> 8;
		minor = vdevice & 0xff;
		for (i = 0; i < sizeof(skf_majors) / sizeof(skf_majors[0]); i++)
			if (skf_majors[i].major == major)
				m = &skf_majors[i];
		if (!m)
			return -ENODEV;
		parts = SKF_PARTS;
		out->emulated = m->emulated;
		if (m->shift == 6) {
			/* IDE: 64 minors per disk, partitions dropped */
			out->index = m->base + (minor >> 6);
			minor = out->index * SKF_PARTS;
		} else {
			out->index = m->base + (minor >> 4);
			minor += m->base * SKF_PARTS;
		}
	}
	if (minor >> SKF_MINORBITS)
		return -ENODEV;
	out->minor = minor;
	if (minor % parts == 0) {
		out->nr_minors = parts;
	} else {
		out->nr_minors = 1;
		out->part = minor % parts;
	}
	return 0;
}

/**
 * skf_disk_name() - the disk's name: xvd + letters (+ partition number).
 * @v: decoded device.
 * @buf: output.
 * @len: size of @buf (Linux's DISK_NAME_LEN is 32).
 *
 * Return: 0, or -ENAMETOOLONG.
 */
int skf_disk_name(const struct skf_vdev *v, char *buf, size_t len)
{
	char letters[8];
	u32 n = v->index, k = 0, i;
	size_t pos;

	/* bijective base 26: a..z, aa..zz, aaa.. */
	do {
		letters[k++] = (char)('a' + n % 26);
		n = n / 26;
	} while (n-- && k < sizeof(letters));
	if (len < 4 + k + 1)
		return -ENAMETOOLONG;
	memcpy(buf, "xvd", 3);
	pos = 3;
	for (i = 0; i < k; i++)
		buf[pos++] = letters[k - 1 - i];
	buf[pos] = 0;
	if (v->part) {
		u32 p = v->part, d = 1;

		while (p / d >= 10)
			d *= 10;
		for (; d; d /= 10) {
			if (pos + 2 > len)
				return -ENAMETOOLONG;
			buf[pos++] = (char)('0' + (p / d) % 10);
		}
		buf[pos] = 0;
	}
	return 0;
}
