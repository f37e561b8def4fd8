// SPDX-License-Identifier: GPL-2.0
/*
 * splitkit_ring: module entry points of the splitkit transport core.
 *
 * The transport itself lives in the other files of ring/ (see
 * <splitkit/ring.h> and Documentation/ring.rst); this file creates what
 * they share: the consumer workqueue and the debugfs root.  Links hold a
 * module reference through the drivers that import our symbols, so no link
 * outlives the module.
 */
#include <linux/init.h>
#include <linux/module.h>
#include <linux/workqueue.h>
#include <xen/xen.h>

#include <splitkit/export.h>

#include "internal.h"

struct workqueue_struct *sk_ring_wq;

static int __init splitkit_ring_init(void)
{
	if (!xen_domain())
		return -ENODEV;
	/*
	 * High priority: a consumer run is what turns an event into a
	 * response.  Per-CPU: the run stays on the CPU that took the event.
	 */
	sk_ring_wq = alloc_workqueue("splitkit_ring",
				     WQ_HIGHPRI | WQ_MEM_RECLAIM, 0);
	if (!sk_ring_wq)
		return -ENOMEM;
	sk_stats_init();
	pr_info("splitkit_ring: transport core loaded\n");
	return 0;
}

static void __exit splitkit_ring_exit(void)
{
	sk_stats_exit();
	destroy_workqueue(sk_ring_wq);
}

module_init(splitkit_ring_init);
module_exit(splitkit_ring_exit);

MODULE_DESCRIPTION("splitkit transport core: shared rings and event channels");
MODULE_LICENSE("GPL");
