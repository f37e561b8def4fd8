#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Block-pair interop, dom0 half: the checks dom0 makes for every
# frontend/backend pair of the interop matrix, around a guest that runs the
# guest half, vbd_guest.sh, with SPLITKIT_VBD_DOM0=1 (the Xen-in-QEMU
# harness's vbd-* scenarios run both; tests/xen/lib/vbd.sh passes them
# their inputs).
#
#   dom0: DATA_FILE (MB MiB)   ==> DATA  whole file written (fio seed 1)
#                                        before the guest; the guest's seed
#                                        2 verified after it
#         FS_FILE   (MB MiB)   ==> FS    the guest's ext4, fscked after it
#         DISC_FILE (MB/2 MiB) ==> DISC  the guest's discards left holes
#         RO_FILE   (8 MiB)    ==> RO    access=ro: unchanged after it
#
# This test makes the files (OVERWRITING them), loads the backend, starts
# the guest (xl create of the config, or a command of yours), and waits
# for its handshakes (lib/handshake.sh): on vbd-connected it checks both
# ends' XenStore keys of each writable disk against the offers table of
# lib/vbd.sh (the backend offered what the table says, the frontend took
# the rings, ring pages and persistent grants both allow) and answers
# vbd-connected-seen; on vbd-io-done it checks that the I/O turned no
# feature of either end off (xen-blkback withdraws feature-flush-cache or
# feature-discard when they fail) and, with splitkit_back, that each
# writable disk's data moved the way its zero_copy parameter says (on
# mapped grants, or by grant copy: skt_vbd_zc_checks, lib/vbd.sh), and
# answers vbd-io-checked.  A frontend
# that turns a feature off tells XenStore nothing (xen-blkfront after a
# failed flush): vbd_guest.sh catches that from inside the guest.  Once the
# guest is gone: the data verifies, the ext4 is clean, the discard file
# has holes, the read-only file is unchanged, no loop device holds the
# files, splitkit_back let go of the guest's disks, and the backend
# unloads (when this test loaded it).  The files are removed at the end.
#
# The guest must power off when vbd_guest.sh has finished (its init does,
# or you do): dom0's last checks need the disks released.  A guest still
# there after SPLITKIT_VBD_WAIT seconds fails that check and is destroyed.
#
# Environment:
#   SPLITKIT_VBD_CFG      the xl config of the guest; this test runs
#                         "xl create" of it once the files are ready.  Its
#                         disks name the files below with the vdevs below.
#   SPLITKIT_VBD_START    instead, a command (sh -c) that starts the guest;
#                         run in the background, it may last as long as
#                         the guest (the harness's sk_domU_run, which also
#                         relays the guest's console); it must end with
#                         status 0.
#   SPLITKIT_VBD_DOMU     the guest's domain name (default: name= of
#                         SPLITKIT_VBD_CFG).
#   SPLITKIT_VBD_DATA_FILE, SPLITKIT_VBD_DATA
#                         the data disk's file in dom0 and its name in the
#                         guest (xvdb: the same value as the guest's
#                         SPLITKIT_VBD_DATA); without both the test skips.
#                         SPLITKIT_VBD_MB: its size in MiB (default 64).
#   SPLITKIT_VBD_FS_FILE, SPLITKIT_VBD_FS
#   SPLITKIT_VBD_DISC_FILE, SPLITKIT_VBD_DISC
#   SPLITKIT_VBD_RO_FILE
#                         the other disks, as the guest is told of them;
#                         each part runs when its file is named (the
#                         discard part when its disk is named too).
#   SPLITKIT_VBD_FRONT    the guest's frontend: splitkit_front (default) or
#                         xen-blkfront, as in the guest.
#   SPLITKIT_VBD_BACK     the backend serving the disks: splitkit_back
#                         (default), xen-blkback (with loop) or qdisk
#                         (QEMU, nothing to load).  It is loaded unless
#                         loaded, and unloaded at the end if this test
#                         loaded it; the test skips while the other kernel
#                         backend holds the "vbd" driver name.
#   SPLITKIT_VBD_BPARAMS  splitkit_back's module parameters when this test
#                         loads it (a=1,b=2), e.g. zero_copy=1.
#   SPLITKIT_VBD_OFFERS   what each driver offers (lib/vbd.sh).
#   SPLITKIT_VBD_MIGRATE=1 migrate the guest to this same host while it
#                         writes (give the guest the same variable): on
#                         vbd-migrate-ready, xl migrate -s env (the
#                         receiving xl runs here, no ssh), then the
#                         XenStore checks again against the new domain
#                         (what was negotiated with the new backend
#                         devices), SPLITKIT_VBD_MIGRATED (a command, sh
#                         -c, e.g. the harness's console-log fix-up) and
#                         the answer vbd-migrated.  Needs the guest's
#                         memory free a second time in Xen.
#   SPLITKIT_VBD_WAIT     seconds to wait for the guest to appear and for
#                         each of its handshakes, and for it to power off
#                         (default 480; a hang guard, never a sequencing
#                         device).
#   SPLITKIT_KO_DIR       where the .ko files are (lib/ktap.sh).

