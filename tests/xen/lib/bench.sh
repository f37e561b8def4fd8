# SPDX-License-Identifier: GPL-2.0
#
# The Xen benchmarks' fio jobs and their bookkeeping, sourced by the dom0
# and guest halves of bench-blk (the native bound, the dom0 half of each
# pair, each pair's guest: see its dom0.sh for the whole picture) and of
# bench-shunt (one HVM guest, its jobs on three paths: see its dom0.sh).
#
# One fio process runs every job, one after the other (loading fio takes
# many seconds under emulation).  Each job runs BENCH_RAMP + BENCH_RUNTIME
# seconds (time_based, O_DIRECT, libaio) over the whole disk; fio's numbers
# leave the ramp out.  Costs are counted over a window in the middle of
# each job: from half a second after the disk's first completed I/O of the
# job, BENCH_WINDOW seconds long or less (see bench_window).  At both ends
# of the window the domain's counters are read (bench_snap) with shell
# builtins only, and the shell sleeps between them in a builtin too, so
# counting starts no process inside the window: busy CPU time (/proc/stat),
# context switches (/proc/stat ctxt), events received on the block
# device's event channels (/proc/interrupts lines of xen-blkfront's and
# xen-blkback's "blkif", splitkit_ring's "sk-vbd", in an HVM guest the
# emulated IDE disk's interrupt (ata_piix), and in dom0 QEMU's
# "evtchn:xen-qemu-system" user-space channels: a qdisk's, and the device
# model's I/O requests of an emulated disk), the sectors the disk
# moved (/sys/block/*/stat), and the driver's own counters where it has
# them (BENCH_STATDIR: splitkit_back's skb_stats/, splitkit_front's
# skf_stats/; the stock drivers count none of these).  In a guest both ends
# are also announced on the console ("BENCH-MARK start|stop JOB"), where
# dom0 follows them to count its own side over the same window.  Before
# the jobs an idle window of BENCH_WINDOW seconds measures what the domains
# do doing nothing, for the host to subtract.
#
# The settings can be changed from the host's environment for a shorter
# run (tests/xen/bench-blk.sh passes them to dom0 in /etc/splitkit/
# bench.env, dom0 to each guest as sk.bench=JOBS/RAMP/RUNTIME/WINDOW/ROUND
# on its command line, the jobs joined by '+').

BENCH_JOBS="rr4k1 rr4k32 rw4k1 rw4k32 sr1m sw1m"
BENCH_RAMP=2
BENCH_RUNTIME=8
BENCH_WINDOW=6
BENCH_ROUNDS=3
BENCH_PAIRS="stock ours stockfront stockback"
BENCH_ROUND=1
# splitkit_back's zero_copy parameter for the pairs it serves (1: on)
BENCH_ZERO_COPY=1
# the image pairs' image size, MiB (dom0.sh)
BENCH_IMAGE_MIB=2048
if [ -f /etc/splitkit/bench.env ]; then
	. /etc/splitkit/bench.env
fi
if bench_arg=$(sk_cmdline sk.bench); then
	IFS=/ read -r bench_j BENCH_RAMP BENCH_RUNTIME BENCH_WINDOW \
		BENCH_ROUND <<EOF
$bench_arg
EOF
	BENCH_JOBS=$(echo "$bench_j" | tr '+' ' ')
fi
# Driver counters read at both ends of each window (bench_snap), and the
# directory they are in (set by whoever knows which driver runs).
BENCH_STATKEYS=""
BENCH_STATDIR=""
# what the guest puts before a job's name in its BENCH-MARK lines
BENCH_TAG=""
# a console log's carriage return (bench_follow)
BENCH_CR=$(printf '\r')
# the function that reports a guest's results (bench_follow)
BENCH_REPORT=bench_report

