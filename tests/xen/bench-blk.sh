#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make bench-blk: boot Xen + dom0 once (tests/xen/run.sh, scenario
# bench-blk) and measure, on one backing device in one run, the stock
# block pair (xen-blkfront + xen-blkback), our pair (splitkit_front +
# splitkit_back) and fio in dom0 on the device itself (the upper bound);
# then print a table of ratios, also saved to $BUILD/bench/blk.txt (the
# harness's KTAP output goes to $BUILD/bench/blk.ktap).
#
# The scenario prints one "BENCH pair=P job=J ..." comment per job and
# pair; see tests/xen/scenarios/bench-blk/dom0.sh.  An fio job that fails
# fails the bench; speed never does.

set -u
set -o pipefail

TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
BUILD=${BUILD:-$TOP/build}
export TOP BUILD
export SCENARIO_TIMEOUT=${SCENARIO_TIMEOUT:-780}

mkdir -p "$BUILD/bench"
ktap=$BUILD/bench/blk.ktap
export KTAP=$ktap
txt=$BUILD/bench/blk.txt

start=$(date +%s)
load0=$(cut -d' ' -f1-3 /proc/loadavg)
"$TOP/tests/xen/run.sh" --scenarios bench-blk | tee "$ktap"
rc=$?
elapsed=$(($(date +%s) - start))

