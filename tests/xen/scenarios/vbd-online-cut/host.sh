#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# vbd-online-cut (host half; tests/xen/lib/onlinecut.sh): run by
# tests/xen/run.sh on the host after it cut the
# power in the middle of dom0's online operations, with the two host files
# behind dom0's power-cut disks.  On a copy of each: e2fsck replays the
# journal, debugfs takes dom0's expect file and the images it names out.
# Then each parent named is checked with qemu-img, and each image chain
# the guest had (a compacted or a defragmented image alone, a commit's
# child over its parent, a stream's child over its parent): qemu-img
# check finds no corruption (leaks allowed: an operation cut between a
# cluster's copy and the old one's release leaks it), and the chain's
# content: md5 outside the loop region as the guest sent it, and in the
# loop region every 32-byte line the guest's (onlinecut.sh, oc_pass): its
# block, its disk, and a pass no older than the last one the guest had
# flushed before dom0 asked for the cut.  Prints KTAP-shaped "ok - ..." /
# "not ok - ..." / "# ..." lines.
#
# Usage: host.sh POWERCUT_IMG POWERCUT_4K_IMG

set -u

HERE=${HERE:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$HERE/lib/common.sh"
. "$HERE/lib/powercut.sh"

# as in tests/xen/lib/online.sh: the loop region [24M, 24M + OL_MB) of
# 32 MiB disks (OL_MB from dom0's expect file)
OL_OFF=24
OL_SIZE=32

# on the host, results go to stdout without a prefix
sk_say()
{
	echo "$*"
}

work=$(mktemp -d) || exit 1
trap 'rm -rf "$work"' EXIT

# fs_take LABEL IMG FILE...: copy IMG, replay its journal, take FILEs
# (paths in the filesystem, relative to its root) out into $work, each
# to the same path below it.
fs_take()
{
	local label=$1 copy=$work/$1.fs f
	shift

	sk_check "$label: host file copied" \
		cp --sparse=always "$1" "$copy" || return
	sk_check "$label: journal replayed, filesystem clean (e2fsck -fy)" \
		sk_pc_e2fsck_clean "$copy" "$work/fsck.log"
	shift
	for f in "$@"; do
		mkdir -p "$work/$(dirname "$f")"
		sk_check "$label: $f taken out (debugfs dump)" \
			debugfs -R "dump /$f $work/$f" "$copy" || return
	done
}

# expect KEY...: the value of every "KEY..." line in dom0's expect file,
# one a line.
expect()
{
	awk -v k="$*" 'index($0, k " ") == 1 { print substr($0, length(k) + 2) }' \
		"$work/expect"
}

# img_consistent IMAGE: qemu-img check finds no corruption (0, or 3 for
# leaked clusters only).
img_consistent()
{
	local rc

	qemu-img check "$1" >"$work/check.log" 2>&1
	rc=$?
	cat "$work/check.log"
	[ "$rc" = 0 ] || [ "$rc" = 3 ]
}

# outside_md5 RAW: md5 of RAW but its loop region.
outside_md5()
{
	{ dd if="$1" bs=1M count=$OL_OFF 2>/dev/null &&
	  dd if="$1" bs=1M skip=$((OL_OFF + OL_MB)) \
	     count=$((OL_SIZE - OL_OFF - OL_MB)) 2>/dev/null; } |
		md5sum | cut -d' ' -f1
}

# loop_lines RAW DISK MIN: every 32-byte line of RAW's loop region is
# domU.sh's for its own 16 KiB block and DISK, of a pass >= MIN.  Prints
# the passes found (lowest, highest) or the first bad line.
loop_lines()
{
	dd if="$1" bs=1M skip=$OL_OFF count=$OL_MB 2>/dev/null |
		awk -v disk="$2" -v min="$3" -v lines=$((OL_MB << 15)) '
		{
			blk = int((NR - 1) / 512)
			if (length($0) != 31 || $0 !~ /^g[0-9]+j[0-9]+k[0-9]+$/ ||
			    substr($0, 11, 1) != "j" || substr($0, 21, 1) != "k" ||
			    substr($0, 12, 9) + 0 != blk ||
			    substr($0, 22, 10) + 0 != disk ||
			    substr($0, 2, 9) + 0 < min) {
				l = substr($0, 1, 40)
				gsub(/[^ -~]/, "?", l)
				printf "line %d (block %d): \"%s\"\n", NR, blk, l
				bad = 1
				exit 1
			}
			p = substr($0, 2, 9) + 0
			if (lo == "" || p < lo) lo = p
			if (p > hi) hi = p
		}
		END {
			if (bad) exit 1
			if (NR != lines) {
				printf "%d lines, not %d\n", NR, lines
				exit 1
			}
			printf "passes %d to %d (flushed: %d)\n", lo, hi, min
		}'
}

# check_chain LABEL IMAGE DISK DISKNO: the chain that begins at IMAGE.
check_chain()
{
	local label=$1 img=$work/$2 raw=$work/$2.raw md5 want

	sk_check "$label: qemu-img check $2: no corruption (leaks allowed)" \
		img_consistent "$img"
	sk_check "$label: the chain reads (qemu-img convert)" \
		qemu-img convert -O raw "$img" "$raw" || return
	md5=$(outside_md5 "$raw")
	want=$(expect md5 "$3")
	sk_check "$label: outside the loop region as the guest had it (md5 $md5, guest's ${want:-none})" \
		test -n "$want" -a "$md5" = "$want"
	sk_check "$label: loop region: every line the guest's, none older than its last flushed pass" \
		loop_lines "$raw" "$4" "$flushed"
	rm -f "$raw"
}

[ $# -eq 2 ] || { echo "usage: host.sh POWERCUT_IMG POWERCUT_4K_IMG" >&2; exit 2; }
fs_take expect "$2" expect || exit 0
sed 's/^/# expect: /' "$work/expect"
flushed=$(expect flushed)
OL_MB=$(expect loop_mib)
sk_check "dom0 recorded the loop region's size (${OL_MB:-none} MiB)" \
	test -n "$OL_MB" || exit 0
sk_check "dom0 recorded the guest's last flushed pass (${flushed:-none})" \
	test -n "$flushed" || exit 0
images=$(expect image | sed 's#^#online/#')
sk_check "dom0 named the images and the chains to check" \
	test -n "$images" -a -n "$(expect chain)" || exit 0
fs_take images "$1" $images || exit 0
for f in $images; do
	qemu-img info -U "$work/$f" 2>/dev/null |
		grep -E '^(backing file|disk size):' | sed "s|^|# $f: |"
done
for f in $(expect parent); do
	sk_check "qemu-img check $f (a merge's parent): no corruption" \
		img_consistent "$work/online/$f"
done
while read -r label img disk n <&3; do
	check_chain "$label" "online/$img" "$disk" "$n"
done 3< <(expect chain)
exit 0
