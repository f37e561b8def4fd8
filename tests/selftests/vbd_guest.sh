#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Block-pair interop, guest half: the checks every frontend/backend pair
# of the interop matrix runs in the guest (the Xen-in-QEMU harness's vbd-*
# scenarios run this test; the dom0 half is vbd_dom0.sh, which
# tests/xen/lib/vbd.sh runs in their dom0).
#
#   DATA (xvda)  whole-disk fio verify (seed 1, written by dom0), random
#                4K-256K O_DIRECT writes with verify, whole-disk write
#                (seed 2, 128 KiB direct at depth 8: indirect requests,
#                several in flight; dom0 verifies it after the guest)
#   FS   (xvdb)  mkfs.ext4, files, e2fsck, read back after a remount
#   DISC (xvdc)  written, half discarded (dom0 checks the holes)
#   RO   (xvdd)  read-only for the guest: reads, writes refused
#
# What was negotiated, against the table of lib/vbd.sh: flush (the
# queue's write_cache), discard, indirect segments (max_hw_sectors_kb),
# and, by frontend, queues, poll queues, ring order and persistent grants
# (splitkit_front's skf_stats) or hardware queues and persistent grants
# (xen-blkfront).  With splitkit_front also a re-verify through io_uring
# polled I/O whose completions must have been reaped by polling, no
# protocol violations and persistent grant hits.  At the end every
# writable disk is fsynced (an empty FLUSH_DISKCACHE to the backend), and
# no feature may have been turned off at runtime: the queue attributes
# and counters are compared with what they were before the I/O, and the
# kernel log after connect must hold none of the drivers' "... op
# failed" / "disabled" / "refused" messages (xen-blkfront answers a
# failed flush by turning flush off for good, and the I/O goes on).
#
# THE NAMED DISKS ARE OVERWRITTEN: give the guest scratch disks of its
# own, for example from files in dom0:
#   disk = [ 'vdev=xvdb, access=rw, script=splitkit, target=/srv/d.img' ]
#
# Environment:
#   SPLITKIT_VBD_DATA     the data disk (xvdb or /dev/xvdb); without it
#                         the test skips.  SPLITKIT_VBD_MB: its size in
#                         MiB (default 64).
#   SPLITKIT_VBD_FS, SPLITKIT_VBD_DISC, SPLITKIT_VBD_RO
#                         the other disks; each part runs when its disk
#                         is named (RO: a disk given with access=ro).
#   SPLITKIT_VBD_FRONT    splitkit_front (default) or xen-blkfront; it is
#                         loaded (splitkit_front with poll_queues=1) with
#                         SPLITKIT_VBD_FPARAMS (a=1,b=2) unless loaded.
#   SPLITKIT_VBD_BACK     the backend serving the disks: splitkit_back
#                         (default), xen-blkback or qdisk (lib/vbd.sh).
#   SPLITKIT_VBD_DOM0=1   dom0's half takes part: it wrote seed 1 to the
#                         data disk before the guest started, and the two
#                         take turns through XenStore (lib/handshake.sh):
#                         this side sends vbd-connected and waits for
#                         vbd-connected-seen, later vbd-io-done and
#                         vbd-io-checked.  Without it the guest writes
#                         seed 1 itself and waits for nobody.
#   SPLITKIT_VBD_MIGRATE=1 (with SPLITKIT_VBD_DOM0=1) dom0 migrates the
#                         guest while it writes: before the seed 2 write
#                         the guest writes the data disk pass after pass
#                         (each pass a new seed, read back and verified in
#                         the same pass) and sends vbd-migrate-ready; dom0
#                         runs xl migrate and answers vbd-migrated; the
#                         pass under way when the answer comes is the
#                         last.  Every pass must verify, and the
#                         frontend's features must be what they were.
#   SPLITKIT_KO_DIR       where the .ko files are (lib/ktap.sh).

cd "$(dirname "$0")" || exit 1
. ./lib/ktap.sh
. ./lib/handshake.sh
. ./lib/blk.sh
. ./lib/vbd.sh

dev_name()
{
	echo "${1#/dev/}"
}

DATA=$(dev_name "${SPLITKIT_VBD_DATA:-}")
FS=$(dev_name "${SPLITKIT_VBD_FS:-}")
DISC=$(dev_name "${SPLITKIT_VBD_DISC:-}")
RO=$(dev_name "${SPLITKIT_VBD_RO:-}")
MB=${SPLITKIT_VBD_MB:-64}
FRONT=${SPLITKIT_VBD_FRONT:-splitkit_front}
BACK=${SPLITKIT_VBD_BACK:-splitkit_back}
WITH_DOM0=${SPLITKIT_VBD_DOM0:-0}
MIGRATE=${SPLITKIT_VBD_MIGRATE:-0}

