# SPDX-License-Identifier: GPL-2.0
#
# Shared by both halves of the ring ping test (ring_ping_back.sh in dom0,
# ring_ping_front.sh in the guest): traffic sizes, which both sides must
# agree on, and helpers over the ping drivers' ping_stats/ directories
# (tests/modules/ping).

# Pings per queue in the full run (2 queues: RP_COUNT messages each way on
# each queue, 4 million messages in all), and in the run after the backend
# was torn down mid-traffic.  Override both sides alike.
RP_COUNT=${SPLITKIT_PING_COUNT:-1000000}
RP_COUNT2=${SPLITKIT_PING_COUNT2:-250000}
# Ring size (2^order pages per queue) and requests per push.  Under QEMU
# TCG a ring round trip (event, wake-up, consumer run) costs far more than
# the messages themselves: with order 1 (64 entries) and batch 8 the pair
# moved about 2300 messages a second, with order 4 (512 entries) and batch
# 32 about 70000 (4 events per 1000 messages), on the same loaded box.
RP_ORDER=4
RP_BATCH=32
# "Never ends" for runs that are torn down in the middle.
RP_FOREVER=1000000000
# Messages a run must have moved before we tear it down.
RP_MIDWAY=20000

# rp_stat DIR KEY: one counter of a ping_stats/ directory (sysfs, one
# value per file; empty if absent).
rp_stat()
{
	cat "$1/$2" 2>/dev/null
}

# rp_dump DIR: every counter of a ping_stats/ directory as "KEY VALUE"
# lines (nothing if absent).
rp_dump()
{
	local f
	for f in "$1"/*; do
		[ -r "$f" ] && echo "${f##*/} $(cat "$f")"
	done
	return 0
}

# rp_diag DEBUGFS_DIR IRQNAME: ring counters of queue 0 and the IRQ lines.
rp_diag()
{
	skt_comment "q0: $(cat "$1/q0/stats" 2>/dev/null | tr '\n' ' ')"
	grep "$2" /proc/interrupts | tr -s ' ' | while IFS= read -r l; do
		skt_comment "irq: $l"
	done
}
