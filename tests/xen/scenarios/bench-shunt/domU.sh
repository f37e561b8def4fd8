# SPDX-License-Identifier: GPL-2.0
#
# bench-shunt (guest half): the same fio jobs (lib/bench.sh) on one file
# of the ext4 dom0 made, /mnt/bench.dat, by three paths, round after
# round (sk.rounds=), each job through the three paths in turn, the order
# rotated after every job (first:
#   emul   the filesystem mounted from the emulated IDE disk (sdX), no
#          shunt loaded: every I/O through QEMU's device model
#   shunt  the same mount, splitkit_shunt loaded and switched to the PV
#          disk (`splitkit shunt on`): sdX's bios carried by xvda; after
#          the jobs `splitkit shunt off` and rmmod
#   pv     the filesystem unmounted and mounted from xvda itself
#          (splitkit_front, claimed), then mounted from sdX again)
# After every mount a one-second fio job pages fio in again.
# Each job's numbers go to dom0 as "BENCH-RES job=<path>_<round>_<job>"
# console lines, whose counting windows dom0 follows (BENCH-MARK lines
# with the same key) to add its own side; each switch's held time and
# the most bios it held as "BENCH-RES job=held_<round>_<to> ns=N bios=N".
# Every path must carry its jobs alone: the other disk's completed
# requests must not move while they run.  fio and its libraries come
# from dom0 on the filesystem (/mnt/sk), run by their own loader; the
# small initramfs has busybox only.  Speed is never a result; an fio
# error, a path that did not carry its I/O or a switch that did not
# happen is.

. /lib/splitkit/bench.sh
. /lib/splitkit/shuntwriters.sh

SYS=/sys/kernel/splitkit_shunt
CLAIM=/sys/module/splitkit_front/parameters/claim
rounds=$(sk_cmdline sk.rounds) || rounds=1

# fio and the splitkit tool with dom0's libraries (lib/bench.sh calls fio)
fio()
{
	/mnt/sk/ld-linux-x86-64.so.2 --library-path /mnt/sk /mnt/sk/fio "$@"
}

bs_tool()
{
	/mnt/sk/ld-linux-x86-64.so.2 --library-path /mnt/sk /mnt/sk/splitkit "$@"
}

# requests a disk completed: reads + writes (/sys/block/X/stat fields 1, 5)
bs_ios()
{
	awk '{ print $1 + $5 }' "/sys/block/$1/stat"
}

bs_path_is()
{
	[ "$(cat $SYS/path 2>/dev/null)" = "$1" ]
}

bs_diag()
{
	sk_comment "diag ($1): $EMUL $(bs_ios "$EMUL") xvda $(bs_ios xvda) requests"
	[ -d $SYS ] && (cd $SYS && grep . *) 2>&1 | tr '\n' ' ' |
		while IFS= read -r l; do sk_comment "shunt: $l"; done
	dmesg | grep -iE 'shunt|splitkit|ata[0-9]|EXT4|I/O error|BUG|WARN|Oops' |
		tail -n 20 | sed 's/^\[[ 0-9.]*\] //' |
		while IFS= read -r l; do sk_comment "dmesg: $l"; done
}

# bs_jobs PATH ROUND DISK OTHER: run the jobs on /mnt/bench.dat, DISK
# carrying them; report each; OTHER must carry none.
bs_jobs()
{
	local path=$1 round=$2 o0 o1

	o0=$(bs_ios "$4")
	BENCH_TAG=${path}_${round}_
	bench_run /mnt/bench.dat "$3" >/tmp/bench-res 2>/tmp/bench-err
	bench_results "$path round $round" $? bench_say_res
	BENCH_TAG=""
	o1=$(bs_ios "$4")
	sk_check "$path round $round: $3 carried the jobs, $4 none ($o0 -> $o1 requests)" \
		test "$o0" = "$o1"
}

# bs_clock WHEN: the guest's clocksource (the kernel may change it when its
# watchdog finds one unstable; every block I/O reads the clock)
bs_clock()
{
	local cs=/sys/devices/system/clocksource/clocksource0
	sk_comment "clocksource $1: $(cat $cs/current_clocksource) (of $(cat $cs/available_clocksource))"
}

# bs_switch TO ROUND: splitkit shunt on|off, wait for the path, report
# the held time.
bs_switch()
{
	local how=on
	[ "$1" = emul ] && how=off
	sk_check "round $2: splitkit shunt $how" bs_tool shunt "$how" &&
		sk_check "round $2: on the $1 path" skt_wait 300 bs_path_is "$1" ||
		{ bs_diag "switch to $1"; return 1; }
	# one held time per direction and round (the round's first job)
	[ -n "$bs_say_held" ] &&
		sk_say "BENCH-RES job=held_${2}_$1 ns=$(cat $SYS/last_held_ns) bios=$(cat $SYS/max_held)"
	return 0
}

