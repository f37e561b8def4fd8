#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Build splitkit_image.ko (image/Kbuild: the core listed in image/core.mk
# plus the kernel platform layer) against one kernel's headers with W=1,
# outside the source tree: proves the core builds unchanged in the kernel.
# The work directory gets the top-level Kbuild's flags and only the image/
# subdirectory, so this is quicker than scripts/build-modules.sh, which
# builds the same module with every other.
# Usage: build-check.sh <kernel headers dir> <work dir>.

set -e
KDIR=$1
WORK=$2
TOP=$(cd "$(dirname "$0")/../.." && pwd)

rm -rf "$WORK"
mkdir -p "$WORK/image"
cp -r "$TOP/include" "$WORK/"
cp -r "$TOP/image/core" "$TOP/image/kernel" "$TOP/image/Kbuild" \
	"$TOP/image/core.mk" "$WORK/image/"
# The top-level Kbuild's flags, with image/ as its only subdirectory.
sed -e '/^obj-m/d' -e '/^ifneq (\$(SPLITKIT_TEST_MODULES)/,/^endif/d' \
	"$TOP/Kbuild" >"$WORK/Kbuild"
echo 'obj-m += image/' >>"$WORK/Kbuild"
make -s -C "$KDIR" M="$WORK" W=1 modules 2>&1 |
	grep -v "Skipping BTF generation" >"$WORK/build.log" || true
cat "$WORK/build.log"
[ -f "$WORK/image/splitkit_image.ko" ] &&
	! grep -qiE "warning|error" "$WORK/build.log"
