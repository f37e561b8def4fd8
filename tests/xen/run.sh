#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The Xen-in-QEMU harness.  Builds a dom0 and a domU initramfs from the
# host's Debian packages plus splitkit's modules and scenario scripts, boots
# Xen 4.17 with a PV dom0 under QEMU (TCG), runs the selected scenarios in
# one boot and prints flat KTAP, one result per check:
#
#   host: qemu-system-x86_64 (TCG) --serial--> build/xen/<kver>/console.log
#     Xen 4.17
#       dom0 (Debian kernel, busybox)   prints "SK: ..." on hvc0
#         xenstored, xenconsoled, xl create <scenario>/domU.cfg
#         domU (same kernel, busybox)   prints "SKU: ..." on hvc0,
#                                       logged by xenconsoled, relayed by dom0
#
# Usage: run.sh [--kver RELEASE] [--scenarios a,b,...] [--demo] [--bench]
#               [--list]
#
# A scenario is a directory tests/xen/scenarios/<name>/ with dom0.sh (run
# in dom0), optionally domU.sh and xl configs, and optionally a file
# 'needs' with words: "hvm" (ship the HVM device model into dom0), "demo"
# (only run by 'make demo'), "bench" (a benchmark: only run with --bench
# or when named, as 'make bench-*' does), "scratch" (QEMU gives dom0 a
# scratch disk, /dev/vda, backed by a fresh build/xen/<kver>/scratch.img
# deleted after the run), "powercut" (dom0 gets two cache=none virtio disks
# and ends the scenario by printing "SK: POWERCUT <name>", on which the host
# kills QEMU with SIGKILL and runs the scenario's host.sh on the disks'
# host files; such a scenario is the last of its boot), "qcow2" (dom0 gets
# qemu-img and the splitkit tool), "slow" (only run when
# XEN_SLOW=1 or when named with --scenarios), "late" (runs after the other
# scenarios of its boot: its time suffers most from make check's host lane,
# which has ended by then), "wip" (not yet reliable: only
# run when XEN_WIP=1 or when named).  See Documentation/testing.rst.
#
# On failure the consoles stay under build/xen/<kver>/ and their tails are
# printed.

# The whole script is one compound command, parsed before it runs, so
# editing this file while a harness run is in progress cannot derail it.
{
set -u
set -o pipefail

TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
BUILD=${BUILD:-$TOP/build}
HERE=$TOP/tests/xen
XEN_GZ=/boot/xen-4.17-amd64.gz
XEN_LIB=/usr/lib/xen-4.17
# A hang guard, never a sequencing device: generous, because a busy host
# slows the emulated machine several times over (a loaded 2-core host
# stretched back-bound to 555 s and vbd-stockback's guest past 480 s).
SCENARIO_TIMEOUT=${SCENARIO_TIMEOUT:-1500}

kver=""
want=""
demo=0
bench=0
list=0
while [ $# -gt 0 ]; do
	case "$1" in
	--kver) kver=$2; shift ;;
	--scenarios) want=$2; shift ;;
	--demo) demo=1 ;;
	--bench) bench=1 ;;
	--list) list=1 ;;
	*) echo "usage: run.sh [--kver R] [--scenarios a,b] [--demo] [--bench] [--list]" >&2
	   exit 2 ;;
	esac
	shift
done

. "$HERE/lib/mkroot.sh"

# scenario_needs NAME WORD: does the scenario's 'needs' file say WORD?
scenario_needs()
{
	[ -f "$HERE/scenarios/$1/needs" ] &&
		grep -qw "$2" "$HERE/scenarios/$1/needs"
}