cd "$(dirname "$0")" || exit 1
. ./lib/ktap.sh
. ./lib/kreport.sh
. ./lib/handshake.sh
. ./lib/blk.sh
. ./lib/vbd.sh

CFG=${SPLITKIT_VBD_CFG:-}
START=${SPLITKIT_VBD_START:-}
NAME=${SPLITKIT_VBD_DOMU:-}
DATA=${SPLITKIT_VBD_DATA:-}
FS=${SPLITKIT_VBD_FS:-}
DISC=${SPLITKIT_VBD_DISC:-}
DATA_FILE=${SPLITKIT_VBD_DATA_FILE:-}
FS_FILE=${SPLITKIT_VBD_FS_FILE:-}
DISC_FILE=${SPLITKIT_VBD_DISC_FILE:-}
RO_FILE=${SPLITKIT_VBD_RO_FILE:-}
MB=${SPLITKIT_VBD_MB:-64}
FRONT=${SPLITKIT_VBD_FRONT:-splitkit_front}
BACK=${SPLITKIT_VBD_BACK:-splitkit_back}
BPARAMS=${SPLITKIT_VBD_BPARAMS:-}
WAIT=${SPLITKIT_VBD_WAIT:-480}
MIGRATE=${SPLITKIT_VBD_MIGRATE:-0}
MIGRATED=${SPLITKIT_VBD_MIGRATED:-}

# cfg_name CFG: the name= of an xl config.
cfg_name()
{
	sed -n 's/^[[:space:]]*name[[:space:]]*=[[:space:]]*"\([^"]*\)".*/\1/p' "$1" |
		head -n 1
}

skt_need_dom0
[ -n "$DATA_FILE" ] && [ -n "$DATA" ] ||
	skt_skip_all "no scratch files named (SPLITKIT_VBD_DATA_FILE=/srv/d.img SPLITKIT_VBD_DATA=xvdb ...: they are overwritten)"
if [ -z "$START" ]; then
	[ -n "$CFG" ] ||
		skt_skip_all "no guest to start (SPLITKIT_VBD_CFG or SPLITKIT_VBD_START)"
	[ -r "$CFG" ] || skt_skip_all "no xl config $CFG"
fi
[ -n "$NAME" ] || [ ! -r "$CFG" ] || NAME=$(cfg_name "$CFG")
[ -n "$NAME" ] ||
	skt_skip_all "no domain name (SPLITKIT_VBD_DOMU, or name= in SPLITKIT_VBD_CFG)"
skt_need_cmds xl xenstore-read xenstore-write xenstore-list \
	xenstore-exists fio dd md5sum truncate du diff losetup
[ -z "$FS_FILE" ] || skt_need_cmds e2fsck
case "$BACK" in
splitkit_back)
	skt_need_modules splitkit_back
	! skt_loaded xen_blkback ||
		skt_skip_all "xen_blkback is loaded and owns the vbd driver; unload it to test splitkit_back" ;;
xen-blkback)
	skt_need_modules xen-blkback loop
	! skt_loaded splitkit_back ||
		skt_skip_all "splitkit_back is loaded and owns the vbd driver; unload it to test xen-blkback" ;;
qdisk) ;;
*)
	skt_skip_all "unknown backend $BACK (splitkit_back, xen-blkback or qdisk)" ;;
esac
[ -n "$(skt_vbd_offer "$FRONT" queues)" ] ||
	skt_skip_all "no entry for $FRONT in the offers table (lib/vbd.sh)"
[ -n "$(skt_vbd_offer "$BACK" queues)" ] ||
	skt_skip_all "no entry for $BACK in the offers table (lib/vbd.sh)"
skt_vbd_domain_exists "$NAME" &&
	skt_skip_all "a domain named $NAME exists already"

# the writable disks' XenStore device ids
RW_DEVIDS=""
for d in $DATA $FS $DISC; do
	id=$(skt_vbd_devid "$d" 2>/dev/null) ||
		skt_skip_all "cannot number disk $d (xvd<letter>)"
	RW_DEVIDS="$RW_DEVIDS $id"
