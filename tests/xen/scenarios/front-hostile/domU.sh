# SPDX-License-Identifier: GPL-2.0
#
# front-hostile (domU half): for each attack of dom0's hostile backend,
# wait for go-<attack>, do the I/O the attack is about and check how it
# ended; answer done-<attack>.  Reads run in the background with a hang
# guard, so a read that never ends is a failure, not a stuck test.
#
#   attack       reads                 then
#   grants       ok (first: the disk's partition scan needs answers)
#   bad-id, wrong-op, bad-status, unsolicited, prod-ahead:
#                error                 device stopped, violation counted
#   dup-id       ok; (stopped) error   violation counted
#   prod-back    ok, error             violation counted
#   storm        ok during and after   every polled-ring event spurious
#   flap         none (the backend may never answer)
#   silent       1 MiB direct writes held; splitkit_back (32 segments)
#                takes over: they complete, read back intact, re-split

. /lib/splitkit/blk.sh

fh_stat()
{
	sk_blk_front_stat xvda "$1"
}

# fh_until SECONDS CMD...: until CMD succeeds (hang guard).
fh_until()
{
	local left=$1
	shift
	while ! "$@"; do
		[ "$left" -gt 0 ] || return 1
		sleep 1
		left=$((left - 1))
	done
}

fh_connected()
{
	test "$(fh_stat connected)" = "$1"
}

fh_issued_beyond()
{
	test "$(fh_stat issued)" -gt "$1"
}

fh_violations_beyond()
{
	test "$(fh_stat violations)" -gt "$1"
}

# fh_read: one 4 KiB direct read; prints ok, error or hang (60 s guard).
fh_read()
{
	rm -f /tmp/fh-rc
	(dd if=/dev/xvda of=/dev/null bs=4096 count=1 iflag=direct 2>/dev/null
	 echo $? >/tmp/fh-rc) &
	if ! fh_until 60 test -s /tmp/fh-rc; then
		echo hang
	elif [ "$(cat /tmp/fh-rc)" = 0 ]; then
		echo ok
	else
		echo error
	fi
}

# fh_expect ATTACK WANT: one read must end WANT.
fh_expect()
{
	local got
	got=$(fh_read)
	sk_check "$1: read ends: $got (want $2)" test "$got" = "$2"
}

# fh_violation ATTACK V0: a violation was counted (since V0) and the
# device stopped.
fh_violation()
{
	sk_check "$1: protocol violation counted" \
		fh_until 60 fh_violations_beyond "$2"
	sk_check "$1: device stopped (until a backend connects afresh)" \
		fh_until 60 fh_connected 0
}

sk_check "load splitkit_front max_indirect_segs=256 poll_queues=1" \
	sk_insmod splitkit_front max_indirect_segs=256 poll_queues=1 || return
sk_check "/dev/xvda appeared" sk_wait_block /dev/xvda 300 || return
dd if=/dev/urandom of=/tmp/fh-pat bs=1M count=8 2>/dev/null
for a in grants bad-id dup-id wrong-op bad-status unsolicited prod-ahead \
	 prod-back storm flap silent; do
	sk_hs_wait "go-$a" 900 >/dev/null || break
	if [ "$a" != flap ]; then
		sk_check "$a: connected to it" fh_until 120 fh_connected 1 ||
			break
	fi
	v0=$(fh_stat violations)
	case "$a" in
	dup-id)
		fh_expect "$a" ok
		fh_violation "$a" "$v0"
		fh_expect "$a (stopped device)" error ;;
	prod-back)
		fh_expect "$a" ok
		fh_expect "$a" error
		fh_violation "$a" "$v0" ;;
	storm)
		fh_expect "$a (during)" ok
		sk_hs_wait storm-done 900 >/dev/null
		ev=$(fh_stat poll_ring_events)
		sp=$(fh_stat poll_spurious_events)
		sk_comment "storm: $ev events reached the polled ring, $sp taken as spurious (dom0 sent 50000)"
		sk_check "storm: every event on the polled ring EOI'd as spurious ($sp of $ev)" \
			test "$ev" -gt 0 -a "$sp" -eq "$ev"
		fh_expect "$a (after)" ok ;;
	grants)
		fh_expect "$a" ok ;;
	flap) ;;
	silent)
		i0=$(fh_stat issued)
		rm -f /tmp/fh-wrc
		(dd if=/tmp/fh-pat of=/dev/xvda bs=1M count=8 oflag=direct \
			2>/tmp/fh-w.log
		 echo $? >/tmp/fh-wrc) &
		sk_check "silent: 1 MiB writes issued to the silent backend" \
			fh_until 120 fh_issued_beyond "$i0"
		sk_hs_send silent-pending
		sk_hs_wait sane 900 >/dev/null
		sk_check "silent: writes held across the switch to splitkit_back completed" \
			fh_until 300 test -s /tmp/fh-wrc
		sk_check "silent: no write failed" test "$(cat /tmp/fh-wrc)" = 0
		sk_check "the data reads back intact from splitkit_back" \
			test "$(dd if=/dev/xvda bs=1M count=8 iflag=direct 2>/dev/null | md5sum)" = \
			     "$(md5sum </tmp/fh-pat)"
		sk_comment "$(sk_blk_front_stat xvda | tr '\n' ' ')"
		sk_check "new backend's limit negotiated: indirect 32" \
			test "$(fh_stat indirect)" = 32
		sk_check "requests too large for it were re-split" \
			test "$(fh_stat resplit)" -gt 0
		sk_check "no request refused for its size" \
			sh -c "! dmesg | grep -q 'exceeds .* segments'"
		sk_check "whole-disk fio write + verify, 1 MiB direct" \
			sk_blk_fio /dev/xvda 17 write 1M 1 libaio --iodepth=4
		break ;;
	*)
		fh_expect "$a" error
		fh_violation "$a" "$v0" ;;
	esac
	sk_hs_send "done-$a"
done
sk_check "dmesg: the violations were reported as a malicious or buggy backend" \
	sh -c "dmesg | grep -q 'malicious or buggy backend'"
sk_check "guest dmesg: no oops, warning or hung task" sk_blk_dmesg_clean
sk_blk_guest_dmesg
