# SPDX-License-Identifier: GPL-2.0
#
# back-hostile (domU half): load the hostile frontend instead of
# xen-blkfront, in the mode sk.hostile= names (attack, the default: garbage
# on every disk and the read-only test on a read-only one; ro: only the
# read-only test), wait until it is done with every disk, relay its
# verdicts.

. /lib/splitkit/blk.sh

mode=$(sk_cmdline sk.hostile) || mode=attack
case "$mode" in
attack) done_msg='attack done' ;;
*) done_msg="$mode test done" ;;
esac
ndisks=$(ls -d /sys/bus/xen/devices/vbd-* 2>/dev/null | wc -l)
sk_check "the guest sees its disks ($ndisks)" test "$ndisks" -gt 0 || return
sk_check "load splitkit_hostile test=$mode (no xen-blkfront)" \
	sk_insmod splitkit_hostile test="$mode" || return
tries=180
while [ "$(dmesg | grep -c "splitkit_hostile: .*$done_msg")" -lt "$ndisks" ] &&
      [ "$tries" -gt 0 ]; do
	sleep 1
	tries=$((tries - 1))
done
sk_check "$mode finished on all $ndisks disks" \
	test "$(dmesg | grep -c "splitkit_hostile: .*$done_msg")" -eq "$ndisks"
sk_blk_hostile_results "$done_msg"
