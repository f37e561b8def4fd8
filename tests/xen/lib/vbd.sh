# SPDX-License-Identifier: GPL-2.0
#
# The block-pair interop suite: one disk layout and one set of checks that
# every frontend/backend pair of the matrix runs (vbd-* scenarios), so the
# pairs differ only in which drivers sit at each end.
#
#   dom0: /run/vbd-data.img  (MB)   ==> xvda  whole-disk fio, both ways
#         /run/vbd-fs.img    (MB)   ==> xvdb  mkfs, files, fsck (+ dom0)
#         /run/vbd-disc.img  (MB/2) ==> xvdc  discard frees file space
#         /run/vbd-ro.img    (8 MiB) => xvdd  access=ro: writes refused
#
# MB is 32 MiB (the package's default is 64; under TCG every MiB the
# suite writes and verifies costs about a second of make check, and none
# of the checks needs more: the data disk still takes hundreds of
# multi-segment and indirect requests on every ring); a scenario's
# domU.cfg may say sk.mb=N (the qcow2 scenarios said 64 until stop 38;
# now their data disk is 32 MiB, their filesystem image 64 MiB for a 20
# MiB file beside the suite's 16 MiB of files).
#
# Both halves' checks are the kselftest package's (tests/selftests; what
# each checks is said at its top), so a real Xen host runs the same ones:
# dom0 runs vbd_dom0.sh, which makes the files, writes the whole data disk
# (seed 1), starts the guest, checks both ends' XenStore keys while it is
# connected and, once it is gone, verifies what it wrote (seed 2), fscks
# its ext4, checks the discard disk's holes and that the read-only disk is
# unchanged; the guest runs vbd_guest.sh.  This file passes them their
# inputs (the files, the disks' names, the frontend and backend of the
# scenario) and gives vbd_dom0.sh the harness's way to start a guest,
# sk_domU_run, which relays the guest's console and results.
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
# backend serves it (sk.back=; splitkit_back gets the run's
# XEN_BACK_PARAMS, sk_back_params), the data disk's size (sk.mb=, MiB),
# whether the backend offers discard
# (sk.discard=1: the discard part runs on xvdc), whether the read-only
# disk is left out (sk.ro=0) and whether dom0 migrates the guest to this
# same host while it writes (sk.migrate=1; sk_console_follow keeps its
# console in one log).

. /lib/splitkit/blk.sh

VBD_DATA=/run/vbd-data.img
VBD_FS=/run/vbd-fs.img
VBD_DISC=/run/vbd-disc.img
VBD_RO=/run/vbd-ro.img
VBD_MB=32

. "$SK_SELFTESTS/lib/vbd.sh"
. /lib/splitkit/selftests.sh

# The package's dom0 helpers (lib/vbd.sh), as sk_vbd_*, reporting through
# this harness's sk_check (for qcow2.sh, which has its own dom0 half).
sk_vbd_wait_guest()	{ skt_vbd_wait_guest "$@"; }
sk_vbd_xs_checks()
{
	local SKT_CHECK=sk_check f=$1 b=$2 domid=$3

	skt_vbd_xs_checks "$f" "$b" "$domid" $(skt_vbd_devid xvda) \
		$(skt_vbd_devid xvdb) $(skt_vbd_devid xvdc)
}

# sk_vbd_load_back BACKEND: make BACKEND (splitkit_back, xen-blkback or
# qdisk) the one that will serve the guest's disks, unloading the other
# (for scenarios that load it themselves: stock-pair, qcow2.sh).
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

# sk_vbd_host BACKEND NAME [TIMEOUT]: the dom0 half, the package's
# vbd_dom0.sh on the four files, serving this scenario's domU (domU.cfg,
# domain NAME) with BACKEND.  The package starts the guest with
# sk_domU_run once the files are ready, so the guest's console is relayed
# and its results reported as in every scenario.  A guest that migrates
# (sk.migrate=1, a PVH guest) runs under sk_platform_retry: the emulated
# platform now and then triple-faults it as log-dirty mode starts.
sk_vbd_host()
{
	if grep -q 'sk\.migrate=1' domU.cfg; then
		sk_platform_retry "$2" 3 _sk_vbd_host_run "$@"
	else
		_sk_vbd_host_run "$@"
	fi
}

