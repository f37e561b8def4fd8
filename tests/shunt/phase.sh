#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# splitkit_shunt without Xen: for every installed Debian kernel with an
# image in /boot, boot it under plain QEMU (a PC, software emulation, no
# Xen) with one disk image attached twice, as an IDE disk (sda: the
# emulated face) and as a virtio disk (vda: standing in for the PV face;
# the shunt does not care which driver serves its PV disk), and run
# guest.sh as the guest's /init: an ext4 on sda written without pause by
# three writers of checksummed files while splitkit_shunt moves sda's
# I/O to vda and back, is unloaded while shunted, and, loaded again and
# shunted, sees vda unplugged by the host (QEMU's monitor, on the guest's
# request) and falls back to sda, then plugged in again (a new virtio
# disk of the same image), which it takes back and switches to by itself;
# two other disks (vdb, another image of another size; vdc, a blank one
# of the same size) must be refused at the switch; every file must read
# as written, and
# the host fscks the image afterwards.  This tests the module's
# hook, switch and unload on both kernels in a minute or two each; the
# same under Xen with the real PV path is the scenario hvm-shunt.
#
# The IDE drive is throttled (QEMU's throttling.iops-total) only so that
# requests stay in flight long enough for a switch to find some; nothing
# waits for time.  Prints flat KTAP; exits non-zero when a test fails, 4
# when QEMU or a kernel image is missing.

set -u
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
BUILD=${BUILD:-$TOP/build}
HERE=$TOP/tests/xen
QEMU=${QEMU:-qemu-system-x86_64}
# Hang guards for one boot, not speed requirements.  The guard is QEMU's
# CPU time (a guest that hangs spins or idles, and either way a guest
# that ran 900 CPU seconds without finishing -- about six times what a
# whole boot takes -- is stuck), so a busy host or make check's SCHED_IDLE
# host lane, which gives QEMU only what the Xen lane leaves, cannot trip
# it; the wall clock only as the last resort.  The guest's kernel runs
# without its lockup detectors (nowatchdog): a QEMU that the host does not
# run for a while comes back to a clock that jumped, which the soft lockup
# detector reports as a "BUG".
SHUNT_CPU_LIMIT=${SHUNT_CPU_LIMIT:-900}
SHUNT_TIMEOUT=${SHUNT_TIMEOUT:-3600}

echo "KTAP version 1"
# The stock 6.1 kernel only, by default: each kernel costs make check two
# minutes.  SHUNT_KVERS="<release> ..." picks kernels, for example
# SHUNT_KVERS="$(scripts/kver.sh --images)" for the 6.12 backport too.
kvers=${SHUNT_KVERS:-$("$TOP/scripts/kver.sh" --image)}
if ! command -v "$QEMU" >/dev/null || [ -z "$kvers" ]; then
	echo "1..0 # SKIP no $QEMU or no Debian kernel image in /boot"
	exit 4
fi
# shellcheck source=../xen/lib/mkroot.sh
. "$HERE/lib/mkroot.sh"
declare -gA SK_KO

n=0
failed=0
result()	# result <0|1> <description>
{
	n=$((n + 1))
	if [ "$1" = 0 ]; then
		echo "ok $n $2"
	else
		failed=$((failed + 1))
		echo "not ok $n $2"
	fi
}

W=$(mktemp -d /tmp/sk-shunt-phase.XXXXXX)
trap 'rm -rf "$W"' EXIT

# the guest's drivers that KVER builds as modules (6.12 has virtio_pci
# built in)
guest_modules()
{
	local m
	for m in ata_piix sd_mod virtio_pci virtio_blk crc32c_generic ext4 dm_mod; do
		grep -q "/$m.ko\$" "/lib/modules/$1/modules.builtin" 2>/dev/null ||
			echo "$m"
	done
}

