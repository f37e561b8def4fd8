# SPDX-License-Identifier: GPL-2.0
#
# The block-pair interop suite: one disk layout and one set of checks that
# every frontend/backend pair of the matrix runs (vbd-* scenarios), so the
# pairs differ only in which drivers sit at each end.
#
#   dom0: /run/vbd-data.img  (64 MiB) ==> xvda  whole-disk fio, both ways
#         /run/vbd-fs.img    (64 MiB) ==> xvdb  mkfs, files, fsck (+ dom0)
#         /run/vbd-disc.img  (32 MiB) ==> xvdc  discard frees file space
#         /run/vbd-ro.img    ( 8 MiB) ==> xvdd  access=ro: writes refused
#
# xvda: dom0 writes the whole disk (seed 1); the guest verifies it, runs
# random 4K-256K O_DIRECT writes with verify, then writes the whole disk
# with 128 KiB direct I/O at depth 8 (indirect requests, several in
# flight; seed 2), which dom0 verifies once the guest is gone.  With
# splitkit_front the guest also re-verifies seed 2 through io_uring
# polled I/O and checks the completions were reaped by polling.
#
# A scenario's domU.cfg names the four files (vdev xvda..xvdd in that
# order) and says on the guest's command line which frontend to load
# (sk.front=), whether the backend offers discard (sk.discard=1) and
# whether the read-only disk is left out (sk.ro=0).

. /lib/splitkit/blk.sh

VBD_DATA=/run/vbd-data.img
VBD_FS=/run/vbd-fs.img
VBD_DISC=/run/vbd-disc.img
VBD_RO=/run/vbd-ro.img

# sk_vbd_load_back BACKEND: make BACKEND (splitkit_back, xen-blkback or
# qdisk) the one that will serve the guest's disks.
sk_vbd_load_back()
{
	case "$1" in
	splitkit_back)
		sk_blk_load_back ;;
	xen-blkback)
		if [ -d /sys/module/splitkit_back ]; then
			rmmod splitkit_back || return 1
		fi
		sk_modprobe xen-blkback loop ;;
	qdisk)
		# QEMU in dom0 serves the disks; no kernel backend may bind them
		# (libxl gives qdisk disks their own backend type anyway).
		true ;;
	*)
		echo "sk_vbd_load_back: unknown backend $1" >&2
		return 1 ;;
	esac
}

# sk_vbd_host BACKEND NAME [TIMEOUT]: the dom0 half.  Prepares the four
# files, runs the domU of this scenario (domU.cfg, domain NAME), then
# checks what the guest left behind.
sk_vbd_host()
{
	local back=$1 name=$2 timeout=${3:-480} ro_sum kb discard

	sk_check "load $back" sk_vbd_load_back "$back" || return
	rm -f "$VBD_DATA" "$VBD_FS" "$VBD_DISC" "$VBD_RO"
	truncate -s 64M "$VBD_DATA" "$VBD_FS"
	truncate -s 32M "$VBD_DISC"
	dd if=/dev/urandom of="$VBD_RO" bs=1M count=8 2>/dev/null
	ro_sum=$(md5sum <"$VBD_RO")
	sk_check "dom0 writes the whole data disk (fio crc32c, seed 1)" \
		sk_blk_fio "$VBD_DATA" 1 write
	sk_domU_run domU.cfg "$timeout"

	sk_check "dom0 verifies the whole data disk written by the guest (seed 2)" \
		sk_blk_fio "$VBD_DATA" 2 verify 128k
	sk_check "dom0 fscks the guest's ext4" e2fsck -f -n "$VBD_FS"
	discard=$(sed -n 's/.*sk\.discard=\([01]\).*/\1/p' domU.cfg)
	if [ "$discard" = 1 ]; then
		kb=$(sk_blk_kb "$VBD_DISC")
		sk_comment "discard disk: $kb KiB allocated after 32 MiB written, 16 MiB discarded"
		sk_check "discard punched holes in the backing file (< 20 MiB allocated)" \
			test "$kb" -lt $((20 * 1024))
		sk_check "discard kept the other half (> 12 MiB allocated)" \
			test "$kb" -gt $((12 * 1024))
	fi
	sk_check "read-only disk unchanged" test "$(md5sum <"$VBD_RO")" = "$ro_sum"
	sk_check "hotplug script released every loop device" \
		sh -c "! losetup -a | grep -q vbd-"
	case "$back" in
	splitkit_back)
		sk_check "backend devices gone after the guest" sk_blk_no_vbd 30
		sk_check "rmmod splitkit_back" rmmod splitkit_back
		sk_blk_dmesg_dump ;;
	xen-blkback)
		sk_check "rmmod xen-blkback" rmmod xen_blkback ;;
	esac
	sk_check "dmesg: no oops, warning or hung task" sk_blk_dmesg_clean
	rm -f "$VBD_DATA" "$VBD_FS" "$VBD_DISC" "$VBD_RO"
}

# sk_vbd_load_front FRONTEND: FRONTEND and ext4 for the filesystem checks.
sk_vbd_load_front()
{
	sk_modprobe crc32c_generic ext4 && sk_blk_load_front "$1"
}

# sk_vbd_fs: ext4 on xvdb, files copied, checked after a remount.
sk_vbd_fs()
{
	local i=0

	mkdir -p /mnt
	sk_check "mkfs.ext4 on xvdb" mkfs.ext4 -q -F /dev/xvdb || return
	sk_check "mount xvdb" mount -t ext4 /dev/xvdb /mnt || return
	mkdir -p /mnt/files
	while [ "$i" -lt 16 ]; do
		dd if=/dev/urandom of=/mnt/files/f$i bs=64k count=16 2>/dev/null
		i=$((i + 1))
	done
	cp -a /lib/modules /mnt/modules 2>/dev/null
	(cd /mnt/files && md5sum f* >/tmp/sums)
	sk_check "unmount" umount /mnt
	echo 3 >/proc/sys/vm/drop_caches
	sk_check "e2fsck -f -n finds a clean filesystem" e2fsck -f -n /dev/xvdb
	sk_check "remount read-only" mount -t ext4 -o ro /dev/xvdb /mnt &&
		sk_check "16 files read back intact" \
			sh -c 'cd /mnt/files && md5sum -c -s /tmp/sums'
	umount /mnt 2>/dev/null
}

