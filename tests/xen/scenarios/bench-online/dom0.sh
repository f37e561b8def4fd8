# SPDX-License-Identifier: GPL-2.0
#
# bench-online (dom0 half): what an online operation of splitkit_back
# costs the guest and how fast it runs (issue 11's table; make
# bench-online, tests/xen/bench-online.sh prints it).
#
#   QEMU virtio disk (build/xen/<kver>/scratch.img) = /dev/vda in dom0,
#   ext4 on /bench:
#     img.raw      BO_MIB MiB, prefilled (fio, 1 MiB sequential writes)
#     t-cmp.qcow2  its qemu-img conversion (64 KiB clusters), the first
#                  half discarded (splitkit img discard): compaction
#                  moves the second half into the holes
#     t-base.qcow2 the conversion again; t-child.qcow2 over it holds the
#                  first half rewritten (splitkit img write): what a
#                  commit moves
#
# Each round copies the templates (no round sees another's file layout),
# drops dom0's page cache and starts a guest on four disks:
#     xvda cmp-busy   compaction, the guest reading it (busy)
#     xvdb cmp-idle   compaction, the guest idle
#     xvdc child-idle commit into its own base copy, the guest idle
#     xvdd child-busy commit, the guest reading it
#     xvde child-stream stream (the base's half the child lacks into the
#                  child, then the backing file dropped), the guest idle
#     xvdf child-sbusy  stream, the guest reading it
# Busy: the guest measures 4 KiB random read latency at queue depth 1
# before (lat-before-<disk>), then while the operation runs
# (lat-during-<disk>; domU.sh).  dom0 times every operation from its
# start to its end as image_op/state shows it (/proc/uptime, 10 ms), with
# its clusters moved.  Then, on the same filesystem and with the page
# cache dropped before each: a sequential copy of as many bytes as the
# operation moved (dd, 1 MiB blocks, then fsync: the bound the issue
# names), "qemu-img convert" of a fresh t-cmp.qcow2 copy (the offline
# compaction), "qemu-img commit" of a fresh child copy (the offline
# merge) and "qemu-img rebase -b ''" of another (the offline stream).  One KTAP comment per figure:
#   BENCH-ONLINE round=R what=W ms=N mib=N held_us=N [p99_us=N max_us=N ios=N runs=N]
# (held_us: image_op/held_max_us, the longest the steps held the image
# lock at a stretch.)
# An operation that does not end done fails; speed never does.

. /lib/splitkit/blk.sh

BO=/bench
BO_MIB=512
BO_ROUNDS=3
[ -f /etc/splitkit/bench.env ] && . /etc/splitkit/bench.env
BO_MIB=${BENCH_ONLINE_MIB:-$BO_MIB}
BO_STEP=${BENCH_ONLINE_STEP:-16}
BO_ROUNDS=${BENCH_ROUNDS:-$BO_ROUNDS}
name=bench-online

# bo_ms: dom0's uptime in milliseconds (10 ms steps).
bo_ms()
{
	awk '{ printf "%d\n", $1 * 1000 }' /proc/uptime
}

bo_drop()
{
	sync && echo 3 >/proc/sys/vm/drop_caches
}

bo_templates()
{
	local half=$((BO_MIB / 2))

	fio --name=prefill --filename=$BO/img.raw --rw=write --bs=1m \
	    --iodepth=8 --ioengine=libaio --direct=1 --size=${BO_MIB}m \
	    --randseed=11 --output=/dev/null &&
	qemu-img convert -q -f raw -O qcow2 -o cluster_size=64k \
		$BO/img.raw $BO/t-cmp.qcow2 &&
	splitkit img discard $BO/t-cmp.qcow2 0 ${half}M >/dev/null &&
	qemu-img convert -q -f raw -O qcow2 -o cluster_size=64k \
		$BO/img.raw $BO/t-base.qcow2 &&
	fio --name=rewrite --filename=$BO/new.raw --rw=write --bs=1m \
	    --iodepth=8 --ioengine=libaio --direct=1 --size=${half}m \
	    --randseed=12 --output=/dev/null &&
	(cd $BO && qemu-img create -q -f qcow2 -o cluster_size=64k \
		-b t-base.qcow2 -F qcow2 t-child.qcow2) &&
	splitkit img write $BO/t-child.qcow2 $BO/new.raw 0 >/dev/null &&
	rm -f $BO/new.raw
}

