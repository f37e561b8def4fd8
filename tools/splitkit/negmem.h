/* SPDX-License-Identifier: GPL-2.0 */
/*
 * splitkit tool: dom0's half of the memory provider (negmem.c), through
 * libxl.
 */
#ifndef _SPLITKIT_NEGMEM_H
#define _SPLITKIT_NEGMEM_H

#include <stdint.h>

/* The least and most MiB a memory agreement names (negotiate/core/offer.c) */
#define NEG_MEM_MIN_MIB	64
#define NEG_MEM_MAX_MIB	1048576

int neg_mem_set(unsigned int domid, uint64_t mib, uint64_t *max_kib);
int neg_mem_free(uint64_t *mib);

/* The most vCPUs a vcpus agreement names (negotiate/core/offer.c) */
#define NEG_VCPUS_MAX	512

int neg_vcpus_set(unsigned int domid, unsigned int n, unsigned int *max);

#endif /* _SPLITKIT_NEGMEM_H */