# bs_remount DISK: the filesystem mounted from DISK instead, fio's pages
# read in again by a short warm-up job (the page cache of the other face
# is gone with its mount)
bs_remount()
{
	umount /mnt && mount -t ext4 "/dev/$1" /mnt && bs_warm
}

# bs_warm: one second of 4 KiB random reads, results thrown away: fio's
# code and libraries paged in before a path's jobs, after every mount
bs_warm()
{
	fio --name=warm --filename=/mnt/bench.dat --rw=randread --bs=4k \
	    --ioengine=libaio --direct=1 --time_based --runtime=1 \
	    --output=/dev/null
}

# bs_path PATH ROUND: one path's jobs; each starts and ends mounted from
# the emulated disk, the shunt not loaded
bs_path()
{
	case "$1" in
	emul)
		bs_jobs emul "$2" "$EMUL" xvda ;;
	shunt)
		sk_check "round $2: load splitkit_shunt emul=/dev/$EMUL pv=/dev/xvda" \
			sk_insmod splitkit_shunt emul="/dev/$EMUL" pv=/dev/xvda ||
			{ bs_diag "insmod"; return 1; }
		bs_switch pv "$2" || return 1
		bs_jobs shunt "$2" xvda "$EMUL"
		bs_switch emul "$2" || return 1
		sk_check "round $2: rmmod splitkit_shunt" rmmod splitkit_shunt ;;
	pv)
		sk_check "round $2: mount xvda instead of $EMUL" bs_remount xvda ||
			return 1
		bs_jobs pv "$2" xvda "$EMUL"
		sk_check "round $2: mount $EMUL again" bs_remount "$EMUL" ;;
	esac
}

sk_check "running in an HVM guest" grep -qi hvm /sys/hypervisor/guest_type
sk_check "load ata_piix and sd_mod" sk_modprobe ata_piix sd_mod
sk_check "emulated disk /dev/sda appeared" sk_wait_block /dev/sda 120 || return
EMUL=$(shunt_emul_disk 0)
sk_check "the config's disk 0 is emulated as ${EMUL:-?} (IDE primary master)" \
	test -n "$EMUL" || return
sk_check "load splitkit_front" sk_insmod splitkit_front || return
sk_check "claim vbd 51712 (the PV twin of $EMUL)" sh -c "echo 51712 >$CLAIM"
sk_check "PV disk /dev/xvda appeared" sk_wait_block /dev/xvda 120 ||
	{ bs_diag "no xvda"; return; }
sk_check "load ext4" sk_modprobe crc32c_generic ext4 || return
mkdir -p /mnt
sk_check "mount $EMUL" mount -t ext4 "/dev/$EMUL" /mnt || return
# the first start pages fio's libraries in (not a job's time)
sk_check "fio runs from the disk" bs_warm || return
sk_comment "$(dmesg | grep -E 'splitkit_front.*xvda: queues' | tail -n 1 | sed 's/^\[[ 0-9.]*\] //')"
BENCH_STATDIR=/sys/block/xvda/device/skf_stats
BENCH_STATKEYS="copied_bytes grant_misses grants_reclaimed"
sk_comment "bench: $rounds round(s), jobs $BENCH_JOBS, ${BENCH_RAMP} s ramp + ${BENCH_RUNTIME} s each, ${BENCH_WINDOW} s windows, file $(($(stat -c %s /mnt/bench.dat) >> 20)) MiB"
bs_clock "at start"
BENCH_TAG=idle_1_
bench_say_res idle "$(bench_idle)"
BENCH_TAG=""

# Job by job: each job runs through the three paths one after the other
# (the paths compared seconds apart, not minutes: the emulated host's
# speed drifts), the paths in another order for every job (emul shunt
# pv, shunt pv emul, pv emul shunt, ...), so that none always runs first
# or last.
round=1
order="emul shunt pv"
all_jobs=$BENCH_JOBS
while [ "$round" -le "$rounds" ]; do
	bs_say_held=1
	for job in $all_jobs; do
		BENCH_JOBS=$job
		for path in $order; do
			bs_path "$path" "$round" || break 3
		done
		bs_say_held=""
		order="${order#* } ${order%% *}"
	done
	BENCH_JOBS=$all_jobs
	bs_clock "after round $round"
	round=$((round + 1))
done
BENCH_JOBS=$all_jobs
sk_check "every round ran" test "$round" -gt "$rounds"
sk_comment "skf_stats: $(cd /sys/block/xvda/device/skf_stats && grep . * | tr ':\n' '= ')"
sk_check "umount" umount /mnt
sk_check "dmesg: no oops, warning or I/O error" \
	sh -c "! dmesg | grep -E 'BUG|WARNING|Oops|I/O error|EXT4-fs error'"
