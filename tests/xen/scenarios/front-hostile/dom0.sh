# SPDX-License-Identifier: GPL-2.0
#
# front-hostile (dom0 half): a backend that breaks blkif in every way must
# leave the guest's splitkit_front alive - no oops, no hang, its I/O failing
# cleanly where it must - and the disk must come back, with its data, once
# a sane backend connects.
#
#   dom0: splitkit_hostile_back test=<attack>  ==blkif rings==>  splitkit_front
#         (tests/modules/hostile_back,          (max_indirect_segs=512, :domU
#          offers 512 segments)                  a polled queue)
#   ...then, with 2 MiB writes in flight on a silent hostile backend:
#   dom0: /run/front-hostile.img (loop) -> splitkit_back max_indirect_segs=256
#
# Each attack is one load of the hostile module; unloading it closes the
# backend end and the next load makes splitkit_front connect afresh.
# Handshakes (common.sh) sequence the two sides: dom0 sends go-<attack> once
# the backend is Connected (or, for flap, done switching), the guest
# answers done-<attack> after its own checks (domU.sh).  dom0 then checks
# what the frontend said in XenStore: after a protocol violation it closed
# by itself (state Closing while the hostile backend stays Connected) and
# wrote "malicious or buggy" to its error node; after an honest attack
# (grants, storm) it is still Connected and wrote no error.  The last
# attack (silent) holds the guest's 2 MiB writes (512 segments); dom0 puts
# splitkit_back in its place, which takes 256 (its floor, xen-blkback's
# number), and the guest checks its writes completed, re-split to the
# smaller backend, and read back intact; splitkit_back refused nothing.
#
# Time: every wait ends by what is left of the scenario's timeout
# (sk.timeout) less 90 s, so that the guest's results are relayed even if
# an attack hangs; the waits are hang guards, never sequencing.

. /lib/splitkit/blk.sh

name=front-hostile
img=/run/front-hostile.img
# scan first: the very first connection is to a backend that answers
# every request with a bad id (the module's bad-id), so the disk's
# partition scan meets the violation; the frontend must stop the device
# and still add the disk, and the guest's xenbus must go on (the scan
# waits outside the xenwatch thread).  The other attacks reconnect.
attacks="scan grants keep-maps bad-id dup-id wrong-op bad-status unsolicited prod-ahead prod-back storm flap silent"
# the attacks that break the protocol and stay Connected whatever happens
breakers=" scan bad-id dup-id wrong-op bad-status unsolicited prod-ahead prod-back "
fh_end=$(($(date +%s) + $(sk_cmdline sk.timeout || echo 600) - 90))
domid=""

# fh_left MAX: seconds a wait may take: MAX, or what is left of the
# scenario's time if that is less (at least 1).
fh_left()
{
	local left=$((fh_end - $(date +%s)))
	[ "$left" -le "$1" ] || left=$1
	[ "$left" -ge 1 ] || left=1
	echo "$left"
}

fh_be_state()
{
	xenstore-read "/local/domain/0/backend/vbd/$domid/51712/state" 2>/dev/null
}

fh_fe_state()
{
	xenstore-read "/local/domain/$domid/device/vbd/51712/state" 2>/dev/null
}

# The frontend's xenbus error node (xenbus_dev_fatal() writes it).
fh_error_dir()
{
	echo "/local/domain/$domid/error/device/vbd/51712"
}

fh_error()
{
	xenstore-read "$(fh_error_dir)/error" 2>/dev/null
}

# fh_wait_state STATE MAX: until the guest's xvda backend is in STATE.
fh_wait_state()
{
	local end=$(($(date +%s) + $(fh_left "$2")))
	while [ "$(fh_be_state)" != "$1" ]; do
		if [ "$(date +%s)" -ge "$end" ]; then
			echo "backend state $(fh_be_state), frontend state $(fh_fe_state)"
			return 1
		fi
		xl domid "$name" >/dev/null 2>&1 || { echo "domU gone"; return 1; }
		sleep 1
	done
}

# fh_wait_dmesg PATTERN MAX: until dom0's dmesg has PATTERN.
fh_wait_dmesg()
{
	local end=$(($(date +%s) + $(fh_left "$2")))
	while ! dmesg | grep -q "$1"; do
		[ "$(date +%s)" -lt "$end" ] || return 1
		sleep 1
	done
}

# fh_states FE BE: the frontend's and the backend's xenbus states now.
fh_states()
{
	local fe be
	fe=$(fh_fe_state)
	be=$(fh_be_state)
	[ "$fe" = "$1" ] && [ "$be" = "$2" ] && return 0
	echo "frontend state $fe, backend state $be"
	return 1
}

# fh_reported: the frontend wrote a "malicious or buggy" error.
fh_reported()
{
	local e
	e=$(fh_error)
	case "$e" in
	*"malicious or buggy"*) return 0 ;;
	esac
	echo "error node: ${e:-none}"
	return 1
}

# fh_unreported: the frontend wrote no error.
fh_unreported()
{
	local e
	e=$(fh_error)
	[ -z "$e" ] && return 0
	echo "error node: $e"
	return 1
}

# fh_fe_valid: the frontend's state is one xenbus defines (1-6).
fh_fe_valid()
{
	case "$(fh_fe_state)" in
	[1-6]) return 0 ;;
	esac
	echo "frontend state '$(fh_fe_state)'"
	return 1
}

# fh_unload: unbind the hostile backend's devices (a bound xenbus device
# holds its driver's module), then unload it.
fh_unload()
{
	local drv=/sys/bus/xen-backend/drivers/splitkit_hostile_back d
	[ -d /sys/module/splitkit_hostile_back ] || return 0
	for d in "$drv"/vbd-*; do
		[ -e "$d" ] && echo "${d##*/}" >"$drv/unbind"
	done
	rmmod splitkit_hostile_back
}

