#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Install every Debian 12 package splitkit needs to build, test and demo,
# idempotently: packages already present are left alone, and apt's package
# scripts are kept from starting services (Xen daemons must not start on a
# build host that does not run Xen).  Called by 'make deps', which 'make demo'
# and 'make check' run first.  With --debug it also installs what building
# the debug kernel of 'make check-debug' needs (scripts/debug-kernel.sh).

set -eu

PKGS="
build-essential
kmod
cpio
gzip
xz-utils
lz4
zstd
busybox-static
linux-image-amd64
linux-image-6.12-amd64
linux-headers-amd64
linux-headers-6.12-amd64
xen-hypervisor-4.17-amd64
xen-utils-4.17
libxen-dev
qemu-system-x86
qemu-system-xen
qemu-utils
fio
sparse
clang
libclang-rt-14-dev
e2fsprogs
xfsprogs
linux-source-6.1
zlib1g-dev
libaio-dev
libjson-c-dev
rsync
dmsetup
"
if [ "${1:-}" = --debug ]; then
	PKGS="$PKGS bc bison flex libelf-dev libssl-dev patch"
fi

# images_missing: the kernel image package of each kernel line whose
# newest complete headers (scripts/kver.sh) have no /boot/vmlinuz: a
# machine installed from an older point release keeps its older
# linux-image-amd64 while linux-headers-amd64 brings the newest ABI's
# headers, and the harness, which boots the kernel it builds for, would
# then quietly take another line.  (SPLITKIT_SRC_DIR and SPLITKIT_BOOT_DIR
# are kver.sh's, for tests/deps.)
images_missing()
{
	for r in $(sh "$(dirname "$0")/kver.sh" --all 2>/dev/null); do
		[ -f "${SPLITKIT_BOOT_DIR:-/boot}/vmlinuz-$r" ] ||
			echo " linux-image-$r"
	done
}

# lean_fio: the harness's fio (scripts/fio-lean.sh), built once per
# machine; without it the harness takes Debian's /usr/bin/fio, whose start
# costs every emulated guest ~0.6 s, so a failure here is a warning.
# (SPLITKIT_FIO_DIR is fio-lean.sh's, SPLITKIT_FIO_LEAN the script to run,
# both for tests/deps.)
lean_fio()
{
	lean=${SPLITKIT_FIO_LEAN:-$(dirname "$0")/fio-lean.sh}
	if sh "$lean" --check; then
		return 0
	fi
	if [ "$(id -u)" -ne 0 ]; then
		echo "deps: no lean fio for the harness; as root: sh $(dirname "$0")/fio-lean.sh" >&2
		return 0
	fi
	sh "$lean" ||
		echo "deps: warning: no lean fio; the harness uses /usr/bin/fio (slower guests)" >&2
}

missing=""
for p in $PKGS; do
	if ! dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null |
	     grep -q '^install ok installed$'; then
		missing="$missing $p"
	fi
done
missing="$missing$(images_missing | tr -d '\n')"

if [ -z "$missing" ]; then
	echo "deps: all $(echo $PKGS | wc -w) packages present"
	lean_fio
	exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
	echo "deps: missing packages:$missing" >&2
	echo "deps: run 'make deps' as root (or: sudo apt-get install$missing)" >&2
	exit 1
fi

echo "deps: installing:$missing"

# A policy-rc.d that answers 101 forbids invoke-rc.d from starting services
# while packages are configured.  A machine may already have one (most
# container images do): one that answers 101 is left alone; any other is
# set aside and put back afterwards, so ours is the one in force.  What we
# put there we remove again.  (SPLITKIT_POLICY_RC_D moves the file for
# tests/deps, which runs this script against a stub apt.)
policy=${SPLITKIT_POLICY_RC_D:-/usr/sbin/policy-rc.d}
saved=$policy.splitkit-saved
own_policy=0
restore_policy()
{
	if [ "$own_policy" -eq 1 ]; then
		rm -f "$policy"
		if [ -e "$saved" ]; then
			mv -f "$saved" "$policy"
		fi
	fi
}
# The EXIT trap keeps the script's exit status: without the explicit exit a
# trap ending on a false test would become the status of a successful run.
on_exit()
{
	status=$?
	restore_policy
	exit "$status"
}
trap on_exit EXIT
trap 'exit 130' INT TERM

forbids_start()
{
	[ -x "$policy" ] || return 1
	"$policy" splitkit-deps start >/dev/null 2>&1
	[ $? -eq 101 ]
}
if ! forbids_start; then
	own_policy=1
	if [ -e "$policy" ]; then
		mv -f "$policy" "$saved"
	fi
	printf '#!/bin/sh\nexit 101\n' >"$policy"
	chmod 755 "$policy"
fi

export DEBIAN_FRONTEND=noninteractive
apt-get update -q
# shellcheck disable=SC2086
apt-get install -y -q --no-install-recommends $missing
# the headers just installed may be of a newer ABI than an image the
# machine already had
extra=$(images_missing | tr -d '\n')
if [ -n "$extra" ]; then
	echo "deps: installing the kernels of the headers:$extra"
	# shellcheck disable=SC2086
	apt-get install -y -q --no-install-recommends $extra
fi
lean_fio
echo "deps: done"
