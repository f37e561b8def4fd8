# SPDX-License-Identifier: GPL-2.0
#
# back-stockfront (dom0 half): splitkit_back serving Linux's stock
# xen-blkfront, four files used in place.
#
#   dom0: /run/bsf-*.img --file I/O--> splitkit_back ==blkif ring==>
#         xen-blkfront :domU  xvda (data) xvdb (ext4) xvdc (discard)
#                             xvdd (access=ro)
#
# xvda: dom0 writes the whole disk with fio verify headers (seed 1); the
# domU verifies all of it, writes all of it (seed 2, O_DIRECT) and runs
# random 4K-256K verified writes over it, after which it rewrites seed 2;
# dom0 verifies seed 2 once the domU is gone.  xvdb: mkfs, copy, fsck in
# the domU.  xvdc: the domU writes 64 MiB and discards half; dom0 checks
# the file lost the space.  xvdd: reads work, writes are refused by the
# backend even when the guest forces its disk writable.

. /lib/splitkit/blk.sh

data=/run/bsf-data.img
fs=/run/bsf-fs.img
disc=/run/bsf-discard.img
ro=/run/bsf-ro.img

sk_check "load splitkit_back (xen-blkback not loaded)" sk_blk_load_back ||
	return
rm -f "$data" "$fs" "$disc" "$ro"
truncate -s 256M "$data"
truncate -s 128M "$fs"
truncate -s 64M "$disc"
dd if=/dev/urandom of="$ro" bs=1M count=16 2>/dev/null
ro_sum=$(md5sum <"$ro")
sk_check "dom0 writes the whole data disk (fio, crc32c, seed 1)" \
	sk_blk_fio "$data" 1 write
( sleep 120; sk_blk_diag ) &
diag=$!
sk_domU_run domU.cfg 420
kill "$diag" 2>/dev/null
sk_check "dom0 verifies the whole data disk written by the domU (seed 2)" \
	sk_blk_fio "$data" 2 verify
kb=$(sk_blk_kb "$disc")
sk_comment "discard disk: $kb KiB allocated after 64 MiB written, 32 MiB discarded"
sk_check "discard punched holes in the backing file (< 40 MiB allocated)" \
	test "$kb" -lt $((40 * 1024))
sk_check "discard kept the other half (> 24 MiB allocated)" \
	test "$kb" -gt $((24 * 1024))
sk_check "read-only disk unchanged" test "$(md5sum <"$ro")" = "$ro_sum"
sk_check "no loop device was used" sh -c "! losetup -a | grep -q bsf-"
sk_check "backend devices gone after the domU" \
	sh -c '! ls /sys/bus/xen-backend/devices | grep -q vbd-'
sk_check "rmmod splitkit_back" rmmod splitkit_back
sk_blk_dmesg_dump
sk_check "dmesg: no oops, warning or hung task" sk_blk_dmesg_clean
rm -f "$data" "$fs" "$disc" "$ro"