# relay_host_requests LOG MONITOR QEMU_PID: the guest asks the host for
# a QEMU monitor command with a console line "SQ: HOST <command>" (the
# fallback test's unplug of the virtio disk); each is sent once, when its
# line appears (an event: the loop only polls for it).
relay_host_requests()
{
	local done=0 cmd
	while kill -0 "$3" 2>/dev/null; do
		tr -d '\r' <"$1" | sed -n 's/^SQ: HOST //p' >"$W/requests"
		while [ "$(wc -l <"$W/requests")" -gt "$done" ]; do
			done=$((done + 1))
			cmd=$(sed -n "${done}p" "$W/requests")
			# the guest names the shared image @DISK@
			cmd=${cmd//@DISK@/$W/disk.img}
			echo "# relaying the guest's request: $cmd"
			echo "$cmd" >"$2"
		done
		sleep 1
	done
}

for kver in $kvers; do
	t=shunt-$kver
	ko=$BUILD/kmod/$kver/shunt/splitkit_shunt.ko
	# always through the build: an existing module may be older than
	# its sources (make finds nothing to do when it is not)
	if ! "$TOP/scripts/build-modules.sh" "$kver" >"$W/kbuild.log" 2>&1; then
		sed 's/^/# /' "$W/kbuild.log" | tail -n 20
		result 1 "$t: build splitkit_shunt"
		continue
	fi
	if ! { root_init "$W/root" &&
	       root_add_file "$TOP/tests/shunt/guest.sh" /init &&
	       root_add_file "$HERE/lib/shuntwriters.sh" /shuntwriters.sh &&
	       root_add_bin /usr/sbin/dmsetup &&
	       chmod 755 "$ROOT/init" &&
	       root_add_modules "$kver" $(guest_modules "$kver") &&
	       cp "$ko" "$ROOT/lib/modules/" &&
	       root_pack "$W/init.img"; } >"$W/mkroot.log" 2>&1; then
		sed 's/^/# /' "$W/mkroot.log" | tail -n 20
		result 1 "$t: build the guest's initramfs"
		continue
	fi
	rm -f "$W/disk.img" "$W/other.img" "$W/blank.img"
	truncate -s 128M "$W/disk.img"
	# another disk (vdb), of another size: a switch to it is refused
	truncate -s 64M "$W/other.img"
	# and one (vdc) of the same size but other bytes (none written)
	truncate -s 128M "$W/blank.img"
	if ! mkfs.ext4 -q -F -E lazy_itable_init=0,lazy_journal_init=0 \
	     "$W/disk.img" >"$W/mkfs.log" 2>&1; then
		sed 's/^/# /' "$W/mkfs.log"
		result 1 "$t: mkfs.ext4 on the image"
		continue
	fi
	log=$BUILD/shunt/$kver.log
	mkdir -p "$(dirname "$log")"
	began=$(date +%s)
	rm -f "$W/mon.in" "$W/mon.out"
	mkfifo "$W/mon.in" "$W/mon.out"
	(ulimit -t "$SHUNT_CPU_LIMIT" &&
	 exec timeout "$SHUNT_TIMEOUT" "$QEMU" -M pc -m 512 -smp 1 -nographic \
		-no-reboot -kernel "/boot/vmlinuz-$kver" -initrd "$W/init.img" \
		-append "console=ttyS0 loglevel=5 panic=-1 nowatchdog" \
		-monitor "pipe:$W/mon" \
		-drive "file=$W/disk.img,if=ide,format=raw,file.locking=off,cache=writeback,throttling.iops-total=20" \
		-drive "file=$W/disk.img,if=none,id=pvd,format=raw,file.locking=off,cache=writeback" \
		-device virtio-blk-pci,drive=pvd,id=pv0 \
		-drive "file=$W/other.img,if=none,id=oth,format=raw,file.locking=off" \
		-device virtio-blk-pci,drive=oth,id=oth0 \
		-drive "file=$W/blank.img,if=none,id=blk,format=raw,file.locking=off" \
		-device virtio-blk-pci,drive=blk,id=blk0 \
		</dev/null >"$log" 2>&1) &
	qemu=$!
	relay_host_requests "$log" "$W/mon.in" "$qemu" &
	relay=$!
	cat "$W/mon.out" >/dev/null &
	wait "$qemu"
	rc=$?
	kill "$relay" 2>/dev/null
	wait 2>/dev/null
	tr -d '\r' <"$log" | sed -n 's/^SQ: //p' >"$W/results"
	while IFS= read -r line; do
		case "$line" in
		"ok - "*) result 0 "$t: ${line#ok - }" ;;
		"not ok - "*) result 1 "$t: ${line#not ok - }" ;;
		"# "*) echo "# $t: ${line#\# }" ;;
		esac
	done <"$W/results"
	if ! grep -qx DONE "$W/results"; then
		case $rc in
		124) echo "# $t: QEMU killed after $SHUNT_TIMEOUT s (wall clock)" ;;
		137|152) echo "# $t: QEMU killed after $SHUNT_CPU_LIMIT s of CPU time" ;;
		esac
		tr -d '\r' <"$log" | grep -v '^SQ: ' | tail -n 40 | sed "s/^/# $t: console: /"
		result 1 "$t: the guest ran to its end (console: $log)"
	fi
	e2fsck -f -n "$W/disk.img" >"$W/fsck.log" 2>&1
	rc=$?
	[ "$rc" -eq 0 ] || sed "s/^/# $t: /" "$W/fsck.log" | tail -n 20
	result "$rc" "$t: the host fscks the image"
	echo "# $t: took $(($(date +%s) - began)) s"
done
echo "1..$n"
[ "$failed" -eq 0 ]
