# SPDX-License-Identifier: GPL-2.0
#
# negotiate-mem (dom0 half): the memory provider of splitkit_negotiate
# between a PV guest of 512 MiB (maxmem 1024) and dom0.  dom0's capacity
# comes from Xen's free memory (splitkit negotiate capacity memory auto,
# checked against xl info), then is set by hand; the module applies each
# agreement by running splitkit negotiate set-memory (libxl: Xen's maximum,
# then memory/target), and the guest's balloon driver follows.
#
#   dom0: splitkit_negotiate (backend, mem_helper=/usr/bin/splitkit)
#         <==XenStore==> splitkit_negotiate (frontend) in the guest
#         capacity 768 MiB, then 640, then 2048 (above the guest's 1024)
#
# Turns (handshakes, common.sh sk_hs_*): the guest sends mem-ready "M0 C0"
# (its MemTotal and balloon current_kb); dom0 checks the automatic
# capacity, sets 768, attaches the device and answers mem-device; the
# guest requests 512..896, gets 768 and 576, selects 768, sees its balloon
# and MemTotal follow, finds Xen refusing it more than it agreed to (its
# own balloon target raised past the agreement), and sends mem-applied;
# dom0 checks its slot, memory/target and xl list, lowers its capacity to
# 640 and answers mem-lowered; the guest, still at 768 until it agrees,
# selects 640 (memory taken back), sends mem-reapplied; dom0 checks, raises
# the capacity to 2048 and answers mem-raised; the guest asks for
# 512..2048, is offered no more than its static-max (1024, 768, 512),
# selects 1024, writes a bad memory request, sends mem-asked; dom0 checks,
# lowers its capacity to 896 and answers mem-lowered2; the guest sees the
# offers 896 and 672 and sends mem-offered with their generation; dom0,
# mid-negotiation, unbinds the device and answers mem-unbound; the guest
# sees its request stand and its memory stay, sends mem-away; dom0
# unloads splitkit_negotiate and loads it again with a mem_helper that
# does not exist and a capacity of 896, answers mem-reloaded; the guest
# gets newer offers for its standing request, selects 896 and sees ENODEV
# with its 1024 MiB untouched, sends mem-refused; dom0 checks its log,
# points mem_helper at a helper that never ends with a 1000 ms
# mem_helper_timeout_ms and answers mem-hang; the guest selects again and
# sees ETIMEDOUT, its 1024 MiB untouched, sends mem-timedout; dom0 checks
# the helper was killed and points mem_helper at a gate again, answers
# mem-gate; the guest requests again, selects 896, dom0 sees the helper
# held and answers mem-gated; the guest unbinds its device, sends
# mem-closed; dom0 sees its end Closing while the helper is still held
# (the xenwatch thread did not wait for it), lets it go, sees 896 applied
# and then revoked and kept by the guest (a frontend of another domain,
# XenStore keys only, asks for memory and gets ENOSPC; its frontend
# directory removed, dom0's end stays; a second fake domain's home
# removed, dom0's end of it removes itself), answers mem-revoked; the
# guest's balloon follows 896, it binds its device again, requests,
# sends mem-back; dom0 sees the offers, points mem_helper at the gate, answers mem-gate2; the guest
# selects; dom0 unbinds its own end while the helper is held (the helper
# is killed, the unbind returns), binds it again (it still knows the
# guest keeps 896 MiB: kept-memory in its directory), unbinds it and
# binds it with kept-vm naming another domain (nothing kept), answers
# mem-rebound;
# the guest sees newer offers for its standing request, sends mem-back2;
# dom0 sees them, points mem_helper at /usr/bin/splitkit again and
# answers mem-apply; the guest selects 896, sees it applied and sends
# mem-final; dom0 checks its slot and answers mem-done.  The guest then
# goes with its agreement in force (revoked: it keeps 896 MiB); once xl
# destroyed its domain, dom0's end of its device removes itself, and a
# fake domain asking for memory is offered 512 MiB (what the guest kept
# counts no more), and dom0's directory of a device of a domain that
# never existed (no device: no frontend directory) goes too.  Before the
# first attach, attaching a domain that does not exist fails and writes
# nothing.
#
# The selection of 640 MiB is applied by a gated helper (gate_helper):
# dom0 holds it until it has seen its slot "applying 640" in sysfs and set
# a capacity, both of which take skn_back_lock: the helper runs without it.

