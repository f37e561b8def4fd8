# SPDX-License-Identifier: GPL-2.0
#
# back-hostile (dom0 half): a frontend that writes garbage requests into
# the ring must leave dom0 healthy, the backend refusing each one; and a
# read-only disk must refuse every write the frontend sends, whatever the
# guest's own block layer would have let through.
#
#   dom0: /run/bh-{rw,ro}.img -> splitkit_back ==blkif ring==>
#         splitkit_hostile :domU back-hostile (tests/modules/hostile,
#                                               not blkfront)
#   dom0: /run/bh-ro.img --loop ro--> xen-blkback ==blkif ring==>
#         splitkit_hostile test=ro :domU back-hostile-blkback
#
# The domUs report what the backend answered (every WRITE, indirect WRITE,
# flush or barrier with data and DISCARD to the read-only disk answered
# BLKIF_RSP_ERROR, tests/modules/hostile/ro.c); dom0 checks it survived:
# no oops or hung task, the refusals were logged as coming from a
# malicious or buggy frontend, the disks' data untouched, and the modules
# unload with nothing held.

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
sk_check "read-only disk unchanged (every write to it refused)" \
	test "$(md5sum <"$ro")" = "$ro_sum"
sk_check "backend devices gone after the domU" \
	sh -c '! ls /sys/bus/xen-backend/devices | grep -q vbd-'
sk_check "splitkit_back holds no references" \
	test "$(cat /sys/module/splitkit_back/refcnt)" = 0
sk_check "rmmod splitkit_back" rmmod splitkit_back
sk_blk_dmesg_dump

# the read-only test against Linux's xen-blkback (same backing file)
if sk_check "load xen-blkback" sk_modprobe xen-blkback loop; then
	ro_sum=$(md5sum <"$ro")	# judged on its own, whatever came before
	sk_domU_run domU-blkback.cfg 300
	sk_check "read-only disk unchanged by the writes sent to xen-blkback" \
		test "$(md5sum <"$ro")" = "$ro_sum"
	sk_check "hotplug script released the loop device" \
		sh -c "! losetup -a | grep -q bh-ro"
	sk_check "rmmod xen-blkback" rmmod xen_blkback
fi
sk_check "dmesg: no oops, warning or hung task" sk_blk_dmesg_clean
rm -f "$rw" "$ro"
