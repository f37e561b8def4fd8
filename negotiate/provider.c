// SPDX-License-Identifier: GPL-2.0
/*
 * splitkit_negotiate providers, the kernel half: for each entry of the
 * portable skn_providers[] (core/offer.c, same order), where its capacity
 * comes from and how an agreement is applied and revoked.  The block
 * providers hand the agreed rate to splitkit_back (skb_limit_set(),
 * backend/limit.c), which enforces it per disk; splitkit_back is found at
 * run time with symbol_get() and released at once, so a guest (which has
 * no splitkit_back) loads this module too, and splitkit_back can be
 * unloaded between two agreements.  Without it the block providers answer
 * -ENODEV.  Capacities are the module parameters blk_iops_capacity and
 * blk_bw_capacity_kib (main.c); 0 offers nothing.  The ceilings, the most
 * one agreement may hold, are blk_iops_guest_max and blk_bw_guest_max_kib;
 * 0 sets none.  "splitkit negotiate policy" sets all four from a file.
 */
#include <linux/module.h>

#include <splitkit/blk_limit.h>

#include "common.h"

/**
 * struct skn_kprovider - a provider's kernel half.
 * @kind: the splitkit_back limit it sets (enum skb_limit_kind).
 * @scale: capacity units to the provider's unit (KiB to bytes).
 * @capacity: dom0's capacity, in the parameter's units.
 * @guest_max: the most one agreement may hold, in the parameter's units;
 *	0 for no ceiling.
 */
struct skn_kprovider {
	unsigned int kind;
	u64 scale;
	u64 capacity;
	u64 guest_max;
};

static struct skn_kprovider skn_kproviders[SKN_NR_PROVIDERS] = {
	[SKN_P_BLK_IOPS] = { .kind = SKB_LIMIT_IOPS, .scale = 1 },
	[SKN_P_BLK_BW] = { .kind = SKB_LIMIT_BW, .scale = 1024 },
};

/**
 * skn_provider_set_capacity() - set dom0's capacity of a provider.
 * @provider: enum skn_provider_id.
 * @capacity: in the parameter's units (blk.bandwidth: KiB/s).
 *
 * Return: 0 or -EINVAL.
 */
int skn_provider_set_capacity(u32 provider, u64 capacity)
{
	if (provider >= SKN_NR_PROVIDERS)
		return -EINVAL;
	WRITE_ONCE(skn_kproviders[provider].capacity, capacity);
	return 0;
}

/**
 * skn_provider_capacity() - dom0's capacity of a provider.
 * @provider: enum skn_provider_id.
 *
 * Return: the capacity in the provider's unit, 0 for none.
 */
u64 skn_provider_capacity(u32 provider)
{
	const struct skn_kprovider *p;

	if (provider >= SKN_NR_PROVIDERS)
		return 0;
	p = &skn_kproviders[provider];
	return READ_ONCE(p->capacity) * p->scale;
}

/**
 * skn_provider_set_guest_max() - set the most one agreement may hold.
 * @provider: enum skn_provider_id.
 * @guest_max: in the parameter's units (blk.bandwidth: KiB/s); 0 for none.
 *
 * Return: 0 or -EINVAL.
 */
int skn_provider_set_guest_max(u32 provider, u64 guest_max)
{
	if (provider >= SKN_NR_PROVIDERS)
		return -EINVAL;
	WRITE_ONCE(skn_kproviders[provider].guest_max, guest_max);
	return 0;
}

/**
 * skn_provider_guest_max() - the most one agreement of a provider may hold.
 * @provider: enum skn_provider_id.
 *
 * Return: the ceiling in the provider's unit, 0 for none.
 */
u64 skn_provider_guest_max(u32 provider)
{
	const struct skn_kprovider *p;

	if (provider >= SKN_NR_PROVIDERS)
		return 0;
	p = &skn_kproviders[provider];
	return READ_ONCE(p->guest_max) * p->scale;
}

/**
 * skn_provider_apply() - put an agreement in force, or end it.
 * @provider: enum skn_provider_id.
 * @domid: the guest.
 * @target: the slot's target (a disk's virtual-device number).
 * @value: the agreed value; 0 revokes.
 *
 * Return: 0, -ENODEV if splitkit_back is not loaded, or its error.
 */
int skn_provider_apply(u32 provider, u16 domid, u32 target, u64 value)
{
	int (*set)(u16 domid, u32 vdev, unsigned int kind, u64 rate);
	int err;

	if (provider >= SKN_NR_PROVIDERS)
		return -EINVAL;
	set = symbol_get(skb_limit_set);
	if (!set)
		return -ENODEV;
	err = set(domid, target, skn_kproviders[provider].kind, value);
	symbol_put(skb_limit_set);
	return err;
}
