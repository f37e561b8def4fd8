#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# 'make check': every splitkit test, each phase a KTAP stream saved under
# $BUILD/check/.  A phase that could not even start counts as one failure.
# The last line is "N passed, N failed", counting every top-level KTAP
# result of every phase; the exit status is non-zero if anything failed.
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
# The phases run in two lanes side by side.  The Xen lane (the xen phase)
# uses about 1.4 to 1.6 of 2 cores for most of the run; the host lane
# (every other phase, in order, xen-newer last) runs beside it under
# SCHED_IDLE (chrt --idle), so it gets only the CPU time the Xen lane
# leaves.  xen-newer's second Xen machine so runs in the ten-odd minutes
# between the host lane's other phases and the xen phase's end instead
# of after it; at one priority two machines were three to five times
# slower (Documentation/testing.rst has both measurements).  nice 19
# was not enough: beside the unit phase at nice 19 the Xen lane's first
# scenarios took two to three times as long as on an idle host
# (back-harden 53 -> 120-169 s), under SCHED_IDLE 61 s.  The shunt
# phase boots a QEMU of its own; its hang guard counts that QEMU's CPU
# time, not the wall clock (tests/shunt/phase.sh), so it too waits its
# turn.  No phase of one lane needs a result of the other; both build
# modules through scripts/build-modules.sh, which takes a lock per kernel
# release.  The host lane's output is shown as it runs, then the Xen
# lane's from its start.  CHECK_LANES=1 runs everything in one lane, one
# phase after another (the order below).
#
# CHECK_PHASES="unit kbuild" limits the run to some phases.

set -u

TOP=${TOP:-$(cd "$(dirname "$0")/.." && pwd)}
BUILD=${BUILD:-$TOP/build}
export TOP BUILD
out=$BUILD/check
mkdir -p "$out"
rm -f "$out"/*.ktap "$out"/*.log

extra=$(for f in "$TOP"/tests/*/phase.sh; do
	[ -x "$f" ] && basename "$(dirname "$f")"
done)
# one line, words apart by single spaces (the lanes match " name ")
phases=$(echo ${CHECK_PHASES:-unit kbuild $extra xen xen-newer})
# what the kernels other than the stock 6.1 one boot (xen-newer phase)
XEN_NEWER_SCENARIOS=${XEN_NEWER_SCENARIOS:-vbd-ours}

# run_phase NAME CMD...: CMD's output to stdout and $out/NAME.log, its
# KTAP results to $out/NAME.ktap; a header and a footer with its time.
run_phase()
{
	local name=$1 t0=$SECONDS
	shift
	echo "=== $name: $*"
	"$@" 2>&1 | tee "$out/$name.log"
	grep -E '^(not )?ok ' "$out/$name.log" >"$out/$name.ktap"
	if ! [ -s "$out/$name.ktap" ]; then
		echo "not ok 1 $name: phase produced no results" |
			tee "$out/$name.ktap"
	fi
	echo "=== $name: took $((SECONDS - t0)) s"
}

# phase NAME: run one phase by name.
phase()
{
	local k
	case "$1" in
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
		if [ -x "$TOP/tests/$1/phase.sh" ]; then
			run_phase "$1" "$TOP/tests/$1/phase.sh"
		else
			echo "check: unknown phase '$1'" >&2
			echo "not ok 1 $1: no such phase" >"$out/$1.ktap"
		fi ;;
	esac
}

# the Xen phases (the Xen lane), in order
EMU_PHASES="xen"
xen_lane=""
host_lane=""
for p in $phases; do
	case " $EMU_PHASES " in
	*" $p "*) ;;
	*) host_lane="$host_lane $p" ;;
	esac
done
# the Xen lane in EMU_PHASES's order
for p in $EMU_PHASES; do
	case " $phases " in
	*" $p "*) xen_lane="$xen_lane $p" ;;
	esac
done
# every phase in exactly one lane
if [ "$(echo $host_lane $xen_lane | wc -w)" -ne "$(echo $phases | wc -w)" ]; then
	echo "check: phases '$phases' do not split into lanes '$host_lane' | '$xen_lane'" >&2
	exit 2
fi

t0=$SECONDS
if [ "${CHECK_LANES:-2}" = 1 ] || [ -z "$xen_lane" ] || [ -z "$host_lane" ]; then
	for p in $host_lane $xen_lane; do
		phase "$p"
	done
else
	# The Xen lane in the background, its output in a file.
	(
		for p in $xen_lane; do
			phase "$p"
		done
	) >"$out/xen-lane.out" 2>&1 &
	xpid=$!
	# The host lane in the foreground, under SCHED_IDLE (inherited by
	# every process it starts).
	(
		chrt --idle -p 0 "$BASHPID" >/dev/null ||
			echo "# check: no SCHED_IDLE; the host lane competes with the Xen lane"
		for p in $host_lane; do
			phase "$p"
		done
	)
	echo "=== host lane done after $((SECONDS - t0)) s; the Xen lane so far and until it ends:"
	tail -n +1 --pid="$xpid" -f "$out/xen-lane.out"
	wait "$xpid"
fi
echo "=== all phases took $((SECONDS - t0)) s"

passed=$(cat "$out"/*.ktap | grep -c '^ok ')
failed=$(cat "$out"/*.ktap | grep -c '^not ok ')
echo
for f in "$out"/*.ktap; do
	grep '^not ok ' "$f" | sed "s|^|FAILED $(basename "$f" .ktap): |"
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
