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
# The guest's checks are the kselftest package's vbd_guest.sh
# (tests/selftests; what it checks is said at its top), which the guest
# runs through sk_selftests, so a real Xen host runs the same ones; this
# file is dom0's half and the guest's call.  dom0 writes the whole data
# disk (seed 1) before the guest starts and verifies what the guest wrote
# (seed 2) once it is gone; fscks the guest's ext4; checks the discard
# disk's holes and that the read-only disk is unchanged.
#
# What was negotiated is asserted per pair, from the offers table
# VBD_OFFERS (the package's lib/vbd.sh): while the guest is connected dom0
# reads both ends' XenStore keys (the backend offered what the table says;
# the frontend took the most both allow: rings, ring-page-order,
# persistent grants), and the guest checks its own view.  After the I/O
# both sides check that no feature was turned off at runtime: the guest
# from its queue attributes and dmesg, dom0 by comparing the XenStore
# features (xen-blkback withdraws feature-flush-cache or feature-discard
# when they fail).
#
# The guest and dom0 take turns by XenStore handshakes (the package's
# lib/handshake.sh): the guest sends vbd-connected (then vbd-io-done) and
# waits; dom0 waits for it, does its part and answers vbd-connected-seen
# (vbd-io-checked).
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

. "$SK_SELFTESTS/lib/vbd.sh"
. /lib/splitkit/selftests.sh

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
		want="$want $(skt_vbd_offer "$b" $o)"
	done
	want=${want# }
	for devid in $VBD_RW_DEVIDS; do
		fe=/local/domain/$domid/device/vbd/$devid
		be=$(xenstore-read "$fe/backend" 2>/dev/null)
		sk_comment "vbd $devid: backend $be offers (queues order indirect persistent flush discard) $(sk_vbd_offers_seen "$be")"
		sk_check "vbd $devid: $b offers queues order indirect persistent flush discard = $want" \
			test "$(sk_vbd_offers_seen "$be")" = "$want"
		got=$(sk_vbd_xs "$fe/multi-queue-num-queues" 1)
		sk_check "vbd $devid: $f took $(skt_vbd_expect "$f" "$b" rings) ring(s) (multi-queue-num-queues $got)" \
			test "$got" = "$(skt_vbd_expect "$f" "$b" rings)"
		got=$(sk_vbd_xs "$fe/ring-page-order" 0)
		sk_check "vbd $devid: $f took ring-page-order $(skt_vbd_expect "$f" "$b" order) (got $got)" \
			test "$got" = "$(skt_vbd_expect "$f" "$b" order)"
		got=$(sk_vbd_xs "$fe/feature-persistent" 0)
		sk_check "vbd $devid: $f offers persistent grants (feature-persistent $got)" \
			test "$got" = "$(skt_vbd_offer "$f" persistent)"
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

# sk_vbd_guest: the domU half, the package's vbd_guest.sh on the four
# disks, with the frontend, backend and parts the command line names.
sk_vbd_guest()
{
	export SPLITKIT_VBD_DATA=xvda SPLITKIT_VBD_FS=xvdb SPLITKIT_VBD_MB=64
	export SPLITKIT_VBD_DOM0=1
	SPLITKIT_VBD_FRONT=$(sk_cmdline sk.front) ||
		SPLITKIT_VBD_FRONT=xen-blkfront
	SPLITKIT_VBD_BACK=$(sk_cmdline sk.back) ||
		SPLITKIT_VBD_BACK=splitkit_back
	SPLITKIT_VBD_FPARAMS=$(sk_cmdline sk.fparams)
	export SPLITKIT_VBD_FRONT SPLITKIT_VBD_BACK SPLITKIT_VBD_FPARAMS
	[ "$(sk_cmdline sk.discard)" != 1 ] || export SPLITKIT_VBD_DISC=xvdc
	[ "$(sk_cmdline sk.ro)" = 0 ] || export SPLITKIT_VBD_RO=xvdd
	sk_selftests vbd_guest.sh
}
