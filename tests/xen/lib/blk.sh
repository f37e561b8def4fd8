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

# sk_blk_progress DOMID DEVID: wait until splitkit_back has served more
# requests on the disk than when called (fails if the device goes away or
# after 300 s).
sk_blk_progress()
{
	local r0 r
	local deadline=$(($(date +%s) + 300))
	r0=$(sk_blk_back_stat "$1" "$2" requests)
	[ -n "$r0" ] || return 1
	while :; do
		r=$(sk_blk_back_stat "$1" "$2" requests)
		[ -n "$r" ] || { echo "vbd-$1-$2 went away"; return 1; }
		[ "$r" -gt "$r0" ] && return 0
		[ "$(date +%s)" -lt "$deadline" ] ||
			{ echo "no request served in 300 s"; return 1; }
		sleep 1
	done
}

# sk_blk_hostile_test TEST: (guest) load splitkit_hostile test=TEST as the
# only frontend, wait for its "TEST test done" line in the kernel log (180
# s hang guard) and relay its verdicts (sk_blk_hostile_results).
sk_blk_hostile_test()
{
	local tries=180

	sk_check "load splitkit_hostile test=$1 (no other frontend)" \
		sk_insmod splitkit_hostile "test=$1" || return
	while ! dmesg | grep -q "splitkit_hostile: .*$1 test done" &&
	      [ "$tries" -gt 0 ]; do
		sleep 1
		tries=$((tries - 1))
	done
	sk_check "$1 test finished" \
		sh -c "dmesg | grep -q 'splitkit_hostile: .*$1 test done'"
	sk_blk_hostile_results "$1 test done"
}

# sk_blk_domain_wait NAME TIMEOUT up|gone: wait until domain NAME exists
# (up) or no longer exists (gone); TIMEOUT seconds is a hang guard.
sk_blk_domain_wait()
{
	local left=$(($2 * 2)) up

	while :; do
		up=0
		xl domid "$1" >/dev/null 2>&1 && up=1
		case "$3:$up" in up:1|gone:0) return 0 ;; esac
		[ "$left" -gt 0 ] || return 1
		sleep 0.5
		left=$((left - 1))
	done
}

# sk_blk_gone NAME TIMEOUT: wait until domain NAME no longer exists.
sk_blk_gone()
{
	sk_blk_domain_wait "$1" "$2" gone
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

# --- a guest busy across save/restore (front-saverestore, front-restore-qdisk)

# sk_blk_sectors DEV: 512-byte sectors read and written on DEV so far (the
# block layer's counters, which live across a frontend's reconnect).
sk_blk_sectors()
{
	set -- $(cat "/sys/block/$1/stat")
	echo $(($3 + $7))
}

# sk_blk_verify_passes DEV BS IODEPTH SEED DIR: whole-disk write + verify
# passes over DEV in BS requests, seeds SEED and SEED+1 in turn (a pass
# whose writes were lost reads the other seed's data), until DIR/stop
# exists.  DIR/pass holds "<passes done> <seed of the last one>", or
# "failed pass N seed S" (then it returns 1, fio's output in DIR/fio.log).
sk_blk_verify_passes()
{
	local pass=0 seed

	while [ ! -e "$5/stop" ]; do
		seed=$(($4 + pass % 2))
		if ! sk_blk_fio "/dev/$1" "$seed" write "$2" 1 libaio \
			--iodepth="$3" >"$5/fio.log" 2>&1; then
			echo "failed pass $pass seed $seed" >"$5/pass.new" &&
				mv "$5/pass.new" "$5/pass"
			return 1
		fi
		pass=$((pass + 1))
		# renamed into place: a reader never sees it half written
		echo "$pass $seed" >"$5/pass.new" && mv "$5/pass.new" "$5/pass"
	done
}

# sk_blk_passes DIR: passes sk_blk_verify_passes finished so far (-1 once
# it failed).
sk_blk_passes()
{
	local s

	# read once: the loop may replace the file between two reads
	s=$(cat "$1/pass" 2>/dev/null)
	case "$s" in
	failed*) echo -1 ;;
	"") echo 0 ;;
	*) echo "${s%% *}" ;;
	esac
}