. /lib/splitkit/blk.sh
. /lib/splitkit/negotiate.sh

name=negotiate-mem
dir=/sys/bus/xen-backend/devices
params=/sys/module/splitkit_negotiate/parameters
cap=$params/mem_capacity_mib

slot0()
{
	grep '^0 ' "$dir/sk-neg-$domid-0/slots"
}

# neg_dump WHY: dom0's view, as comments, when a turn or a check fails.
neg_dump()
{
	sk_comment "dom0 dump ($1):"
	{
		cat "$dir/sk-neg-$domid-0/slots" \
		    "$dir/sk-neg-$domid-0/negotiate_stats" 2>&1
		xenstore-ls -f "/local/domain/0/backend/sk-neg/$domid" 2>&1
		xenstore-ls -f "/local/domain/$domid/memory" 2>&1
		xl list 2>&1
		ps -eo pid,stat,wchan:24,args | grep -E '[n]eg-|[s]plitkit|[x]enwatch'
		dmesg | grep -E 'sk-neg|splitkit_negotiate' | tail -n 40
	} | neg_comments
}


# xl_mem: the guest's memory in MiB as xl list shows it.
xl_mem()
{
	xl list "$name" | awk 'NR == 2 { print $3 }'
}

# agreed MIB REQGEN: dom0's slot, its keys and the domain's memory/target
# say MIB is in force for request REQGEN, and xl list shows the guest
# within 2 MiB of it (its balloon got there before the guest's turn).
agreed()
{
	local be=/local/domain/0/backend/sk-neg/$domid/0/slot-0 m

	slot0 | grep -q "^0 applied memory 0 512 [0-9]* req $2 offers [0-9]*:[0-9]* applied $1:" &&
		[ "$(xenstore-read "$be/applied")" = "$1" ] &&
		[ "$(xenstore-read "/local/domain/$domid/memory/target")" = $(($1 * 1024)) ] &&
		m=$(xl_mem) && [ "$m" -ge $(($1 - 2)) ] && [ "$m" -le $(($1 + 2)) ]
}

# gate_helper: a mem_helper that says it started and waits for dom0 (a
# line in its FIFO) before it runs the real one.
gate=/tmp/neg-gate
gate_helper()
{
	rm -f $gate.started $gate.fifo && mkfifo $gate.fifo &&
		printf '#!/bin/sh\n: >%s.started\nread go <%s.fifo\nexec /usr/bin/splitkit "$@"\n' \
			$gate $gate >$gate && chmod +x $gate &&
		echo $gate >$params/mem_helper
}

# applying MIB: dom0's slot 0 is applying MIB (its helper runs).
applying()
{
	grep -q "^0 .* applying $1\$" "$dir/sk-neg-$domid-0/slots"
}

# be_closed: dom0's end of the guest's device is Closing or Closed.
be_closed()
{
	case $(xenstore-read "/local/domain/0/backend/sk-neg/$domid/0/state") in
	5|6) return 0 ;;
	esac
	return 1
}