# fh_load ATTACK: the hostile backend in ATTACK's mode, alone (scan is
# bad-id at the first connection).
fh_load()
{
	local mode=$1
	[ "$mode" != scan ] || mode=bad-id
	fh_unload || return 1
	sk_insmod splitkit_hostile_back test="$mode"
}

# fh_held: "<requests> <most segments>" the silent backend held.
fh_held()
{
	dmesg | sed -n 's/.*silent: held \([0-9]*\) requests, the largest of \([0-9]*\) segments.*/\1 \2/p' |
		tail -n 1
}

for m in splitkit_back xen_blkback; do
	[ -d "/sys/module/$m" ] && rmmod "$m"
done
# until splitkit_back takes over, the hotplug script backs the disk with a
# loop device (xl create needs it), which splitkit_back then serves
sk_check "load loop" sk_modprobe loop || return
rm -f "$img"
truncate -s 64M "$img"
created=0
finished=0
for a in $attacks; do
	if [ "$(date +%s)" -ge "$fh_end" ]; then
		sk_fail "time left for attack $a"
		break
	fi
	# a fresh error node: what the frontend reports is this attack's
	[ -n "$domid" ] && xenstore-rm "$(fh_error_dir)" 2>/dev/null
	sk_check "load splitkit_hostile_back test=$a" fh_load "$a" || break
	if [ "$created" = 0 ]; then
		sk_check "xl create domU.cfg" xl create domU.cfg || break
		created=1
		domid=$(xl domid "$name")
	fi
	case "$a" in
	flap)
		sk_check "flap: the backend switched state at random" \
			fh_wait_dmesg "flap done" 300 ;;
	*)
		sk_check "$a: the guest connected to the hostile backend" \
			fh_wait_state 4 300 || break ;;
	esac
	sk_hs_send_to "$name" "go-$a"
	case "$a" in
	storm)
		sk_check "storm: the backend sent its event storm" \
			fh_wait_dmesg "storm done" 600 &&
			sk_comment "$(dmesg | grep 'storm done' | tail -n 1)"
		sk_hs_send_to "$name" storm-done ;;
	grants)
		sk_check "grants: Xen refused every grant the guest never gave" \
			fh_wait_dmesg "grants: 32 of 32 foreign references refused" 120 ;;
	silent)
		sk_check "silent: the guest's writes are in flight" \
			sk_hs_wait_from "$name" silent-pending "$(fh_left 300)" ||
			break
		sk_check "silent: the frontend waits, Connected, nothing reported" \
			fh_states 4 4
		sk_check "unload the hostile backend with requests in flight" \
			fh_unload || break
		held=$(fh_held)
		sk_comment "silent: the hostile backend held ${held%% *} requests, the largest of ${held##* } segments"
		sk_check "silent: it held a request larger than splitkit_back takes (> 256 segments)" \
			test "${held##* }" -gt 256
		sk_check "load splitkit_back max_indirect_segs=256 (its floor; the guest's requests had 512)" \
			sk_insmod splitkit_back max_indirect_segs=256 || break
		sk_check "splitkit_back connected" fh_wait_state 4 300 || break
		sk_hs_send_to "$name" sane
		sk_check "silent: the guest checked it" \
			sk_hs_wait_from "$name" done-silent "$(fh_left 600)" || break
		sk_check "splitkit_back served the guest" \
			test "$(sk_blk_back_stat "$domid" 51712 requests)" -gt 0
		sk_check "splitkit_back refused nothing (no request above its 256 segments reached it)" \
			test "$(sk_blk_back_stat "$domid" 51712 refused)" = 0
		sk_hs_send_to "$name" silent-checked
		finished=1
		break ;;
	esac
	sk_check "$a: the guest checked it" \
		sk_hs_wait_from "$name" "done-$a" "$(fh_left 600)" || break
	case "$breakers" in
	*" $a "*)
		sk_check "$a: the frontend closed by itself (Closing), the backend still Connected" \
			fh_states 5 4
		sk_check "$a: the frontend wrote 'malicious or buggy' to its xenbus error node" \
			fh_reported ;;
	esac
	case "$a" in
	bad-id)
		# keep-maps' module went with this load: it says what it kept
		sk_comment "$(dmesg | grep 'keep-maps: ' | tail -n 1)" ;;
	dup-id)
		sk_check "dup-id: the backend replayed an earlier answer for a reused slot" \
			sh -c "dmesg | grep -q 'dup-id: request .* answered as'" &&
			sk_comment "$(dmesg | grep 'dup-id: request' | tail -n 1)" ;;
	grants|storm|keep-maps)
		sk_check "$a: the frontend still Connected" fh_states 4 4
		sk_check "$a: the frontend reported no error" fh_unreported ;;
	flap)
		sk_comment "flap: frontend state $(fh_fe_state), backend state $(fh_be_state)"
		sk_check "flap: the frontend's state is a xenbus state" fh_fe_valid ;;
	esac
done
# a guest whose sequence broke off gets a short grace to print its results
if [ "$finished" = 1 ]; then
	sk_domU_wait "$name" "$(fh_left 600)"
elif [ "$created" = 1 ]; then
	sk_domU_wait "$name" "$(fh_left 20)"
fi
[ "$created" = 1 ] && sk_domU_results "$name"
sk_check "dom0 dmesg: no oops, warning or hung task" sk_blk_dmesg_clean
sk_check "backend devices gone after the domU" sk_blk_no_vbd 30
[ -d /sys/module/splitkit_hostile_back ] &&
	sk_check "rmmod splitkit_hostile_back" fh_unload
[ -d /sys/module/splitkit_back ] && sk_check "rmmod splitkit_back" rmmod splitkit_back
rm -f "$img"
