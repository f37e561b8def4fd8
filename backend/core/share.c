// SPDX-License-Identifier: GPL-2.0
/*
 * splitkit_back sharing policy (see share.h): pure C over
 * <splitkit/platform.h>, so that the unit tests check the very decisions
 * dom0 makes.  backend/share.c applies them to the backings it has open.
 */
#include "share.h"

/**
 * skb_mode_parse() - read the toolstack's "mode" key.
 * @s: its value, NULL if the key is missing.
 * @m: the access asked for.
 *
 * As Xen's block script reads it: a 'w' anywhere makes the disk writable
 * ("w"; libxl writes "w" or "r"), a '!' as well asks for no sharing check
 * ("w!").  No key, or any other value, is read-only: a disk is never made
 * writable by accident.
 */
void skb_mode_parse(const char *s, struct skb_mode *m)
{
	m->writable = false;
	m->force = false;
	if (!s)
		return;
	for (; *s; s++) {
		if (*s == 'w')
			m->writable = true;
		else if (*s == '!')
			m->force = true;
	}
	m->force = m->force && m->writable;
}

/**
 * skb_share_ok() - may @me use a backing @other already uses?
 * @me: the disk being opened.
 * @other: a disk that has the same backing open.
 *
 * Readers share freely.  A writer, or a reader next to a writer, shares
 * only with the same domain (one guest with the backing twice), with the
 * same VM (during a migration both domains have the disk; their "vm"
 * paths are equal) or when @me asked for it with "w!".
 *
 * Return: true if they may share.
 */
bool skb_share_ok(const struct skb_user *me, const struct skb_user *other)
{
	if (me->mode.force)
		return true;
	if (!me->mode.writable && !other->mode.writable)
		return true;
	if (me->domid == other->domid)
		return true;
	return me->vm && other->vm && me->vm[0] && !strcmp(me->vm, other->vm);
}
