# SPDX-License-Identifier: GPL-2.0
#
# Helpers of the splitkit_front scenarios (front-*), sourced on both sides
# after common.sh: loading a module with parameters, waiting for a disk,
# whole-disk fio jobs with crc32c verify headers that one side writes and
# the other verifies, and the frontend's counters.

# skf_insmod NAME [PARAM=VALUE...]: load NAME's dependencies (as recorded
# in /lib/modules/sk.order), then NAME itself with the parameters.
skf_insmod()
{
	local name=$1 line pair mod file last
	shift
	line=$(grep "^$name " /lib/modules/sk.order | head -n 1)
	[ -n "$line" ] || { echo "skf_insmod: $name not in this image" >&2; return 1; }
	last=${line##* }
	for pair in ${line#* }; do
		mod=${pair%%:*}
		file=${pair#*:}
		[ -d "/sys/module/$mod" ] && continue
		if [ "$pair" = "$last" ]; then
			insmod "/lib/modules/$file" "$@" || return 1
		else
			insmod "/lib/modules/$file" 2>/dev/null
		fi
	done
}

# skf_fio_whole FILE MODE SEED [BS] [DIRECT] [ENGINE] [FIO-ARGS...]: one
# sequential pass over the whole FILE with crc32c verify headers.  MODE
# "write" writes and reads back, "verify" only verifies what the same job
# (same SEED and BS) wrote on the other side.
skf_fio_whole()
{
	local file=$1 mode=$2 seed=$3 bs=${4:-64k} direct=${5:-0}
	local engine=${6:-psync} extra
	shift 3
	[ $# -gt 0 ] && shift
	[ $# -gt 0 ] && shift
	[ $# -gt 0 ] && shift
	case "$mode" in
	write) extra="--do_verify=1" ;;
	verify) extra="--verify_only" ;;
	esac
	fio --name="whole$seed" --filename="$file" --rw=write --bs="$bs" \
	    --size=100% --ioengine="$engine" --iodepth=8 --direct="$direct" \
	    --verify=crc32c --verify_fatal=1 --randrepeat=1 \
	    --randseed="$seed" --verify_state_save=0 --output=/dev/null \
	    $extra "$@"
}

# skf_stat DISK KEY: one counter of splitkit_front for /dev/DISK.
skf_stat()
{
	sed -n "s/^$2 //p" "/sys/block/$1/device/skf_stats"
}

# skf_feature_line DISK: the "queues N, ring order ..." line logged on
# connect (last one for DISK).
skf_feature_line()
{
	dmesg | grep "splitkit_front.*$1: queues" | tail -n 1
}

# skf_dmesg_comments [N]: the last N (20) kernel messages about block
# devices and splitkit, as KTAP comments (for diagnosing a failure).
skf_dmesg_comments()
{
	dmesg | grep -iE 'splitkit|xvd|blk|i/o error|buggy|bug:|warn' |
		tail -n "${1:-20}" | cut -c 1-200 | while IFS= read -r l; do
			sk_comment "dmesg: $l"
		done
}
