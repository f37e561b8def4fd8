# SPDX-License-Identifier: GPL-2.0
#
# front-saverestore (domU half): fio writes and verifies the whole disk
# pass after pass, for as long as dom0 has not said the save and the
# restore happened, so there is always I/O when dom0 runs xl save.
# Handshakes (common.sh): this side sends "io-running" once requests have
# completed; dom0 answers "restored" after xl save and xl restore both
# succeeded.  Passes alternate between two seeds, so a pass whose writes
# were lost reads the other seed's data and fails its verify.  After
# "restored" the loop runs until a whole pass that started after it has
# been written and verified, then stops; a last read-only pass verifies
# the whole disk and the seed goes to dom0, which verifies the file.
# Requests are 2 MiB (max_indirect_segs=512); the restored backend takes 256
# segments, so after the restore every request is split to 1 MiB and
# none may fail for its size.  The disk starts with three queues (two
# event-driven for the two vCPUs, one polled: poll_queues=1); the
# restored backend offers one, so blk-mq must end up with one hardware
# queue, and the requests of the others go to the one ring meanwhile
# (rerouted).

. /lib/splitkit/blk.sh

# fsr_ios: requests completed on xvda so far; fsr_sectors: 512-byte
# sectors they moved (reads + writes, from the block layer's counters,
# which live across the frontend's reconnect).
fsr_ios()
{
	set -- $(cat /sys/block/xvda/stat)
	echo $(($1 + $5))
}

fsr_sectors()
{
	set -- $(cat /sys/block/xvda/stat)
	echo $(($3 + $7))
}

# fsr_loop: whole-disk write + verify passes until /tmp/fsr-stop exists;
# /tmp/fsr-pass holds "<passes done> <seed of the last one>", or "failed".
fsr_loop()
{
	local pass=0 seed
	while [ ! -e /tmp/fsr-stop ]; do
		seed=$((41 + pass % 2))
		if ! sk_blk_fio /dev/xvda "$seed" write 2M 1 libaio \
			--iodepth=16 >/tmp/fsr-fio.log 2>&1; then
			echo "failed pass $pass seed $seed" >/tmp/fsr-pass
			return 1
		fi
		pass=$((pass + 1))
		echo "$pass $seed" >/tmp/fsr-pass
	done
}

# fsr_passes: passes finished so far (-1 once the loop has failed).
fsr_passes()
{
	case "$(cat /tmp/fsr-pass 2>/dev/null)" in
	failed*) echo -1 ;;
	"") echo 0 ;;
	*) cut -d' ' -f1 /tmp/fsr-pass ;;
	esac
}

# fsr_hwq: blk-mq hardware queues of xvda.
fsr_hwq()
{
	ls /sys/block/xvda/mq | wc -l
}

sk_check "load splitkit_front max_indirect_segs=512 poll_queues=1" \
	sk_insmod splitkit_front max_indirect_segs=512 poll_queues=1 || return
sk_check "/dev/xvda appeared" sk_wait_block /dev/xvda || return
sk_check "the first backend's 512 indirect segments negotiated" \
	test "$(sk_blk_front_stat xvda indirect)" = 512
sk_check "the first backend's queues: 2 event-driven, 1 polled, 3 hardware queues" \
	test "$(sk_blk_front_stat xvda queues) $(sk_blk_front_stat xvda poll_queues) $(fsr_hwq)" = "2 1 3"
sk_comment "$(sk_blk_front_features xvda)"
sk_check "xenstore client reaches XenStore" \
	xenstore-read domid || return
rm -f /tmp/fsr-stop /tmp/fsr-pass
fsr_loop &
loop=$!
# I/O really under way before dom0 is told it may save us
while [ "$(fsr_sectors)" -lt 2048 ] && kill -0 "$loop" 2>/dev/null; do
	sleep 1
done
sk_check "fio moved data on xvda" test "$(fsr_sectors)" -ge 2048
sk_hs_send io-running
# dom0 saves and restores us while the loop runs
if sk_check "dom0 says the save and the restore happened" \
	sk_hs_wait restored 540; then
	restored=1
else
	restored=0
fi
ios0=$(fsr_ios)
sec0=$(fsr_sectors)
pass0=$(fsr_passes)
sk_comment "after the restore: pass $pass0 running, $ios0 requests so far"
# one whole pass that started after the restore, then stop
while [ "$restored" -eq 1 ] && [ "$(fsr_passes)" -ge 0 ] &&
      [ "$(fsr_passes)" -lt $((pass0 + 2)) ]; do
	sleep 1
done
touch /tmp/fsr-stop
wait "$loop"
rc=$?
sk_comment "fio loop: $(cat /tmp/fsr-pass 2>/dev/null), status $rc"
[ "$rc" -eq 0 ] || sed 's/^/fio: /' /tmp/fsr-fio.log | tail -n 10 |
	while IFS= read -r l; do sk_comment "$l"; done
sk_check "every fio pass wrote and verified the disk (across save/restore)" \
	test "$rc" -eq 0
ios1=$(fsr_ios)
sec1=$(fsr_sectors)
sk_comment "after the restore: $((ios1 - ios0)) requests completed, $(((sec1 - sec0) / 2048)) MiB"
# one pass writes the 64 MiB disk and reads it back: 128 MiB
sk_check "the restored domain completed a whole pass (>= 128 MiB of I/O)" \
	test "$restored" -eq 1 -a $((sec1 - sec0)) -ge $((128 * 2048))
seed=$(cut -d' ' -f2 /tmp/fsr-pass 2>/dev/null)
sk_check "whole disk verifies after the loop (seed $seed)" \
	sk_blk_fio /dev/xvda "$seed" verify 2M 1 libaio --iodepth=16
sk_hs_send seed "$seed"
sk_comment "$(dmesg | grep -c 'resuming: reconnecting') resume(s) seen"
sk_comment "$(sk_blk_front_stat xvda | tr '\n' ' ')"
sk_check "the frontend went through a resume" \
	sh -c "dmesg | grep -q 'resuming: reconnecting'"
sk_check "connected again" test "$(sk_blk_front_stat xvda connected)" = 1
sk_check "no backend protocol violations" \
	test "$(sk_blk_front_stat xvda violations)" = 0
sk_check "the restored backend's limit negotiated: indirect 256" \
	test "$(sk_blk_front_stat xvda indirect)" = 256
sk_check "the restored backend's one-page rings negotiated: ring order 0" \
	test "$(sk_blk_front_stat xvda ring_order)" = 0
sk_check "no request refused for its size" \
	sh -c "! dmesg | grep -q 'exceeds .* segments'"
sk_comment "$(sk_blk_front_stat xvda resplit) requests re-split to the restored backend's limit"
sk_check "the restored backend's one queue negotiated (queues 1, poll_queues 0)" \
	test "$(sk_blk_front_stat xvda queues) $(sk_blk_front_stat xvda poll_queues)" = "1 0"
sk_check "blk-mq uses one hardware queue" test "$(fsr_hwq)" = 1
sk_check "dmesg: the frontend moved blk-mq to one queue" \
	sh -c "dmesg | grep -q 'now 1 queues (0 polled) for 1 hardware queues'"
sk_comment "$(sk_blk_front_stat xvda rerouted) requests of queues without a ring sent on ring 0 meanwhile"

sk_blk_guest_dmesg
