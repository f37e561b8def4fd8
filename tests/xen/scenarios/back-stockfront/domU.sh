# SPDX-License-Identifier: GPL-2.0
#
# back-stockfront (domU half): Linux's xen-blkfront against dom0's
# splitkit_back.  See dom0.sh for the layout.

. /lib/splitkit/blk.sh

# if a disk never connects, modprobe waits up to 300 s: say why meanwhile
( sleep 75; sk_blk_guest_diag ) &
sk_check "load xen-blkfront and ext4" \
	sk_modprobe xen-blkfront crc32c_generic ext4
for d in xvda xvdb xvdc xvdd; do
	if ! sk_check "/dev/$d appeared" sk_wait_block /dev/$d 30; then
		sk_blk_guest_diag
		return
	fi
done
dmesg | grep -E 'blkfront|xvd' | sed 's/^\[[ 0-9.]*\] //' |
	while IFS= read -r l; do
		sk_comment "$l"
	done
sk_check "/dev/xvda is 256 MiB" \
	test "$(cat /sys/block/xvda/size)" -eq $((256 * 2048))

# data disk, both directions over the whole disk
sk_check "domU verifies the whole disk written by dom0 (seed 1)" \
	sk_blk_fio /dev/xvda 1 verify 1
sk_check "domU random 4K-256K O_DIRECT writes, verified" \
	sk_blk_fio_rand /dev/xvda 3
sk_check "domU writes the whole disk (seed 2, O_DIRECT, read back)" \
	sk_blk_fio /dev/xvda 2 write 1

# filesystem
mkdir -p /mnt
sk_check "mkfs.ext4 on /dev/xvdb" mkfs.ext4 -q -F /dev/xvdb
if sk_check "mount /dev/xvdb" mount -t ext4 /dev/xvdb /mnt; then
	mkdir -p /mnt/files
	i=0
	while [ "$i" -lt 20 ]; do
		dd if=/dev/urandom of=/mnt/files/f$i bs=64k count=16 2>/dev/null
		i=$((i + 1))
	done
	cp -a /lib/modules /mnt/modules 2>/dev/null
	(cd /mnt/files && md5sum f* >/tmp/sums)
	sk_check "unmount" umount /mnt
	sk_check "e2fsck -f -n finds a clean filesystem" e2fsck -f -n /dev/xvdb
	sk_check "mount again" mount -t ext4 -o ro /dev/xvdb /mnt &&
		sk_check "20 files read back intact" \
			sh -c 'cd /mnt/files && md5sum -c -s /tmp/sums'
	umount /mnt 2>/dev/null
fi

# discard
sk_check "discard advertised" \
	test "$(cat /sys/block/xvdc/queue/discard_max_bytes)" -gt 0
sk_check "write 64 MiB to /dev/xvdc" \
	dd if=/dev/urandom of=/dev/xvdc bs=1M count=64 oflag=direct
sk_check "blkdiscard the first 32 MiB" \
	blkdiscard -o 0 -l $((32 << 20)) /dev/xvdc
sync

# read-only disk
sk_check "/dev/xvdd is read-only for the guest" \
	test "$(cat /sys/block/xvdd/ro)" = 1
sk_check "read the read-only disk" \
	dd if=/dev/xvdd of=/dev/null bs=1M count=16 iflag=direct
blockdev --setrw /dev/xvdd 2>/dev/null
sk_check "the backend refuses writes to the read-only disk" \
	sh -c '! dd if=/dev/zero of=/dev/xvdd bs=4k count=1 oflag=direct 2>/dev/null'
sk_check "flush to the backend" sync
