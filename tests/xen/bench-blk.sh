#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make bench-blk: boot Xen + dom0 once (tests/xen/run.sh, scenario
# bench-blk) and measure, on one backing device in one run, the stock
# block pair (xen-blkfront + xen-blkback), our pair (splitkit_front +
# splitkit_back), optionally the mixed pairs, and fio in dom0 on the device
# itself (the upper bound); then print a table of throughput and a per-I/O
# cost account, also saved to $BUILD/bench/blk.txt (the harness's KTAP
# output goes to $BUILD/bench/blk.ktap).
#
# The scenario prints one "BENCH pair=P round=R job=J ..." comment per
# job, pair and round; see tests/xen/scenarios/bench-blk/dom0.sh.  The
# pairs run alternately, round after round (A B A B ...); every figure of
# a pair is the median over the rounds, and every ratio to the stock pair
# is taken round by round (the pairs of one round ran minutes apart) and
# shown as its median and its spread (lowest and highest), so that a
# noisy host shows as spread instead of a false result.  An fio job that
# fails fails the bench; speed never does.
#
# Settings (environment; the defaults are the scenario's, bench.sh):
#   BENCH_ROUNDS=3                    rounds of the pairs
#   BENCH_PAIRS="stock ours stockfront stockback"
#                                     pairs, in order: stockfront is
#                                     xen-blkfront + splitkit_back,
#                                     stockback splitkit_front +
#                                     xen-blkback; the first is the one
#                                     every ratio is to.  Or the image
#                                     pairs (make bench-qcow2), not mixed
#                                     with those: "qdisk qcow2 raw", QEMU
#                                     qdisk and splitkit_back on one
#                                     qcow2 image, splitkit_back on the
#                                     raw file it was converted from,
#                                     splitkit_front in every guest;
#                                     also qcow2wb: qcow2 with
#                                     splitkit_back's qcow2_writeback=y
#   BENCH_IMAGE_MIB=2048              the image pairs' image size (more
#                                     than dom0's 1536 MiB of memory)
#   BENCH_NAME=blk                    the output files' name
#   BENCH_JOBS="rr4k1 rr4k32 rw4k1 rw4k32 sr1m sw1m"
#   BENCH_RAMP=2 BENCH_RUNTIME=8      seconds per job
#   BENCH_WINDOW=6                    seconds counted in each job
#   BENCH_ZERO_COPY=1                 splitkit_back's zero_copy (0 or 1)
#   BENCH_TIMEOUT=S                   the hang guard (default: an estimate)
# A short run: BENCH_ROUNDS=1 BENCH_JOBS="rr4k32 sr1m" BENCH_RUNTIME=6.

set -u
set -o pipefail

TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
BUILD=${BUILD:-$TOP/build}
export TOP BUILD

mkdir -p "$BUILD/bench"
name=${BENCH_NAME:-blk}
case "$name" in ""|*[!a-z0-9-]*) echo "bench-blk: BENCH_NAME is letters, digits and -" >&2; exit 2 ;; esac
ktap=$BUILD/bench/$name.ktap
export KTAP=$ktap
txt=$BUILD/bench/$name.txt
env=$BUILD/bench/$name.env

# The settings given, checked here (they go into dom0's shell) and
# handed to the scenario in its dom0 image (run.sh, SK_BENCH_ENV).
die() { echo "bench-blk: $*" >&2; exit 2; }
rounds=${BENCH_ROUNDS:-3}
pairs=${BENCH_PAIRS:-stock ours stockfront stockback}
jobs=${BENCH_JOBS:-rr4k1 rr4k32 rw4k1 rw4k32 sr1m sw1m}
ramp=${BENCH_RAMP:-2}
runtime=${BENCH_RUNTIME:-8}
window=${BENCH_WINDOW:-6}
zc=${BENCH_ZERO_COPY:-1}
case "$zc" in 0|1) ;; *) die "BENCH_ZERO_COPY is 0 or 1" ;; esac
case "${BENCH_TIMEOUT:-1}" in *[!0-9]*) die "BENCH_TIMEOUT is a whole number of seconds" ;; esac
for n in "$rounds" "$ramp" "$runtime" "$window"; do
	case "$n" in ""|*[!0-9]*) die "BENCH_ROUNDS, _RAMP, _RUNTIME and _WINDOW are whole numbers" ;; esac
