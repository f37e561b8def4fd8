# SPDX-License-Identifier: GPL-2.0
#
# back-hostile (dom0 half): a frontend that writes garbage requests into
# the ring must leave dom0 healthy, the backend refusing each one.
#
#   dom0: /run/bh-{rw,ro}.img -> splitkit_back ==blkif ring==>
#         splitkit_hostile :domU (tests/modules/hostile, not blkfront)
#
# The domU reports what the backend answered; dom0 checks it survived:
# no oops or hung task, the refusals were logged as coming from a
# malicious or buggy frontend, the disks' data untouched, and the module
# unloads with nothing held.

. /lib/splitkit/blk.sh

rw=/run/bh-rw.img
ro=/run/bh-ro.img

sk_check "load splitkit_back (xen-blkback not loaded)" sk_blk_load_back ||
	return
rm -f "$rw" "$ro"
dd if=/dev/urandom of="$rw" bs=1M count=64 2>/dev/null
dd if=/dev/urandom of="$ro" bs=1M count=16 2>/dev/null
rw_sum=$(md5sum <"$rw")
ro_sum=$(md5sum <"$ro")
sk_domU_run domU.cfg 300
sk_check "backend logged refusals of a malicious or buggy frontend" \
	sh -c 'dmesg | grep -q "malicious or buggy frontend"'
sk_comment "$(dmesg | grep -c 'malicious or buggy') lines mention a malicious or buggy peer"
sk_check "writable disk unchanged (every write was garbage)" \
	test "$(md5sum <"$rw")" = "$rw_sum"
sk_check "read-only disk unchanged" test "$(md5sum <"$ro")" = "$ro_sum"
sk_check "backend devices gone after the domU" \
	sh -c '! ls /sys/bus/xen-backend/devices | grep -q vbd-'
sk_check "splitkit_back holds no references" \
	test "$(cat /sys/module/splitkit_back/refcnt)" = 0
sk_check "rmmod splitkit_back" rmmod splitkit_back
sk_blk_dmesg_dump
sk_check "dmesg: no oops, warning or hung task" sk_blk_dmesg_clean
rm -f "$rw" "$ro"