select_scenarios()
{
	local d s
	if [ -n "$want" ]; then
		echo "${want//,/ }"
		return
	fi
	for d in "$HERE"/scenarios/*/; do
		s=$(basename "$d")
		[ -f "$d/dom0.sh" ] || continue
		if [ "$demo" -eq 1 ]; then
			scenario_needs "$s" demo && echo "$s"
		elif [ "$bench" -eq 1 ]; then
			scenario_needs "$s" bench && echo "$s"
		elif ! scenario_needs "$s" demo &&
		     ! scenario_needs "$s" bench &&
		     { [ -n "${XEN_SLOW:-}" ] || ! scenario_needs "$s" slow; } &&
		     { [ -n "${XEN_WIP:-}" ] || ! scenario_needs "$s" wip; }; then
			echo "$s"
		fi
	done
}

scenarios=$(select_scenarios | xargs)
if [ "$list" -eq 1 ]; then
	echo "$scenarios"
	exit 0
fi

# --- results -----------------------------------------------------------

n=0
nfail=0
result()
{
	n=$((n + 1))
	[ "$1" = ok ] || nfail=$((nfail + 1))
	echo "$1 $n $2"
}

bail()
{
	echo "# $*"
	result "not ok" "xen harness: $*"
	echo "1..$n"
	exit 1
}

echo "KTAP version 1"
[ -n "$scenarios" ] || bail "no scenario selected"

[ -n "$kver" ] || kver=$("$TOP/scripts/kver.sh" --image) ||
	bail "no kernel with both /boot/vmlinuz and headers (run 'make deps')"
[ -f "/boot/vmlinuz-$kver" ] || bail "no /boot/vmlinuz-$kver"
[ -f "$XEN_GZ" ] || bail "no $XEN_GZ (run 'make deps')"

# XEN_BACK_PARAMS=a=1,b=2: splitkit_back's module parameters for this run,
# on dom0's command line as sk.backparams=a=1:b=2 (one word; a comma would
# end QEMU's multiboot module, as for sk.scenarios); the harness's loaders
# pass them on (sk_back_params, lib/common.sh).
back_params=${XEN_BACK_PARAMS:-}
[[ "$back_params" =~ ^[A-Za-z0-9_.,=-]*$ ]] ||
	bail "XEN_BACK_PARAMS '$back_params': name=value pairs separated by commas"
[ -z "$back_params" ] ||
	echo "# splitkit_back parameters for this run: $back_params"

out=$BUILD/xen/$kver
mkdir -p "$out"
# One harness run at a time per output directory: a second run waits
# rather than overwrite the images and consoles of the first.
exec 9>"$out/.lock"
if ! flock -n 9; then
	echo "# another harness run is using $out; waiting for it"
	flock 9
fi
rm -f "$out"/guest-*.log "$out"/serial-*.log "$out"/xl-*.log \
	"$out"/qemu-dm-*.log

# --- our modules, for this kernel --------------------------------------

echo "# building splitkit modules for $kver"
if ! "$TOP/scripts/build-modules.sh" "$kver" >"$out/kbuild.log" 2>&1; then
	sed 's/^/# /' "$out/kbuild.log" | tail -n 30
	bail "building splitkit modules for $kver"
fi
kos=$(find "$BUILD/kmod/$kver" -name '*.ko' | sort)
ko_names=""
for f in $kos; do
	ko_names="$ko_names $(modinfo -F name "$f")"
done

# --- images ------------------------------------------------------------

# fio for dom0 and the guests: the lean build of 'make deps'
# (scripts/fio-lean.sh: the same fio 3.33 as Debian's, five libraries
# instead of sixty), else Debian's, whose dynamic linking costs an emulated
# guest ~0.6 s at every start and its libraries 80 MiB of every initramfs.
FIO_BIN=$(sh "$TOP/scripts/fio-lean.sh" --path)
if sh "$TOP/scripts/fio-lean.sh" --check; then
	echo "# fio: $FIO_BIN (lean build)"
else
	echo "# fio: /usr/bin/fio (no lean build at $FIO_BIN: 'make deps' as root, or sh scripts/fio-lean.sh, builds it; guests run slower)"
	FIO_BIN=/usr/bin/fio
fi

need_hvm=0
need_scratch=0
need_qcow2=0
for s in $scenarios; do
	[ -d "$HERE/scenarios/$s" ] || bail "no scenario '$s'"
	scenario_needs "$s" hvm && need_hvm=1
	scenario_needs "$s" scratch && need_scratch=1
	scenario_needs "$s" qcow2 && need_qcow2=1
done
# "qcow2": dom0 gets qemu-img and the splitkit tool (built here).
if [ "$need_qcow2" -eq 1 ]; then
	flock "$BUILD/tools.lock" make -s -C "$TOP/tools" BUILD="$BUILD" \
		>"$out/tools.log" 2>&1 ||
		bail "building the splitkit tool (see $out/tools.log)"
fi
# The scratch disk (needs word "scratch"): a virtio disk, /dev/vda in dom0
# once virtio_pci and virtio_blk are loaded, backed by a sparse host file.
scratch_mods=""
scratch_drive=()
if [ "$need_scratch" -eq 1 ]; then
	scratch_mods="virtio_pci virtio_blk"
	scratch_drive=(-drive "file=$out/scratch.img,if=virtio,format=raw,cache=unsafe")
fi
# qcow2 scenarios: an image store on XFS (tests/xen/lib/qcow2.sh)
qcow2_mods=""
[ "$need_qcow2" -eq 1 ] && qcow2_mods="xfs"
powercut_mods=""
for s in $scenarios; do
	scenario_needs "$s" powercut &&
		powercut_mods="virtio_pci virtio_blk crc32c_generic ext4"
done

# add_selftests: splitkit's kselftest package (tests/selftests), installed
# by its own Makefile as a user would, under /lib/splitkit/selftests; the
# scenarios run it there (tests/xen/lib/selftests.sh).
add_selftests()
{
	make -s -C "$TOP/tests/selftests" install \
		INSTALL_PATH="$ROOT/lib/splitkit/selftests"
}

# add_scripts: the shell libraries and the selected scenarios, on both sides.
add_scripts()
{
	local f s
	add_selftests
	# Every shell library (common.sh, dom0lib.sh, fio.sh, ...) goes to
	# /lib/splitkit/.
	for f in "$HERE"/lib/*.sh; do
		[ "$(basename "$f")" = mkroot.sh ] && continue
		root_add_file "$f" "/lib/splitkit/$(basename "$f")"
	done
	for s in $scenarios; do
		root_add_tree "$HERE/scenarios/$s" "/scenarios/$s"
	done
	root_add_libs /bin/busybox
	root_register_ko $kos
}

# add_tools: fio ($FIO_BIN), e2fsprogs and modinfo with their libraries.
add_tools()
{
	root_add_bin "$FIO_BIN" /usr/bin/fio || return 1
	root_add_bin /sbin/mkfs.ext4 || return 1
	root_add_bin /sbin/e2fsck || return 1
	# kmod's modinfo (argv[0] names the tool): it reads a module's
	# dependencies from its .modinfo section, where busybox's knows only
	# modules.dep and the package's fallback scans the whole file (4 s
	# for ext4.ko in an emulated guest)
	root_add_bin /bin/kmod /usr/sbin/modinfo || return 1
	# glibc dlopens libgcc_s for pthread_cancel (xl, fio).
	root_add_file "$(gcc -print-file-name=libgcc_s.so.1)" \
		/lib/x86_64-linux-gnu/libgcc_s.so.1
}

# add_xenstore_client: xenstore-read, -write, ... (one binary, named by
# argv[0]); in a guest it talks to xenstored through /dev/xen/xenbus.  The
# handshake helpers of common.sh use it on both sides.
add_xenstore_client()
{
	local b
	root_add_bin /usr/bin/xenstore || return 1
	for b in read write rm ls list exists chmod watch; do
		ln -sf xenstore "$ROOT/usr/bin/xenstore-$b"
	done
}

DOMU_MODULES="xen-blkfront ata_piix sd_mod ext4 crc32c_generic"

build_domU()
{
	root_init "$out/domU-root"
	root_add_file "$HERE/lib/domU-init" /init
	add_scripts
	add_tools || return 1
	add_xenstore_client || return 1
	# the splitkit tool, when built: its guest commands (negotiate-blk's
	# peer runs splitkit negotiate request, select and show)
	if [ "$need_qcow2" -eq 1 ]; then
		root_add_bin "$BUILD/tools/splitkit" /usr/bin/splitkit ||
			return 1
	fi
	root_add_modules "$kver" $DOMU_MODULES $ko_names || return 1
	root_pack "$out/domU.img"
}

# build_domU_small: busybox, modules and scripts only, for HVM guests.  An
# HVM guest's kernel and initramfs are loaded by SeaBIOS's linuxboot ROM
# through fw_cfg port I/O, each access a round trip through Xen and the
# device model in dom0: under QEMU's software emulation every megabyte
# costs seconds, so HVM scenarios use busybox tools instead of fio.
build_domU_small()
{
	root_init "$out/domU-small-root"
	root_add_file "$HERE/lib/domU-init" /init
	add_scripts
	root_add_modules "$kver" $DOMU_MODULES $ko_names || return 1
	root_pack "$out/domU-small.img" gzip
}

# kernel_elf BZIMAGE OUT: write the uncompressed ELF kernel a bzImage
# carries (its payload: xz in Debian's 6.1, zstd in 6.12, gzip elsewhere).
# The PV guests' configs name it: xl (libxenguest) decompresses a bzImage
# in dom0's user space on every create, which under QEMU's software
# emulation took 16 s of each xl create against 7 s from the ELF (9.8 s
# from a gzip'ed ELF), about 20 guests per boot.
kernel_elf()
{
	local in=$1 out=$2 m magic tool off
	for m in $'\xfd7zXZ:xz' $'\x28\xb5\x2f\xfd:zstd' $'\x1f\x8b\x08:gzip'; do
		magic=${m%:*}
		tool=${m##*:}
		for off in $(LC_ALL=C grep -abo "$magic" "$in" | cut -d: -f1); do
			# the payload is followed by the bzImage's trailer:
			# the tool complains about it after writing the kernel
			tail -c +$((off + 1)) "$in" | "$tool" -dcq >"$out" 2>/dev/null
			[ "$(head -c 4 "$out")" = $'\x7fELF' ] && return 0
		done
	done
	rm -f "$out"
	echo "run.sh: no ELF kernel found inside $in" >&2
	return 1
}

build_dom0()
{
	local b
	root_init "$out/dom0-root"
	root_add_file "$HERE/lib/dom0-init" /init
	add_scripts
	add_tools || return 1
	for b in xl xenstored xen-init-dom0 xenconsoled xenstore-control \
		 libxl-save-helper; do
		root_add_bin "$XEN_LIB/bin/$b" || return 1
	done
	root_add_bin /usr/bin/xenstore || return 1
	for b in read write rm ls list exists chmod watch; do
		ln -sf xenstore "$ROOT/usr/bin/xenstore-$b"
	done
	# util-linux losetup (--sector-size), beside busybox's (back-harden)
	root_add_bin /usr/sbin/losetup /usr/lib/splitkit/losetup || return 1
	# util-linux flock: the hotplug script's lock (busybox has none)
	root_add_bin /usr/bin/flock || return 1
	# device-mapper: slow disks made with dm-delay (back-bound)
	root_add_bin /sbin/dmsetup || return 1
	root_add_file /etc/xen/xl.conf /etc/xen/xl.conf
	root_add_file "$TOP/tools/hotplug/splitkit" /etc/xen/scripts/splitkit
	chmod 755 "$ROOT/etc/xen/scripts/splitkit"
	# HVM guests boot the bzImage (SeaBIOS), PV guests its ELF
	root_add_file "/boot/vmlinuz-$kver" /boot/vmlinuz-domU
	kernel_elf "/boot/vmlinuz-$kver" "$ROOT/boot/vmlinux-domU" || return 1
	root_add_file "$out/domU.img" /boot/initrd-domU.img
	root_add_file "$out/domU-small.img" /boot/initrd-domU-small.img
	if [ "$need_qcow2" -eq 1 ]; then
		root_add_bin /usr/bin/qemu-img || return 1
		# qemu-io holds an image as a VM would (vbd-qcow2-policy)
		root_add_bin /usr/bin/qemu-io || return 1
		root_add_bin "$BUILD/tools/splitkit" /usr/bin/splitkit || return 1
		# an image store on XFS, whose page cache has large folios
		# (vbd-qcow2-destroy)
		root_add_bin /sbin/mkfs.xfs || return 1
		# util-linux setpriv (busybox's changes no uid): splitkit vbd
		# without root (vbd-online-ctl)
		root_add_bin /usr/bin/setpriv /usr/lib/splitkit/setpriv ||
			return 1
	fi
	if [ "$need_hvm" -eq 1 ]; then
		root_add_bin /usr/libexec/xen-qemu-system-i386 || return 1
		root_add_tree /usr/share/qemu /usr/share/qemu
		root_add_tree /usr/share/seabios /usr/share/seabios
		root_add_tree "$XEN_LIB/boot" "$XEN_LIB/boot"
	fi
	root_add_modules "$kver" xen-privcmd xenfs xen-evtchn xen-gntdev \
		xen-gntalloc xen-blkback loop dm-delay ext4 crc32c_generic \
		$scratch_mods $qcow2_mods \
		$powercut_mods $ko_names || return 1
	mkdir -p "$ROOT/etc/splitkit"
	echo "$scenarios" | tr ' ' '\n' >"$ROOT/etc/splitkit/scenarios"
	# make bench-blk: the settings it was given (tests/xen/bench-blk.sh)
	if [ -n "${SK_BENCH_ENV:-}" ]; then
		root_add_file "$SK_BENCH_ENV" /etc/splitkit/bench.env || return 1
	fi
	root_pack "$out/dom0.img"
}

echo "# building initramfs images in $out"
build_domU >"$out/mkroot.log" 2>&1 || { sed 's/^/# /' "$out/mkroot.log"; bail "building the domU image"; }
build_domU_small >>"$out/mkroot.log" 2>&1 || { sed 's/^/# /' "$out/mkroot.log"; bail "building the small domU image"; }
build_dom0 >>"$out/mkroot.log" 2>&1 || { sed 's/^/# /' "$out/mkroot.log"; bail "building the dom0 image"; }
[ "$out/xen" -nt "$XEN_GZ" ] || gzip -dc "$XEN_GZ" >"$out/xen"

# --- power cuts --------------------------------------------------------

# A power-cut scenario (needs word "powercut") proves durability: dom0 gets
# two virtio disks that QEMU writes to host files with no host cache
# (cache=none: O_DIRECT, and QEMU keeps no cache of its own for a raw
# file), serial "sk-powercut" with 512-byte sectors and "sk-powercut-4k"
# with 4096-byte ones (tests/xen/lib/powercut.sh).  When dom0 prints "SK:
# POWERCUT <name>", powercut_watch kills QEMU with SIGKILL at once: every
# write QEMU completed is in the host files, nothing dom0 kept in memory
# is.  Then the scenario's host.sh checks the host files.  Nothing runs in
# that boot after the cut, so plan_boots makes each power-cut scenario the
# last of its boot.

# plan_boots: one line per boot, its scenarios in order: every other
# scenario, the "late" ones, then the first power-cut scenario; then each
# further power-cut scenario alone.
plan_boots()
{
	local s rest="" late="" cuts=""
	for s in $scenarios; do
		if scenario_needs "$s" powercut; then
			cuts="$cuts $s"
		elif scenario_needs "$s" late; then
			late="$late $s"
		else
			rest="$rest $s"
		fi
	done
	set -- $cuts
	echo $rest $late ${1:-}
	[ $# -gt 0 ] && shift
	for s in "$@"; do
		echo "$s"
	done
}

# powercut_prepare: fresh sparse host files (1 GiB behind sk-powercut:
# room for vbd-online-cut's three sets of images; 256 MiB behind
# sk-powercut-4k) and the QEMU arguments of the power-cut disks in
# powercut_drive.  cache=none needs O_DIRECT on the
# host's filesystem; where it has none, cache=writeback is as good for
# this test, since the host's page cache outlives QEMU.
powercut_prepare()
{
	local cache=none
	rm -f "$out/powercut.img" "$out/powercut-4k.img" "$out/powercut.done"
	truncate -s 1G "$out/powercut.img" &&
		truncate -s 256M "$out/powercut-4k.img" || return 1
	if ! dd if=/dev/zero of="$out/powercut.img" bs=4096 count=1 \
	     oflag=direct conv=notrunc 2>/dev/null; then
		echo "# no O_DIRECT on $out: power-cut disks with cache=writeback"
		cache=writeback
	fi
	powercut_drive=(
		-drive "file=$out/powercut.img,if=none,id=pc,format=raw,cache=$cache"
		-device virtio-blk-pci,drive=pc,serial=sk-powercut
		-drive "file=$out/powercut-4k.img,if=none,id=pc4k,format=raw,cache=$cache"
		-device "virtio-blk-pci,drive=pc4k,serial=sk-powercut-4k,logical_block_size=4096,physical_block_size=4096"
	)
}

# powercut_watch QPID NAME: follow the console until dom0 prints "SK:
# POWERCUT NAME", then kill QEMU (its pid from -pidfile) with SIGKILL and
# record the cut in $out/powercut.done.  Returns when QEMU (the timeout
# process QPID) is gone.  The process substitution, unlike a pipe, lets
# grep's match end the wait while tail is still running.
powercut_watch()
{
	grep -a -q -m 1 "^SK: POWERCUT $2" \
		< <(tail --pid="$1" -F -s 0.2 -n +1 "$log" 2>/dev/null) ||
		return 0
	kill -KILL "$(cat "$out/qemu.pid")" && echo "$2" >"$out/powercut.done"
}

# powercut_check NAME: after the boot that NAME ended with a power cut,
# run NAME's host.sh on the host files; its results count as "NAME:
# host: ...".  The host files are kept when a check failed.
powercut_check()
{
	local s=$1 line rc got=0 before=$nfail

	if [ "$(cat "$out/powercut.done" 2>/dev/null)" != "$s" ]; then
		result "not ok" "$s: power cut on dom0's POWERCUT marker"
		return
	fi
	result ok "$s: power cut on dom0's POWERCUT marker (QEMU killed)"
	finished[$s]=1
	HERE=$HERE "$HERE/scenarios/$s/host.sh" "$out/powercut.img" \
		"$out/powercut-4k.img" >"$out/host-$s.log" 2>&1
	rc=$?
	while IFS= read -r line; do
		case "$line" in
		"ok - "*)
			got=1
			result ok "$s: host: ${line#ok - }" ;;
		"not ok - "*)
			got=1
			result "not ok" "$s: host: ${line#not ok - }" ;;
		*)
			echo "# $s: host: ${line#\# }" ;;
		esac
	done <"$out/host-$s.log"
	[ "$got" -eq 1 ] && [ "$rc" -eq 0 ] ||
		result "not ok" "$s: host: host.sh ran (status $rc) and reported results"
	if [ "$nfail" -eq "$before" ]; then
		rm -f "$out/powercut.img" "$out/powercut-4k.img"
	else
		echo "# $s: power-cut disks kept: $out/powercut.img, $out/powercut-4k.img"
	fi
}

# --- boot --------------------------------------------------------------

# boot_qemu: one boot of the scenarios in $boot, console to $log; returns
# QEMU's status, 200 if dom0 never said DOM0-UP within DOM0_BOOT_TIMEOUT s
# (QEMU is then stopped), or 202 if QEMU ended before DOM0-UP (dom0's
# kernel died while booting).  dom0's init says DOM0-UP before it loads
# any module, so neither can be splitkit's doing: an emulated boot has
# been seen to stall before dom0's init runs, and the 6.12 dom0 to die of
# an "Oops: int3" in sched_clock_cpu (the emulated CPUs tripping a kernel
# that patches its own code, as guests do, sk_boot_crash); a second boot
# gets past both.  With $cut set (a power-cut scenario ends the boot),
# QEMU gets the power-cut disks and powercut_watch.  $fake_dom0_crash:
# make dom0 die so (no init: the kernel panics), the harness's self-test.
boot_qemu()
{
	local qpid wpid="" waited=0 noinit=""

	: >"$log"
	rm -f "$out/qemu.pid"
	powercut_drive=()
	if [ -n "$cut" ]; then
		powercut_prepare || return 201
	fi
	[ -n "${fake_dom0_crash:-}" ] && noinit=" rdinit=/sk-no-such-init"
	timeout -s KILL "$limit" qemu-system-x86_64 \
		-nodefaults -display none -no-reboot -pidfile "$out/qemu.pid" \
		-machine pc -cpu qemu64,+svm,+npt -m 3072 -smp 2 \
		-serial "file:$log" "${scratch_drive[@]}" "${powercut_drive[@]}" \
		-kernel "$out/xen" \
		-append "dom0_mem=1536M,max:1536M console=com1 com1=115200,8n1 ${XEN_APPEND:-}" \
		-initrd "/boot/vmlinuz-$kver console=hvc0 quiet loglevel=3 panic=-1$noinit sk.timeout=$SCENARIO_TIMEOUT sk.scenarios=${boot// /:}${fake_crash:+ sk.fakebootcrash=$fake_crash}${back_params:+ sk.backparams=${back_params//,/:}},$out/dom0.img" \
		</dev/null >"$out/qemu.log" 2>&1 &
	qpid=$!
	if [ -n "$cut" ]; then
		powercut_watch "$qpid" "$cut" &
		wpid=$!
	fi
	while ! grep -aq '^SK: DOM0-UP' "$log" 2>/dev/null; do
		kill -0 "$qpid" 2>/dev/null || break
		if [ "$waited" -ge "$DOM0_BOOT_TIMEOUT" ]; then
			kill -TERM "$qpid" 2>/dev/null	# timeout passes it on
			wait "$qpid"
			[ -n "$wpid" ] && wait "$wpid"
			return 200
		fi
		sleep 5
		waited=$((waited + 5))
	done
	wait "$qpid" 2>/dev/null	# no "Killed" notice after a power cut
	local rc=$?
	[ -n "$wpid" ] && wait "$wpid"
	grep -aq '^SK: DOM0-UP' "$log" 2>/dev/null || return 202
	return $rc
}

# A scenario dom0 flagged "PLATFORM" (a guest's kernel died while it
# booted, before anything of ours ran in it: sk_boot_crash in dom0lib.sh)
# that failed runs once more in a boot of its own: its results in this
# boot become comments, said as such, and count for nothing.  Only once
# per scenario: a second crash counts.  retried: the scenarios run again.
declare -A retried

# platform_flags: print the scenarios of $log to run again (flagged, not
# run again yet, and failed or not finished).
platform_flags()
{
	local line cur="" s
	declare -A flag=() bad=() ended=()

	while IFS= read -r line; do
		case "$line" in
		"SK: BEGIN "*) cur=${line#SK: BEGIN } ;;
		"SK: END "*) ended[${line#SK: END }]=1 ;;
		"SK: not ok - "*) bad[${cur:-dom0}]=1 ;;
		"SK: PLATFORM "*)
			s=${line#SK: PLATFORM }
			flag[${s%% *}]=1 ;;
		esac
	done < <(tr -d '\r' <"$log" 2>/dev/null)
	for s in "${!flag[@]}"; do
		[ -z "${retried[$s]:-}" ] || continue
		[ -n "${bad[$s]:-}" ] || [ -z "${ended[$s]:-}" ] || continue
		echo "$s"
	done
}

# parse_console: the results of one boot's console $log; the scenarios
# of this boot to run again in rerun (platform_flags).
parse_console()
{
	local line g again=""

	current=""
	all_done=0
	declare -A rerun_now=()
	rerun=$(platform_flags | sort | xargs)
	for g in $rerun; do
		rerun_now[$g]=1
		retried[$g]=1
	done
	while IFS= read -r line; do
		case "$line" in
		"SK: BEGIN "*)
			current=${line#SK: BEGIN }
			again=${rerun_now[$current]:-} ;;
		"SK: END "*)
			finished[${line#SK: END }]=1 ;;
		"SK: ok - "*|"SK: not ok - "*)
			if [ -n "$again" ]; then
				echo "# $current: (run a guest's kernel crashed in) ${line#SK: }"
				continue
			fi
			nresults[${current:-dom0}]=1
			case "$line" in
			"SK: ok - "*)
				result ok "${current:-dom0}: ${line#SK: ok - }" ;;
			*)
				result "not ok" "${current:-dom0}: ${line#SK: not ok - }" ;;
			esac ;;
		"SK: PLATFORM "*)
			g=${line#SK: PLATFORM }
			g=${g#* }
			echo "# ${current:+$current: }${g%%: *}'s kernel died while booting, before anything of splitkit ran in it, with no module loaded (the emulated platform, sk_boot_crash): ${g#*: }"
			[ -n "$again" ] &&
				echo "# $current: its results above count for nothing; it runs again in a boot of its own" ;;
		"SK: # "*)
			echo "# ${current:+$current: }${line#SK: # }" ;;
		"SK: BAIL "*)
			result "not ok" "dom0: ${line#SK: BAIL }" ;;
		"SK: ALL-DONE")
			all_done=1 ;;
		"SKC:"*)
			g=${line#SKC:}
			echo "${g#*: }" >>"$out/${g%%: *}.log" ;;
		esac
	done < <(tr -d '\r' <"$log" 2>/dev/null)	# Xen's console adds CRs
}

DOM0_BOOT_TIMEOUT=${DOM0_BOOT_TIMEOUT:-600}
declare -A finished nresults
mapfile -t boots < <(plan_boots)
nplanned=${#boots[@]}
logs=()
i=0
while [ "$i" -lt "${#boots[@]}" ]; do
	boot=${boots[$i]}
	cut=${boot##* }
	scenario_needs "$cut" powercut || cut=""
	log=$out/console.log
	[ "$i" -gt 0 ] && log=$out/console-$cut.log
	[ "$i" -ge "$nplanned" ] && log=$out/console-again$i.log
	# harness self-test of the rerun: XEN_FAKE_BOOT_CRASH=SCENARIO makes
	# dom0 fake a guest's boot crash in SCENARIO, in the planned boots only
	fake_crash=""
	[ "$i" -lt "$nplanned" ] && fake_crash=${XEN_FAKE_BOOT_CRASH:-}
	logs+=("$log")
	nscen=$(echo "$boot" | wc -w)
	limit=$(( (SCENARIO_TIMEOUT + 60) * nscen + 180 ))
	if [ "$need_scratch" -eq 1 ]; then
		rm -f "$out/scratch.img"
		truncate -s "${XEN_SCRATCH_SIZE:-512M}" "$out/scratch.img" ||
			bail "creating $out/scratch.img"
	fi

	echo "# booting Xen 4.17 + dom0 $kver in QEMU (TCG), scenarios: $boot"
	# harness self-test of the second boot: XEN_FAKE_DOM0_CRASH=1 makes
	# dom0's kernel die while it boots, in the first boot only
	fake_dom0_crash=""
	[ "$i" -eq 0 ] && fake_dom0_crash=${XEN_FAKE_DOM0_CRASH:-}
	boot_qemu
	qrc=$?
	fake_dom0_crash=""
	if [ "$qrc" -eq 200 ] || [ "$qrc" -eq 202 ]; then
		if [ "$qrc" -eq 200 ]; then
			echo "# dom0 not up after $DOM0_BOOT_TIMEOUT s; console tail:"
			cp "$log" "${log%.log}-stalled.log"
		else
			echo "# dom0's kernel died while booting, before its init said DOM0-UP (no module loaded, nothing of splitkit ran: the emulated platform); console tail:"
			cp "$log" "${log%.log}-died.log"
		fi
		grep -av '^SKC:' "$log" | grep -a -A3 -E 'Oops|Kernel panic|RIP:' |
			head -n 8 | sed 's/^/# console: /'
		tail -n 5 "$log" | sed 's/^/# console: /'
		echo "# booting again"
		boot_qemu
		qrc=$?
		[ "$qrc" -eq 200 ] && echo "# dom0 not up after $DOM0_BOOT_TIMEOUT s again"
		[ "$qrc" -eq 202 ] && echo "# dom0's kernel died while booting again"
	fi
	[ "$qrc" -eq 201 ] && bail "creating the power-cut disks in $out"
	[ "$need_scratch" -eq 1 ] && rm -f "$out/scratch.img"
	[ "$qrc" -eq 137 ] && [ ! -f "$out/powercut.done" ] &&
		echo "# QEMU killed after $limit s"

	# --- results of this boot ----------------------------------------

	parse_console
	[ -n "$cut" ] && ! echo " $rerun " | grep -q " $cut " &&
		powercut_check "$cut"
	for s in $boot; do
		echo " $rerun " | grep -q " $s " && continue
		[ -n "${finished[$s]:-}" ] ||
			result "not ok" "$s: scenario ran to its end (timeout, crash or hang)"
		[ -n "${nresults[$s]:-}" ] ||
			result "not ok" "$s: scenario reported results"
	done
	# a boot that ends in a power cut never gets to power off
	[ "$all_done" -eq 1 ] || [ -n "$cut" ] ||
		result "not ok" "dom0: ran every scenario and powered off"
	if [ -n "$rerun" ]; then
		for s in $rerun; do
			unset "finished[$s]"
		done
		mapfile -t more < <(scenarios=$(echo $rerun) plan_boots)
		boots+=("${more[@]}")
	fi
	i=$((i + 1))
done

if [ "$nfail" -gt 0 ]; then
	echo "# consoles kept in $out: console*.log (Xen + dom0), guest-*.log"
	for log in "${logs[@]}"; do
		grep -av '^SKC:' "$log" 2>/dev/null | tail -n 60 |
			sed "s/^/# $(basename "$log" .log): /"
	done
	for g in "$out"/guest-*.log; do
		[ -f "$g" ] || continue
		tail -n 30 "$g" | sed "s/^/# $(basename "$g" .log): /"
	done
fi
echo "1..$n"
[ "$nfail" -eq 0 ]
exit
}
