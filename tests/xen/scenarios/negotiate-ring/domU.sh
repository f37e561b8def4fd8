# SPDX-License-Identifier: GPL-2.0
#
# negotiate-ring (domU half): see dom0.sh.  Runs whole-disk fio write +
# verify passes over xvda in the background (sk_blk_verify_passes: each
# pass writes all of it with one seed and reads it back, seeds alternate,
# so a lost or misplaced write fails the pass), and while they run
# negotiates the disk's rings four times; each agreement is applied by
# splitkit_back reconfiguring the live connection.  After each change it
# checks the agreement (offers, dom0's keys), the disk's new shape
# (splitkit_front's skf_stats: queues, poll_queues, ring_order and the
# count of reconfigurations) and that a whole verify pass started and
# finished on it.  At the end: every pass verified, no request failed.
#
#   slot 0 blk.queues 1..1    offers 1          1 queue, no poll queue
#   slot 0 blk.queues 1..4    offers 4,3,2,1    2 + 1 poll (our wish)
#   slot 1 blk.ring 1..1      offers 1          ring-page-order 0
#   slot 1 blk.ring 1..8      offers 8,4,2      EOPNOTSUPP: we removed our
#                                               feature-splitkit-reconfigure
#   slot 1 blk.ring 1..16     offers 16,8,4     order 2 (our max)
#   slots 0 and 1 together: blk.queues 1 and blk.ring 1, selected one
#   right after the other: 1 queue of one page
#   our module unloaded (offers standing in slot 2): both revoked, back to
#   2 + 1 of order 2; loaded again, slot 0 blk.queues 1..2 request 1:
#   offers 2,1, left standing as we go away

. /lib/splitkit/blk.sh
. /lib/splitkit/negotiate.sh

dev=/sys/bus/xen/devices/sk-neg-0
vdev=51712	# xvda
fe=device/sk-neg/0
st=/sys/block/xvda/device/skf_stats
io=/tmp/negring-io

fstat()
{
	cat "$st/$1"
}

# shape EV POLL ORDER N: xvda is connected on EV event-driven and POLL
# polled rings of ring-page-order ORDER, after N reconfigurations.
shape()
{
	[ "$(fstat connected)" = 1 ] && [ "$(fstat queues)" = "$1" ] &&
		[ "$(fstat poll_queues)" = "$2" ] &&
		[ "$(fstat ring_order)" = "$3" ] &&
		[ "$(fstat reconfigured)" = "$4" ]
}

# slotn N: our line for slot N.
slotn()
{
	grep "^$1 " "$dev/slots"
}

# passes_past N: the verify loop has finished more than N passes.
passes_past()
{
	[ "$(sk_blk_passes "$io")" -gt "$1" ]
}

# verify_ok: no verify pass has failed.
verify_ok()
{
	[ "$(sk_blk_passes "$io")" -ge 0 ]
}

neg_dump()
{
	sk_comment "guest dump ($1):"
	{
		cat "$dev/slots" 2>&1
		sk_stats_dump "$st" 2>&1 | tr '\n' ' '
		echo
		xenstore-ls -f "/local/domain/$domid/$fe" 2>&1
		xenstore-ls -f "$be" 2>&1
		xenstore-ls -f "/local/domain/$domid/device/vbd" 2>&1
		dmesg | grep -E 'sk-neg|splitkit|vbd' | tail -n 40
	} | neg_comments
}

# change LABEL SLOT RESOURCE MIN MAX REQGEN OFFERS EV POLL ORDER N: ask
# for RESOURCE MIN..MAX (request REQGEN of slot SLOT), check dom0 offers
# exactly OFFERS, select the first, and wait until it is applied on both
# sides, xvda has the shape EV POLL ORDER after N reconfigurations, and a
# verify pass started after the change has finished.
change()
{
	local label=$1 slot=$2 top=${7%%,*} p0
	local sb=$be/slot-$2

	sk_check "$label: request $3 $4..$5 for xvda (slot $2)" \
		skt_wait 120 sh -c "echo $2 $3 $vdev $4 $5 >$dev/request" || {
		neg_dump "$label: request refused"
		return 1
	}
	sk_check "$label: dom0 offers" \
		skt_wait 120 sh -c "grep -q '^$slot offered ' $dev/slots" || {
		neg_dump "$label: no offers"
		return 1
	}
	sk_comment "$label: $(slotn "$slot")"
	sk_check "$label: offers are $7" \
		sh -c "grep '^$slot offered ' $dev/slots | grep -q ' offers [0-9]*:$7 '"
	sk_check "$label: dom0's offers answer request $6" \
		test "$(xenstore-read "$sb/offer-for")" = "$6"
	sk_check "$label: select the first offer ($top)" \
		sh -c "echo $slot 0 >$dev/select"
	sk_check "$label: the agreement is applied" \
		skt_wait 120 sh -c "grep '^$slot applied ' $dev/slots | grep -q 'applied $top:'" || {
		neg_dump "$label: not applied"
		return 1
	}
	sk_check "$label: dom0's keys say $top applied" \
		skt_wait 30 sh -c "test \"\$(xenstore-read $sb/status)\" = applied &&
				   test \"\$(xenstore-read $sb/applied)\" = $top" ||
		neg_dump "$label: keys disagree"
	sk_check "$label: xvda reconfigured to $8 queue(s) + $9 polled, ring-page-order ${10} (reconfiguration ${11})" \
		skt_wait 120 shape "$8" "$9" "${10}" "${11}" || {
		neg_dump "$label: shape"
		return 1
	}
	p0=$(sk_blk_passes "$io")
	sk_check "$label: a whole verify pass on the new rings (after pass $p0)" \
		skt_wait 600 passes_past $((p0 + 1)) || {
		neg_dump "$label: no verify pass"
		return 1
	}
	sk_comment "$label: requests requeued so far $(fstat requeued), errors $(fstat errors)"
}

