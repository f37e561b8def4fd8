# SPDX-License-Identifier: GPL-2.0
#
# back-resize (domU half): the stock xen-blkfront takes up the sizes
# splitkit_back announces while connected.  With both 32 MiB disks in use
# (a write and a read back at each end), say "br-ready"; after dom0's
# "br-grow", keep reading xvda (splitkit_back looks at the backing's size
# on each request) and leave xvdb idle (looked at once a second) until
# dom0's "br-grown"; then both disks must be 48 MiB without any reconnect,
# blkfront must have said so, and the new 16 MiB of each take a pattern
# written and read back with O_DIRECT; then "br-done".  After dom0's
# "br-shrink", keep reading xvda until it is 40 MiB, write and read back
# its new last MiB, "br-shrunk"; the guest stays until dom0's
# "br-checked".

. /lib/splitkit/blk.sh

# br_size DISK N: DISK has N sectors.
br_size()
{
	test "$(cat "/sys/block/$1/size" 2>/dev/null)" = "$2"
}

# br_end DISK: a write and a read back of the disk's last 1 MiB of 32.
br_end()
{
	dd if=/tmp/br-old of="/dev/$1" bs=1M seek=31 oflag=direct 2>/dev/null &&
		test "$(dd if="/dev/$1" bs=1M skip=31 count=1 iflag=direct 2>/dev/null | md5sum)" = "$(md5sum </tmp/br-old)"
}

# br_new DISK PATTERN: the new 16 MiB take PATTERN and read it back.
br_new()
{
	yes "$2" | head -c 16777216 >"/tmp/br-$1" &&
		dd if="/tmp/br-$1" of="/dev/$1" bs=1M seek=32 oflag=direct 2>/dev/null &&
		test "$(dd if="/dev/$1" bs=1M skip=32 count=16 iflag=direct 2>/dev/null | md5sum)" = "$(md5sum <"/tmp/br-$1")"
}

# br_poke: one uncached read of xvda, until dom0 says "br-grown".
br_poke()
{
	dd if=/dev/xvda of=/dev/null bs=4k count=1 iflag=direct 2>/dev/null
	sk_hs_got br-grown
}

# br_shrunk: one uncached read of xvda, until it is 40 MiB.
br_shrunk()
{
	dd if=/dev/xvda of=/dev/null bs=4k count=1 iflag=direct 2>/dev/null
	br_size xvda 81920
}

sk_check "load xen-blkfront" sk_blk_load_front || return
sk_check "/dev/xvda appeared" sk_wait_block /dev/xvda 300 || return
sk_check "/dev/xvdb appeared" sk_wait_block /dev/xvdb 300 || return
sk_check "both are 32 MiB (65536 sectors)" \
	sh -c 'test "$(cat /sys/block/xvda/size)" = 65536 -a "$(cat /sys/block/xvdb/size)" = 65536'
yes old-end | head -c 1048576 >/tmp/br-old
sk_check "xvda: a write and a read back at its end" br_end xvda
sk_check "xvdb: a write and a read back at its end" br_end xvdb
sk_check "tell dom0" sk_hs_send br-ready
sk_hs_wait br-grow 900 >/dev/null
sk_check "read xvda (xvdb idle) until dom0 saw both sizes announced" \
	skt_wait 600 br_poke
sk_check "xvda grew to 48 MiB (98304 sectors) while connected" \
	skt_wait 60 br_size xvda 98304
sk_check "xvdb grew to 48 MiB (98304 sectors) while connected" \
	skt_wait 60 br_size xvdb 98304
# blkfront prints its "blkfront: xvdX: <features>" line at each connect
sk_check "xen-blkfront said so, once per disk, and never reconnected" \
	sh -c "test \$(dmesg | grep -c 'Setting capacity to 98304') = 2 &&
	       test \$(dmesg | grep -c 'blkfront: xvda: ') = 1 &&
	       test \$(dmesg | grep -c 'blkfront: xvdb: ') = 1"
sk_check "xvda: the new 16 MiB take a pattern (O_DIRECT) and read it back" \
	br_new xvda splitkit-back-resize-a
sk_check "xvdb: the new 16 MiB take a pattern (O_DIRECT) and read it back" \
	br_new xvdb splitkit-back-resize-b
sk_check "xvda: the old end is intact" \
	test "$(dd if=/dev/xvda bs=1M skip=31 count=1 iflag=direct 2>/dev/null | md5sum)" = "$(md5sum </tmp/br-old)"
sk_check "xvdb: the old end is intact" \
	test "$(dd if=/dev/xvdb bs=1M skip=31 count=1 iflag=direct 2>/dev/null | md5sum)" = "$(md5sum </tmp/br-old)"
sk_check "tell dom0" sk_hs_send br-done
sk_hs_wait br-shrink 900 >/dev/null
sk_check "xvda shrank to 40 MiB (81920 sectors) while connected" \
	skt_wait 300 br_shrunk
sk_check "xen-blkfront said so" \
	sh -c "dmesg | grep -q 'Setting capacity to 81920'"
sk_check "xvda: its new last MiB takes a write and reads it back" \
	sh -c 'dd if=/tmp/br-old of=/dev/xvda bs=1M seek=39 oflag=direct 2>/dev/null &&
	       test "$(dd if=/dev/xvda bs=1M skip=39 count=1 iflag=direct 2>/dev/null | md5sum)" = "$(md5sum </tmp/br-old)"'
sk_check "tell dom0" sk_hs_send br-shrunk
# stay until dom0 has read br-shrunk (the domain's keys go with it)
sk_hs_wait br-checked 900 >/dev/null
sk_check "guest dmesg: no oops, warning or hung task" sk_blk_dmesg_clean
