// SPDX-License-Identifier: GPL-2.0
/*
 * splitkit_back module: init and exit, and the module parameters - what
 * every disk advertises to its frontend at probe (handed to xenbus.c
 * when it registers).  Init brings up the request layer (req.c: its
 * completion workqueue) and then registers the "vbd" xenbus backend
 * driver (xenbus.c); exit undoes both in reverse.  Each parameter is range
 * checked in its kernel_param_ops set() (<splitkit/param.h>), so a value
 * written through sysfs at run time is as safe as one given at load;
 * Documentation/block.rst lists them.  max_indirect_segs has a floor
 * (SKB_MIN_INDIRECT_SEGS, common.h): a guest restored onto fewer
 * segments than it ran with may crash.
 */
#include <linux/module.h>
#include <xen/xen.h>
#include <xen/xenbus.h>

#include <splitkit/export.h>
#include <splitkit/param.h>

#include "common.h"
#include "limit.h"

static struct skb_params skb_param = {
	.max_queues = 4,
	.max_ring_order = XENBUS_MAX_RING_GRANT_ORDER,
	.max_indirect_segs = 256,
	.poll_ns = 20000,
	.max_pages = 16384,
	.max_pages_all = 131072,
	.zero_copy = true,
	.qcow2_direct = true,
	.qcow2_writeback = false,
	.max_grants = 1056,
};

SK_PARAM_UINT(max_queues, skb_param.max_queues, 1, SKB_MAX_QUEUES, 0644,
	      "most queues (rings) per disk, 1-32, multi-queue-max-queues (default 4)");
SK_PARAM_UINT(max_ring_order, skb_param.max_ring_order, 0,
	      XENBUS_MAX_RING_GRANT_ORDER, 0644,
	      "largest ring-page-order accepted, 0-4, max-ring-page-order (default 4)");
SK_PARAM_UINT(max_indirect_segs, skb_param.max_indirect_segs,
	      SKB_MIN_INDIRECT_SEGS, SK_BLKIF_MAX_INDIRECT_SEGS, 0644,
	      "feature-max-indirect-segments, 256-4096, never fewer than xen-blkback's 256, which a restored guest may rely on (default 256)");
/* (a disk holding nothing may always start one request: budget.c) */
SK_PARAM_UINT(max_pages, skb_param.max_pages, SK_BLKIF_MAX_INDIRECT_SEGS,
	      SKB_MAX_BUDGET_PAGES, 0644,
	      "pages one disk's requests may hold at once (bounce pages and bookkeeping), 4096-16777216: 16 MiB-64 GiB (default 16384: 64 MiB); more waits");
SK_PARAM_UINT(max_pages_all, skb_param.max_pages_all,
	      SK_BLKIF_MAX_INDIRECT_SEGS, SKB_MAX_BUDGET_PAGES, 0644,
	      "pages all disks' requests may hold at once (bounce pages and bookkeeping), 4096-16777216 (default 131072: 512 MiB); more waits");
module_param_named(zero_copy, skb_param.zero_copy, bool, 0644);
MODULE_PARM_DESC(zero_copy,
		 "map a frontend's persistent grants once and do block and file I/O on them, no bounce page, no grant copy; read at each connect (default y; n: grant copy on bounce pages for every request)");
module_param_named(qcow2_direct, skb_param.qcow2_direct, bool, 0644);
MODULE_PARM_DESC(qcow2_direct,
		 "qcow2 disks: read and write the data an image holds in place with asynchronous O_DIRECT I/O on the image file, outside the image lock; read at each attach (default y; n: every request through the image engine, synchronously)");
module_param_named(qcow2_writeback, skb_param.qcow2_writeback, bool, 0644);
MODULE_PARM_DESC(qcow2_writeback,
		 "qcow2 disks with the direct path: start writing what the image engine wrote into dom0's page cache back to the disk at once, instead of with dom0's periodic write-back (after dirty_expire_centisecs); read at each write and each pass (default n: small random writes stay in the page cache as with qdisk, and the direct path takes pages still dirty from it)");
/*
 * xen-blkback's max_persistent_grants default: per disk the memory
 * xen-blkback may map with 4 rings in use
 */
SK_PARAM_UINT(max_grants, skb_param.max_grants, 0, SKB_MAX_GRANTS, 0644,
	      "persistent grants a disk keeps mapped per queue it offers (max_queues), 0-65536, one dom0 page frame each, shared by the rings the frontend connects; read at each connect (default 1056: 16.5 MiB a 4-queue disk; 0 turns zero copy off)");
SK_PARAM_UINT(poll_ns, skb_param.poll_ns, 0, SK_CHAN_MAX_POLL_NS, 0644,
	      "longest adaptive ring poll window in ns, 0-1000000 (default 20000)");

static int __init skb_init(void)
{
	int err;

	if (!xen_domain())
		return -ENODEV;
	skb_budget_init(&skb_param);
	err = skb_req_init();
	if (err)
		return err;
	err = skb_xenbus_register(&skb_param);
	if (err)
		goto exit_req;
	return 0;

exit_req:
	skb_req_exit();
	return err;
}

static void __exit skb_exit(void)
{
	skb_xenbus_unregister();
	skb_rings_exit();
	skb_limits_exit();
	skb_req_exit();
}

module_init(skb_init);
module_exit(skb_exit);

MODULE_DESCRIPTION("splitkit blkif backend (vbd): block devices and files for Xen guests");
MODULE_LICENSE("GPL");
MODULE_ALIAS("xen-backend:vbd");
SPLITKIT_IMPORT_NS();
