# SPDX-License-Identifier: GPL-2.0
#
# front-qdisk (domU half): splitkit_front against QEMU's qdisk.

. /lib/splitkit/front.sh

sk_check "load splitkit_front poll_queues=1" \
	skf_insmod splitkit_front poll_queues=1 || return
sk_check "/dev/xvda appeared" sk_wait_block /dev/xvda || return
sk_comment "$(skf_feature_line xvda)"
sk_check "/dev/xvda is 256 MiB" \
	test "$(cat /sys/block/xvda/size)" -eq $((256 * 2048))
sk_check "domU verifies all of the disk as written by dom0" \
	skf_fio_whole /dev/xvda verify 31
sk_check "domU writes all of the disk (128 KiB direct, read back)" \
	skf_fio_whole /dev/xvda write 32 128k 1 libaio
sk_check "flush to the backend" sync
if [ "$(cat /sys/block/xvda/queue/io_poll)" = 1 ]; then
	p0=$(skf_stat xvda poll_completions)
	sk_check "io_uring --hipri read verify of the disk" \
		skf_fio_whole /dev/xvda verify 32 128k 1 io_uring --hipri
	p1=$(skf_stat xvda poll_completions)
	sk_comment "polled completions: $((p1 - p0))"
	sk_check "completions reaped by polling" test $((p1 - p0)) -gt 0
else
	sk_comment "qdisk offers one queue: no poll queue, hipri not tested"
fi
sk_comment "$(tr '\n' ' ' </sys/block/xvda/device/skf_stats)"
sk_check "no backend protocol violations" \
	test "$(skf_stat xvda violations)" = 0

skf_dmesg_comments
