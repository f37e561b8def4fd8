# SPDX-License-Identifier: GPL-2.0
#
# bench-blk (dom0 half): block pair throughput and per-I/O cost, one boot,
# one backing device (make bench-blk; tests/xen/bench-blk.sh prints the
# table).
#
#   QEMU virtio disk (build/xen/<kver>/scratch.img) = /dev/vda in dom0
#     native:     fio in dom0 on /dev/vda                    (upper bound)
#     stock:      xen-blkback   on /dev/vda ==> xen-blkfront   in bench-stock
#     ours:       splitkit_back on /dev/vda ==> splitkit_front in bench-ours
#     stockfront: splitkit_back on /dev/vda ==> xen-blkfront   (mixed)
#     stockback:  xen-blkback   on /dev/vda ==> splitkit_front (mixed)
#   or, with the image pairs (make bench-qcow2), an ext4 on /dev/vda with
#   /bench/img.raw (BENCH_IMAGE_MIB, prefilled) and /bench/img.qcow2 (its
#   qemu-img conversion, 64 KiB clusters, every cluster allocated):
#     native:     fio in dom0 on /bench/img.raw              (upper bound)
#     qdisk:      QEMU qdisk    on img.qcow2 ==> splitkit_front
#     qcow2:      splitkit_back on img.qcow2 ==> splitkit_front
#     qcow2wb:    the same with splitkit_back's qcow2_writeback=y
#     raw:        splitkit_back on img.raw   ==> splitkit_front
#   dom0's page cache is dropped before each guest, so no pair starts with
#   the image cached (splitkit_back reads a raw file with O_DIRECT, qcow2
#   through the page cache; QEMU as libxl sets it up).
#
# native runs once; then BENCH_ROUNDS rounds of the pairs in BENCH_PAIRS,
# each round every pair in that order (A B A B ...: a host whose load
# drifts shows as spread between rounds, not as a difference between
# pairs).  The same fio jobs (lib/bench.sh) run everywhere, each guest after an
# idle window that measures what each domain does doing nothing.  For each
# job (and "idle") dom0 prints a KTAP comment
#   BENCH pair=P round=R job=J ios=N kib=N ms=N win_ios=N
#         domU_win_ms=N domU_cpu_ms=N domU_cs=N domU_ev=N domU_<stat>=N...
#         dom0_win_ms=N dom0_cpu_ms=N dom0_cs=N dom0_ev=N dom0_<stat>=N...
# (fio's I/Os, KiB and milliseconds; the I/Os done inside the counting
# window in the middle of the job, and over that window each domain's busy
# CPU time, context switches, events received on the disk's event
# channels and its driver's counters: splitkit_back's grant copies, maps,
# unmaps, bytes copied and completion runs (one push each), splitkit_front's bytes copied and grants made
# and ended; the native bound has only dom0_ fields).  dom0 follows the
# guest's console while it runs and counts its own side between the
# guest's BENCH-MARK start and stop lines, with shell builtins only (no
# process started while it counts).  tests/xen/bench-blk.sh, on the host,
# makes the tables.  A job whose fio fails is a failing result; speed
# never is.

. /lib/splitkit/blk.sh
. /lib/splitkit/bench.sh

# the kernel log's length before the bench: its last check
# (skt_kreport_clean, lib/kreport.sh) reads what came after (dom0's own
# boot is not the bench's)
bench_dmesg0=$(dmesg | wc -l)
BENCH_DEV=/dev/vda
BENCH_IMG=/bench
BENCH_IMAGES=0
for pair in $BENCH_PAIRS; do
	case "$pair" in qdisk|qcow2|qcow2wb|raw) BENCH_IMAGES=1 ;; esac
done

# bench_native: dom0 idle, then every job straight on the scratch disk
# (the raw image file on it, with the image pairs).
bench_native()
{
	local target=$BENCH_DEV
	[ "$BENCH_IMAGES" -eq 0 ] || target=$BENCH_IMG/img.raw
	bench_report native 1 idle "$(bench_idle)"
	bench_run "$target" "${BENCH_DEV##*/}" >/tmp/bench-res 2>/tmp/bench-err
	bench_results native $? bench_native_report
}