# _sk_vbd_host_run BACKEND NAME [TIMEOUT]: one run of sk_vbd_host's.
_sk_vbd_host_run()
{
	local back=$1 name=$2 timeout=${3:-1200} m

	# nothing may skip in the harness: the package loads and unloads
	# the backend itself only if no earlier scenario of this boot left
	# one loaded, and skips next to the other kernel backend
	for m in splitkit_back xen_blkback; do
		[ -d "/sys/module/$m" ] && rmmod "$m"
	done
	(
		export SPLITKIT_VBD_BACK="$back" SPLITKIT_VBD_DOMU="$name"
		# hang guards stretched to the scenario's time (sk_guard):
		# the package's waits for each handshake, and the guest's
		# life from when the package starts it
		export SPLITKIT_VBD_CFG="$PWD/domU.cfg"
		SPLITKIT_VBD_WAIT=$(sk_guard 480)
		export SPLITKIT_VBD_WAIT
		export SPLITKIT_VBD_START=". /lib/splitkit/common.sh && . /lib/splitkit/dom0lib.sh && sk_domU_run '$PWD/domU.cfg' \$(sk_guard $timeout)"
		SPLITKIT_VBD_FRONT=$(sed -n 's/.*sk\.front=\([^ "]*\).*/\1/p' domU.cfg)
		export SPLITKIT_VBD_FRONT="${SPLITKIT_VBD_FRONT:-xen-blkfront}"
		export SPLITKIT_VBD_DATA=xvda SPLITKIT_VBD_DATA_FILE="$VBD_DATA"
		export SPLITKIT_VBD_FS=xvdb SPLITKIT_VBD_FS_FILE="$VBD_FS"
		# this run's splitkit_back parameters (XEN_BACK_PARAMS)
		SPLITKIT_VBD_BPARAMS=$(sk_back_params | tr ' ' ,)
		export SPLITKIT_VBD_BPARAMS
		SPLITKIT_VBD_MB=$(sed -n 's/.*sk\.mb=\([0-9]*\).*/\1/p' domU.cfg)
		export SPLITKIT_VBD_MB="${SPLITKIT_VBD_MB:-$VBD_MB}"
		if grep -q 'sk\.discard=1' domU.cfg; then
			export SPLITKIT_VBD_DISC=xvdc SPLITKIT_VBD_DISC_FILE="$VBD_DISC"
		fi
		if grep -q 'sk\.migrate=1' domU.cfg; then
			export SPLITKIT_VBD_MIGRATE=1
			export SPLITKIT_VBD_MIGRATED=". /lib/splitkit/common.sh && . /lib/splitkit/dom0lib.sh && sk_console_follow '$name'"
		fi
		if ! grep -q 'sk\.ro=0' domU.cfg; then
			export SPLITKIT_VBD_RO_FILE="$VBD_RO"
		fi
		sk_selftests vbd_dom0.sh
	)
}

# sk_vbd_guest: the domU half, the package's vbd_guest.sh on the four
# disks, with the frontend, backend and parts the command line names.
sk_vbd_guest()
{
	export SPLITKIT_VBD_DATA=xvda SPLITKIT_VBD_FS=xvdb
	SPLITKIT_VBD_MB=$(sk_cmdline sk.mb) || SPLITKIT_VBD_MB=$VBD_MB
	export SPLITKIT_VBD_MB
	export SPLITKIT_VBD_DOM0=1
	SPLITKIT_VBD_FRONT=$(sk_cmdline sk.front) ||
		SPLITKIT_VBD_FRONT=xen-blkfront
	SPLITKIT_VBD_BACK=$(sk_cmdline sk.back) ||
		SPLITKIT_VBD_BACK=splitkit_back
	SPLITKIT_VBD_FPARAMS=$(sk_cmdline sk.fparams)
	export SPLITKIT_VBD_FRONT SPLITKIT_VBD_BACK SPLITKIT_VBD_FPARAMS
	[ "$(sk_cmdline sk.discard)" != 1 ] || export SPLITKIT_VBD_DISC=xvdc
	[ "$(sk_cmdline sk.ro)" = 0 ] || export SPLITKIT_VBD_RO=xvdd
	[ "$(sk_cmdline sk.migrate)" != 1 ] || export SPLITKIT_VBD_MIGRATE=1
	sk_selftests vbd_guest.sh
}
