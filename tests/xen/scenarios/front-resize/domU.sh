# SPDX-License-Identifier: GPL-2.0
#
# front-resize (domU half): splitkit_front takes up a size xen-blkback
# announces while connected.  With the 32 MiB disk in use (a write and a
# read back), say "fr-ready"; after dom0's "fr-grown" the disk must be
# 48 MiB without any reconnect, the guest's dmesg must say so, and the
# new 16 MiB take a pattern written and read back with O_DIRECT; then
# "fr-done", and the guest stays until dom0's "fr-checked".

. /lib/splitkit/blk.sh

# fr_size N: xvda has N sectors.
fr_size()
{
	test "$(cat /sys/block/xvda/size 2>/dev/null)" = "$1"
}

sk_check "load splitkit_front" sk_blk_load_front || return
sk_check "/dev/xvda appeared" sk_wait_block /dev/xvda 300 || return
sk_check "xvda is 32 MiB (65536 sectors)" fr_size 65536
sk_check "a write and a read back at its end" \
	sh -c 'yes old-end | head -c 1048576 >/tmp/fr-old &&
	       dd if=/tmp/fr-old of=/dev/xvda bs=1M seek=31 oflag=direct 2>/dev/null &&
	       test "$(dd if=/dev/xvda bs=1M skip=31 count=1 iflag=direct 2>/dev/null | md5sum)" = "$(md5sum </tmp/fr-old)"'
c0=$(sk_blk_front_stat xvda completed)
sk_check "tell dom0" sk_hs_send fr-ready
sk_hs_wait fr-grown 900 >/dev/null
sk_check "xvda grew to 48 MiB (98304 sectors) while connected" \
	skt_wait 60 fr_size 98304
sk_check "the frontend said so (dmesg)" \
	sh -c "dmesg | grep -q 'disk size changed from 65536 to 98304 sectors'"
sk_check "no reconnect: still connected, no violation" \
	test "$(sk_blk_front_stat xvda connected)" = 1 -a \
	     "$(sk_blk_front_stat xvda violations)" = 0
sk_check "requests before the growth still counted (same connection)" \
	test "$(sk_blk_front_stat xvda completed)" -ge "$c0"
sk_check "the new 16 MiB take a pattern (O_DIRECT) and read it back" \
	sh -c 'yes splitkit-front-resize | head -c 16777216 >/tmp/fr-new &&
	       dd if=/tmp/fr-new of=/dev/xvda bs=1M seek=32 oflag=direct 2>/dev/null &&
	       test "$(dd if=/dev/xvda bs=1M skip=32 count=16 iflag=direct 2>/dev/null | md5sum)" = "$(md5sum </tmp/fr-new)"'
sk_check "the old end is intact" \
	test "$(dd if=/dev/xvda bs=1M skip=31 count=1 iflag=direct 2>/dev/null | md5sum)" = "$(md5sum </tmp/fr-old)"
sk_check "tell dom0" sk_hs_send fr-done
# stay until dom0 has read fr-done (the domain's keys go with it)
sk_hs_wait fr-checked 900 >/dev/null
sk_check "guest dmesg: no oops, warning or hung task" sk_blk_dmesg_clean
