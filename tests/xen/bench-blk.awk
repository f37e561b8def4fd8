# SPDX-License-Identifier: GPL-2.0
#
# make bench-blk, the tables: reads the harness's KTAP output of scenario
# bench-blk (its "BENCH pair=P round=R job=J key=value..." comments, see
# tests/xen/scenarios/bench-blk/dom0.sh) and prints the throughput and
# the per-I/O cost account of every pair, with every ratio to the first
# pair (the stock pair; QEMU qdisk for the image pairs) as its median and
# spread over the rounds, and the goals of issue 14 (our pair) or issue
# 10 (qcow2 in splitkit_back) for the pairs that ran.  Run by
# tests/xen/bench-blk.sh with -v jobs, pairs, rounds, rc, elapsed, cores,
# load0, load1, date.  Exits 1 if a job has no result for some pair, or
# the harness failed.

function val(p, j, r, k) { return ((p SUBSEP j SUBSEP r SUBSEP k) in v) ? v[p, j, r, k] : "" }
function isnum(x) { return x != "" && x != "noise" }

# perf(p, j, r): IOPS (4 KiB jobs) or MiB/s (1 MiB jobs) over fio's run.
function perf(p, j, r,   ios, kib, ms) {
	ios = val(p, j, r, "ios"); kib = val(p, j, r, "kib"); ms = val(p, j, r, "ms")
	if (ios == "" || ms == "" || ms <= 0) return ""
	if (j ~ /1m$/) return kib / 1024 / (ms / 1000)
	return ios * 1000 / ms
}

# idle_rate(p, r, side, c): counter c of side per millisecond at idle.
function idle_rate(p, r, side, c,   x, w) {
	x = val(p, "idle", r, side "_" c); w = val(p, "idle", r, side "_win_ms")
	if (x == "" || w == "" || w <= 0) return 0
	return x / w
}

# per_io(p, j, r, side, c): counter c of side (domU or dom0) per I/O of
# job j, above its idle rate.  The I/Os were counted in the guest's window
# (the native bound's: dom0's); dom0 follows a guest's window from its
# console, a little late at each end, so its rate is applied to the
# length of the guest's window.  CPU time ("cpu_ms") is in microseconds,
# and "noise" where the domain was busy less than NOISE of one CPU above
# its idle level.
function per_io(p, j, r, side, c,   ios, x, w, rate, len) {
	ios = val(p, j, r, "win_ios"); x = val(p, j, r, side "_" c)
	w = val(p, j, r, side "_win_ms")
	if (ios == "" || ios <= 0 || x == "" || w == "" || w <= 0) return ""
	rate = x / w - idle_rate(p, r, side, c)
	if (c == "cpu_ms" && rate < NOISE) return "noise"
	if (rate < 0) rate = 0
	len = val(p, j, r, "domU_win_ms")
	if (len == "") len = w
	return rate * len / ios * (c == "cpu_ms" ? 1000 : 1)
}

# metric(p, j, r, m): metric m (an index into mside/mctr) of one run.
function metric(p, j, r, m,   a, b) {
	if (mctr[m] == "perf") return perf(p, j, r)
	if (mctr[m] == "total") {
		a = per_io(p, j, r, "domU", "cpu_ms"); b = per_io(p, j, r, "dom0", "cpu_ms")
		if (p == "native") return b
		return (isnum(a) && isnum(b)) ? a + b : ""
	}
	return per_io(p, j, r, mside[m], mctr[m])
}

# median of the n values in arr[1..n] (sorted in place).
function median(arr, n,   i, k, t) {
	for (i = 2; i <= n; i++) {
		t = arr[i]
		for (k = i - 1; k >= 1 && arr[k] > t; k--) arr[k + 1] = arr[k]
		arr[k + 1] = t
	}
	if (n % 2) return arr[(n + 1) / 2]
	return (arr[n / 2] + arr[n / 2 + 1]) / 2
}

