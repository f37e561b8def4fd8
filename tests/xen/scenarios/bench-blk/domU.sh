# SPDX-License-Identifier: GPL-2.0
#
# bench-blk (guest half): load the frontend named by sk.front= and run
# an idle window, then every job of lib/bench.sh (those sk.bench= names) on
# /dev/xvda, dom0's scratch disk.  Each one's numbers go to dom0 as a
# "BENCH-RES" console line (dom0.sh adds its own counts and reports them);
# an fio error is a failing result.  splitkit_front's own counters of the
# copies it makes and the grants it makes and ends are counted too
# (skf_stats/); xen-blkfront has none.

. /lib/splitkit/bench.sh

front=$(sk_cmdline sk.front) || front=xen-blkfront
case "$front" in
splitkit_front)
	sk_check "load splitkit_front poll_queues=1" \
		sk_insmod splitkit_front poll_queues=1 || return ;;
*)
	sk_check "load $front" sk_modprobe "$front" || return ;;
esac
sk_check "/dev/xvda appeared" sk_wait_block /dev/xvda 90 || return
sk_comment "up $(cut -d' ' -f1 /proc/uptime) s when the disk appeared"
sk_comment "$(dmesg | grep -E "splitkit_front.*xvda: queues|blkfront: xvda:" |
	tail -n 1 | sed 's/^\[[ 0-9.]*\] //')"
sk_comment "xvda: $(cat /sys/block/xvda/size) sectors, nr_requests $(cat /sys/block/xvda/queue/nr_requests), max_sectors_kb $(cat /sys/block/xvda/queue/max_sectors_kb), hw queues $(ls /sys/block/xvda/mq | wc -l)"

if [ "$front" = splitkit_front ]; then
	BENCH_STATDIR=/sys/block/xvda/device/skf_stats
	BENCH_STATKEYS="copied_bytes grant_misses grants_reclaimed coalesced_waits"
fi
sk_comment "bench: jobs $BENCH_JOBS, ${BENCH_RAMP} s ramp + ${BENCH_RUNTIME} s each, ${BENCH_WINDOW} s windows"
sk_say "BENCH-RES job=idle $(bench_idle)"
bench_run /dev/xvda >/tmp/bench-res 2>/tmp/bench-err
bench_results "round $BENCH_ROUND" $? bench_say_res
if [ "$front" = splitkit_front ] && [ -d /sys/block/xvda/device/skf_stats ]; then
	sk_comment "skf_stats: $(cd /sys/block/xvda/device/skf_stats && grep . * | tr ':\n' '= ')"
fi
dmesg | grep -iE 'i/o error|bug:|warn|oops' | tail -n 5 | while IFS= read -r l; do
	sk_comment "dmesg: $l"
done
sk_comment "up $(cut -d' ' -f1 /proc/uptime) s at the end"
