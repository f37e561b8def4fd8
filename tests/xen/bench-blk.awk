# SPDX-License-Identifier: GPL-2.0
#
# make bench-blk's and make bench-shunt's tables: reads the harness's
# KTAP output of scenario scen (bench-blk, the default, or bench-shunt:
# its "BENCH pair=P round=R job=J key=value..." comments, see
# tests/xen/scenarios/<scen>/dom0.sh) and prints the throughput and the
# per-I/O cost account of every pair, with every ratio to the first pair
# (the stock pair; QEMU qdisk for the image pairs; the emulated disk for
# the shunt's paths emul, shunt and pv, which have no native bound) as
# its median and spread over the rounds, and the goals of issue 14 (our
# pair), issue 10 (qcow2 in splitkit_back) or issue 13 (the shunt) for
# the pairs that ran.  Run by tests/xen/bench-blk.sh and bench-shunt.sh
# with -v jobs, pairs, rounds, rc, elapsed, cores, load0, load1, date
# [, scen].  Exits 1 if a job has no result for some pair, or the harness
# failed.

function val(p, j, r, k) { return ((p SUBSEP j SUBSEP r SUBSEP k) in v) ? v[p, j, r, k] : "" }
function isnum(x) { return x != "" && x != "noise" }

# perf(p, j, r): IOPS (4 KiB jobs) or MiB/s (1 MiB jobs) over fio's run.
function perf(p, j, r,   ios, kib, ms) {
	ios = val(p, j, r, "ios"); kib = val(p, j, r, "kib"); ms = val(p, j, r, "ms")
	if (ios == "" || ms == "" || ms <= 0) return ""
	if (j ~ /1m$/) return kib / 1024 / (ms / 1000)
	return ios * 1000 / ms
}

