#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# dom0: splitkit_back and splitkit_ring load, register the "vbd" backend
# driver, expose their parameters with range checks that refuse bad values
# (at load time and at run time), and unload cleanly in dependency order.
#
#   dom0: insmod/modprobe splitkit_ring, splitkit_back
#         /sys/bus/xen-backend/drivers/vbd -> module splitkit_back
#         /sys/module/splitkit_back/parameters/*  (write bad values: refused)
#         rmmod splitkit_back, splitkit_ring
#
# Skips (exit 4) outside dom0, without the modules, or when Linux's
# xen-blkback holds the "vbd" driver name.  When splitkit_back is already
# loaded (serving guests), only the read-only and refusal checks run; the
# load and unload checks are reported as skipped.

cd "$(dirname "$0")" || exit 1
. ./lib/ktap.sh

PARAMS=/sys/module/splitkit_back/parameters

# name  lowest  highest: splitkit_back's run-time tunables and their ranges
# (backend/xenbus.c, Documentation/block.rst).
RANGES="max_queues 1 32
max_ring_order 0 4
max_indirect_segs 256 4096
poll_ns 0 1000000"

# name  value: writes that must be refused.
BAD="max_queues 0
max_queues 33
max_ring_order 5
max_indirect_segs 4097
max_indirect_segs 255
max_indirect_segs 0
poll_ns 1000001
max_queues many"

skt_need_dom0
skt_need_modules splitkit_ring splitkit_back
if ! skt_loaded splitkit_back && skt_loaded xen_blkback; then
	skt_skip_all "xen_blkback is loaded and owns the vbd driver; unload it to test splitkit_back"
fi

back_preloaded=0
ring_preloaded=0
skt_loaded splitkit_back && back_preloaded=1
skt_loaded splitkit_ring && ring_preloaded=1

skt_plan $((4 + $(echo "$RANGES" | wc -l) + $(echo "$BAD" | wc -l) + 1 + 7))

# in_range NAME LO HI: the parameter reads as a number within [LO, HI].
in_range()
{
	local v
	v=$(cat "$PARAMS/$1") || return 1
	echo "$1 = $v"
	[ "$v" -ge "$2" ] && [ "$v" -le "$3" ]
}

# refused NAME VALUE: writing VALUE fails and leaves the old value.
refused()
{
	local old now rc=0
	old=$(cat "$PARAMS/$1") || return 1
	if echo "$2" >"$PARAMS/$1" 2>/dev/null; then
		echo "$1: '$2' was accepted"
		rc=1
	fi
	now=$(cat "$PARAMS/$1")
	if [ "$now" != "$old" ]; then
		echo "$1 changed from $old to $now"
		rc=1
	fi
	echo "$old" >"$PARAMS/$1"
	return $rc
}

# accepted NAME VALUE: writing VALUE works and reads back; then restored.
accepted()
{
	local old now
	old=$(cat "$PARAMS/$1") || return 1
	echo "$2" >"$PARAMS/$1" || return 1
	now=$(cat "$PARAMS/$1")
	echo "$old" >"$PARAMS/$1" || return 1
	[ "$now" = "$2" ] || { echo "$1 reads $now after writing $2"; return 1; }
}

vbd_is_ours()
{
	local m
	m=$(readlink /sys/bus/xen-backend/drivers/vbd/module) || return 1
	echo "vbd driver module: $m"
	[ "${m##*/}" = splitkit_back ]
}

ring_holds_back()
{
	[ -e /sys/module/splitkit_ring/holders/splitkit_back ]
}

no_vbd_driver()
{
	[ ! -e /sys/bus/xen-backend/drivers/vbd ]
}

ring_refuses_unload()
{
	if rmmod splitkit_ring 2>/dev/null; then
		echo "splitkit_ring unloaded while splitkit_back used it"
		return 1
	fi
	skt_loaded splitkit_ring
}

load_refused()
{
	if skt_load splitkit_back "$@" 2>/dev/null; then
		echo "splitkit_back loaded with $*"
		rmmod splitkit_back
		return 1
	fi
	! skt_loaded splitkit_back
}

load_reads()
{
	skt_load splitkit_back "$1=$2" || return 1
	[ "$(cat "$PARAMS/$1")" = "$2" ]
}

main()
{
	local name lo hi val

	if [ "$back_preloaded" -eq 1 ]; then
		skt_skip "load splitkit_ring" "splitkit_back was already loaded"
		skt_skip "load splitkit_back" "it was already loaded"
	else
		skt_check "load splitkit_ring" skt_load splitkit_ring || return
		skt_check "load splitkit_back" skt_load splitkit_back || return
	fi
	skt_check "splitkit_back drives xen-backend device type vbd" vbd_is_ours
	skt_check "splitkit_ring is held by splitkit_back" ring_holds_back

	# (here-documents, not pipes: the loops must run in this shell so
	# their results are counted)
	while read -r name lo hi; do
		skt_check "parameter $name within $lo-$hi" in_range "$name" "$lo" "$hi"
	done <<-END
	$RANGES
	END
	while read -r name val; do
		skt_check "parameter $name refuses '$val'" refused "$name" "$val"
	done <<-END
	$BAD
	END
	skt_check "parameter max_queues accepts 1 (then restored)" \
		accepted max_queues 1

	if [ "$back_preloaded" -eq 1 ]; then
		for name in "splitkit_ring refuses to unload while used" \
			    "splitkit_back unloads" "no vbd driver left" \
			    "load with max_queues=0 refused" \
			    "load with max_queues=2 takes it" \
			    "splitkit_back unloads again" "splitkit_ring unloads"; do
			skt_skip "$name" "splitkit_back was already loaded"
		done
		return
	fi
	skt_check "splitkit_ring refuses to unload while used" ring_refuses_unload
	skt_check "splitkit_back unloads" skt_unload splitkit_back || return
	skt_check "no vbd driver left" no_vbd_driver
	skt_check "load with max_queues=0 refused" load_refused max_queues=0
	skt_check "load with max_queues=2 takes it" load_reads max_queues 2
	skt_check "splitkit_back unloads again" skt_unload splitkit_back
	if [ "$ring_preloaded" -eq 1 ]; then
		skt_skip "splitkit_ring unloads" "it was loaded before this test"
	else
		skt_check "splitkit_ring unloads" skt_unload splitkit_ring
	fi
}

main
skt_finish
