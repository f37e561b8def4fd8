# SPDX-License-Identifier: GPL-2.0
#
# back-flush (domU half): write through the page cache, flush, announce
# it, keep the disk busy until dom0 destroys us.

. /lib/splitkit/blk.sh

sk_check "load $(sk_cmdline sk.front)" sk_blk_load_front
sk_check "/dev/xvda appeared" sk_wait_block /dev/xvda 30 || return
flush_negotiated()
{
	sk_blk_front_features xvda |
		grep -q -E 'flush diskcache: enabled|flush: on'
}

sk_check "feature-flush-cache negotiated" flush_negotiated
sk_check "write the whole disk through the page cache (seed 5)" \
	sk_blk_fio /dev/xvda 5 write 64k 0
# blkdev_fsync: write back the page cache, then a FLUSH_DISKCACHE request
sk_check "fsync /dev/xvda (flush)" \
	dd if=/dev/zero of=/dev/xvda bs=4k count=0 conv=notrunc,fsync
sk_comment "FLUSHED"
# unflushed noise until dom0 pulls the plug (it verifies only seed 5,
# so write nothing over it)
while :; do
	dd if=/dev/xvda of=/dev/null bs=1M count=8 iflag=direct 2>/dev/null
	sleep 1
done