# sk_blk_save_busy NAME IMG SAVE: dom0 side, splitkit_back loaded.  Make
# IMG a fresh 64 MiB file, create domain NAME from domU.cfg (its disk on
# IMG), wait until its guest says its I/O is under way (handshake
# io-running, sk_blk_busy_across), then xl save it to SAVE under that I/O
# and check that it is gone.  Fails at the first step that does, with the
# domain destroyed, its disks gone and splitkit_back unloaded.
sk_blk_save_busy()
{
	# xl save runs libxl-save-helper from the Xen library directory
	sk_check "libxl-save-helper is in dom0" \
		test -x /usr/lib/xen-4.17/bin/libxl-save-helper
	rm -f "$2" "$3"
	truncate -s 64M "$2"
	if ! xl create domU.cfg >/tmp/sk-xl-create.log 2>&1; then
		sk_comment "$(cat /tmp/sk-xl-create.log)"
		sk_fail "xl create domU.cfg"
		rmmod splitkit_back
		return 1
	fi
	sk_ok "xl create domU.cfg"
	if sk_check "domU has fio I/O under way" \
		sk_hs_wait_from "$1" io-running 300 &&
	   sk_check "xl save under I/O" xl save "$1" "$3" &&
	   sk_check "xl save produced a file" test -s "$3"; then
		sk_comment "saved image: $(ls -l "$3" 2>&1)"
		sk_check "domain is gone after save" sh -c "! xl domid $1"
		return
	fi
	xl destroy "$1" 2>/dev/null
	sk_blk_no_vbd 30
	rmmod splitkit_back
	return 1
}

# sk_blk_verify_restored NAME IMG BS: dom0 side, after the restore.  Wait
# for domain NAME's guest to end, take its results, then verify all of IMG
# in BS blocks with the seed of the guest's last pass (its "seed"
# handshake, read from its console log).
sk_blk_verify_restored()
{
	local seed

	sk_domU_wait "$1" "$(sk_guard 480)"
	sk_domU_results "$1"
	seed=$(sed -n 's/^SKU: # handshake: sent seed=\([0-9]*\).*/\1/p' \
		"$SK_CONSOLE_DIR/guest-$1.log" | tr -d '\r' | tail -n 1)
	sk_check "dom0 verifies all of the disk as written by the domU (seed ${seed:-none})" \
		sk_blk_fio "$2" "${seed:-0}" verify "$3"
}

# sk_blk_busy_across DEV BS IODEPTH SEED DIR: guest side of a save and
# restore under I/O (dom0's side: sk_blk_save_busy).  Runs
# sk_blk_verify_passes in the background, says "io-running" once it has
# moved 1 MiB, waits for dom0's "restored", lets one whole pass that
# started after the restore finish, stops the passes and checks that every
# pass verified and that the restored domain moved a whole pass (the disk
# written and read back).  The last pass's seed stays in DIR/pass.
sk_blk_busy_across()
{
	local loop restored=0 pass0 sec0 ios0 rc pass_sec
	local dev=$1 dir=$5

	rm -rf "$dir"
	mkdir "$dir"
	sk_blk_verify_passes "$@" &
	loop=$!
	# I/O really under way before dom0 is told it may save us
	while [ "$(sk_blk_sectors "$dev")" -lt 2048 ] &&
	      kill -0 "$loop" 2>/dev/null; do
		sleep 1
	done
	sk_check "fio moved data on $dev" \
		test "$(sk_blk_sectors "$dev")" -ge 2048
	sk_hs_send io-running
	sk_check "dom0 says the save and the restore happened" \
		sk_hs_wait restored 540 && restored=1
	set -- $(cat "/sys/block/$dev/stat")
	ios0=$(($1 + $5))
	sec0=$(sk_blk_sectors "$dev")
	pass0=$(sk_blk_passes "$dir")
	sk_comment "after the restore: pass $pass0 running, $ios0 requests so far"
	while [ "$restored" -eq 1 ] && [ "$(sk_blk_passes "$dir")" -ge 0 ] &&
	      [ "$(sk_blk_passes "$dir")" -lt $((pass0 + 2)) ]; do
		sleep 1
	done
	touch "$dir/stop"
	wait "$loop"
	rc=$?
	sk_comment "fio loop: $(cat "$dir/pass" 2>/dev/null), status $rc"
	[ "$rc" -eq 0 ] || sed 's/^/fio: /' "$dir/fio.log" | tail -n 10 |
		while IFS= read -r l; do sk_comment "$l"; done
	sk_check "every fio pass wrote and verified the disk (across save/restore)" \
		test "$rc" -eq 0
	set -- $(cat "/sys/block/$dev/stat")
	sk_comment "after the restore: $(($1 + $5 - ios0)) requests completed, $((($(sk_blk_sectors "$dev") - sec0) / 2048)) MiB"
	# a pass writes the whole disk and reads it back
	pass_sec=$(($(cat "/sys/block/$dev/size") * 2))
	sk_check "the restored domain completed a whole pass (>= $((pass_sec / 2048)) MiB of I/O)" \
		test "$restored" -eq 1 -a \
		$(($(sk_blk_sectors "$dev") - sec0)) -ge "$pass_sec"
}
