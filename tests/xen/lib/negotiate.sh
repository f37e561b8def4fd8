# SPDX-License-Identifier: GPL-2.0
#
# What the negotiate-* scenarios share (Documentation/negotiate.rst): in
# the guest, reading its own slot 0 of splitkit_negotiate's frontend
# (sysfs "slots": "N STATE RESOURCE TARGET MIN MAX req G offers G:LIST
# applied V:G") and dom0's keys for it; in dom0, finding the guest's
# device again after the guest is gone and checking its slot went idle,
# and its turns (neg_turn); on both sides, a dump's lines as comments
# (neg_comments).  The caller sets dev (the frontend's sysfs directory) and be (dom0's
# XenStore directory of the device) in the guest, dir (the backend bus's
# sysfs devices) in dom0.

# slot0: our line for slot 0.
slot0()
{
	grep '^0 ' "$dev/slots"
}

# slot0_is STATE: our slot 0 is in STATE.
slot0_is()
{
	slot0 | grep -q "^0 $1 "
}

# slot0_applied V: our slot 0 is applied with the value V.
slot0_applied()
{
	slot0 | grep -q "^0 applied .* applied $1:"
}

# offers_are LIST: our slot 0 holds exactly the offers LIST.
offers_are()
{
	slot0 | grep -q "^0 offered .* offers [0-9]*:$1 "
}

# bekey KEY: dom0's key KEY of our slot 0.
bekey()
{
	xenstore-read "$be/slot-0/$1"
}

# neg_dev_gone DOMID (dom0): dom0's end of domain DOMID's device is gone,
# device ($dir/sk-neg-DOMID-0) and XenStore directory.
neg_dev_gone()
{
	! test -e "$dir/sk-neg-$1-0" &&
		! xenstore-read "/local/domain/0/backend/sk-neg/$1" >/dev/null 2>&1
}

# neg_gone LABEL [FILE] (dom0): after a guest is gone (its domain
# destroyed), set domid to the guest's (dom0_turns saved it in FILE,
# default /tmp/neg-domid) and check (LABEL) that dom0's end of its
# device removed itself, with no detach, and that its log says why; 1
# when there is no domid to check.
neg_gone()
{
	domid=$(cat "${2:-/tmp/neg-domid}" 2>/dev/null)
	[ -n "$domid" ] || return 1
	sk_check "$1" skt_wait 60 neg_dev_gone "$domid" ||
		neg_dump "dom0's end of the device still there"
	sk_check "dom0's log: domain $domid is gone, its device removed" \
		sh -c "dmesg | grep -q 'domain $domid is gone: removed backend/sk-neg/$domid '"
	return 0
}

# neg_comments: each line of standard input as an indented comment (the
# body of a scenario's neg_dump).
neg_comments()
{
	local l

	while IFS= read -r l; do
		sk_comment "  $l"
	done
}

# neg_turn KEY (dom0): wait for the guest's handshake KEY (the guest is
# the domain the caller's name says) and print its value; dump dom0's
# side (the caller's neg_dump) if it never comes.
neg_turn()
{
	sk_check "the guest sent $1" sk_hs_wait_from "$name" "$1" || {
		neg_dump "no $1 from the guest"
		return 1
	}
	sk_hs_wait_from "$name" "$1"
}