skt_need_domU
[ -n "$DATA" ] ||
	skt_skip_all "no scratch disks named (SPLITKIT_VBD_DATA=xvdb ...: they are overwritten)"
skt_need_modules "$FRONT"
skt_need_cmds fio dd md5sum
[ -z "$FS" ] || skt_need_cmds mkfs.ext4 e2fsck mount
[ -z "$DISC" ] || skt_need_cmds blkdiscard
[ "$WITH_DOM0" != 1 ] || skt_need_cmds xenstore-read xenstore-write
[ -n "$(skt_vbd_offer "$FRONT" queues)" ] ||
	skt_skip_all "no entry for $FRONT in the offers table (lib/vbd.sh)"
[ -n "$(skt_vbd_offer "$BACK" queues)" ] ||
	skt_skip_all "no entry for $BACK in the offers table (lib/vbd.sh)"

RW_DISKS=$(echo $DATA $FS $DISC)
DISKS=$(echo $RW_DISKS $RO)
tmp=$(mktemp -d) || exit 1
bg_pids=""

skt_header

# load_front: FRONT, and ext4 for the filesystem checks; splitkit_front
# with one poll queue; both with SPLITKIT_VBD_FPARAMS.
load_front()
{
	local params

	params=$(echo "${SPLITKIT_VBD_FPARAMS:-}" | tr , ' ')
	if [ -n "$FS" ]; then
		skt_load crc32c_generic 2>/dev/null
		skt_load ext4 || return
	fi
	case "$FRONT" in
	splitkit_front) skt_load splitkit_front poll_queues=1 $params ;;
	*) skt_load "$FRONT" $params ;;
	esac
}

# handshake KEY ANSWER: send KEY to dom0 and wait (900 s at most) for its
# ANSWER.
handshake()
{
	skt_hs_send "$1" && skt_hs_wait "$2" 900 >/dev/null
}

# features DISKS: each disk's features as the guest sees them, one line
# per item, for a before/after comparison.
features()
{
	local d q k

	for d in "$@"; do
		q=/sys/block/$d/queue
		echo "$d: ro $(cat /sys/block/$d/ro) write_cache '$(cat $q/write_cache)' fua $(cat $q/fua 2>/dev/null) discard_max_bytes $(cat $q/discard_max_bytes) max_hw_sectors_kb $(cat $q/max_hw_sectors_kb) io_poll $(cat $q/io_poll)"
		[ -r "/sys/block/$d/device/skf_stats" ] || continue
		for k in connected queues poll_queues ring_order indirect \
			 persistent; do
			echo "$d: $k $(skt_blk_front_stat "$d" "$k")"
		done
	done
}

same_features()
{
	features "$@" | diff "$tmp/features.before" -
}

# turned_off SINCE: kernel messages after line SINCE of dmesg in which a
# frontend turned a feature off or gave up on a disk (xen-blkfront:
# "xvdb: empty flush op failed", "barrier or flush: disabled", "discard
# op failed", "xvdb disabled for further use"; splitkit_front: "backend
# refused flush", "backend refused discard", "malicious or buggy
# backend", "backend I/O error").  Fails if any.
turned_off()
{
	! skt_dmesg_since "$1" | grep -E \
		'op failed|flush: disabled|disabled for further use|feature-[a-z-]* disabled|backend refused|buggy backend|backend I/O error'
}

# flush_disks: an fsync of each writable disk, which the block layer
# sends to the driver as an empty flush while the disk has a write cache.
flush_disks()
{
	local d

	sync || return
	for d in $RW_DISKS; do
		sync "/dev/$d" || return
	done
}