# fake_connect ID: a frontend of domain ID, its keys written by dom0 (no
# domain runs it: ID is above any domid this host gives), and dom0's end
# for it, both Connected.
fake_connect()
{
	local fb=/local/domain/0/backend/sk-neg/$1/0
	local ff=/local/domain/$1/device/sk-neg/0

	sk_check "a frontend of domain $1 (keys only) and dom0's end for it" \
		sh -c "xenstore-write $ff/backend $fb $ff/backend-id 0 $ff/version 1 $ff/state 1 &&
		       xenstore-write $fb/frontend $ff $fb/frontend-id $1 $fb/online 1 $fb/state 1" ||
		return 1
	sk_check "dom0's end of it waits in InitWait" \
		skt_wait 120 sh -c "test \"\$(xenstore-read $fb/state)\" = 2" ||
		return 1
	sk_check "it says Initialised" xenstore-write "$ff/state" 3
	sk_check "dom0's end of it connects" \
		skt_wait 120 sh -c "test \"\$(xenstore-read $fb/state)\" = 4"
}

# fake_asks ID: domain ID's fake frontend asks for 256..512 MiB of memory.
fake_asks()
{
	sk_check "domain $1 asks for 256..512 MiB of memory" \
		xenstore-write "/local/domain/$1/device/sk-neg/0/slot-0/resource" memory \
			"/local/domain/$1/device/sk-neg/0/slot-0/target" 0 \
			"/local/domain/$1/device/sk-neg/0/slot-0/min" 256 \
			"/local/domain/$1/device/sk-neg/0/slot-0/max" 512 \
			"/local/domain/$1/device/sk-neg/0/slot-0/request-gen" 1
}

# fake_answer ID LABEL TEST: dom0 answers domain ID's request so that
# TEST (a shell command) holds, within 120 s; dump both sides if not.
fake_answer()
{
	sk_check "$2" skt_wait 120 sh -c "$3" || {
		sk_comment "domain $1's slot: $(xenstore-ls -f /local/domain/0/backend/sk-neg/$1/0 2>&1 | tr '\n' ' ')"
		neg_dump "domain $1: $2"
	}
}

# fake_remove ID: remove domain ID's home and dom0's end of its device.
fake_remove()
{
	sk_check "remove domain $1's home and dom0's end" \
		sh -c "xenstore-rm /local/domain/$1 &&
		       xenstore-rm /local/domain/0/backend/sk-neg/$1"
	sk_check "dom0's end of it gone" \
		skt_wait 60 sh -c "! test -e $dir/sk-neg-$1-0"
}

# other_asks: a frontend of domain $fake connects to dom0's end and asks
# for memory; all 896 MiB of dom0's capacity are what the guest keeps:
# ENOSPC.  Then its frontend directory goes while its domain's home
# stays (a guest may remove its own directory; it is no proof of its
# death): dom0's end closes and stays, even after a domain whose home
# went (domain $fake2, as xl destroy removes it) had its end removed by
# the same check.
fake=31999
fake2=31998
fake3=31997
fake4=31996
other_asks()
{
	local fb=/local/domain/0/backend/sk-neg/$fake/0

	fake_connect $fake || return 1
	fake_asks $fake
	fake_answer $fake "dom0 answers ENOSPC: its 896 MiB are what the guest keeps" \
		"xenstore-read $fb/slot-0/error | grep -q '^ENOSPC'"
	sk_check "remove domain $fake's frontend directory, not its home" \
		xenstore-rm "/local/domain/$fake/device"
	sk_check "dom0's end of it closes" \
		skt_wait 60 sh -c "case \$(xenstore-read $fb/state) in 5|6) ;; *) false ;; esac"
	fake_connect $fake2 || return 1
	sk_check "remove domain $fake2's home (as xl destroy does)" \
		xenstore-rm "/local/domain/$fake2"
	sk_check "dom0's end of domain $fake2 removed itself (device and directory)" \
		skt_wait 60 neg_dev_gone $fake2
	sk_check "dom0's end of domain $fake stays (its home is there): device and directory" \
		sh -c "test -e $dir/sk-neg-$fake-0 && xenstore-read $fb/state >/dev/null"
	fake_remove $fake
}

# fake_gone ID LABEL WHY: dom0's end of domain ID's device goes (device
# and directory) within 60 s; if not, show what is under backend/sk-neg
# and dump dom0's side (WHY).
fake_gone()
{
	sk_check "$2" skt_wait 60 neg_dev_gone "$1" || {
		sk_comment "$(xenstore-ls -f /local/domain/0/backend/sk-neg 2>&1 | tr '\n' ' ')"
		neg_dump "$3"
	}
}

