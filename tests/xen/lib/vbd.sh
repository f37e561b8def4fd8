# SPDX-License-Identifier: GPL-2.0
#
# The block-pair interop suite: one disk layout and one set of checks that
# every frontend/backend pair of the matrix runs (vbd-* scenarios), so the
# pairs differ only in which drivers sit at each end.
#
#   dom0: /run/vbd-data.img  (64 MiB) ==> xvda  whole-disk fio, both ways
#         /run/vbd-fs.img    (64 MiB) ==> xvdb  mkfs, files, fsck (+ dom0)
#         /run/vbd-disc.img  (32 MiB) ==> xvdc  discard frees file space
#         /run/vbd-ro.img    ( 8 MiB) ==> xvdd  access=ro: writes refused
#
# xvda: dom0 writes the whole disk (seed 1); the guest verifies it, runs
# random 4K-256K O_DIRECT writes with verify, then writes the whole disk
# with 128 KiB direct I/O at depth 8 (indirect requests, several in
# flight; seed 2), which dom0 verifies once the guest is gone.  With
# splitkit_front the guest also re-verifies seed 2 through io_uring
# polled I/O and checks the completions were reaped by polling.
#
# What was negotiated is asserted per pair, from the offers table
# VBD_OFFERS below: while the guest is connected dom0 reads both ends'
# XenStore keys (the backend offered what the table says; the frontend
# took the most both allow: rings, ring-page-order, persistent grants),
# and the guest checks its own view (queues, indirect segments through
# max_hw_sectors_kb, flush through write_cache, discard, persistent grants
# with grant hits, a poll queue with polled completions).  After the I/O
# both sides check that no feature was turned off at runtime: the guest
# compares its queue attributes before and after and greps its dmesg for
# the drivers' "... op failed" / "disabled" / "refused" messages, dom0
# compares the XenStore features (xen-blkback withdraws
# feature-flush-cache or feature-discard when they fail).
#
# The guest and dom0 take turns by the harness's XenStore handshakes
# (common.sh, sk_hs_*): the guest sends vbd-connected (then vbd-io-done)
# and waits; dom0 waits for it, does its part and answers
# vbd-connected-seen (vbd-io-checked).
#
# A scenario's domU.cfg names the four files (vdev xvda..xvdd in that
# order) and says on the guest's command line which frontend to load
# (sk.front=, with extra module parameters sk.fparams=a=1,b=2), which
# backend serves it (sk.back=), whether the backend offers discard
# (sk.discard=1) and whether the read-only disk is left out (sk.ro=0).

. /lib/splitkit/blk.sh

VBD_DATA=/run/vbd-data.img
VBD_FS=/run/vbd-fs.img
VBD_DISC=/run/vbd-disc.img
VBD_RO=/run/vbd-ro.img
VBD_RW_DEVIDS="51712 51728 51744"	# xvda xvdb xvdc

# What each driver offers on a writable disk, as the vbd-* scenarios load
# it: interrupt-driven queues (rings; a frontend counts no more than the
# guest's 2 vCPUs, xen-blkback offers one per dom0 vCPU, 2 here), the
# largest ring-page-order, indirect segments (0: none), persistent grants,
# flush, discard, and poll queues (splitkit_front's poll_queues=1).
# xen-blkfront gets max_ring_page_order=2 from vbd-stockfront (its default
# is one page).  Documentation/block.rst shows the same table.
VBD_OFFERS="
#driver        queues order indirect persistent flush discard poll
splitkit_front 2      2     32       1          -     -       1
xen-blkfront   2      2     32       1          -     -       0
splitkit_back  4      4     256      1          1     1       -
xen-blkback    2      4     256      1          1     1       -
qdisk          1      4     0        0          1     1       -
"

# sk_vbd_offer DRIVER FIELD: one entry of VBD_OFFERS.
sk_vbd_offer()
{
	echo "$VBD_OFFERS" | awk -v d="$1" -v f="$2" '
		$1 == d {
			n = split("queues order indirect persistent flush discard poll", k, " ")
			for (i = 1; i <= n; i++)
				if (k[i] == f)
					print $(i + 1)
		}'
}

