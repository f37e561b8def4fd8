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
#            Debian 12's stock kernel (6.1), in one boot but for xen-apart's
#   xen-apart the power-cut scenarios that boot alone anyway (every one
#            but the first, which ends xen's boot), in a second Xen machine
#            with its own output directory (build/xen/<kver>-apart)
#   xen-newer the same with every other installed Debian kernel (the 6.12
#            backport), core scenarios only (XEN_NEWER_SCENARIOS,
#            default vbd-ours); one phase xen-<release> each
#
# The phases run in three lanes.  The Xen lane (xen) uses about 1.6 of 2
# cores for most of the run; the host lane (every other phase but the late
# ones, in order) runs beside it under SCHED_IDLE (chrt --idle), so it gets
# only the CPU time the Xen lane leaves.  nice 19 was not enough: beside
# the unit phase at nice 19 the Xen lane's first scenarios took two to
# three times as long as on an idle host (back-harden 53 -> 120-169 s),
# under SCHED_IDLE 61 s.  The shunt phase boots a QEMU of its own; its
# hang guard counts that QEMU's CPU time, not the wall clock
# (tests/shunt/phase.sh), so it too waits its turn.  When the host lane
# ends (about 1450 s into a run on the 2-core build host, with some
# 700 s of the Xen lane's boot left), the late lane (xen-apart, then
# xen-newer: one more Xen machine, at normal priority) starts beside the
# Xen lane, so the two Xen machines share the 2 cores rather than queue
# (before, they ran after the Xen lane: 2612 s in all, 355 s of it after
# xen's boot).  No phase of one lane needs a result of another; all build
# modules through scripts/build-modules.sh, which takes a lock per kernel
# release, and the splitkit tool under build/tools.lock.  The host lane's
# output is shown as it runs, then the Xen lane's from its start, then the
# late lane's.  CHECK_LANES=1 runs everything in one lane, one phase after
# another (the order below).
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
phases=$(echo ${CHECK_PHASES:-unit kbuild $extra xen xen-apart xen-newer})
# what the kernels other than the stock 6.1 one boot (xen-newer phase)
XEN_NEWER_SCENARIOS=${XEN_NEWER_SCENARIOS:-vbd-ours}

# the power-cut scenarios but the first: each boots alone (plan_boots in
# tests/xen/run.sh), so they lose nothing by booting apart from xen's run
# (in build/xen/<kver>-apart: an empty <kver> makes run.sh bail, as xen)
kimage=$("$TOP/scripts/kver.sh" --image 2>/dev/null)
apart=$(n=0
	for s in $("$TOP/tests/xen/run.sh" --list); do
		grep -qw powercut "$TOP/tests/xen/scenarios/$s/needs" 2>/dev/null ||
			continue
		n=$((n + 1))
		[ "$n" -gt 1 ] && echo "$s"
	done | xargs)

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
	local k s
	case "$1" in
	unit)
		run_phase unit make -s -C "$TOP/tests/unit" run ;;
	kbuild)
		run_phase kbuild "$TOP/scripts/build-modules.sh" ;;
	xen)
		# all scenarios but xen-apart's when that phase runs too
		k=$("$TOP/tests/xen/run.sh" --list)
		case " $phases " in
		*" xen-apart "*)
			for s in $apart; do
				k=$(echo " $k " | sed "s/ $s / /")
			done ;;
		esac
		# (an empty --scenarios would mean every scenario, apart's too)
		if [ -z "$(echo $k)" ]; then
			echo "not ok 1 xen: no scenario to run (run.sh --list)" |
				tee "$out/xen.ktap"
			return
		fi
		run_phase xen "$TOP/tests/xen/run.sh" --scenarios "$(echo $k | tr ' ' ,)" ;;
	xen-apart)
		if [ -z "$apart" ]; then
			echo "=== xen-apart: no power-cut scenario boots alone"
			return
		fi
		run_phase xen-apart "$TOP/tests/xen/run.sh" \
			--out "$BUILD/xen/${kimage:-none}-apart" \
			--scenarios "$(echo $apart | tr ' ' ,)" ;;
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

# the Xen lane's phases and the late lane's, each lane in this order
XEN_LANE="xen"
LATE_LANE="xen-apart xen-newer"
xen_lane=""
late_lane=""
host_lane=""
for p in $phases; do
	case " $XEN_LANE $LATE_LANE " in
	*" $p "*) ;;
	*) host_lane="$host_lane $p" ;;
	esac
done
for p in $XEN_LANE; do
	case " $phases " in
	*" $p "*) xen_lane="$xen_lane $p" ;;
	esac
done
for p in $LATE_LANE; do
	case " $phases " in
	*" $p "*) late_lane="$late_lane $p" ;;
	esac
done
# every phase in exactly one lane
if [ "$(echo $host_lane $xen_lane $late_lane | wc -w)" -ne "$(echo $phases | wc -w)" ]; then
	echo "check: phases '$phases' do not split into lanes '$host_lane' | '$xen_lane' | '$late_lane'" >&2
	exit 2
fi

t0=$SECONDS
if [ "${CHECK_LANES:-3}" = 1 ] || [ -z "$xen_lane$late_lane" ] ||
   [ -z "$host_lane" ]; then
	for p in $host_lane $xen_lane $late_lane; do
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
	echo "=== host lane done after $((SECONDS - t0)) s${late_lane:+; the late lane starts}"
	# The late lane in the background beside the Xen lane, at normal
	# priority: the host lane's CPU time is now theirs.
	(
		for p in $late_lane; do
			phase "$p"
		done
	) >"$out/late-lane.out" 2>&1 &
	lpid=$!
	echo "=== the Xen lane so far and until it ends:"
	tail -n +1 --pid="$xpid" -f "$out/xen-lane.out"
	wait "$xpid"
	if [ -n "$late_lane" ]; then
		echo "=== Xen lane done after $((SECONDS - t0)) s; the late lane so far and until it ends:"
		tail -n +1 --pid="$lpid" -f "$out/late-lane.out"
	fi
	wait "$lpid"
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
