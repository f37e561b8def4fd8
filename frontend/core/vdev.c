// SPDX-License-Identifier: GPL-2.0
/*
 * splitkit_front portable core: device naming: where a "virtual-device"
 * number puts the disk (xvd major, minors, index) and the xvdX name
 * xen-blkfront would give it.
 * Linked into splitkit_front.ko and built unchanged on the host by
 * tests/unit/front/ (unit test and libFuzzer target); see check.h.
 */
#include "check.h"

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