# bo_child NAME: a fresh copy of the child over its own base copy.
bo_child()
{
	cp $BO/t-base.qcow2 $BO/$1-base.qcow2 &&
		cp $BO/t-child.qcow2 $BO/$1.qcow2 &&
		(cd $BO && qemu-img rebase -u -b "$1-base.qcow2" -F qcow2 "$1.qcow2")
}

bo_copies()
{
	cp $BO/t-cmp.qcow2 $BO/cmp-busy.qcow2 &&
		cp $BO/t-cmp.qcow2 $BO/cmp-idle.qcow2 &&
		bo_child child-idle && bo_child child-busy &&
		bo_child child-stream && bo_child child-sbusy
}

# bo_op ROUND WHAT DEVID OP [DISK]: run OP on the disk, timed; with DISK,
# the guest measures latency on it meanwhile.  One BENCH-ONLINE line.
bo_op()
{
	local r=$1 what=$2 op=$4 disk=${5:-} t0 t1 st moved held
	local d=/sys/bus/xen-backend/devices/vbd-$DOMID-$3/image_op lat=""

	echo "$BO_STEP" >"$d/step_clusters" || return 1
	t0=$(bo_ms)
	echo "$op" >"$d/op" || return 1
	[ -z "$disk" ] || sk_hs_send_to "$name" "running-$disk" >/dev/null
	# read is a builtin: no process in dom0 while it polls
	read -r st <"$d/state"
	while [ "$st" = running ]; do
		sleep 0.05
		read -r st <"$d/state"
	done
	t1=$(bo_ms)
	moved=$(cat "$d/moved")
	held=$(cat "$d/held_max_us")
	if [ -n "$disk" ]; then
		sk_hs_send_to "$name" "done-$disk" >/dev/null
		set -- $(sk_hs_wait_from "$name" "lat-during-$disk" 600)
		lat="p99_us=${1:-0} max_us=${2:-0} ios=${3:-0} runs=${4:-0}"
	fi
	sk_comment "BENCH-ONLINE round=$r what=$what ms=$((t1 - t0)) mib=$((moved / 16)) held_us=$held $lat"
	test "$st" = done
}

# bo_before ROUND DISK: the guest's latency before the operation.
bo_before()
{
	sk_blk_domain_wait "$name" 300 up || return 1	# created in the background
	set -- "$1" "$2" $(sk_hs_wait_from "$name" "lat-before-$2" 600)
	sk_comment "BENCH-ONLINE round=$1 what=before-$2 p99_us=${3:-0} max_us=${4:-0} ios=${5:-0}"
	test -n "${3:-}"
}

# bo_offline ROUND MIB: the bounds and anchors, no guest.
bo_offline()
{
	local r=$1 t0 t1

	bo_drop
	t0=$(bo_ms)
	dd if=$BO/img.raw of=$BO/seq.copy bs=1M count="$2" conv=fsync 2>/dev/null ||
		return 1
	t1=$(bo_ms)
	sk_comment "BENCH-ONLINE round=$r what=seq-copy ms=$((t1 - t0)) mib=$2"
	rm -f $BO/seq.copy
	cp $BO/t-cmp.qcow2 $BO/conv-in.qcow2 && bo_drop || return 1
	t0=$(bo_ms)
	qemu-img convert -q -O qcow2 $BO/conv-in.qcow2 $BO/conv-out.qcow2 &&
		sync || return 1
	t1=$(bo_ms)
	sk_comment "BENCH-ONLINE round=$r what=qemu-img-convert ms=$((t1 - t0)) mib=$((BO_MIB / 2))"
	rm -f $BO/conv-in.qcow2 $BO/conv-out.qcow2
	bo_child commit-off && bo_drop || return 1
	t0=$(bo_ms)
	qemu-img commit -q $BO/commit-off.qcow2 && sync || return 1
	t1=$(bo_ms)
	sk_comment "BENCH-ONLINE round=$r what=qemu-img-commit ms=$((t1 - t0)) mib=$((BO_MIB / 2))"
	rm -f $BO/commit-off.qcow2 $BO/commit-off-base.qcow2
	bo_child stream-off && bo_drop || return 1
	t0=$(bo_ms)
	(cd $BO && qemu-img rebase -q -f qcow2 -b "" stream-off.qcow2) &&
		sync || return 1
	t1=$(bo_ms)
	sk_comment "BENCH-ONLINE round=$r what=qemu-img-rebase ms=$((t1 - t0)) mib=$((BO_MIB / 2))"
	rm -f $BO/stream-off.qcow2 $BO/stream-off-base.qcow2
}

