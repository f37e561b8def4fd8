// SPDX-License-Identifier: GPL-2.0
/*
 * The portable ring core of splitkit_ring (ring/core/ring.c: index
 * arithmetic, peer-index validation, copy-out), compiled into
 * splitkit_front for its polled rings (pollq.c).  splitkit_ring links the
 * same file but neither exports it nor offers a channel that is reaped by
 * its caller instead of by an event, which blk-mq poll queues need.  The
 * core is stateless, so a second copy is safe; its symbols stay local to
 * this module.
 */
#include "../ring/core/ring.c"
