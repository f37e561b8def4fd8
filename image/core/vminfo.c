// SPDX-License-Identifier: GPL-2.0
/*
 * Encode, decode and edit splitkit's embedded VM information extension.
 *
 * Encoded form (all big-endian): u32 version, u32 flags, u32 CRC-32 of the
 * body, u32 body length, then records of u8 type, u8 key length, u16 value
 * length, key bytes, value bytes (history records carry an 8-byte time before
 * their note).  The decoder bounds every length against the extension and
 * the limits in vminfo.h before copying anything.
 */
#include "endian.h"
#include "vminfo.h"

static int fail(const char **reason, const char *why)
{
	if (reason)
		*reason = why;
	return -EINVAL;
}

static char *dup_bytes(const u8 *data, size_t len)
{
	char *s = skp_zalloc(len + 1);

	if (s)
		memcpy(s, data, len);
	return s;
}

static bool key_is_valid(const char *key)
{
	size_t i, len = strlen(key);

	if (!len || len > SKI_VM_KEY_MAX)
		return false;
	for (i = 0; i < len; i++) {
		char c = key[i];

		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      c == '-' || c == '_' || c == '.'))
			return false;
	}
	return true;
}

/**
 * ski_vminfo_decode() - parse the extension's payload
 * @data: extension data as found in the header
 * @len: its length
 * @info: filled in; free with ski_vminfo_free() even on failure
 * @reason: static message on -EINVAL
 *
 * Return: 0, -EINVAL (malformed or bad checksum), -EOPNOTSUPP (a newer
 * version we cannot read), -ENOMEM.
 */
int ski_vminfo_decode(const u8 *data, size_t len, struct ski_vminfo *info,
		      const char **reason)
{
	u32 version, body_len;
	size_t pos;

	memset(info, 0, sizeof(*info));
	if (len < SKI_VMINFO_HDR_LEN)
		return fail(reason, "VM information extension truncated");
	version = ski_get_be32(data);
	info->flags = ski_get_be32(data + 4);
	if (version != SKI_VMINFO_VERSION) {
		if (reason)
			*reason = "VM information from a newer splitkit";
		return -EOPNOTSUPP;
	}
	if (info->flags & ~SKI_VMINFO_F_KNOWN)
		return fail(reason, "unknown VM information flags");
	body_len = ski_get_be32(data + 12);
	if (body_len > len - SKI_VMINFO_HDR_LEN)
		return fail(reason, "VM information body overruns extension");
	if (skp_crc32(data + SKI_VMINFO_HDR_LEN, body_len) !=
	    ski_get_be32(data + 8))
		return fail(reason, "VM information checksum mismatch");

	data += SKI_VMINFO_HDR_LEN;
	pos = 0;
	while (pos < body_len) {
		struct ski_vm_entry *ent;
		u8 type, key_len;
		u16 value_len;
		size_t need;

		if (body_len - pos < 4)
			return fail(reason, "VM information record truncated");
		type = data[pos];
		key_len = data[pos + 1];
		value_len = ski_get_be16(data + pos + 2);
		pos += 4;
		need = (size_t)key_len + value_len;
		if (need > body_len - pos)
			return fail(reason, "VM information record overruns");
		if (type < SKI_VM_FIELD || type > SKI_VM_HISTORY)
			return fail(reason, "unknown VM information record");
		if (key_len > SKI_VM_KEY_MAX || value_len > SKI_VM_VALUE_MAX)
			return fail(reason, "VM information record too long");
		if (info->nr == SKI_VM_MAX_ENTRIES)
			return fail(reason, "too many VM information records");
		ent = &info->entries[info->nr];
		ent->type = type;
		memcpy(ent->key, data + pos, key_len);
		ent->key[key_len] = 0;
		pos += key_len;
		if (type == SKI_VM_HISTORY) {
			if (value_len < 8)
				return fail(reason, "history record too short");
			ent->time = ski_get_be64(data + pos);
			pos += 8;
			value_len -= 8;
		}
		ent->value = dup_bytes(data + pos, value_len);
		if (!ent->value)
			return -ENOMEM;
		info->nr++;
		if (strlen(ent->value) != value_len ||
		    strlen(ent->key) != key_len)
			return fail(reason,
				    "NUL inside a VM information record");
		if (type != SKI_VM_TAG && !key_is_valid(ent->key))
			return fail(reason, "invalid VM information key");
		pos += value_len;
	}
	return 0;
}

