/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Reading a vbd's disk number from XenStore (vbd_number.c): the one
 * reader of "virtual-device" / "virtual-device-ext" that splitkit_front's
 * probe and claims and splitkit_shunt's position check share.
 */
#ifndef SPLITKIT_FRONT_VBD_NUMBER_H
#define SPLITKIT_FRONT_VBD_NUMBER_H

#include <linux/types.h>

int skf_read_vdevice(const char *nodename, u32 *vdevice);

#endif /* SPLITKIT_FRONT_VBD_NUMBER_H */
