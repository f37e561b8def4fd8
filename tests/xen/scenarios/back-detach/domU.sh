# SPDX-License-Identifier: GPL-2.0
#
# back-detach (domU half): keep both disks busy until dom0 pulls them.

. /lib/splitkit/blk.sh

sk_check "load $(sk_cmdline sk.front)" sk_blk_load_front
sk_check "/dev/xvda appeared" sk_wait_block /dev/xvda 30 || return
sk_check "/dev/xvdb appeared" sk_wait_block /dev/xvdb 30 || return
for d in xvda xvdb; do
	fio --name=busy-$d --filename=/dev/$d --rw=randrw --bsrange=4k-128k \
	    --ioengine=psync --direct=1 --time_based --runtime=600 \
	    --output=/dev/null >/dev/null 2>&1 &
done
sleep 2
sk_comment "IO-RUNNING"
wait
