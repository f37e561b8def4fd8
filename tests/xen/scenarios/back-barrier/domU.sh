# SPDX-License-Identifier: GPL-2.0
#
# back-barrier (domU half): load the hostile frontend in its barrier mode
# (tests/modules/hostile/barrier.c) instead of xen-blkfront, wait for its
# test on all three disks, relay its verdicts, then tell dom0, which reads
# splitkit_back's counters while the disks are still connected and then
# destroys this domain.

. /lib/splitkit/blk.sh

# bb_load_hostile: splitkit_hostile and its dependencies in the image's
# order (sk_modprobe passes no module parameters), itself with test=barrier.
bb_load_hostile()
{
	local line pair last
	line=$(grep '^splitkit_hostile ' /lib/modules/sk.order) || return 1
	last=${line##* }
	for pair in ${line#* }; do
		[ "$pair" = "$last" ] && break
		[ -d "/sys/module/${pair%%:*}" ] ||
			insmod "/lib/modules/${pair#*:}" || return 1
	done
	insmod "/lib/modules/${last#*:}" test=barrier
}

bb_done()
{
	dmesg | grep -c 'splitkit_hostile: .*barrier test done'
}

sk_check "load splitkit_hostile test=barrier (no xen-blkfront)" \
	bb_load_hostile || return
tries=240
while [ "$(bb_done)" -lt 3 ] && [ "$tries" -gt 0 ]; do
	sleep 1
	tries=$((tries - 1))
done
sk_check "barrier test finished on all three disks" test "$(bb_done)" -eq 3
sk_blk_hostile_results 'barrier test done'
sk_comment "BARRIER-TEST-DONE"
# dom0 destroys us once it has read the counters
sleep 600