# bo_round R
bo_round()
{
	local r=$1 pid

	sk_check "round $r: fresh copies of the images" bo_copies || return
	bo_drop
	sk_domU_run domU.cfg "$(sk_guard 3600)" &
	pid=$!
	if sk_check "round $r: guest measured before the compaction" \
		bo_before "$r" xvda; then
		DOMID=$(xl domid "$name")
		sk_check "round $r: compaction, guest reading" \
			bo_op "$r" compact-busy 51712 compact xvda
		sk_check "round $r: guest measured before the commit" \
			bo_before "$r" xvdd
		sk_check "round $r: commit, guest reading" \
			bo_op "$r" commit-busy 51760 commit xvdd
		sk_check "round $r: guest measured before the stream" \
			bo_before "$r" xvdf
		sk_check "round $r: stream, guest reading" \
			bo_op "$r" stream-busy 51792 stream xvdf
		sk_check "round $r: guest idle" \
			sk_hs_wait_from "$name" idle 600
		bo_drop
		sk_check "round $r: compaction, guest idle" \
			bo_op "$r" compact-idle 51728 compact
		bo_drop
		sk_check "round $r: commit, guest idle" \
			bo_op "$r" commit-idle 51744 commit
		bo_drop
		sk_check "round $r: stream, guest idle" \
			bo_op "$r" stream-idle 51776 stream
	fi
	# the guest waits for "end" (also after a failure here)
	sk_hs_send_to "$name" end >/dev/null 2>&1
	wait "$pid"
	sk_check "round $r: the compacted image checks clean" \
		qemu-img check -q $BO/cmp-idle.qcow2
	sk_check "round $r: bounds and anchors" \
		bo_offline "$r" "$((BO_MIB / 2))"
	rm -f $BO/cmp-*.qcow2 $BO/child-*.qcow2
}

sk_check "load splitkit_back" sk_blk_load_back || return
sk_check "load virtio_pci, virtio_blk and ext4" \
	sk_modprobe virtio_pci virtio_blk crc32c_generic ext4 || return
sk_check "/dev/vda appeared" sk_wait_block /dev/vda 60 || return
sk_check "ext4 on /dev/vda, mounted on $BO" \
	sh -c "mkfs.ext4 -q -F /dev/vda && mkdir -p $BO && mount -t ext4 /dev/vda $BO" ||
	return
sk_check "templates: $BO_MIB MiB image, half discarded; a child over its base holding half" \
	bo_templates || return
sk_comment "BENCH-ONLINE-INFO mib=$BO_MIB rounds=$BO_ROUNDS step=$BO_STEP t-cmp_kib=$(du -k $BO/t-cmp.qcow2 | cut -f1) t-child_kib=$(du -k $BO/t-child.qcow2 | cut -f1)"
r=1
while [ "$r" -le "$BO_ROUNDS" ]; do
	bo_round "$r"
	r=$((r + 1))
done
umount $BO
sk_check "rmmod splitkit_back" rmmod splitkit_back
sk_check "dmesg: no oops, warning or hung task" sk_blk_dmesg_clean