# negotiated: the guest's view of what was negotiated on each writable
# disk (see lib/vbd.sh).
negotiated()
{
	local f=$FRONT b=$BACK d q want got ind w k

	ind=$(skt_vbd_expect "$f" "$b" indirect)
	for d in $RW_DISKS; do
		q=/sys/block/$d/queue
		if [ "$(skt_vbd_expect "$f" "$b" flush)" = 1 ]; then
			want="write back"
		else
			want="write through"
		fi
		skt_check "$d: flush negotiated ($want)" \
			test "$(cat $q/write_cache)" = "$want"
		if [ "$(skt_vbd_expect "$f" "$b" discard)" = 1 ]; then
			skt_check "$d: discard negotiated" \
				test "$(cat $q/discard_max_bytes)" -gt 0
		else
			skt_check "$d: no discard" \
				test "$(cat $q/discard_max_bytes)" -eq 0
		fi
		# a request carries the negotiated segments, 4 KiB each
		if [ "$ind" -gt 0 ]; then want=$((ind * 4)); else want=44; fi
		skt_check "$d: $ind indirect segments (max_hw_sectors_kb $want)" \
			test "$(cat $q/max_hw_sectors_kb)" -eq "$want"
		case "$f" in
		splitkit_front)
			for w in irq poll; do
				want=$(skt_vbd_expect "$f" "$b" $w)
				[ $w = irq ] && k=queues || k=poll_queues
				got=$(skt_blk_front_stat "$d" $k)
				skt_check "$d: $want $k (got $got)" \
					test "$got" = "$want"
			done
			got=$(skt_blk_front_stat "$d" ring_order)
			skt_check "$d: ring order $(skt_vbd_expect "$f" "$b" order) (got $got)" \
				test "$got" = "$(skt_vbd_expect "$f" "$b" order)"
			got=$(skt_blk_front_stat "$d" indirect)
			skt_check "$d: indirect segments $ind (got $got)" \
				test "$got" = "$ind"
			got=$(skt_blk_front_stat "$d" persistent)
			skt_check "$d: persistent grants $(skt_vbd_expect "$f" "$b" persistent) (got $got)" \
				test "$got" = "$(skt_vbd_expect "$f" "$b" persistent)"
			;;
		xen-blkfront)
			want=$(skt_vbd_expect "$f" "$b" rings)
			got=$(ls /sys/block/$d/mq | wc -l)
			skt_check "$d: $want hardware queues (got $got)" \
				test "$got" = "$want"
			if [ "$(skt_vbd_expect "$f" "$b" persistent)" = 1 ]; then
				want="persistent grants: enabled;"
			else
				want="persistent grants: disabled;"
			fi
			skt_check "$d: $want" sh -c \
				"dmesg | grep 'blkfront: $d:' | tail -n 1 | grep -q '$want'"
			;;
		esac
	done
}

# fs: ext4 on FS, files copied, checked after a remount.
fs()
{
	local i=0 mnt=$tmp/mnt

	mkdir -p "$mnt"
	skt_check "mkfs.ext4 on $FS" mkfs.ext4 -q -F /dev/$FS || return
	skt_check "mount $FS" mount -t ext4 /dev/$FS "$mnt" || return
	mkdir -p "$mnt/files"
	while [ "$i" -lt 16 ]; do
		dd if=/dev/urandom of="$mnt/files/f$i" bs=64k count=16 2>/dev/null
		i=$((i + 1))
	done
	cp -a /lib/modules "$mnt/modules" 2>/dev/null
	(cd "$mnt/files" && md5sum f* >"$tmp/sums")
	skt_check "unmount" umount "$mnt"
	echo 3 >/proc/sys/vm/drop_caches
	skt_check "e2fsck -f -n finds a clean filesystem" e2fsck -f -n /dev/$FS
	skt_check "remount read-only" mount -t ext4 -o ro /dev/$FS "$mnt" &&
		skt_check "16 files read back intact" \
			sh -c "cd '$mnt/files' && md5sum -c -s '$tmp/sums'"
	umount "$mnt" 2>/dev/null
}

# discard: the whole of DISC written, its first half discarded.
discard()
{
	local mb

	mb=$(($(cat /sys/block/$DISC/size) / 2048))
	skt_check "discard advertised on $DISC" \
		test "$(cat /sys/block/$DISC/queue/discard_max_bytes)" -gt 0 ||
		return
	skt_check "write all of $DISC" \
		dd if=/dev/urandom of=/dev/$DISC bs=1M count=$mb oflag=direct
	skt_check "blkdiscard $DISC's first $((mb / 2)) MiB" \
		blkdiscard -o 0 -l $(((mb / 2) << 20)) /dev/$DISC
}

