# SPDX-License-Identifier: GPL-2.0
#
# demo (guest half): make a filesystem on the PV disk, write and read files,
# and report what the frontend negotiated and the throughput seen.

. /lib/splitkit/blk.sh

sk_check "load ext4" sk_modprobe crc32c_generic ext4
sk_check "load splitkit_front (one polled queue)" \
	sk_insmod splitkit_front poll_queues=1
sk_check "/dev/xvda appeared" sk_wait_block /dev/xvda || return

# What the two ends agreed on: the frontend logs it when it connects.
sk_comment "negotiated: $(sk_blk_front_features xvda)"
for f in /sys/block/xvda/queue/max_hw_sectors_kb \
	 /sys/block/xvda/mq/*/nr_tags; do
	[ -r "$f" ] && sk_comment "${f#/sys/block/xvda/}: $(cat "$f")"
done

sk_check "mkfs.ext4 on /dev/xvda" mkfs.ext4 -q -F /dev/xvda || return
mkdir -p /mnt
sk_check "mount /dev/xvda" mount -t ext4 /dev/xvda /mnt || return

# fio reports bandwidth; the demo prints it as comments.
for rw in write read; do
	fio --name="demo-$rw" --filename=/mnt/demo.dat --rw=$rw --bs=1m \
	    --size=128m --ioengine=psync --direct=1 --minimal \
	    >/tmp/fio-$rw.txt 2>&1
	# terse v3: field 7 is read bandwidth (KiB/s), 48 write bandwidth.
	if [ "$rw" = read ]; then
		bw=$(cut -d';' -f7 /tmp/fio-$rw.txt)
	else
		bw=$(cut -d';' -f48 /tmp/fio-$rw.txt)
	fi
	sk_comment "sequential $rw, 1 MiB blocks, O_DIRECT: $((bw / 1024)) MiB/s"
done
sk_check "fio wrote and read /mnt/demo.dat" test -s /mnt/demo.dat

mkdir -p /mnt/files
i=0
while [ "$i" -lt 20 ]; do
	dd if=/dev/urandom of=/mnt/files/f$i bs=64k count=16 2>/dev/null
	i=$((i + 1))
done
(cd /mnt/files && md5sum f* >/tmp/sums)
umount /mnt
sk_check "mount again" mount -t ext4 /dev/xvda /mnt || return
sk_check "20 files read back intact after remount" \
	sh -c 'cd /mnt/files && md5sum -c -s /tmp/sums'
sk_check "unmount" umount /mnt
sk_comment "splitkit_front counters: $(tr '\n' ' ' </sys/block/xvda/device/skf_stats)"
# dom0 copies splitkit_back's counters while the disk is still there
sk_check "tell dom0 the I/O is done" sk_hs_send io-done
sk_check "dom0 read the backend's counters" sk_hs_wait counters-read 300
