# SPDX-License-Identifier: GPL-2.0
#
# Shared by both halves of the ring-ping scenario: traffic sizes and small
# helpers over the ping drivers' ping_stats files.

# Pings per queue in the full run (2 queues: RP_COUNT messages each way on
# each queue, 4 million messages in all), and in the run after the backend
# was torn down mid-traffic.
RP_COUNT=1000000
RP_COUNT2=250000
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

# rp_stat FILE KEY: one value of a ping_stats file (empty if absent).
rp_stat()
{
	sed -n "s/^$2 //p" "$1" 2>/dev/null
}

# rp_wait SECONDS CMD...: retry CMD about every second until it succeeds,
# for at most SECONDS of wall-clock time (under TCG a shell loop is too slow
# to count time in iterations).  Gives up early when $RP_ALIVE (a command)
# is set and fails; runs $RP_PROGRESS (a command) every 30 s, if set.
rp_wait()
{
	local end=$(($(date +%s) + $1)) next now
	next=$(($(date +%s) + 30))
	shift
	while ! "$@"; do
		now=$(date +%s)
		[ "$now" -lt "$end" ] || return 1
		if [ -n "${RP_ALIVE:-}" ] && ! $RP_ALIVE; then
			echo "gave up: $RP_ALIVE failed"
			return 1
		fi
		if [ -n "${RP_PROGRESS:-}" ] && [ "$now" -ge "$next" ]; then
			$RP_PROGRESS
			next=$((now + 30))
		fi
		sleep 1
	done
}

# rp_diag DEBUGFS_DIR IRQNAME: ring counters of queue 0 and the IRQ lines.
rp_diag()
{
	sk_comment "q0: $(cat "$1/q0/stats" 2>/dev/null | tr '\n' ' ')"
	grep "$2" /proc/interrupts | tr -s ' ' | while IFS= read -r l; do
		sk_comment "irq: $l"
	done
}

# rp_no_irqs NAME: no IRQ named NAME left in /proc/interrupts.
rp_no_irqs()
{
	if grep -q "$1" /proc/interrupts; then
		grep "$1" /proc/interrupts
		return 1
	fi
}

# rp_write_timeout SECONDS VALUE FILE: write to a sysfs file, bounded, so
# a teardown that hangs fails the check instead of the scenario.
rp_write_timeout()
{
	timeout "$1" sh -c "echo '$2' >'$3'"
}
