#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Build and install the debug kernel 'make check-debug' boots as dom0 and
# as the guest: Debian 12's own 6.1 source (linux-source-6.1) with Debian's
# configuration, trimmed to the modules the Xen-in-QEMU harness loads, plus
# the kernel's bug finders: KFENCE (every 10 ms), SLUB debugging on for
# every cache (red zones, poisoning, free-pointer and sanity checks),
# lockdep (PROVE_LOCKING), DEBUG_ATOMIC_SLEEP, kmemleak, and
# list/refcount/object debugging.  Debug info, BTF and module signing are
# off (they only cost build time here).
#
# No KASAN: Linux 6.1 has no KASAN shadow for Xen PV (arch/x86/xen sets up
# none), and both dom0 and our guests are PV.  A KASAN build boots as far
# as Xen starting dom0, whose first instrumented access faults on the
# unmapped shadow (Xen: "d0v0 Unhandled: vec 14, #PF" at a
# 0xfffffbff... address, dom0 crashed).  KFENCE and SLUB's red zones and
# poisoning find the same kinds of heap bug (out of bounds, use after
# free), KFENCE by sampling, SLUB when the object is freed or reused.
#
# The patches in scripts/debug-kernel/ are applied to the tree first, each
# one's header saying why: fixes to Linux itself that keep a bug finder
# running (lockdep switches itself off after its first report, so a
# report from Linux's own code at boot would hide every later one in
# splitkit's).  They are for the debug kernel only.
#
# The tree is built once and cached outside the work tree, in
# $SPLITKIT_CACHE (default /var/cache/splitkit): rebuilding it is only
# needed when linux-source-6.1, this script's configuration or a patch
# changes (a stamp file records them; a new patch is applied to the built
# tree, a changed or removed one or a new source unpacks it afresh).  The
# result is installed the way the harness finds a kernel:
# /boot/vmlinuz-<release>, /lib/modules/<release>, and
# /usr/src/linux-headers-<release> pointing at the tree (for splitkit's
# own modules).  <release> ends in "-skdebug", which scripts/kver.sh never
# picks (it takes Debian's *-amd64 releases only), so 'make check' never
# boots this kernel.
#
# Prints the release on its last line.  Build log: $SPLITKIT_CACHE/build.log.
#
#   debug-kernel.sh            build if needed, install, print the release
#   debug-kernel.sh --release  print the release it would build

set -eu

CACHE=${SPLITKIT_CACHE:-/var/cache/splitkit}
TARBALL=/usr/src/linux-source-6.1.tar.xz
TREE=$CACHE/linux-source-6.1
PATCHES=$(dirname "$0")/debug-kernel
JOBS=${JOBS:-$(nproc)}

# The modules the harness puts into its initramfs images (tests/xen/run.sh:
# DOMU_MODULES, build_dom0, scratch and power-cut disks) and what the HVM
# guest's emulated disk needs; localmodconfig keeps these (and what they
# depend on) as modules and drops every other module.
HARNESS_MODULES="xen_blkfront xen_blkback xen_privcmd xenfs xen_evtchn
xen_gntdev xen_gntalloc loop dm_mod dm_delay ext4 jbd2 mbcache crc16
crc32c_generic libcrc32c ata_piix libata sd_mod scsi_mod virtio_blk
virtio_pci virtio_pci_modern_dev virtio_pci_legacy_dev virtio_ring virtio
crc64_rocksoft crc_t10dif t10_pi"

# The debug options, as scripts/config arguments (no empty strings here:
# the list is split on white space; see EMPTY_STRINGS).
DEBUG_OPTS="
-d KASAN
-e KFENCE --set-val KFENCE_SAMPLE_INTERVAL 10 -e SLUB_DEBUG_ON
-e PROVE_LOCKING -e DEBUG_LOCKDEP -e DEBUG_ATOMIC_SLEEP -e DEBUG_SPINLOCK
-e DEBUG_MUTEXES -e DEBUG_RWSEMS
-e DEBUG_KMEMLEAK -d DEBUG_KMEMLEAK_DEFAULT_OFF -e DEBUG_KMEMLEAK_AUTO_SCAN
--set-val DEBUG_KMEMLEAK_MEM_POOL_SIZE 40000
-e DEBUG_LIST -e DEBUG_OBJECTS -e DEBUG_OBJECTS_FREE -e DEBUG_OBJECTS_TIMERS
-e DEBUG_OBJECTS_WORK -e REFCOUNT_FULL -e DEBUG_PAGEALLOC
-d DEBUG_PAGEALLOC_ENABLE_DEFAULT -e SLUB_DEBUG -e DEBUG_VM
-d DEBUG_INFO -d DEBUG_INFO_DWARF5 -d DEBUG_INFO_DWARF4
-d DEBUG_INFO_DWARF_TOOLCHAIN_DEFAULT -e DEBUG_INFO_NONE -d DEBUG_INFO_BTF
-d MODULE_SIG -d MODULE_SIG_ALL -d MODULE_SIG_FORCE -d SECURITY_LOCKDOWN_LSM
--set-str LOCALVERSION -skdebug -d LOCALVERSION_AUTO
"
# Debian's certificates are not in the source package: no key files
EMPTY_STRINGS="MODULE_SIG_KEY SYSTEM_TRUSTED_KEYS SYSTEM_REVOCATION_KEYS"

# tarball_id: the linux-source-6.1 tarball the tree was unpacked from.
tarball_id()
{
	ls -l --time-style=+%s "$TARBALL" | md5sum | cut -d' ' -f1
}

