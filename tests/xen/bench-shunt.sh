#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make bench-shunt: boot Xen + dom0 once (tests/xen/run.sh, scenario
# bench-shunt) and measure, in one HVM guest on one file of its
# filesystem, the same fio jobs through the emulated IDE disk (QEMU's
# device model), through splitkit_shunt (the emulated disk's bios carried
# by the PV disk) and on the PV disk mounted directly (splitkit_front +
# splitkit_back), round after round; then print throughput, the per-I/O
# cost account of each path, the ratios shunt/pv (issue 13's goal: >=
# 0.95) and shunt/emul, and each switch's held time; also saved to
# $BUILD/bench/shunt.txt (the harness's KTAP output:
# $BUILD/bench/shunt.ktap).  Every ratio is taken round by round and shown
# as its median and spread (lowest and highest).  An fio job that fails,
# a switch that does not happen or a path that does not carry its jobs
# fails the bench; speed never does.
#
# Settings (environment):
#   BENCH_ROUNDS=3                    rounds of the three paths
#   BENCH_JOBS="rr4k32 rw4k32 sr1m sw1m"
#                                     of rr4k1 rr4k32 rw4k1 rw4k32 sr1m sw1m
#   BENCH_RAMP=2 BENCH_RUNTIME=8      seconds per job
#   BENCH_WINDOW=6                    seconds counted in each job
#   BENCH_TIMEOUT=S                   the hang guard (default: an estimate)
# A short run: BENCH_ROUNDS=1 BENCH_JOBS="rr4k32 sr1m" BENCH_RUNTIME=6.

set -u
set -o pipefail

TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
BUILD=${BUILD:-$TOP/build}
export TOP BUILD

die() { echo "bench-shunt: $*" >&2; exit 2; }
rounds=${BENCH_ROUNDS:-3}
jobs=${BENCH_JOBS:-rr4k32 rw4k32 sr1m sw1m}
ramp=${BENCH_RAMP:-2}
runtime=${BENCH_RUNTIME:-8}
window=${BENCH_WINDOW:-6}
for n in "$rounds" "$ramp" "$runtime" "$window" "${BENCH_TIMEOUT:-1}"; do
	case "$n" in ""|*[!0-9]*) die "BENCH_ROUNDS, _RAMP, _RUNTIME, _WINDOW and _TIMEOUT are whole numbers" ;; esac
done
[ "$rounds" -ge 1 ] && [ "$runtime" -ge 2 ] && [ "$window" -ge 1 ] ||
	die "BENCH_ROUNDS >= 1, BENCH_RUNTIME >= 2, BENCH_WINDOW >= 1"
[ -n "$jobs" ] || die "BENCH_JOBS names at least one job"
for j in $jobs; do
	case "$j" in rr4k1|rr4k32|rw4k1|rw4k32|sr1m|sw1m) ;;
	*) die "BENCH_JOBS: '$j' is not one of rr4k1 rr4k32 rw4k1 rw4k32 sr1m sw1m" ;; esac
done

mkdir -p "$BUILD/bench"
ktap=$BUILD/bench/shunt.ktap
txt=$BUILD/bench/shunt.txt
env=$BUILD/bench/shunt.env
export KTAP=$ktap
cat >"$env" <<EOF
BENCH_ROUNDS=$rounds
BENCH_JOBS="$jobs"
BENCH_RAMP=$ramp
BENCH_RUNTIME=$runtime
BENCH_WINDOW=$window
EOF
export SK_BENCH_ENV=$env
# the hang guard: dom0's own bound on following the guest (dom0.sh) and
# the set-up around it
njobs=$(echo $jobs | wc -w)
export SCENARIO_TIMEOUT=${BENCH_TIMEOUT:-$((1500 + rounds * 3 * (njobs * (ramp + runtime + 8) * 3 + 300)))}

start=$(date +%s)
load0=$(cut -d' ' -f1-3 /proc/loadavg)
"$TOP/tests/xen/run.sh" --scenarios bench-shunt | tee "$ktap"
rc=$?
elapsed=$(($(date +%s) - start))

awk -v rc="$rc" -v elapsed="$elapsed" -v cores="$(nproc)" \
	-v load0="$load0" -v load1="$(cut -d' ' -f1-3 /proc/loadavg)" \
	-v jobs="$jobs" -v pairs="emul shunt pv" -v rounds="$rounds" \
	-v scen=bench-shunt -v date="$(date -u +%Y-%m-%d)" \
	-f "$TOP/tests/xen/bench-blk.awk" "$ktap" | tee "$txt"
