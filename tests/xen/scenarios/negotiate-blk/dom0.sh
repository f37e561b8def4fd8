# SPDX-License-Identifier: GPL-2.0
#
# negotiate-blk (dom0 half): blk.iops negotiated between a guest and dom0
# and enforced by splitkit_back, measured in the guest with fio; dom0
# renegotiates (a policy file's ceiling), then the guest does (asks again); a
# hostile guest's garbage and request flood leave dom0 and the agreement
# healthy.  No rate is a fixed number: the guest measures its unlimited
# rate F and every limit and capacity is a fraction of it.
#
#   dom0: /run/neg.img -> splitkit_back ==blkif==> splitkit_front  xvda
#         splitkit_negotiate (backend) <==XenStore==> splitkit_negotiate
#         blk_iops_capacity=F; guest_max L2, none   sk-neg/0  (frontend)
#
# Turns (handshakes, common.sh sk_hs_*): the guest measures F and sends
# neg-ready="F L1 L2"; dom0 sets its capacity to F, adds the device's
# XenStore nodes and answers neg-device; the guest negotiates L1, measures
# and sends neg-applied; dom0 checks its keys, applies a policy file
# (splitkit negotiate policy) that keeps the capacity F but lets one
# agreement hold L2 at most, and answers neg-lowered; the guest selects from
# dom0's new offers, measures and sends neg-reapplied; dom0 checks, applies
# a policy without the ceiling (and sees a bad one refused, nothing changed)
# and answers neg-raised; the guest asks for L1 itself and, before
# selecting, writes a stale selection (the first offers' generation) and
# sends neg-stale; dom0 waits until it has counted a stale selection,
# checks nothing changed and answers neg-stale-checked; the guest selects,
# measures and sends neg-asked; dom0 checks and answers neg-checked; the
# guest plays hostile (garbage, a flood, limits on two disks it does not
# have, reaching splitkit_back's limits_per_domain, set to 3, and a third
# refused ENOSPC) and sends neg-hostile-done; dom0 checks it stayed
# healthy and answers neg-dom0-done.  After the guest is gone dom0 checks
# every agreement was revoked and unloads.
#
# A second guest, the peer (domU-peer.cfg, peer.sh), runs beside it and
# holds a blk.bandwidth agreement of 512 KiB/s (dom0's capacity 1024
# KiB/s): after neg-device, dom0 waits for its peer-ready, attaches its
# device (splitkit negotiate attach) and answers peer-device; the peer
# selects, reads 2 MiB of its own disk in indirect requests and sends
# peer-applied, and dom0 checks splitkit_back held some of them and notes
# its slots file and splitkit_back's limit.  After neg-hostile-done both must be as they
# were; dom0 answers peer-checked, the peer checks its own view, gets a
# second limit (256 KiB/s, disk 51728: the first guest's quota is not
# the peer's) and sends peer-limit2, dom0 checks it beside the first
# guest's 3 (which stays until neg-dom0-done) and answers peer-done, the
# peer goes, and once xl has destroyed its domain (and then the first
# guest's) dom0's end of its device removes itself and its limits are
# lifted; a detach then finds nothing.  Each agreement is checked in
# dom0's slot, both ends' keys and splitkit_back's limit in force.

. /lib/splitkit/blk.sh
. /lib/splitkit/negotiate.sh

img=/run/neg.img
peer_img=/run/negpeer.img
name=negotiate-blk
dir=/sys/bus/xen-backend/devices
cap=/sys/module/splitkit_negotiate/parameters/blk_iops_capacity
lim=/sys/module/splitkit_back/parameters/limits
peer=negotiate-blk-peer
bwcap=/sys/module/splitkit_negotiate/parameters/blk_bw_capacity_kib
tclock=/sys/module/splitkit_negotiate/parameters/test_read_clock

# slot0: dom0's line for slot 0 of the guest's device.
slot0()
{
	grep '^0 ' "$dir/sk-neg-$domid-0/slots"
}

negstat()
{
	sed -n "s/^$1 //p" "$dir/sk-neg-$domid-0/negotiate_stats"
}

# stat_above KEY N: dom0's counter KEY is above N.
stat_above()
{
	test "$(negstat "$1")" -gt "$2"
}

# taken: dom0's slot reads and deferred reads, summed (one process: the
# flood below polls it)
taken()
{
	awk '$1 == "slot_reads" || $1 == "reads_deferred" { n += $2 }
	     END { print n + 0 }' "$dir/sk-neg-$domid-0/negotiate_stats"
}

