// SPDX-License-Identifier: GPL-2.0
/*
 * splitkit_back sharing policy (see share.h), and which disks of an HVM
 * guest its device model opens too: pure C over <splitkit/platform.h>, so
 * that the unit tests check the very decisions dom0 makes.
 * backend/share.c applies them to the backings it has open.
 */
#include "share.h"

/**
 * skb_mode_parse() - read the toolstack's "mode" key.
 * @s: its value, NULL if the key is missing.
 * @m: the access asked for.
 *
 * As Xen's block script reads it: a 'w' anywhere makes the disk writable
 * ("w"; libxl writes "w" or "r"), a '!' as well asks for no sharing check
 * ("w!").  No key, or any other value, is read-only: a disk is never made
 * writable by accident.
 */
void skb_mode_parse(const char *s, struct skb_mode *m)
{
	m->writable = false;
	m->force = false;
	if (!s)
		return;
	for (; *s; s++) {
		if (*s == 'w')
			m->writable = true;
		else if (*s == '!')
			m->force = true;
	}
	m->force = m->force && m->writable;
}

/**
 * skb_share_ok() - may @me use a backing @other already uses?
 * @me: the disk being opened.
 * @other: a disk that has the same backing open.
 *
 * Readers share freely.  A writer, or a reader next to a writer, shares
 * only with the same domain (one guest with the backing twice), with the
 * same VM (during a migration both domains have the disk; their "vm"
 * paths are equal) or when @me asked for it with "w!".
 *
 * Return: true if they may share.
 */
bool skb_share_ok(const struct skb_user *me, const struct skb_user *other)
{
	if (me->mode.force)
		return true;
	if (!me->mode.writable && !other->mode.writable)
		return true;
	if (me->domid == other->domid)
		return true;
	return me->vm && other->vm && me->vm[0] && !strcmp(me->vm, other->vm);
}

/* A decimal number at *@p, below @limit; *@p moves past it.  -1 if none. */
static long skb_vdev_number(const char **p, long limit)
{
	long n = 0;

	if (**p < '0' || **p > '9')
		return -1;
	for (; **p >= '0' && **p <= '9'; (*p)++) {
		n = n * 10 + (**p - '0');
		if (n >= limit)
			return -1;
	}
	return n;
}

/*
 * libxl's "<letters>[<partition>]" after a prefix: the disk (bijective
 * base 26: "a" is 0, "z" 25, "aa" 26) up to @max_disk, then nothing or
 * a partition up to @max_part without a leading zero.  -1 if not.
 */
static long skb_vdev_letters(const char *p, long max_disk, long max_part)
{
	long n = 0;

	if (*p < 'a' || *p > 'z')
		return -1;
	for (; *p >= 'a' && *p <= 'z'; p++) {
		n = n * 26 + (*p - 'a' + 1);
		if (n - 1 > max_disk)
			return -1;
	}
	if (*p && (*p == '0' || skb_vdev_number(&p, max_part + 1) < 0 || *p))
		return -1;
	return n - 1;
}

/* libxl's "dNpM": disk N (below 2^20), partition M (below 256); -1 if not */
static long skb_vdev_dnpm(const char *p)
{
	long disk;

	if (*p++ != 'd')
		return -1;
	disk = skb_vdev_number(&p, 1L << 20);
	if (disk < 0 || *p++ != 'p' || skb_vdev_number(&p, 256) < 0 || *p)
		return -1;
	return disk;
}

/**
 * skb_share_dm_disk() - does libxl give this disk of an HVM guest to its
 *	device model as well?
 * @vdev: the disk's name as the toolstack wrote it in the backend's "dev"
 *	key ("xvda", "hdc", "sdb", "d0p1", "51712"); NULL if missing.
 *
 * libxl emulates, besides the PV disk: every "sdX" disk (SCSI), and IDE
 * (or AHCI: six disks) for a disk whose index is below four; a bare
 * "virtual-device" number gives libxl no index, and no emulated twin.
 * Names are read as libxl__device_disk_dev_number() reads them in their
 * plain form: "xvdX", "hdX" (a to d), "sdX" (a to p), each with an
 * optional partition number (at most 255, 63, 15; no leading zero), and
 * "dNpM" (N below 2^20, M below 256) name disk X or N.  Since the AHCI
 * choice is not in XenStore, six disks are taken; a name not read here
 * (missing, or a form libxl's sscanf() and strtoul() also take: a sign,
 * blanks, hex) counts as a twin.  Erring that way leaves a disk unlocked;
 * the other way would keep the guest's device model from opening its
 * image.
 *
 * Return: true for a disk the device model may open too.
 */
bool skb_share_dm_disk(const char *vdev)
{
	long disk;

	if (!vdev)
		return true;
	if (vdev[0] >= '0' && vdev[0] <= '9')
		return false;	/* a number: libxl finds no index in it */
	if (!strncmp(vdev, "sd", 2))
		return true;	/* every SCSI disk libxl accepts */
	if (!strncmp(vdev, "hd", 2))
		disk = skb_vdev_letters(vdev + 2, 3, 63);
	else if (!strncmp(vdev, "xvd", 3))
		disk = skb_vdev_letters(vdev + 3, (1L << 20) - 1, 255);
	else
		disk = skb_vdev_dnpm(vdev);
	return disk < 6;	/* -1: not read here */
}
