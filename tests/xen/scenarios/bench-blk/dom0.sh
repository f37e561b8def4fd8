# SPDX-License-Identifier: GPL-2.0
#
# bench-blk (dom0 half): block pair throughput and CPU cost, one boot, one
# backing device (make bench-blk; tests/xen/bench-blk.sh prints the table).
#
#   QEMU virtio disk (build/xen/<kver>/scratch.img) = /dev/vda in dom0
#     native: fio in dom0 on /dev/vda                       (upper bound)
#     stock:  xen-blkback  on /dev/vda ==> xen-blkfront    in domU bench-stock
#     ours:   splitkit_back on /dev/vda ==> splitkit_front in domU bench-ours
#
# The same fio jobs (bench.sh) run in all three, after an idle window that
# measures what each domain uses doing nothing.  For each job (and "idle")
# dom0 prints a KTAP comment
#   BENCH pair=P job=J ios=N kib=N ms=N win_ios=N domU_cpu_ms=N
#         domU_win_ms=N dom0_cpu_ms=N dom0_win_ms=N
# (fio's I/Os, KiB and milliseconds; the I/Os done inside the counting
# window in the middle of the job, and each domain's busy CPU time over
# that window; the native bound has no domU_ fields).  dom0 follows the
# guest's console while it runs and counts its own CPU time between the
# guest's BENCH-MARK start and stop lines, with shell builtins only (no
# process started while it counts).  tests/xen/bench-blk.sh, on the host,
# makes the table.  A job whose fio fails is a failing result; speed never
# is.

. ./bench.sh

BENCH_DEV=/dev/vda
BENCH_CR=$(printf '\r')

# bench_report PAIR JOB RES [DOM0_CPU_MS DOM0_WIN_MS]: one BENCH line from
# the "key=value" words bench_run or bench_idle printed (in dom0 for the
# native bound; in the guest, with dom0's own count, for a pair).
bench_report()
{
	local pair=$1 job=$2 w side=domU line=""
	[ "$pair" = native ] && side=dom0
	for w in $3; do
		case "$w" in
		cpu_ms=*|win_ms=*) line="$line ${side}_$w" ;;
		*) line="$line $w" ;;
		esac
	done
	[ "$pair" = native ] || line="$line dom0_cpu_ms=$4 dom0_win_ms=$5"
	sk_comment "BENCH pair=$pair job=$job$line"
}

# bench_native: dom0 idle, then every job straight on the scratch disk.
bench_native()
{
	local job res rc
	bench_report native idle "$(bench_idle)"
	bench_run "$BENCH_DEV" >/tmp/bench-res 2>/tmp/bench-err
	rc=$?
	while IFS= read -r l; do
		sk_comment "native: $l"
	done </tmp/bench-err
	while read -r job res; do
		if [ "$res" = failed ]; then
			sk_fail "native: $(bench_label "$job"): fio ran without error"
			continue
		fi
		sk_ok "native: $(bench_label "$job"): fio ran without error"
		case "$res" in
		*win_ios=*) ;;
		*) sk_comment "native: $(bench_label "$job"): fio ended before the CPU counting window did" ;;
		esac
		bench_report native "$job" "$res"
	done </tmp/bench-res
	[ "$rc" -eq 0 ] || sk_fail "native: fio exited with status $rc"
}

