#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# 'make check-debug': the scenarios that exercise splitkit's kernel code
# hardest (the block pair with each stock peer, hostile peers in both
# directions, save/restore, detach under I/O, the ring), on a debug build of
# Debian's 6.1 kernel (scripts/debug-kernel.sh: KFENCE, SLUB debugging,
# lockdep, DEBUG_ATOMIC_SLEEP, kmemleak) booted as dom0 and as every guest.
# Each scenario ends with a check in dom0 and in each guest that the kernel
# reported nothing (tests/selftests/lib/kreport.sh); any report fails it.
# Too slow for 'make check': the first run builds the kernel (cached in
# /var/cache/splitkit), and every boot runs several times slower.
#
# Ends with "N passed, N failed" like make check; KTAP in
# $BUILD/check-debug/.  CHECK_DEBUG_SCENARIOS overrides the list.

set -u

TOP=${TOP:-$(cd "$(dirname "$0")/.." && pwd)}
BUILD=${BUILD:-$TOP/build}
export TOP BUILD
out=$BUILD/check-debug
mkdir -p "$out"
rm -f "$out"/*.ktap

SCENARIOS=${CHECK_DEBUG_SCENARIOS:-vbd-ours,vbd-stockfront,vbd-stockback,back-hostile,front-hostile,front-saverestore,back-detach,ring-ping}
started=$(date +%s)

if ! kver=$("$TOP/scripts/debug-kernel.sh" | tail -n 1) || [ -z "$kver" ]; then
	echo "not ok 1 check-debug: building the debug kernel" | tee "$out/kernel.ktap"
else
	echo "# debug kernel $kver"
	# SLUB debugging and lockdep slow every step several times under TCG
	SCENARIO_TIMEOUT=${SCENARIO_TIMEOUT:-2400} \
	DOM0_BOOT_TIMEOUT=${DOM0_BOOT_TIMEOUT:-1800} \
		"$TOP/tests/xen/run.sh" --kver "$kver" --scenarios "$SCENARIOS" 2>&1 |
		tee "$out/xen.log"
	grep -E '^(not )?ok ' "$out/xen.log" >"$out/xen.ktap"
	[ -s "$out/xen.ktap" ] ||
		echo "not ok 1 check-debug: the run produced no results" >"$out/xen.ktap"
	# the debug report checks must have run: a kernel without the bug
	# finders would pass them by not running them
	grep -q 'no kernel report' "$out/xen.ktap" ||
		echo "not ok 2 check-debug: no kernel-report check ran" >>"$out/xen.ktap"
fi

passed=$(cat "$out"/*.ktap | grep -c '^ok ')
failed=$(cat "$out"/*.ktap | grep -c '^not ok ')
echo
grep -h '^not ok ' "$out"/*.ktap | sed 's/^/FAILED: /'
echo "# check-debug took $(($(date +%s) - started)) s"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