# readonly: the frontend made RO read-only and it reads.  A write from
# here is refused by the guest's own block layer (the disk's read-only
# flag, which blockdev --setrw cannot lift) and never reaches the
# backend: the backend's refusal is tested by the harness's back-hostile,
# whose frontend module sends the writes anyway (tests/modules/hostile).
readonly_disk()
{
	skt_check "$RO is read-only for the guest" \
		test "$(cat /sys/block/$RO/ro)" = 1
	skt_check "read $RO" dd if=/dev/$RO of=/dev/null bs=1M iflag=direct
	skt_check "the guest refuses writes to $RO" \
		sh -c "! dd if=/dev/zero of=/dev/$RO bs=4k count=1 oflag=direct 2>/dev/null"
}

# polled: splitkit_front only: re-verify DATA through io_uring polled
# I/O; every completion must have been reaped by polling.  Where the pair
# allows no poll queue (a backend with one ring), DATA must not claim one.
polled()
{
	local p0 p1 i0 i1

	if [ "$(skt_vbd_expect splitkit_front "$BACK" poll)" -eq 0 ]; then
		skt_check "$DATA: no poll queue ($BACK offers one ring): io_poll 0" \
			test "$(cat /sys/block/$DATA/queue/io_poll)" = 0
		return
	fi
	skt_check "$DATA: a poll queue was negotiated (io_poll 1)" \
		test "$(cat /sys/block/$DATA/queue/io_poll)" = 1 || return
	p0=$(skt_blk_front_stat $DATA poll_completions)
	i0=$(skt_blk_front_stat $DATA irq_completions)
	skt_check "io_uring --hipri verify of $DATA (seed 2)" \
		skt_blk_fio /dev/$DATA 2 verify 128k 1 io_uring --hipri
	p1=$(skt_blk_front_stat $DATA poll_completions)
	i1=$(skt_blk_front_stat $DATA irq_completions)
	skt_comment "$DATA completions during the polled verify: polled $((p1 - p0)), by event $((i1 - i0))"
	# the whole disk in 128 KiB reads
	skt_check "completions reaped by polling" \
		test $((p1 - p0)) -ge $((MB * 8))
}

# migrate_writes: whole-disk passes over DATA from seed 10 on, each read
# back and verified, until dom0 has answered vbd-migrated; a pass that
# fails verify ends the loop with its seed in $tmp/migrate.bad.
migrate_writes()
{
	local seed=10

	while :; do
		if ! skt_blk_fio /dev/$DATA $seed write 128k 1 libaio; then
			echo $seed >"$tmp/migrate.bad"
			return 1
		fi
		skt_hs_got vbd-migrated && return 0
		seed=$((seed + 1))
	done
}

# migrate: dom0 migrates the guest (xl migrate) while migrate_writes runs;
# requests in flight at the suspend are sent again to the backend of the
# new domain, and nothing written may be lost or torn.
migrate()
{
	local pid rc

	migrate_writes &
	pid=$!
	skt_check "dom0 migrated the guest while it wrote" \
		handshake vbd-migrate-ready vbd-migrated
	wait $pid
	rc=$?
	[ ! -s "$tmp/migrate.bad" ] ||
		skt_comment "the pass with seed $(cat "$tmp/migrate.bad") failed verify"
	skt_check "whole-disk writes across the migration read back verified" \
		test "$rc" -eq 0
	skt_check "the frontend's features after the migration are what they were" \
		same_features $DISKS
}

# progress: every 60 s, one comment with each disk's completed reads and
# writes and requests in flight (/sys/block/X/stat), so a log tells a
# stuck guest from a slow one.
progress()
{
	local d line

	while sleep 60 >/dev/null 2>&1; do
		line=""
		for d in $DISKS; do
			set -- $(cat "/sys/block/$d/stat")
			line="$line $d: r $1 w $5 inflight $9;"
		done
		skt_comment "progress:$line"
	done
}

cleanup()
{
	[ -z "$bg_pids" ] || kill $bg_pids 2>/dev/null
	rm -rf "$tmp"
}

# completion_context: where splitkit_front completed DATA's responses.
# With irq_completion=Y (its default) the event handler completes them,
# and the ring's work item only takes over a run that found the ring busy
# or used up its budget (1024 responses or 1 ms: on a slow or loaded host
# more runs do), so some, never all, are the work item's (idle runs: 3 of
# 1945, 69 of 2969).  With N, all of them.
completion_context()
{
	local irq work mode

	irq=$(skt_blk_front_stat $DATA irq_completions)
	work=$(skt_blk_front_stat $DATA work_completions)
	mode=$(cat /sys/module/splitkit_front/parameters/irq_completion)
	skt_comment "$DATA: irq_completion=$mode: $irq completions by event, $work of them in the work item"
	if [ "$mode" = Y ]; then
		skt_check "$DATA: completions in the event handler (work item $work of $irq)" \
			test "$irq" -gt 0 -a "$work" -lt "$irq"
	else
		skt_check "$DATA: irq_completion=N: every completion in the work item ($work of $irq)" \
			test "$irq" -gt 0 -a "$work" -eq "$irq"
	fi
}