{
awk -v rc="$rc" -v elapsed="$elapsed" -v cores="$(nproc)" \
	-v load0="$load0" -v load1="$(cut -d' ' -f1-3 /proc/loadavg)" '
function val(p, j, k) { return ((p SUBSEP j SUBSEP k) in v) ? v[p, j, k] : "" }
function perf(p, j,   ios, kib, ms) {
	ios = val(p, j, "ios"); kib = val(p, j, "kib"); ms = val(p, j, "ms")
	if (ios == "" || ms == "" || ms <= 0) return ""
	if (j ~ /1m$/) return kib / 1024 / (ms / 1000)
	return ios * 1000 / ms
}
# idle(p, side): busy fraction of side (domU or dom0) in pair p at idle
function idle(p, side,   c, w) {
	c = val(p, "idle", side "_cpu_ms"); w = val(p, "idle", side "_win_ms")
	if (c == "" || w == "" || w <= 0) return ""
	return c / w
}
# cpu(p, j, side): microseconds of side'"'"'s CPU time per I/O of job j, above
# what the domain uses at idle.  The I/Os were counted where the job ran;
# dom0 follows a guest'"'"'s window from its console, a little late at each
# end, so its busy rate is applied to the length of the guest'"'"'s window.
# A domain busy less than NOISE (a fraction of one CPU) above its idle
# level has done too little to tell from the noise: "noise".
function cpu(p, j, side,   ios, c, w, r, len) {
	ios = val(p, j, "win_ios"); c = val(p, j, side "_cpu_ms")
	w = val(p, j, side "_win_ms"); r = idle(p, side)
	if (ios == "" || ios <= 0 || c == "" || w == "" || w <= 0 || r == "") return ""
	if (c / w - r < NOISE) return "noise"
	len = val(p, j, "domU_win_ms")
	if (len == "") len = w
	return (c / w - r) * len * 1000 / ios
}
function pct(x) { return x == "" ? "?" : sprintf("%.0f%%", 100 * x) }
function num(x, w) { return (x == "" || x == "noise") ? \
	sprintf("%" w "s", x == "" ? "-" : x) : sprintf("%" w ".0f", x) }
function num1(x, w) { return x == "" ? sprintf("%" w "s", "-") : \
	sprintf("%" w ".1f", x) }
function ratio(a, b, w) { return (a == "" || b == "" || a == "noise" || \
	b == "noise" || b == 0) ? \
	sprintf("%" w "s", "-") : sprintf("%" w ".2f", a / b) }
function sum(a, b) { return (a == "" || b == "" || a == "noise" || \
	b == "noise") ? "" : a + b }
BEGIN { NOISE = 0.03 }
/^# bench-blk: BENCH-INFO / {
	for (i = 4; i <= NF; i++) { split($i, kv, "="); info[kv[1]] = kv[2] }
}
/^# bench-blk: BENCH pair=/ {
	p = ""; j = ""
	for (i = 4; i <= NF; i++) {
		split($i, kv, "=")
		if (kv[1] == "pair") p = kv[2]; else if (kv[1] == "job") j = kv[2]
		else f[kv[1]] = kv[2]
	}
	for (k in f) v[p, j, k] = f[k]
	delete f
}
END {
	n = split("rr4k1 rr4k32 rw4k1 rw4k32 sr1m sw1m", jobs, " ")
	label["rr4k1"] = "4K randread QD1 (IOPS)"
	label["rr4k32"] = "4K randread QD32 (IOPS)"
	label["rw4k1"] = "4K randwrite QD1 (IOPS)"
	label["rw4k32"] = "4K randwrite QD32 (IOPS)"
	label["sr1m"] = "1M seq read QD8 (MiB/s)"
	label["sw1m"] = "1M seq write QD8 (MiB/s)"
	print "bench-blk: Xen 4.17 PV block pairs on one backing device, one boot"
	printf "backing: dom0 /dev/vda, QEMU %s disk of %s MiB (host file, cache=unsafe)", \
		info["backing"] != "" ? info["backing"] : "?", info["size_mib"] != "" ? info["size_mib"] : "?"
	printf "\nfio libaio O_DIRECT over the whole disk, %s s per job after a %s s ramp;", \
		info["runtime_s"] != "" ? info["runtime_s"] : "?", info["ramp_s"] != "" ? info["ramp_s"] : "?"
	printf " CPU counted over up to %s s mid-job\n", info["window_s"] != "" ? info["window_s"] : "?"
	print "stock = xen-blkfront + xen-blkback, ours = splitkit_front + splitkit_back,"
	print "native = fio in dom0 on /dev/vda itself (the upper bound)"
	print ""
	printf "%-25s %10s %10s %10s %7s %7s %7s\n", "job", "native", "stock", "ours", \
		"ours/", "stock/", "ours/"
	printf "%-25s %10s %10s %10s %7s %7s %7s\n", "", "", "", "", "stock", "native", "native"
	missing = 0
	for (i = 1; i <= n; i++) {
		j = jobs[i]
		pn = perf("native", j); ps = perf("stock", j); po = perf("ours", j)
		if (pn == "" || ps == "" || po == "") missing++
		printf "%-25s %s %s %s %s %s %s\n", label[j], \
			(j ~ /1m$/ ? num1(pn, 10) : num(pn, 10)), \
			(j ~ /1m$/ ? num1(ps, 10) : num(ps, 10)), \
			(j ~ /1m$/ ? num1(po, 10) : num(po, 10)), \
			ratio(po, ps, 7), ratio(ps, pn, 7), ratio(po, pn, 7)
	}
	print ""
	print "CPU time per I/O, microseconds (each domain'"'"'s busy time, all vCPUs, above its idle"
	print "level, over a window in the middle of the job / I/Os done in the window)"
	printf "%-25s %7s %7s %6s | %7s %7s %6s | %7s %7s %6s | %7s\n", "", \
		"domU", "", "", "dom0", "", "", "total", "", "", "dom0"
	printf "%-25s %7s %7s %6s | %7s %7s %6s | %7s %7s %6s | %7s\n", "job", \
		"stock", "ours", "o/s", "stock", "ours", "o/s", "stock", "ours", "o/s", "native"
	for (i = 1; i <= n; i++) {
		j = jobs[i]
		us = cpu("stock", j, "domU"); uo = cpu("ours", j, "domU")
		ds = cpu("stock", j, "dom0"); do_ = cpu("ours", j, "dom0")
		ts = sum(us, ds); to = sum(uo, do_)
		dn = cpu("native", j, "dom0")
		l = label[j]; sub(/ \(.*\)$/, "", l)
		printf "%-25s %s %s %s | %s %s %s | %s %s %s | %s\n", l, \
			num(us, 7), num(uo, 7), ratio(uo, us, 6), \
			num(ds, 7), num(do_, 7), ratio(do_, ds, 6), \
			num(ts, 7), num(to, 7), ratio(to, ts, 6), num(dn, 7)
	}
	print ""
	printf "NOTE: Xen, dom0 and the guests run under QEMU TCG (software CPU emulation)\n"
	printf "on a %d-core host, so absolute numbers mean little; compare the ratios,\n", cores
	print "and expect noise between runs (more on a busy host). Higher is better for"
	print "throughput ratios, lower for CPU ratios. Guests have 1 vCPU, dom0 has " \
		(info["dom0_vcpus"] != "" ? info["dom0_vcpus"] : "?") "."
	print "\"noise\": the domain was busy less than 3% of one CPU above its idle level."
	print "Busy = user+nice+system+irq+softirq of each domain'"'"'s /proc/stat; busy at idle:"
	printf "native dom0 %s; stock domU %s, dom0 %s; ours domU %s, dom0 %s.\n", \
		pct(idle("native", "dom0")), pct(idle("stock", "domU")), \
		pct(idle("stock", "dom0")), pct(idle("ours", "domU")), pct(idle("ours", "dom0"))
	print "The emulated CPUs share the host with whatever else runs there: host load"
	printf "average %s before the run, %s after.\n", load0, load1
	printf "harness run: %d s, exit status %d\n", elapsed, rc
	if (missing) {
		printf "bench-blk: FAILED: %d of %d jobs have no result for every pair (see %s)\n", \
			missing, n, ENVIRON["KTAP"]
		exit 1
	}
	if (rc != 0) {
		printf "bench-blk: FAILED: the harness reported failures (see %s)\n", ENVIRON["KTAP"]
		exit 1
	}
}' "$ktap"
} | tee "$txt"
