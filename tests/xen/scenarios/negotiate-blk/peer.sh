# SPDX-License-Identifier: GPL-2.0
#
# negotiate-blk, the peer guest (domU-peer.cfg; domU.sh sources this when
# the kernel command line says sk.negpeer=1): another guest's agreement,
# which the first guest's garbage and request flood must leave alone.  It
# asks for 256..512 KiB/s of blk.bandwidth for disk 51712 (dom0's capacity
# 1024 KiB/s, a pool of its own: the first guest negotiates blk.iops),
# selects dom0's first offer (512 KiB/s), reads 2 MiB of its xvda in
# 1 MiB direct reads (indirect requests: more than 11 segments), which
# splitkit_back must hold to the limit, and sends peer-applied; once the
# first guest has played hostile, dom0 checks this agreement is as it was
# and answers peer-checked; the guest checks its own view and goes (dom0
# revokes the agreement).

peer_bw=524288	# bytes/s: dom0's capacity is 1024 KiB/s, we ask up to half

# peer_agreed: our slot 0 and dom0's keys for it say $peer_bw is applied
# for our first request and selection.
peer_agreed()
{
	slot0_applied "$peer_bw" &&
		[ "$(bekey status)" = applied ] &&
		[ "$(bekey applied)" = "$peer_bw" ] &&
		[ "$(bekey applied-gen)" = "$(xenstore-read "$fe/slot-0/select-gen")" ] &&
		[ "$(bekey offer-for)" = 1 ]
}

# peer_offered: dom0's offers stand in our slot 0, $peer_bw first.
peer_offered()
{
	slot0 | grep -q "^0 offered .* offers [0-9]*:$peer_bw[, ]"
}

sk_check "peer: load splitkit_front" sk_blk_load_front splitkit_front || return
sk_check "peer: xvda appears" sk_wait_block /dev/xvda || return
sk_check "peer: load splitkit_negotiate (frontend, every event traced)" \
	sk_insmod splitkit_negotiate offer_timeout_ms=120000 dyndbg=+p || return
sk_hs_send peer-ready
sk_hs_wait peer-device >/dev/null || return
domid=$(xenstore-read domid)
be=/local/domain/0/backend/sk-neg/$domid/0
# through the splitkit tool (its guest commands: the sysfs files)
sk_check "peer: splitkit negotiate request 0 blk.bandwidth 51712 262144 $peer_bw, once connected" \
	skt_wait 120 splitkit negotiate request 0 blk.bandwidth 51712 262144 "$peer_bw" ||
	return
sk_check "peer: dom0 offers $peer_bw first" skt_wait 120 peer_offered || {
	neg_dump "peer: no offers"
	return
}
sk_check "peer: splitkit negotiate select 0 0" splitkit negotiate select 0 0
sk_check "peer: $peer_bw applied on both sides" skt_wait 120 peer_agreed || {
	neg_dump "peer: not applied"
	return
}
sk_comment "peer: $(slot0)"
sk_check "peer: splitkit negotiate show: our slot 0, applied" \
	sh -c "splitkit negotiate show | grep -q '^0 applied blk.bandwidth 51712 262144 $peer_bw req 1 offers 1:$peer_bw,'"
sk_check "peer: splitkit negotiate show --json: its fields" \
	sh -c "splitkit negotiate show --json | grep -q '\"slot\": 0, \"state\": \"applied\", \"resource\": \"blk.bandwidth\", \"target\": 51712, \"min\": 262144, \"max\": $peer_bw'"
# Paid for by every request, indirect ones too (their length is known
# only once their segment pages are read: a review found them charged
# nothing, mended 2026-12-06).  dom0 checks splitkit_back held some.
sk_check "peer: xvda speaks indirect requests ($(cat /sys/block/xvda/device/skf_stats/indirect) segments)" \
	test "$(cat /sys/block/xvda/device/skf_stats/indirect)" -gt 11
sk_check "peer: 2 MiB of 1 MiB direct reads of xvda under the limit" \
	fio --name=bw --filename=/dev/xvda --rw=read --bs=1M --direct=1 \
	    --size=2M --ioengine=psync --minimal
sk_hs_send peer-applied "$peer_bw"
sk_hs_wait peer-checked >/dev/null || return
sk_check "peer: after the first guest's garbage and flood, $peer_bw still applied on both sides" \
	peer_agreed || neg_dump "peer: agreement touched"
sk_check "peer: no error in our slot" sh -c "! xenstore-read $be/slot-0/error"
# the first guest has limits on as many disks as dom0 lets a guest have:
# ours are our own (splitkit_back counts each guest's apart)
sk_check "peer: ask 256 KiB/s for disk 51728 (which we do not have) in slot 1" \
	splitkit negotiate request 1 blk.bandwidth 51728 262144 262144
sk_check "peer: dom0 offers it" \
	skt_wait 120 sh -c "grep -q '^1 offered .* offers [0-9]*:262144 ' $dev/slots" ||
	neg_dump "peer: no offers in slot 1"
sk_check "peer: splitkit negotiate select 1 0" splitkit negotiate select 1 0
sk_check "peer: slot 1 applied (not ENOSPC: the first guest's limits are its own)" \
	skt_wait 120 sh -c "grep -q '^1 applied .* applied 262144:' $dev/slots" || {
	sk_comment "peer: slot-1/error: $(xenstore-read "$be/slot-1/error" 2>&1)"
	neg_dump "peer: slot 1 not applied"
}
# dom0 holds the first guest until it has seen this limit in force
sk_hs_send peer-limit2
sk_hs_wait peer-done >/dev/null