sk_vbd_min()
{
	if [ "$1" -lt "$2" ]; then echo "$1"; else echo "$2"; fi
}

# sk_vbd_expect FRONT BACK WHAT: what the pair must negotiate.  WHAT is
# irq (interrupt-driven queues), poll (poll queues), rings (both),
# order, indirect (0: direct requests only), persistent, flush, discard.
sk_vbd_expect()
{
	local f=$1 b=$2 bq fq irq poll n

	bq=$(sk_vbd_offer "$b" queues)
	fq=$(sk_vbd_offer "$f" queues)
	irq=$(sk_vbd_min "$fq" "$bq")
	poll=0
	if [ "$f" = splitkit_front ]; then
		# frontend/xenbus.c: poll queues come out of the backend's
		# rings, at least one ring stays interrupt-driven
		poll=$(sk_vbd_min "$(sk_vbd_offer "$f" poll)" $((bq - 1)))
		[ $((irq + poll)) -le "$bq" ] || irq=$((bq - poll))
	fi
	case "$3" in
	irq) echo "$irq" ;;
	poll) echo "$poll" ;;
	rings) echo $((irq + poll)) ;;
	order)
		sk_vbd_min "$(sk_vbd_offer "$f" order)" "$(sk_vbd_offer "$b" order)" ;;
	indirect)
		n=$(sk_vbd_min "$(sk_vbd_offer "$f" indirect)" \
			"$(sk_vbd_offer "$b" indirect)")
		# 11 segments or fewer fit a direct request
		[ "$n" -gt 11 ] || n=0
		echo "$n" ;;
	persistent)
		sk_vbd_min "$(sk_vbd_offer "$f" persistent)" \
			"$(sk_vbd_offer "$b" persistent)" ;;
	flush|discard)
		sk_vbd_offer "$b" "$3" ;;
	esac
}

# sk_vbd_load_back BACKEND: make BACKEND (splitkit_back, xen-blkback or
# qdisk) the one that will serve the guest's disks.
sk_vbd_load_back()
{
	case "$1" in
	splitkit_back)
		sk_blk_load_back ;;
	xen-blkback)
		if [ -d /sys/module/splitkit_back ]; then
			rmmod splitkit_back || return 1
		fi
		sk_modprobe xen-blkback loop ;;
	qdisk)
		# QEMU in dom0 serves the disks; no kernel backend may bind them
		# (libxl gives qdisk disks their own backend type anyway).
		true ;;
	*)
		echo "sk_vbd_load_back: unknown backend $1" >&2
		return 1 ;;
	esac
}

# sk_vbd_xs PATH DEFAULT: a XenStore value, DEFAULT when the key is absent.
sk_vbd_xs()
{
	xenstore-read "$1" 2>/dev/null || echo "$2"
}

# sk_vbd_offers_seen BE: what the backend directory BE offers, in the
# order of VBD_OFFERS (queues order indirect persistent flush discard).
sk_vbd_offers_seen()
{
	echo "$(sk_vbd_xs "$1/multi-queue-max-queues" 1)" \
	     "$(sk_vbd_xs "$1/max-ring-page-order" 0)" \
	     "$(sk_vbd_xs "$1/feature-max-indirect-segments" 0)" \
	     "$(sk_vbd_xs "$1/feature-persistent" 0)" \
	     "$(sk_vbd_xs "$1/feature-flush-cache" 0)" \
	     "$(sk_vbd_xs "$1/feature-discard" 0)"
}

