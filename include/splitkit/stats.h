/* SPDX-License-Identifier: GPL-2.0 */
/*
 * splitkit sysfs counters: a device's counters as one sysfs directory with
 * one file per value (sysfs's rule: one value per file), written once for
 * every splitkit driver.  The show function is sk_stat_show() in
 * ring/stats.c (splitkit_ring), which also owns the ring's own counters in
 * debugfs.
 *
 * A driver names its counters once, as a list macro, and gives one
 * function that takes a snapshot of all of them:
 *
 *	#define SKB_STATS(X)  X(skb, connected) X(skb, requests) ...
 *	SK_STATS_ENUM(skb, SKB_STATS);		// skb_st_connected, ...,
 *						// skb_st_nr
 *	static void skb_stats_snapshot(struct device *dev, u64 *v)
 *	{
 *		v[skb_st_requests] = ...;
 *	}
 *	SK_STATS_GROUP(skb, "skb_stats", SKB_STATS, skb_stats_snapshot);
 *
 * SK_STATS_GROUP() defines skb_stats_group, a struct attribute_group to
 * list in struct sk_xb_driver.groups: directory "skb_stats", files
 * "connected", "requests", ...  Reading any file takes a whole snapshot
 * (the driver's locking applies) and shows the one value.  Counter names
 * must be valid C identifiers; the enum constants are lower case because
 * they are pasted from the file names.
 */
#ifndef _SPLITKIT_STATS_H
#define _SPLITKIT_STATS_H

#include <linux/build_bug.h>
#include <linux/device.h>
#include <linux/sysfs.h>
#include <linux/types.h>

/*
 * Most counters one directory may have: sk_stat_show() keeps them all in an
 * array on its stack (8 bytes each).
 */
#define SK_STATS_MAX	48

/**
 * struct sk_stats - how to read a driver's counters.
 * @nr: number of counters (files).
 * @snapshot: fill v[0 .. @nr - 1] for @dev (sleeping allowed).
 */
struct sk_stats {
	unsigned int nr;
	void (*snapshot)(struct device *dev, u64 *v);
};

/**
 * struct sk_stat_attr - one file of a counters directory.
 * @attr: the sysfs attribute (read-only, shown by sk_stat_show()).
 * @stats: the driver's counters.
 * @id: which of them this file shows.
 */
struct sk_stat_attr {
	struct device_attribute attr;
	const struct sk_stats *stats;
	unsigned int id;
};

ssize_t sk_stat_show(struct device *dev, struct device_attribute *attr,
		     char *buf);

/* Expanders for a driver's list macro (see the top of this file). */
#define SK_STAT_ID(p, n)	p##_st_##n,
#define SK_STAT_ATTR(p, n)						\
	static struct sk_stat_attr p##_stat_##n = {			\
		.attr = __ATTR(n, 0444, sk_stat_show, NULL),		\
		.stats = &p##_stats,					\
		.id = p##_st_##n,					\
	};
#define SK_STAT_PTR(p, n)	&p##_stat_##n.attr.attr,

/**
 * SK_STATS_ENUM() - the enum of a driver's counters.
 * @p: the driver's prefix, as in its list.
 * @list: the list macro.
 *
 * One constant per counter, p_st_<name>, in list order, then p_st_nr.
 */
#define SK_STATS_ENUM(p, list)	enum p##_stat_id { list(SK_STAT_ID) p##_st_nr }

/**
 * SK_STATS_GROUP() - the sysfs directory of a driver's counters.
 * @p: the driver's prefix, as in its list.
 * @dir: the directory's name (a string).
 * @list: the list macro.
 * @snap: void snap(struct device *dev, u64 *v): fills every counter.
 *
 * Defines p_stats_group (struct attribute_group) and what it points to.
 */
#define SK_STATS_GROUP(p, dir, list, snap)				\
	static_assert(p##_st_nr <= SK_STATS_MAX);			\
	static const struct sk_stats p##_stats = {			\
		.nr = p##_st_nr,					\
		.snapshot = (snap),					\
	};								\
	list(SK_STAT_ATTR)						\
	static struct attribute *p##_stat_attrs[] = {			\
		list(SK_STAT_PTR)					\
		NULL							\
	};								\
	static const struct attribute_group p##_stats_group = {	\
		.name = (dir),						\
		.attrs = p##_stat_attrs,				\
	}

#endif /* _SPLITKIT_STATS_H */