# med(p, j, m): the median over the rounds ("" if none, "noise" if every
# round was noise).
function med(p, j, m,   r, n, x, arr, noise) {
	n = 0; noise = 0
	for (r = 1; r <= rounds; r++) {
		x = metric(p, j, r, m)
		if (x == "noise") noise++
		else if (x != "") arr[++n] = x
	}
	if (!n) return noise ? "noise" : ""
	return median(arr, n)
}

# ratio(p, q, j, m): RMED, RLO, RHI, RN set to the median, lowest and
# highest of the per-round ratios p/q and how many rounds had both.
function ratio(p, q, j, m,   r, n, a, b, arr) {
	n = 0
	for (r = 1; r <= rounds; r++) {
		a = metric(p, j, r, m)
		b = metric(q, j, (q == "native" ? 1 : r), m)
		if (isnum(a) && isnum(b) && b > 0) arr[++n] = a / b
		else if (isnum(a) && isnum(b) && a == 0 && b == 0) arr[++n] = 1
		# something where the other had none: not a round to drop
		else if (isnum(a) && isnum(b) && a > 0 && b == 0) arr[++n] = INF
	}
	RN = n
	if (!n) return
	RMED = median(arr, n); RLO = arr[1]; RHI = arr[n]
}

# verdict(ok): a goal's line for the last ratio() (RN, RMED).
function verdict(ok) {
	if (!RN) return "not measured"
	return sprintf("%s (%s%s)", ok ? "met" : "NOT met", rfmt(RMED), \
		RN > 1 ? sprintf(" [%s-%s]", rfmt(RLO), rfmt(RHI)) : "")
}

# rfmt(x): a ratio, "inf" for one over nothing
function rfmt(x) { return x >= INF ? "inf" : sprintf("%.2f", x) }

function fmt(x, w,   d) {
	if (x == "") return sprintf("%" w "s", "-")
	if (x == "noise") return sprintf("%" w "s", "noise")
	d = x >= 100 ? 0 : x >= 10 ? 1 : 2
	return sprintf("%" w "." d "f", x)
}

function fmt_ratio(p, q, j, m, w) {
	ratio(p, q, j, m)
	if (!RN) return sprintf("%-" w "s", "-")
	if (RN == 1) return sprintf("%-" w "s", rfmt(RMED))
	return sprintf("%-" w "s", sprintf("%s [%s-%s]", rfmt(RMED), rfmt(RLO), rfmt(RHI)))
}

