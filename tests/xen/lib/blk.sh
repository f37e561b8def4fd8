# SPDX-License-Identifier: GPL-2.0
#
# Helpers of the block-pair scenarios (vbd-*, back-*, front-*), sourced on
# both sides after common.sh: whole-disk fio jobs with crc32c verify
# headers, so data written on one side is verified by the same job in
# --verify_only mode on the other; loading either backend in dom0; the
# counters of splitkit_back and splitkit_front; diagnostics as comments.

# Shared with the kselftest package's tests (tests/selftests/lib/blk.sh,
# sourced from common.sh's $SK_SELFTESTS; see there), as sk_blk_*.
. "$SK_SELFTESTS/lib/blk.sh"
sk_blk_fio()		{ skt_blk_fio "$@"; }
sk_blk_fio_rand()	{ skt_blk_fio_rand "$@"; }
sk_blk_front_stat()	{ skt_blk_front_stat "$@"; }
sk_blk_front_features()	{ skt_blk_front_features "$@"; }
sk_blk_guest_diag()	{ skt_blk_guest_diag "$@"; }
sk_blk_guest_dmesg()	{ skt_blk_guest_dmesg "$@"; }

# sk_blk_load_back: splitkit_back in dom0, never next to xen-blkback,
# with this run's parameters (XEN_BACK_PARAMS, sk_back_params) if it was
# not loaded.
sk_blk_load_back()
{
	if [ -d /sys/module/xen_blkback ]; then
		rmmod xen_blkback || return 1
	fi
	[ -d /sys/module/splitkit_back ] ||
		sk_insmod splitkit_back $(sk_back_params)
}

# sk_blk_load_front [FRONTEND]: in a domU, load FRONTEND (default: the
# one sk.front= names on the command line, else xen-blkfront);
# splitkit_front gets one poll queue.
sk_blk_load_front()
{
	local front=${1:-$(sk_cmdline sk.front)}

	case "${front:-xen-blkfront}" in
	splitkit_front) sk_insmod splitkit_front poll_queues=1 ;;
	*) sk_modprobe "${front:-xen-blkfront}" ;;
	esac
}

# sk_stats_dump DIR: every counter of a sysfs counters directory (one
# value per file: skb_stats/, skf_stats/) as "KEY VALUE" lines, the
# snapshot format sk_blk_stat reads; fails if there is no DIR.
sk_stats_dump()
{
	local f
	[ -d "$1" ] || return 1
	for f in "$1"/*; do
		[ -r "$f" ] && echo "${f##*/} $(cat "$f")"
	done
	return 0
}

# sk_blk_stats DOMID DEVID: a snapshot of splitkit_back's counters of one
# disk ("KEY VALUE" lines).
sk_blk_stats()
{
	sk_stats_dump "/sys/bus/xen-backend/devices/vbd-$1-$2/skb_stats"
}

# sk_blk_back_stat DOMID DEVID KEY: one of splitkit_back's counters of one
# disk, now (sysfs skb_stats/KEY; nothing if the disk is gone).
sk_blk_back_stat()
{
	cat "/sys/bus/xen-backend/devices/vbd-$1-$2/skb_stats/$3" 2>/dev/null
}

# sk_blk_stat FILE KEY: one value of a snapshot that sk_blk_stats wrote.
sk_blk_stat()
{
	sed -n "s/^$2 //p" "$1"
}

# sk_blk_kb FILE: KiB allocated to FILE on the host.
sk_blk_kb()
{
	du -k "$1" | cut -f1
}

# sk_blk_dmesg_clean: no kernel report (lib/kreport.sh's SKT_KREPORT_RE: oops,
# BUG, WARNING, hung task, ...) in dmesg.
sk_blk_dmesg_clean()
{
	skt_kreport_clean
}

# sk_blk_console_wait NAME PATTERN TIMEOUT: wait until the console log of
# domU NAME has a line matching PATTERN (grep -E).
sk_blk_console_wait()
{
	local log=/var/log/xen/console/guest-$1.log left=$3
	while ! grep -qE "$2" "$log" 2>/dev/null; do
		[ "$left" -gt 0 ] || return 1
		xl domid "$1" >/dev/null 2>&1 || return 1
		sleep 1
		left=$((left - 1))
	done
}

