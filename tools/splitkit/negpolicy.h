/* SPDX-License-Identifier: GPL-2.0 */
/*
 * splitkit tool: dom0's negotiation policy file (negpolicy.c), kept free
 * of the tool's other headers so that the unit tests build it alone.
 */
#ifndef _SPLITKIT_NEGPOLICY_H
#define _SPLITKIT_NEGPOLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* The settings a policy file may give, in neg_policy_keys[] order. */
#define NEG_POLICY_KEYS	12

/**
 * struct neg_policy_key - one setting of the policy file.
 * @key: its name in the file ("blk.iops.capacity").
 * @param: the splitkit_negotiate module parameter it sets.
 * @max: the largest value the module takes.
 * @unit: for messages.
 */
struct neg_policy_key {
	const char *key;
	const char *param;
	uint64_t max;
	const char *unit;
};

extern const struct neg_policy_key neg_policy_keys[NEG_POLICY_KEYS];

/* A parsed file: a value per key, 0 for the keys it does not name. */
struct neg_policy {
	uint64_t value[NEG_POLICY_KEYS];
};

int neg_policy_parse(FILE *f, struct neg_policy *pol, char *err,
		     size_t err_size);

#endif /* _SPLITKIT_NEGPOLICY_H */