# read_flood K: K junk keys written into the guest's slot 6, one at a
# time, each waited for until dom0 has read the slot or deferred it.
read_flood()
{
	local i=0 n seen
	while [ "$i" -lt "$1" ]; do
		seen=$(taken)
		xenstore-write "/local/domain/$domid/device/sk-neg/0/slot-6/junk-$i" x ||
			return 1
		n=0
		while [ "$(taken)" -le "$seen" ]; do
			n=$((n + 1))
			# hang guard: 60 s
			[ "$n" -lt 3000 ] || { echo "key $i: not taken"; return 1; }
			usleep 20000
		done
		i=$((i + 1))
	done
}

# neg_dump WHY: what dom0 knows, as comments, when a turn or a check fails
# (one run then says why): its slots and counters, the negotiate XenStore
# subtrees of both ends, and splitkit_negotiate's and splitkit_back's
# dmesg lines (the module is loaded with dyndbg=+p: every event of every
# slot is traced there).
neg_dump()
{
	local d=$dir/sk-neg-$domid-0 l

	sk_comment "dom0 dump ($1):"
	{
		echo "slots:"
		cat "$d/slots" "$d/negotiate_stats" 2>&1
		echo "splitkit_back limits:"
		cat "$lim" 2>&1
		xenstore-ls -f /local/domain/0/backend/sk-neg 2>&1
		[ -z "$domid" ] ||
			xenstore-ls -f "/local/domain/$domid/device/sk-neg" 2>&1
		dmesg | grep -E 'sk-neg|splitkit_negotiate|splitkit_back|vbd' |
			tail -n 60
	} | neg_comments
}

# agreed V REQGEN: dom0's sysfs and keys, and the guest's keys, agree that
# V is applied, selected from the offers answering the guest's request
# REQGEN.
agreed()
{
	local be=/local/domain/0/backend/sk-neg/$domid/0/slot-0
	local fe=/local/domain/$domid/device/sk-neg/0/slot-0
	local gen

	gen=$(xenstore-read "$fe/select-gen") || return 1
	slot0 | grep -q "^0 applied blk.iops 51712 10 [0-9]* req $2 offers [0-9]*:0 applied $1:$gen\$" &&
		[ "$(xenstore-read "$be/status")" = applied ] &&
		[ "$(xenstore-read "$be/applied")" = "$1" ] &&
		[ "$(xenstore-read "$be/applied-gen")" = "$gen" ] &&
		[ "$(xenstore-read "$be/offer-for")" = "$2" ] &&
		[ "$(xenstore-read "$fe/request-gen")" = "$2" ] &&
		[ "$(xenstore-read "$fe/select")" = 0 ]
}

# enforced V: splitkit_back's limit in force on the guest's xvda is V
# requests/s and no bandwidth limit.
enforced()
{
	grep -q "^$domid 51712 iops $1 bw 0 " "$lim"
}

# unlimited: splitkit_back has no limit left on any disk of the guest.
unlimited()
{
	! grep -q "^$domid " "$lim"
}


# check_agreed DESC V REQGEN: one result for agreed V REQGEN, one for
# splitkit_back enforcing V; dump on failure.
check_agreed()
{
	sk_check "$1" agreed "$2" "$3" || neg_dump "$1"
	sk_check "$1: splitkit_back enforces $2" enforced "$2" ||
		neg_dump "$1: not enforced"
}

# stale_counted N: dom0 has counted more than N stale selections.
stale_counted()
{
	test "$(negstat stale)" -gt "$1"
}

# stale_ignored V: dom0 kept renegotiating with V in force (its slot, its
# keys, splitkit_back).
stale_ignored()
{
	local be=/local/domain/0/backend/sk-neg/$domid/0/slot-0

	slot0 | grep -q "^0 renegotiating .* applied $1:" &&
		[ "$(xenstore-read "$be/status")" = renegotiating ] &&
		[ "$(xenstore-read "$be/applied")" = "$1" ] && enforced "$1"
}

# peer_line: splitkit_back's limit line of the peer's disk 51712.
peer_line()
{
	grep "^$pdomid 51712 " "$lim"
}

