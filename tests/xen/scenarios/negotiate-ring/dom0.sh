# SPDX-License-Identifier: GPL-2.0
#
# negotiate-ring (dom0 half): blk.queues and blk.ring negotiated between a
# guest and dom0 and applied while the disk is connected and busy:
# splitkit_back writes the agreed multi-queue-max-queues and
# max-ring-page-order and enters Reconfiguring, splitkit_front sets up new
# rings within them and says Reconfigured, splitkit_back drains and unmaps
# the old rings and maps the new ones (Documentation/block.rst,
# "Reconfiguring the rings").  The guest runs fio write + verify passes
# across every change (domU.sh); nothing may fail, be lost or be misplaced.
#
#   dom0: /run/negring.img -> splitkit_back ==blkif==> splitkit_front xvda
#         splitkit_negotiate: blk_queues_capacity=8
#                             blk_ring_capacity_pages=32
#
# Turns: the guest sends neg-ready; dom0 adds the sk-neg device and
# answers neg-device; the guest negotiates four shapes under I/O and sends
# neg-ring-done; dom0 checks splitkit_back's side (four reconfigurations,
# no I/O error, the keys it advertises now, the agreements it keeps, the
# the agreements revoked when the guest's module went, the offers its new
# module's request has standing) and answers neg-dom0-done.  The guest
# then goes away in the middle of that negotiation.  After xl destroyed
# its domain: dom0's end of its device removed itself, its agreements
# revoked (splitkit_back keeps none), and everything unloads.

. /lib/splitkit/blk.sh
. /lib/splitkit/negotiate.sh

img=/run/negring.img
name=negotiate-ring
dir=/sys/bus/xen-backend/devices
params=/sys/module/splitkit_negotiate/parameters
rings=/sys/module/splitkit_back/parameters/rings

# bstat KEY: splitkit_back's counter KEY of the guest's xvda.
bstat()
{
	cat "$dir/vbd-$domid-51712/skb_stats/$1"
}

neg_dump()
{
	sk_comment "dom0 dump ($1):"
	{
		cat "$dir/sk-neg-$domid-0/slots" 2>&1
		echo "splitkit_back rings:"
		cat "$rings" 2>&1
		sk_stats_dump "$dir/vbd-$domid-51712/skb_stats" 2>&1 |
			tr '\n' ' '
		echo
		xenstore-ls -f "/local/domain/0/backend/vbd/$domid" 2>&1
		dmesg | grep -E 'sk-neg|splitkit|vbd' | tail -n 60
	} | neg_comments
}


# bekey KEY: splitkit_back's XenStore key KEY of the guest's xvda.
bekey()
{
	xenstore-read "/local/domain/0/backend/vbd/$domid/51712/$1"
}

# adv_is Q O: splitkit_back advertises multi-queue-max-queues Q and
# max-ring-page-order O for the guest's xvda.
adv_is()
{
	[ "$(bekey multi-queue-max-queues)" = "$1" ] &&
		[ "$(bekey max-ring-page-order)" = "$2" ]
}

dom0_turns()
{
	local requeued n
	sk_check "the guest exists" \
		skt_wait "$(sk_guard 600)" sh -c "xl domid $name >/dev/null 2>&1" || return 1
	neg_turn neg-ready >/dev/null || return 1
	domid=$(xl domid "$name") || return 1
	echo "$domid" >/tmp/neg-domid
	sk_check "add the sk-neg device for domain $domid" \
		skt_xs_add_device sk-neg "$domid" || return 1
	sk_hs_send_to "$name" neg-device

	requeued=$(neg_turn neg-ring-done) || return 1
	sk_comment "dom0: $(cat "$dir/sk-neg-$domid-0/slots" | tr '\n' ' ')"
	sk_comment "dom0: splitkit_back rings: $(cat "$rings" | tr '\n' ' ')"
	n=$(bstat reconfigured)
	sk_comment "dom0: xvda reconfigured $n times"
	sk_check "dom0: splitkit_back reconfigured xvda 6 to 8 times (two agreements together, then two revokes, in one or two each)" \
		test "$n" -ge 6 -a "$n" -le 8 || neg_dump "reconfigured"
	sk_check "dom0: and logged each" \
		test "$(dmesg | grep -c "vbd-$domid-51712: reconfiguring: at most")" = "$n"
	sk_check "dom0: no I/O error, no refused request" \
		sh -c "test \"\$(cat $dir/vbd-$domid-51712/skb_stats/io_errors)\" = 0 &&
		       test \"\$(cat $dir/vbd-$domid-51712/skb_stats/refused)\" = 0"
	sk_comment "dom0: requests left to the frontend at a reconfiguration: $(bstat left_to_frontend), the guest requeued $requeued"
	sk_check "dom0: the guest requeued at least what we left to it" \
		test "$requeued" -ge "$(bstat left_to_frontend)"
	sk_check "dom0: the guest's module went: its agreements revoked, none kept" \
		sh -c "! grep -q '^$domid ' $rings"
	sk_check "dom0: advertises its own limits again: multi-queue-max-queues 4, max-ring-page-order 4" \
		adv_is 4 4
	sk_check "dom0: the disk is connected" test "$(bstat connected)" = 1
	sk_check "dom0: the new module's slot 0 offers stand as the guest goes (request 1)" \
		grep -q '^0 offered blk.queues 51712 1 2 req 1 ' "$dir/sk-neg-$domid-0/slots"
	sk_check "dom0: the old module's slots 1 and 2 idle" \
		sh -c "grep -q '^1 idle ' $dir/sk-neg-$domid-0/slots &&
		       grep -q '^2 idle ' $dir/sk-neg-$domid-0/slots"
	sk_check "dom0: no oops, warning or hung task" sk_blk_dmesg_clean
	sk_hs_send_to "$name" neg-dom0-done
}

sk_check "load splitkit_back" sk_blk_load_back || return
sk_check "load splitkit_negotiate (every event traced; capacity 8 queues, 32 ring pages)" \
	sk_insmod splitkit_negotiate offer_timeout_ms=120000 dyndbg=+p \
		blk_queues_capacity=8 blk_ring_capacity_pages=32 || return
sk_check "dom0 offers from the capacities it was given" \
	sh -c "test \"\$(cat $params/blk_queues_capacity)\" = 8 &&
	       test \"\$(cat $params/blk_ring_capacity_pages)\" = 32"
rm -f "$img"
dd if=/dev/zero of="$img" bs=1M count=32 2>/dev/null
domid=""
rm -f /tmp/neg-domid
dom0_turns &
turns=$!
sk_domU_run domU.cfg "$(sk_guard 1200)"
wait $turns
if neg_gone "the guest's domain destroyed: dom0's end of its device removed itself"; then
	sk_check "the guest's end gone: splitkit_back keeps no ring agreement" \
		skt_wait 60 sh -c "! grep -q '^$domid ' $rings" ||
		neg_dump "agreements kept"
else
	sk_check "the guest had a negotiate device" false
fi
sk_check "negotiate backend device gone" \
	skt_wait 60 sh -c "! ls $dir | grep -q sk-neg"
sk_check "rmmod splitkit_negotiate" rmmod splitkit_negotiate
sk_check "rmmod splitkit_back" rmmod splitkit_back
sk_check "dmesg: no oops, warning or hung task" sk_blk_dmesg_clean
rm -f "$img"
