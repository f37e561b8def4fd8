# SPDX-License-Identifier: GPL-2.0
#
# back-detach (domU half): keep both disks busy until dom0 pulls them.
# Each disk has an fio loop that never ends on its own (xvda's ends when
# its device goes away and fio fails); once both disks have moved data the guest tells
# dom0 "io-running" (XenStore handshake, common.sh) and waits to be
# destroyed.

. /lib/splitkit/blk.sh

# bd_sectors DISK: 512-byte sectors DISK has read and written so far.
bd_sectors()
{
	set -- $(cat "/sys/block/$1/stat" 2>/dev/null || echo 0 0 0 0 0 0 0)
	echo $(($3 + $7))
}

sk_check "load $(sk_cmdline sk.front)" sk_blk_load_front
sk_check "/dev/xvda appeared" sk_wait_block /dev/xvda 30 || return
sk_check "/dev/xvdb appeared" sk_wait_block /dev/xvdb 30 || return
for d in xvda xvdb; do
	# again and again while fio succeeds; it fails once the disk
	# is gone (and then is not restarted on a dead device)
	while fio --name=busy-$d --filename=/dev/$d --rw=randrw \
		  --bsrange=4k-128k --ioengine=psync --direct=1 \
		  --time_based --runtime=3600 --output=/dev/null \
		  >/dev/null 2>&1; do
		:
	done &
done
while [ "$(bd_sectors xvda)" -eq 0 ] || [ "$(bd_sectors xvdb)" -eq 0 ]; do
	sleep 1
done
sk_comment "IO-RUNNING"
sk_check "tell dom0 both disks are busy" sk_hs_send io-running
# dom0 destroys this domain; the xvdb loop never ends before that
wait
sk_fail "the I/O loops ended before dom0 destroyed the domain"
