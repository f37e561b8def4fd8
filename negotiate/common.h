/* SPDX-License-Identifier: GPL-2.0 */
/*
 * splitkit_negotiate: what its files share.  main.c holds the module
 * parameters and registers one driver: back.c (dom0's end, the
 * authoritative state of every slot) in dom0, front.c (the guest's end) in
 * a guest.  reap.c removes dom0's end of a destroyed domain's device.
 * provider.c is the kernel half of each provider (apply, revoke,
 * capacity); the portable half, the state tables and the parsers are
 * core/ (negotiate_core.h).  Documentation/negotiate.rst is the protocol.
 */
#ifndef _SPLITKIT_NEGOTIATE_COMMON_H
#define _SPLITKIT_NEGOTIATE_COMMON_H

#include <linux/spinlock.h>
#include <linux/types.h>
#include <xen/xenbus.h>

#include "negotiate_core.h"

/* main.c: module parameters */
extern unsigned int skn_offer_timeout_ms;
extern unsigned int skn_mem_helper_timeout_ms;
extern unsigned int skn_req_rate;
extern unsigned int skn_req_burst;
/*
 * Slot reads a token of the request limit buys (back.c's read limit): a
 * message takes one read of its slot, and a few more find nothing new
 * (the guest's own writes of the same message, a torn read retried).
 */
#define SKN_READS_PER_MSG	4
#ifdef SKN_TEST_HOOKS
extern unsigned int skn_test_read_clock;
#endif
extern unsigned int skn_max_slots;
#define SKN_MEM_HELPER_MAX	256	/* mem_helper, bytes with the NUL */
void skn_mem_helper_get(char *buf, size_t size);

/* back.c */
int skn_back_register(void);
void skn_back_unregister(void);
void skn_back_capacity_changed(void);

/**
 * struct skn_reap_dev - one domain reap.c checks, with dom0's devices of it.
 * @domid: the guest's domain.
 * @dir: dom0's directory of its devices, "backend/sk-neg/<domid>".
 */
struct skn_reap_dev {
	u16 domid;
	char *dir;
};

int skn_back_reap_list(struct skn_reap_dev **out);
int skn_xs_node(struct xenbus_transaction t, const char *path);

/* reap.c: dom0's end of a destroyed domain's device removes itself */
void skn_reap_start(void);
void skn_reap_stop_watch(void);
void skn_reap_stop(void);
void skn_reap_queue(bool all);

/* front.c */
int skn_front_register(void);
void skn_front_unregister(void);

/* provider.c */
struct pid;

/**
 * struct skn_apply - dom0's end's hold on the helper its apply runs, so
 * that removing the end cancels it instead of waiting for it.
 * @lock: protects @pid and @cancelled.
 * @pid: the running helper's process; NULL when none runs.
 * @cancelled: the end is going: a running helper is killed, none starts.
 */
struct skn_apply {
	spinlock_t lock;	/* protects pid, cancelled */
	struct pid *pid;
	bool cancelled;
};

void skn_apply_init(struct skn_apply *ap);
void skn_apply_cancel(struct skn_apply *ap);
u64 skn_provider_capacity(u32 provider);
int skn_provider_apply(u32 provider, u16 domid, u32 target, u64 value,
		       struct skn_apply *ap);
bool skn_provider_keeps(u32 provider);
int skn_provider_set_capacity(u32 provider, u64 capacity);
u64 skn_provider_guest_max(u32 provider);
u64 skn_provider_domain_max(u32 provider, u16 domid);
int skn_provider_set_guest_max(u32 provider, u64 guest_max);

#endif /* _SPLITKIT_NEGOTIATE_COMMON_H */
