# SPDX-License-Identifier: GPL-2.0
#
# negotiate-mem (domU half): see dom0.sh.  The guest (512 MiB, maxmem
# 1024) negotiates its memory through splitkit_negotiate's frontend sysfs
# files; its half of each agreement is Linux's Xen balloon driver, which
# follows memory/target.  Every check is on a count, never on time:
# offers are the ladder of Documentation/negotiate.rst ("Offers"), the
# balloon's target_kb and current_kb reach the agreement exactly, MemTotal
# moves by exactly the agreement's difference from the boot size (1 MiB
# of slack), and Xen refusing more than the agreement shows as a failed
# balloon round (retry_count) with current_kb held at the agreement plus
# libxl's 1 MiB constant.

. /lib/splitkit/blk.sh
. /lib/splitkit/negotiate.sh

dev=/sys/bus/xen/devices/sk-neg-0
bal=/sys/devices/system/xen_memory/xen_memory0
fe=device/sk-neg/0
floor=512	# our requests' minimum, MiB

memtotal()
{
	awk '$1 == "MemTotal:" { print $2 }' /proc/meminfo
}

neg_dump()
{
	sk_comment "guest dump ($1):"
	{
		cat "$dev/slots" 2>&1
		xenstore-ls -f "$be" 2>&1
		grep . "$bal/target_kb" "$bal"/info/* "$bal/retry_count" \
			"$bal/schedule_delay" 2>&1
		grep -E 'MemTotal|MemFree' /proc/meminfo
		dmesg | grep -E 'sk-neg|splitkit_negotiate|balloon' | tail -n 30
	} | neg_comments
}

# ballooned MIB: the balloon driver's target and its current size are
# both MIB.
ballooned()
{
	[ "$(cat "$bal/target_kb")" = $(($1 * 1024)) ] &&
		[ "$(cat "$bal/info/current_kb")" = $(($1 * 1024)) ]
}

# follows LABEL MIB: the balloon reaches MIB and MemTotal moved from the
# boot size by MIB less the boot memory, within 1 MiB.
follows()
{
	local d want

	sk_check "$1: the balloon driver reaches $2 MiB" \
		skt_wait 300 ballooned "$2" || {
		neg_dump "$1: balloon"
		return 1
	}
	d=$(($(memtotal) - m0))
	want=$((($2 - c0 / 1024) * 1024))
	sk_comment "$1: MemTotal $(memtotal) kB, moved $d kB (agreement moves $want)"
	sk_check "$1: MemTotal moved by the agreement (+-1 MiB)" \
		test "$d" -ge $((want - 1024)) -a "$d" -le $((want + 1024))
}

# select_first LABEL MIB: select offer 0 (MIB) and wait for it applied.
select_first()
{
	sk_check "$1: select the first offer ($2 MiB)" \
		sh -c "echo 0 0 >$dev/select"
	sk_check "$1: the agreement is applied" \
		skt_wait 120 slot0_applied "$2" || {
		neg_dump "$1: not applied"
		return 1
	}
	sk_comment "$1: $(slot0)"
}

# offered LABEL LIST REQGEN: offers LIST answering request REQGEN.
offered()
{
	sk_check "$1: dom0 offers" skt_wait 120 slot0_is offered || {
		neg_dump "$1: no offers"
		return 1
	}
	sk_comment "$1: $(slot0)"
	sk_check "$1: offers are $2" offers_are "$2" || neg_dump "$1: offers"
	sk_check "$1: they answer request $3" test "$(bekey offer-for)" = "$3"
}

# newer_offers GEN: our slot 0 holds offers of a generation above GEN.
newer_offers()
{
	slot0_is offered && [ "$(bekey offer-gen)" -gt "$1" ] &&
		slot0 | grep -q " offers $(bekey offer-gen):"
}

# vcpus_slot STATE VALUE: our slot 3 (vcpus) is in STATE with VALUE in
# force (VALUE 0: none yet).
vcpus_slot()
{
	grep -q "^3 $1 vcpus .* applied $2:" "$dev/slots"
}

# cpus_online LIST: the kernel's online vCPUs are LIST ("0", "0-1").
cpus_online()
{
	[ "$(cat /sys/devices/system/cpu/online)" = "$1" ]
}

# vcpus_round LABEL MAX N ONLINE: request 1..MAX vCPUs in slot 3, see N
# offered first, select it, see it applied and the kernel's online vCPUs
# become ONLINE.
vcpus_round()
{
	sk_check "$1: request vcpus 1..$2 (slot 3)" \
		sh -c "echo 3 vcpus 0 1 $2 >$dev/request"
	sk_check "$1: dom0 offers $3 first" \
		skt_wait 120 sh -c "grep -q '^3 offered vcpus .* offers [0-9]*:$3[, ]' $dev/slots" || {
		neg_dump "$1: no offers"
		return 1
	}
	sk_check "$1: select it" sh -c "echo 3 0 >$dev/select"
	sk_check "$1: $3 applied" skt_wait 120 vcpus_slot applied "$3" || {
		neg_dump "$1: not applied"
		return 1
	}
	sk_check "$1: the kernel's online vCPUs are $4" \
		skt_wait 120 cpus_online "$4" || neg_dump "$1: vCPUs"
	sk_comment "$1: $(grep '^3 ' "$dev/slots"); online $(cat /sys/devices/system/cpu/online)"
}

# refused: Xen failed a balloon round (retry_count above 1).
refused()
{
	test "$(cat "$bal/retry_count")" -gt 1
}

sk_check "the balloon driver is there" test -r "$bal/target_kb" || return
sk_check "load splitkit_negotiate (frontend, every event traced)" \
	sk_insmod splitkit_negotiate offer_timeout_ms=120000 dyndbg=+p || return
m0=$(memtotal)
c0=$(cat "$bal/info/current_kb")
sk_comment "boot: MemTotal $m0 kB, balloon current $c0 kB, target $(cat $bal/target_kb) kB"
sk_check "booted with 512 MiB" test "$c0" = 524288
sk_hs_send mem-ready "$m0 $c0"
sk_hs_wait mem-device >/dev/null || return
domid=$(xenstore-read domid)
be=/local/domain/0/backend/sk-neg/$domid/0

# 1. 512..896 against a capacity of 768: offers 768 and 576
sk_check "request memory $floor..896 once connected" \
	skt_wait 120 sh -c "echo 0 memory 0 $floor 896 >$dev/request" || {
	neg_dump "request refused"
	return
}
offered "768 MiB" 768,576 1 || return
select_first "768 MiB" 768 || return
follows "768 MiB" 768 || return
# Xen's maximum is the agreement: our own balloon asked for more is refused
sk_check "our balloon target raised past the agreement, to 896 MiB" \
	sh -c "echo $((896 * 1024)) >$bal/target_kb"
sk_check "Xen refuses the balloon more than the agreement" \
	skt_wait 120 refused || neg_dump "never refused"
sk_comment "balloon after the refusal: current $(cat $bal/info/current_kb) kB, retry_count $(cat $bal/retry_count)"
sk_check "the balloon holds no more than the agreement (+1 MiB, libxl's slack)" \
	test "$(cat "$bal/info/current_kb")" -le $(((768 + 1) * 1024))
sk_check "our balloon target back at the agreement" \
	sh -c "echo $((768 * 1024)) >$bal/target_kb"
sk_check "the balloon back at 768 MiB" skt_wait 300 ballooned 768
sk_hs_send mem-applied

# 2. dom0 lowers its capacity to 640: memory goes back only once we agree
sk_hs_wait mem-lowered >/dev/null || return
offered "dom0 lowered" 640 1 || return
sk_check "offered 640 MiB, still 768 MiB until we select" ballooned 768
select_first "dom0 lowered" 640 || return
follows "640 MiB" 640 || return
sk_hs_send mem-reapplied

# 3. dom0 raised its capacity to 2048: we ask for up to 2048, dom0 offers
# no more than our static-max (1024)
sk_hs_wait mem-raised >/dev/null || return
sk_check "ask for memory $floor..2048 (request 2)" \
	sh -c "echo 0 memory 0 $floor 2048 >$dev/request"
offered "static-max" 1024,768,512 2 || return
select_first "static-max" 1024 || return
follows "1024 MiB" 1024 || return
# vCPUs (dom0's capacity 4, our maxvcpus 2): we ask up to 4 and are
# offered no more than 2; then down to 1
sk_check "booted with one vCPU online" cpus_online 0
vcpus_round "vcpus up" 4 2 0-1 || return
vcpus_round "vcpus down" 1 1 0 || return
# a hostile request: memory's target is the domain itself, 0
sk_check "write a memory request for target 5 into slot 1" \
	xenstore-write "$fe/slot-1/resource" memory "$fe/slot-1/target" 5 \
		"$fe/slot-1/min" 512 "$fe/slot-1/max" 1024 \
		"$fe/slot-1/request-gen" 1
sk_check "dom0 answers it ERANGE" \
	skt_wait 120 sh -c "xenstore-read $be/slot-1/error | grep -q '^ERANGE'" ||
	neg_dump "no error for target 5"
# one agreement for our memory: a second slot asking for it is refused
sk_check "ask for memory in slot 2 too" \
	sh -c "echo 2 memory 0 $floor 1024 >$dev/request"
sk_check "dom0 answers slot 2 EBUSY" \
	skt_wait 120 sh -c "xenstore-read $be/slot-2/error | grep -q '^EBUSY'" ||
	neg_dump "no EBUSY for slot 2"
sk_comment "slot-2/error: $(xenstore-read "$be/slot-2/error" 2>&1)"
sk_hs_send mem-asked

# 4. dom0 lowers its capacity to 896, then reloads its module while those
# offers stand, with a helper that does not exist: its new offers answer
# our standing request, our selection fails with ENODEV, our 1024 MiB stay
sk_hs_wait mem-lowered2 >/dev/null || return
offered "lowered again" 896,672 2 || return
g=$(bekey offer-gen)
sk_hs_send mem-offered "$g"
sk_hs_wait mem-unbound >/dev/null || return
sk_check "dom0's end gone: our request stands (slot requested)" \
	skt_wait 120 slot0_is requested || neg_dump "request dropped"
sk_check "dom0's end gone: our 1024 MiB stay" ballooned 1024
sk_hs_send mem-away
sk_hs_wait mem-reloaded >/dev/null || return
sk_check "dom0's module back: offers newer than generation $g" \
	skt_wait 120 newer_offers "$g" || neg_dump "no newer offers"
sk_comment "after the reload: $(slot0)"
offered "after the reload" 896,672 2 || return
sk_check "nothing was taken while dom0's end was away (1024 MiB)" \
	ballooned 1024
sk_check "select 896 MiB" sh -c "echo 0 0 >$dev/select"
sk_check "dom0 answers ENODEV (applying)" \
	skt_wait 120 sh -c "xenstore-read $be/slot-0/error | grep -q '^ENODEV'" ||
	neg_dump "no ENODEV"
sk_comment "slot-0/error: $(bekey error 2>&1)"
sk_check "dom0 holds no agreement since its reload (applied 0)" \
	test "$(bekey applied)" = 0
sk_check "our 1024 MiB untouched" ballooned 1024
sk_hs_send mem-refused

# 5. dom0's helper never ends: killed at its deadline, ETIMEDOUT
sk_hs_wait mem-hang >/dev/null || return
sk_check "select 896 MiB again" sh -c "echo 0 0 >$dev/select"
sk_check "dom0 answers ETIMEDOUT (applying)" \
	skt_wait 120 sh -c "xenstore-read $be/slot-0/error | grep -q '^ETIMEDOUT'" ||
	neg_dump "no ETIMEDOUT"
sk_comment "slot-0/error: $(bekey error 2>&1)"
sk_check "dom0 still holds no agreement (applied 0)" \
	test "$(bekey applied)" = 0
sk_check "our 1024 MiB still untouched" ballooned 1024
sk_hs_send mem-timedout

# 6. our device goes while dom0 applies our selection (dom0 holds its
# helper): dom0's end closes at once, and the agreement it then puts in
# force is revoked, as we are gone; our device comes back and asks again
sk_hs_wait mem-gate >/dev/null || return
g=$(bekey offer-gen)
sk_check "ask for 512..1024 MiB again" \
	sh -c "echo 0 memory 0 $floor 1024 >$dev/request"
sk_check "offers newer than generation $g" skt_wait 120 newer_offers "$g" ||
	neg_dump "no new offers"
sk_check "select 896 MiB a third time" sh -c "echo 0 0 >$dev/select"
sk_hs_wait mem-gated >/dev/null || return
drv=$(readlink -f "$dev/driver")
sk_check "unbind our sk-neg device while dom0 applies" \
	sh -c "echo sk-neg-0 >$drv/unbind"
sk_hs_send mem-closed
sk_hs_wait mem-revoked >/dev/null || return
sk_check "the balloon follows the 896 MiB dom0 applied" \
	skt_wait 300 ballooned 896 || neg_dump "balloon"
sk_check "bind our sk-neg device again" sh -c "echo sk-neg-0 >$drv/bind"
sk_check "ask for 512..1024 MiB once connected" \
	skt_wait 120 sh -c "echo 0 memory 0 $floor 1024 >$dev/request"
sk_check "dom0 offers for it" skt_wait 120 slot0_is offered ||
	neg_dump "no offers after reconnecting"
sk_hs_send mem-back

# 7. dom0's end goes while it applies our selection, and comes back
sk_hs_wait mem-gate2 >/dev/null || return
g=$(bekey offer-gen)
sk_check "select 896 MiB (dom0 holds its helper, then goes)" \
	sh -c "echo 0 0 >$dev/select"
sk_hs_wait mem-rebound >/dev/null || return
sk_check "dom0's end back: offers newer than generation $g" \
	skt_wait 120 newer_offers "$g" || neg_dump "no offers after dom0's end came back"
sk_hs_send mem-back2

# 8. our last agreement, 896 MiB, in force when we go: dom0 revokes it,
# and what we keep counts until xl has destroyed our domain
sk_hs_wait mem-apply >/dev/null || return
sk_check "select 896 MiB (dom0's own helper again)" \
	sh -c "echo 0 0 >$dev/select"
sk_check "dom0 applied 896 MiB" \
	skt_wait 120 sh -c "test \"\$(xenstore-read $be/slot-0/applied)\" = 896" ||
	neg_dump "not applied"
sk_hs_send mem-final
sk_hs_wait mem-done >/dev/null
