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
# The backend's counters go away with the guest's disk: the guest says
# "io-done" when its I/O is over and waits for "counters-read"
# (handshakes, common.sh) while dom0 copies them.
demo_counters()
{
	local n=0
	until xl domid demo >/dev/null 2>&1; do
		[ "$n" -lt 300 ] || return 1
		sleep 1
		n=$((n + 1))
	done
	sk_hs_wait_from demo io-done 400 >/dev/null || return 1
	for f in /sys/bus/xen-backend/devices/vbd-*/skb_stats; do
		sk_stats_dump "$f"
	done >/tmp/demo-skb-stats
	sk_hs_send_to demo counters-read
}
rm -f /tmp/demo-skb-stats
demo_counters &
snap=$!
sk_domU_run domU.cfg 400
wait "$snap"
sk_check "dom0 read splitkit_back's counters when the guest's I/O was done" \
	test -s /tmp/demo-skb-stats &&
	sk_comment "splitkit_back counters: $(tr '\n' ' ' </tmp/demo-skb-stats)"
sk_check "dom0: e2fsck finds the guest's filesystem clean" e2fsck -fn "$img"
rm -f "$img"
