// SPDX-License-Identifier: GPL-2.0
/*
 * splitkit_shunt interception: an ftrace hook on submit_bio_noacct(), the
 * entry every bio takes into the block layer (Documentation/shunt.rst,
 * "Where requests are intercepted").  The hook (an IPMODIFY ftrace_ops,
 * as live patching uses) looks at the bio at the function's entry: a bio
 * of the shunted disk that the shunt does not carry yet is made to
 * continue in sksh_submit_bio_noacct(), which hands it to disk.c; every
 * other bio goes on into the real function untouched.  The bios the shunt
 * submits itself (the clones it sends down a path and their split
 * remainders, from its own bio_set; its flush and its identity reads,
 * with its completion function) carry a mark (sksh_bio_owned()), so they
 * pass: the decision never depends on who called, and a tail call into
 * submit_bio_noacct() cannot fool it.
 *
 * Lifetime: sksh_active is set before the hook is registered and cleared
 * before it is removed.  The ftrace callback runs with preemption off; a
 * redirected task runs sksh_submit_bio_noacct() under the SRCU read lock,
 * so sksh_hook_remove() can wait for every task inside this module's text
 * before the module goes.
 */
#include <linux/ftrace.h>
#include <linux/module.h>
#include <linux/ptrace.h>
#include <linux/rcupdate.h>
#include <linux/srcu.h>

#include "common.h"

DEFINE_STATIC_SRCU(sksh_srcu);
static struct sksh_disk __rcu *sksh_active;

/*
 * Where redirected calls of submit_bio_noacct() continue: only bios of the
 * shunted disk that the shunt does not carry get here.  If the hook is
 * being removed meanwhile, the bio goes on to the real function, which no
 * longer redirects it (sksh_active is NULL before the hook goes).
 */
static void sksh_submit_bio_noacct(struct bio *bio)
{
	struct sksh_disk *d;
	int idx;

	idx = srcu_read_lock(&sksh_srcu);
	d = srcu_dereference(sksh_active, &sksh_srcu);
	if (d)
		sksh_disk_submit(d, bio);
	else
		submit_bio_noacct(bio);
	srcu_read_unlock(&sksh_srcu, idx);
}

static void notrace sksh_thunk(unsigned long ip, unsigned long parent_ip,
			       struct ftrace_ops *ops,
			       struct ftrace_regs *fregs)
{
	struct pt_regs *regs = ftrace_get_regs(fregs);
	struct sksh_disk *d;
	struct bio *bio;

	if (!regs)
		return;
	/* preemption is off here: an RCU-sched read section */
	d = rcu_dereference_sched(sksh_active);
	bio = (struct bio *)regs_get_kernel_argument(regs, 0);
	if (d && sksh_bio_wanted(d, bio))
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
 * Return: 0 or the ftrace error (-EBUSY, -EINVAL, -ENOMEM).
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
		goto free_filter;
	return 0;

free_filter:
	ftrace_free_filter(&sksh_ops);
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
	/* waits for callbacks, and for tasks preempted on the trampoline */
	unregister_ftrace_function(&sksh_ops);
	ftrace_free_filter(&sksh_ops);
	/* a task redirected but not yet inside the read section */
	synchronize_rcu_tasks();
	/* every task inside it, also asleep in sksh_disk_submit() */
	synchronize_srcu(&sksh_srcu);
	/* and one between the read section's end and its return */
	synchronize_rcu_tasks();
}
