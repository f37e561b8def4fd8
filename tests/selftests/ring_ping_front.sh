#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Ring ping, guest half: splitkit_ping_front against dom0's
# splitkit_ping_back (ring_ping_back.sh, run in dom0 at the same time),
# both on splitkit_ring.
#
#   domU: sender thread per queue --req--> [2 rings x 2^order pages] --> dom0
#         order/content check <----rsp---- [event channel per ring]  <-- echo
#
# The two halves sequence each other by XenStore handshakes
# (lib/handshake.sh): dom0 says device-added; this side says conn1-done
# and waits for conn1-seen (the backend's counters describe the current
# connection); this side says count-lowered before dom0 tears connection 3
# down, so connection 4 carries exactly RP_COUNT2.
#
# Connection 1: RP_COUNT pings per queue, all checked both ways.
# Connection 2: endless traffic, torn down from the frontend (unbind).
# Connection 3: endless traffic, torn down from the backend (dom0 unbinds
#               its device); connection 4 (after dom0 rebinds) carries
#               RP_COUNT2 pings per queue, all checked.
# At the end the drivers and splitkit_ring unload with no IRQ left behind.
#
# Environment: SPLITKIT_PING=1 runs it (else it runs only when dom0 has
# already given this guest a splitkit-ping device), SPLITKIT_PING_COUNT /
# SPLITKIT_PING_COUNT2 (same on both sides), SPLITKIT_KO_DIR.

cd "$(dirname "$0")" || exit 1
. ./lib/ktap.sh
. ./lib/ping.sh
. ./lib/handshake.sh

dev=splitkit-ping-0
stats=/sys/bus/xen/devices/$dev/ping_stats
drv=/sys/bus/xen/drivers/splitkit-ping
param=/sys/module/splitkit_ping_front/parameters/count

skt_need_domU
if [ "${SPLITKIT_PING:-}" != 1 ] && [ ! -e "/sys/bus/xen/devices/$dev" ]; then
	skt_skip_all "no splitkit-ping device (run ring_ping_back.sh in dom0 with SPLITKIT_PING_DOMU set to this guest, and SPLITKIT_PING=1 here)"
fi
skt_need_modules splitkit_ring splitkit_ping_front
skt_need_cmds xenstore-read xenstore-write

skt_plan 25

connected()
{
	[ "$(rp_stat "$stats" connected)" = 1 ] &&
		[ "$(rp_stat "$stats" target)" != 0 ]
}

# received N: at least N pongs checked (or an error, to stop waiting).
received()
{
	[ "$(rp_stat "$stats" received)" -ge "$1" ] 2>/dev/null ||
		[ "$(rp_stat "$stats" errors)" != 0 ] 2>/dev/null
}

no_errors()
{
	rp_dump "$stats"
	[ "$(rp_stat "$stats" errors)" = 0 ]
}

all_received()
{
	[ "$(rp_stat "$stats" received)" = "$1" ] &&
		[ "$(rp_stat "$stats" sent)" = "$1" ]
}

events_per_msg()
{
	local r ev nt
	r=$(rp_stat "$stats" received)
	ev=$(rp_stat "$stats" events_in)
	nt=$(rp_stat "$stats" notify_out)
	skt_comment "frontend: $r pongs, $ev events in, $nt events out, $(( (ev + nt) * 1000 / (r ? r : 1) )) events per 1000 messages, $(rp_stat "$stats" poll_hits) poll hits"
}

progress()
{
	skt_comment "$(date +%s): $(rp_dump "$stats" | tr '\n' ' ')"
	rp_diag "/sys/kernel/debug/splitkit_ring/$dev" sk-ping-q
}

# Give up a wait when no pong arrived for 90 s: traffic has stalled.
rp_last=x
rp_last_t=0
not_stalled()
{
	local now r
	now=$(date +%s)
	r=$(rp_stat "$stats" received)
	if [ "$r" != "$rp_last" ]; then
		rp_last=$r
		rp_last_t=$now
		return 0
	fi
	if [ $((now - rp_last_t)) -ge 90 ]; then
		progress
		return 1
	fi
}

