#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Compile image/core with the kernel platform layer against a kernel's
# headers (W=1), outside the source tree: proves the core builds unchanged
# in the kernel.  Usage: build-check.sh <kernel headers dir> <work dir>.

set -e
KDIR=$1
WORK=$2
TOP=$(cd "$(dirname "$0")/../.." && pwd)

rm -rf "$WORK"
mkdir -p "$WORK/core" "$WORK/kernel"
cp "$TOP"/image/core/*.[ch] "$WORK/core/"
cp "$TOP"/image/kernel/platform_kernel.c "$WORK/kernel/"
cp "$TOP"/image/kernel/Kbuild "$WORK/Kbuild"
make -s -C "$KDIR" M="$WORK" W=1 modules 2>&1 |
	grep -v "Skipping BTF generation" >"$WORK/build.log" || true
cat "$WORK/build.log"
[ -f "$WORK/splitkit_img_check.ko" ] &&
	! grep -qiE "warning|error" "$WORK/build.log"
