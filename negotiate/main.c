// SPDX-License-Identifier: GPL-2.0
/*
 * splitkit_negotiate module: init and exit, and the module parameters.
 * One module for both ends: in dom0 it registers the backend driver
 * (back.c), in any other domain the frontend driver (front.c) of the
 * "sk-neg" xenbus device.  Each parameter is range-checked in
 * its set() (<splitkit/param.h>); the two capacities also start a
 * renegotiation with every guest whose agreement no longer fits.
 * Documentation/negotiate.rst is the protocol.
 */
#include <linux/module.h>
#include <linux/spinlock.h>
#include <linux/string.h>
#include <linux/sysfs.h>
#include <xen/xen.h>

#include <splitkit/export.h>
#include <splitkit/param.h>

#include "common.h"

unsigned int skn_offer_timeout_ms = 30000;
SK_PARAM_UINT(offer_timeout_ms, skn_offer_timeout_ms, SKN_TIMEOUT_MIN_MS,
	      SKN_TIMEOUT_MAX_MS, 0644,
	      "how long offers stand, and how long a guest waits for them, in ms, 1000-600000 (default 30000)");

unsigned int skn_req_rate = 4;
SK_PARAM_UINT(req_rate, skn_req_rate, 1, 1000, 0444,
	      "requests and bad messages per second read from one guest, 1-1000 (default 4)");

unsigned int skn_req_burst = 8;
SK_PARAM_UINT(req_burst, skn_req_burst, 1, 1000, 0444,
	      "burst of requests read from one guest at once, 1-1000 (default 8)");

#ifdef SKN_TEST_HOOKS
unsigned int skn_test_read_clock = 1;
SK_PARAM_UINT(test_read_clock, skn_test_read_clock, 0, 1, 0644,
	      "test builds: 0 stops the slot-read limit's clock (no token comes back until 1), so a test sees the limit applied whatever its speed (default 1)");
#endif

unsigned int skn_max_slots = SKN_MAX_SLOTS;
SK_PARAM_UINT(max_slots, skn_max_slots, 1, SKN_MAX_SLOTS, 0444,
	      "slots (resources negotiated at once) per guest, 1-8 (default 8)");

unsigned int skn_mem_helper_timeout_ms = 60000;
SK_PARAM_UINT(mem_helper_timeout_ms, skn_mem_helper_timeout_ms, 0, 3600000,
	      0644,
	      "how long the mem_helper may run before it is killed and the agreement fails with ETIMEDOUT, in ms, 0-3600000, 0 for no limit (default 60000)");

/* protects skn_mem_helper; never held with anything else */
static DEFINE_SPINLOCK(skn_mem_helper_lock);
static char skn_mem_helper[SKN_MEM_HELPER_MAX] = "/usr/sbin/splitkit";

/*
 * mem_helper: an absolute path, or empty to apply no memory agreement.
 * Its own lock, not kernel_param_lock: it is read under skn_back_lock,
 * which the capacity parameters' set() takes under kernel_param_lock.
 */
static int skn_set_mem_helper(const char *val, const struct kernel_param *kp)
{
	size_t len = strcspn(val, "\n");

	if (len >= SKN_MEM_HELPER_MAX || (len && val[0] != '/'))
		return -EINVAL;
	spin_lock(&skn_mem_helper_lock);
	memcpy(skn_mem_helper, val, len);
	skn_mem_helper[len] = '\0';
	spin_unlock(&skn_mem_helper_lock);
	return 0;
}

static int skn_get_mem_helper(char *buf, const struct kernel_param *kp)
{
	char helper[SKN_MEM_HELPER_MAX];

	skn_mem_helper_get(helper, sizeof(helper));
	return sysfs_emit(buf, "%s\n", helper);
}

static const struct kernel_param_ops skn_ops_mem_helper = {
	.set = skn_set_mem_helper,
	.get = skn_get_mem_helper,
};
module_param_cb(mem_helper, &skn_ops_mem_helper, NULL, 0644);
MODULE_PARM_DESC(mem_helper,
		 "dom0: the splitkit tool, run as 'HELPER negotiate set-memory DOMID MIB' to apply a memory agreement; empty: memory is not applied (default /usr/sbin/splitkit)");

/**
 * skn_mem_helper_get() - the mem_helper parameter's path.
 * @buf: where to copy it.
 * @size: @buf's size in bytes, at least SKN_MEM_HELPER_MAX.
 *
 * Context: any; takes skn_mem_helper_lock.
 */
void skn_mem_helper_get(char *buf, size_t size)
{
	spin_lock(&skn_mem_helper_lock);
	strscpy(buf, skn_mem_helper, size);
	spin_unlock(&skn_mem_helper_lock);
}

/*
 * The capacities and ceilings: SK_PARAM_UINT's range check, then the
 * provider's new value (@setter: skn_provider_set_capacity() or
 * skn_provider_set_guest_max()) and a renegotiation of what no longer fits.
 */
