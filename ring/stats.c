// SPDX-License-Identifier: GPL-2.0
/*
 * splitkit counters.  A driver's device counters are a sysfs directory,
 * one value per file (sk_stat_show(), <splitkit/stats.h>); the ring's own
 * counters of each channel, too many and too volatile for an ABI, are in
 * debugfs:
 *   /sys/kernel/debug/splitkit_ring/<xenbus device>/q<N>/stats    (read)
 *   /sys/kernel/debug/splitkit_ring/<xenbus device>/q<N>/poll_ns  (rw)
 *
 * Each counter of struct sk_chan_stats has a single writer at a time:
 * producer counters are written under sk_chan.lock, consumer counters by
 * the one consumer context, "events" by the event handler.  Readers here
 * take each value with READ_ONCE; the set is not an atomic snapshot.
 * debugfs removal waits for open readers, so a link may be destroyed while
 * its files are being read.
 */
#include <linux/debugfs.h>
#include <linux/seq_file.h>

#include <splitkit/export.h>
#include <splitkit/stats.h>

#include "internal.h"

/**
 * sk_stat_show() - show one file of a driver's counters directory.
 * @dev: the device.
 * @attr: the file's attribute, inside a struct sk_stat_attr.
 * @buf: the page to fill.
 *
 * Takes a snapshot of all the driver's counters and shows the file's one.
 *
 * Return: bytes written to @buf.
 */
ssize_t sk_stat_show(struct device *dev, struct device_attribute *attr,
		     char *buf)
{
	const struct sk_stat_attr *sa =
		container_of(attr, struct sk_stat_attr, attr);
	u64 v[SK_STATS_MAX] = { 0 };

	if (WARN_ON_ONCE(sa->stats->nr > SK_STATS_MAX ||
			 sa->id >= sa->stats->nr))
		return -EINVAL;
	sa->stats->snapshot(dev, v);
	return sysfs_emit(buf, "%llu\n", v[sa->id]);
}
SPLITKIT_EXPORT(sk_stat_show);

static struct dentry *sk_dbg_root;

static int sk_stats_show(struct seq_file *m, void *unused)
{
	struct sk_chan *ch = m->private;
	struct sk_chan_stats st;
	unsigned int i;

	sk_chan_get_stats(ch, &st);
	seq_printf(m, "ring_entries %u\norder %u\n", ch->link->desc.nr_ents,
		   ch->link->order);
	seq_printf(m, "msgs_out %llu\npushes %llu\nnotify_sent %llu\n",
		   st.msgs_out, st.pushes, st.notify_sent);
	seq_printf(m, "notify_suppressed %llu\n", st.notify_suppressed);
	seq_printf(m, "msgs_in %llu\nevents %llu\nspurious %llu\nstorms %llu\n",
		   st.msgs_in, st.events, st.spurious, st.storms);
	seq_printf(m, "polls %llu\npoll_hits %llu\nbatches %llu\n",
		   st.polls, st.poll_hits, st.batches);
	seq_printf(m, "coalesced %llu\ncoalesce_expired %llu\n", st.coalesced,
		   st.coalesce_expired);
	seq_printf(m, "budget_yields %llu\npeer_errors %llu\n",
		   st.budget_yields, st.peer_errors);
	seq_printf(m, "poll_ns %u\npoll_window_ns %u\n",
		   READ_ONCE(ch->poll.max_ns), sk_poll_window(&ch->poll));
	seq_puts(m, "batch_hist");
	for (i = 0; i < ARRAY_SIZE(st.batch_hist); i++)
		seq_printf(m, " %llu", st.batch_hist[i]);
	seq_puts(m, "\n");
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(sk_stats);

static int sk_poll_ns_get(void *data, u64 *val)
{
	struct sk_chan *ch = data;

	*val = READ_ONCE(ch->poll.max_ns);
	return 0;
}

static int sk_poll_ns_set(void *data, u64 val)
{
	if (val > SK_CHAN_MAX_POLL_NS)
		return -ERANGE;
	sk_chan_set_poll_ns(data, (u32)val);
	return 0;
}
DEFINE_DEBUGFS_ATTRIBUTE(sk_poll_ns_fops, sk_poll_ns_get, sk_poll_ns_set,
			 "%llu\n");

/**
 * sk_stats_link_add() - create the debugfs files of a link.
 * @l: link with every channel set up.
 *
 * debugfs errors are ignored: counters are a diagnostic, not a feature.
 */
void sk_stats_link_add(struct sk_link *l)
{
	char name[16];
	unsigned int i;

	if (IS_ERR_OR_NULL(sk_dbg_root))
		return;
	l->dbg = debugfs_create_dir(dev_name(&l->dev->dev), sk_dbg_root);
	for (i = 0; i < l->nr_chans; i++) {
		struct sk_chan *ch = &l->chans[i];

		snprintf(name, sizeof(name), "q%u", i);
		ch->dbg = debugfs_create_dir(name, l->dbg);
		debugfs_create_file("stats", 0444, ch->dbg, ch,
				    &sk_stats_fops);
		debugfs_create_file_unsafe("poll_ns", 0644, ch->dbg, ch,
					   &sk_poll_ns_fops);
	}
}

/**
 * sk_stats_link_del() - remove the debugfs files of a link, if any.
 * @l: link.
 */
void sk_stats_link_del(struct sk_link *l)
{
	debugfs_remove_recursive(l->dbg);
	l->dbg = NULL;
}

/**
 * sk_stats_init() - create the debugfs root of the module.
 *
 * Return: 0 (debugfs being unavailable is not an error).
 */
int sk_stats_init(void)
{
	sk_dbg_root = debugfs_create_dir("splitkit_ring", NULL);
	return 0;
}

/**
 * sk_stats_exit() - remove the debugfs root.
 */
void sk_stats_exit(void)
{
	debugfs_remove_recursive(sk_dbg_root);
}
