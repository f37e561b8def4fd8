# SPDX-License-Identifier: GPL-2.0
#
# ring-ping (dom0 half): splitkit_ping_back serving the domU's
# splitkit_ping_front through splitkit_ring.  See domU.sh for the traffic.
#
#   dom0: splitkit_ping_back <==ring + event channel (per queue)==> domU
#         (XenStore nodes of device "splitkit-ping" written here: xl has
#         no notion of this test-only device type)
#
# In the background, dom0 adds the device once the domU exists, reports the
# backend's view of connection 1 (events per message), and tears its own
# device down in the middle of connection 3, then brings it back.

. ./ping.sh

be_dir=/sys/bus/xen-backend/drivers/splitkit-ping

# add_device DOMID: the XenStore nodes the toolstack would write.
add_device()
{
	local domid=$1
	local fe=/local/domain/$domid/device/splitkit-ping/0
	local be=/local/domain/0/backend/splitkit-ping/$domid/0

	xenstore-write "$be/frontend" "$fe" "$be/frontend-id" "$domid" \
		"$be/online" 1 "$be/state" 1 &&
	xenstore-write "$fe/backend" "$be" "$fe/backend-id" 0 \
		"$fe/state" 1 &&
	xenstore-chmod -r "$be" n0 r"$domid" &&
	xenstore-chmod -r "$fe" n"$domid" r0
}

# be_requests STATS N: the current (or last) connection checked N requests.
be_requests()
{
	[ "$(rp_stat "$1" requests)" -ge "$2" ] 2>/dev/null
}

domU_alive()
{
	xl domid ring-ping >/dev/null 2>&1
}

# The background part: results are printed as they come; it gives up as
# soon as the domU is gone.
driver()
{
	RP_ALIVE=domU_alive
	local domid="" n=0 stats dev
	while [ -z "$domid" ] && [ "$n" -lt 600 ]; do
		domid=$(xl domid ring-ping 2>/dev/null)
		[ -n "$domid" ] || sleep 0.2
		n=$((n + 1))
	done
	[ -n "$domid" ] || { sk_fail "domU ring-ping appeared"; return; }
	sk_check "add the splitkit-ping device to XenStore" \
		add_device "$domid" || return
	sk_hs_send_to ring-ping device-added
	dev=splitkit-ping-$domid-0
	stats=/sys/bus/xen-backend/devices/$dev/ping_stats
	be_progress()
	{
		sk_comment "backend $(date +%s): $(tr '\n' ' ' <"$stats" 2>/dev/null)"
		rp_diag /sys/kernel/debug/splitkit_ring/$dev sk-pingb-q
	}
	RP_PROGRESS=be_progress

	# connection 1: the full run.  The counters describe the current
	# connection, so the domU waits for "conn1-seen" before it starts
	# connection 2 (handshakes: common.sh).
	conn1_done()
	{
		sk_hs_got_from ring-ping conn1-done
	}
	sk_check "domU: connection 1 finished" rp_wait 500 conn1_done
	sk_check "backend: connection 1 checked 2 x $RP_COUNT requests" \
		sh -c "grep -q '^connects 1$' $stats &&
		       grep -q '^requests $((2 * RP_COUNT))$' $stats"
	sk_comment "backend: $(tr '\n' ' ' <"$stats")"
	local r ev nt
	r=$(rp_stat "$stats" requests)
	ev=$(rp_stat "$stats" events_in)
	nt=$(rp_stat "$stats" notify_out)
	sk_comment "backend: $(( (ev + nt) * 1000 / (r ? r : 1) )) events per 1000 messages on connection 1"
	sk_check "backend: no bad request, no peer error" \
		sh -c "grep -q '^errors 0$' $stats && grep -q '^peer_errors 0$' $stats"
	sk_hs_send_to ring-ping conn1-seen

	# connection 3 (the backend's third): tear it down mid-traffic, once
	# the domU has seen its traffic and lowered "count" for connection 4
	# ("count-lowered")
	be_third()
	{
		[ "$(rp_stat "$stats" connects)" -ge 3 ] 2>/dev/null &&
			[ "$(rp_stat "$stats" connected)" = 1 ] &&
			be_requests "$stats" "$RP_MIDWAY" &&
			sk_hs_got_from ring-ping count-lowered
	}
	sk_check "backend: connection 3 carries traffic" rp_wait 300 be_third ||
		return
	sk_check "backend teardown in mid-traffic (unbind)" \
		rp_write_timeout 60 "$dev" "$be_dir/unbind"
	sk_check "backend: no ring IRQ left after teardown" rp_no_irqs sk-pingb-q
	sk_check "backend: rebind" rp_write_timeout 60 "$dev" "$be_dir/bind"
	sk_check "backend: connection after rebind checked 2 x $RP_COUNT2" \
		rp_wait 300 be_requests "$stats" $((2 * RP_COUNT2))
	sk_check "backend: no bad request after rebind" \
		sh -c "grep -q '^errors 0$' $stats && grep -q '^peer_errors 0$' $stats"
}

sk_check "load splitkit_ping_back" sk_modprobe splitkit_ping_back || return
driver &
bg=$!
sk_domU_run domU.cfg 560
wait $bg
# The domain is gone: remove the device, the backend goes with it.
domid_dirs=$(xenstore-list /local/domain/0/backend/splitkit-ping 2>/dev/null)
for d in $domid_dirs; do
	xenstore-rm "/local/domain/0/backend/splitkit-ping/$d"
done
sk_check "backend devices removed" rp_wait 30 sh -c \
	"! ls /sys/bus/xen-backend/devices/ 2>/dev/null | grep -q splitkit-ping"
sk_check "backend: no ring IRQ left" rp_no_irqs sk-pingb-q
sk_check "splitkit_ping_back unloads" rmmod splitkit_ping_back
sk_check "splitkit_ring unloads (no user left)" rmmod splitkit_ring
