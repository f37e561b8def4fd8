#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# The fio that the Xen-in-QEMU harness puts into dom0 and every guest: fio
# 3.33, the version Debian 12 ships, built from Debian's own source tarball
# (pinned by its SHA-256, fetched with apt's downloader) without the
# network-storage engines.  Debian's /usr/bin/fio links some 60 libraries
# (librbd, libceph-common, glusterfs, libicudata, ...): about 80 MiB of
# every guest's initramfs, and ~0.6 s of dynamic linking each time fio
# starts in an emulated PV guest, where every page-table update is a
# hypercall.  This one links libaio, libz, libm (with libmvec) and libc:
# no network-storage, pmem, dev-dax or NUMA engines; its verify
# headers are those of Debian's fio (same version), which the host's checks
# use.  Called by scripts/deps.sh ('make deps'); idempotent.
#
#   SPLITKIT_FIO_DIR   where fio goes (default /var/cache/splitkit/fio-3.33;
#                      rm -rf it to undo)
#
#   fio-lean.sh          build it unless present; exits 0 when
#                        $SPLITKIT_FIO_DIR/fio runs, non-zero (with the
#                        reason) when it could not be built: the harness
#                        then falls back to /usr/bin/fio
#   fio-lean.sh --path   print where it is (or would be)
#   fio-lean.sh --check  exit 0 if it is there and runs, 1 if not

set -eu

VER=3.33
POOL=pool/main/f/fio/fio_$VER.orig.tar.gz
# the archive's mirror while Debian 12 is current, then its archive
URLS="http://deb.debian.org/debian/$POOL http://archive.debian.org/debian/$POOL"
# from fio_3.33-3.dsc, Checksums-Sha256
SHA256=d2410e13e0f379d061d077cc5ae325835bb7c6186aa7bafc1df954cbc9b014fc
DIR=${SPLITKIT_FIO_DIR:-/var/cache/splitkit/fio-$VER}

# Debian's configure line (debian/rules) without gfio and libnbd, and every
# engine that would link a library beyond libaio and zlib turned off
CONF="--disable-native --disable-numa --disable-rdma --disable-rados
	--disable-rbd --disable-http --disable-gfapi --disable-libnfs
	--disable-pmem --disable-xnvme --disable-libzbc --disable-tcmalloc
	--disable-dfs"

present()
{
	"$DIR/fio" --version 2>/dev/null | grep -qx "fio-$VER"
}

case "${1:-}" in
--path)	echo "$DIR/fio"; exit 0 ;;
--check) present; exit ;;
"")	;;
*)	echo "usage: fio-lean.sh [--path|--check]" >&2; exit 2 ;;
esac

mkdir -p "$DIR"
# one build at a time (two 'make deps' at once: the second waits, then
# finds the first one's fio)
exec 9>"$DIR/.lock"
flock 9
if present; then
	echo "fio-lean: $DIR/fio present"
	exit 0
fi

work=$(mktemp -d "$DIR/build.XXXXXX")
trap 'rm -rf "$work"' EXIT
trap 'exit 130' INT TERM

# apt-helper checks the hash; as root it warns that it downloads outside
# apt's sandbox (the directory is not the _apt user's)
got=""
for url in $URLS; do
	echo "fio-lean: fetching $url"
	/usr/lib/apt/apt-helper download-file "$url" "$work/fio.tar.gz" \
		"SHA256:$SHA256" 2>&1 | grep -v 'unsandboxed' || true
	if echo "$SHA256  $work/fio.tar.gz" |
	   sha256sum -c --quiet >/dev/null 2>&1; then
		got=$url
		break
	fi
	rm -f "$work/fio.tar.gz"
done
if [ -z "$got" ]; then
	echo "fio-lean: could not fetch fio_$VER.orig.tar.gz (SHA-256 $SHA256) from: $URLS" >&2
	exit 1
fi
echo "fio-lean: building fio $VER"
tar -C "$work" -xzf "$work/fio.tar.gz"
src=$work/fio-$VER
# shellcheck disable=SC2086
if ! (cd "$src" && ./configure $CONF >"$work/configure.log" 2>&1); then
	tail -n 20 "$work/configure.log" >&2
	echo "fio-lean: configure failed" >&2
	exit 1
fi
if ! grep -q '^Linux AIO support  *yes' "$work/configure.log"; then
	echo "fio-lean: no libaio (libaio-dev missing? run 'make deps')" >&2
	exit 1
fi
if ! make -C "$src" -j"$(nproc)" fio >"$work/make.log" 2>&1; then
	tail -n 20 "$work/make.log" >&2
	echo "fio-lean: build failed" >&2
	exit 1
fi
strip "$src/fio"
install -m 0755 "$src/fio" "$work/fio.new"
mv -f "$work/fio.new" "$DIR/fio"
echo "fio-lean: $DIR/fio ($(ldd "$DIR/fio" | grep -c "=>") libraries)"
