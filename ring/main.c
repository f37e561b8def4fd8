// SPDX-License-Identifier: GPL-2.0
/*
 * splitkit_ring: module entry points of the splitkit transport core.
 *
 * The transport (shared ring pages, event channels, the xenbus state helper)
 * is used by splitkit_front and splitkit_back; this file only registers and
 * unregisters what the rest of the module provides.
 */
#include <linux/module.h>
#include <linux/init.h>
#include <xen/xen.h>

#include <splitkit/export.h>

static int __init splitkit_ring_init(void)
{
	if (!xen_domain())
		return -ENODEV;
	pr_info("splitkit_ring: transport core loaded\n");
	return 0;
}

static void __exit splitkit_ring_exit(void)
{
}

module_init(splitkit_ring_init);
module_exit(splitkit_ring_exit);

MODULE_DESCRIPTION("splitkit transport core: shared rings and event channels");
MODULE_LICENSE("GPL");