done
[ "$rounds" -ge 1 ] && [ "$runtime" -ge 2 ] && [ "$window" -ge 1 ] ||
	die "BENCH_ROUNDS >= 1, BENCH_RUNTIME >= 2, BENCH_WINDOW >= 1"
image_mib=${BENCH_IMAGE_MIB:-2048}
case "$image_mib" in ""|*[!0-9]*) die "BENCH_IMAGE_MIB is a whole number" ;; esac
ndev=0
nimg=0
for p in $pairs; do
	case "$p" in
	stock|ours|stockfront|stockback) ndev=$((ndev + 1)) ;;
	qdisk|qcow2|qcow2wb|raw) nimg=$((nimg + 1)) ;;
	*) die "BENCH_PAIRS: '$p' is not one of stock ours stockfront stockback qdisk qcow2 qcow2wb raw" ;;
	esac
done
[ "$ndev" -eq 0 ] || [ "$nimg" -eq 0 ] ||
	die "BENCH_PAIRS: the device pairs (stock ours stockfront stockback) and the image pairs (qdisk qcow2 qcow2wb raw) run apart"
if [ "$nimg" -gt 0 ]; then
	[ "$image_mib" -ge 64 ] || die "BENCH_IMAGE_MIB >= 64"
	# the raw file, its qcow2 copy and the filesystem's own room
	export XEN_SCRATCH_SIZE=${XEN_SCRATCH_SIZE:-$((image_mib * 2 + 512))M}
fi
for j in $jobs; do
	case "$j" in rr4k1|rr4k32|rw4k1|rw4k32|sr1m|sw1m) ;;
	*) die "BENCH_JOBS: '$j' is not one of rr4k1 rr4k32 rw4k1 rw4k32 sr1m sw1m" ;; esac
done
cat >"$env" <<EOF
BENCH_ROUNDS=$rounds
BENCH_PAIRS="$pairs"
BENCH_JOBS="$jobs"
BENCH_RAMP=$ramp
BENCH_RUNTIME=$runtime
BENCH_WINDOW=$window
BENCH_ZERO_COPY=$zc
BENCH_IMAGE_MIB=$image_mib
EOF
export SK_BENCH_ENV=$env
# The hang guard: per guest, dom0.sh's own bound on following it (480 s
# for its boot and fio's start on a loaded host, three times each job's
# length and the idle window) and its boot and module load; native runs
# once.  BENCH_TIMEOUT overrides it (run.sh's SCENARIO_TIMEOUT, which a
# test run may have exported, does not).
njobs=$(echo $jobs | wc -w)
npairs=$(echo $pairs | wc -w)
per=$((600 + window + njobs * (ramp + runtime + 8) * 3))
# the image pairs' set-up: a second a MiB for the prefill and the copy
setup=$((nimg > 0 ? image_mib : 0))
export SCENARIO_TIMEOUT=${BENCH_TIMEOUT:-$((600 + setup + (1 + rounds * npairs) * per))}

start=$(date +%s)
load0=$(cut -d' ' -f1-3 /proc/loadavg)
"$TOP/tests/xen/run.sh" --scenarios bench-blk | tee "$ktap"
rc=$?
elapsed=$(($(date +%s) - start))

{
awk -v rc="$rc" -v elapsed="$elapsed" -v cores="$(nproc)" \
	-v load0="$load0" -v load1="$(cut -d' ' -f1-3 /proc/loadavg)" \
	-v jobs="$jobs" -v pairs="$pairs" -v rounds="$rounds" \
	-v date="$(date -u +%Y-%m-%d)" -f "$TOP/tests/xen/bench-blk.awk" "$ktap"
} | tee "$txt"
