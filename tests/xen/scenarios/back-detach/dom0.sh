# SPDX-License-Identifier: GPL-2.0
#
# back-detach (dom0 half): teardown with requests in flight leaks nothing.
#
#   dom0: /run/bdt-{a,b}.img <- splitkit_back ==2 x blkif== splitkit_front :domU
#
# The domU runs random O_DIRECT writes on both disks.  dom0 detaches xvda
# (xl block-detach) in the middle of them, checks its backend device went
# away while xvdb carries on, then destroys the domain with xvdb busy.
# Afterwards no backend device, grant mapping or module reference is left
# (/sys/module/splitkit_back/refcnt is 0) and rmmod succeeds.  With the
# test build's hand-over probe (test_drain_delay_ms) no disconnect may
# return while the last answer is still waking it (issue 16, fault 3).

. /lib/splitkit/blk.sh

name=back-detach

sk_check "load splitkit_back (xen-blkback not loaded)" sk_blk_load_back ||
	return
# The hand-over probe of test builds (backend/req.c): the last answer
# before a disconnect waits 20 ms between the count's fall to zero and its
# wake-up, so a detach under I/O lands in that window if it exists.
sk_check "probe of the last answer's hand-over set (test_drain_delay_ms=20)" \
	sh -c 'echo 20 >/sys/module/splitkit_back/parameters/test_drain_delay_ms'
rm -f /run/bdt-a.img /run/bdt-b.img
truncate -s 64M /run/bdt-a.img /run/bdt-b.img
rm -f "/var/log/xen/console/guest-$name.log"
sk_check "xl create domU.cfg" xl create domU.cfg || return
domid=$(xl domid "$name")
# Handshakes instead of sleeps: the guest says "io-running" once both
# disks moved data, and its I/O never ends on its own; before each
# teardown dom0 waits until the backend has served more requests on that
# disk, so the teardown lands in flowing I/O however fast the machine is.
sk_check "domU has I/O running on both disks" \
	sk_hs_wait_from "$name" io-running 300
sk_check "xvda: the backend is serving requests" \
	sk_blk_progress "$domid" 51712
sk_comment "xvda before detach: $(sk_blk_stats "$domid" 51712 2>/dev/null | tr '\n' ' ')"
# blkfront keeps an open disk until it is released; xl gives up waiting
# after its timeout and removes the backend itself, which is the case
# that matters here: the backend goes with requests in flight.
timeout 60 xl block-detach "$name" xvda >/tmp/bdt-detach.log 2>&1
sk_comment "xl block-detach: rc $?, $(tr '\n' ' ' </tmp/bdt-detach.log)"
sk_check "xvda's backend device torn down under I/O" \
	sk_blk_no_vbd 60 "$domid-51712"
sk_check "xvdb still connected" \
	test "$(sk_blk_back_stat "$domid" 51728 connected)" = 1
sk_check "xvdb: the backend serves requests after xvda's detach" \
	sk_blk_progress "$domid" 51728
sk_comment "xvdb before destroy: $(sk_blk_stats "$domid" 51728 2>/dev/null | tr '\n' ' ')"
sk_check "domU kernel survived losing xvda under I/O (no BUG/Oops)" \
	sh -c "xl domid $name >/dev/null &&
	       ! grep -q -E 'BUG:|Oops|general protection' \
		 /var/log/xen/console/guest-$name.log"
sk_check "xl destroy with I/O in flight on xvdb" xl destroy "$name"
sk_check "domU gone" sk_blk_gone "$name" 30
sk_blk_relay "$name"
sk_check "every backend device torn down" sk_blk_no_vbd 30
sk_check "splitkit_back holds no references" \
	test "$(cat /sys/module/splitkit_back/refcnt)" = 0
sk_check "no disconnect returned while the last answer still woke it" \
	sh -c '! dmesg | grep "use-after-free window"'
sk_check "rmmod splitkit_back" rmmod splitkit_back
sk_blk_dmesg_dump
sk_check "dmesg: no oops, warning or hung task" sk_blk_dmesg_clean
rm -f /run/bdt-a.img /run/bdt-b.img
