/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What splitkit_front offers splitkit_shunt: a claim of the PV twin of an
 * emulated disk (frontend/claim.c).  The shunt looks it up with
 * symbol_get(), so that it also loads without splitkit_front (beside
 * xen-blkfront, or on another PV disk).
 */
#ifndef _SPLITKIT_CLAIM_H
#define _SPLITKIT_CLAIM_H

int skf_claim_disk(unsigned int index);
int skf_unclaim_disk(unsigned int index);

#endif /* _SPLITKIT_CLAIM_H */