BEGIN {
	NOISE = 0.03
	INF = 1e9
	nj = split(jobs, J, " ")
	np = split(pairs, P, " ")
	REF = P[1]
	for (i = 1; i <= np; i++) has[P[i]] = 1
	label["rr4k1"] = "4K randread QD1"
	label["rr4k32"] = "4K randread QD32"
	label["rw4k1"] = "4K randwrite QD1"
	label["rw4k32"] = "4K randwrite QD32"
	label["sr1m"] = "1M seq read QD8"
	label["sw1m"] = "1M seq write QD8"
	# the cost account's rows: side, counter, what it is
	nm = 0
	mctr[++nm] = "perf"; mname[nm] = "throughput"; PERF = nm
	mside[++nm] = "domU"; mctr[nm] = "cpu_ms"; mname[nm] = "domU CPU (us)"
	mside[++nm] = "dom0"; mctr[nm] = "cpu_ms"; mname[nm] = "dom0 CPU (us)"; DOM0CPU = nm
	mctr[++nm] = "total"; mname[nm] = "total CPU (us)"
	mside[++nm] = "domU"; mctr[nm] = "ev"; mname[nm] = "domU events received"; count[nm] = 1
	mside[++nm] = "dom0"; mctr[nm] = "ev"; mname[nm] = "dom0 events received"; count[nm] = 1
	mside[++nm] = "domU"; mctr[nm] = "cs"; mname[nm] = "domU context switches"; count[nm] = 1
	mside[++nm] = "dom0"; mctr[nm] = "cs"; mname[nm] = "dom0 context switches"; count[nm] = 1
	mside[++nm] = "dom0"; mctr[nm] = "gcopy_segs"; mname[nm] = "dom0 grant copies"; count[nm] = 1
	mside[++nm] = "dom0"; mctr[nm] = "grant_maps"; mname[nm] = "dom0 grant maps"; count[nm] = 1
	mside[++nm] = "dom0"; mctr[nm] = "grant_unmaps"; mname[nm] = "dom0 grant unmaps"; count[nm] = 1
	mside[++nm] = "dom0"; mctr[nm] = "gcopy_bytes"; mname[nm] = "dom0 bytes copied"; count[nm] = 1
	mside[++nm] = "dom0"; mctr[nm] = "zc_segs"; mname[nm] = "dom0 segments zero-copy"
	mside[++nm] = "dom0"; mctr[nm] = "completion_runs"; mname[nm] = "dom0 completion runs"; count[nm] = 1
	mside[++nm] = "dom0"; mctr[nm] = "direct_answers"; mname[nm] = "dom0 answers from end_io"
	mside[++nm] = "domU"; mctr[nm] = "copied_bytes"; mname[nm] = "domU bytes copied"; count[nm] = 1
	mside[++nm] = "domU"; mctr[nm] = "grant_misses"; mname[nm] = "domU grants made"; count[nm] = 1
	mside[++nm] = "domU"; mctr[nm] = "grants_reclaimed"; mname[nm] = "domU grants ended"; count[nm] = 1
}
/^# bench-blk: BENCH-INFO / {
	for (i = 4; i <= NF; i++) { split($i, kv, "="); info[kv[1]] = kv[2] }
}
# a job's counts; and "BENCH-STATS", splitkit_back's skb_stats/ at a
# guest's end (pages_peak, the memory bounds), kept as job "stats"
/^# bench-blk: BENCH(-STATS)? pair=/ {
	p = ""; j = $3 == "BENCH-STATS" ? "stats" : ""; r = 1
	for (i = 4; i <= NF; i++) {
		split($i, kv, "=")
		if (kv[1] == "pair") p = kv[2]
		else if (kv[1] == "job") j = kv[2]
		else if (kv[1] == "round") r = kv[2]
		else f[kv[1]] = kv[2]
	}
	for (k in f) v[p, j, r, k] = f[k]
	delete f
}
END {
	images = has["qdisk"] || has["qcow2"] || has["raw"]
	printf "bench-blk, %s: Xen 4.17 PV block %s, one boot\n", date, \
		images ? "backends on one image" : "pairs on one backing device"
	printf "backing: dom0 /dev/vda, QEMU %s disk of %s MiB (host file, cache=unsafe)\n", \
		info["backing"] != "" ? info["backing"] : "?", info["size_mib"] != "" ? info["size_mib"] : "?"
	printf "fio libaio O_DIRECT over the whole disk, %s s per job after a %s s ramp;", \
		info["runtime_s"] != "" ? info["runtime_s"] : "?", info["ramp_s"] != "" ? info["ramp_s"] : "?"
	printf " counted over up to %s s mid-job\n", info["window_s"] != "" ? info["window_s"] : "?"
	if (images) {
		printf "images on an ext4 on /dev/vda: img.raw (%s MiB, prefilled) and img.qcow2, its\n", \
			info["image_mib"] != "" ? info["image_mib"] : "?"
		printf "qemu-img copy (64 KiB clusters, all allocated: %s KiB); splitkit_front in\n", \
			info["qcow2_kib"] != "" ? info["qcow2_kib"] : "?"
		print "every guest, dom0's page cache dropped before each guest:"
		print "qdisk = QEMU qdisk on img.qcow2, qcow2 = splitkit_back on img.qcow2,"
		print "raw = splitkit_back on img.raw,"
		print "native = fio in dom0 on img.raw (the upper bound, run once)"
	} else {
		print "stock = xen-blkfront + xen-blkback, ours = splitkit_front + splitkit_back,"
		print "stockfront = xen-blkfront + splitkit_back, stockback = splitkit_front + xen-blkback,"
		print "native = fio in dom0 on /dev/vda itself (the upper bound, run once)"
	}
	printf "%d round(s), the pairs in the order %s each round; a pair's figure is the\n", rounds, pairs
	print "median over the rounds, a ratio the median [lowest-highest] of the per-round ratios"
	print ""
	missing = 0
	# throughput
	printf "%-26s %9s", "throughput", "native"
	for (i = 1; i <= np; i++) printf " %9s", P[i]
	for (i = 2; i <= np; i++) printf "  %-20s", P[i] "/" REF
	for (i = 1; i <= np; i++) printf "  %-8s", P[i] "/nat"
	printf "\n"
	for (k = 1; k <= nj; k++) {
		j = J[k]
		printf "%-26s %s", label[j] (j ~ /1m$/ ? " (MiB/s)" : " (IOPS)"), fmt(med("native", j, PERF), 9)
		for (i = 1; i <= np; i++) {
			x = med(P[i], j, PERF)
			if (x == "") missing++
			printf " %s", fmt(x, 9)
		}
		for (i = 2; i <= np; i++) printf "  %s", fmt_ratio(P[i], REF, j, PERF, 20)
		for (i = 1; i <= np; i++) {
			ratio(P[i], "native", j, PERF)
			printf "  %-8s", RN ? sprintf("%.2f", RMED) : "-"
		}
		printf "\n"
	}
	if (med("native", J[1], PERF) == "") missing++
	print ""
	print "Per-I/O cost account: each domain's counts over a window in the middle of the"
	print "job, above its idle level, divided by the I/Os done in the window.  Events are"
	print "those received on the disk's event channels (/proc/interrupts; the other"
	print "domain sent them), context switches /proc/stat ctxt, CPU busy time /proc/stat;"
	print "grant operations and bytes copied are the drivers' own counters (skb_stats/,"
	print "skf_stats/): the stock drivers count none, shown as -."
	for (k = 1; k <= nj; k++) {
		j = J[k]
		print ""
		printf "%-26s %9s", label[j], "native"
		for (i = 1; i <= np; i++) printf " %9s", P[i]
		for (i = 2; i <= np; i++) printf "  %-20s", P[i] "/" REF
		printf "\n"
		for (m = 2; m <= nm; m++) {
			printf "%-26s %s", mname[m], (mside[m] == "domU" ? fmt("", 9) : fmt(med("native", j, m), 9))
			for (i = 1; i <= np; i++) printf " %s", fmt(med(P[i], j, m), 9)
			for (i = 2; i <= np; i++) printf "  %s", fmt_ratio(P[i], REF, j, m, 20)
			printf "\n"
		}
	}
	# dom0 memory per disk where splitkit_back served (its own counters)
	mem = 0
	for (i = 1; i <= np; i++) {
		for (r = 1; r <= rounds; r++) {
			peak = val(P[i], "stats", r, "pages_peak")
			maxpages = val(P[i], "stats", r, "param_max_pages")
			if (peak == "") continue
			if (!mem++) {
				print ""
				print "dom0 memory per disk (splitkit_back): bounce pages at their peak over the"
				print "whole guest, against max_pages; mapped grants are bounded apart: the"
				print "disk's grant_slots, max_grants x queues offered shared by its rings"
				print "(Documentation/block.rst)"
			}
			slots = val(P[i], "stats", r, "grant_slots")
			printf "  %-10s round %d: peak %d pages (%.1f MiB) of max_pages %s (%.0f MiB); max_grants %s, grant_slots %s (%.1f MiB)\n", \
				P[i], r, peak, peak * 4 / 1024, maxpages, maxpages * 4 / 1024, \
				val(P[i], "stats", r, "param_max_grants"), \
				(slots == "" ? "?" : slots), slots * 4 / 1024
			if (maxpages == "" || peak + 0 > maxpages + 0)
				overbound = overbound " " P[i] "/" r
		}
	}
	# the goals of issue 10, for qcow2 in splitkit_back
	if (has["qcow2"] && has["qdisk"]) {
		print ""
		print "Goals (qcow2 in splitkit_back against QEMU qdisk on the same image, and"
		print "against splitkit_back on the raw file; medians [spread] of per-round ratios):"
		for (k = 1; k <= nj; k++) {
			j = J[k]
			if (j !~ /32$/) continue
			ratio("qcow2", "qdisk", j, PERF)
			printf "  %-18s IOPS >= 2x qdisk: %s\n", label[j], verdict(RMED >= 2)
			ratio("qcow2", "qdisk", j, DOM0CPU)
			printf "  %-18s dom0 CPU per I/O < qdisk: %s\n", label[j], verdict(RMED < 1)
		}
		if (has["raw"])
			for (k = 1; k <= nj; k++) {
				j = J[k]
				ratio("qcow2", "raw", j, PERF)
				printf "  %-18s throughput >= 0.8x raw: %s\n", label[j], verdict(RMED >= 0.8)
			}
	}
	# the goals of issue 14, for our pair
	if (has["ours"] && has["stock"]) {
		print ""
		print "Goals (ours against stock, medians):"
		for (k = 1; k <= nj; k++) {
			j = J[k]
			worse = ""; unknown = 0; compared = 0
			for (m = 2; m <= nm; m++) {
				if (!count[m]) continue
				a = med("ours", j, m); b = med("stock", j, m)
				if (!isnum(a) || !isnum(b)) { unknown++; continue }
				compared++
				if (a > b * 1.0001 + 0.0001) worse = worse " " mname[m]
				if (j ~ /32$/ && (mctr[m] == "ev" || mctr[m] == "cs") && !(a < b))
					worse = worse " " mname[m] "(not fewer)"
			}
			# nothing compared (no window counted on either side) is
			# not a goal met
			if (!compared)
				gv = "not measured"
			else if (worse == "")
				gv = "met" (unknown ? " (" unknown " not counted on both sides)" : "")
			else
				gv = "NOT met:" worse
			printf "  %-18s counts <= stock: %s\n", label[j], gv
		}
		for (k = 1; k <= nj; k++) {
			j = J[k]
			ratio("ours", "stock", j, DOM0CPU)
			goal = j ~ /1m$/ ? 1.0 : 0.7
			printf "  %-18s dom0 CPU <= %.1fx stock: %s\n", label[j], goal, \
				verdict(RMED <= goal)
		}
		printf "  %-18s dom0 memory per disk <= its bound: %s\n", "every job", \
			!mem ? "not measured" : overbound == "" ? "met" : "NOT met:" overbound
		for (k = 1; k <= nj; k++) {
			j = J[k]
			if (j ~ /32$/) {
				ratio("ours", "stock", j, PERF)
				printf "  %-18s IOPS >= 1.3x stock: %s\n", label[j], \
					verdict(RMED >= 1.3)
			} else if (j ~ /1m$/) {
				ratio("ours", "native", j, PERF)
				printf "  %-18s MiB/s >= 0.9x native: %s\n", label[j], \
					verdict(RMED >= 0.9)
			}
		}
	}
	print ""
	printf "NOTE: Xen, dom0 and the guests run under QEMU TCG (software CPU emulation)\n"
	printf "on a %d-core host, so absolute numbers mean little; compare the ratios and\n", cores
	print "their spread (more on a busy host).  Higher is better for throughput, lower"
	print "for costs.  Guests have 1 vCPU, dom0 has " \
		(info["dom0_vcpus"] != "" ? info["dom0_vcpus"] : "?") ".  \"noise\": the domain was busy"
	print "less than 3% of one CPU above its idle level.  Busy = user+nice+system+irq+"
	print "softirq of each domain's /proc/stat."
	print "The emulated CPUs share the host with whatever else runs there: host load"
	printf "average %s before the run, %s after.\n", load0, load1
	printf "harness run: %d s, exit status %d\n", elapsed, rc
	if (missing) {
		printf "bench-blk: FAILED: %d job(s) lack a result for some pair (see %s)\n", \
			missing, ENVIRON["KTAP"]
		exit 1
	}
	if (rc != 0) {
		printf "bench-blk: FAILED: the harness reported failures (see %s)\n", ENVIRON["KTAP"]
		exit 1
	}
}
