# SPDX-License-Identifier: GPL-2.0
#
# ring-ping (domU half): splitkit_ping_front against dom0's
# splitkit_ping_back, both on splitkit_ring.
#
#   domU: sender thread per queue --req--> [2 rings x 2^order pages] --> dom0
#         order/content check <----rsp---- [event channel per ring]  <-- echo
#
# Connection 1: RP_COUNT pings per queue, all checked both ways.
# Connection 2: endless traffic, torn down from the frontend (unbind).
# Connection 3: endless traffic, torn down from the backend (dom0 unbinds
#               its device); connection 4 (after dom0 rebinds) carries
#               RP_COUNT2 pings per queue, all checked.
# At the end the drivers and splitkit_ring unload with no IRQ left behind.

. ./ping.sh

dev=splitkit-ping-0
stats=/sys/bus/xen/devices/$dev/ping_stats
drv=/sys/bus/xen/drivers/splitkit-ping
param=/sys/module/splitkit_ping_front/parameters/count

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
	cat "$stats"
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
	sk_comment "frontend: $r pongs, $ev events in, $nt events out, $(( (ev + nt) * 1000 / (r ? r : 1) )) events per 1000 messages, $(rp_stat "$stats" poll_hits) poll hits"
}

progress()
{
	sk_comment "$(date +%s): $(tr '\n' ' ' <"$stats" 2>/dev/null)"
	rp_diag /sys/kernel/debug/splitkit_ring/$dev sk-ping-q
}
RP_PROGRESS=progress

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
RP_ALIVE=not_stalled

sk_check "load splitkit_ring" sk_modprobe splitkit_ring || return
sk_check "load splitkit_ping_front (count=$RP_COUNT order=$RP_ORDER batch=$RP_BATCH)" \
	insmod /lib/modules/splitkit_ping_front.ko count=$RP_COUNT \
		order=$RP_ORDER batch=$RP_BATCH || return

# --- connection 1: full run ------------------------------------------
# dom0 adds the device once this domain exists (handshakes: common.sh)
sk_check "dom0 added the splitkit-ping device" \
	sk_hs_wait device-added 500 || return
sk_check "frontend connected to the backend" rp_wait 120 connected || return
sk_comment "$(grep -h . /sys/bus/xen/devices/$dev/ping_stats | tr '\n' ' ')"
sk_check "2 x $RP_COUNT pongs back" \
	rp_wait 400 received $((2 * RP_COUNT))
sk_check "every ping and pong in order with the right content" no_errors
sk_check "sent and received match" all_received $((2 * RP_COUNT))
events_per_msg
dmesg | grep -i 'splitkit\|ping' | tail -n 8 | while IFS= read -r l; do
	sk_comment "$l"
done
# dom0 reads the backend's counters of connection 1 before they reset
sk_hs_send conn1-done
sk_check "dom0 has read connection 1's counters" sk_hs_wait conn1-seen 300

# --- connection 2: torn down from the frontend in mid-traffic --------
echo $RP_FOREVER >"$param"
sk_check "unbind after the run" rp_write_timeout 60 $dev "$drv/unbind"
sk_check "no ring IRQ left after unbind" rp_no_irqs sk-ping-q
sk_check "rebind the frontend" rp_write_timeout 60 $dev "$drv/bind"
sk_check "reconnected (connection 2)" rp_wait 120 connected
sk_check "traffic flows on connection 2" rp_wait 120 received $RP_MIDWAY
sk_check "frontend teardown in mid-traffic (unbind)" \
	rp_write_timeout 60 $dev "$drv/unbind"
sk_check "no ring IRQ left after teardown" rp_no_irqs sk-ping-q

# --- connection 3: torn down by the backend; connection 4 checked ----
sk_check "rebind the frontend again" rp_write_timeout 60 $dev "$drv/bind"
sk_check "reconnected (connection 3)" rp_wait 120 connected
# count is read when a connection starts: connection 3 runs until dom0
# tears it down, connection 4 gets RP_COUNT2.  dom0 tears connection 3
# down only after "count-lowered", sent once this side has seen its
# traffic (so what is checked here is connection 3's).
echo $RP_COUNT2 >"$param"
sk_check "traffic flows on connection 3" rp_wait 120 received $RP_MIDWAY
sk_hs_send count-lowered
sk_comment "waiting for dom0 to tear the backend down and bring it back"
# runs counts teardowns seen by this binding: the backend's is the first
backend_cycled()
{
	[ "$(rp_stat "$stats" runs)" -ge 1 ] 2>/dev/null && connected &&
		received $((2 * RP_COUNT2))
}
sk_check "frontend survived backend teardown and reconnected" \
	rp_wait 300 backend_cycled
sk_check "connection 4: every ping and pong checked" no_errors
sk_check "connection 4: exactly 2 x $RP_COUNT2 pings sent and pongs back" \
	all_received $((2 * RP_COUNT2))

# --- clean unload ----------------------------------------------------
sk_check "final unbind" rp_write_timeout 60 $dev "$drv/unbind"
sk_check "no ring IRQ left" rp_no_irqs sk-ping-q
sk_check "splitkit_ping_front unloads" rmmod splitkit_ping_front
sk_check "splitkit_ring unloads (no user left)" rmmod splitkit_ring
