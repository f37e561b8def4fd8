# SPDX-License-Identifier: GPL-2.0
#
# Block-device helpers of splitkit's kselftest package, shared with the
# Xen-in-QEMU harness (tests/xen/lib/blk.sh wraps each as sk_blk_*): whole-
# disk fio jobs with crc32c verify headers, so data written on one side
# (dom0 or a guest) is verified by the same job in --verify_only mode on
# the other; splitkit_front's counters; a guest's diagnostics.  What is
# said goes through $SKT_SAY (default skt_comment).

_skt_blk_say()
{
	${SKT_SAY:-skt_comment} "$@"
}

# skt_blk_fio FILE SEED MODE [BS] [DIRECT] [ENGINE] [FIO-ARGS...]: one
# sequential pass over the whole of FILE with crc32c verify headers.  SEED
# picks the data; MODE "write" writes and reads back, "verify" only checks
# what the same job (same SEED and BS, default 64k) wrote, possibly on the
# other side; DIRECT 1 bypasses the page cache; ENGINE defaults to psync.
skt_blk_fio()
{
	local file=$1 mode=$3 seed=$2 bs=${4:-64k} direct=${5:-0}
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

# skt_blk_fio_rand FILE SEED: random writes of 4 KiB to 256 KiB (direct
# and indirect requests) over FILE, each verified when read back.
skt_blk_fio_rand()
{
	fio --name="rand$2" --filename="$1" --rw=randwrite --bsrange=4k-256k \
	    --ioengine=psync --direct=1 --size=100% --io_size=64m \
	    --verify=crc32c --verify_fatal=1 --randrepeat=1 --randseed="$2" \
	    --verify_state_save=0 --output=/dev/null --do_verify=1
}

# skt_blk_front_stat DISK [KEY]: one counter of splitkit_front for
# /dev/DISK (sysfs skf_stats/KEY, one value per file; nothing if there is
# no such counter); without KEY, every counter as "KEY VALUE" lines.
skt_blk_front_stat()
{
	local f

	if [ -n "${2:-}" ]; then
		cat "/sys/block/$1/device/skf_stats/$2" 2>/dev/null
		return 0
	fi
	for f in "/sys/block/$1/device/skf_stats/"*; do
		[ -r "$f" ] && echo "${f##*/} $(cat "$f")"
	done
	return 0
}

# skt_blk_front_features DISK: what splitkit_front negotiated for DISK (the
# "queues N, ring order ..." line it logs on connect), or what the stock
# xen-blkfront logged.
skt_blk_front_features()
{
	dmesg | grep -E "splitkit_front.*$1: queues|blkfront: $1:" |
		tail -n 1 | sed 's/^\[[ 0-9.]*\] //'
}

# skt_blk_guest_diag: a guest's stuck tasks, requests in flight, block
# interrupts and recent kernel messages, as comments.
skt_blk_guest_diag()
{
	local p
	for p in /proc/[0-9]*; do
		case "$(cat "$p/comm" 2>/dev/null)" in
		xenwatch|modprobe|insmod)
			_skt_blk_say "guest stack $(cat "$p/comm"): $(tr '\n' ' ' <"$p/stack" 2>/dev/null)" ;;
		esac
	done
	for p in /sys/block/xvd*/inflight; do
		[ -r "$p" ] && _skt_blk_say "guest $p: $(cat "$p")"
	done
	grep -E 'blkif|xen-dyn' /proc/interrupts | while IFS= read -r l; do
		_skt_blk_say "guest irq $l"
	done
	dmesg | tail -n 30 | sed 's/^\[[ 0-9.]*\] //' | while IFS= read -r l; do
		_skt_blk_say "guest dmesg: $l"
	done
}

# skt_blk_dom0_dmesg [SINCE]: dom0's block backend messages (splitkit_back,
# xen-blkback, xenbus backends) after dmesg line SINCE (default 0: all), the
# last 60, without timestamps, as comments.
skt_blk_dom0_dmesg()
{
	skt_dmesg_since "${1:-0}" |
		grep -E 'vbd|splitkit|blkback|xen-backend' | tail -n 60 |
		sed 's/^\[[ 0-9.]*\] //' | while IFS= read -r l; do
			_skt_blk_say "dmesg: $l"
		done
}

# skt_blk_guest_dmesg [N]: the last N (20) kernel messages about block
# devices and splitkit, as comments (for diagnosing a failure).
skt_blk_guest_dmesg()
{
	dmesg | grep -iE 'splitkit|xvd|blk|i/o error|buggy|bug:|warn' |
		tail -n "${1:-20}" | cut -c 1-200 | while IFS= read -r l; do
			_skt_blk_say "dmesg: $l"
		done
}