# bench_follow PAIR NAME TIMEOUT: follow domU NAME's console until it
# prints its end marker (or TIMEOUT s pass, or the domain is gone),
# counting dom0's CPU time between each pair of BENCH-MARK lines and
# reporting each BENCH-RES line.  Relays the console live as SKL: lines.
# Only builtins run while the guest is inside a counting window.
bench_follow()
{
	local pair=$1 name=$2 log=$SK_CONSOLE_DIR/guest-$2.log line part=""
	local b0=0 u0=0 d_ms w_ms open=0 deadline check rc=1 job

	for job in idle $BENCH_JOBS; do
		eval "bench_d_$job=; bench_w_$job="
	done
	bench_snap
	deadline=$((BENCH_UP + $3 * 100))
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
			line=${line%"$BENCH_CR"}
			echo "SKL:$name: $line" >/dev/console
			case "$line" in
			"SKU: BENCH-MARK start "*)
				bench_snap
				b0=$BENCH_BUSY
				u0=$BENCH_UP
				open=1 ;;
			"SKU: BENCH-MARK stop "*)
				bench_snap
				job=${line#SKU: BENCH-MARK stop }
				case "$job" in *[!a-z0-9]*|"") continue ;; esac
				eval "bench_d_$job=$(((BENCH_BUSY - b0) * 10))"
				eval "bench_w_$job=$(((BENCH_UP - u0) * 10))"
				open=0 ;;
			"SKU: BENCH-RES job="*)
				line=${line#SKU: BENCH-RES job=}
				job=${line%% *}
				case "$job" in *[!a-z0-9]*|"") continue ;; esac
				eval "d_ms=\${bench_d_$job:-}; w_ms=\${bench_w_$job:-}"
				bench_report "$pair" "$job" "${line#* }" \
					"$d_ms" "$w_ms" ;;
			"SKU: DONE")
				rc=0
				break ;;
			esac
			continue
		fi
		part=$part$line
		# nothing new: look again in 0.5 s (each look costs dom0 CPU
		# time; being late at both ends of a window does not matter,
		# only dom0's busy rate over it is used)
		bench_sleep 0.5
		bench_snap
		if [ "$BENCH_UP" -ge "$deadline" ]; then
			sk_comment "domU $name still running after $3 s"
			break
		fi
		# every 10 s, whether the guest still exists; xl is costly, so
		# not while a window is open (unless it has been for 30 s)
		if [ "$BENCH_UP" -ge $((check + 1000)) ] &&
		   { [ "$open" -eq 0 ] || [ "$BENCH_UP" -ge $((u0 + 3000)) ]; }; then
			check=$BENCH_UP
			xl domid "$name" >/dev/null 2>&1 || {
				sk_comment "domU $name is gone without its end marker"
				break
			}
		fi
	done
	exec 3<&-
	return $rc
}

# bench_pair PAIR CFG TIMEOUT: run the pair's guest, follow it, relay its
# results.
bench_pair()
{
	local pair=$1 cfg=$2 name
	name=$(sk_domU_name "$cfg")
	rm -f "$SK_CONSOLE_DIR/guest-$name.log"
	if ! xl create "$cfg" >/tmp/sk-xl-create.log 2>&1; then
		while IFS= read -r l; do
			sk_comment "$l"
		done </tmp/sk-xl-create.log
		sk_fail "$pair: xl create $cfg"
		return 1
	fi
	sk_ok "$pair: xl create $cfg"
	bench_follow "$pair" "$name" "$3"
	# the guest powers off after its end marker
	sk_domU_wait "$name" 60
	sk_domU_results "$name"
}

# bench_unload MODULE: remove a backend module if it is loaded.
bench_unload()
{
	[ -d "/sys/module/$1" ] || return 0
	rmmod "$1"
}

# bench_load NAME OTHER: make module NAME the vbd backend (OTHER, the other
# backend, must not be loaded: both would bind the guest's disk).
bench_load()
{
	bench_unload "$2" || return 1
	sk_modprobe "$1"
}

sk_check "load virtio_pci and virtio_blk (the scratch disk)" \
	sk_modprobe virtio_pci virtio_blk || return
sk_check "$BENCH_DEV appeared" sk_wait_block "$BENCH_DEV" 60 || return
sk_comment "BENCH-INFO backing=virtio-blk size_mib=$(($(cat /sys/block/vda/size) / 2048)) runtime_s=$BENCH_RUNTIME ramp_s=$BENCH_RAMP window_s=$BENCH_WINDOW dom0_vcpus=$(grep -c '^processor' /proc/cpuinfo)"
sk_check "prefill $BENCH_DEV (1 MiB sequential writes)" \
	fio --name=prefill --filename="$BENCH_DEV" --rw=write --bs=1m \
	    --iodepth=8 --ioengine=libaio --direct=1 --size=100% \
	    --output=/dev/null || return

bench_native

sk_check "load xen-blkback" bench_load xen-blkback splitkit_back &&
	bench_pair stock stock.cfg 360
sk_check "rmmod xen-blkback" bench_unload xen_blkback

sk_check "load splitkit_back" bench_load splitkit_back xen_blkback &&
	bench_pair ours ours.cfg 360
dmesg | grep -E 'splitkit|vbd' | tail -n 20 | sed 's/^\[[ 0-9.]*\] //' |
	while IFS= read -r l; do
		sk_comment "dmesg: $l"
	done
sk_check "rmmod splitkit_back" bench_unload splitkit_back
sk_check "dmesg: no oops, warning or hung task" \
	sh -c "! dmesg | grep -E 'Oops|BUG:|WARNING:|blocked for more than|general protection'"