# freed_asks: after the guest's domain went, a frontend of another domain
# asks for memory and is offered it: what the guest kept no longer counts.
# Then its device is detached while those offers stand: dom0's end ends
# the slot as the guest's end vanishes and must not write the slot's keys
# into the directory the detach removed (which would bring it back, and
# xenbus would never remove the device).
freed_asks()
{
	local fb=/local/domain/0/backend/sk-neg/$fake/0

	fake_connect $fake || return 1
	fake_asks $fake
	fake_answer $fake "dom0 offers it memory: what the destroyed guest kept is free" \
		"test \"\$(xenstore-read $fb/slot-0/offer-0)\" = 512"
	sk_check "splitkit negotiate detach $fake while its offers stand" \
		splitkit negotiate detach $fake
	fake_gone $fake "dom0's end of domain $fake gone, its directory not written again" \
		"directory back after the detach"
	sk_check "remove domain $fake's home" xenstore-rm /local/domain/$fake
}

# unbound_fake: dom0's directory of a device of domain $fake4, which has
# no home and whose frontend directory does not exist (as when a guest
# removed its own directory before dom0's module was loaded): xenbus
# makes no device of it (no other end), so nothing of splitkit_negotiate
# ever sees it close; only the check of every domain on xenstored's
# @releaseDomain can remove it (unbound_fake_gone).
unbound_fake()
{
	local fb=/local/domain/0/backend/sk-neg/$fake4/0

	sk_check "dom0's directory for domain $fake4, whose frontend directory does not exist" \
		xenstore-write $fb/frontend /local/domain/$fake4/device/sk-neg/0 \
			$fb/frontend-id $fake4 $fb/online 1 $fb/state 1
}

unbound_fake_gone()
{
	fake_gone $fake4 "after @releaseDomain, dom0's directory of domain $fake4's device that never was is gone too" \
		"unbound device left"
	sk_check "dom0: its log says domain $fake4 is gone" \
		skt_wait 60 sh -c "dmesg | grep -q 'domain $fake4 is gone: removed backend/sk-neg/$fake4'"
}

check_agreed()
{
	sk_comment "dom0: $(slot0); xl list: $(xl_mem) MiB"
	sk_check "$1" agreed "$2" "$3" || neg_dump "$1"
}

# auto_ok HELD: the automatic capacity is what xl info calls free plus
# HELD, what agreements hold, within 4 MiB (Xen's own allocations).
auto_ok()
{
	local free c

	free=$(xl info | awk '$1 == "free_memory" { print $3 }')
	c=$(cat "$cap")
	sk_comment "capacity memory auto: $c MiB; xl info free_memory $free MiB, held $1"
	[ -n "$free" ] && [ "$c" -ge $((free + $1 - 4)) ] &&
		[ "$c" -le $((free + $1 + 4)) ]
}

