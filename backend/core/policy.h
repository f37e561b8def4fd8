/* SPDX-License-Identifier: GPL-2.0 */
/*
 * splitkit_back's attach rules for qcow2 images, as a pure function: the
 * image's own policy (its VM information fields, Documentation/image.rst)
 * and the backend's rule on concurrent attaches, against who attaches and
 * how.  Portable C with no allocation: backend/qcow2.c calls it at attach,
 * the splitkit tool checks values with it (img meta set, info), and the
 * unit tests and the fuzzer in tests/unit/back/ run the same file.
 */
#ifndef _SPLITKIT_BACK_POLICY_H
#define _SPLITKIT_BACK_POLICY_H

#include "../../image/core/vminfo.h"

/**
 * struct skb_policy_in - one attach, as the policy sees it.
 * @dom_name: the guest's name, or NULL if unknown.
 * @dom_uuid: its UUID, or NULL if unknown.
 * @read_only: the disk is attached read-only (access=ro).
 * @attached: attaches of the same image open now in this backend.
 * @attached_writer: one of them is writable.
 * @now: the current time, Unix seconds.
 */
struct skb_policy_in {
	const char *dom_name;
	const char *dom_uuid;
	bool read_only;
	unsigned int attached;
	bool attached_writer;
	u64 now;
};

int skb_policy_value_check(const char *key, const char *value, char *why,
			   size_t len);
bool skb_policy_expired(const struct ski_vminfo *info, u64 now);
int skb_policy_check(const struct ski_vminfo *info,
		     const struct skb_policy_in *in, char *why, size_t len);

#endif /* _SPLITKIT_BACK_POLICY_H */
