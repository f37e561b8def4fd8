// SPDX-License-Identifier: GPL-2.0
/*
 * splitkit_front module entry: parameters (each range-checked when set),
 * the xvd block major, and registration of the "vbd" xenbus frontend
 * driver (frontend/xenbus.c).  Replaces Linux's xen-blkfront in a guest;
 * only one of the two may be loaded, as both bind "vbd" and major 202.
 */
#include <linux/kernel.h>
#include <linux/major.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <xen/page.h>
#include <xen/xen.h>
#include <xen/xenbus.h>

#include <splitkit/export.h>
#include <splitkit/param.h>

#include "common.h"

unsigned int skf_max_queues = 4;
unsigned int skf_max_ring_order = 2;
unsigned int skf_max_indirect_segs = SKF_DEFAULT_SEGS;
unsigned int skf_poll_queues;
bool skf_persistent_grants = true;
bool skf_irq_completion = true;
unsigned int skf_rsp_coalesce = 8;

SK_PARAM_UINT(max_queues, skf_max_queues, 1, SKF_MAX_QUEUES, 0444,
	      "most interrupt-driven queues (rings) per disk, 1-16 (default 4; never more than online CPUs or than the backend offers)");
SK_PARAM_UINT(max_ring_order, skf_max_ring_order, 0,
	      XENBUS_MAX_RING_GRANT_ORDER, 0444,
	      "largest ring-page-order per ring, 0-4 (default 2: 4 pages, 128 requests)");
SK_PARAM_UINT(max_indirect_segs, skf_max_indirect_segs, 0, SK_BLKIF_MAX_INDIRECT_SEGS,
	      0444,
	      "most segments per indirect request, 0-4096; 11 or less disables indirect requests (default 32)");
SK_PARAM_UINT(poll_queues, skf_poll_queues, 0, SKF_MAX_QUEUES - 1, 0444,
	      "polled queues per disk for io_uring hipri / RWF_HIPRI I/O, 0-15 (default 0)");
SK_PARAM_UINT(rsp_coalesce, skf_rsp_coalesce, 1, 64, 0444,
	      "most answers one response event stands for when a ring has at least 4 times as many requests in flight, 1-64 (default 8; 1: an event per answer, as xen-blkfront)");
module_param_named(persistent_grants, skf_persistent_grants, bool, 0444);
MODULE_PARM_DESC(persistent_grants,
		 "offer persistent grants to the backend (default y)");

module_param_named(irq_completion, skf_irq_completion, bool, 0444);
MODULE_PARM_DESC(irq_completion,
		 "complete responses in the event handler, as xen-blkfront does (default y); n: in a work item, one context switch more per batch");

static int __init skf_init(void)
{
	int err;

	if (!xen_domain())
		return -ENODEV;
	/* a bounce page carries one 4 KiB blkif segment (bounce.c) */
	if (PAGE_SIZE != XEN_PAGE_SIZE) {
		pr_err(SKF_NAME ": needs %lu-byte pages; this kernel has %lu\n",
		       (unsigned long)XEN_PAGE_SIZE, PAGE_SIZE);
		return -EOPNOTSUPP;
	}
	err = register_blkdev(XENVBD_MAJOR, "xvd");
	if (err) {
		pr_err(SKF_NAME ": major %d is taken (is xen-blkfront loaded?)\n",
		       XENVBD_MAJOR);
		return err;
	}
	err = sk_xb_driver_register(&skf_xenbus_driver);
	if (err)
		goto unregister_major;
	return 0;

unregister_major:
	unregister_blkdev(XENVBD_MAJOR, "xvd");
	return err;
}

static void __exit skf_exit(void)
{
	sk_xb_driver_unregister(&skf_xenbus_driver);
	unregister_blkdev(XENVBD_MAJOR, "xvd");
}

module_init(skf_init);
module_exit(skf_exit);

MODULE_DESCRIPTION("splitkit blkif frontend: Xen PV disk on blk-mq");
MODULE_LICENSE("GPL");
MODULE_ALIAS("xen:vbd");
MODULE_ALIAS_BLOCKDEV_MAJOR(XENVBD_MAJOR);
SPLITKIT_IMPORT_NS();
