// SPDX-License-Identifier: GPL-2.0
/*
 * A fixed-budget cache of metadata tables (L2 tables, refcount blocks) with
 * least-recently-used eviction.
 *
 * Tables are read caches (table.c and refcount.c write every change
 * through to the file first, but for the deferred mappings of new clusters,
 * which table.c writes out before any insert that could evict), so evicting
 * one loses nothing.  A cache has a
 * fixed number of slots, each holding one decoded table; a slot's buffer is
 * allocated the first time the slot is used and reused on every eviction
 * after that, so once warm the cache allocates nothing, and it never holds
 * more than its slots' worth of tables whatever the size of the image.  The
 * index (table number -> slot) is one u32 per table the image can have,
 * next to the L1 or refcount-table copy it mirrors.  Eviction picks the slot
 * with the oldest use stamp (a scan of the slots: a miss costs a read from
 * the file anyway).  A pointer from ski_cache_insert() or ski_cache_lookup()
 * stays valid until the next insert into the same cache.
 */
#include "image_priv.h"

/**
 * ski_cache_init() - an empty cache
 * @c: cache to set up (zeroed by the caller or by ski_cache_free())
 * @nr_index: tables the image can have (L1 or refcount-table entries)
 * @table_bytes: bytes of one decoded table
 * @nr_slots: tables held at most, at least 1
 *
 * Return: 0 or -ENOMEM.
 */
int ski_cache_init(struct ski_cache *c, u64 nr_index, size_t table_bytes,
		   u32 nr_slots)
{
	memset(c, 0, sizeof(*c));
	c->table_bytes = table_bytes;
	c->nr_slots = nr_slots ? nr_slots : 1;
	c->slots = ski_io_zalloc(c->nr_slots * sizeof(*c->slots));
	if (!c->slots)
		return -ENOMEM;
	return ski_cache_resize_index(c, nr_index);
}

/** ski_cache_free() - drop every table and the cache's own arrays */
void ski_cache_free(struct ski_cache *c)
{
	u32 i;

	for (i = 0; c->slots && i < c->nr_slots; i++)
		skp_free(c->slots[i].table);
	skp_free(c->slots);
	skp_free(c->slot_of);
	memset(c, 0, sizeof(*c));
}

/**
 * ski_cache_resize_index() - let the cache hold table numbers below @nr_index
 * @c: cache
 * @nr_index: new number of tables (never fewer than now)
 *
 * Return: 0 or -ENOMEM (the cache is unchanged then).
 */
int ski_cache_resize_index(struct ski_cache *c, u64 nr_index)
{
	u32 *slot_of;

	if (c->slot_of && nr_index <= c->nr_index)
		return 0;
	slot_of = ski_io_zalloc((nr_index + 1) * sizeof(*slot_of));
	if (!slot_of)
		return -ENOMEM;
	if (c->slot_of)
		memcpy(slot_of, c->slot_of, c->nr_index * sizeof(*slot_of));
	skp_free(c->slot_of);
	c->slot_of = slot_of;
	c->nr_index = nr_index;
	return 0;
}

/** ski_cache_lookup() - the cached table @index, or NULL; counts as a use */
void *ski_cache_lookup(struct ski_cache *c, u64 index)
{
	struct ski_cache_slot *slot;

	if (index >= c->nr_index || !c->slot_of[index])
		return NULL;
	slot = &c->slots[c->slot_of[index] - 1];
	slot->stamp = ++c->clock;
	return slot->table;
}

/**
 * ski_cache_insert() - a slot for table @index, evicting the least recently
 *	used table when every slot is taken
 * @c: cache
 * @index: table number, not cached now
 * @tablep: set to the slot's buffer, for the caller to fill
 *
 * The table counts as cached from here: a caller that fails to fill it
 * calls ski_cache_drop().
 *
 * Return: 0 or -ENOMEM (nothing evicted then).
 */
int ski_cache_insert(struct ski_cache *c, u64 index, void **tablep)
{
	struct ski_cache_slot *slot = NULL;
	u32 i;

	if (index >= c->nr_index)
		return -EINVAL;
	for (i = 0; i < c->nr_slots; i++) {
		struct ski_cache_slot *s = &c->slots[i];

		if (!s->stamp) {
			slot = s;
			break;
		}
		if (!slot || s->stamp < slot->stamp)
			slot = s;
	}
	if (!slot->table) {
		slot->table = ski_io_zalloc(c->table_bytes);
		if (!slot->table)
			return -ENOMEM;
	}
	if (slot->stamp) {
		c->slot_of[slot->index] = 0;
		c->evictions++;
	}
	slot->index = index;
	slot->stamp = ++c->clock;
	c->slot_of[index] = slot - c->slots + 1;
	c->loads++;
	*tablep = slot->table;
	return 0;
}

/** ski_cache_drop() - forget table @index if it is cached */
void ski_cache_drop(struct ski_cache *c, u64 index)
{
	if (index >= c->nr_index || !c->slot_of[index])
		return;
	c->slots[c->slot_of[index] - 1].stamp = 0;
	c->slot_of[index] = 0;
}

/** ski_cache_cached() - how many tables the cache holds now */
u32 ski_cache_cached(const struct ski_cache *c)
{
	u32 i, n = 0;

	for (i = 0; i < c->nr_slots; i++)
		n += !!c->slots[i].stamp;
	return n;
}

/** ski_cache_slots_for() - slots a budget of @bytes buys, at least 2 */
u32 ski_cache_slots_for(u64 bytes, size_t table_bytes)
{
	u64 n = bytes / table_bytes;

	if (n < 2)
		n = 2;
	if (n > SKI_CACHE_MAX_SLOTS)
		n = SKI_CACHE_MAX_SLOTS;
	return n;
}
