# SPDX-License-Identifier: GPL-2.0
#
# front-restore-qdisk (domU half): fio writes and verifies the whole disk
# in 1 MiB requests (split into indirect requests of 32 segments on
# splitkit_back) pass after pass until dom0 says it saved and restored us
# onto QEMU's qdisk, then one whole pass more, then a read-only verify of the whole
# disk whose seed goes to dom0.  Passes alternate between two seeds, so a
# pass whose writes were lost reads the other seed's data.  After the
# restore: nothing failed for its size (every request split to 11
# segments), what was negotiated is what qdisk offers (no indirect
# segments, no persistent grants, no discard), discard is off in the
# queue's limits and a discard fails at once with EOPNOTSUPP, with the
# disk still working after it.

. /lib/splitkit/blk.sh

sk_check "load splitkit_front" sk_insmod splitkit_front || return
sk_check "/dev/xvda appeared" sk_wait_block /dev/xvda || return
sk_comment "$(sk_blk_front_features xvda)"
sk_check "splitkit_back's features negotiated: indirect segments (32, splitkit_front's default), persistent grants" \
	test "$(sk_blk_front_stat xvda indirect) $(sk_blk_front_stat xvda persistent)" = "32 1"
sk_check "requests of 32 segments (max_hw_sectors_kb 128)" \
	test "$(cat /sys/block/xvda/queue/max_hw_sectors_kb)" = 128
sk_check "discard on (discard_max_bytes above 0)" \
	test "$(cat /sys/block/xvda/queue/discard_max_bytes)" -gt 0
sk_check "xenstore client reaches XenStore" xenstore-read domid || return
sk_blk_busy_across xvda 1M 8 51 /tmp/frq
sk_comment "$(sk_blk_front_features xvda)"
sk_comment "$(sk_blk_front_stat xvda | tr '\n' ' ')"
sk_check "connected again" test "$(sk_blk_front_stat xvda connected)" = 1
sk_check "no backend protocol violations" \
	test "$(sk_blk_front_stat xvda violations)" = 0
sk_check "qdisk's features negotiated: indirect 0, persistent 0" \
	test "$(sk_blk_front_stat xvda indirect) $(sk_blk_front_stat xvda persistent)" = "0 0"
sk_check "requests now of 11 segments (max_hw_sectors_kb 44)" \
	test "$(cat /sys/block/xvda/queue/max_hw_sectors_kb)" = 44
sk_check "no request refused for its size" \
	sh -c "! dmesg | grep -q 'exceeds .* segments'"
sk_comment "$(sk_blk_front_stat xvda resplit) requests re-split to the restored backend's limit"
sk_check "discard off after the restore (discard_max_bytes 0)" \
	test "$(cat /sys/block/xvda/queue/discard_max_bytes)" = 0
sk_check "dmesg: the frontend turned discard off" \
	sh -c "dmesg | grep -q 'discard off'"
sk_check "a discard now fails at once (blkdiscard exits non-zero)" \
	sh -c '! blkdiscard -o 0 -l 1048576 /dev/xvda'
seed=$(cut -d' ' -f2 /tmp/frq/pass 2>/dev/null)
sk_check "whole disk verifies after the loop and the discard (seed $seed)" \
	sk_blk_fio /dev/xvda "$seed" verify 1M 1 libaio --iodepth=8
sk_check "no I/O error on xvda" sh -c "! dmesg | grep -q 'I/O error.*xvda'"
sk_hs_send seed "$seed"
sk_blk_guest_dmesg