# patch_list: "md5 name" of each patch in scripts/debug-kernel/, in the
# order they are applied.
patch_list()
{
	local p

	for p in "$PATCHES"/*.patch; do
		[ -f "$p" ] || continue
		echo "$(md5sum <"$p" | cut -d' ' -f1) $(basename "$p")"
	done
}

# config_id: what the build is made of (the tarball, the patches, the
# options).
config_id()
{
	{
		tarball_id
		patch_list
		echo "$HARNESS_MODULES $DEBUG_OPTS $EMPTY_STRINGS"
	} | md5sum | cut -d' ' -f1
}

# unpack: the tree from the tarball with every patch applied.  The tree
# records what it was made of: $TREE/.splitkit-tarball and, one line of
# patch_list's a patch, $TREE/.splitkit-patches.  A tree from the same
# tarball whose applied patches are the first ones of the list, unchanged,
# only gets the rest applied (kbuild then rebuilds what they touch: a
# relink, not an hour); any other difference (a patch changed, removed or
# sorted in before an applied one, a new linux-source-6.1, a tree without
# the records, a patch that failed) unpacks afresh, so patches never stack
# on an old version of themselves.
unpack()
{
	local want=$CACHE/patches.want n

	patch_list >"$want"
	n=$(wc -l 2>/dev/null <"$TREE/.splitkit-patches") || n=-1
	if [ "$(cat "$TREE/.splitkit-tarball" 2>/dev/null)" != "$(tarball_id)" ] ||
	   [ "$n" -lt 0 ] ||
	   ! head -n "$n" "$want" | cmp -s - "$TREE/.splitkit-patches"; then
		echo "debug-kernel: unpacking $TARBALL into $CACHE"
		rm -rf "$TREE" "$CACHE/stamp"
		tar -C "$CACHE" -xf "$TARBALL" || return 1
		: >"$TREE/.splitkit-patches"
		tarball_id >"$TREE/.splitkit-tarball"
		n=0
	fi
	tail -n +"$((n + 1))" "$want" | while read -r sum name; do
		echo "debug-kernel: applying $name"
		if ! patch -d "$TREE" -p1 -N <"$PATCHES/$name"; then
			# half applied: the next run starts afresh
			rm -f "$TREE/.splitkit-tarball"
			exit 1
		fi
		echo "$sum $name" >>"$TREE/.splitkit-patches"
	done
}

release()
{
	make -s -C "$TREE" kernelrelease
}

# set_options: DEBUG_OPTS and the empty strings, on the tree's .config.
set_options()
{
	local o

	# shellcheck disable=SC2086 # DEBUG_OPTS is a list of arguments
	(cd "$TREE" && ./scripts/config $DEBUG_OPTS) || return 1
	for o in $EMPTY_STRINGS; do
		(cd "$TREE" && ./scripts/config --set-str "$o" "") || return 1
	done
}

# Every step ends the build on failure: this runs in an || list, where
# set -e does not apply.
configure()
{
	local lsmod=$CACHE/lsmod.txt m o

	echo "Module Size Used by" >"$lsmod"
	for m in $HARNESS_MODULES; do
		echo "$m 0 0" >>"$lsmod"
	done
	cp "/boot/config-$("$(dirname "$0")/kver.sh" --image)" "$TREE/.config" ||
		return 1
	set_options || return 1
	make -C "$TREE" olddefconfig || return 1
	make -C "$TREE" LSMOD="$lsmod" localmodconfig </dev/null || return 1
	set_options || return 1
	make -C "$TREE" olddefconfig || return 1
	grep -q '^CONFIG_SYSTEM_TRUSTED_KEYS=""' "$TREE/.config" || {
		echo "debug-kernel: CONFIG_SYSTEM_TRUSTED_KEYS is not empty" >&2
		return 1
	}
	# what was asked for must be what the tree has
	for o in KFENCE SLUB_DEBUG_ON PROVE_LOCKING DEBUG_ATOMIC_SLEEP DEBUG_KMEMLEAK \
		 XEN_BLKDEV_BACKEND XEN_BLKDEV_FRONTEND XEN_GNTDEV; do
		grep -Eq "^CONFIG_$o=[ym]" "$TREE/.config" || {
			echo "debug-kernel: CONFIG_$o did not stick" >&2
			return 1
		}
	done
}

build()
{
	mkdir -p "$CACHE"
	unpack || return 1
	if [ "$(cat "$CACHE/stamp" 2>/dev/null)" != "$(config_id)" ]; then
		rm -f "$CACHE/stamp"
		configure || return 1
		make -C "$TREE" -j"$JOBS" bzImage modules || return 1
		config_id >"$CACHE/stamp"
	fi
}

install_it()
{
	local r
	r=$(release) || return 1
	if ! cmp -s "$TREE/arch/x86/boot/bzImage" "/boot/vmlinuz-$r"; then
		make -C "$TREE" INSTALL_MOD_STRIP=1 modules_install >/dev/null ||
			return 1
		cp "$TREE/arch/x86/boot/bzImage" "/boot/vmlinuz-$r" || return 1
		cp "$TREE/.config" "/boot/config-$r" || return 1
	fi
	ln -sfn "$TREE" "/usr/src/linux-headers-$r" || return 1
	echo "$r"
}

if [ "${1:-}" = --release ]; then
	release
	exit
fi
[ -f "$TARBALL" ] || {
	echo "debug-kernel: $TARBALL missing (apt-get install linux-source-6.1)" >&2
	exit 1
}
echo "debug-kernel: building in $TREE (log: $CACHE/build.log)" >&2
mkdir -p "$CACHE"
build >"$CACHE/build.log" 2>&1 || {
	tail -n 30 "$CACHE/build.log" >&2
	echo "debug-kernel: build failed" >&2
	exit 1
}
install_it || {
	echo "debug-kernel: installing failed" >&2
	exit 1
}