# sk_vbd_xs_checks FRONT BACK DOMID: dom0's view of what was negotiated
# on each writable disk, the guest connected: the backend offered what
# VBD_OFFERS says, the frontend took the rings, ring pages and persistent
# grants both allow.
sk_vbd_xs_checks()
{
	local f=$1 b=$2 domid=$3 devid fe be want got o

	want=""
	for o in queues order indirect persistent flush discard; do
		want="$want $(sk_vbd_offer "$b" $o)"
	done
	want=${want# }
	for devid in $VBD_RW_DEVIDS; do
		fe=/local/domain/$domid/device/vbd/$devid
		be=$(xenstore-read "$fe/backend" 2>/dev/null)
		sk_comment "vbd $devid: backend $be offers (queues order indirect persistent flush discard) $(sk_vbd_offers_seen "$be")"
		sk_check "vbd $devid: $b offers queues order indirect persistent flush discard = $want" \
			test "$(sk_vbd_offers_seen "$be")" = "$want"
		got=$(sk_vbd_xs "$fe/multi-queue-num-queues" 1)
		sk_check "vbd $devid: $f took $(sk_vbd_expect "$f" "$b" rings) ring(s) (multi-queue-num-queues $got)" \
			test "$got" = "$(sk_vbd_expect "$f" "$b" rings)"
		got=$(sk_vbd_xs "$fe/ring-page-order" 0)
		sk_check "vbd $devid: $f took ring-page-order $(sk_vbd_expect "$f" "$b" order) (got $got)" \
			test "$got" = "$(sk_vbd_expect "$f" "$b" order)"
		got=$(sk_vbd_xs "$fe/feature-persistent" 0)
		sk_check "vbd $devid: $f offers persistent grants (feature-persistent $got)" \
			test "$got" = "$(sk_vbd_offer "$f" persistent)"
	done
}

# sk_vbd_xs_snapshot DOMID: the features both ends of every disk of DOMID
# publish, one line per key, for a before/after comparison.
sk_vbd_xs_snapshot()
{
	local fe be k devid

	for devid in $(xenstore-list "/local/domain/$1/device/vbd" 2>/dev/null); do
		fe=/local/domain/$1/device/vbd/$devid
		be=$(xenstore-read "$fe/backend" 2>/dev/null)
		for k in state feature-flush-cache feature-barrier \
			 feature-discard feature-persistent \
			 feature-max-indirect-segments multi-queue-max-queues \
			 max-ring-page-order; do
			echo "backend $devid $k $(sk_vbd_xs "$be/$k" -)"
		done
		for k in state multi-queue-num-queues ring-page-order \
			 feature-persistent; do
			echo "frontend $devid $k $(sk_vbd_xs "$fe/$k" -)"
		done
	done
}

# sk_vbd_wait_guest NAME KEY TIMEOUT: wait until domU NAME has sent KEY
# (see the handshake above).  The domain may not exist yet: wait for it
# first.  Fails when it is gone or TIMEOUT s have passed.
sk_vbd_wait_guest()
{
	local deadline=$(($(date +%s) + $3))

	while ! xl domid "$1" >/dev/null 2>&1; do
		[ "$(date +%s)" -lt "$deadline" ] || return 1
		sleep 1
	done
	sk_hs_wait_from "$1" "$2" $((deadline - $(date +%s))) >/dev/null
}

# sk_vbd_host BACKEND NAME [TIMEOUT]: the dom0 half.  Prepares the four
# files, runs the domU of this scenario (domU.cfg, domain NAME), then
# checks what the guest left behind.
sk_vbd_host()
{
	local back=$1 name=$2 timeout=${3:-480} ro_sum kb discard front pid
	local domid

	sk_check "load $back" sk_vbd_load_back "$back" || return
	rm -f "$VBD_DATA" "$VBD_FS" "$VBD_DISC" "$VBD_RO"
	truncate -s 64M "$VBD_DATA" "$VBD_FS"
	truncate -s 32M "$VBD_DISC"
	dd if=/dev/urandom of="$VBD_RO" bs=1M count=8 2>/dev/null
	ro_sum=$(md5sum <"$VBD_RO")
	sk_check "dom0 writes the whole data disk (fio crc32c, seed 1)" \
		sk_blk_fio "$VBD_DATA" 1 write
	front=$(sed -n 's/.*sk\.front=\([^ "]*\).*/\1/p' domU.cfg)
	sk_domU_run domU.cfg "$timeout" &
	pid=$!
	if sk_check "guest connected its disks" \
		sk_vbd_wait_guest "$name" vbd-connected "$timeout"; then
		domid=$(xl domid "$name")
		sk_vbd_xs_checks "$front" "$back" "$domid"
		sk_vbd_xs_snapshot "$domid" >/run/vbd-xs.before
		sk_check "tell the guest" \
			sk_hs_send_to "$name" vbd-connected-seen
		if sk_check "guest finished its I/O" \
			sk_vbd_wait_guest "$name" vbd-io-done "$timeout"; then
			sk_vbd_xs_snapshot "$domid" >/run/vbd-xs.after
			sk_check "XenStore features of both ends unchanged by the I/O" \
				diff /run/vbd-xs.before /run/vbd-xs.after
			sk_check "tell the guest" \
				sk_hs_send_to "$name" vbd-io-checked
		fi
	fi
	wait "$pid"
	rm -f /run/vbd-xs.before /run/vbd-xs.after

	sk_check "dom0 verifies the whole data disk written by the guest (seed 2)" \
		sk_blk_fio "$VBD_DATA" 2 verify 128k
	sk_check "dom0 fscks the guest's ext4" e2fsck -f -n "$VBD_FS"
	discard=$(sed -n 's/.*sk\.discard=\([01]\).*/\1/p' domU.cfg)
	if [ "$discard" = 1 ]; then
		kb=$(sk_blk_kb "$VBD_DISC")
		sk_comment "discard disk: $kb KiB allocated after 32 MiB written, 16 MiB discarded"
		sk_check "discard punched holes in the backing file (< 20 MiB allocated)" \
			test "$kb" -lt $((20 * 1024))
		sk_check "discard kept the other half (> 12 MiB allocated)" \
			test "$kb" -gt $((12 * 1024))
	fi
	sk_check "read-only disk unchanged" test "$(md5sum <"$VBD_RO")" = "$ro_sum"
	sk_check "hotplug script released every loop device" \
		sh -c "! losetup -a | grep -q vbd-"
	case "$back" in
	splitkit_back)
		sk_check "backend devices gone after the guest" sk_blk_no_vbd 30
		sk_check "rmmod splitkit_back" rmmod splitkit_back
		sk_blk_dmesg_dump ;;
	xen-blkback)
		sk_check "rmmod xen-blkback" rmmod xen_blkback ;;
	esac
	sk_check "dmesg: no oops, warning or hung task" sk_blk_dmesg_clean
	rm -f "$VBD_DATA" "$VBD_FS" "$VBD_DISC" "$VBD_RO"
}

