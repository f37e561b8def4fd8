#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# 'make check': every splitkit test, one phase after another, each phase a
# KTAP stream saved under $BUILD/check/.  A phase that could not even start
# counts as one failure.  The last line is "N passed, N failed", counting
# every top-level KTAP result of every phase; the exit status is non-zero
# if anything failed.
#
#   unit     userspace unit tests and fuzzers (ASan + UBSan)
#   kbuild   all modules for every installed Debian kernel, W=1 and sparse
#   <name>   every tests/<name>/phase.sh, an executable printing KTAP
#            (components add phases this way, e.g. image interop tests)
#   xen      Xen 4.17 + dom0 + domUs under QEMU, every scenario, on
#            Debian 12's stock kernel (6.1)
#   xen-newer the same with every other installed Debian kernel (the 6.12
#            backport), core scenarios only (XEN_NEWER_SCENARIOS,
#            default vbd-ours); one phase xen-<release> each
#
# CHECK_PHASES="unit kbuild" limits the run to some phases.

set -u

TOP=${TOP:-$(cd "$(dirname "$0")/.." && pwd)}
BUILD=${BUILD:-$TOP/build}
export TOP BUILD
out=$BUILD/check
mkdir -p "$out"
rm -f "$out"/*.ktap

extra=$(for f in "$TOP"/tests/*/phase.sh; do
	[ -x "$f" ] && basename "$(dirname "$f")"
done)
phases=${CHECK_PHASES:-unit kbuild $extra xen xen-newer}
# what the kernels other than the stock 6.1 one boot (xen-newer phase)
XEN_NEWER_SCENARIOS=${XEN_NEWER_SCENARIOS:-vbd-ours}

run_phase()
{
	name=$1
	shift
	echo "=== $name: $*"
	"$@" 2>&1 | tee "$out/$name.log"
	grep -E '^(not )?ok ' "$out/$name.log" >"$out/$name.ktap"
	if ! [ -s "$out/$name.ktap" ]; then
		echo "not ok 1 $name: phase produced no results" |
			tee "$out/$name.ktap"
	fi
}

for phase in $phases; do
	case "$phase" in
	unit)
		run_phase unit make -s -C "$TOP/tests/unit" run ;;
	kbuild)
		run_phase kbuild "$TOP/scripts/build-modules.sh" ;;
	xen)
		run_phase xen "$TOP/tests/xen/run.sh" ;;
	xen-newer)
		# every other installed Debian kernel boots the core scenarios
		for k in $("$TOP/scripts/kver.sh" --images); do
			[ "$k" = "$("$TOP/scripts/kver.sh" --image)" ] && continue
			run_phase "xen-$k" "$TOP/tests/xen/run.sh" --kver "$k" \
				--scenarios "$XEN_NEWER_SCENARIOS"
		done ;;
	*)
		if [ -x "$TOP/tests/$phase/phase.sh" ]; then
			run_phase "$phase" "$TOP/tests/$phase/phase.sh"
		else
			echo "check: unknown phase '$phase'" >&2
			exit 2
		fi ;;
	esac
done

passed=$(cat "$out"/*.ktap | grep -c '^ok ')
failed=$(cat "$out"/*.ktap | grep -c '^not ok ')
echo
for f in "$out"/*.ktap; do
	grep '^not ok ' "$f" | sed "s|^|FAILED $(basename "$f" .ktap): |"
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
