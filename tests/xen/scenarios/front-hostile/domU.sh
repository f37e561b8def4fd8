# SPDX-License-Identifier: GPL-2.0
#
# front-hostile (domU half): for each attack of dom0's hostile backend,
# wait for go-<attack>, do the I/O the attack is about and check how the
# frontend reacted; answer done-<attack>.  Reads run in the background
# with a hang guard, so a read that never ends is a failure, not a stuck
# test.  Counters are splitkit_front's skf_stats/ (sysfs), summed over the
# disk's queues and kept across connections.
#
#   attack       reads                 then
#   scan         (the first connection: every answer has a bad id, the
#                partition scan's included) the disk was added all the
#                same; the violation counted, the device stopped, EIO
#   grants       ok                    still connected, no violation
#   keep-maps    2 MiB reads, 16 in flight (the backend answers 16 at a
#                time): pages come back beyond what the pool keeps idle,
#                the backend still maps them all: held back
#                (grants_held > 0), not reused; still connected, no
#                violation
#   bad-id, unsolicited, prod-ahead:
#                EIO (the request in flight fails when the device stops)
#   wrong-op, bad-status:
#                EIO (the response itself fails the request)
#   dup-id       ok, ok, ... until a read reuses a blk-mq tag answered
#                before and gets that answer replayed: EIO (ids carry the
#                slot's generation, so the replay is stale)
#   prod-back    ok (its one honest answer), EIO
#       every one of these: errors and violations counted,
#       the reason in dmesg, device stopped (connected 0) although the
#       backend stays Connected, the next read fails at once with EIO
#   storm        ok during and after   every polled-ring event taken as
#                spurious, event-driven rings EOI'd spurious too, still
#                connected, no violation
#   flap         none (the backend may never answer): the disk is still
#                there, no violation
#   silent       2 MiB direct writes (512 segments) held; splitkit_back
#                (256 segments) takes over: they complete, re-split,
#                read back intact, whole-disk fio verify

. /lib/splitkit/blk.sh

fh_stat()
{
	sk_blk_front_stat xvda "$1"
}

# fh_until SECONDS CMD...: until CMD succeeds (hang guard, wall clock).
fh_until()
{
	local end=$(($(date +%s) + $1))
	shift
	while ! "$@"; do
		[ "$(date +%s)" -lt "$end" ] || return 1
		sleep 1
	done
}

fh_connected()
{
	test "$(fh_stat connected)" = "$1"
}

# fh_moved KEY V0: counter KEY is above V0.
fh_moved()
{
	test "$(fh_stat "$1")" -gt "$2"
}

# fh_logged PATTERN N0: dmesg has more than N0 lines with PATTERN.
fh_logged()
{
	test "$(dmesg | grep -c "$1")" -gt "$2"
}

# fh_why ATTACK: the reason splitkit_front logs for the attack's violation.
fh_why()
{
	case "$1" in
	scan|bad-id) echo "response id out of range" ;;
	dup-id|unsolicited) echo "response for no pending request" ;;
	wrong-op) echo "response has the wrong operation" ;;
	bad-status) echo "response has an undefined status" ;;
	prod-ahead|prod-back) echo "response index out of range" ;;
	esac
}

# fh_read: one 4 KiB direct read; prints ok, eio (failed with EIO),
# error (failed otherwise) or hang (60 s guard).
fh_read()
{
	rm -f /tmp/fh-rc /tmp/fh-err
	(dd if=/dev/xvda of=/dev/null bs=4096 count=1 iflag=direct \
		2>/tmp/fh-err
	 echo $? >/tmp/fh-rc) &
	if ! fh_until 60 test -s /tmp/fh-rc; then
		echo hang
	elif [ "$(cat /tmp/fh-rc)" = 0 ]; then
		echo ok
	elif grep -qE 'Input/output error|I/O error' /tmp/fh-err; then
		echo eio
	else
		echo "error: $(head -c 120 /tmp/fh-err | tr '\n' ' ')"
	fi
}

# fh_reads N: N 4 KiB direct reads one after the other (one dd); prints
# how they ended (ok, eio, error or hang, as fh_read) and how many
# completed before.
fh_reads()
{
	local n
	rm -f /tmp/fh-rc /tmp/fh-err
	(dd if=/dev/xvda of=/dev/null bs=4096 count="$1" iflag=direct \
		2>/tmp/fh-err
	 echo $? >/tmp/fh-rc) &
	if ! fh_until 120 test -s /tmp/fh-rc; then
		echo "hang ?"
		return
	fi
	n=$(sed -n 's/^\([0-9]*\)+[0-9]* records in.*/\1/p' /tmp/fh-err)
	if [ "$(cat /tmp/fh-rc)" = 0 ]; then
		echo "ok ${n:-?}"
	elif grep -qE 'Input/output error|I/O error' /tmp/fh-err; then
		echo "eio ${n:-?}"
	else
		echo "error ${n:-?}: $(head -c 120 /tmp/fh-err | tr '\n' ' ')"
	fi
}