bench_native_report() # JOB RES
{
	bench_report native 1 "$1" "$2"
}

# bench_pair PAIR ROUND: load the pair's backend, run its guest with its
# frontend, follow it, relay its results.
bench_pair()
{
	local pair=$1 round=$2 back front name cfg=/tmp/bench-$1.cfg timeout wb
	local disk=""
	case "$pair" in
	stock)		back=xen-blkback front=xen-blkfront ;;
	ours)		back=splitkit_back front=splitkit_front ;;
	stockfront)	back=splitkit_back front=xen-blkfront ;;
	stockback)	back=xen-blkback front=splitkit_front ;;
	qdisk)		back=qdisk front=splitkit_front
			disk="backendtype=qdisk, format=qcow2, target=$BENCH_IMG/img.qcow2" ;;
	qcow2|qcow2wb)	back=splitkit_back front=splitkit_front
			disk="script=splitkit, target=qcow2:$BENCH_IMG/img.qcow2" ;;
	raw)		back=splitkit_back front=splitkit_front
			disk="script=splitkit, target=$BENCH_IMG/img.raw" ;;
	*)		sk_fail "bench: pair '$pair' is one of stock, ours, stockfront, stockback, qdisk, qcow2, qcow2wb, raw"
			return 1 ;;
	esac
	if [ "$BENCH_IMAGES" -eq 1 ]; then
		# no pair starts with the image in dom0's page cache
		sync
		echo 3 >/proc/sys/vm/drop_caches
	fi
	if [ "$back" = qdisk ]; then
		# QEMU, started by libxl for the guest, is the backend
		BENCH_STATKEYS=""
	elif [ "$back" = xen-blkback ]; then
		sk_check "$pair round $round: load xen-blkback" \
			bench_load xen-blkback splitkit_back || return 1
		BENCH_STATKEYS=""
	else
		sk_check "$pair round $round: load splitkit_back" \
			sk_blk_load_back || return 1
		BENCH_STATKEYS="gcopy_segs gcopy_bytes grant_maps grant_unmaps zc_segs completion_runs direct_answers"
		# read at each connect: the guest below gets this setting
		sk_check "$pair round $round: splitkit_back zero_copy=$BENCH_ZERO_COPY" \
			sh -c "echo $BENCH_ZERO_COPY >/sys/module/splitkit_back/parameters/zero_copy" ||
			return 1
		# qcow2wb: the write-back pass on; every other pair: the default
		wb=${BENCH_WB_DEFAULT:=$(cat /sys/module/splitkit_back/parameters/qcow2_writeback)}
		[ "$pair" = qcow2wb ] && wb=Y
		sk_check "$pair round $round: splitkit_back qcow2_writeback=$wb" \
			sh -c "echo $wb >/sys/module/splitkit_back/parameters/qcow2_writeback" ||
			return 1
	fi
	BENCH_STATDIR=""
	name=bench-$pair
	sed -e "s|^name = .*|name = \"$name\"|" \
	    -e "s|sk\.front=[^ \"]*|sk.front=$front $(bench_arg_line)/$round|" \
	    ${disk:+-e "s|^disk = .*|disk = [ \"vdev=xvda, access=rw, $disk\" ]|"} \
		guest.cfg >"$cfg"
	# a guest's boot and fio's start take a minute or two under TCG,
	# several times that on a loaded host (run.sh's SCENARIO_TIMEOUT)
	timeout=$((480 + $(echo $BENCH_JOBS | wc -w) * (BENCH_RAMP + BENCH_RUNTIME + 8) * 3 + BENCH_WINDOW))
	rm -f "$SK_CONSOLE_DIR/guest-$name.log"
	if ! xl create "$cfg" >/tmp/sk-xl-create.log 2>&1; then
		while IFS= read -r l; do
			sk_comment "$l"
		done </tmp/sk-xl-create.log
		sk_fail "$pair round $round: xl create"
		return 1
	fi
	sk_ok "$pair round $round: xl create"
	bench_follow "$pair" "$round" "$name" "$timeout"
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
# splitkit_back is loaded by sk_blk_load_back, with this run's parameters.
bench_load()
{
	bench_unload "$2" || return 1
	sk_modprobe "$1"
}