# idle_rate(p, r, side, c): counter c of side per millisecond at idle
# (the idle window of pair p's round r; bench-shunt's one guest has one,
# reported as pair "idle").
function idle_rate(p, r, side, c,   x, w) {
	if (!NATIVE) { p = "idle"; r = 1 }
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
	# something where the other had none (INF) in half the rounds
	if (arr[n / 2 + 1] >= INF) return INF
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

# disturbed(p, j, r): the guest's clock ran through less than DISTURBED
# of the nominal window while dom0 counted it (bench-shunt's HVM guest
# under TCG: its vCPU stalls in some windows, on either path, and the
# run's rate falls with it).  0 where there is no guest window.
function disturbed(p, j, r,   w) {
	w = val(p, j, r, "domU_win_ms")
	if (w == "" || info["window_s"] == "") return 0
	return w < DISTURBED * info["window_s"] * 1000
}

# ratio(p, q, j, m): RMED, RLO, RHI, RN set to the median, lowest and
# highest of the per-round ratios p/q and how many rounds had both; with
# CLEAN set, of the rounds in which neither window was disturbed().
function ratio(p, q, j, m,   r, n, a, b, arr) {
	n = 0
	for (r = 1; r <= rounds; r++) {
		if (CLEAN && (disturbed(p, j, r) || disturbed(q, j, r)))
			continue
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

# info(k): a BENCH-INFO value, "?" if none came.
function info_of(k) { return info[k] != "" ? info[k] : "?" }

# header_blk(images): what bench-blk ran.
function header_blk(images) {
	printf "bench-blk, %s: Xen 4.17 PV block %s, one boot\n", date, \
		images ? "backends on one image" : "pairs on one backing device"
	printf "backing: dom0 /dev/vda, QEMU %s disk of %s MiB (host file, cache=unsafe)\n", \
		info_of("backing"), info_of("size_mib")
	printf "fio libaio O_DIRECT over the whole disk, %s s per job after a %s s ramp;", \
		info_of("runtime_s"), info_of("ramp_s")
	printf " counted over up to %s s mid-job\n", info_of("window_s")
	if (images) {
		printf "images on an ext4 on /dev/vda: img.raw (%s MiB, prefilled) and img.qcow2, its\n", \
			info_of("image_mib")
		printf "qemu-img copy (64 KiB clusters, all allocated: %s KiB); splitkit_front in\n", \
			info_of("qcow2_kib")
		print "every guest, dom0's page cache dropped before each guest:"
		print "qdisk = QEMU qdisk on img.qcow2, qcow2 = splitkit_back on img.qcow2,"
		if (has["qcow2wb"])
			print "qcow2wb = qcow2 with splitkit_back's qcow2_writeback=y,"
		print "raw = splitkit_back on img.raw,"
		print "native = fio in dom0 on img.raw (the upper bound, run once)"
	} else {
		print "stock = xen-blkfront + xen-blkback, ours = splitkit_front + splitkit_back,"
		print "stockfront = xen-blkfront + splitkit_back, stockback = splitkit_front + xen-blkback,"
		print "native = fio in dom0 on /dev/vda itself (the upper bound, run once)"
	}
}

# header_shunt(): what bench-shunt ran.
function header_shunt() {
	printf "bench-shunt, %s: Xen 4.17, one HVM guest (1 vCPU) on one image, one boot\n", date
	printf "image: %s MiB in dom0's memory (tmpfs), an ext4 with a %s MiB file of random\n", \
		info_of("image_mib"), info_of("file_mib")
	printf "bytes; fio libaio O_DIRECT on that file, %s s per job after a %s s ramp;\n", \
		info_of("runtime_s"), info_of("ramp_s")
	printf "counted over up to %s s mid-job.  The paths (in turn first each round,\n", \
		info_of("window_s")
	print "fio paged in again by a 1 s job after every mount):"
	print "emul  = the filesystem mounted from the emulated IDE disk (QEMU, ata_piix)"
	print "shunt = the same mount, its bios carried by splitkit_shunt to the PV disk"
	print "pv    = the filesystem mounted from the PV disk itself (splitkit_front +"
	printf "        splitkit_back, zero_copy=%s)\n", info_of("zero_copy")
}

# held(to, arr): the held times (ns) of the switches to "pv" or "emul"
# in arr[1..n]; returns n.
function held(to, arr,   r, n, x) {
	n = 0
	for (r = 1; r <= rounds; r++) {
		x = val("held", to, r, "domU_ns")
		if (x != "") arr[++n] = x
	}
	return n
}

# shunt_goals(): issue 13's goal (shunted >= 0.95x the PV disk itself),
# the gain over the emulated disk, and the switches' held times.
function shunt_goals(   k, j, n, arr, to, r, most, x) {
	print ""
	print "Goals (the shunt against the PV disk mounted directly; medians [spread] of"
	print "per-round ratios), and what the shunt gains over the emulated disk:"
	for (k = 1; k <= nj; k++) {
		j = J[k]
		ratio("shunt", "pv", j, PERF)
		printf "  %-18s shunt >= 0.95x pv: %s\n", label[j], verdict(RMED >= 0.95)
		CLEAN = 1
		ratio("shunt", "pv", j, PERF)
		CLEAN = 0
		printf "  %-18s   undisturbed rounds only: %s, %d of %d\n", "", \
			verdict(RMED >= 0.95), RN, rounds
	}
	printf "  (a round is disturbed when the guest's clock ran through less than %d%%\n", \
		DISTURBED * 100
	print "  of either path's window: its vCPU stalled, on whichever path, and the rate"
	print "  fell with it; the windows' lengths are in the KTAP output)"
	for (k = 1; k <= nj; k++) {
		j = J[k]
		printf "  %-18s shunt/emul: %s\n", label[j], fmt_ratio("shunt", "emul", j, PERF, 20)
	}
	print ""
	print "Held time of the switches (new bios held while in-flight ones finish and the"
	print "emulated disk's cache is flushed; under TCG, not hardware: the goal of"
	print "under 1 ms is for hardware):"
	for (to = 1; to <= 2; to++) {
		n = held(to == 1 ? "pv" : "emul", arr)
		if (!n) {
			printf "  to %-4s not measured\n", to == 1 ? "pv" : "emul"
			missing++
			continue
		}
		most = 0
		for (r = 1; r <= rounds; r++)
			if (val("held", to == 1 ? "pv" : "emul", r, "domU_bios") + 0 > most)
				most = val("held", to == 1 ? "pv" : "emul", r, "domU_bios") + 0
		x = median(arr, n)
		printf "  to %-4s median %.3f ms [%.3f-%.3f] over %d switch(es), at most %d bios held\n", \
			to == 1 ? "pv" : "emul", x / 1e6, arr[1] / 1e6, arr[n] / 1e6, n, most
	}
}

BEGIN {
	if (scen == "") scen = "bench-blk"
	NOISE = 0.03
	DISTURBED = 0.6
	INF = 1e9
	nj = split(jobs, J, " ")
	np = split(pairs, P, " ")
	REF = P[1]
	for (i = 1; i <= np; i++) has[P[i]] = 1
	# the shunt's paths: no native bound ran
	NATIVE = !has["shunt"]
	# the ratio columns: each pair to the first; the shunt also to pv
	nr = 0
	for (i = 2; i <= np; i++) { RP[++nr] = P[i]; RQ[nr] = REF }
	if (has["shunt"] && has["pv"]) { RP[++nr] = "shunt"; RQ[nr] = "pv" }
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
	mside[++nm] = "domU"; mctr[nm] = "coalesced_waits"; mname[nm] = "domU coalesced waits"; count[nm] = 1
}
index($0, "# " scen ": BENCH-INFO ") == 1 {
	for (i = 4; i <= NF; i++) { split($i, kv, "="); info[kv[1]] = kv[2] }
}
# a job's counts; and "BENCH-STATS", splitkit_back's skb_stats/ at a
# guest's end (pages_peak, the memory bounds), kept as job "stats"
index($0, "# " scen ": BENCH pair=") == 1 || index($0, "# " scen ": BENCH-STATS pair=") == 1 {
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
	images = has["qdisk"] || has["qcow2"] || has["qcow2wb"] || has["raw"]
	if (NATIVE)
		header_blk(images)
	else
		header_shunt()
	if (NATIVE)
		printf "%d round(s), the pairs in the order %s each round; a pair's figure is the\n", rounds, pairs
	else
		printf "%d round(s), the paths' order rotated each round; a path's figure is the\n", rounds
	print "median over the rounds, a ratio the median [lowest-highest] of the per-round ratios"
	print ""
	missing = 0
	# throughput
	printf "%-26s", "throughput"
	if (NATIVE) printf " %9s", "native"
	for (i = 1; i <= np; i++) printf " %9s", P[i]
	for (i = 1; i <= nr; i++) printf "  %-20s", RP[i] "/" RQ[i]
	if (NATIVE) for (i = 1; i <= np; i++) printf "  %-8s", P[i] "/nat"
	printf "\n"
	for (k = 1; k <= nj; k++) {
		j = J[k]
		printf "%-26s", label[j] (j ~ /1m$/ ? " (MiB/s)" : " (IOPS)")
		if (NATIVE) printf " %s", fmt(med("native", j, PERF), 9)
		for (i = 1; i <= np; i++) {
			x = med(P[i], j, PERF)
			if (x == "") missing++
			printf " %s", fmt(x, 9)
		}
		for (i = 1; i <= nr; i++) printf "  %s", fmt_ratio(RP[i], RQ[i], j, PERF, 20)
		for (i = 1; NATIVE && i <= np; i++) {
			ratio(P[i], "native", j, PERF)
			printf "  %-8s", RN ? sprintf("%.2f", RMED) : "-"
		}
		printf "\n"
	}
	if (NATIVE && med("native", J[1], PERF) == "") missing++
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
		printf "%-26s", label[j]
		if (NATIVE) printf " %9s", "native"
		for (i = 1; i <= np; i++) printf " %9s", P[i]
		for (i = 1; i <= nr; i++) printf "  %-20s", RP[i] "/" RQ[i]
		printf "\n"
		for (m = 2; m <= nm; m++) {
			printf "%-26s", mname[m]
			if (NATIVE)
				printf " %s", (mside[m] == "domU" ? fmt("", 9) : fmt(med("native", j, m), 9))
			for (i = 1; i <= np; i++) printf " %s", fmt(med(P[i], j, m), 9)
			for (i = 1; i <= nr; i++) printf "  %s", fmt_ratio(RP[i], RQ[i], j, m, 20)
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
				print "dom0 memory per disk (splitkit_back): pages its requests held at their peak"
				print "(bounce pages and bookkeeping) over the whole guest, against max_pages;"
				print "mapped grants are bounded apart: the"
				print "disk's grant_slots, max_grants x queues offered shared by its rings"
				print "(Documentation/block.rst)"
			}
			slots = val(P[i], "stats", r, "grant_slots")
			printf "  %-10s round %d: peak %d pages (%.1f MiB) of max_pages %s (%.0f MiB); max_grants %s, grant_slots %s (%.1f MiB)\n", \
				NATIVE ? P[i] : "the guest", r, peak, peak * 4 / 1024, maxpages, maxpages * 4 / 1024, \
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
	if (has["shunt"])
		shunt_goals()
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
		printf "%s: FAILED: %d job(s) lack a result for some pair (see %s)\n", \
			scen, missing, ENVIRON["KTAP"]
		exit 1
	}
	if (rc != 0) {
		printf "%s: FAILED: the harness reported failures (see %s)\n", scen, ENVIRON["KTAP"]
		exit 1
	}
}