# bench_arg_line: this run's settings, for a guest's command line (dom0
# adds "/ROUND").
bench_arg_line()
{
	echo "sk.bench=$(echo $BENCH_JOBS | tr ' ' '+')/$BENCH_RAMP/$BENCH_RUNTIME/$BENCH_WINDOW"
}

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
# and steal are not this domain's work), BENCH_UP (uptime, centiseconds),
# BENCH_CS (context switches), BENCH_EV (events received on the block
# device's event channels, all CPUs), BENCH_STATS (the values of
# BENCH_STATKEYS in BENCH_STATDIR, -1 for one that cannot be read) and,
# with DISK, BENCH_SECT (sectors DISK has read and written).
bench_snap()
{
	local cpu user nice sys idle iowait irq softirq up key val rest w
	local r_ios r_mrg r_sect r_t w_ios w_mrg w_sect
	read -r cpu user nice sys idle iowait irq softirq _ </proc/stat
	read -r up _ </proc/uptime
	BENCH_BUSY=$((user + nice + sys + irq + softirq))
	BENCH_UP=$((${up%.*} * 100 + 1${up#*.} - 100))
	BENCH_CS=0
	while read -r key val rest; do
		if [ "$key" = ctxt ]; then
			BENCH_CS=$val
			break
		fi
	done </proc/stat
	BENCH_EV=0
	while read -r key rest; do
		case "$rest" in
		*blkif*|*sk-vbd*|*ata_piix*|*evtchn:*qemu*)
			for w in $rest; do
				case "$w" in
				*[!0-9]*) break ;;
				esac
				BENCH_EV=$((BENCH_EV + w))
			done ;;
		esac
	done </proc/interrupts
	BENCH_STATS=""
	for key in $BENCH_STATKEYS; do
		val=-1
		[ -r "$BENCH_STATDIR/$key" ] && read -r val <"$BENCH_STATDIR/$key"
		BENCH_STATS="$BENCH_STATS $val"
	done
	if [ -n "${1:-}" ]; then
		read -r r_ios r_mrg r_sect r_t w_ios w_mrg w_sect _ \
			<"/sys/block/$1/stat"
		BENCH_SECT=$((r_sect + w_sect))
	fi
}

# bench_keep: remember the counters of the last bench_snap as the start of
# a window (BENCH_*0).
bench_keep()
{
	BENCH_BUSY0=$BENCH_BUSY
	BENCH_UP0=$BENCH_UP
	BENCH_CS0=$BENCH_CS
	BENCH_EV0=$BENCH_EV
	BENCH_STATS0=$BENCH_STATS
}

# bench_hold: remember the counters of the last bench_snap as the latest
# reading inside a window (BENCH_*1); bench_back makes them the last
# bench_snap again.
bench_hold()
{
	BENCH_BUSY1=$BENCH_BUSY
	BENCH_UP1=$BENCH_UP
	BENCH_CS1=$BENCH_CS
	BENCH_EV1=$BENCH_EV
	BENCH_STATS1=$BENCH_STATS
}

bench_back()
{
	BENCH_BUSY=$BENCH_BUSY1
	BENCH_UP=$BENCH_UP1
	BENCH_CS=$BENCH_CS1
	BENCH_EV=$BENCH_EV1
	BENCH_STATS=$BENCH_STATS1
}

# bench_counts: what changed between bench_keep and the last bench_snap,
# as "win_ms=N cpu_ms=N cs=N ev=N KEY=N..." (one KEY per BENCH_STATKEYS;
# a counter that could not be read at either end is left out).
bench_counts()
{
	local out k a b s0=$BENCH_STATS0 s1=$BENCH_STATS
	out="win_ms=$(((BENCH_UP - BENCH_UP0) * 10)) cpu_ms=$(((BENCH_BUSY - BENCH_BUSY0) * 10))"
	out="$out cs=$((BENCH_CS - BENCH_CS0)) ev=$((BENCH_EV - BENCH_EV0))"
	for k in $BENCH_STATKEYS; do
		s0=${s0# }
		s1=${s1# }
		a=${s0%% *}
		b=${s1%% *}
		s0=${s0#"$a"}
		s1=${s1#"$b"}
		[ "$a" = -1 ] || [ "$b" = -1 ] || out="$out $k=$((b - a))"
	done
	echo "$out"
}

# bench_mark WHAT JOB: in a guest, tell dom0 (which follows the console)
# that a counting window starts or stops (the window's key: BENCH_TAG, if
# the guest runs the jobs more than once, and JOB).
bench_mark()
{
	[ "$SK_PREFIX" = SKU: ] &&
		echo "SKU: BENCH-MARK $1 ${BENCH_TAG:-}$2" >/dev/console
	return 0
}

# bench_idle: count an idle window, reading the counters every half second
# as bench_window does.  Prints what bench_counts prints.
bench_idle()
{
	local end
	bench_mark start idle
	bench_snap
	bench_keep
	end=$((BENCH_UP + BENCH_WINDOW * 100))
	while [ "$BENCH_UP" -lt "$end" ]; do
		bench_sleep 0.5
		bench_snap
	done
	bench_mark stop idle
	bench_counts
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

# bench_fio_running: fio (bench_run's) has not exited.  Not kill -0: a
# child that exited stays a zombie, which kill -0 finds, until the shell
# reaps it, and busybox ash reaps only when it waits for a command.
bench_fio_running()
{
	[ ! -e /tmp/bench-fio.rc ]
}

# bench_wait_file FILE: wait until FILE exists or fio has exited.
bench_wait_file()
{
	while [ ! -e "$1" ] && bench_fio_running; do
		bench_sleep 0.05
	done
	[ -e "$1" ]
}

# bench_window JOB DISK: while fio runs JOB, count the window:
# from half a second after DISK's first I/O of the job, BENCH_WINDOW s
# long but ending at the latest 1.5 s before the job is due to end
# (BENCH_RAMP + BENCH_RUNTIME after that first I/O).  The
# counters are read every half second; should the job end first (sleeps
# overshoot a lot on a busy host), the window ends at the last reading
# taken while it ran.  Leaves "win_ios=N" and what bench_counts prints in
# /tmp/bench-win-JOB if that window is at least a second long.
bench_window()
{
	local job=$1 disk=$2 s0 s1 end

	bench_wait_file "/tmp/bench-go-$job" || return 1
	bench_snap "$disk"
	s0=$BENCH_SECT
	while [ ! -e "/tmp/bench-done-$job" ] && bench_fio_running; do
		bench_snap "$disk"
		[ "$BENCH_SECT" -ne "$s0" ] && break
		bench_sleep 0.05
	done
	# the job's ramp and runtime run from its first I/O, not from its
	# exec_prerun mark: fio sets the job up in between, which took
	# seconds in a guest on a loaded host (the window then closed at
	# once and nothing was counted)
	end=$((BENCH_UP + (BENCH_RAMP + BENCH_RUNTIME) * 100 - 150))
	bench_sleep 0.5
	[ -e "/tmp/bench-done-$job" ] && return 0
	bench_mark start "$job"
	bench_snap "$disk"
	bench_keep
	bench_hold
	s0=$BENCH_SECT
	s1=$s0
	[ "$end" -gt $((BENCH_UP0 + BENCH_WINDOW * 100)) ] &&
		end=$((BENCH_UP0 + BENCH_WINDOW * 100))
	while :; do
		bench_sleep 0.5
		[ -e "/tmp/bench-done-$job" ] && break
		bench_snap "$disk"
		[ -e "/tmp/bench-done-$job" ] && break
		bench_fio_running || break
		s1=$BENCH_SECT
		bench_hold
		[ "$BENCH_UP" -ge "$end" ] && break
	done
	bench_mark stop "$job"
	bench_back
	[ "$BENCH_UP" -ge $((BENCH_UP0 + 100)) ] || return 0
	echo "win_ios=$(((s1 - s0) / 2 / $(bench_bs_kb "$job"))) $(bench_counts)" \
		>"/tmp/bench-win-$job"
}

# bench_run DEV [DISK]: run every job on DEV (a block device, or a file on
# block device DISK, whose sectors show the job's start and end).  Prints
# one line per job,
#   "JOB ios=N kib=N ms=N win_ios=N win_ms=N cpu_ms=N cs=N ev=N ..."
# (fio's I/Os, KiB and runtime without the ramp; the window's I/Os, length
# and this domain's counts, left out if the job ended before the window
# did, which it should not), or "JOB failed" when fio reported an error or
# no I/O for it, with fio's output on stderr.  Returns fio's exit status.
bench_run()
{
	local dev=$1 disk=${2:-${1##*/}} pid rc job terse err kib ms

	rm -f /tmp/bench-go-* /tmp/bench-done-* /tmp/bench-win-* \
		/tmp/bench-fio.out /tmp/bench-fio.rc
	bench_jobfile "$dev" >/tmp/bench.fio
	(cd /tmp && fio --minimal /tmp/bench.fio >/tmp/bench-fio.out 2>&1
	 echo $? >/tmp/bench-fio.rc) &
	pid=$!
	for job in $BENCH_JOBS; do
		bench_window "$job" "$disk" || break
	done
	wait "$pid"
	rc=$(cat /tmp/bench-fio.rc 2>/dev/null)
	rc=${rc:-1}
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

# bench_params: splitkit_back's memory bounds in force, "param_max_pages=N
# param_max_grants=N" (its bounce pages per disk and mapped grants per
# queue offered: Documentation/block.rst), for the table's memory line.
bench_params()
{
	local k v out=""
	for k in max_pages max_grants; do
		read -r v <"/sys/module/splitkit_back/parameters/$k" || v=""
		out="$out param_$k=$v"
	done
	echo "${out# }"
}

# bench_follow PAIR ROUND NAME TIMEOUT: follow domU NAME's console until
# it prints its end marker (or TIMEOUT s pass, or the domain is gone),
# counting dom0's side between each pair of BENCH-MARK lines and reporting
# each BENCH-RES line through the scenario's BENCH_REPORT function (called
# as bench_report is in bench-blk: PAIR ROUND KEY GUEST-RES DOM0-RES; a
# KEY is a job's name, or whatever the guest put before it with BENCH_TAG:
# lower-case letters, digits and _).  Relays the console live as SKL: lines.  Only
# builtins run while the guest is inside a counting window.  With
# BENCH_STATKEYS set (splitkit_back), the disk's skb_stats/ is counted too,
# read whole after each window (the disk may be gone by the time dom0
# reads the guest's end marker) and the last reading dumped as a comment at
# the end marker, or when the guest is found gone without one.
bench_follow()
{
	local pair=$1 round=$2 name=$3 log=$SK_CONSOLE_DIR/guest-$3.log
	local line part="" d_res open=0 deadline check rc=1 job counts u0=0 d
	local gone=0 stats=""

	for job in idle $BENCH_JOBS; do
		eval "bench_d_$job="
	done
	bench_snap
	deadline=$((BENCH_UP + $4 * 100))
	check=$BENCH_UP
	while [ ! -f "$log" ]; do
		bench_sleep 0.5
		bench_snap
		[ "$BENCH_UP" -lt "$deadline" ] || return 1
	done
	exec 3<"$log"
	while :; do
		if IFS= read -r line <&3; then
			line=$part$line
			part=""
			# every carriage return at the end (an HVM guest's
			# serial log has "\r\r\n")
			while [ "${line%"$BENCH_CR"}" != "$line" ]; do
				line=${line%"$BENCH_CR"}
			done
			echo "SKL:$name: $line" >/dev/console
			case "$line" in
			"SKU: BENCH-MARK start "*)
				if [ -n "$BENCH_STATKEYS" ] && [ -z "$BENCH_STATDIR" ]; then
					for d in /sys/bus/xen-backend/devices/vbd-*/skb_stats; do
						[ -d "$d" ] && BENCH_STATDIR=$d
					done
				fi
				bench_snap
				bench_keep
				u0=$BENCH_UP
				open=1 ;;
			"SKU: BENCH-MARK stop "*)
				bench_snap
				job=${line#SKU: BENCH-MARK stop }
				case "$job" in *[!a-z0-9_]*|"") continue ;; esac
				counts=$(bench_counts)
				eval "bench_d_$job=\$counts"
				open=0
				[ ! -d "$BENCH_STATDIR" ] ||
					stats=$(cd "$BENCH_STATDIR" && grep . * | tr ':\n' '= ') ;;
			"SKU: BENCH-RES job="*)
				line=${line#SKU: BENCH-RES job=}
				job=${line%% *}
				case "$job" in *[!a-z0-9_]*|"") continue ;; esac
				eval "d_res=\${bench_d_$job:-}"
				"$BENCH_REPORT" "$pair" "$round" "$job" "${line#* }" \
					"$d_res" ;;
			"SKU: DONE")
				[ -z "$stats" ] ||
					sk_comment "BENCH-STATS pair=$pair round=$round $stats $(bench_params)"
				rc=0
				break ;;
			esac
			continue
		fi
		part=$part$line
		if [ "$gone" -eq 1 ]; then
			sk_comment "domU $name is gone without its end marker"
			[ -z "$stats" ] ||
				sk_comment "BENCH-STATS pair=$pair round=$round $stats $(bench_params)"
			break
		fi
		# nothing new: look again in 0.5 s (each look costs dom0 CPU
		# time; being late at both ends of a window does not matter,
		# only dom0's busy rate over it is used)
		bench_sleep 0.5
		bench_snap
		if [ "$BENCH_UP" -ge "$deadline" ]; then
			sk_comment "domU $name still running after $4 s"
			break
		fi
		# every 10 s, whether the guest still exists; xl is costly, so
		# not while a window is open (unless it has been for 30 s)
		if [ "$BENCH_UP" -ge $((check + 1000)) ] &&
		   { [ "$open" -eq 0 ] || [ "$BENCH_UP" -ge $((u0 + 3000)) ]; }; then
			check=$BENCH_UP
			# gone: xenconsoled may not have written the end of
			# its log yet (seen: a guest's last results came after
			# the domain); read on once it has
			xl domid "$name" >/dev/null 2>&1 || {
				sk_domU_console_done "$name"
				gone=1
			}
		fi
	done
	exec 3<&-
	return $rc
}

# bench_results WHAT RC REPORT: after bench_run (its output in
# /tmp/bench-res, its messages in /tmp/bench-err, its status RC): the
# messages as comments, a result per job (fio ran without error, named
# after WHAT and the job), and REPORT JOB RES for each job that ran.
bench_results()
{
	local what=$1 rc=$2 report=$3 l job res
	while IFS= read -r l; do
		sk_comment "$what: $l"
	done </tmp/bench-err
	while read -r job res; do
		if [ "$res" = failed ]; then
			sk_fail "$what: $(bench_label "$job"): fio ran without error"
			continue
		fi
		sk_ok "$what: $(bench_label "$job"): fio ran without error"
		case "$res" in
		*win_ios=*) ;;
		*) sk_comment "$what: $(bench_label "$job"): fio ended before the counting window did" ;;
		esac
		"$report" "$job" "$res"
	done </tmp/bench-res
	[ "$rc" -eq 0 ] || sk_fail "$what: fio exited with status $rc"
}

# bench_say_res JOB RES: in a guest, a job's result for dom0
# (bench_follow), keyed as its counting window was (BENCH_TAG).
bench_say_res()
{
	sk_say "BENCH-RES job=${BENCH_TAG:-}$1 $2"
}

# bench_report PAIR ROUND JOB RES [DOM0_RES]: one BENCH line from the
# "key=value" words bench_run or bench_idle printed (in dom0 for the
# native bound; in the guest, with dom0's own counts, for a pair).
bench_report()
{
	local pair=$1 round=$2 job=$3 w side=domU line=""
	[ "$pair" = native ] && side=dom0
	for w in $4; do
		case "$w" in
		ios=*|kib=*|ms=*|win_ios=*) line="$line $w" ;;
		*=*) line="$line ${side}_$w" ;;
		esac
	done
	for w in ${5:-}; do
		line="$line dom0_$w"
	done
	sk_comment "BENCH pair=$pair round=$round job=$job$line"
}