/**
 * ski_vminfo_encode() - serialise @info into @buf
 * Return: 0 with *@used set, or -ENOSPC.
 * @info: VM information
 * @buf: output
 * @len: size of @buf
 * @used: set to the bytes written
 */
int ski_vminfo_encode(const struct ski_vminfo *info, u8 *buf, size_t len,
		      size_t *used)
{
	size_t pos = SKI_VMINFO_HDR_LEN;
	unsigned int i;

	if (len < SKI_VMINFO_HDR_LEN)
		return -ENOSPC;
	for (i = 0; i < info->nr; i++) {
		const struct ski_vm_entry *ent = &info->entries[i];
		size_t key_len = ent->type == SKI_VM_TAG ? 0 : strlen(ent->key);
		size_t value_len = strlen(ent->value);
		size_t extra = ent->type == SKI_VM_HISTORY ? 8 : 0;

		if (value_len + extra > 0xffff)
			return -ENOSPC;
		if (pos + 4 + key_len + extra + value_len > len)
			return -ENOSPC;
		buf[pos] = ent->type;
		buf[pos + 1] = key_len;
		ski_put_be16(buf + pos + 2, value_len + extra);
		pos += 4;
		memcpy(buf + pos, ent->key, key_len);
		pos += key_len;
		if (extra) {
			ski_put_be64(buf + pos, ent->time);
			pos += 8;
		}
		memcpy(buf + pos, ent->value, value_len);
		pos += value_len;
	}
	ski_put_be32(buf, SKI_VMINFO_VERSION);
	ski_put_be32(buf + 4, info->flags);
	ski_put_be32(buf + 8, skp_crc32(buf + SKI_VMINFO_HDR_LEN,
					pos - SKI_VMINFO_HDR_LEN));
	ski_put_be32(buf + 12, pos - SKI_VMINFO_HDR_LEN);
	*used = pos;
	return 0;
}

void ski_vminfo_free(struct ski_vminfo *info)
{
	unsigned int i;

	for (i = 0; i < info->nr; i++)
		skp_free(info->entries[i].value);
	info->nr = 0;
}

int ski_vminfo_copy(struct ski_vminfo *dst, const struct ski_vminfo *src)
{
	unsigned int i;

	memset(dst, 0, sizeof(*dst));
	dst->flags = src->flags;
	for (i = 0; i < src->nr; i++) {
		const char *value = src->entries[i].value;

		dst->entries[i] = src->entries[i];
		dst->entries[i].value = dup_bytes((const u8 *)value,
						  strlen(value));
		if (!dst->entries[i].value) {
			ski_vminfo_free(dst);
			return -ENOMEM;
		}
		dst->nr++;
	}
	return 0;
}

static void remove_at(struct ski_vminfo *info, unsigned int i)
{
	skp_free(info->entries[i].value);
	memmove(&info->entries[i], &info->entries[i + 1],
		(info->nr - i - 1) * sizeof(info->entries[0]));
	info->nr--;
}

static int append(struct ski_vminfo *info, u8 type, const char *key,
		  u64 time, const char *value)
{
	struct ski_vm_entry *ent;
	size_t len = strlen(value);

	if (len > SKI_VM_VALUE_MAX)
		return -E2BIG;
	if (info->nr == SKI_VM_MAX_ENTRIES)
		return -ENOSPC;
	ent = &info->entries[info->nr];
	memset(ent, 0, sizeof(*ent));
	ent->value = dup_bytes((const u8 *)value, len);
	if (!ent->value)
		return -ENOMEM;
	ent->type = type;
	ent->time = time;
	if (key)
		memcpy(ent->key, key, strlen(key) + 1);
	info->nr++;
	return 0;
}

/** ski_vminfo_get() - value of field @key, or NULL */
const char *ski_vminfo_get(const struct ski_vminfo *info, const char *key)
{
	unsigned int i;

	for (i = 0; i < info->nr; i++)
		if (info->entries[i].type == SKI_VM_FIELD &&
		    !strcmp(info->entries[i].key, key))
			return info->entries[i].value;
	return NULL;
}