dom0_turns()
{
	sk_check "the guest exists" \
		skt_wait "$(sk_guard 600)" sh -c "xl domid $name >/dev/null 2>&1" || return 1
	neg_turn mem-ready >/dev/null || return 1
	domid=$(xl domid "$name") || return 1
	echo "$domid" >/tmp/neg-domid
	sk_check "splitkit negotiate capacity memory auto" \
		splitkit negotiate capacity memory auto
	sk_check "the automatic capacity is Xen's free memory" auto_ok 0
	sk_check "a capacity of 768 MiB" \
		splitkit negotiate capacity memory 768
	sk_check "splitkit negotiate attach $fake3 (no such domain) fails, says so and writes nothing" \
		sh -c "! splitkit negotiate attach $fake3 2>/tmp/neg-attach.err &&
		       grep -q 'no domain $fake3' /tmp/neg-attach.err &&
		       ! xenstore-read /local/domain/$fake3 >/dev/null 2>&1 &&
		       ! xenstore-read /local/domain/0/backend/sk-neg/$fake3 >/dev/null 2>&1" ||
		sk_comment "attach: $(cat /tmp/neg-attach.err)"
	sk_check "splitkit negotiate attach $domid" \
		splitkit negotiate attach "$domid" || return 1
	sk_hs_send_to "$name" mem-device

	neg_turn mem-applied >/dev/null || return 1
	check_agreed "dom0: 768 MiB applied (Xen's maximum, memory/target, xl list)" 768 1
	# (state 1 written again would close both ends of the device)
	sk_check "splitkit negotiate attach $domid again is refused, says so and leaves the device Connected" \
		sh -c "! splitkit negotiate attach $domid 2>/tmp/neg-attach.err &&
		       grep -q 'domain $domid has its device already' /tmp/neg-attach.err &&
		       test \"\$(xenstore-read /local/domain/0/backend/sk-neg/$domid/0/state)\" = 4 &&
		       test \"\$(xenstore-read /local/domain/$domid/device/sk-neg/0/state)\" = 4" ||
		sk_comment "attach: $(cat /tmp/neg-attach.err)"
	sk_check "splitkit negotiate capacity memory auto, an agreement in force" \
		splitkit negotiate capacity memory auto
	sk_check "the automatic capacity is Xen's free memory and the 768 MiB held" \
		auto_ok 768
	sk_check "mem_helper: a gate before splitkit" gate_helper
	sk_check "lower the capacity to 640 MiB (dom0 renegotiates)" \
		splitkit negotiate capacity memory 640
	sk_hs_send_to "$name" mem-lowered

	# the guest selects 640: its helper runs without skn_back_lock
	sk_check "the guest's selection runs the helper" \
		skt_wait "$(sk_guard 600)" test -e $gate.started
	sk_check "dom0: slots readable while it runs, 640 MiB applying" \
		sh -c "timeout 120 cat $dir/sk-neg-$domid-0/slots | grep -q '^0 .* applied 768:1 applying 640\$'" ||
		neg_dump "helper running"
	sk_check "dom0: a capacity set while it runs" \
		timeout 120 splitkit negotiate capacity memory 640
	sk_check "let the helper go on" sh -c "echo go >$gate.fifo"
	neg_turn mem-reapplied >/dev/null || return 1
	check_agreed "dom0: 640 MiB applied, memory taken back" 640 1
	sk_check "slots: nothing applying" \
		sh -c "! grep -q applying $dir/sk-neg-$domid-0/slots"
	sk_check "mem_helper: splitkit again" \
		sh -c "echo /usr/bin/splitkit >$params/mem_helper"
	# by a policy file this time (its memory keys; the whole policy)
	printf '# negotiate-mem\nmemory.capacity = 2048\nmemory.guest_max = 0\nvcpus.capacity = 4\n' \
		>/tmp/neg-mem-policy.conf
	sk_check "raise the capacity to 2048 MiB, above the guest's maxmem (splitkit negotiate policy)" \
		splitkit negotiate policy /tmp/neg-mem-policy.conf
	sk_check "the policy is in the module (mem_capacity_mib 2048, no ceiling; vcpus_capacity 4)" \
		sh -c "test \"\$(cat $cap)\" = 2048 &&
		       test \"\$(cat $params/mem_guest_max_mib)\" = 0 &&
		       test \"\$(cat $params/vcpus_capacity)\" = 4"
	sk_hs_send_to "$name" mem-raised

	neg_turn mem-asked >/dev/null || return 1
	check_agreed "dom0: 1024 MiB applied for request 2 (its static-max)" 1024 2
	sk_check "dom0: vcpus 1 applied for the guest's request 2 (slot 3)" \
		sh -c "grep -q '^3 applied vcpus 0 1 1 req 2 offers [0-9]*:[0-9]* applied 1:' $dir/sk-neg-$domid-0/slots" ||
		neg_dump "vcpus"
	sk_check "dom0: XenStore says vCPU 0 online, vCPU 1 offline" \
		sh -c "test \"\$(xenstore-read /local/domain/$domid/cpu/0/availability)\" = online &&
		       test \"\$(xenstore-read /local/domain/$domid/cpu/1/availability)\" = offline"
	sk_check "dom0: xl list shows 1 vCPU" \
		test "$(xl list "$name" | awk 'NR == 2 { print $4 }')" = 1
	sk_check "lower the capacity to 896 MiB" \
		splitkit negotiate capacity memory 896
	sk_hs_send_to "$name" mem-lowered2

	# dom0's end goes away and comes back while offers stand
	neg_turn mem-offered >/dev/null || return 1
	# xenbus holds a driver's module while a device is bound to it
	sk_check "unbind dom0's end of the guest's device" \
		sh -c "echo sk-neg-$domid-0 >$dir/sk-neg-$domid-0/driver/unbind"
	sk_hs_send_to "$name" mem-unbound
	neg_turn mem-away >/dev/null || return 1
	sk_check "unload splitkit_negotiate mid-negotiation" \
		rmmod splitkit_negotiate
	sk_check "unloading revoked the agreement, took no memory (target 1024 MiB)" \
		test "$(xenstore-read "/local/domain/$domid/memory/target")" = 1048576
	sk_check "load it again: capacity 896 MiB, a mem_helper that does not exist" \
		sk_insmod splitkit_negotiate offer_timeout_ms=120000 dyndbg=+p \
			mem_helper=/nonexistent/splitkit mem_capacity_mib=896 ||
		return 1
	sk_hs_send_to "$name" mem-reloaded

	neg_turn mem-refused >/dev/null || return 1
	sk_check "dom0: its log names the helper it could not run" \
		sh -c 'dmesg | grep -q "memory of domain '"$domid"': cannot run /nonexistent/splitkit"'
	sk_check "dom0: the guest keeps its 1024 MiB (memory/target)" \
		test "$(xenstore-read "/local/domain/$domid/memory/target")" = 1048576

	# a helper that never ends: killed at mem_helper_timeout_ms
	# (it reads a FIFO no one writes)
	printf '#!/bin/sh\nexec cat /tmp/neg-hang.fifo\n' >/tmp/neg-hang
	sk_check "mem_helper: one that never ends, killed after 1000 ms" \
		sh -c "mkfifo /tmp/neg-hang.fifo && chmod +x /tmp/neg-hang &&
		       echo 1000 >$params/mem_helper_timeout_ms &&
		       echo /tmp/neg-hang >$params/mem_helper"
	sk_hs_send_to "$name" mem-hang
	neg_turn mem-timedout >/dev/null || return 1
	sk_check "dom0: its log says the helper was killed at the deadline" \
		sh -c 'dmesg | grep -q "memory of domain '"$domid"' to 896 MiB: /tmp/neg-hang killed after 1000 ms"' ||
		neg_dump "helper not killed"
	sk_check "dom0: no helper left running" \
		sh -c "! grep -qs 'neg-hang.fif[o]' /proc/[0-9]*/cmdline"
	sk_check "dom0: the guest still keeps its 1024 MiB (memory/target)" \
		test "$(xenstore-read "/local/domain/$domid/memory/target")" = 1048576

	# the guest's device goes while dom0 applies its selection: the
	# xenwatch thread closes dom0's end without waiting for the helper
	sk_check "mem_helper_timeout_ms: 120 s again" \
		sh -c "echo 120000 >$params/mem_helper_timeout_ms"
	sk_check "mem_helper: the gate again" gate_helper
	sk_hs_send_to "$name" mem-gate
	sk_check "the guest's new selection runs the gated helper" \
		skt_wait "$(sk_guard 600)" test -e $gate.started
	sk_check "dom0: 896 MiB applying" applying 896 || neg_dump "not applying"
	sk_hs_send_to "$name" mem-gated
	neg_turn mem-closed >/dev/null || return 1
	sk_check "dom0's end closed while the helper waits (xenwatch did not wait for it)" \
		skt_wait 120 be_closed || neg_dump "not closed"
	sk_check "dom0: 896 MiB still applying" applying 896 ||
		neg_dump "not applying after the close"
	sk_check "let the helper go on" sh -c "echo go >$gate.fifo"
	sk_check "dom0: slot 0 idle once the helper ended (applied, then revoked)" \
		skt_wait 120 sh -c "grep -q '^0 idle ' $dir/sk-neg-$domid-0/slots" ||
		neg_dump "not revoked"
	sk_check "dom0: its log says 896 MiB applied, then revoked" \
		sh -c "dmesg | grep -A 20 'sk-neg-$domid-0: slot 0: memory applied 896 ' |
		       grep -q 'sk-neg-$domid-0: slot 0: memory revoked 896'"
	sk_check "dom0: revoking left the guest its 896 MiB (memory/target)" \
		test "$(xenstore-read "/local/domain/$domid/memory/target")" = 917504
	sk_check "dom0: the guest keeps the 896 MiB of its revoked agreement (kept_memory)" \
		grep -qx "kept_memory 896" "$dir/sk-neg-$domid-0/negotiate_stats" ||
		neg_dump "nothing kept"
	# which no other domain is offered: a second frontend, XenStore keys
	# only (no domain runs it), asks for memory and finds none
	other_asks || return 1
	sk_hs_send_to "$name" mem-revoked
	neg_turn mem-back >/dev/null || return 1
	sk_check "dom0: offers for the guest's request on its new connection" \
		sh -c "grep -q '^0 offered ' $dir/sk-neg-$domid-0/slots" ||
		neg_dump "no offers after reconnecting"

	# dom0's end goes while its helper runs: the helper is killed, the
	# removal does not wait mem_helper_timeout_ms for it
	sk_check "mem_helper: the gate again" gate_helper
	sk_hs_send_to "$name" mem-gate2
	sk_check "the guest's selection runs the gated helper" \
		skt_wait "$(sk_guard 600)" test -e $gate.started
	sk_check "dom0: 896 MiB applying" applying 896 || neg_dump "not applying"
	drv=$(readlink -f "$dir/sk-neg-$domid-0/driver")
	# (if the removal waited for the helper, the write would block in the
	# kernel until the helper's deadline, and timeout would say 124)
	sk_check "unbind dom0's end while the helper is held: it returns (within 60 s; the helper's deadline is 120 s)" \
		timeout 60 sh -c "echo sk-neg-$domid-0 >$drv/unbind"
	sk_check "no gated helper left running (killed)" \
		sh -c "! grep -qs 'neg-gat[e]' /proc/[0-9]*/cmdline"
	sk_check "dom0: its log says the helper was cancelled" \
		sh -c 'dmesg | grep -q "memory of domain '"$domid"' to 896 MiB: /tmp/neg-gate cancelled"'
	sk_check "bind dom0's end again" sh -c "echo sk-neg-$domid-0 >$drv/bind"
	# what the guest keeps outlives dom0's end (kept-memory in its
	# directory): still counted for the other guests
	sk_check "dom0: the rebound end knows the guest keeps 896 MiB (kept_memory)" \
		grep -qx "kept_memory 896" "$dir/sk-neg-$domid-0/negotiate_stats" ||
		neg_dump "kept forgotten by the rebind"
	sk_check "splitkit negotiate show: $domid: kept memory 896" \
		sh -c "splitkit negotiate show | grep -qx '$domid: kept memory 896'"
	sk_check "splitkit negotiate show --json: the same as an object" \
		sh -c "splitkit negotiate show --json | grep -q '\"domain\": \"$domid\", \"kept\": \"memory\", \"value\": 896 }'"
	nb=/local/domain/0/backend/sk-neg/$domid/0
	sk_check "dom0: kept-memory 896 in its directory of the device" \
		test "$(xenstore-read $nb/kept-memory)" = 896
	vm=$(xenstore-read /local/domain/$domid/vm)
	sk_check "dom0: kept-vm there names the guest's domain (its vm path, $vm)" \
		test -n "$vm" -a "$(xenstore-read $nb/kept-vm)" = "$vm"
	# a domain id used again by another domain keeps nothing of the one
	# before: bound again with kept-vm naming another domain
	sk_check "unbind dom0's end again" \
		sh -c "echo sk-neg-$domid-0 >$drv/unbind"
	sk_check "kept-vm made to name another domain" \
		xenstore-write $nb/kept-vm /vm/00000000-0000-0000-0000-00000000dead
	sk_check "bind dom0's end again" sh -c "echo sk-neg-$domid-0 >$drv/bind"
	sk_check "dom0: nothing kept for another domain's kept-vm (kept_memory 0)" \
		grep -qx "kept_memory 0" "$dir/sk-neg-$domid-0/negotiate_stats"
	sk_check "splitkit negotiate show: nothing kept by $domid" \
		sh -c "splitkit negotiate show >/tmp/neg-show && ! grep -q '^$domid: kept' /tmp/neg-show"
	sk_check "dom0: its log says kept-vm names another domain" \
		sh -c "dmesg | grep -q 'sk-neg-$domid-0: kept-vm names another domain'"
	sk_check "dom0: kept-memory and kept-vm removed" \
		skt_wait 60 sh -c "! xenstore-read $nb/kept-memory && ! xenstore-read $nb/kept-vm"
	sk_hs_send_to "$name" mem-rebound
	neg_turn mem-back2 >/dev/null || return 1
	sk_check "dom0: offers again for the guest's standing request" \
		sh -c "grep -q '^0 offered ' $dir/sk-neg-$domid-0/slots" ||
		neg_dump "no offers after rebinding"
	# the guest's last agreement, in force when it goes: revoked, then
	# what it keeps until xl destroys its domain (freed_asks)
	sk_check "mem_helper: /usr/bin/splitkit again" \
		sh -c "echo /usr/bin/splitkit >$params/mem_helper"
	sk_hs_send_to "$name" mem-apply
	neg_turn mem-final >/dev/null || return 1
	sk_check "dom0: 896 MiB applied for the guest" \
		sh -c "grep -q '^0 applied memory .* applied 896:' $dir/sk-neg-$domid-0/slots" ||
		neg_dump "not applied"
	sk_check "dom0: no oops, warning or hung task" sk_blk_dmesg_clean
	# before the guest goes: its destruction's @releaseDomain is what
	# removes this one
	unbound_fake
	sk_hs_send_to "$name" mem-done
}

sk_check "load splitkit_negotiate (mem_helper /usr/bin/splitkit)" \
	sk_insmod splitkit_negotiate offer_timeout_ms=120000 dyndbg=+p \
		mem_helper=/usr/bin/splitkit || return
domid=""
rm -f /tmp/neg-domid
dom0_turns &
turns=$!
sk_domU_run domU.cfg "$(sk_guard 600)"
wait $turns
# dom0_turns ran in a subshell: neg_gone reads the guest's domid
if neg_gone "the guest's domain destroyed: dom0's end of its device removed itself"; then
	freed_asks
	unbound_fake_gone
	sk_check "splitkit negotiate detach $domid: nothing left, no error" \
		splitkit negotiate detach "$domid"
	sk_check "nothing of the guest's backend in XenStore" \
		sh -c "! xenstore-read /local/domain/0/backend/sk-neg/$domid >/dev/null 2>&1"
else
	sk_check "the guest had a negotiate device" false
fi
sk_check "negotiate backend device gone" \
	skt_wait 60 sh -c "! ls $dir | grep -q sk-neg"
sk_check "rmmod splitkit_negotiate" rmmod splitkit_negotiate
sk_check "dmesg: no oops, warning or hung task" sk_blk_dmesg_clean