# fh_expect ATTACK WANT: one read must end WANT.
fh_expect()
{
	local got
	got=$(fh_read)
	sk_check "$1: read ends: $got (want $2)" test "$got" = "$2"
}

# fh_stopped ATTACK: after a protocol violation (counters read before
# the attack's I/O in v0 and m0): counted, its reason in dmesg, the device
# stopped although the backend stays Connected, and the next read fails
# at once.
fh_stopped()
{
	local why
	why=$(fh_why "$1")
	sk_check "$1: protocol violation counted (violations)" \
		fh_until 60 fh_moved violations "$v0"
	sk_check "$1: dmesg says: malicious or buggy backend: $why" \
		fh_until 10 fh_logged "malicious or buggy backend: $why" "$m0"
	sk_check "$1: device stopped by the frontend (connected 0)" \
		fh_until 60 fh_connected 0
	fh_expect "$1 (stopped device)" eio
}

# fh_poll_spurious: every event that reached the polled ring was taken
# as spurious (spurious read first: an event is counted there last).
fh_poll_spurious()
{
	local sp ev
	sp=$(fh_stat poll_spurious_events)
	ev=$(fh_stat poll_ring_events)
	test "$ev" -gt 0 -a "$sp" -eq "$ev" && return 0
	echo "$ev events on the polled ring, $sp taken as spurious"
	return 1
}

# fh_ring_spurious: events EOI'd as spurious on the event-driven rings of
# the current connection (splitkit_ring's debugfs counters).
fh_ring_spurious()
{
	local f n=0 s
	for f in /sys/kernel/debug/splitkit_ring/vbd-51712/q[01]/stats; do
		s=$(sed -n 's/^spurious //p' "$f" 2>/dev/null)
		n=$((n + ${s:-0}))
	done
	echo "$n"
}

sk_check "load splitkit_front max_indirect_segs=512 poll_queues=1" \
	sk_insmod splitkit_front max_indirect_segs=512 poll_queues=1 || return
