/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Embedded VM information: splitkit's own qcow2 header extension.
 *
 * Descriptive data about the VM an image belongs to (compatible hardware and
 * host OS, tags, the xl config, a usage policy) and a bounded history of
 * what was done to the image.  It lives in the header cluster as extension
 * QCOW2_EXT_SPLITKIT_VMINFO; Documentation/image.rst gives the byte layout.
 */
#ifndef _SPLITKIT_IMAGE_VMINFO_H
#define _SPLITKIT_IMAGE_VMINFO_H

#include "platform.h"

#define SKI_VMINFO_VERSION	1
#define SKI_VMINFO_HDR_LEN	16
#define SKI_VMINFO_F_REQUIRED	(1U << 0)
#define SKI_VMINFO_F_KNOWN	SKI_VMINFO_F_REQUIRED

#define SKI_VM_KEY_MAX		63
#define SKI_VM_VALUE_MAX	16384
#define SKI_VM_MAX_ENTRIES	64
#define SKI_VM_MAX_HISTORY	16
#define SKI_VMINFO_MAX_LEN	32768

enum ski_vm_entry_type {
	SKI_VM_FIELD = 1,	/* key = value */
	SKI_VM_TAG = 2,		/* value only */
	SKI_VM_HISTORY = 3,	/* key = operation, time, value = note */
};

struct ski_vm_entry {
	u8 type;
	char key[SKI_VM_KEY_MAX + 1];
	u64 time;
	char *value;		/* NUL-terminated, may be empty */
};

struct ski_vminfo {
	u32 flags;
	unsigned int nr;
	struct ski_vm_entry entries[SKI_VM_MAX_ENTRIES];
};

int ski_vminfo_decode(const u8 *data, size_t len, struct ski_vminfo *info,
		      const char **reason);
int ski_vminfo_encode(const struct ski_vminfo *info, u8 *buf, size_t len,
		      size_t *used);
void ski_vminfo_free(struct ski_vminfo *info);
int ski_vminfo_copy(struct ski_vminfo *dst, const struct ski_vminfo *src);
const char *ski_vminfo_get(const struct ski_vminfo *info, const char *key);
int ski_vminfo_set(struct ski_vminfo *info, const char *key,
		   const char *value);
int ski_vminfo_remove(struct ski_vminfo *info, const char *key,
		      const char *value);
bool ski_vminfo_has_tag(const struct ski_vminfo *info, const char *tag);
int ski_vminfo_add_history(struct ski_vminfo *info, const char *op, u64 time,
			   const char *note);

#endif /* _SPLITKIT_IMAGE_VMINFO_H */