# peer_turns: the peer's agreement, made while the first guest measures.
peer_turns()
{
	sk_check "the peer guest exists" \
		skt_wait "$(sk_guard 600)" sh -c "xl domid $peer >/dev/null 2>&1" || return 1
	sk_check "the peer sent peer-ready" sk_hs_wait_from "$peer" peer-ready ||
		return 1
	pdomid=$(xl domid "$peer") || return 1
	echo "$pdomid" >/tmp/neg-peer-domid
	sk_check "blk.bandwidth capacity 1024 KiB/s" sh -c "echo 1024 >$bwcap"
	sk_check "splitkit negotiate attach $pdomid (the peer)" \
		splitkit negotiate attach "$pdomid" || return 1
	sk_hs_send_to "$peer" peer-device
	sk_check "the peer sent peer-applied" \
		sk_hs_wait_from "$peer" peer-applied || {
		neg_dump "no peer-applied"
		return 1
	}
	peer_slots=$(cat "$dir/sk-neg-$pdomid-0/slots")
	sk_comment "dom0: the peer's slots: $peer_slots"
	sk_check "dom0: the peer's 524288 bytes/s applied for its request 1" \
		sh -c "echo '$peer_slots' | grep -q '^0 applied blk.bandwidth 51712 262144 524288 req 1 offers 1:[0-9]* applied 524288:1\$'"
	peer_lim=$(peer_line)
	sk_check "splitkit_back enforces the peer's 524288 bytes/s and held some of its 2 MiB of reads ($peer_lim)" \
		sh -c "echo '$peer_lim' | grep -q '^$pdomid 51712 iops 0 bw 524288 held [1-9][0-9]*\$'"
}

# peer_untouched: the peer's slots and limit are as they were.
peer_untouched()
{
	[ "$(cat "$dir/sk-neg-$pdomid-0/slots")" = "$peer_slots" ] &&
		[ "$(peer_line)" = "$peer_lim" ]
}

# show_ok: splitkit negotiate show prints every slot line of both guests,
# each after its domain, the two agreements among them.
show_ok()
{
	local out n

	out=$(splitkit negotiate show) || return 1
	n=$(cat "$dir"/sk-neg-*-0/slots | wc -l)
	sk_comment "splitkit negotiate show: $(echo "$out" | tr '\n' '|')"
	[ "$(echo "$out" | wc -l)" = "$n" ] &&
		echo "$out" | grep -q "^$pdomid: 0 applied blk.bandwidth 51712 262144 524288 req 1 " &&
		echo "$out" | grep -q "^$domid: 0 applied blk.iops 51712 10 "
}

# json_ok: its --json form, one object per slot line, the peer's as fields.
json_ok()
{
	local j n

	j=$(splitkit negotiate show --json) || return 1
	n=$(cat "$dir"/sk-neg-*-0/slots | wc -l)
	sk_comment "splitkit negotiate show --json: $j"
	[ "$(echo "$j" | grep -o '"slot": ' | wc -l)" = "$n" ] &&
		echo "$j" | grep -q "\"domain\": \"$pdomid\", \"slot\": 0, \"state\": \"applied\", \"resource\": \"blk.bandwidth\", \"target\": 51712, \"min\": 262144, \"max\": 524288" &&
		echo "$j" | grep -q "\"domain\": \"$domid\", \"slot\": 0, \"state\": \"applied\", \"resource\": \"blk.iops\""
}