# sk_blk_relay NAME: relay the results a domU printed so far (for guests
# that are destroyed on purpose and never print their end marker).
sk_blk_relay()
{
	local log=/var/log/xen/console/guest-$1.log line
	[ -f "$log" ] || return 0
	tr -d '\r' <"$log" | while IFS= read -r line; do
		case "$line" in
		"SKU: ok - "*) sk_ok "domU: ${line#SKU: ok - }" ;;
		"SKU: not ok - "*) sk_fail "domU: ${line#SKU: not ok - }" ;;
		"SKU: # "*) sk_comment "domU: ${line#SKU: # }" ;;
		esac
	done
}

# sk_blk_gone NAME TIMEOUT: wait until domain NAME no longer exists.
sk_blk_gone()
{
	local left=$2
	while xl domid "$1" >/dev/null 2>&1; do
		[ "$left" -gt 0 ] || return 1
		sleep 1
		left=$((left - 1))
	done
}

# sk_blk_no_vbd TIMEOUT [ID]: wait until no splitkit_back device (or none
# whose name contains ID) is bound any more.
sk_blk_no_vbd()
{
	local left=$1 pat=vbd-${2:-}
	while ls /sys/bus/xen-backend/devices 2>/dev/null | grep -q -- "$pat"; do
		[ "$left" -gt 0 ] || return 1
		sleep 1
		left=$((left - 1))
	done
}

# sk_blk_dmesg_dump: splitkit_back's kernel messages as KTAP comments.
sk_blk_dmesg_dump()
{
	skt_blk_dom0_dmesg
}

# sk_blk_diag: splitkit_back's counters of every disk and its recent
# kernel messages, as KTAP comments (for a scenario that is stuck).
sk_blk_diag()
{
	local f
	for f in /sys/bus/xen-backend/devices/vbd-*/skb_stats; do
		[ -d "$f" ] || continue
		sk_comment "diag: ${f#/sys/bus/xen-backend/devices/}: $(sk_stats_dump "$f" | tr '\n' ' ')"
	done
	for f in /sys/bus/xen-backend/devices/vbd-*; do
		[ -d "$f" ] || continue
		local be fe
		be=$(cat "$f/nodename" 2>/dev/null)
		fe=$(xenstore-read "$be/frontend" 2>/dev/null)
		sk_comment "diag: ${f##*/} state $(xenstore-read "$be/state") front $(xenstore-read "$fe/state") ring-ref $(xenstore-read "$fe/ring-ref") evtchn $(xenstore-read "$fe/event-channel")"
	done
	[ -d /sys/kernel/debug/splitkit_ring ] ||
		mount -t debugfs none /sys/kernel/debug 2>/dev/null
	for f in /sys/kernel/debug/splitkit_ring/*/q*/stats; do
		[ -r "$f" ] || continue
		sk_comment "diag: ring ${f#/sys/kernel/debug/splitkit_ring/}: $(tr '\n' ' ' <"$f")"
	done
	grep -E 'vbd|xen-dyn' /proc/interrupts | while IFS= read -r l; do
		sk_comment "diag: irq $l"
	done
	dmesg | tail -n 40 | sed 's/^\[[ 0-9.]*\] //' | while IFS= read -r l; do
		sk_comment "diag dmesg: $l"
	done
}

# sk_blk_hostile_results SKIP: turn splitkit_hostile's kernel messages
# ("<dev>: ok <what>", "<dev>: not ok <what>", anything else a comment)
# into results, leaving out lines that match SKIP (grep pattern).
sk_blk_hostile_results()
{
	local l dev rest

	dmesg | sed -n 's/^\[[ 0-9.]*\] splitkit_hostile: //p' | grep -v "$1" |
		while IFS= read -r l; do
			dev=${l%%: *}
			rest=${l#*: }
			case "$rest" in
			"ok "*) sk_ok "$dev: ${rest#ok }" ;;
			"not ok "*) sk_fail "$dev: ${rest#not ok }" ;;
			*) sk_comment "$dev: $rest" ;;
			esac
		done
}
