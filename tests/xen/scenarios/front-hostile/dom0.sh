# SPDX-License-Identifier: GPL-2.0
#
# front-hostile (dom0 half): a backend that breaks blkif in every way must
# leave the guest's splitkit_front alive - no oops, no hang, its I/O failing
# cleanly where it must - and the disk must come back, with its data, once
# a sane backend connects.
#
#   dom0: splitkit_hostile_back test=<attack>  ==blkif rings==>  splitkit_front
#         (tests/modules/hostile_back)           (1 MiB requests,  :domU
#                                                 a polled queue)
#   ...then, with requests in flight on a silent hostile backend:
#   dom0: /run/front-hostile.img -> splitkit_back max_indirect_segs=32
#
# Each attack is one load of the hostile module; unloading it closes the
# backend end and the next load makes splitkit_front connect afresh.
# Handshakes (common.sh) sequence the two sides: dom0 sends go-<attack> once
# the backend is Connected (or, for flap, done switching), the guest
# answers done-<attack> after its checks.  The last attack (silent) holds
# the guest's 1 MiB writes; dom0 then puts splitkit_back, which takes only
# 32 segments, in its place, and the guest checks its writes completed
# (re-split to the smaller backend) and read back intact.

. /lib/splitkit/blk.sh

name=front-hostile
img=/run/front-hostile.img
# grants first: it answers honestly, which the disk's partition scan needs
attacks="grants bad-id dup-id wrong-op bad-status unsolicited prod-ahead prod-back storm flap silent"

# fh_be_state: state of the guest's xvda backend (empty if none).
fh_be_state()
{
	xenstore-read "/local/domain/0/backend/vbd/$(xl domid "$name" 2>/dev/null)/51712/state" 2>/dev/null
}

# fh_wait_state STATE SECONDS: until the backend is in STATE (hang guard).
fh_wait_state()
{
	local left=$2
	while [ "$(fh_be_state)" != "$1" ]; do
		[ "$left" -gt 0 ] || { echo "backend state $(fh_be_state)"; return 1; }
		xl domid "$name" >/dev/null 2>&1 || { echo "domU gone"; return 1; }
		sleep 1
		left=$((left - 1))
	done
}

# fh_wait_dmesg PATTERN SECONDS: until dmesg has PATTERN (hang guard).
fh_wait_dmesg()
{
	local left=$2
	while ! dmesg | grep -q "$1"; do
		[ "$left" -gt 0 ] || return 1
		sleep 1
		left=$((left - 1))
	done
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

# fh_load ATTACK: the hostile backend in ATTACK's mode, alone.
fh_load()
{
	fh_unload || return 1
	sk_insmod splitkit_hostile_back test="$1"
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
for a in $attacks; do
	sk_check "load splitkit_hostile_back test=$a" fh_load "$a" || break
	if [ "$created" = 0 ]; then
		sk_check "xl create domU.cfg" xl create domU.cfg || break
		created=1
	fi
	case "$a" in
	flap)
		sk_check "flap: the backend switched state at random" \
			fh_wait_dmesg "$a done" 300 ;;
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
			sk_hs_wait_from "$name" silent-pending 300 || break
		sk_check "unload the hostile backend with requests in flight" \
			fh_unload
		sk_check "load splitkit_back max_indirect_segs=32 (less than the guest's 256)" \
			sk_insmod splitkit_back max_indirect_segs=32 || break
		sk_check "splitkit_back connected" fh_wait_state 4 300
		sk_hs_send_to "$name" sane
		break ;;
	esac
	sk_check "$a: the guest checked it" sk_hs_wait_from "$name" "done-$a" 600 ||
		break
done
sk_domU_wait "$name" 540
sk_domU_results "$name"
sk_check "dom0 dmesg: no oops, warning or hung task" sk_blk_dmesg_clean
sk_check "backend devices gone after the domU" sk_blk_no_vbd 30
[ -d /sys/module/splitkit_hostile_back ] &&
	sk_check "rmmod splitkit_hostile_back" fh_unload
[ -d /sys/module/splitkit_back ] && sk_check "rmmod splitkit_back" rmmod splitkit_back
rm -f "$img"