# refused LABEL: with our feature-splitkit-reconfigure key gone (as with
# xen-blkfront, which cannot follow a reconfiguration), an agreement for
# the connected disk (slot 1, blk.ring 1..8, request 2) cannot be applied:
# dom0 answers EOPNOTSUPP, the agreement in force (1 page) and the disk
# stay as they are.  The key is written back after.
refused()
{
	local sb=$be/slot-1 key=device/vbd/$vdev/feature-splitkit-reconfigure

	sk_check "$1: remove our $key" xenstore-rm "$key" || return 1
	sk_check "$1: request blk.ring 1..8 (slot 1, request 2)" \
		sh -c "echo 1 blk.ring $vdev 1 8 >$dev/request" || return 1
	sk_check "$1: dom0 offers 8,4,2" \
		skt_wait 120 sh -c "grep '^1 offered ' $dev/slots | grep -q ' offers [0-9]*:8,4,2 '" || {
		neg_dump "$1: no offers"
		return 1
	}
	sk_check "$1: select 8" sh -c "echo 1 0 >$dev/select"
	sk_check "$1: dom0 cannot apply it: EOPNOTSUPP" \
		skt_wait 120 sh -c "xenstore-read $sb/error | grep -q '^EOPNOTSUPP'" || {
		neg_dump "$1: no EOPNOTSUPP"
		return 1
	}
	sk_comment "$1: slot-1/error: $(xenstore-read "$sb/error" 2>&1)"
	sk_check "$1: 1 page stays in force (dom0's keys)" \
		test "$(xenstore-read "$sb/applied")" = 1
	sk_check "$1: xvda untouched: ring-page-order 0, 3 reconfigurations" \
		shape 2 1 0 3
	sk_check "$1: write our $key back" xenstore-write "$key" 1
}

# shape_from EV POLL ORDER N: shape EV POLL ORDER after N or more
# reconfigurations.
shape_from()
{
	[ "$(fstat reconfigured)" -ge "$4" ] &&
		shape "$1" "$2" "$3" "$(fstat reconfigured)"
}

# both LABEL: two agreements selected together, blk.queues 1 (slot 0,
# request 3) and blk.ring 1 (slot 1, request 4): dom0 may apply the second
# while the first's reconfiguration runs; it must follow once that one
# ends (or both go in one).  xvda ends on one queue of one page, after one
# or two more reconfigurations, and a verify pass runs on it.
both()
{
	local p0 n0
	n0=$(fstat reconfigured)
	sk_check "$1: request blk.queues 1..1 (slot 0) and blk.ring 1..1 (slot 1)" \
		sh -c "echo 0 blk.queues $vdev 1 1 >$dev/request &&
		       echo 1 blk.ring $vdev 1 1 >$dev/request" || return 1
	sk_check "$1: dom0 offers 1 in each slot" \
		skt_wait 120 sh -c "grep '^0 offered ' $dev/slots | grep -q ' offers [0-9]*:1 ' &&
				    grep '^1 offered ' $dev/slots | grep -q ' offers [0-9]*:1 '" || {
		neg_dump "$1: offers"
		return 1
	}
	sk_check "$1: select both, one right after the other" \
		sh -c "echo 0 0 >$dev/select && echo 1 0 >$dev/select"
	sk_check "$1: both applied" \
		skt_wait 120 sh -c "grep -q '^0 applied .* applied 1:' $dev/slots &&
				    grep -q '^1 applied .* applied 1:' $dev/slots" || {
		neg_dump "$1: not applied"
		return 1
	}
	sk_check "$1: xvda on 1 queue of ring-page-order 0 (after reconfiguration $((n0 + 1)) or $((n0 + 2)))" \
		skt_wait 120 shape_from 1 0 0 $((n0 + 1)) || {
		neg_dump "$1: shape"
		return 1
	}
	sk_check "$1: at most two reconfigurations for the two" \
		test "$(fstat reconfigured)" -le $((n0 + 2))
	p0=$(sk_blk_passes "$io")
	sk_check "$1: a whole verify pass on the new rings (after pass $p0)" \
		skt_wait 600 passes_past $((p0 + 1)) || neg_dump "$1: no verify pass"
}

