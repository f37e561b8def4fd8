# SPDX-License-Identifier: GPL-2.0
#
# demo (dom0 half): serve a 512 MiB file to a PV guest and check, after the
# guest has powered off, that the filesystem it made is clean and holds
# its files.
#
#   dom0: /run/demo.img --file I/O--> splitkit_back ==splitkit_ring==>
#         splitkit_front :domU (xvda)
#
# splitkit_back serves the file in place (no loop device) and prints its
# counters at the end.

. /lib/splitkit/blk.sh

img=/run/demo.img
sk_check "load splitkit_back (xen-blkback unloaded)" sk_blk_load_back || return
rm -f "$img"
truncate -s 512M "$img"
sk_comment "backend: splitkit_back, disk: $img (512 MiB file, used in place)"
# the backend's counters: the device goes away with the guest, so keep the
# latest snapshot (taken every 2 s) and print that one afterwards
( while sleep 2; do
	cat /sys/bus/xen-backend/devices/vbd-*/skb_stats \
		>/tmp/demo-skb-stats.new 2>/dev/null &&
		mv /tmp/demo-skb-stats.new /tmp/demo-skb-stats
done ) &
snap=$!
sk_domU_run domU.cfg 400
kill "$snap" 2>/dev/null
[ -r /tmp/demo-skb-stats ] &&
	sk_comment "splitkit_back counters: $(tr '\n' ' ' </tmp/demo-skb-stats)"
sk_check "dom0: e2fsck finds the guest's filesystem clean" e2fsck -fn "$img"
rm -f "$img"
