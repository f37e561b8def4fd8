# SPDX-License-Identifier: GPL-2.0
#
# The kernel's own bug reports, for runs on a kernel built with the bug
# finders (KASAN, KFENCE, lockdep, DEBUG_ATOMIC_SLEEP, kmemleak; 'make
# check-debug' boots such a kernel, scripts/debug-kernel.sh builds it).
# skt_kreport_mark remembers where the kernel log ends and forgets the leaks
# kmemleak knows of; skt_kreport_check then finds every report written
# since: a line matching SKT_KREPORT_RE in dmesg (with the 40 lines after it,
# where the report's body is) and every object kmemleak finds unreferenced
# after a scan.  On a kernel without the finders only the generic reports
# (BUG, WARNING, Oops) can appear, so the check still means something.

SKT_KREPORT_MARK=${SKT_KREPORT_MARK:-/tmp/skt-kreport-mark}
SKT_KREPORT_RE='BUG:|WARNING:|Oops|general protection|KASAN|KFENCE|UBSAN|kmemleak: [0-9]+ new suspected|possible circular locking|possible recursive locking|inconsistent lock state|suspicious RCU usage|sleeping function called from invalid context|DEBUG_LOCKS_WARN_ON|blocked for more than|refcount_t:|list_(add|del) corruption|ODEBUG:'

_skt_kmemleak=/sys/kernel/debug/kmemleak

# _skt_kreport_reset: forget the leaks kmemleak has found so far and
# remember where the kernel log ends.
_skt_kreport_reset()
{
	[ ! -w "$_skt_kmemleak" ] || echo clear >"$_skt_kmemleak"
	dmesg | wc -l >"$SKT_KREPORT_MARK"
}

# skt_kreport_clean [SINCE]: no line of the kernel log after line SINCE
# (default 0: all of it) matches SKT_KREPORT_RE; the matches are printed.
skt_kreport_clean()
{
	! skt_dmesg_since "${1:-0}" | grep -E "$SKT_KREPORT_RE"
}

# skt_kreport_mark: start counting reports from here.
skt_kreport_mark()
{
	[ ! -w "$_skt_kmemleak" ] || echo scan >"$_skt_kmemleak"
	_skt_kreport_reset
}

# skt_kreport_check: print the reports since skt_kreport_mark (at most 150
# lines) and fail if there is one; then mark again.
skt_kreport_check()
{
	local since leaks="" found

	since=$(cat "$SKT_KREPORT_MARK" 2>/dev/null || echo 0)
	if [ -w "$_skt_kmemleak" ]; then
		# a scan reports objects unreferenced since the one before:
		# two scans, so objects freed late are not counted
		echo scan >"$_skt_kmemleak"
		echo scan >"$_skt_kmemleak"
		leaks=$(cat "$_skt_kmemleak")
	fi
	found=$({
		skt_dmesg_since "$since" | grep -E -A 40 "$SKT_KREPORT_RE"
		[ -z "$leaks" ] || printf '%s\n' "$leaks"
	})
	# the scans above are the mark's scan too: only reset
	_skt_kreport_reset
	[ -n "$found" ] || return 0
	printf '%s\n' "$found" | head -n 150
	return 1
}

# skt_kreport_kernel: does this kernel have the bug finders (a kernel built
# by scripts/debug-kernel.sh, or any kernel with kmemleak)?
skt_kreport_kernel()
{
	case "$(uname -r)" in
	*-skdebug) return 0 ;;
	esac
	[ -e "$_skt_kmemleak" ]
}
