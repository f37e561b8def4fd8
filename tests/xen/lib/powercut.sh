# SPDX-License-Identifier: GPL-2.0
#
# dom0 helpers of power-cut scenarios (needs word "powercut"; sourced after
# common.sh), and sk_pc_e2fsck_clean for their host.sh.  run.sh gives dom0 two virtio disks that QEMU writes to host
# files with no host cache, and kills the whole QEMU with SIGKILL as soon
# as dom0 prints "SK: POWERCUT <scenario>"; then the scenario's host.sh
# reads the host files.  What dom0 never wrote to a disk is lost, so
# whatever the host finds there was made durable before the marker.
#
#   disk serial      logical sectors  host file (build/xen/<kver>/)
#   sk-powercut      512 bytes        powercut.img
#   sk-powercut-4k   4096 bytes       powercut-4k.img
#
# Between the set-up's sync and the cut, only an explicit flush (fsync,
# sync) writes anything to these disks: ext4 commits its journal every
# 3600 s, and the page cache is never written back in the background.

# sk_pc_disk SERIAL: the /dev/vdX whose virtio serial is SERIAL.
sk_pc_disk()
{
	local d
	for d in /sys/block/vd*; do
		[ "$(cat "$d/serial" 2>/dev/null)" = "$1" ] || continue
		echo "/dev/${d##*/}"
		return 0
	done
	echo "no virtio disk with serial $1" >&2
	return 1
}

# sk_pc_volatile: dom0 writes dirty pages only when asked to (no periodic
# writeback, no dirty limit that a scenario's few MiB could reach).  For
# the rest of the boot: a power-cut scenario is the last one of its boot.
sk_pc_volatile()
{
	echo 0 >/proc/sys/vm/dirty_writeback_centisecs &&
		echo 360000 >/proc/sys/vm/dirty_expire_centisecs &&
		echo 1073741824 >/proc/sys/vm/dirty_bytes &&
		echo 805306368 >/proc/sys/vm/dirty_background_bytes
}

# sk_pc_setup: virtio_blk and ext4 loaded, both power-cut disks found
# (PC_DEV, PC_DEV4K), no background writeback, a fresh ext4 on each
# (/mnt/powercut, /mnt/powercut-4k); one result each.
sk_pc_setup()
{
	sk_check "load virtio_blk and ext4" \
		sk_modprobe virtio_pci virtio_blk crc32c_generic ext4 || return
	PC_DEV=$(sk_pc_disk sk-powercut)
	PC_DEV4K=$(sk_pc_disk sk-powercut-4k)
	sk_check "power-cut disks: sk-powercut is ${PC_DEV:-missing}, sk-powercut-4k is ${PC_DEV4K:-missing}" \
		test -b "$PC_DEV" -a -b "$PC_DEV4K" || return
	sk_check "${PC_DEV4K#/dev/} has 4096-byte logical sectors" \
		test "$(cat "/sys/block/${PC_DEV4K#/dev/}/queue/logical_block_size")" = 4096
	sk_check "no background writeback in dom0" sk_pc_volatile || return
	sk_check "ext4 on $PC_DEV (commit=3600)" \
		sk_pc_mkfs "$PC_DEV" /mnt/powercut || return
	sk_check "ext4 on $PC_DEV4K (commit=3600)" \
		sk_pc_mkfs "$PC_DEV4K" /mnt/powercut-4k
}

# sk_pc_mkfs DEV DIR: a fresh ext4 on DEV mounted on DIR, its metadata
# committed only by an explicit flush (commit=3600; inode tables and
# journal initialised by mkfs, so no lazy-init thread writes later).
sk_pc_mkfs()
{
	mkfs.ext4 -q -F -E lazy_itable_init=0,lazy_journal_init=0 "$1" &&
		mkdir -p "$2" &&
		mount -t ext4 -o commit=3600,noatime,nodiscard "$1" "$2"
}

# sk_pc_cut: ask the host to cut the power now, and wait for it.  Never
# returns: should the host not cut, the scenario's timeout kills this
# shell and run.sh reports the missing cut.
sk_pc_cut()
{
	sk_say "POWERCUT ${SK_SCENARIO:-?}"
	while :; do
		sleep 3600
	done
}

# sk_pc_e2fsck_clean IMG LOG (host.sh): replay IMG's journal and check it
# (exit 0, or 1 for fixes made), e2fsck's output to LOG and stdout.  The
# only fixes allowed are the superblock's free block and inode counts,
# which ext4 does not journal (it sums the group descriptors at mount):
# after a crash they are stale by design.
sk_pc_e2fsck_clean()
{
	local rc fixes summary

	e2fsck -fy -E no_optimize_extents "$1" >"$2" 2>&1
	rc=$?
	cat "$2"
	[ "$rc" -le 1 ] || return 1
	fixes=$(grep -c '? yes$' "$2")
	summary=$(grep -c -E '^Free (blocks|inodes) count wrong \(' "$2")
	[ "$fixes" -eq "$summary" ]
}
