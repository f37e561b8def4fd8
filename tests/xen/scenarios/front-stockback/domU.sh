# SPDX-License-Identifier: GPL-2.0
#
# front-stockback (domU half): splitkit_front with one polled queue against
# dom0's xen-blkback.  See dom0.sh for the plan.

. /lib/splitkit/front.sh

sk_check "load splitkit_front poll_queues=1" \
	skf_insmod splitkit_front poll_queues=1 || return
sk_check "/dev/xvda appeared" sk_wait_block /dev/xvda || return
sk_check "/dev/xvdb appeared" sk_wait_block /dev/xvdb || return
sk_comment "$(skf_feature_line xvda)"
sk_comment "$(skf_feature_line xvdb)"
sk_check "/dev/xvda is 128 MiB" \
	test "$(cat /sys/block/xvda/size)" -eq $((128 * 2048))
sk_check "domU verifies all of xvda as written by dom0" \
	skf_fio_whole /dev/xvda verify 11
sk_check "domU writes all of xvda (128 KiB direct, read back)" \
	skf_fio_whole /dev/xvda write 22 128k 1 libaio
sk_check "flush to the backend" sync

# discard on its own (bounded), then ext4 on the first 64 MiB of xvdb
sk_check "blkdiscard of xvdb's first 64 MiB" \
	timeout 90 blkdiscard -o 0 -l 67108864 /dev/xvdb
skf_dmesg_comments 5
dd if=/dev/urandom of=/tmp/pat bs=1M count=8 2>/dev/null
sk_check "mkfs.ext4 on xvdb" \
	timeout 120 mkfs.ext4 -q -F -E nodiscard /dev/xvdb 64M
mkdir -p /mnt
sk_check "load ext4" sk_modprobe ext4
sk_check "mount xvdb" mount -t ext4 /dev/xvdb /mnt
sk_check "copy files to ext4" sh -c \
	'cp /tmp/pat /mnt/a && mkdir /mnt/d && cp /tmp/pat /mnt/d/b && sync'
sk_check "umount" umount /mnt
echo 3 >/proc/sys/vm/drop_caches
sk_check "e2fsck clean" e2fsck -fn /dev/xvdb
sk_check "files read back identical" sh -c \
	'mount -t ext4 -o ro /dev/xvdb /mnt && cmp /tmp/pat /mnt/a &&
	 cmp /tmp/pat /mnt/d/b; rc=$?; umount /mnt; exit $rc'

# io_uring polled I/O on [64M, 96M) of xvdb
sk_check "xvdb has io_poll" test "$(cat /sys/block/xvdb/queue/io_poll)" = 1
p0=$(skf_stat xvdb poll_completions)
i0=$(skf_stat xvdb irq_completions)
sk_check "io_uring --hipri randwrite+verify on xvdb" \
	fio --name=hipri --filename=/dev/xvdb --offset=64m --size=32m \
	    --rw=randwrite --bs=4k --ioengine=io_uring --hipri --direct=1 \
	    --iodepth=16 --verify=crc32c --verify_fatal=1 \
	    --verify_state_save=0 --output=/dev/null
p1=$(skf_stat xvdb poll_completions)
i1=$(skf_stat xvdb irq_completions)
sk_comment "xvdb completions during fio: polled $((p1 - p0)), by event $((i1 - i0))"
sk_comment "$(tr '\n' ' ' </sys/block/xvdb/device/skf_stats)"
# 8192 writes and 8192 verify reads went through the polled queue
sk_check "completions reaped by polling" test $((p1 - p0)) -ge 16384
sk_check "no backend protocol violations" \
	test "$(skf_stat xvda violations)$(skf_stat xvdb violations)" = 00

skf_dmesg_comments
