#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make bench-online: boot Xen + dom0 once (tests/xen/run.sh, scenario
# bench-online) and measure splitkit_back's online compaction, commit and stream
# (issue 11): the guest's 4 KiB random read latency during an operation
# against before it, each operation's speed against a sequential copy of
# the same bytes on the same disk (guest idle and guest reading), and
# against the offline anchors (qemu-img convert, commit, rebase -b "") on
# identical images.  Prints a table, saved to $BUILD/bench/online.txt
# (the harness's KTAP output: $BUILD/bench/online.ktap).  Every ratio is
# taken round by round and shown as its median and its spread (lowest and
# highest).  An operation that fails fails the bench; speed never does.
#
# Settings (environment):
#   BENCH_ROUNDS=3           rounds (a fresh guest and fresh images each)
#   BENCH_ONLINE_MIB=512     image size; each operation moves half of it
#   BENCH_ONLINE_STEP=16     clusters a step (image_op/step_clusters)
#   BENCH_TIMEOUT=S          the hang guard (default: an estimate)

set -u
set -o pipefail

TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
BUILD=${BUILD:-$TOP/build}
export TOP BUILD

die() { echo "bench-online: $*" >&2; exit 2; }
rounds=${BENCH_ROUNDS:-3}
mib=${BENCH_ONLINE_MIB:-512}
step=${BENCH_ONLINE_STEP:-16}
for n in "$rounds" "$mib" "$step" "${BENCH_TIMEOUT:-1}"; do
	case "$n" in ""|*[!0-9]*) die "BENCH_ROUNDS, BENCH_ONLINE_MIB, BENCH_ONLINE_STEP and BENCH_TIMEOUT are whole numbers" ;; esac
done
[ "$rounds" -ge 1 ] && [ "$mib" -ge 64 ] && [ "$step" -ge 1 ] && [ "$step" -le 4096 ] ||
	die "BENCH_ROUNDS >= 1, BENCH_ONLINE_MIB >= 64, BENCH_ONLINE_STEP 1..4096"

mkdir -p "$BUILD/bench"
ktap=$BUILD/bench/online.ktap
txt=$BUILD/bench/online.txt
env=$BUILD/bench/online.env
export KTAP=$ktap
printf 'BENCH_ROUNDS=%s\nBENCH_ONLINE_MIB=%s\nBENCH_ONLINE_STEP=%s\n' \
	"$rounds" "$mib" "$step" >"$env"
export SK_BENCH_ENV=$env
# the templates (raw, two conversions, a child), per round 2 compacted
# copies, 4 children and their bases, the anchors' copies, and room
export XEN_SCRATCH_SIZE=${XEN_SCRATCH_SIZE:-$((mib * 14 + 512))M}
# templates at about a second a MiB, then per round a guest and seven
# operations over half the image each
export SCENARIO_TIMEOUT=${BENCH_TIMEOUT:-$((900 + mib * 3 + rounds * (900 + mib * 14)))}

start=$(date +%s)
"$TOP/tests/xen/run.sh" --scenarios bench-online | tee "$ktap"
rc=$?
elapsed=$(($(date +%s) - start))

awk -v rc="$rc" -v elapsed="$elapsed" -v date="$(date -u +%Y-%m-%d)" \
	-v cores="$(nproc)" -f "$TOP/tests/xen/bench-online.awk" "$ktap" |
	tee "$txt"
exit "$rc"