# sk_vbd_discard: 32 MiB written to xvdc, the first half discarded.
sk_vbd_discard()
{
	sk_check "discard advertised on xvdc" \
		test "$(cat /sys/block/xvdc/queue/discard_max_bytes)" -gt 0 ||
		return
	sk_check "write all of xvdc" \
		dd if=/dev/urandom of=/dev/xvdc bs=1M count=32 oflag=direct
	sk_check "blkdiscard xvdc's first 16 MiB" \
		blkdiscard -o 0 -l $((16 << 20)) /dev/xvdc
}

# sk_vbd_ro: xvdd reads, and refuses writes even when the guest forces its
# block device writable (the backend must say no).
sk_vbd_ro()
{
	sk_check "xvdd is read-only for the guest" \
		test "$(cat /sys/block/xvdd/ro)" = 1
	sk_check "read xvdd" dd if=/dev/xvdd of=/dev/null bs=1M iflag=direct
	blockdev --setrw /dev/xvdd 2>/dev/null
	sk_check "the backend refuses writes to xvdd" \
		sh -c '! dd if=/dev/zero of=/dev/xvdd bs=4k count=1 oflag=direct 2>/dev/null'
}

# sk_vbd_polled: splitkit_front only: re-verify xvda through io_uring
# polled I/O; every completion must have been reaped by polling.
sk_vbd_polled()
{
	local p0 p1 i0 i1

	if [ "$(cat /sys/block/xvda/queue/io_poll)" != 1 ]; then
		sk_comment "no poll queue negotiated on xvda: polled I/O not tested"
		return
	fi
	p0=$(sk_blk_front_stat xvda poll_completions)
	i0=$(sk_blk_front_stat xvda irq_completions)
	sk_check "io_uring --hipri verify of xvda (seed 2)" \
		sk_blk_fio /dev/xvda 2 verify 128k 1 io_uring --hipri
	p1=$(sk_blk_front_stat xvda poll_completions)
	i1=$(sk_blk_front_stat xvda irq_completions)
	sk_comment "xvda completions during the polled verify: polled $((p1 - p0)), by event $((i1 - i0))"
	# 64 MiB in 128 KiB reads: 512 requests
	sk_check "completions reaped by polling" test $((p1 - p0)) -ge 512
}

# sk_vbd_progress: every 60 s, one comment with each disk's completed
# reads and writes and requests in flight (/sys/block/X/stat), so a log
# tells a stuck guest from a slow one.
sk_vbd_progress()
{
	local d line

	while sleep 60; do
		line=""
		for d in /sys/block/xvd*; do
			[ -r "$d/stat" ] || continue
			set -- $(cat "$d/stat")
			line="$line ${d##*/}: r $1 w $5 inflight $9;"
		done
		sk_comment "progress:$line"
	done
}

# sk_vbd_guest: the domU half; the frontend comes from sk.front=.
sk_vbd_guest()
{
	local front d diag disks progress

	front=$(sk_cmdline sk.front) || front=xen-blkfront
	# a disk that never connects leaves modprobe waiting: say why meanwhile
	( sleep 90; sk_blk_guest_diag ) &
	diag=$!
	sk_check "load $front" sk_vbd_load_front "$front" || return
	disks="xvda xvdb xvdc"
	[ "$(sk_cmdline sk.ro)" = 0 ] || disks="$disks xvdd"
	for d in $disks; do
		if ! sk_check "/dev/$d appeared" sk_wait_block /dev/$d 60; then
			sk_blk_guest_diag
			return
		fi
	done
	kill "$diag" 2>/dev/null
	sk_vbd_progress &
	progress=$!
	sk_comment "xvda: $(sk_blk_front_features xvda)"
	sk_check "xvda is 64 MiB" \
		test "$(cat /sys/block/xvda/size)" -eq $((64 * 2048))

	sk_check "guest verifies the whole data disk written by dom0 (seed 1)" \
		sk_blk_fio /dev/xvda 1 verify 64k 1
	sk_check "guest random 4K-256K O_DIRECT writes, verified" \
		sk_blk_fio_rand /dev/xvda 3
	sk_check "guest writes the whole data disk (seed 2, 128 KiB direct, depth 8)" \
		sk_blk_fio /dev/xvda 2 write 128k 1 libaio
	sk_vbd_fs
	[ "$(sk_cmdline sk.discard)" = 1 ] && sk_vbd_discard
	[ "$(sk_cmdline sk.ro)" = 0 ] || sk_vbd_ro
	if [ "$front" = splitkit_front ]; then
		sk_check "no more interrupt-driven queues than online CPUs" \
			test $(($(sk_blk_front_stat xvda queues) - \
				$(sk_blk_front_stat xvda poll_queues))) -le \
				"$(grep -c '^processor' /proc/cpuinfo)"
		sk_vbd_polled
		sk_comment "xvda: $(sk_blk_front_stat xvda | tr '\n' ' ')"
		sk_check "no backend protocol violations" test \
			"$(sk_blk_front_stat xvda violations)$(sk_blk_front_stat xvdb violations)" = 00
	fi
	sk_check "flush to the backend" sync
	sk_blk_guest_dmesg 10
	kill "$progress" 2>/dev/null
}