sk_check "/dev/xvda appeared" sk_wait_block /dev/xvda 300 || return
dd if=/dev/urandom of=/tmp/fh-pat bs=1M count=8 2>/dev/null
for a in scan grants keep-maps bad-id dup-id wrong-op bad-status unsolicited \
	 prod-ahead prod-back storm flap silent; do
	sk_hs_wait "go-$a" 900 >/dev/null || break
	if [ "$a" != flap ] && [ "$a" != scan ]; then
		sk_check "$a: connected to it" fh_until 120 fh_connected 1 ||
			break
	fi
	v0=$(fh_stat violations)
	e0=$(fh_stat errors)
	c0=$(fh_stat completed)
	m0=$(dmesg | grep -c "malicious or buggy backend: $(fh_why "$a")")
	case "$a" in
	scan)
		# the violation came with the partition scan, before go-scan
		v0=0
		m0=0
		fh_stopped "$a" ;;
	bad-id|unsolicited|prod-ahead|wrong-op|bad-status)
		fh_expect "$a" eio
		sk_check "$a: the failed request counted (errors)" \
			fh_moved errors "$e0"
		fh_stopped "$a" ;;
	dup-id)
		# blk-mq reuses a tag within the queue depth (32 on the
		# hostile backend's one-page ring): 256 reads reach one
		got=$(fh_reads 256)
		sk_comment "dup-id: 256 reads: ${got#* } completed, then ${got%% *}"
		sk_check "dup-id: the read that got a replayed answer ends: ${got%% *} (want eio)" \
			test "${got%% *}" = eio
		sk_check "dup-id: the reads before it completed (completed)" \
			fh_moved completed "$c0"
		sk_check "dup-id: the replay completed nothing, its read failed (errors)" \
			fh_moved errors "$e0"
		fh_stopped "$a" ;;
	prod-back)
		fh_expect "$a (first, answered honestly)" ok
		fh_expect "$a" eio
		sk_check "$a: the failed request counted (errors)" \
			fh_moved errors "$e0"
		fh_stopped "$a" ;;
	grants)
		fh_expect "$a" ok
		sk_check "$a: no violation counted" \
			test "$(fh_stat violations)" = "$v0"
		sk_check "$a: still connected" fh_connected 1 ;;
	keep-maps)
		# more pages in flight than the pool keeps idle (a ring's
		# worth without persistent grants): the rest are taken off
		# the pool when they come back, the backend still maps them
		sk_check "keep-maps: 2 MiB direct reads, 16 in flight" \
			fio --name=km --filename=/dev/xvda --rw=randread --bs=2M \
			    --iodepth=8 --numjobs=2 --ioengine=libaio --direct=1 \
			    --size=32M --output=/dev/null
		sk_comment "keep-maps: persistent $(fh_stat persistent), $(fh_stat grant_misses) pages granted, $(fh_stat grants_reclaimed) taken off the pool, $(fh_stat grants_held) held"
		sk_check "keep-maps: persistent grants not negotiated" \
			test "$(fh_stat persistent)" = 0
		# the backend answers 16 requests at a time: more pages in
		# flight than the pool keeps idle, whatever the speed
		sk_check "keep-maps: pages were taken off the pool (grants_reclaimed)" \
			test "$(fh_stat grants_reclaimed)" -gt 0
		sk_check "keep-maps: pages the backend kept mapped are held back (grants_held)" \
			test "$(fh_stat grants_held)" -gt 0
		sk_check "$a: no violation counted" \
			test "$(fh_stat violations)" = "$v0"
		sk_check "$a: still connected" fh_connected 1 ;;
	storm)
		fh_expect "$a (during)" ok
		sk_hs_wait storm-done 900 >/dev/null
		sk_check "storm: every event on the polled ring taken as spurious" \
			fh_until 30 fh_poll_spurious
		sk_comment "storm: $(fh_stat poll_ring_events) events reached the polled ring, $(fh_stat poll_spurious_events) taken as spurious (dom0 sent 50000)"
		rs=$(fh_ring_spurious)
		sk_comment "storm: $rs events EOI'd as spurious on the event-driven rings"
		sk_check "storm: the event-driven rings EOI'd its events as spurious" \
			test "$rs" -gt 0
		fh_expect "$a (after)" ok
		sk_check "$a: no violation counted" \
			test "$(fh_stat violations)" = "$v0"
		sk_check "$a: still connected" fh_connected 1 ;;
	flap)
		sk_check "flap: the disk is still there, its size unchanged" \
			test "$(cat /sys/block/xvda/size 2>/dev/null)" = 131072
		sk_check "flap: no violation counted" \
			test "$(fh_stat violations)" = "$v0"
		sk_comment "flap: frontend state $(xenstore-read device/vbd/51712/state 2>/dev/null), connected $(fh_stat connected)" ;;
	silent)
		i0=$(fh_stat issued)
		r0=$(fh_stat requeued)
		# whole 2 MiB requests, however scattered dd's buffer is
		kb=$(cat /sys/block/xvda/queue/max_hw_sectors_kb)
		sk_check "silent: requests up to $kb KiB (max_sectors_kb)" \
			sh -c "echo $kb >/sys/block/xvda/queue/max_sectors_kb"
		rm -f /tmp/fh-wrc
		(dd if=/tmp/fh-pat of=/dev/xvda bs=2M count=4 oflag=direct \
			2>/tmp/fh-w.log
		 echo $? >/tmp/fh-wrc) &
		sk_check "silent: 2 MiB writes issued to the silent backend" \
			fh_until 120 fh_moved issued "$i0"
		sk_check "silent: they wait (not failed)" test ! -e /tmp/fh-wrc
		sk_hs_send silent-pending
		sk_hs_wait sane 900 >/dev/null
		sk_check "silent: writes held across the switch to splitkit_back completed" \
			fh_until 300 test -s /tmp/fh-wrc
		sk_check "silent: no write failed" test "$(cat /tmp/fh-wrc)" = 0
		sk_check "silent: the held requests were taken back and re-issued (requeued)" \
			fh_moved requeued "$r0"
		sk_check "the data reads back intact from splitkit_back" \
			test "$(dd if=/dev/xvda bs=1M count=8 iflag=direct 2>/dev/null | md5sum)" = \
			     "$(md5sum </tmp/fh-pat)"
		sk_comment "$(sk_blk_front_stat xvda | tr '\n' ' ')"
		sk_check "new backend's limit negotiated: indirect 256" \
			test "$(fh_stat indirect)" = 256
		sk_check "requests too large for it were re-split (resplit)" \
			fh_moved resplit 0
		sk_check "no request refused for its size" \
			sh -c "! dmesg | grep -q 'exceeds .* segments'"
		sk_check "silent: no violation counted" \
			test "$(fh_stat violations)" = "$v0"
		sk_check "whole-disk fio write + verify, 1 MiB direct" \
			sk_blk_fio /dev/xvda 17 write 1M 1 libaio --iodepth=4
		sk_hs_send done-silent
		# dom0 reads splitkit_back's counters of this disk next: stay
		# (a guest gone first took its XenStore keys with it, and dom0
		# took done-silent for never sent)
		sk_hs_wait silent-checked 900 >/dev/null
		break ;;
	esac
	sk_hs_send "done-$a"
done
sk_check "dmesg: the violations were reported as a malicious or buggy backend" \
	sh -c "dmesg | grep -q 'malicious or buggy backend'"
sk_check "guest dmesg: no oops, warning or hung task" sk_blk_dmesg_clean
sk_blk_guest_dmesg
