# SPDX-License-Identifier: GPL-2.0
#
# negotiate-blk (dom0 half): blk.iops negotiated between a guest and dom0
# and enforced by splitkit_back, measured in the guest with fio; dom0
# lowers its capacity and the guest renegotiates; a hostile guest's
# garbage and request flood leave dom0 and the agreement healthy.
#
#   dom0: /run/neg.img -> splitkit_back ==blkif==> splitkit_front  xvda
#         splitkit_negotiate (backend) <==XenStore==> splitkit_negotiate
#         blk_iops_capacity=300            sk-neg/0  (frontend)
#
# Turns (handshakes, common.sh sk_hs_*): the guest sends neg-ready once its
# modules are in; dom0 adds the device's XenStore nodes and answers
# neg-device; the guest negotiates 50 IOPS and measures them, then sends
# neg-applied; dom0 checks its own view, lowers the capacity to 30 and
# answers neg-lowered; the guest selects from the new offers, measures,
# plays hostile and sends neg-hostile-done; dom0 checks it stayed healthy
# and answers neg-dom0-done.  After the guest is gone dom0 checks every
# agreement was revoked and unloads.

. /lib/splitkit/blk.sh

img=/run/neg.img
name=negotiate-blk
dir=/sys/bus/xen-backend/devices

# slot0: dom0's line for slot 0 of the guest's device.
slot0()
{
	grep '^0 ' "$dir/sk-neg-$domid-0/slots"
}

negstat()
{
	sed -n "s/^$1 //p" "$dir/sk-neg-$domid-0/negotiate_stats"
}

dom0_turns()
{
	# the domain exists once xl create (in the foreground) has made it;
	# sk_hs_wait_from fails at once for a domain that does not exist
	sk_check "the guest exists" \
		skt_wait 600 sh -c "xl domid $name >/dev/null 2>&1" || return 1
	sk_check "the guest's modules are in (neg-ready)" \
		sk_hs_wait_from "$name" neg-ready || return 1
	domid=$(xl domid "$name") || return 1
	sk_check "add the sk-neg device for domain $domid" \
		skt_xs_add_device sk-neg "$domid" || return 1
	sk_hs_send_to "$name" neg-device
	sk_check "the guest measured its agreement (neg-applied)" \
		sk_hs_wait_from "$name" neg-applied || return 1
	sk_comment "dom0: $(slot0)"
	sk_check "dom0: slot 0 applied 50 IOPS" \
		sh -c "grep '^0 applied ' $dir/sk-neg-$domid-0/slots | grep -q 'applied 50:'"
	sk_check "lower blk_iops_capacity to 30" \
		sh -c 'echo 30 >/sys/module/splitkit_negotiate/parameters/blk_iops_capacity'
	sk_hs_send_to "$name" neg-lowered
	sk_check "the guest played hostile (neg-hostile-done)" \
		sk_hs_wait_from "$name" neg-hostile-done || return 1
	sk_comment "dom0: $(slot0)"
	sk_comment "dom0: $(tr '\n' ' ' <"$dir/sk-neg-$domid-0/negotiate_stats")"
	sk_check "dom0: slot 0 still applied 30 after the hostile guest" \
		sh -c "grep '^0 applied ' $dir/sk-neg-$domid-0/slots | grep -q 'applied 30:'"
	sk_check "dom0: bad messages counted" test "$(negstat bad)" -gt 0
	# how many reads the flood cost depends on the guest's speed (the
	# watch coalesces, the bucket defers): reported, not asserted
	sk_comment "dom0: flood reads deferred by the rate limit: $(negstat rate_limited)"
	sk_check "dom0: logged a malicious or buggy frontend" \
		sh -c 'dmesg | grep -q "sk-neg.*malicious or buggy frontend"'
	sk_check "dom0: no oops, warning or hung task" sk_blk_dmesg_clean
	sk_hs_send_to "$name" neg-dom0-done
}

sk_check "load splitkit_back" sk_blk_load_back || return
sk_check "load splitkit_negotiate blk_iops_capacity=300" \
	sk_insmod splitkit_negotiate blk_iops_capacity=300 || return
rm -f "$img"
dd if=/dev/zero of="$img" bs=1M count=64 2>/dev/null
domid=""
dom0_turns &
turns=$!
sk_domU_run domU.cfg 900
wait $turns
domid=$(xenstore-list /local/domain/0/backend/sk-neg 2>/dev/null |
	head -n 1)
if [ -n "$domid" ]; then
	sk_check "the guest's end gone: slot 0 idle (agreement revoked)" \
		skt_wait 60 sh -c "grep -q '^0 idle ' $dir/sk-neg-$domid-0/slots"
	xenstore-rm "/local/domain/0/backend/sk-neg/$domid"
fi
sk_check "negotiate backend device gone" \
	skt_wait 60 sh -c "! ls $dir | grep -q sk-neg"
sk_check "rmmod splitkit_negotiate" rmmod splitkit_negotiate
sk_check "rmmod splitkit_back" rmmod splitkit_back
sk_check "dmesg: no oops, warning or hung task" sk_blk_dmesg_clean
rm -f "$img"
