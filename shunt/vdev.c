// SPDX-License-Identifier: GPL-2.0
/*
 * splitkit_shunt's copy of splitkit_front's "virtual-device" decoder: the
 * one portable source (frontend/core/vdev.c, unit-tested with the
 * frontend's core) built into this module as well, so that the position
 * check (position.c) reads Xen's disk numbering exactly as the frontend
 * names the disk, and the shunt needs neither splitkit_front loaded nor
 * a second decoder.
 */
#include "../frontend/core/vdev.c"
