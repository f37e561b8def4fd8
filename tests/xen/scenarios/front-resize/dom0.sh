# SPDX-License-Identifier: GPL-2.0
#
# front-resize (dom0 half): a disk grows under a running guest.
#
#   dom0: /run/front-resize.img (loop) -> xen-blkback ==blkif==
#         splitkit_front :domU
#
# The guest says "fr-ready" with its 32 MiB disk in use; dom0 grows the
# file to 48 MiB and the loop device with it (losetup -c).  xen-blkback
# sees the new size (its thread checks it at least every 100 ms) and
# announces it the way it does for any frontend: "sectors" rewritten, then
# "state" Connected again, both ends staying Connected.  dom0 waits for
# that announcement, says "fr-grown", and the guest checks its disk grew
# without a reconnect and that the new 16 MiB take data ("fr-done"); dom0
# then finds the guest's pattern in the file's new tail and answers
# "fr-checked", for which the guest waits before it powers off.
# Handshakes sequence the two sides; every wait is a hang guard.

. /lib/splitkit/blk.sh

name=front-resize
img=/run/front-resize.img
LOSETUP=/usr/lib/splitkit/losetup	# util-linux: -j, -c

# fr_announced N: xen-blkback announces N sectors for the guest's xvda.
fr_announced()
{
	test "$(xenstore-read "/local/domain/0/backend/vbd/$domid/51712/sectors" 2>/dev/null)" = "$1"
}

for m in splitkit_back xen_blkback; do
	[ -d "/sys/module/$m" ] && rmmod "$m"
done
sk_check "load xen-blkback" sk_modprobe xen-blkback || return
sk_check "load loop" sk_modprobe loop || return
rm -f "$img"
truncate -s 32M "$img"
sk_check "xl create domU.cfg" xl create domU.cfg || return
domid=$(xl domid "$name")
sk_check "the guest uses its 32 MiB disk" \
	sk_hs_wait_from "$name" fr-ready 600 || return
loopdev=$($LOSETUP -j "$img" | cut -d: -f1)
sk_check "the disk is a loop device ($loopdev)" test -b "$loopdev"
sk_check "xen-blkback announced 65536 sectors" fr_announced 65536
sk_check "grow the file to 48 MiB" truncate -s 48M "$img"
sk_check "and the loop device with it (losetup -c)" $LOSETUP -c "$loopdev"
sk_check "xen-blkback announced the new size (98304 sectors)" \
	skt_wait 120 fr_announced 98304
sk_check "xen-blkback still Connected" \
	test "$(xenstore-read "/local/domain/0/backend/vbd/$domid/51712/state")" = 4
sk_check "tell the guest" sk_hs_send_to "$name" fr-grown
sk_check "the guest checked its disk" \
	sk_hs_wait_from "$name" fr-done 600
sk_check "the guest's pattern is in the file's new tail" \
	test "$(dd if="$img" bs=1M skip=32 count=16 2>/dev/null | md5sum)" = \
	     "$(yes splitkit-front-resize | head -c 16777216 | md5sum)"
# the guest waits for this: a guest gone first takes its keys with it
sk_check "tell the guest" sk_hs_send_to "$name" fr-checked
sk_domU_wait "$name" 300
sk_domU_results "$name"
sk_check "dom0 dmesg: no oops, warning or hung task" sk_blk_dmesg_clean
sk_check "backend devices gone after the domU" sk_blk_no_vbd 30
sk_check "rmmod xen-blkback" rmmod xen_blkback
rm -f "$img"