bool ski_vminfo_has_tag(const struct ski_vminfo *info, const char *tag)
{
	unsigned int i;

	for (i = 0; i < info->nr; i++)
		if (info->entries[i].type == SKI_VM_TAG &&
		    !strcmp(info->entries[i].value, tag))
			return true;
	return false;
}

/**
 * ski_vminfo_set() - set field @key to @value
 * @info: VM information
 * @key: field name, "tag" or "required"
 * @value: text
 *
 * Key "tag" adds a tag (once); key "required" sets or clears the required
 * flag from "1"/"0".  Any other key names a field, replaced if present.
 *
 * Return: 0, -EINVAL for a bad key or value, -ENOSPC, -E2BIG, -ENOMEM.
 */
int ski_vminfo_set(struct ski_vminfo *info, const char *key,
		   const char *value)
{
	unsigned int i;

	if (!key_is_valid(key))
		return -EINVAL;
	if (!strcmp(key, "required")) {
		if (!strcmp(value, "1"))
			info->flags |= SKI_VMINFO_F_REQUIRED;
		else if (!strcmp(value, "0"))
			info->flags &= ~SKI_VMINFO_F_REQUIRED;
		else
			return -EINVAL;
		return 0;
	}
	if (!strcmp(key, "tag")) {
		if (!*value)
			return -EINVAL;
		if (ski_vminfo_has_tag(info, value))
			return 0;
		return append(info, SKI_VM_TAG, NULL, 0, value);
	}
	for (i = 0; i < info->nr; i++) {
		struct ski_vm_entry *ent = &info->entries[i];
		char *copy;

		if (ent->type != SKI_VM_FIELD || strcmp(ent->key, key))
			continue;
		if (strlen(value) > SKI_VM_VALUE_MAX)
			return -E2BIG;
		copy = dup_bytes((const u8 *)value, strlen(value));
		if (!copy)
			return -ENOMEM;
		skp_free(ent->value);
		ent->value = copy;
		return 0;
	}
	return append(info, SKI_VM_FIELD, key, 0, value);
}

/**
 * ski_vminfo_remove() - drop field @key, or with key "tag" the tag @value
 * Return: 0, or -ENOENT when nothing matched.
 * @info: VM information
 * @key: field name, "tag" or "required"
 * @value: the tag to remove, for key "tag"
 */
int ski_vminfo_remove(struct ski_vminfo *info, const char *key,
		      const char *value)
{
	unsigned int i;

	if (!strcmp(key, "required")) {
		info->flags &= ~SKI_VMINFO_F_REQUIRED;
		return 0;
	}
	for (i = 0; i < info->nr; i++) {
		struct ski_vm_entry *ent = &info->entries[i];

		if (!strcmp(key, "tag") ? (ent->type == SKI_VM_TAG &&
					   value && !strcmp(ent->value, value))
					: (ent->type == SKI_VM_FIELD &&
					   !strcmp(ent->key, key))) {
			remove_at(info, i);
			return 0;
		}
	}
	return -ENOENT;
}

/**
 * ski_vminfo_add_history() - record an operation, dropping the oldest
 * record once SKI_VM_MAX_HISTORY are kept, or when the entries are full
 * @info: VM information
 * @op: operation name
 * @time: Unix time
 * @note: optional text, or NULL
 */
int ski_vminfo_add_history(struct ski_vminfo *info, const char *op, u64 time,
			   const char *note)
{
	unsigned int i, count = 0, oldest = info->nr;

	if (!key_is_valid(op))
		return -EINVAL;
	for (i = 0; i < info->nr; i++) {
		if (info->entries[i].type != SKI_VM_HISTORY)
			continue;
		if (oldest == info->nr)
			oldest = i;
		count++;
	}
	/* a full history, or a full area holding some history: the oldest goes */
	if (count >= SKI_VM_MAX_HISTORY ||
	    (count && info->nr == SKI_VM_MAX_ENTRIES))
		remove_at(info, oldest);
	return append(info, SKI_VM_HISTORY, op, time, note ? note : "");
}
