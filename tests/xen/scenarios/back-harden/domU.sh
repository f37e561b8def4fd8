# SPDX-License-Identifier: GPL-2.0
#
# back-harden (domU half), by sk.harden=:
#   misaligned  the hostile test frontend with test=misaligned (no
#               xen-blkfront), its verdicts relayed;
#   fio         xen-blkfront on a 4096-byte-sector disk: random direct
#               writes verified, then the whole disk written and verified
#               (dom0 verifies that again afterwards);
#   idle        nothing: dom0 attaches disks to this domain and destroys it.

. /lib/splitkit/blk.sh

mode=$(sk_cmdline sk.harden)
case "$mode" in
misaligned)
	sk_blk_hostile_test misaligned
	;;
fio)
	sk_check "load $(sk_cmdline sk.front)" sk_blk_load_front || return
	sk_check "/dev/xvda appeared" sk_wait_block /dev/xvda 60 || return
	lbs=$(cat /sys/block/xvda/queue/logical_block_size)
	sk_check "xvda has 4096-byte logical blocks ($lbs)" test "$lbs" = 4096
	sk_check "fio: random 4-128 KiB direct writes on xvda, verified" \
		fio --name=rand4k --filename=/dev/xvda --rw=randwrite \
		    --bsrange=4k-128k --ioengine=psync --direct=1 --size=100% \
		    --io_size=16m --verify=crc32c --verify_fatal=1 \
		    --randrepeat=1 --randseed=7 --verify_state_save=0 \
		    --output=/dev/null --do_verify=1
	sk_check "fio: all of xvda written and verified (64 KiB, direct)" \
		sk_blk_fio /dev/xvda 41 write 64k 1
	sk_check "no I/O error in the guest's kernel log" \
		sh -c "! dmesg | grep -iE 'i/o error|misaligned'"
	sk_blk_guest_dmesg 5
	;;
idle)
	sk_say "# idle: dom0 attaches disks to this domain, then destroys it"
	while :; do
		sleep 3600
	done
	;;
*)
	sk_fail "sk.harden=$mode is a back-harden mode"
	;;
esac