sk_check "load virtio_pci and virtio_blk (the scratch disk)" \
	sk_modprobe virtio_pci virtio_blk || return
sk_check "$BENCH_DEV appeared" sk_wait_block "$BENCH_DEV" 60 || return
sk_comment "BENCH-INFO backing=virtio-blk size_mib=$(($(cat /sys/block/vda/size) / 2048)) runtime_s=$BENCH_RUNTIME ramp_s=$BENCH_RAMP window_s=$BENCH_WINDOW dom0_vcpus=$(grep -c '^processor' /proc/cpuinfo)"
if [ "$BENCH_IMAGES" -eq 0 ]; then
	sk_check "prefill $BENCH_DEV (1 MiB sequential writes)" \
		fio --name=prefill --filename="$BENCH_DEV" --rw=write --bs=1m \
		    --iodepth=8 --ioengine=libaio --direct=1 --size=100% \
		    --output=/dev/null || return
else
	sk_check "load ext4" sk_modprobe ext4 crc32c_generic || return
	sk_check "ext4 on $BENCH_DEV, mounted on $BENCH_IMG" \
		sh -c "mkfs.ext4 -q -F $BENCH_DEV && mkdir -p $BENCH_IMG && mount -t ext4 $BENCH_DEV $BENCH_IMG" ||
		return
	sk_check "prefill $BENCH_IMG/img.raw ($BENCH_IMAGE_MIB MiB, 1 MiB sequential writes)" \
		fio --name=prefill --filename="$BENCH_IMG/img.raw" --rw=write \
		    --bs=1m --iodepth=8 --ioengine=libaio --direct=1 \
		    --size="${BENCH_IMAGE_MIB}m" --output=/dev/null || return
	sk_check "qemu-img converts it to $BENCH_IMG/img.qcow2 (64 KiB clusters, all allocated)" \
		qemu-img convert -q -f raw -O qcow2 -o cluster_size=64k \
			"$BENCH_IMG/img.raw" "$BENCH_IMG/img.qcow2" || return
	sk_comment "BENCH-INFO image_mib=$BENCH_IMAGE_MIB qcow2_kib=$(du -k "$BENCH_IMG/img.qcow2" | cut -f1)"
fi

sk_comment "bench: pairs $BENCH_PAIRS, $BENCH_ROUNDS round(s), splitkit_back zero_copy=$BENCH_ZERO_COPY; jobs $BENCH_JOBS, ${BENCH_RAMP} s ramp + ${BENCH_RUNTIME} s each, ${BENCH_WINDOW} s windows"
bench_native

round=1
while [ "$round" -le "$BENCH_ROUNDS" ]; do
	for pair in $BENCH_PAIRS; do
		bench_pair "$pair" "$round"
	done
	round=$((round + 1))
done
dmesg | grep -E 'splitkit|vbd' | tail -n 20 | sed 's/^\[[ 0-9.]*\] //' |
	while IFS= read -r l; do
		sk_comment "dmesg: $l"
	done
[ "$BENCH_IMAGES" -eq 0 ] || umount "$BENCH_IMG"
sk_check "rmmod the backends" sh -c \
	"! [ -d /sys/module/splitkit_back ] || rmmod splitkit_back; ! [ -d /sys/module/xen_blkback ] || rmmod xen_blkback"
sk_check "dmesg: no kernel report (oops, warning, hung task...) since the bench began" \
	skt_kreport_clean "$bench_dmesg0"
