# SPDX-License-Identifier: GPL-2.0
#
# back-hostile (domU half): load the hostile frontend instead of
# xen-blkfront, wait for its attack on both disks, relay its verdicts.

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
dmesg | sed -n 's/^\[[ 0-9.]*\] splitkit_hostile: //p' | grep -v 'attack done' |
	while IFS= read -r l; do
		dev=${l%%: *}
		rest=${l#*: }
		case "$rest" in
		"ok "*) sk_ok "$dev: ${rest#ok }" ;;
		"not ok "*) sk_fail "$dev: ${rest#not ok }" ;;
		esac
	done
