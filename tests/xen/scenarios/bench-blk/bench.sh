# SPDX-License-Identifier: GPL-2.0
#
# bench-blk: the fio jobs and their bookkeeping, sourced by dom0.sh (the
# native bound, and the dom0 half of each pair) and by domU.sh (each pair's
# guest).  See dom0.sh for the whole picture.
#
# One fio process runs every job, one after the other (loading fio takes
# many seconds under emulation).  Each job runs BENCH_RAMP + BENCH_RUNTIME
# seconds (time_based, O_DIRECT, libaio) over the whole disk; fio's numbers
# leave the ramp out.  CPU time is counted over a window in the middle of
# each job: from half a second after the disk's first completed I/O of the
# job, BENCH_WINDOW seconds long or less (see bench_window).  The domain's busy time (/proc/stat) and the
# sectors the disk moved (/sys/block/*/stat) are read at both ends with
# shell builtins only, and the shell sleeps between them in a builtin too,
# so counting starts no process inside the window.  In a guest both ends
# are also announced on the console ("BENCH-MARK start|stop JOB"), where
# dom0 follows them to count its own CPU time over the same window.
# Before the jobs an idle window of BENCH_WINDOW seconds measures what the
# domains use doing nothing, for the host to subtract.

BENCH_JOBS="rr4k1 rr4k32 rw4k1 rw4k32 sr1m sw1m"
BENCH_RAMP=2
BENCH_RUNTIME=8
BENCH_WINDOW=6

# bench_args JOB: fio options of JOB.
bench_args()
{
	case "$1" in
	rr4k1)	echo "--rw=randread --bs=4k --iodepth=1 --norandommap" ;;
	rr4k32)	echo "--rw=randread --bs=4k --iodepth=32 --norandommap" ;;
	rw4k1)	echo "--rw=randwrite --bs=4k --iodepth=1 --norandommap" ;;
	rw4k32)	echo "--rw=randwrite --bs=4k --iodepth=32 --norandommap" ;;
	sr1m)	echo "--rw=read --bs=1m --iodepth=8" ;;
	sw1m)	echo "--rw=write --bs=1m --iodepth=8" ;;
	esac
}

# bench_bs_kb JOB: block size of JOB in KiB.
bench_bs_kb()
{
	case "$1" in
	*1m) echo 1024 ;;
	*) echo 4 ;;
	esac
}

# bench_label JOB: what JOB measures, for results.
bench_label()
{
	case "$1" in
	rr4k1) echo "4 KiB random read QD1" ;;
	rr4k32) echo "4 KiB random read QD32" ;;
	rw4k1) echo "4 KiB random write QD1" ;;
	rw4k32) echo "4 KiB random write QD32" ;;
	sr1m) echo "1 MiB sequential read QD8" ;;
	sw1m) echo "1 MiB sequential write QD8" ;;
	esac
}

# bench_sleep SECONDS: sleep (fractions allowed) without starting a
# process: a read with a timeout on a FIFO nobody writes.
bench_sleep()
{
	if [ ! -p /tmp/bench-sleep ]; then
		rm -f /tmp/bench-sleep
		mkfifo /tmp/bench-sleep
	fi
	read -r -t "$1" _ <>/tmp/bench-sleep
}

