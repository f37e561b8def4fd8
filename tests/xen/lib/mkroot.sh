# SPDX-License-Identifier: GPL-2.0
#
# Helpers (bash, sourced by tests/xen/run.sh) that assemble a busybox
# initramfs from the host's installed Debian packages: executables with the
# shared libraries ldd names, kernel modules with their dependencies in load
# order, and plain files.  Nothing is downloaded: every byte comes from a
# package 'make deps' installed, from what it built (the lean fio,
# scripts/fio-lean.sh) or from this repository.

# root_init DIR: start an empty root with busybox and the usual directories.
root_init()
{
	ROOT=$1
	rm -rf "$ROOT"
	mkdir -p "$ROOT"/{bin,sbin,etc,proc,sys,dev,run,tmp,root,lib/modules,var/log,var/lib,usr/bin,usr/sbin}
	ln -s lib "$ROOT/lib64"
	ln -s ../run "$ROOT/var/run"
	cp /bin/busybox "$ROOT/bin/busybox"
	ln -s busybox "$ROOT/bin/sh"
	: >"$ROOT/lib/modules/sk.order"
}

# root_add_file SRC DEST: copy one file (DEST is a path inside the root).
root_add_file()
{
	mkdir -p "$ROOT/$(dirname "$2")"
	cp -L "$1" "$ROOT/$2"
}

# root_add_tree SRC DEST: copy a directory tree.
root_add_tree()
{
	mkdir -p "$ROOT/$2"
	cp -a "$1/." "$ROOT/$2/"
}

# root_add_libs FILE: copy the shared libraries FILE needs, and the loader.
root_add_libs()
{
	local lib
	for lib in $(ldd "$1" 2>/dev/null | awk '/=> \//{print $3} /^\t\/.*ld-linux/{print $1}'); do
		[ -e "$ROOT$lib" ] && continue
		mkdir -p "$ROOT$(dirname "$lib")"
		cp -L "$lib" "$ROOT$lib"
	done
}

# root_add_bin SRC [DEST]: an executable plus its libraries.
root_add_bin()
{
	local dest=${2:-$1}
	if [ ! -x "$1" ]; then
		echo "mkroot: missing executable $1 (run 'make deps')" >&2
		return 1
	fi
	root_add_file "$1" "$dest"
	root_add_libs "$1"
}

# Our own modules: name -> .ko file, filled by root_register_ko.
declare -gA SK_KO

# root_register_ko FILE...: make splitkit-built modules known by name so
# root_add_modules can resolve them (and their 'depends:') too.
root_register_ko()
{
	local f name
	for f in "$@"; do
		name=$(modinfo -F name "$f")
		SK_KO[$name]=$f
	done
}

# _resolve_module KVER NAME: print the host files of NAME and its
# dependencies, dependencies first.
_resolve_module()
{
	local kver=$1 name=${2//-/_} dep
	if [ -n "${SK_KO[$name]:-}" ]; then
		for dep in $(modinfo -F depends "${SK_KO[$name]}" | tr , ' '); do
			_resolve_module "$kver" "$dep"
		done
		echo "${SK_KO[$name]}"
		return 0
	fi
	modprobe -S "$kver" --show-depends "$2" 2>/dev/null |
		awk '$1 == "insmod" { print $2 }' | grep . || {
		echo "mkroot: module $2 not found for $kver" >&2
		return 1
	}
}

# root_add_modules KVER NAME...: copy modules with their dependencies,
# decompressed (busybox insmod reads plain .ko) and without debug
# information, and record the load order
# in /lib/modules/sk.order as "name modname:file modname:file ...".
root_add_modules()
{
	local kver=$1 name files f base mod line
	shift
	for name in "$@"; do
		files=$(_resolve_module "$kver" "$name") || return 1
		line=$name
		for f in $files; do
			base=$(basename "$f")
			base=${base%.xz}
			base=${base%.zst}
			case "$f" in
			*.xz) xz -dc "$f" >"$ROOT/lib/modules/$base" ;;
			*.zst) zstd -qdc "$f" >"$ROOT/lib/modules/$base" ;;
			*) cp "$f" "$ROOT/lib/modules/$base" ;;
			esac
			# without debug info, as 'make modules_install
			# INSTALL_MOD_STRIP=1' installs them: our modules are
			# built with Debian's -g (11 MiB; 0.7 MiB stripped),
			# which every guest would unpack and insmod read
			strip --strip-debug "$ROOT/lib/modules/$base" || return 1
			mod=$(modinfo -F name "$ROOT/lib/modules/$base")
			line="$line $mod:$base"
		done
		echo "$line" >>"$ROOT/lib/modules/sk.order"
	done
}

# root_pack OUT [gzip]: write the root as a newc cpio archive compressed
# with LZ4 (legacy frame, as the kernel's initramfs unpacker wants it), or
# with gzip.  Under QEMU's software emulation the guest kernel's gzip
# inflate of the 100 MiB domU root (with Debian's fio) took 12 s of every
# guest boot, LZ4 3 s
# (uncompressed 2 s, but then dom0 would carry the whole root and xl copy
# it into every guest).  The HVM guests' small image stays gzip: SeaBIOS
# loads it through fw_cfg port I/O, where every megabyte costs seconds.
root_pack()
{
	(cd "$ROOT" && find . -print0 | cpio --null -o -H newc --quiet) |
		case "${2:-lz4}" in
		gzip) gzip -1 ;;
		*) lz4 -l -q ;;
		esac >"$1"
}