# sk_vbd_load_front FRONTEND: FRONTEND and ext4 for the filesystem checks;
# splitkit_front with one poll queue; both with the module parameters of
# sk.fparams= (comma-separated).
sk_vbd_load_front()
{
	local params

	params=$(sk_cmdline sk.fparams | tr , ' ')
	sk_modprobe crc32c_generic ext4 || return
	case "$1" in
	splitkit_front) sk_insmod splitkit_front poll_queues=1 $params ;;
	*) sk_insmod "$1" $params ;;
	esac
}

# sk_vbd_handshake KEY ANSWER: send KEY to dom0 and wait (300 s at most)
# for its ANSWER (see the top of this file).
sk_vbd_handshake()
{
	sk_hs_send "$1" && sk_hs_wait "$2" 300 >/dev/null
}

# sk_vbd_features DISKS: the guest's view of each disk's features, one
# line per disk, for a before/after comparison.
sk_vbd_features()
{
	local d q k

	for d in "$@"; do
		q=/sys/block/$d/queue
		echo "$d: ro $(cat /sys/block/$d/ro) write_cache '$(cat $q/write_cache)' fua $(cat $q/fua 2>/dev/null) discard_max_bytes $(cat $q/discard_max_bytes) max_hw_sectors_kb $(cat $q/max_hw_sectors_kb) io_poll $(cat $q/io_poll)"
		[ -r "/sys/block/$d/device/skf_stats" ] || continue
		for k in connected queues poll_queues ring_order indirect \
			 persistent; do
			echo "$d: $k $(sk_blk_front_stat "$d" "$k")"
		done
	done
}

