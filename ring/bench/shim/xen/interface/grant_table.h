/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Userspace stand-in for the kernel's <xen/interface/grant_table.h>, which
 * the kernel's io/ring.h includes for grant_ref_t.  Only bench_ring.c uses
 * it, to build the plain ring.h baseline on the host.
 */
#ifndef _SPLITKIT_BENCH_SHIM_GRANT_TABLE_H
#define _SPLITKIT_BENCH_SHIM_GRANT_TABLE_H

#include <stdint.h>

typedef uint32_t grant_ref_t;

#endif
