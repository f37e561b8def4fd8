// SPDX-License-Identifier: GPL-2.0
/*
 * A vbd's disk number as the toolstack wrote it in the frontend's
 * XenStore directory: "virtual-device", or "virtual-device-ext" for the
 * numbers that do not fit the old 16-bit-minor encoding (the blkif
 * protocol, xen/include/public/io/blkif.h, and docs/misc/vbd-interface
 * of Xen).  splitkit_front's probe and claims and splitkit_shunt's
 * position check all read it here, so a number one of them takes the
 * others take too, and the claims and the position check also decode it
 * to a whole disk's index here (skf_vbd_disk_index()).  The directory is
 * the guest's own, so the value is
 * parsed strictly (kstrtou32(): decimal digits of a u32, an optional
 * leading '+', nothing after them but a newline).  Built into
 * splitkit_front and, through shunt/vdev.c, into splitkit_shunt, which
 * loads without splitkit_front and splitkit_ring.
 */
#include <linux/err.h>
#include <linux/kernel.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <xen/xenbus.h>

#include "vbd_number.h"
#include "core/check.h"

/* 0 and the number in *@out, -ENOENT without the node, -EINVAL if bad. */
static int skf_read_u32_node(const char *dir, const char *node, u32 *out)
{
	char *s;
	int err;

	s = xenbus_read(XBT_NIL, dir, node, NULL);
	if (IS_ERR(s))
		return PTR_ERR(s);
	err = kstrtou32(s, 10, out) ? -EINVAL : 0;
	kfree(s);
	return err;
}

/**
 * skf_read_vdevice() - read a vbd's "virtual-device" number.
 * @nodename: the vbd's frontend directory (device/vbd/<id>).
 * @vdevice: where the number goes.
 *
 * "virtual-device" when the node exists, else "virtual-device-ext".  A
 * node that exists with anything but a decimal u32 in it is an error, not
 * a reason to try the other.  Process context (XenStore; may sleep).
 *
 * Return: 0; -ENOENT when neither node exists, -EINVAL for a malformed
 * number, or the XenStore read's error.
 */
int skf_read_vdevice(const char *nodename, u32 *vdevice)
{
	int err;

	err = skf_read_u32_node(nodename, "virtual-device", vdevice);
	if (err == -ENOENT)
		err = skf_read_u32_node(nodename, "virtual-device-ext",
					vdevice);
	return err;
}

/**
 * skf_vbd_disk_index() - the whole disk a frontend vbd device is.
 * @xbdev: a device of the frontend's xenbus ("xen").
 * @vdevice: where its "virtual-device" number goes (skf_read_vdevice()).
 *
 * The disk index of the Xen disk numbering (docs/misc/vbd-interface of
 * Xen: hda, sda and xvda are disk 0), for splitkit_front's claims and
 * splitkit_shunt's position check.  Process context (XenStore; may
 * sleep); the caller holds a reference to @xbdev.
 *
 * Return: the disk index (>= 0); -ENODEV for a device that is no vbd,
 * -EIO when its number cannot be read, -EINVAL for a number that names
 * no whole disk (a partition, or no disk of the numbering).
 */
int skf_vbd_disk_index(struct xenbus_device *xbdev, u32 *vdevice)
{
	struct skf_vdev v;

	if (strcmp(xbdev->devicetype, "vbd"))
		return -ENODEV;
	if (skf_read_vdevice(xbdev->nodename, vdevice))
		return -EIO;
	if (skf_vdev_decode(*vdevice, &v) || v.part)
		return -EINVAL;
	return v.index;
}