done
FILES=$(echo $DATA_FILE $FS_FILE $DISC_FILE $RO_FILE)
DISC_MB=$((MB / 2))
tmp=$(mktemp -d) || exit 1
back_preloaded=0
skt_loaded "$BACK" && back_preloaded=1
since=$(dmesg | wc -l)
domid=""
start_pid=""

skt_header

load_back()
{
	case "$BACK" in
	splitkit_back) skt_load splitkit_back $(echo "$BPARAMS" | tr , ' ') ;;
	xen-blkback) skt_load xen-blkback && skt_load loop ;;
	esac
}

# make_files: the backing files, fresh; the read-only one random.
make_files()
{
	rm -f $FILES || return
	truncate -s "${MB}M" "$DATA_FILE" || return
	[ -z "$FS_FILE" ] || truncate -s "${MB}M" "$FS_FILE" || return
	[ -z "$DISC_FILE" ] || truncate -s "${DISC_MB}M" "$DISC_FILE" || return
	[ -z "$RO_FILE" ] ||
		dd if=/dev/urandom of="$RO_FILE" bs=1M count=8 2>/dev/null
}

# start_bg: SPLITKIT_VBD_START in the background; its status and output
# land in $tmp/start.rc and $tmp/start.log.
start_bg()
{
	(
		sh -c "$START" >"$tmp/start.log" 2>&1 </dev/null
		echo $? >"$tmp/start.rc"
	) >/dev/null 2>&1 &
	start_pid=$!
}

start_running()
{
	[ ! -e "$tmp/start.rc" ]
}

# wait_guest KEY: the guest's handshake KEY.  While the guest does not
# exist yet, the wait ends early when nothing is starting it any more.
wait_guest()
{
	local SKT_ALIVE=false

	[ -z "$START" ] || SKT_ALIVE=start_running
	skt_vbd_wait_guest "$NAME" "$1" "$WAIT"
}

guest_gone()
{
	! skt_vbd_domain_exists "$NAME"
}

start_status()
{
	cat "$tmp/start.log"
	return "$(cat "$tmp/start.rc")"
}

# the guest's files are no loop device's any more
no_loops()
{
	local f rc=0

	for f in $FILES; do
		if losetup -a | grep -F "$f"; then
			rc=1
		fi
	done
	return $rc
}

# splitkit_back has let go of every disk of the guest
no_back_devs()
{
	! ls /sys/bus/xen-backend/devices 2>/dev/null | grep -q "^vbd-$domid-"
}

# no kernel report (lib/kreport.sh's list) since the test began
dmesg_clean()
{
	skt_kreport_clean "$since"
}

dmesg_dump()
{
	skt_blk_dom0_dmesg "$since"
}

# migrate_here: xl migrate NAME to this host.  xl runs "exec <ssh command>
# <host> xl migrate-receive" through sh -c: with env as the ssh command and
# an assignment as the host, the receiving xl starts here.  The new domain
# is created as NAME--incoming and renamed NAME once the old one is gone.
migrate_here()
{
	xl migrate -s env "$NAME" SKT_VBD_MIGRATE=1 </dev/null || return
	[ -z "$MIGRATED" ] || sh -c "$MIGRATED"
}

# qemu_locked FILE: an open file description holds QEMU's lock on not
# sharing writing (byte 201) of FILE (/proc/locks: "OFDLCK ... dev:inode
# 201 201").
qemu_locked()
{
	local ino

	ino=$(stat -c %i "$1") || return
	grep -q "OFDLCK .*:$ino 201 201\$" /proc/locks
}

# migrate: the guest writes; move it to a new domain on this host.
migrate()
{
	local old=$domid

	skt_check "guest writing, ready to be migrated" \
		wait_guest vbd-migrate-ready || return
	skt_check "xl migrate $NAME to this host under I/O" migrate_here ||
		return
	domid=$(xl domid "$NAME" 2>/dev/null)
	skt_check "the migrated guest is a new domain ($old -> ${domid:-none})" \
		test -n "$domid" -a "$domid" != "$old"
	# splitkit_back serving the file itself (script=splitkit, not w!):
	# the old domain's disk, gone before xl migrate returned, left QEMU's
	# image locks to the new domain's (backend/share.c)
	if [ "$BACK" = splitkit_back ] && [ -n "$DATA_FILE" ] &&
	   xenstore-ls "/local/domain/0/backend/vbd/$domid" 2>/dev/null |
		grep -q "physical-device-path = \"$DATA_FILE\""; then
		skt_check "the old domain's disks are gone" \
			sh -c "! xenstore-ls /local/domain/0/backend/vbd/$old >/dev/null 2>&1"
		skt_check "QEMU's image locks on $DATA_FILE still held (the new domain's disk)" \
			qemu_locked "$DATA_FILE"
	fi
	# what the frontend negotiated with the new domain's backend devices
	skt_vbd_xs_checks "$FRONT" "$BACK" "$domid" $RW_DEVIDS
	skt_check "tell the guest" skt_hs_send_to "$NAME" vbd-migrated
}