# bench_snap [DISK]: with builtins only, set BENCH_BUSY (busy ticks of all
# CPUs: user, nice, system, irq and softirq of /proc/stat; idle, iowait
# and steal are not this domain's work), BENCH_UP (uptime, centiseconds)
# and, with DISK, BENCH_SECT (sectors DISK has read and written).
bench_snap()
{
	local cpu user nice sys idle iowait irq softirq up
	local r_ios r_mrg r_sect r_t w_ios w_mrg w_sect
	read -r cpu user nice sys idle iowait irq softirq _ </proc/stat
	read -r up _ </proc/uptime
	BENCH_BUSY=$((user + nice + sys + irq + softirq))
	BENCH_UP=$((${up%.*} * 100 + 1${up#*.} - 100))
	if [ -n "${1:-}" ]; then
		read -r r_ios r_mrg r_sect r_t w_ios w_mrg w_sect _ \
			<"/sys/block/$1/stat"
		BENCH_SECT=$((r_sect + w_sect))
	fi
}

# bench_mark WHAT JOB: in a guest, tell dom0 (which follows the console)
# that a counting window starts or stops.
bench_mark()
{
	[ "$SK_PREFIX" = SKU: ] && echo "SKU: BENCH-MARK $1 $2" >/dev/console
	return 0
}

# bench_idle: count the busy time of an idle window, reading the counters
# every half second as bench_window does.  Prints "cpu_ms=N win_ms=N".
bench_idle()
{
	local b0 u0 end
	bench_mark start idle
	bench_snap
	b0=$BENCH_BUSY
	u0=$BENCH_UP
	end=$((u0 + BENCH_WINDOW * 100))
	while [ "$BENCH_UP" -lt "$end" ]; do
		bench_sleep 0.5
		bench_snap
	done
	bench_mark stop idle
	echo "cpu_ms=$(((BENCH_BUSY - b0) * 10)) win_ms=$(((BENCH_UP - u0) * 10))"
}

# bench_jobfile DEV: one fio job file with every job, one after the other
# (stonewall), so fio starts once: loading it takes many seconds under
# emulation.  Each job touches /tmp/bench-go-JOB before its first I/O and
# /tmp/bench-done-JOB after its last.
bench_jobfile()
{
	local job
	printf '[global]\nfilename=%s\nioengine=libaio\ndirect=1\n' "$1"
	printf 'time_based\nramp_time=%s\nruntime=%s\nstonewall\n' \
		"$BENCH_RAMP" "$BENCH_RUNTIME"
	for job in $BENCH_JOBS; do
		printf '\n[%s]\n' "$job"
		bench_args "$job" | tr ' ' '\n' | sed 's/^--//'
		printf 'exec_prerun=touch /tmp/bench-go-%s\n' "$job"
		printf 'exec_postrun=touch /tmp/bench-done-%s\n' "$job"
	done
}

# bench_wait_file FILE PID: wait until FILE exists or process PID is gone.
bench_wait_file()
{
	while [ ! -e "$1" ] && kill -0 "$2" 2>/dev/null; do
		bench_sleep 0.05
	done
	[ -e "$1" ]
}

# bench_window JOB DISK PID: while fio (PID) runs JOB, count the window:
# from half a second after DISK's first I/O of the job, BENCH_WINDOW s
# long but ending at the latest 1.5 s before the job is due to end.  The
# counters are read every half second; should the job end first (sleeps
# overshoot a lot on a busy host), the window ends at the last reading
# taken while it ran.  Leaves "win_ios=N win_ms=N cpu_ms=N" in
# /tmp/bench-win-JOB if that window is at least a second long.
bench_window()
{
	local job=$1 disk=$2 pid=$3 s0 b0 u0 s1 b1 u1 end

	bench_wait_file "/tmp/bench-go-$job" "$pid" || return 1
	bench_snap "$disk"
	s0=$BENCH_SECT
	end=$((BENCH_UP + (BENCH_RAMP + BENCH_RUNTIME) * 100 - 150))
	while [ ! -e "/tmp/bench-done-$job" ] && kill -0 "$pid" 2>/dev/null; do
		bench_snap "$disk"
		[ "$BENCH_SECT" -ne "$s0" ] && break
		bench_sleep 0.05
	done
	bench_sleep 0.5
	[ -e "/tmp/bench-done-$job" ] && return 0
	bench_mark start "$job"
	bench_snap "$disk"
	s0=$BENCH_SECT
	b0=$BENCH_BUSY
	u0=$BENCH_UP
	u1=$u0
	[ "$end" -gt $((u0 + BENCH_WINDOW * 100)) ] &&
		end=$((u0 + BENCH_WINDOW * 100))
	while :; do
		bench_sleep 0.5
		[ -e "/tmp/bench-done-$job" ] && break
		bench_snap "$disk"
		[ -e "/tmp/bench-done-$job" ] && break
		kill -0 "$pid" 2>/dev/null || break
		s1=$BENCH_SECT
		b1=$BENCH_BUSY
		u1=$BENCH_UP
		[ "$u1" -ge "$end" ] && break
	done
	bench_mark stop "$job"
	[ "$u1" -ge $((u0 + 100)) ] || return 0
	echo "win_ios=$(((s1 - s0) / 2 / $(bench_bs_kb "$job"))) win_ms=$(((u1 - u0) * 10)) cpu_ms=$(((b1 - b0) * 10))" \
		>"/tmp/bench-win-$job"
}

# bench_run DEV: run every job on DEV.  Prints one line per job,
#   "JOB ios=N kib=N ms=N win_ios=N win_ms=N cpu_ms=N"
# (fio's I/Os, KiB and runtime without the ramp; the window's I/Os, length
# and this domain's busy time, left out if the job ended before the window
# did, which it should not), or "JOB failed" when fio reported an error or
# no I/O for it, with fio's output on stderr.  Returns fio's exit status.
bench_run()
{
	local dev=$1 disk=${1##*/} pid rc job terse err kib ms

	rm -f /tmp/bench-go-* /tmp/bench-done-* /tmp/bench-win-* \
		/tmp/bench-fio.out
	bench_jobfile "$dev" >/tmp/bench.fio
	(cd /tmp && exec fio --minimal /tmp/bench.fio >/tmp/bench-fio.out 2>&1) &
	pid=$!
	for job in $BENCH_JOBS; do
		bench_window "$job" "$disk" "$pid" || break
	done
	wait "$pid"
	rc=$?
	for job in $BENCH_JOBS; do
		terse=$(grep "^3;[^;]*;$job;" /tmp/bench-fio.out | tail -n 1)
		# terse v3: 5 error, 6 read KiB, 9 read runtime (ms), 47 write
		# KiB, 50 write runtime
		err=$(echo "$terse" | cut -d';' -f5)
		case "$job" in
		rr*|sr*) kib=$(echo "$terse" | cut -d';' -f6)
			 ms=$(echo "$terse" | cut -d';' -f9) ;;
		*)	 kib=$(echo "$terse" | cut -d';' -f47)
			 ms=$(echo "$terse" | cut -d';' -f50) ;;
		esac
		if [ "${err:-1}" != 0 ] || [ "${kib:-0}" -le 0 ]; then
			echo "$job: fio error field '${err:-none}', ${kib:-no} KiB" >&2
			echo "$job failed"
		else
			echo "$job ios=$((kib / $(bench_bs_kb "$job"))) kib=$kib ms=$ms $(cat "/tmp/bench-win-$job" 2>/dev/null)"
		fi
	done
	if [ "$rc" -ne 0 ]; then
		grep -v '^3;' /tmp/bench-fio.out | tail -n 15 | cut -c 1-200 >&2
		echo "fio exit status $rc" >&2
	fi
	return "$rc"
}