# reload LABEL: with agreements in force in slots 0 and 1 (one queue, one
# page) and offers standing in slot 2, our splitkit_negotiate goes away
# (unbound, unloaded) and comes back.  dom0 must end every slot (GONE):
# the agreements are revoked, which lifts both caps, and splitkit_back
# reconfigures xvda back to what we want (2 + 1 queues, order 2), under
# the verify passes.  The new module counts requests from 1 again.
reload()
{
	local n0 p0
	n0=$(fstat reconfigured)
	sk_check "$1: a request whose offers stand (slot 2, blk.queues 1..2, xvdb)" \
		sh -c "echo 2 blk.queues 51728 1 2 >$dev/request"
	sk_check "$1: dom0 offers for it" \
		skt_wait 120 sh -c "grep -q '^2 offered ' $dev/slots" || {
		neg_dump "$1: slot 2 not offered"
		return 1
	}
	sk_check "$1: unbind our sk-neg device" \
		sh -c "echo sk-neg-0 >$dev/driver/unbind"
	sk_check "$1: unload splitkit_negotiate" rmmod splitkit_negotiate
	sk_check "$1: dom0 revoked both agreements: xvda back on 2 + 1 queues, ring-page-order 2" \
		skt_wait 120 shape_from 2 1 2 $((n0 + 1)) || {
		neg_dump "$1: shape"
		return 1
	}
	sk_check "$1: at most two reconfigurations for the two revokes" \
		test "$(fstat reconfigured)" -le $((n0 + 2))
	sk_check "$1: load splitkit_negotiate again" \
		sk_insmod splitkit_negotiate offer_timeout_ms=120000 dyndbg=+p ||
		return 1
	sk_check "$1: request blk.queues 1..2 in slot 0 once connected" \
		skt_wait 120 sh -c "echo 0 blk.queues $vdev 1 2 >$dev/request" || {
		neg_dump "$1: request refused"
		return 1
	}
	sk_check "$1: dom0 offers 2,1 for request 1 (the new module's first)" \
		skt_wait 120 sh -c "grep '^0 offered ' $dev/slots | grep -q ' req 1 offers [0-9]*:2,1 '" ||
		neg_dump "$1: new offers"
	p0=$(sk_blk_passes "$io")
	sk_check "$1: a whole verify pass after (after pass $p0)" \
		skt_wait 600 passes_past $((p0 + 1)) || neg_dump "$1: no verify pass"
}

sk_check "load splitkit_front" sk_blk_load_front splitkit_front || return
sk_check "xvda appears" sk_wait_block /dev/xvda || return
sk_check "load splitkit_negotiate (frontend, every event traced)" \
	sk_insmod splitkit_negotiate offer_timeout_ms=120000 dyndbg=+p || return
sk_check "xvda starts on 2 queues + 1 polled, ring-page-order 2" \
	shape 2 1 2 0 || neg_dump "first shape"
sk_check "we told the backend we follow Reconfiguring" \
	test "$(xenstore-read device/vbd/$vdev/feature-splitkit-reconfigure)" = 1
sk_hs_send neg-ready
sk_hs_wait neg-device >/dev/null || return
domid=$(xenstore-read domid)
be=/local/domain/0/backend/sk-neg/$domid/0

rm -rf "$io"
mkdir "$io"
sk_blk_verify_passes xvda 64k 16 7 "$io" &
loop=$!
sk_check "the verify passes are running" skt_wait 600 passes_past 0 || {
	touch "$io/stop"
	wait $loop
	return
}

# a failed pass ends every wait at once
SKT_ALIVE=verify_ok
change "one queue" 0 blk.queues 1 1 1 1 1 0 2 1 &&
change "four queues" 0 blk.queues 1 4 2 4,3,2,1 2 1 2 2 &&
change "one ring page" 1 blk.ring 1 1 1 1 2 1 0 3 &&
refused "no feature-splitkit-reconfigure" &&
change "sixteen ring pages" 1 blk.ring 1 16 3 16,8,4 2 1 2 4 &&
both "both at once" &&
reload "module reloaded"
SKT_ALIVE=

touch "$io/stop"
wait $loop
rc=$?
sk_comment "verify loop: $(cat "$io/pass" 2>/dev/null), status $rc"
[ "$rc" -eq 0 ] || sed 's/^/fio: /' "$io/fio.log" | tail -n 10 |
	while IFS= read -r l; do sk_comment "$l"; done
sk_check "every verify pass wrote and read back the disk (across $(fstat reconfigured) reconfigurations)" \
	test "$rc" -eq 0
sk_check "no request failed" test "$(fstat errors)" = 0
sk_check "no protocol violation seen" test "$(fstat violations)" = 0
sk_comment "requests taken back and issued again: $(fstat requeued)"
sk_check "our ring keys: multi-queue-num-queues 3, ring-page-order 2" \
	sh -c "test \"\$(xenstore-read device/vbd/$vdev/multi-queue-num-queues)\" = 3 &&
	       test \"\$(xenstore-read device/vbd/$vdev/ring-page-order)\" = 2"
sk_check "no oops, warning or hung task" sk_blk_dmesg_clean
# we go away in the middle of a negotiation: the offers of slot 0 stand
sk_hs_send neg-ring-done "$(fstat requeued)"
sk_hs_wait neg-dom0-done >/dev/null