# runs counts teardowns seen by this binding: the backend's is the first
backend_cycled()
{
	[ "$(rp_stat "$stats" runs)" -ge 1 ] 2>/dev/null && connected &&
		received $((2 * RP_COUNT2))
}

main()
{
	skt_check "load splitkit_ring" skt_load splitkit_ring || return
	skt_check "load splitkit_ping_front (count=$RP_COUNT order=$RP_ORDER batch=$RP_BATCH)" \
		skt_load splitkit_ping_front count=$RP_COUNT \
			order=$RP_ORDER batch=$RP_BATCH || return
	SKT_PROGRESS=progress
	SKT_ALIVE=not_stalled

	# --- connection 1: full run ----------------------------------
	skt_check "dom0 added the splitkit-ping device" \
		skt_hs_wait device-added 500 || return
	skt_check "frontend connected to the backend" \
		skt_wait 120 connected || return
	skt_comment "$(rp_dump "$stats" | tr '\n' ' ')"
	skt_check "2 x $RP_COUNT pongs back" \
		skt_wait 400 received $((2 * RP_COUNT))
	skt_check "every ping and pong in order with the right content" \
		no_errors
	skt_check "sent and received match" all_received $((2 * RP_COUNT))
	events_per_msg
	dmesg | grep -i 'splitkit\|ping' | tail -n 8 | while IFS= read -r l; do
		skt_comment "$l"
	done
	# dom0 reads the backend's counters of connection 1 before they reset
	skt_hs_send conn1-done
	skt_check "dom0 has read connection 1's counters" \
		skt_hs_wait conn1-seen 300

	# --- connection 2: torn down from the frontend in mid-traffic --
	echo $RP_FOREVER >"$param"
	skt_check "unbind after the run" \
		skt_write_timeout 60 $dev "$drv/unbind"
	skt_check "no ring IRQ left after unbind" skt_no_irqs sk-ping-q
	skt_check "rebind the frontend" skt_write_timeout 60 $dev "$drv/bind"
	skt_check "reconnected (connection 2)" skt_wait 120 connected
	skt_check "traffic flows on connection 2" \
		skt_wait 120 received $RP_MIDWAY
	skt_check "frontend teardown in mid-traffic (unbind)" \
		skt_write_timeout 60 $dev "$drv/unbind"
	skt_check "no ring IRQ left after teardown" skt_no_irqs sk-ping-q

	# --- connection 3: torn down by the backend; connection 4 checked
	skt_check "rebind the frontend again" \
		skt_write_timeout 60 $dev "$drv/bind"
	skt_check "reconnected (connection 3)" skt_wait 120 connected
	# count is read when a connection starts: connection 3 runs until
	# dom0 tears it down, connection 4 gets RP_COUNT2.  dom0 tears
	# connection 3 down only after "count-lowered", sent once this side
	# has seen its traffic (so what is checked here is connection 3's).
	echo $RP_COUNT2 >"$param"
	skt_check "traffic flows on connection 3" \
		skt_wait 120 received $RP_MIDWAY
	skt_hs_send count-lowered
	skt_comment "waiting for dom0 to tear the backend down and bring it back"
	skt_check "frontend survived backend teardown and reconnected" \
		skt_wait 300 backend_cycled
	skt_check "connection 4: every ping and pong checked" no_errors
	skt_check "connection 4: exactly 2 x $RP_COUNT2 pings sent and pongs back" \
		all_received $((2 * RP_COUNT2))

	# --- clean unload --------------------------------------------
	SKT_ALIVE=""
	skt_check "final unbind" skt_write_timeout 60 $dev "$drv/unbind"
	skt_check "no ring IRQ left" skt_no_irqs sk-ping-q
	skt_check "splitkit_ping_front unloads" skt_unload splitkit_ping_front
	skt_check "splitkit_ring unloads (no user left)" \
		skt_unload splitkit_ring
}

main
skt_finish