# splitkit_front's own checks after the I/O.
front_checks()
{
	# skf_stats' "queues" counts interrupt-driven queues only
	skt_check "no more interrupt-driven queues than online CPUs" \
		test "$(skt_blk_front_stat $DATA queues)" -le \
			"$(grep -c '^processor' /proc/cpuinfo)"
	polled
	skt_comment "$DATA: $(skt_blk_front_stat $DATA | tr '\n' ' ')"
	skt_check "no backend protocol violations" sh -c \
		"for d in $RW_DISKS; do [ \"\$(cat /sys/block/\$d/device/skf_stats/violations)\" = 0 ] || exit 1; done"
	completion_context
	if [ "$(skt_vbd_expect "$FRONT" "$BACK" persistent)" = 1 ]; then
		skt_check "$DATA: persistent grants reused (grant_hits $(skt_blk_front_stat $DATA grant_hits))" \
			test "$(skt_blk_front_stat $DATA grant_hits)" -gt 0
	else
		# the reserve taken at connect (one largest request per ring)
		# stays granted and is reused, so no request needs an atomic
		# allocation to go out
		skt_check "$DATA: without persistent grants the connect-time reserve reused (grant_hits $(skt_blk_front_stat $DATA grant_hits))" \
			test "$(skt_blk_front_stat $DATA grant_hits)" -gt 0
	fi
}

main()
{
	local d since

	# a disk that never connects leaves modprobe waiting: say why meanwhile
	( sleep 90 >/dev/null 2>&1; skt_blk_guest_diag ) &
	bg_pids=$!
	skt_check "load $FRONT" load_front || return
	for d in $DISKS; do
		if ! skt_check "/dev/$d appeared" skt_wait 60 test -b /dev/$d; then
			skt_blk_guest_diag
			return
		fi
	done
	kill $bg_pids 2>/dev/null
	since=$(dmesg | wc -l)
	features $DISKS >"$tmp/features.before"
	skt_comment "$DATA: $(skt_blk_front_features $DATA)"
	skt_comment "guest: $(grep -c '^processor' /proc/cpuinfo) CPUs; $FRONT with $BACK (table in lib/vbd.sh)"
	negotiated
	if [ "$WITH_DOM0" = 1 ]; then
		skt_check "dom0 read both ends' XenStore keys" \
			handshake vbd-connected vbd-connected-seen
	fi
	progress &
	bg_pids=$!
	skt_check "$DATA is $MB MiB" \
		test "$(cat /sys/block/$DATA/size)" -eq $((MB * 2048))

	if [ "$WITH_DOM0" = 1 ]; then
		skt_check "guest verifies the whole data disk written by dom0 (seed 1)" \
			skt_blk_fio /dev/$DATA 1 verify 64k 1
	else
		skt_check "guest writes and verifies the whole data disk (seed 1)" \
			skt_blk_fio /dev/$DATA 1 write 64k 1
	fi
	skt_check "guest random 4K-256K O_DIRECT writes, verified" \
		skt_blk_fio_rand /dev/$DATA 3
	[ "$WITH_DOM0$MIGRATE" != 11 ] || migrate
	skt_check "guest writes the whole data disk (seed 2, 128 KiB direct, depth 8)" \
		skt_blk_fio /dev/$DATA 2 write 128k 1 libaio
	[ -z "$FS" ] || fs
	[ -z "$DISC" ] || discard
	[ -z "$RO" ] || readonly_disk
	[ "$FRONT" != splitkit_front ] || front_checks
	skt_check "every writable disk flushed (sync, fsync of each device)" \
		flush_disks
	kill $bg_pids 2>/dev/null
	bg_pids=""
	skt_check "no feature of any disk turned off by the I/O" \
		same_features $DISKS ||
		features $DISKS | while IFS= read -r l; do
			skt_comment "after: $l"
		done
	skt_check "no driver turned a feature off at runtime (dmesg)" \
		turned_off "$since"
	if [ "$WITH_DOM0" = 1 ]; then
		skt_check "dom0 compared both ends' XenStore features" \
			handshake vbd-io-done vbd-io-checked
	fi
	skt_blk_guest_dmesg 10
}

main
cleanup
skt_finish
