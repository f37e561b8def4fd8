# SPDX-License-Identifier: GPL-2.0
#
# make bench-online's table (tests/xen/bench-online.sh) from the KTAP log
# of the bench-online scenario: its "BENCH-ONLINE round=R what=W k=v..."
# comments.  Every ratio is taken within a round, then shown as the median
# over the rounds and its spread [lowest-highest].

function med(a, n,    i, j, t, b) {
	for (i = 1; i <= n; i++)
		b[i] = a[i]
	for (i = 2; i <= n; i++)
		for (j = i; j > 1 && b[j - 1] > b[j]; j--) {
			t = b[j]; b[j] = b[j - 1]; b[j - 1] = t
		}
	if (n % 2)
		return b[(n + 1) / 2]
	return (b[n / 2] + b[n / 2 + 1]) / 2
}

function lo(a, n,    i, m) {
	m = a[1]
	for (i = 2; i <= n; i++)
		if (a[i] < m) m = a[i]
	return m
}

function hi(a, n,    i, m) {
	m = a[1]
	for (i = 2; i <= n; i++)
		if (a[i] > m) m = a[i]
	return m
}

# row LABEL GOAL: the ratios gathered in v[1..nv]
function row(label, goal, fmt) {
	if (nv == 0) {
		printf "  %-46s %s\n", label, "no data"
		return
	}
	printf "  %-46s " fmt " [" fmt "-" fmt "]  %s\n", label,
		med(v, nv), lo(v, nv), hi(v, nv), goal
}

# speed R W: MiB/s of figure W in round R, or "" if it has none
function speed(r, w) {
	if (!((r, w, "ms") in f) || f[r, w, "ms"] <= 0)
		return ""
	return f[r, w, "mib"] * 1000 / f[r, w, "ms"]
}

# speed_ratios A B: v[1..nv] = speed of A / speed of B, round by round
function speed_ratios(wa, wb,    r, a, b) {
	nv = 0
	for (r = 1; r <= nr; r++) {
		a = speed(r, wa); b = speed(r, wb)
		if (a != "" && b != "" && b > 0)
			v[++nv] = a / b
	}
}

# speed_rows WS BS LS GS: a row per figure of WS ("|"-separated), its
# speed over that of the same place in BS, labelled LS, goal GS
function speed_rows(wl, bl, ll, gl,    w, b, l, g, n, k) {
	n = split(wl, w, "|")
	split(bl, b, "|"); split(ll, l, "|"); split(gl, g, "|")
	for (k = 1; k <= n; k++) {
		speed_ratios(w[k], b[k])
		row(l[k], g[k], "%.2f")
	}
}

/BENCH-ONLINE-INFO/ {
	sub(/.*BENCH-ONLINE-INFO /, "")
	info = $0
	next
}

/BENCH-ONLINE / {
	sub(/.*BENCH-ONLINE /, "")
	r = ""; w = ""
	for (i = 1; i <= NF; i++) {
		split($i, kv, "=")
		if (kv[1] == "round") r = kv[2]
		else if (kv[1] == "what") w = kv[2]
	}
	for (i = 1; i <= NF; i++) {
		split($i, kv, "=")
		if (kv[1] != "round" && kv[1] != "what")
			f[r, w, kv[1]] = kv[2] + 0
	}
	if (r > nr) nr = r
	next
}

/^not ok / { fails++ }

END {
	printf "bench-online, %s, %d s, %d host cores, status %d (%d failed checks)\n",
		date, elapsed, cores, rc, fails
	printf "  %s\n\n", info
	print "guest 4 KiB random reads, QD1, while the operation runs (during / before):"
	split("compact-busy:before-xvda:compaction commit-busy:before-xvdd:commit stream-busy:before-xvdf:stream", ops, " ")
	for (k = 1; k <= 3; k++) {
		split(ops[k], o, ":")
		nv = 0
		for (r = 1; r <= nr; r++)
			if ((r, o[2], "p99_us") in f && f[r, o[2], "p99_us"] > 0 &&
			    f[r, o[1], "runs"] > 0)
				v[++nv] = f[r, o[1], "p99_us"] / f[r, o[2], "p99_us"]
		row(o[3] ": p99 latency ratio", "goal <= 2", "%.2f")
		nv = 0
		for (r = 1; r <= nr; r++)
			if (f[r, o[1], "runs"] > 0)
				v[++nv] = f[r, o[1], "max_us"] / 1000
		row(o[3] ": highest completion during it, ms", "goal <= 100 (TCG)", "%.0f")
		nv = 0
		for (r = 1; r <= nr; r++)
			if ((r, o[2], "max_us") in f)
				v[++nv] = f[r, o[2], "max_us"] / 1000
		row(o[3] ": highest completion before it, ms", "", "%.0f")
		nv = 0
		for (r = 1; r <= nr; r++)
			if ((r, o[1], "held_us") in f)
				v[++nv] = f[r, o[1], "held_us"] / 1000
		row(o[3] ": longest image lock hold, ms", "", "%.1f")
	}
	print ""
	print "operation speed / sequential copy of the same bytes (dd, same disk):"
	speed_rows("compact-idle|compact-busy|commit-idle|commit-busy|stream-idle|stream-busy",
		   "seq-copy|seq-copy|seq-copy|seq-copy|seq-copy|seq-copy",
		   "compaction, guest idle|compaction, guest reading|commit, guest idle|commit, guest reading|stream, guest idle|stream, guest reading",
		   "goal >= 0.8||goal >= 0.8||goal >= 0.8|")
	nv = 0
	for (r = 1; r <= nr; r++)
		if ((b = speed(r, "seq-copy")) != "")
			v[++nv] = b
	row("(sequential copy, MiB/s)", "", "%.1f")
	print ""
	print "against the offline anchors on identical images (speed ours / theirs):"
	speed_rows("compact-idle|commit-idle|stream-idle",
		   "qemu-img-convert|qemu-img-commit|qemu-img-rebase",
		   "compaction, guest idle / qemu-img convert|commit, guest idle / qemu-img commit|stream, guest idle / qemu-img rebase",
		   "||")
}
