/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Reading a vbd's disk number from XenStore (vbd_number.c): the one
 * reader of "virtual-device" / "virtual-device-ext" that splitkit_front's
 * probe and claims and splitkit_shunt's position check share, and the
 * decoding of it to a whole disk's index that the last two share.
 */
#ifndef SPLITKIT_FRONT_VBD_NUMBER_H
#define SPLITKIT_FRONT_VBD_NUMBER_H

#include <linux/types.h>

struct xenbus_device;

int skf_read_vdevice(const char *nodename, u32 *vdevice);
int skf_vbd_disk_index(struct xenbus_device *xbdev, u32 *vdevice);

#endif /* SPLITKIT_FRONT_VBD_NUMBER_H */
