# SPDX-License-Identifier: GPL-2.0
#
# back-flush (domU half): write both disks through the page cache, flush
# each, announce it, then keep reading until the host cuts the power.

. /lib/splitkit/blk.sh

flush_negotiated()
{
	sk_blk_front_features "$1" |
		grep -q -E 'flush diskcache: enabled|flush: on'
}

sk_check "load $(sk_cmdline sk.front)" sk_blk_load_front
for d in xvda xvdb; do
	sk_check "/dev/$d appeared" sk_wait_block "/dev/$d" 30 || return
	sk_check "$d: feature-flush-cache negotiated" flush_negotiated "$d"
done
# seed 5 on xvda (direct I/O in dom0), seed 6 on xvdb (dom0's page cache);
# host.sh verifies the same jobs on the host after the cut
sk_check "xvda: write the whole disk through the page cache (seed 5)" \
	sk_blk_fio /dev/xvda 5 write 64k 0
sk_check "xvdb: write the whole disk through the page cache (seed 6)" \
	sk_blk_fio /dev/xvdb 6 write 64k 0
# blkdev_fsync: write back the page cache, then a FLUSH_DISKCACHE request
for d in xvda xvdb; do
	sk_check "$d: fsync (flush)" \
		dd if=/dev/zero of=/dev/$d bs=4k count=0 conv=notrunc,fsync
done
sk_comment "FLUSHED"
# Busy until the cut, writing nothing (the host verifies all of both
# disks).  Nothing waits on this loop: it ends with the machine.
while :; do
	dd if=/dev/xvda of=/dev/null bs=1M count=8 iflag=direct 2>/dev/null
	dd if=/dev/xvdb of=/dev/null bs=1M count=8 iflag=direct 2>/dev/null
	sleep 1
done
