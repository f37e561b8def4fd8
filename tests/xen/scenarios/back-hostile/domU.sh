# SPDX-License-Identifier: GPL-2.0
#
# back-hostile (domU half): load the hostile frontend instead of
# xen-blkfront, wait for its attack on both disks, relay its verdicts.

. /lib/splitkit/blk.sh

sk_check "load splitkit_hostile (no xen-blkfront)" sk_modprobe splitkit_hostile ||
	return
tries=180
while [ "$(dmesg | grep -c 'splitkit_hostile: .*attack done')" -lt 2 ] &&
      [ "$tries" -gt 0 ]; do
	sleep 1
	tries=$((tries - 1))
done
sk_check "attack finished on both disks" \
	test "$(dmesg | grep -c 'splitkit_hostile: .*attack done')" -eq 2
sk_blk_hostile_results 'attack done'
