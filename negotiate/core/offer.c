// SPDX-License-Identifier: GPL-2.0
/*
 * splitkit_negotiate portable core: the provider table (each resource's
 * name, unit, range and target rule) and what dom0 offers: the offers for
 * a request given what is available, and a slot's share of a capacity
 * that no longer covers every agreement.  The kernel half of each provider
 * (apply, revoke, where its capacity comes from) is negotiate/provider.c.
 * Documentation/negotiate.rst ("Offers", "Providers") is the reference.
 */
#include "negotiate_core.h"

/*
 * Adding a provider: one line here and one in negotiate/provider.c's
 * table, in the same order (enum skn_provider_id).
 */
const struct skn_provider skn_providers[SKN_NR_PROVIDERS] = {
	[SKN_P_BLK_IOPS] = {
		.name = "blk.iops", .unit = "requests/s",
		.min = 10, .max = 10000000, .target_max = SKN_TARGET_MAX,
	},
	[SKN_P_BLK_BW] = {
		.name = "blk.bandwidth", .unit = "bytes/s",
		.min = 65536, .max = 1ull << 40, .target_max = SKN_TARGET_MAX,
	},
	/* the guest's whole memory; the target is the domain itself, 0 */
	[SKN_P_MEMORY] = {
		.name = "memory", .unit = "MiB",
		.min = 64, .max = 1048576, .target_max = 0,
	},
	/* a disk's rings: splitkit_back's multi-queue-max-queues */
	[SKN_P_BLK_QUEUES] = {
		.name = "blk.queues", .unit = "queues",
		.min = 1, .max = 16, .target_max = SKN_TARGET_MAX,
	},
	/* pages per ring: 2^max-ring-page-order, up to Xen's 16 grants */
	[SKN_P_BLK_RING] = {
		.name = "blk.ring", .unit = "pages",
		.min = 1, .max = 16, .target_max = SKN_TARGET_MAX, .pow2 = true,
	},
	/* the guest's online vCPUs, up to its maxvcpus; target 0 */
	[SKN_P_VCPUS] = {
		.name = "vcpus", .unit = "vCPUs",
		.min = 1, .max = 512, .target_max = 0,
	},
};

static bool skn_name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.';
}

/**
 * skn_provider_find() - look a guest-written resource name up.
 * @name: the characters (need not be NUL-terminated).
 * @len: their number; a NUL before @len ends the name.
 *
 * Return: the enum skn_provider_id, -EINVAL for a name that is empty, too
 * long or has a character outside [a-z0-9.], -ENOENT for a well-formed
 * name no provider has.
 */
int skn_provider_find(const char *name, size_t len)
{
	size_t n, i;

	for (n = 0; n < len && name[n]; n++)
		if (n >= SKN_NAME_MAX || !skn_name_char(name[n]))
			return -EINVAL;
	if (!n)
		return -EINVAL;
	for (i = 0; i < SKN_NR_PROVIDERS; i++)
		if (strlen(skn_providers[i].name) == n &&
		    !memcmp(skn_providers[i].name, name, n))
			return (int)i;
	return -ENOENT;
}

/* Fractions of the first offer that follow it, in quarters. */
static const u8 skn_offer_quarters[SKN_MAX_OFFERS] = { 4, 3, 2, 1 };

/* The largest power of two not above @x (@x > 0). */
static u64 skn_pow2_floor(u64 x)
{
	u64 p = 1;

	while (p <= x / 2)
		p *= 2;
	return p;
}

/**
 * skn_make_offers() - what dom0 offers for a request.
 * @req: the parsed request.
 * @available: what the provider can give this slot.
 * @v: SKN_MAX_OFFERS values, filled largest first.
 *
 * The first offer is min(max, available); then 3/4, 1/2 and 1/4 of it,
 * each kept if it is at least the request's min and below the one before.
 * A pow2 provider's offers are each rounded down to a power of two first.
 *
 * Return: the number of offers, 0 if @available is below the request's
 * min.
 */
u32 skn_make_offers(const struct skn_request *req, u64 available, u64 *v)
{
	u64 top = req->max < available ? req->max : available;
	u32 i, n = 0;

	if (top < req->min)
		return 0;
	for (i = 0; i < SKN_MAX_OFFERS; i++) {
		/* top <= 2^40 (provider ranges), no overflow */
		u64 x = top / 4 * skn_offer_quarters[i] +
			top % 4 * skn_offer_quarters[i] / 4;

		if (x && req->provider < SKN_NR_PROVIDERS &&
		    skn_providers[req->provider].pow2)
			x = skn_pow2_floor(x);

		if (x < req->min || (n && x >= v[n - 1]))
			continue;
		v[n++] = x;
	}
	return n;
}

/**
 * skn_ceiling() - what one agreement may hold under dom0's policy.
 * @value: what capacity and the other agreements leave it, or its share.
 * @ceiling: the most one agreement of the provider may hold (dom0's policy,
 *	in the provider's unit), 0 for no ceiling.
 *
 * Return: @value, or @ceiling if that is lower.
 */
u64 skn_ceiling(u64 value, u64 ceiling)
{
	return ceiling && ceiling < value ? ceiling : value;
}

/**
 * skn_squeeze() - what a slot whose offers or agreement no longer fit
 *	may be offered now.
 * @held: the slot's agreement (0 while it has offers and none).
 * @available: what the provider has left for the slot: its capacity less
 *	the other agreements (and what guests keep), under dom0's ceiling.
 * @share: the slot's share of a capacity that no longer covers every
 *	agreement (skn_share() of @held, under the ceiling).
 *
 * The share bounds only a slot that holds more than it (dom0 lowered the
 * capacity under the agreements); a slot with no agreement, or one within
 * its share, is offered what is left, as a request is.
 *
 * Return: the value to make offers from (SKN_EV_CAPACITY's available).
 */
u64 skn_squeeze(u64 held, u64 available, u64 share)
{
	return share < held && share < available ? share : available;
}

/**
 * skn_share() - a slot's share of a capacity that no longer covers all.
 * @value: the slot's agreement.
 * @capacity: the provider's capacity.
 * @held: what every agreement of the provider holds, @value included.
 *
 * Return: @value if everything fits (or @value exceeds @held), else
 * @value * @capacity / @held rounded down, so that the shares never add up
 * to more than @capacity.
 */
u64 skn_share(u64 value, u64 capacity, u64 held)
{
	u64 q = 0, r = 0;
	int i;

	if (held <= capacity || value > held)
		return value;
	if (held >> 62)		/* beyond any real sum: give nothing */
		return 0;
	/*
	 * floor(value * capacity / held) by shift and subtract, with no
	 * 128-bit division (which the kernel does not link): r stays below
	 * held < 2^62, so 2 * r + value never overflows.
	 */
	for (i = 63; i >= 0; i--) {
		q <<= 1;
		r <<= 1;
		if (r >= held) {
			r -= held;
			q++;
		}
		if (capacity >> i & 1) {
			r += value;
			if (r >= held) {
				r -= held;
				q++;
			}
		}
	}
	return q;
}
