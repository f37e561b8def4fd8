# SPDX-License-Identifier: GPL-2.0
#
# back-resize (dom0 half): splitkit_back announces a backing that grew
# under a running guest.
#
#   dom0: /run/back-resize-file.img (served in place) -> splitkit_back
#         ==blkif== xen-blkfront xvda :domU
#   dom0: /run/back-resize-loop.img -> loop device -> splitkit_back
#         ==blkif== xen-blkfront xvdb :domU
#
# The guest says "br-ready" with both 32 MiB disks in use; dom0 grows the
# file to 48 MiB, and the loop device's file too, then the loop device
# itself (losetup -c), and says "br-grow".  splitkit_back notices the new
# sizes - xvda's at the guest's next request (the guest keeps reading it),
# idle xvdb's at its look once a second - and announces them as
# xen-blkback does: "sectors" rewritten, then "state" Connected again,
# both ends staying Connected.  dom0 waits for both announcements
# (skb_stats/resized, counted after the transaction) and says "br-grown"; the
# guest checks its disks grew without a reconnect and that the new 16 MiB
# of each take data ("br-done"); dom0 finds the guest's patterns in the
# files' new tails, and reads the loop device's through dom0's page cache,
# which it had filled with the tail's zeroes before the guest wrote (the
# guest's writes must not leave stale pages there).  Then the file shrinks to 40 MiB ("br-shrink"): the
# guest, reading xvda, sees 40 MiB, writes and reads back its new last
# MiB ("br-shrunk"), and dom0 checks the announcement and that the file
# kept its 40 MiB (no write made it longer again).  dom0 answers
# "br-checked", for which the guest waits before it powers off.
# Handshakes sequence the two sides; every wait is a hang guard.

. /lib/splitkit/blk.sh

name=back-resize
file=/run/back-resize-file.img
loopimg=/run/back-resize-loop.img
link=/run/back-resize-dev
LOSETUP=/usr/lib/splitkit/losetup	# util-linux: --show, -c

# br_announced DEVID N: splitkit_back announces N sectors for that disk.
br_announced()
{
	test "$(xenstore-read "/local/domain/0/backend/vbd/$domid/$1/sectors" 2>/dev/null)" = "$2"
}

# br_resized DEVID [N]: splitkit_back counted N (1) announcements for
# that disk.
br_resized()
{
	test "$(sk_blk_back_stat "$domid" "$1" resized)" = "${2:-1}"
}

# br_tail FILE PATTERN: the file's 16 MiB after its first 32 MiB are
# PATTERN repeated.
br_tail()
{
	test "$(dd if="$1" bs=1M skip=32 count=16 2>/dev/null | md5sum)" = \
	     "$(yes "$2" | head -c 16777216 | md5sum)"
}

sk_check "load splitkit_back (xen-blkback not loaded)" sk_blk_load_back ||
	return
sk_check "load loop" sk_modprobe loop || return
rm -f "$file" "$loopimg" "$link"
truncate -s 32M "$file" "$loopimg"
loopdev=$($LOSETUP -f --show "$loopimg")
sk_check "the second disk is a loop device ($loopdev)" test -b "$loopdev" ||
	return
ln -s "$loopdev" "$link"
sk_check "xl create domU.cfg" xl create domU.cfg || return
domid=$(xl domid "$name")
sk_check "the guest uses its two 32 MiB disks" \
	sk_hs_wait_from "$name" br-ready 600 || return
sk_check "splitkit_back serves xvda from the file, xvdb from the device" \
	sh -c "dmesg | grep -q 'vbd-$domid-51712: file $file: 65536 sectors' &&
	       dmesg | grep -q 'vbd-$domid-51728: block device $link: 65536 sectors'"
sk_check "grow the file to 48 MiB" truncate -s 48M "$file"
sk_check "grow the loop device's file to 48 MiB" truncate -s 48M "$loopimg"
sk_check "and the loop device with it (losetup -c)" $LOSETUP -c "$loopdev"
sk_check "tell the guest (it keeps reading xvda)" \
	sk_hs_send_to "$name" br-grow
sk_check "splitkit_back announced xvda's new size (in use)" \
	skt_wait 300 br_resized 51712
sk_check "splitkit_back announced xvdb's new size (idle)" \
	skt_wait 300 br_resized 51728
sk_check "XenStore: xvda has 98304 sectors" br_announced 51712 98304
sk_check "XenStore: xvdb has 98304 sectors" br_announced 51728 98304
sk_check "dom0 dmesg says so" \
	sh -c "dmesg | grep -q '$file resized from 65536 to 98304 sectors: announced to domain $domid' &&
	       dmesg | grep -q '$link resized from 65536 to 98304 sectors: announced to domain $domid'"
# dom0's page cache of the loop device now holds the tail (zeroes): the
# guest's writes through splitkit_back's bios must drop it (bdev.c)
sk_check "dom0 reads xvdb's new tail through the loop device's page cache" \
	sh -c "test \"\$(dd if=$loopdev bs=1M skip=32 count=16 2>/dev/null | md5sum)\" = \"\$(head -c 16777216 /dev/zero | md5sum)\""
sk_check "tell the guest" sk_hs_send_to "$name" br-grown
sk_check "the guest checked its disks" \
	sk_hs_wait_from "$name" br-done 600
sk_check "the guest's pattern is in the file's new tail" \
	br_tail "$file" splitkit-back-resize-a
sk_check "and in the loop device's new tail" \
	br_tail "$loopimg" splitkit-back-resize-b
sk_check "read through dom0's page cache of the loop device too" \
	br_tail "$loopdev" splitkit-back-resize-b
sk_check "no request was refused" \
	test "$(sk_blk_back_stat "$domid" 51712 refused)" = 0 -a \
	     "$(sk_blk_back_stat "$domid" 51728 refused)" = 0
sk_check "shrink the file to 40 MiB" truncate -s 40M "$file"
sk_check "tell the guest" sk_hs_send_to "$name" br-shrink
sk_check "the guest saw xvda shrink and used its new end" \
	sk_hs_wait_from "$name" br-shrunk 600
sk_check "splitkit_back announced xvda's new size (81920 sectors)" \
	skt_wait 60 br_resized 51712 2
sk_check "XenStore: xvda has 81920 sectors" br_announced 51712 81920
sk_check "the file is still 40 MiB" \
	test "$(stat -c %s "$file")" = 41943040
# the guest waits for this: a guest gone first takes its keys with it
sk_check "tell the guest" sk_hs_send_to "$name" br-checked
sk_domU_wait "$name" 300
sk_domU_results "$name"
sk_check "dom0 dmesg: no oops, warning or hung task" sk_blk_dmesg_clean
sk_check "backend devices gone after the domU" sk_blk_no_vbd 30
$LOSETUP -d "$loopdev"
rm -f "$file" "$loopimg" "$link"