# sk_vbd_same_features DISKS: sk_vbd_features as it was before the I/O.
sk_vbd_same_features()
{
	sk_vbd_features "$@" | diff /tmp/vbd-features.before -
}

# sk_vbd_turned_off SINCE: kernel messages after line SINCE of dmesg in
# which a frontend turned a feature off or gave up on a disk
# (xen-blkfront: "xvdb: empty flush op failed", "barrier or flush:
# disabled", "discard op failed", "xvdb disabled for further use";
# splitkit_front: "backend refused flush", "backend refused discard",
# "malicious or buggy backend", "backend I/O error").  Fails if any.
sk_vbd_turned_off()
{
	! dmesg | sed -n "$(($1 + 1)),\$p" | grep -E \
		'op failed|flush: disabled|disabled for further use|feature-[a-z-]* disabled|backend refused|buggy backend|backend I/O error'
}

# sk_vbd_negotiated FRONT BACK: the guest's view of what was negotiated
# on each writable disk (see VBD_OFFERS).
sk_vbd_negotiated()
{
	local f=$1 b=$2 d q want got ind w k

	ind=$(sk_vbd_expect "$f" "$b" indirect)
	for d in xvda xvdb xvdc; do
		q=/sys/block/$d/queue
		if [ "$(sk_vbd_expect "$f" "$b" flush)" = 1 ]; then
			want="write back"
		else
			want="write through"
		fi
		sk_check "$d: flush negotiated ($want)" \
			test "$(cat $q/write_cache)" = "$want"
		if [ "$(sk_vbd_expect "$f" "$b" discard)" = 1 ]; then
			sk_check "$d: discard negotiated" \
				test "$(cat $q/discard_max_bytes)" -gt 0
		else
			sk_check "$d: no discard" \
				test "$(cat $q/discard_max_bytes)" -eq 0
		fi
		# a request carries the negotiated segments, 4 KiB each
		if [ "$ind" -gt 0 ]; then want=$((ind * 4)); else want=44; fi
		sk_check "$d: $ind indirect segments (max_hw_sectors_kb $want)" \
			test "$(cat $q/max_hw_sectors_kb)" -eq "$want"
		case "$f" in
		splitkit_front)
			for w in irq poll; do
				want=$(sk_vbd_expect "$f" "$b" $w)
				[ $w = irq ] && k=queues || k=poll_queues
				got=$(sk_blk_front_stat "$d" $k)
				sk_check "$d: $want $k (got $got)" \
					test "$got" = "$want"
			done
			got=$(sk_blk_front_stat "$d" ring_order)
			sk_check "$d: ring order $(sk_vbd_expect "$f" "$b" order) (got $got)" \
				test "$got" = "$(sk_vbd_expect "$f" "$b" order)"
			got=$(sk_blk_front_stat "$d" indirect)
			sk_check "$d: indirect segments $ind (got $got)" \
				test "$got" = "$ind"
			got=$(sk_blk_front_stat "$d" persistent)
			sk_check "$d: persistent grants $(sk_vbd_expect "$f" "$b" persistent) (got $got)" \
				test "$got" = "$(sk_vbd_expect "$f" "$b" persistent)"
			;;
		xen-blkfront)
			want=$(sk_vbd_expect "$f" "$b" rings)
			got=$(ls /sys/block/$d/mq | wc -l)
			sk_check "$d: $want hardware queues (got $got)" \
				test "$got" = "$want"
			if [ "$(sk_vbd_expect "$f" "$b" persistent)" = 1 ]; then
				want="persistent grants: enabled;"
			else
				want="persistent grants: disabled;"
			fi
			sk_check "$d: $want" sh -c \
				"dmesg | grep 'blkfront: $d:' | tail -n 1 | grep -q '$want'"
			;;
		esac
	done
}

