#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# back-flush (host half): run by tests/xen/run.sh on the host after it cut
# the power (killed QEMU) on dom0's "SK: POWERCUT back-flush", with the
# two host files that backed dom0's power-cut disks.  On a copy of each:
# e2fsck replays the journal (what dom0's last flush committed), debugfs
# takes the backing file out, and the same fio job the guest ran verifies
# every byte of it; the control file dom0 wrote without a flush must be
# gone, or the cut did not lose what was never flushed and the test could
# not fail.  Prints KTAP-shaped "ok - ..." / "not ok - ..." / "# ..." lines.
#
# Usage: host.sh POWERCUT_IMG POWERCUT_4K_IMG

set -u

HERE=${HERE:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$HERE/lib/common.sh"
. "$HERE/lib/blk.sh"
. "$HERE/lib/powercut.sh"

# on the host, results go to stdout without a prefix
sk_say()
{
	echo "$*"
}

work=$(mktemp -d) || exit 1
trap 'rm -rf "$work"' EXIT

# size_is FILE BYTES
size_is()
{
	test "$(stat -c %s "$1")" = "$2"
}

# only_disk IMG: the root directory of the filesystem on IMG lists the
# backing file disk.img but no file "unflushed".
only_disk()
{
	debugfs -R "ls -p /" "$1" >"$work/ls.log" 2>&1
	cat "$work/ls.log"
	grep -q '^/[0-9]*/[0-7]*/[0-9]*/[0-9]*/disk.img/' "$work/ls.log" &&
		! grep -q '/unflushed/' "$work/ls.log"
}

# check_disk LABEL IMG SEED
check_disk()
{
	local label=$1 img=$2 seed=$3 copy=$work/$1.img out=$work/$1.disk

	sk_check "$label: host file ${img##*/} copied" \
		cp --sparse=always "$img" "$copy" || return
	sk_check "$label: journal replayed, filesystem clean (e2fsck -fy)" \
		sk_pc_e2fsck_clean "$copy" "$work/fsck.log"
	sk_check "$label: backing file taken out (debugfs dump)" \
		debugfs -R "dump /disk.img $out" "$copy" || return
	sk_check "$label: backing file is 32 MiB" size_is "$out" 33554432
	sk_check "$label: every flushed byte is there (fio verify, seed $seed)" \
		sk_blk_fio "$out" "$seed" verify
	sk_check "$label: the control file dom0 never flushed is gone" \
		only_disk "$copy"
}

[ $# -eq 2 ] || { echo "usage: host.sh POWERCUT_IMG POWERCUT_4K_IMG" >&2; exit 2; }
check_disk "direct" "$1" 5
check_disk "buffered" "$2" 6
exit 0