#define SKN_CAPACITY_PARAM(name, provider, setter, max, desc)		\
static unsigned int skn_##name;						\
static int skn_set_##name(const char *val,				\
			  const struct kernel_param *kp)		\
{									\
	int err = param_set_uint_minmax(val, kp, 0, (max));		\
									\
	if (err)							\
		return err;						\
	setter((provider), skn_##name);					\
	skn_back_capacity_changed();					\
	return 0;							\
}									\
static const struct kernel_param_ops skn_ops_##name = {			\
	.set = skn_set_##name,						\
	.get = param_get_uint,						\
};									\
module_param_cb(name, &skn_ops_##name, &skn_##name, 0644);		\
MODULE_PARM_DESC(name, desc)

SKN_CAPACITY_PARAM(blk_iops_capacity, SKN_P_BLK_IOPS,
		   skn_provider_set_capacity, 10000000,
		   "requests/s dom0 shares among guests' disks (blk.iops), 0-10000000, 0 offers none (default 0)");
SKN_CAPACITY_PARAM(blk_bw_capacity_kib, SKN_P_BLK_BW,
		   skn_provider_set_capacity, 1073741824,
		   "KiB/s dom0 shares among guests' disks (blk.bandwidth), 0-1073741824, 0 offers none (default 0)");
SKN_CAPACITY_PARAM(blk_iops_guest_max, SKN_P_BLK_IOPS,
		   skn_provider_set_guest_max, 10000000,
		   "requests/s one blk.iops agreement may hold at most, 0-10000000, 0 for no ceiling (default 0)");
SKN_CAPACITY_PARAM(blk_bw_guest_max_kib, SKN_P_BLK_BW,
		   skn_provider_set_guest_max, 1073741824,
		   "KiB/s one blk.bandwidth agreement may hold at most, 0-1073741824, 0 for no ceiling (default 0)");

SKN_CAPACITY_PARAM(mem_capacity_mib, SKN_P_MEMORY,
		   skn_provider_set_capacity, 1048576,
		   "MiB of memory dom0 shares among guests (memory), 0-1048576, 0 offers none (default 0; splitkit negotiate capacity memory auto: Xen's free memory)");
SKN_CAPACITY_PARAM(mem_guest_max_mib, SKN_P_MEMORY,
		   skn_provider_set_guest_max, 1048576,
		   "MiB one memory agreement may hold at most, 0-1048576, 0 for no ceiling (default 0)");

SKN_CAPACITY_PARAM(blk_queues_capacity, SKN_P_BLK_QUEUES,
		   skn_provider_set_capacity, 1024,
		   "rings dom0 shares among guests' disks (blk.queues), 0-1024, 0 offers none (default 0)");
SKN_CAPACITY_PARAM(blk_queues_guest_max, SKN_P_BLK_QUEUES,
		   skn_provider_set_guest_max, 16,
		   "rings one blk.queues agreement may hold at most, 0-16, 0 for no ceiling (default 0)");
SKN_CAPACITY_PARAM(blk_ring_capacity_pages, SKN_P_BLK_RING,
		   skn_provider_set_capacity, 16384,
		   "ring pages per ring dom0 shares among guests' disks (blk.ring), 0-16384, 0 offers none (default 0)");
SKN_CAPACITY_PARAM(blk_ring_guest_max_pages, SKN_P_BLK_RING,
		   skn_provider_set_guest_max, 16,
		   "pages per ring one blk.ring agreement may hold at most, 0-16, 0 for no ceiling (default 0)");

SKN_CAPACITY_PARAM(vcpus_capacity, SKN_P_VCPUS,
		   skn_provider_set_capacity, 65536,
		   "vCPUs dom0 shares among guests (vcpus), 0-65536, 0 offers none (default 0)");
SKN_CAPACITY_PARAM(vcpus_guest_max, SKN_P_VCPUS,
		   skn_provider_set_guest_max, 512,
		   "vCPUs one vcpus agreement may hold at most, 0-512, 0 for no ceiling (default 0)");

static int __init skn_init(void)
{
	if (!xen_domain())
		return -ENODEV;
	if (xen_initial_domain())
		return skn_back_register();
	return skn_front_register();
}

static void __exit skn_exit(void)
{
	if (xen_initial_domain())
		skn_back_unregister();
	else
		skn_front_unregister();
}

module_init(skn_init);
module_exit(skn_exit);

MODULE_DESCRIPTION("splitkit resource negotiation between a guest and dom0");
MODULE_LICENSE("GPL");
/* the device names Linux makes from the type must fit its bus ids */
static_assert(SKN_BUS_ID_FITS);

MODULE_ALIAS("xen-backend:" SKN_DEVTYPE);
MODULE_ALIAS("xen:" SKN_DEVTYPE);
SPLITKIT_IMPORT_NS();
