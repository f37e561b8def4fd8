// SPDX-License-Identifier: GPL-2.0
/*
 * splitkit tool: dom0's half of the memory provider of splitkit_negotiate
 * (Documentation/negotiate.rst, "The memory provider"), through Xen's
 * toolstack library libxl (libxenlight, over libxenctrl), never our own
 * hypercalls: a domain's memory set as "xl mem-set" sets it (the maximum
 * Xen lets the domain populate, then the balloon target in XenStore), and
 * how much memory Xen has free, for the capacity.  The kernel module runs
 * "splitkit negotiate set-memory DOMID MIB" (its mem_helper) to apply an
 * agreement; an administrator may run it too.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <libxl.h>
#include <libxl_utils.h>
#include <xentoollog.h>

#include "negmem.h"

/* One libxl context, logging errors to stderr. */
struct neg_xl {
	xentoollog_logger_stdiostream *log;
	libxl_ctx *ctx;
};

static int neg_xl_open(struct neg_xl *xl)
{
	xl->log = xtl_createlogger_stdiostream(stderr, XTL_ERROR, 0);
	if (!xl->log)
		return -ENOMEM;
	if (libxl_ctx_alloc(&xl->ctx, LIBXL_VERSION, 0,
			    (xentoollog_logger *)xl->log)) {
		xtl_logger_destroy((xentoollog_logger *)xl->log);
		return -ENXIO;	/* not dom0, or Xen's tools not running */
	}
	return 0;
}

static void neg_xl_close(struct neg_xl *xl)
{
	libxl_ctx_free(xl->ctx);
	xtl_logger_destroy((xentoollog_logger *)xl->log);
}

/**
 * neg_mem_set() - set a domain's memory as "xl mem-set" does.
 * @domid: the domain (not dom0).
 * @mib: its new memory, MiB.
 * @max_kib: set to Xen's maximum for the domain afterwards, KiB.
 *
 * libxl_set_memory_target() with enforce: Xen's maximum for the domain
 * (its max_pages) first, then memory/target; it refuses a size above the
 * domain's memory/static-max.  Returns before the guest's balloon driver
 * has reached the target.
 *
 * Return: 0 (@max_kib 0 if the domain's information could not be read
 * back); -ENXIO without libxl (not dom0); -EIO when libxl refused (its
 * message on stderr).
 */
int neg_mem_set(unsigned int domid, uint64_t mib, uint64_t *max_kib)
{
	struct neg_xl xl;
	libxl_dominfo info;
	int err;

	err = neg_xl_open(&xl);
	if (err)
		return err;
	err = libxl_set_memory_target(xl.ctx, domid, (int64_t)(mib * 1024),
				      0, 1) ? -EIO : 0;
	*max_kib = 0;
	if (!err) {
		/* informational: the memory is set whatever this says */
		libxl_dominfo_init(&info);
		if (!libxl_domain_info(xl.ctx, &info, domid))
			*max_kib = info.max_memkb;
		libxl_dominfo_dispose(&info);
	}
	neg_xl_close(&xl);
	return err;
}

/**
 * neg_vcpus_set() - bring a domain's first vCPUs online, as "xl vcpu-set".
 * @domid: the domain (not dom0).
 * @n: how many, from vCPU 0 (at least 1).
 * @max: set to the domain's maxvcpus.
 *
 * libxl_set_vcpuonline() with vCPUs 0..@n-1 set: for a PV guest it writes
 * cpu/<i>/availability in XenStore ("online"/"offline"), which the guest's
 * vCPU hotplug driver follows.  Returns before the guest has brought them
 * up or down.
 *
 * Return: 0; -ENXIO without libxl (not dom0); -ERANGE if @n is above the
 * domain's maxvcpus; -EIO when libxl refused (its message on stderr).
 */
int neg_vcpus_set(unsigned int domid, unsigned int n, unsigned int *max)
{
	libxl_bitmap map;
	libxl_dominfo info;
	struct neg_xl xl;
	unsigned int i;
	int err;

	err = neg_xl_open(&xl);
	if (err)
		return err;
	libxl_dominfo_init(&info);
	libxl_bitmap_init(&map);
	err = -EIO;
	if (libxl_domain_info(xl.ctx, &info, domid))
		goto dispose;
	*max = info.vcpu_max_id + 1;
	err = -ERANGE;
	if (!n || n > *max)
		goto dispose;
	err = -EIO;
	if (libxl_cpu_bitmap_alloc(xl.ctx, &map, *max))
		goto dispose;
	for (i = 0; i < n; i++)
		libxl_bitmap_set(&map, i);
	/* NULL: synchronous, done when it returns */
	err = libxl_set_vcpuonline(xl.ctx, domid, &map, NULL) ? -EIO : 0;
dispose:
	libxl_bitmap_dispose(&map);
	libxl_dominfo_dispose(&info);
	neg_xl_close(&xl);
	return err;
}

/**
 * neg_mem_free() - the memory Xen has free for domains.
 * @mib: set to it, MiB (rounded down).
 *
 * Return: 0, -ENXIO without libxl (not dom0), -EIO if libxl failed.
 */
int neg_mem_free(uint64_t *mib)
{
	struct neg_xl xl;
	uint64_t kib;
	int err;

	err = neg_xl_open(&xl);
	if (err)
		return err;
	err = libxl_get_free_memory(xl.ctx, &kib) ? -EIO : 0;
	neg_xl_close(&xl);
	if (!err)
		*mib = kib / 1024;
	return err;
}
