// SPDX-License-Identifier: GPL-2.0
/*
 * splitkit_shunt's copy of splitkit_front's vbd numbering: the reader of
 * a vbd's "virtual-device" number (frontend/vbd_number.c) and its
 * decoder (the portable frontend/core/vdev.c, unit-tested with the
 * frontend's core), built into this module as well, so that the position
 * check (position.c) reads and decodes Xen's disk numbering exactly as
 * the frontend does, and the shunt needs neither splitkit_front loaded
 * nor a second reader or decoder.
 */
#include "../frontend/core/vdev.c"
#include "../frontend/vbd_number.c"