# sk_vbd_fs: ext4 on xvdb, files copied, checked after a remount.
sk_vbd_fs()
{
	local i=0

	mkdir -p /mnt
	sk_check "mkfs.ext4 on xvdb" mkfs.ext4 -q -F /dev/xvdb || return
	sk_check "mount xvdb" mount -t ext4 /dev/xvdb /mnt || return
	mkdir -p /mnt/files
	while [ "$i" -lt 16 ]; do
		dd if=/dev/urandom of=/mnt/files/f$i bs=64k count=16 2>/dev/null
		i=$((i + 1))
	done
	cp -a /lib/modules /mnt/modules 2>/dev/null
	(cd /mnt/files && md5sum f* >/tmp/sums)
	sk_check "unmount" umount /mnt
	echo 3 >/proc/sys/vm/drop_caches
	sk_check "e2fsck -f -n finds a clean filesystem" e2fsck -f -n /dev/xvdb
	sk_check "remount read-only" mount -t ext4 -o ro /dev/xvdb /mnt &&
		sk_check "16 files read back intact" \
			sh -c 'cd /mnt/files && md5sum -c -s /tmp/sums'
	umount /mnt 2>/dev/null
}

# sk_vbd_discard: 32 MiB written to xvdc, the first half discarded.
sk_vbd_discard()
{
	sk_check "discard advertised on xvdc" \
		test "$(cat /sys/block/xvdc/queue/discard_max_bytes)" -gt 0 ||
		return
	sk_check "write all of xvdc" \
		dd if=/dev/urandom of=/dev/xvdc bs=1M count=32 oflag=direct
	sk_check "blkdiscard xvdc's first 16 MiB" \
		blkdiscard -o 0 -l $((16 << 20)) /dev/xvdc
}

# sk_vbd_ro: the frontend made xvdd read-only and it reads.  A write from
# here is refused by the guest's own block layer (the disk's read-only
# flag, which blockdev --setrw cannot lift) and never reaches the backend:
# the backend's refusal is tested by back-hostile, whose frontend sends
# the writes anyway (tests/modules/hostile/ro.c).
sk_vbd_ro()
{
	sk_check "xvdd is read-only for the guest" \
		test "$(cat /sys/block/xvdd/ro)" = 1
	sk_check "read xvdd" dd if=/dev/xvdd of=/dev/null bs=1M iflag=direct
	sk_check "the guest refuses writes to xvdd" \
		sh -c '! dd if=/dev/zero of=/dev/xvdd bs=4k count=1 oflag=direct 2>/dev/null'
}

# sk_vbd_polled BACKEND: splitkit_front only: re-verify xvda through
# io_uring polled I/O; every completion must have been reaped by polling.
# Where the pair allows no poll queue (a backend with one ring), xvda must
# not claim one.
sk_vbd_polled()
{
	local p0 p1 i0 i1

	if [ "$(sk_vbd_expect splitkit_front "$1" poll)" -eq 0 ]; then
		sk_check "xvda: no poll queue ($1 offers one ring): io_poll 0" \
			test "$(cat /sys/block/xvda/queue/io_poll)" = 0
		return
	fi
	sk_check "xvda: a poll queue was negotiated (io_poll 1)" \
		test "$(cat /sys/block/xvda/queue/io_poll)" = 1 || return
	p0=$(sk_blk_front_stat xvda poll_completions)
	i0=$(sk_blk_front_stat xvda irq_completions)
	sk_check "io_uring --hipri verify of xvda (seed 2)" \
		sk_blk_fio /dev/xvda 2 verify 128k 1 io_uring --hipri
	p1=$(sk_blk_front_stat xvda poll_completions)
	i1=$(sk_blk_front_stat xvda irq_completions)
	sk_comment "xvda completions during the polled verify: polled $((p1 - p0)), by event $((i1 - i0))"
	# 64 MiB in 128 KiB reads: 512 requests
	sk_check "completions reaped by polling" test $((p1 - p0)) -ge 512
}