dom0_turns()
{
	local v free l1 l2 stale0
	# the domain exists once xl create (in the foreground) has made it;
	# sk_hs_wait_from fails at once for a domain that does not exist
	sk_check "the guest exists" \
		skt_wait "$(sk_guard 600)" sh -c "xl domid $name >/dev/null 2>&1" || return 1
	v=$(neg_turn neg-ready) || return 1
	set -- $v
	free=$1 l1=$2 l2=$3
	sk_comment "guest: unlimited $free IOPS, L1 $l1, L2 $l2"
	domid=$(xl domid "$name") || return 1
	echo "$domid" >/tmp/neg-domid
	sk_check "capacity: the guest's unlimited rate ($free)" \
		sh -c "echo $free >$cap"
	sk_check "add the sk-neg device for domain $domid" \
		skt_xs_add_device sk-neg "$domid" || return 1
	sk_hs_send_to "$name" neg-device
	peer_turns || return 1

	neg_turn neg-applied >/dev/null || return 1
	sk_comment "dom0: $(slot0)"
	sk_comment "dom0: splitkit_back: $(cat $lim)"
	check_agreed "dom0: $l1 applied for request 1, as the guest selected" \
		"$l1" 1
	# dom0's policy file: the capacity stays, one agreement may hold
	# at most L2 (the ceiling: dom0 renegotiates what is above it)
	# (a policy file is the whole policy: the peer's capacity too)
	printf '# negotiate-blk\nblk.iops.capacity = %s\nblk.iops.guest_max = %s\nblk.bandwidth.capacity = 1024\n' \
		"$free" "$l2" >/tmp/neg-policy.conf
	sk_check "splitkit negotiate policy: capacity $free, at most $l2 an agreement (dom0 renegotiates)" \
		splitkit negotiate policy /tmp/neg-policy.conf
	sk_check "the policy is in the module (blk_iops_guest_max $l2)" \
		test "$(cat "${cap%/*}/blk_iops_guest_max")" = "$l2"
	sk_hs_send_to "$name" neg-lowered

	neg_turn neg-reapplied >/dev/null || return 1
	sk_comment "dom0: $(slot0)"
	sk_comment "dom0: splitkit_back: $(cat $lim)"
	check_agreed "dom0: $l2 applied, still for request 1" "$l2" 1
	printf 'blk.iops.capacity = %s\nblk.bandwidth.capacity = 1024\n' \
		"$free" >/tmp/neg-policy.conf
	sk_check "splitkit negotiate policy: capacity $free, no ceiling" \
		splitkit negotiate policy /tmp/neg-policy.conf
	sk_check "a bad policy file is refused and changes nothing" \
		sh -c "printf 'blk.iops.capacity = 1\nblk.iops.guest_max = x\n' >/tmp/neg-bad.conf &&
		       ! splitkit negotiate policy /tmp/neg-bad.conf &&
		       test \"\$(cat $cap)\" = $free"
	stale0=$(negstat stale)
	sk_hs_send_to "$name" neg-raised

	v=$(neg_turn neg-stale) || return 1
	sk_check "dom0: counted the guest's stale selection (offer-gen $v)" \
		skt_wait 60 stale_counted "$stale0" ||
		neg_dump "stale selection not seen"
	sk_check "dom0: the stale selection changed nothing ($l2 in force)" \
		stale_ignored "$l2" || neg_dump "stale selection applied"
	sk_hs_send_to "$name" neg-stale-checked

	neg_turn neg-asked >/dev/null || return 1
	sk_comment "dom0: $(slot0)"
	sk_comment "dom0: splitkit_back: $(cat $lim)"
	check_agreed "dom0: $l1 applied for request 2 (the guest renegotiated)" \
		"$l1" 2
	sk_hs_send_to "$name" neg-checked

	neg_turn neg-hostile-done >/dev/null || return 1
	sk_comment "dom0: $(slot0)"
	sk_comment "dom0: $(tr '\n' ' ' <"$dir/sk-neg-$domid-0/negotiate_stats")"
	sk_comment "dom0: splitkit_back: $(cat $lim)"
	check_agreed "dom0: slot 0 still $l1 after the hostile guest" \
		"$l1" 2
	sk_check "dom0: bad messages counted" test "$(negstat bad)" -gt 0
	# how many reads the flood cost depends on the guest's speed (the
	# watch coalesces, the bucket defers): reported, not asserted
	sk_comment "dom0: flood reads deferred by the rate limit: $(negstat rate_limited)"
	sk_check "dom0: logged a malicious or buggy frontend" \
		sh -c 'dmesg | grep -q "sk-neg.*malicious or buggy frontend"'
	# one key written in one slot costs dom0 a read of that slot only
	# (the guest waits for neg-dom0-done: nothing else is written now)
	v=$(negstat slot_reads)
	sk_check "write a bad request-gen into the guest's slot 7 (one key)" \
		xenstore-write "/local/domain/$domid/device/sk-neg/0/slot-7/request-gen" x
	sk_check "dom0 answers it with an error key" \
		skt_wait 120 xenstore-read "/local/domain/0/backend/sk-neg/$domid/0/slot-7/error" ||
		neg_dump "no error for slot 7"
	sk_comment "dom0: slot reads for it: $(($(negstat slot_reads) - v)) (from $v)"
	sk_check "dom0 read slot 7 alone (at most twice: the rate limit may defer it once), not every slot" \
		test $(($(negstat slot_reads) - v)) -ge 1 -a $(($(negstat slot_reads) - v)) -le 2
	# a flood of keys in one slot buys no more slot reads than the read
	# limit's tokens: with the limit's clock stopped (a test build's
	# test_read_clock=0) no token comes back, so 48 keys, each waited
	# for (read_flood: until the slot was read or its read deferred),
	# cost at most its burst (4 x req_burst 8 + 8 slots = 40) and the
	# rest wait, however fast or slow the machine; with the clock running
	# again the waiting slot is read (nothing written was dropped)
	r0=$(negstat slot_reads)
	d0=$(negstat reads_deferred)
	sk_check "stop the read limit's clock (test_read_clock=0)" \
		sh -c "echo 0 >$tclock"
	sk_check "dom0 took each of 48 junk keys in slot 6 (read or deferred)" \
		read_flood 48
	reads=$(($(negstat slot_reads) - r0))
	deferred=$(($(negstat reads_deferred) - d0))
	sk_comment "dom0: 48 junk keys: $reads slot reads, $deferred deferred"
	sk_check "dom0: at most the read limit's burst of slot reads ($reads <= 40)" \
		test "$reads" -le 40
	r1=$(negstat slot_reads)
	sk_check "restart the read limit's clock" sh -c "echo 1 >$tclock"
	sk_check "dom0 then reads the waiting slot (its timer)" \
		skt_wait 60 stat_above slot_reads "$r1"
	xenstore-rm "/local/domain/$domid/device/sk-neg/0/slot-6"
	sk_check "dom0: the other guest's agreement untouched (its slots, splitkit_back's limit)" \
		peer_untouched || {
		sk_comment "dom0: the peer's slots now: $(cat "$dir/sk-neg-$pdomid-0/slots")"
		sk_comment "dom0: splitkit_back: $(cat $lim)"
	}
	sk_check "dom0: splitkit_back holds limits on 3 disks of the guest, its most" \
		test "$(grep -c "^$domid " $lim)" = 3
	sk_check "splitkit negotiate show: both guests' slots" show_ok
	sk_check "splitkit negotiate show --json: the same as objects" json_ok
	# the peer checks its own view and goes (waited for at the end)
	sk_hs_send_to "$peer" peer-checked
	peer_released=1
	# while the guest holds limits on 3 disks (its most), the peer gets
	# one for a second disk of its own
	sk_check "the peer sent peer-limit2" \
		sk_hs_wait_from "$peer" peer-limit2 || neg_dump "no peer-limit2"
	sk_check "dom0: splitkit_back limits the peer's disk 51728 (262144 bytes/s) beside the guest's 3" \
		sh -c "grep -q '^$pdomid 51728 iops 0 bw 262144 ' $lim &&
		       test \$(grep -c '^$domid ' $lim) = 3" || {
		sk_comment "dom0: splitkit_back: $(cat $lim)"
		neg_dump "the peer's second limit"
	}
	sk_hs_send_to "$peer" peer-done
	peer_done=1
	sk_check "dom0: no oops, warning or hung task" sk_blk_dmesg_clean
	sk_hs_send_to "$name" neg-dom0-done
}

sk_check "load splitkit_back" sk_blk_load_back || return
sk_check "splitkit_back: limits on at most 3 disks a guest (limits_per_domain)" \
	sh -c "echo 3 >/sys/module/splitkit_back/parameters/limits_per_domain"
# offers stand 120 s (default 30): time for the stale-selection turn on
# a loaded machine
sk_check "load splitkit_negotiate (every event traced)" \
	sk_insmod splitkit_negotiate offer_timeout_ms=120000 dyndbg=+p || return
rm -f "$img" "$peer_img"
dd if=/dev/zero of="$img" bs=1M count=64 2>/dev/null
truncate -s 8M "$peer_img"
domid=""
rm -f /tmp/neg-peer-domid /tmp/neg-domid
sk_domU_run domU-peer.cfg "$(sk_guard 900)" &
peer_run=$!
# dom0_turns, and the peer let go even if a turn failed before its own
all_turns()
{
	local rc=0

	dom0_turns || rc=1
	[ -n "$peer_released" ] || sk_hs_send_to "$peer" peer-checked
	[ -n "$peer_done" ] || sk_hs_send_to "$peer" peer-done
	return $rc
}

peer_released=""
peer_done=""
all_turns &
turns=$!
sk_domU_run domU.cfg "$(sk_guard 900)"
wait $turns
wait $peer_run
# the peer went first: its domain destroyed, dom0's end of its device
# removed itself, its agreements revoked
if neg_gone "the peer's domain destroyed: dom0's end of its device removed itself" \
	/tmp/neg-peer-domid; then
	sk_check "the peer gone: splitkit_back lifted its limits" \
		skt_wait 60 sh -c "! grep -q '^$domid ' $lim"
	sk_check "splitkit negotiate detach $domid (the peer): nothing left, no error" \
		splitkit negotiate detach "$domid"
else
	sk_check "the peer had a negotiate device" false
fi
if neg_gone "the guest's domain destroyed: dom0's end of its device removed itself"; then
	sk_check "the guest's end gone: splitkit_back lifted its limit" \
		skt_wait 60 unlimited || neg_dump "limit not lifted"
else
	sk_check "the guest had a negotiate device" false
fi
sk_check "negotiate backend device gone" \
	skt_wait 60 sh -c "! ls $dir | grep -q sk-neg"
sk_check "rmmod splitkit_negotiate" rmmod splitkit_negotiate
sk_check "rmmod splitkit_back" rmmod splitkit_back
sk_check "dmesg: no oops, warning or hung task" sk_blk_dmesg_clean
rm -f "$img" "$peer_img"
