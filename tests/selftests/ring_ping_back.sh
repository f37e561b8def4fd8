#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Ring ping, dom0 half: splitkit_ping_back serving a guest's
# splitkit_ping_front (ring_ping_front.sh, run in that guest) through
# splitkit_ring.  The counterpart checks are in ring_ping_front.sh.
#
#   dom0: splitkit_ping_back <==ring + event channel (per queue)==> domU
#         (this test writes the XenStore nodes of device "splitkit-ping":
#         xl has no notion of this test-only device type)
#
# It waits for the guest named by SPLITKIT_PING_DOMU to exist, adds the
# device (and says device-added through lib/handshake.sh), checks the
# backend's view of connection 1 once the guest says conn1-done (then
# answers conn1-seen), tears its own device
# down in the middle of connection 3 and brings it back, checks the
# connection after that, then waits for the guest to finish (frontend
# disconnected, or domain gone), removes the device and unloads.
#
# Environment: SPLITKIT_PING_DOMU (guest name; unset: skip),
# SPLITKIT_PING_WAIT (seconds to wait for that guest, default 600),
# SPLITKIT_PING_COUNT / SPLITKIT_PING_COUNT2 (same on both sides),
# SPLITKIT_KO_DIR (built modules; else modprobe).

cd "$(dirname "$0")" || exit 1
. ./lib/ktap.sh
. ./lib/ping.sh
. ./lib/handshake.sh

skt_need_dom0
[ -n "${SPLITKIT_PING_DOMU:-}" ] ||
	skt_skip_all "SPLITKIT_PING_DOMU (the guest running ring_ping_front.sh) not set"
skt_need_cmds xl xenstore-read xenstore-write xenstore-exists xenstore-chmod xenstore-rm xenstore-list
skt_need_modules splitkit_ring splitkit_ping_back

domu=$SPLITKIT_PING_DOMU
be_dir=/sys/bus/xen-backend/drivers/splitkit-ping
ring_preloaded=0
skt_loaded splitkit_ring && ring_preloaded=1
domid=""
dev=""
stats=""

skt_plan 17

domU_alive()
{
	[ "$(xl domid "$domu" 2>/dev/null)" = "$domid" ]
}

domU_appeared()
{
	domid=$(xl domid "$domu" 2>/dev/null)
	[ -n "$domid" ]
}

# be_requests N: the current (or last) connection checked N requests.
be_requests()
{
	[ "$(rp_stat "$stats" requests)" -ge "$1" ] 2>/dev/null
}

be_clean()
{
	[ "$(rp_stat "$stats" errors)" = 0 ] &&
		[ "$(rp_stat "$stats" peer_errors)" = 0 ]
}

be_progress()
{
	skt_comment "backend $(date +%s): $(rp_dump "$stats" | tr '\n' ' ')"
	rp_diag "/sys/kernel/debug/splitkit_ring/$dev" sk-pingb-q
}

# be_third: the backend's third connection is up and carries traffic, and
# the guest has lowered its count for connection 4 ("count-lowered").
be_third()
{
	[ "$(rp_stat "$stats" connects)" -ge 3 ] 2>/dev/null &&
		[ "$(rp_stat "$stats" connected)" = 1 ] &&
		be_requests "$RP_MIDWAY" &&
		skt_hs_got_from "$domu" count-lowered
}

conn1_done()
{
	skt_hs_got_from "$domu" conn1-done
}

conn1_exact()
{
	[ "$(rp_stat "$stats" connects)" = 1 ] &&
		[ "$(rp_stat "$stats" requests)" = $((2 * RP_COUNT)) ]
}

# front_done: the guest's last connection ended (its final unbind) or the
# guest is gone.
front_done()
{
	! domU_alive || [ "$(rp_stat "$stats" connected)" = 0 ]
}

no_backend_device()
{
	! ls /sys/bus/xen-backend/devices/ 2>/dev/null | grep -q splitkit-ping
}

# traffic: the checks while the guest runs; returns at the first one the
# rest depend on.
traffic()
{
	local r ev nt

	skt_check "guest $domu appeared" \
		skt_wait "${SPLITKIT_PING_WAIT:-600}" domU_appeared || return
	domU_appeared || return		# skt_check ran it in a subshell
	SKT_ALIVE=domU_alive
	dev=splitkit-ping-$domid-0
	stats=/sys/bus/xen-backend/devices/$dev/ping_stats
	skt_check "add the splitkit-ping device to XenStore" \
		skt_xs_add_device splitkit-ping "$domid" || return
	skt_hs_send_to "$domu" device-added
	SKT_PROGRESS=be_progress

	# connection 1: the full run; its counters are read before the guest
	# starts connection 2
	skt_check "guest: connection 1 finished" skt_wait 500 conn1_done
	skt_check "backend: connection 1 checked exactly 2 x $RP_COUNT requests" \
		conn1_exact
	skt_comment "backend: $(rp_dump "$stats" | tr '\n' ' ')"
	r=$(rp_stat "$stats" requests)
	ev=$(rp_stat "$stats" events_in)
	nt=$(rp_stat "$stats" notify_out)
	skt_comment "backend: $(( (ev + nt) * 1000 / (r ? r : 1) )) events per 1000 messages on connection 1"
	skt_check "backend: no bad request, no peer error" be_clean
	skt_hs_send_to "$domu" conn1-seen

	# connection 3 (the backend's third): tear it down mid-traffic, once
	# the guest has seen its traffic and lowered its count for
	# connection 4 ("count-lowered").
	skt_check "backend: connection 3 carries traffic" \
		skt_wait 300 be_third || return
	skt_check "backend teardown in mid-traffic (unbind)" \
		skt_write_timeout 60 "$dev" "$be_dir/unbind"
	skt_check "backend: no ring IRQ left after teardown" \
		skt_no_irqs sk-pingb-q
	skt_check "backend: rebind" skt_write_timeout 60 "$dev" "$be_dir/bind"
	skt_check "backend: connection after rebind checked 2 x $RP_COUNT2" \
		skt_wait 300 be_requests $((2 * RP_COUNT2))
	skt_check "backend: no bad request after rebind" be_clean
}

main()
{
	local d

	skt_check "load splitkit_ping_back" skt_load splitkit_ping_back || return
	traffic
	SKT_ALIVE=""
	SKT_PROGRESS=""
	if [ -n "$stats" ]; then
		skt_check "guest finished (frontend disconnected or guest gone)" \
			skt_wait 600 front_done
	else
		skt_fail "guest finished (frontend disconnected or guest gone)"
	fi
	# Remove the device: the backend goes with it (and the guest's
	# frontend device, if the guest still runs).
	for d in $(xenstore-list /local/domain/0/backend/splitkit-ping 2>/dev/null); do
		xenstore-rm "/local/domain/0/backend/splitkit-ping/$d"
		xenstore-rm "/local/domain/$d/device/splitkit-ping" 2>/dev/null
	done
	skt_check "backend devices removed" skt_wait 30 no_backend_device
	skt_check "backend: no ring IRQ left" skt_no_irqs sk-pingb-q
	skt_check "splitkit_ping_back unloads" skt_unload splitkit_ping_back
	if [ "$ring_preloaded" -eq 1 ]; then
		skt_skip "splitkit_ring unloads (no user left)" \
			"it was loaded before this test"
	else
		skt_check "splitkit_ring unloads (no user left)" \
			skt_unload splitkit_ring
	fi
}

main
skt_finish