# talk: the handshakes with the guest and the XenStore checks in between.
talk()
{
	skt_check "guest connected its disks" wait_guest vbd-connected ||
		return
	# (skt_check runs its command in a subshell: no variable comes back)
	domid=$(xl domid "$NAME" 2>/dev/null)
	skt_vbd_xs_checks "$FRONT" "$BACK" "$domid" $RW_DEVIDS
	skt_vbd_xs_snapshot "$domid" >"$tmp/xs.before"
	skt_check "tell the guest" skt_hs_send_to "$NAME" vbd-connected-seen
	if [ "$MIGRATE" = 1 ]; then
		migrate || return
	fi
	skt_check "guest finished its I/O" wait_guest vbd-io-done || return
	skt_vbd_xs_snapshot "$domid" >"$tmp/xs.after"
	skt_check "XenStore features of both ends unchanged by the I/O$([ "$MIGRATE" != 1 ] || echo ' and the migration')" \
		diff "$tmp/xs.before" "$tmp/xs.after"
	# how splitkit_back moved the data: on mapped grants or by copy
	[ "$BACK" != splitkit_back ] || skt_vbd_zc_checks "$domid" $RW_DEVIDS
	skt_check "tell the guest" skt_hs_send_to "$NAME" vbd-io-checked
}

# after: what the guest left in the files, and the backend's cleanup.
after()
{
	local kb ro_sum=$1

	skt_check "dom0 verifies the whole data disk written by the guest (seed 2)" \
		skt_blk_fio "$DATA_FILE" 2 verify 128k
	[ -z "$FS_FILE" ] ||
		skt_check "dom0 fscks the guest's ext4" e2fsck -f -n "$FS_FILE"
	if [ -n "$DISC_FILE" ] && [ -n "$DISC" ]; then
		# the guest wrote all of it and discarded the first half
		kb=$(du -k "$DISC_FILE" | cut -f1)
		skt_comment "discard disk: $kb KiB allocated after $DISC_MB MiB written, $((DISC_MB / 2)) MiB discarded"
		skt_check "discard punched holes in the backing file (< $((DISC_MB * 5 / 8)) MiB allocated)" \
			test "$kb" -lt $((DISC_MB * 5 / 8 * 1024))
		skt_check "discard kept the other half (> $((DISC_MB * 3 / 8)) MiB allocated)" \
			test "$kb" -gt $((DISC_MB * 3 / 8 * 1024))
	fi
	[ -z "$RO_FILE" ] ||
		skt_check "read-only disk unchanged" \
			test "$(md5sum <"$RO_FILE")" = "$ro_sum"
	skt_check "hotplug script released every loop device" no_loops
	case "$BACK" in
	splitkit_back)
		skt_check "backend devices gone after the guest" \
			skt_wait "$WAIT" no_back_devs
		dmesg_dump ;;
	esac
	case "$BACK" in
	qdisk) ;;
	*)
		if [ "$back_preloaded" = 1 ]; then
			skt_skip "rmmod $BACK" "it was loaded before this test"
		else
			skt_check "rmmod $BACK" skt_unload "$(echo "$BACK" | tr - _)"
		fi ;;
	esac
	skt_check "dmesg: no oops, warning or hung task" dmesg_clean
}

main()
{
	local ro_sum=""

	skt_comment "dom0: $BACK${BPARAMS:+ (parameters $BPARAMS)} serving $NAME's $FRONT (table in lib/vbd.sh)"
	skt_check "load $BACK" load_back || return
	skt_check "dom0 makes the backing files" make_files || return
	[ -z "$RO_FILE" ] || ro_sum=$(md5sum <"$RO_FILE")
	skt_check "dom0 writes the whole data disk (fio crc32c, seed 1)" \
		skt_blk_fio "$DATA_FILE" 1 write || return
	if [ -n "$START" ]; then
		start_bg
	else
		skt_check "xl create $(basename "$CFG")" xl create "$CFG" ||
			return
	fi
	talk
	if ! skt_check "guest $NAME powered off" skt_wait "$WAIT" guest_gone; then
		# this test created it; the last checks need its disks back
		skt_comment "destroying $NAME"
		xl destroy "$NAME" >/dev/null 2>&1
	fi
	if [ -n "$START" ]; then
		wait "$start_pid"
		skt_check "the command that started the guest ended with status 0" \
			start_status
	fi
	after "$ro_sum"
}

main
rm -f $FILES
rm -rf "$tmp"
skt_finish
