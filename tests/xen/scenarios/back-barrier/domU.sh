# SPDX-License-Identifier: GPL-2.0
#
# back-barrier (domU half): load the hostile frontend in its barrier mode
# (tests/modules/hostile/barrier.c) instead of xen-blkfront, wait for its
# test on all three disks, relay its verdicts, then tell dom0, which reads
# splitkit_back's counters while the disks are still connected and then
# destroys this domain.

. /lib/splitkit/blk.sh

bb_done()
{
	dmesg | grep -c 'splitkit_hostile: .*barrier test done'
}

sk_check "load splitkit_hostile test=barrier (no xen-blkfront)" \
	sk_insmod splitkit_hostile test=barrier || return
deadline=$(($(date +%s) + 400))
while [ "$(bb_done)" -lt 3 ] && [ "$(date +%s)" -lt "$deadline" ]; do
	sleep 1
done
sk_check "barrier test finished on all three disks" test "$(bb_done)" -eq 3
sk_blk_hostile_results 'barrier test done'
sk_comment "BARRIER-TEST-DONE"
sk_check "tell dom0 the test is done" sk_hs_send barrier-test-done
# dom0 reads the counters and destroys us: idle until then, however long
# it takes (this domain never ends on its own)
while :; do
	sleep 3600
done
