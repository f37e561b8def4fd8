// SPDX-License-Identifier: GPL-2.0
/*
 * Exports of the portable ring core (ring/core/ring.c) to the other
 * splitkit modules.  The core is plain C shared with the host unit tests,
 * so it carries no kernel export macros itself; this file is where
 * splitkit_ring offers it.  splitkit_front drives its blk-mq poll queues
 * with these directly: a polled ring is reaped by its caller, not by an
 * event, so it is not a splitkit_ring channel.
 */
#include <splitkit/export.h>
#include <splitkit/ring_core.h>

SPLITKIT_EXPORT(sk_ring_desc_init);
SPLITKIT_EXPORT(sk_front_init);
SPLITKIT_EXPORT(sk_front_free);
SPLITKIT_EXPORT(sk_front_next_req);
SPLITKIT_EXPORT(sk_front_put_req);
SPLITKIT_EXPORT(sk_front_push);
SPLITKIT_EXPORT(sk_front_poll_rsp);
SPLITKIT_EXPORT(sk_front_get_rsp);
SPLITKIT_EXPORT(sk_front_final_check);
SPLITKIT_EXPORT(sk_back_init);
SPLITKIT_EXPORT(sk_back_poll_req);
SPLITKIT_EXPORT(sk_back_get_req);
SPLITKIT_EXPORT(sk_back_next_rsp);
SPLITKIT_EXPORT(sk_back_put_rsp);
SPLITKIT_EXPORT(sk_back_push);
SPLITKIT_EXPORT(sk_back_final_check);