# sk_vbd_progress: every 60 s, one comment with each disk's completed
# reads and writes and requests in flight (/sys/block/X/stat), so a log
# tells a stuck guest from a slow one.
sk_vbd_progress()
{
	local d line

	while sleep 60; do
		line=""
		for d in /sys/block/xvd*; do
			[ -r "$d/stat" ] || continue
			set -- $(cat "$d/stat")
			line="$line ${d##*/}: r $1 w $5 inflight $9;"
		done
		sk_comment "progress:$line"
	done
}

# sk_vbd_guest: the domU half; the frontend comes from sk.front=.
sk_vbd_guest()
{
	local front back d diag disks progress since

	front=$(sk_cmdline sk.front) || front=xen-blkfront
	back=$(sk_cmdline sk.back) || back=splitkit_back
	# a disk that never connects leaves modprobe waiting: say why meanwhile
	( sleep 90; sk_blk_guest_diag ) &
	diag=$!
	sk_check "load $front" sk_vbd_load_front "$front" || return
	disks="xvda xvdb xvdc"
	[ "$(sk_cmdline sk.ro)" = 0 ] || disks="$disks xvdd"
	for d in $disks; do
		if ! sk_check "/dev/$d appeared" sk_wait_block /dev/$d 60; then
			sk_blk_guest_diag
			return
		fi
	done
	kill "$diag" 2>/dev/null
	since=$(dmesg | wc -l)
	sk_vbd_features $disks >/tmp/vbd-features.before
	sk_comment "xvda: $(sk_blk_front_features xvda)"
	sk_comment "guest: $(grep -c '^processor' /proc/cpuinfo) CPUs; $front with $back (table in tests/xen/lib/vbd.sh)"
	sk_vbd_negotiated "$front" "$back"
	sk_check "dom0 read both ends' XenStore keys" \
		sk_vbd_handshake vbd-connected vbd-connected-seen
	sk_vbd_progress &
	progress=$!
	sk_check "xvda is 64 MiB" \
		test "$(cat /sys/block/xvda/size)" -eq $((64 * 2048))

	sk_check "guest verifies the whole data disk written by dom0 (seed 1)" \
		sk_blk_fio /dev/xvda 1 verify 64k 1
	sk_check "guest random 4K-256K O_DIRECT writes, verified" \
		sk_blk_fio_rand /dev/xvda 3
	sk_check "guest writes the whole data disk (seed 2, 128 KiB direct, depth 8)" \
		sk_blk_fio /dev/xvda 2 write 128k 1 libaio
	sk_vbd_fs
	[ "$(sk_cmdline sk.discard)" = 1 ] && sk_vbd_discard
	[ "$(sk_cmdline sk.ro)" = 0 ] || sk_vbd_ro
	if [ "$front" = splitkit_front ]; then
		# skf_stats' "queues" counts interrupt-driven queues only
		sk_check "no more interrupt-driven queues than online CPUs" \
			test "$(sk_blk_front_stat xvda queues)" -le \
				"$(grep -c '^processor' /proc/cpuinfo)"
		sk_vbd_polled "$back"
		sk_comment "xvda: $(sk_blk_front_stat xvda | tr '\n' ' ')"
		sk_check "no backend protocol violations" test \
			"$(sk_blk_front_stat xvda violations)$(sk_blk_front_stat xvdb violations)" = 00
		if [ "$(sk_vbd_expect "$front" "$back" persistent)" = 1 ]; then
			sk_check "xvda: persistent grants reused (grant_hits $(sk_blk_front_stat xvda grant_hits))" \
				test "$(sk_blk_front_stat xvda grant_hits)" -gt 0
		fi
	fi
	sk_check "flush to the backend" sync
	kill "$progress" 2>/dev/null
	sk_check "no feature of any disk turned off by the I/O" \
		sk_vbd_same_features $disks ||
		sk_vbd_features $disks | while IFS= read -r l; do
			sk_comment "after: $l"
		done
	sk_check "no driver turned a feature off at runtime (dmesg)" \
		sk_vbd_turned_off "$since"
	sk_check "dom0 compared both ends' XenStore features" \
		sk_vbd_handshake vbd-io-done vbd-io-checked
	sk_blk_guest_dmesg 10
}
