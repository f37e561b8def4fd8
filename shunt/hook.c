// SPDX-License-Identifier: GPL-2.0
/*
 * splitkit_shunt interception: an ftrace hook on submit_bio_noacct(), the
 * entry every bio takes into the block layer (Documentation/shunt.rst,
 * "Where requests are intercepted").  The hook (an IPMODIFY ftrace_ops,
 * as live patching uses) makes every call from outside this module
 * continue in sksh_submit_bio_noacct(), which hands the bios of the
 * shunted disk to disk.c and lets every other bio through to the real
 * function.  Calls from this module (disk.c submitting a bio it routed,
 * its flush and its identity reads) are not redirected: the hook tells
 * them by their return address, so they must never be tail calls.
 *
 * Lifetime: the shunted disk is published through an SRCU-protected
 * pointer; sksh_submit_bio_noacct() holds the SRCU read lock for as long
 * as it runs, including the pass-through call, so sksh_hook_remove() can
 * wait for every task inside this module's text before the module goes.
 */
#include <linux/ftrace.h>
#include <linux/module.h>
#include <linux/rcupdate.h>
#include <linux/srcu.h>

#include "common.h"

DEFINE_STATIC_SRCU(sksh_srcu);
static struct sksh_disk __rcu *sksh_active;

/* Where redirected calls of submit_bio_noacct() continue. */
static void sksh_submit_bio_noacct(struct bio *bio)
{
	struct sksh_disk *d;
	int idx;

	idx = srcu_read_lock(&sksh_srcu);
	d = srcu_dereference(sksh_active, &sksh_srcu);
	if (d && sksh_disk_owns(d, bio))
		sksh_disk_submit(d, bio);
	else
		submit_bio_noacct(bio);	/* ours: not redirected again */
	srcu_read_unlock(&sksh_srcu, idx);
}

static void notrace sksh_thunk(unsigned long ip, unsigned long parent_ip,
			       struct ftrace_ops *ops,
			       struct ftrace_regs *fregs)
{
	struct pt_regs *regs = ftrace_get_regs(fregs);

	if (regs && !within_module(parent_ip, THIS_MODULE))
		instruction_pointer_set(regs,
					(unsigned long)sksh_submit_bio_noacct);
}

static struct ftrace_ops sksh_ops = {
	.func = sksh_thunk,
	.flags = FTRACE_OPS_FL_SAVE_REGS | FTRACE_OPS_FL_IPMODIFY,
};

/**
 * sksh_hook_install() - start routing the bios of @d.
 * @d: the disk, opened.
 *
 * Process context.  Fails if another IPMODIFY user (a live patch) already
 * hooks submit_bio_noacct().
 *
 * Return: 0 or the ftrace error (-EBUSY, -ENOENT, -ENOMEM).
 */
int sksh_hook_install(struct sksh_disk *d)
{
	int err;

	rcu_assign_pointer(sksh_active, d);
	err = ftrace_set_filter_ip(&sksh_ops, (unsigned long)submit_bio_noacct,
				   0, 0);
	if (err)
		goto unpublish;
	err = register_ftrace_function(&sksh_ops);
	if (err)
		goto clear_filter;
	return 0;

clear_filter:
	ftrace_set_filter_ip(&sksh_ops, (unsigned long)submit_bio_noacct, 1, 0);
unpublish:
	RCU_INIT_POINTER(sksh_active, NULL);
	return err;
}

/**
 * sksh_hook_remove() - stop routing, and wait until no task runs in the
 * hook's code.
 *
 * Process context, sleeps.  The disk must be back on its emulated path
 * with nothing held (sksh_disk_drain()); bios already routed complete
 * through disk.c afterwards, which the caller waits for.
 */
void sksh_hook_remove(void)
{
	RCU_INIT_POINTER(sksh_active, NULL);
	unregister_ftrace_function(&sksh_ops);
	ftrace_set_filter_ip(&sksh_ops, (unsigned long)submit_bio_noacct, 1, 0);
	/* a task redirected but not yet inside the read section */
	synchronize_rcu_tasks();
	/* every task inside it, also asleep in the pass-through call */
	synchronize_srcu(&sksh_srcu);
	/* and one between the read section's end and its return */
	synchronize_rcu_tasks();
}
