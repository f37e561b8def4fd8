# SPDX-License-Identifier: GPL-2.0
#
# bench-online (domU half): 4 KiB random reads at queue depth 1 (fio,
# O_DIRECT) on the disk dom0 is about to work on, for BO_BEFORE seconds
# (lat-before-<disk> = "p99_us max_us ios"); then, once dom0 says the
# operation runs (running-<disk>), runs of one second each until dom0
# says it ended (done-<disk>): lat-during-<disk> = the worst run's p99,
# the highest completion latency of all, the I/Os and the runs.  xvda
# (compaction), xvdd (commit), then xvdf (stream); then "idle", and
# nothing more on any disk while dom0 times the same operations on xvdb,
# xvdc and xvde.

. /lib/splitkit/blk.sh

BO_BEFORE=8

# bo_lat DISK SECS: one fio run; prints "p99_us max_us ios".
bo_lat()
{
	local clat p99 max ios

	fio --name=lat --filename="/dev/$1" --rw=randread --bs=4k --iodepth=1 \
	    --ioengine=psync --direct=1 --time_based --runtime="$2" \
	    --eta=never --output-format=json --output=/tmp/lat.json \
	    >/dev/null 2>&1 || return 1
	tr -d ' \n\t' </tmp/lat.json >/tmp/lat.flat
	clat=$(grep -o '"clat_ns":{[^}]*}' /tmp/lat.flat | head -n 1)
	p99=$(echo "$clat" | sed -n 's/.*"99.000000":\([0-9]*\).*/\1/p')
	max=$(echo "$clat" | sed -n 's/.*"max":\([0-9]*\).*/\1/p')
	ios=$(grep -o '"total_ios":[0-9]*' /tmp/lat.flat | head -n 1 | cut -d: -f2)
	[ -n "$p99" ] && [ -n "$max" ] && [ -n "$ios" ] || return 1
	echo "$((p99 / 1000)) $((max / 1000)) $ios"
}

# bo_busy DISK: before, then during dom0's operation on DISK.
bo_busy()
{
	local r worst=0 max=0 ios=0 runs=0 p m n

	r=$(bo_lat "$1" $BO_BEFORE) || { sk_fail "$1: fio before"; return 1; }
	sk_hs_send "lat-before-$1" "$r" >/dev/null
	sk_hs_wait "running-$1" 600 >/dev/null || { sk_fail "$1: dom0 started"; return 1; }
	while ! xenstore-read "data/splitkit/dom0/done-$1" >/dev/null 2>&1; do
		r=$(bo_lat "$1" 1) || { sk_fail "$1: fio during"; return 1; }
		set -- "$1" $r
		p=$2 m=$3 n=$4
		[ "$p" -gt "$worst" ] && worst=$p
		[ "$m" -gt "$max" ] && max=$m
		ios=$((ios + n))
		runs=$((runs + 1))
	done
	sk_hs_send "lat-during-$1" "$worst $max $ios $runs" >/dev/null
	sk_ok "$1: latency measured before and during ($runs runs)"
}

sk_check "load splitkit_front" sk_blk_load_front splitkit_front || return
for d in xvda xvdb xvdc xvdd xvde xvdf; do
	sk_check "/dev/$d appeared" sk_wait_block "/dev/$d" 90 || return
done
bo_busy xvda
bo_busy xvdd
bo_busy xvdf
sk_hs_send idle >/dev/null
sk_hs_wait end "$(sk_guard 3600)" >/dev/null
