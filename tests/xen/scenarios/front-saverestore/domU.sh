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
# (rerouted).  The restored disk is a write-through block device whose
# backend offers no flush: the queue must lose its write cache, and a
# flush (fsync of the device) must still succeed.

. /lib/splitkit/blk.sh

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
sk_check "the first backend offers flush: write cache on (write back)" \
	test "$(cat /sys/block/xvda/queue/write_cache)" = "write back"
sk_comment "$(sk_blk_front_features xvda)"
sk_check "xenstore client reaches XenStore" \
	xenstore-read domid || return
sk_blk_busy_across xvda 2M 16 41 /tmp/fsr
seed=$(cut -d' ' -f2 /tmp/fsr/pass 2>/dev/null)
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
sk_comment "after the restore: $(sk_blk_front_features xvda)"
sk_check "the restored backend offers no flush: negotiated flush off" \
	sh -c "dmesg | grep 'xvda: queues' | tail -n 1 | grep -q 'flush: off'"
sk_check "the queue lost its write cache (write through)" \
	test "$(cat /sys/block/xvda/queue/write_cache)" = "write through"
# the first block read and written back as it is, then the device fsynced
sk_check "a write and an fsync of xvda succeed without flush" sh -c \
	"dd if=/dev/xvda bs=4k count=1 iflag=direct 2>/dev/null | dd of=/dev/xvda bs=4k count=1 oflag=direct conv=fsync,notrunc 2>/dev/null"
sk_check "no flush refused" sh -c "! dmesg | grep -q 'backend refused flush'"

sk_blk_guest_dmesg
