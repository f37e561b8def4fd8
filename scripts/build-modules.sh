#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Build every splitkit module against each kernel release given on the
# command line, with W=1 (extra compiler warnings, kernel-doc) and C=1
# (sparse).  Each release builds in its own copy of the tree under
# $BUILD/kmod/<release>/ so object files of different kernels never mix.
# A build that prints any warning counts as failed: splitkit builds clean.
#
# Output is KTAP, one result per kernel release.

set -u

TOP=${TOP:-$(cd "$(dirname "$0")/.." && pwd)}
BUILD=${BUILD:-$TOP/build}
JOBS=${JOBS:-$(nproc)}

[ $# -gt 0 ] || set -- $("$TOP/scripts/kver.sh" --all)

echo "KTAP version 1"
echo "1..$#"
n=0
failed=0
for kver in "$@"; do
	n=$((n + 1))
	kdir=/usr/src/linux-headers-$kver
	out=$BUILD/kmod/$kver
	log=$BUILD/kmod/$kver.log
	mkdir -p "$out"
	# One build per release at a time (make check's two lanes both
	# build; the second finds nothing left to do).
	exec 8>"$out.lock"
	flock 8
	# tar keeps modification times, so an unchanged file is not rebuilt.
	tar -C "$TOP" --exclude=./build --exclude=./.git --exclude='*.o' \
	    --exclude='*.ko' --exclude='*.mod*' --exclude='.*.cmd' \
	    -cf - . | tar -C "$out" -xf -
	if make -C "$kdir" M="$out" W=1 C=1 -j"$JOBS" modules >"$log" 2>&1 &&
	   ! grep -qiE 'warning|error:' "$log"; then
		nko=$(find "$out" -name '*.ko' | wc -l)
		echo "ok $n kbuild $kver W=1 C=1 ($nko modules)"
	else
		failed=$((failed + 1))
		echo "# build log: $log"
		grep -iE 'warning|error' "$log" | head -n 40 | sed 's/^/# /'
		tail -n 5 "$log" | sed 's/^/# /'
		echo "not ok $n kbuild $kver W=1 C=1"
	fi
	exec 8>&-
done
[ "$failed" -eq 0 ]
