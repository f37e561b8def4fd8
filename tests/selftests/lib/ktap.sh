# SPDX-License-Identifier: GPL-2.0
#
# Shared by every test of splitkit's kselftest package (busybox sh or any
# POSIX sh): KTAP output, the skip rules (exit 4 when the machine is not
# the Xen domain a test needs, or splitkit's modules are absent), and
# module loading from an installed tree (modprobe) or from a directory of
# built .ko files (SPLITKIT_KO_DIR).  A test sources it as
# ". ./lib/ktap.sh" (kselftest's runner and ours start a test from its own
# directory), declares its plan with skt_plan, reports with skt_check /
# skt_ok / skt_fail / skt_skip and ends with skt_finish.

KSFT_PASS=0
KSFT_FAIL=1
KSFT_SKIP=4

skt_n=0
skt_nfail=0
skt_nskip=0
skt_planned=""
skt_started=0

skt_header()
{
	[ "$skt_started" -eq 1 ] && return
	echo "TAP version 13"
	skt_started=1
}

# skt_plan N: the number of results this test prints.
skt_plan()
{
	skt_header
	skt_planned=$1
	echo "1..$1"
}

skt_comment()
{
	echo "# $*"
}

skt_ok()
{
	skt_n=$((skt_n + 1))
	echo "ok $skt_n $*"
}

skt_fail()
{
	skt_n=$((skt_n + 1))
	skt_nfail=$((skt_nfail + 1))
	echo "not ok $skt_n $*"
}

# skt_skip DESC REASON: one result that was not run here (KTAP "# SKIP").
skt_skip()
{
	skt_n=$((skt_n + 1))
	skt_nskip=$((skt_nskip + 1))
	echo "ok $skt_n $1 # SKIP $2"
}

# skt_run_check OK FAIL SAY DESC CMD...: run CMD; report one result named
# DESC through the function OK or FAIL (each takes DESC), and when CMD
# fails its last 20 lines of output and its exit status through SAY (a
# comment).  The one run-and-report logic of the package's skt_check and
# the Xen-in-QEMU harness's sk_check (tests/xen/lib/common.sh, which
# sources this file).  Returns CMD's status.
skt_run_check()
{
	local ok=$1 fail=$2 say=$3 desc=$4 out rc
	shift 4
	out=$("$@" 2>&1)
	rc=$?
	if [ "$rc" -eq 0 ]; then
		$ok "$desc"
	else
		echo "$out" | tail -n 20 | cut -c 1-200 | while IFS= read -r l; do
			$say "$l"
		done
		$say "exit status $rc: $*"
		$fail "$desc"
	fi
	return "$rc"
}

# skt_check DESC CMD...: run CMD; one result named DESC.  CMD's output is
# shown as comments when it fails.  Returns CMD's status.
skt_check()
{
	skt_run_check skt_ok skt_fail skt_comment "$@"
}

# skt_skip_all REASON: nothing of this test can run here; exit 4.
skt_skip_all()
{
	skt_header
	echo "1..0 # SKIP $*"
	exit "$KSFT_SKIP"
}

# skt_finish: exit 0 if every planned result was printed and none failed.
# A test whose number of results depends on what it finds (vbd_guest.sh)
# calls skt_header instead of skt_plan; its plan comes last ("1..N").
skt_finish()
{
	[ -n "$skt_planned" ] || echo "1..$skt_n"
	if [ -n "$skt_planned" ] && [ "$skt_n" -ne "$skt_planned" ]; then
		skt_comment "planned $skt_planned results, printed $skt_n"
		exit "$KSFT_FAIL"
	fi
	skt_comment "totals: pass:$((skt_n - skt_nfail - skt_nskip)) fail:$skt_nfail skip:$skt_nskip"
	[ "$skt_nfail" -eq 0 ] || exit "$KSFT_FAIL"
	exit "$KSFT_PASS"
}

# --- where are we ----------------------------------------------------

skt_on_xen()
{
	[ "$(cat /sys/hypervisor/type 2>/dev/null)" = xen ] || [ -d /proc/xen ]
}

# dom0 says so in /proc/xen/capabilities (xenfs, mounted by Debian's
# xen-utils and by the harness's dom0).
skt_is_dom0()
{
	grep -qw control_d /proc/xen/capabilities 2>/dev/null
}

# skt_need_dom0: skip the whole test unless this is a Xen dom0.
skt_need_dom0()
{
	skt_on_xen || skt_skip_all "not running on Xen"
	skt_is_dom0 ||
		skt_skip_all "not dom0 (no control_d in /proc/xen/capabilities; is xenfs mounted?)"
}

# skt_need_domU: skip the whole test unless this is a Xen guest.
skt_need_domU()
{
	skt_on_xen || skt_skip_all "not running on Xen"
	skt_is_dom0 && skt_skip_all "this is dom0; run this test in a guest"
	[ -d /sys/bus/xen/devices ] || skt_skip_all "no xenbus frontend bus"
}

# skt_need_cmds CMD...: skip unless every command is on PATH.
skt_need_cmds()
{
	local c
	for c in "$@"; do
		command -v "$c" >/dev/null 2>&1 || skt_skip_all "no '$c' on PATH"
	done
}

# --- modules ---------------------------------------------------------

# skt_ko NAME: the NAME.ko file under $SPLITKIT_KO_DIR (searched
# recursively: a build tree or a flat directory), if any; one built for
# the running kernel (its vermagic) when the tree holds builds for several.
skt_ko()
{
	local f files first=""
	[ -n "${SPLITKIT_KO_DIR:-}" ] || return 1
	files=$(find "$SPLITKIT_KO_DIR" -name "$1.ko" 2>/dev/null)
	# one candidate: no need to read it (a module built with debug
	# information is megabytes, slow to scan in an emulated guest)
	if [ "$(echo "$files" | grep -c .)" -eq 1 ]; then
		echo "$files"
		return 0
	fi
	for f in $files; do
		[ -n "$first" ] || first=$f
		if tr '\0' '\n' <"$f" | grep -q "^vermagic=$(uname -r) "; then
			echo "$f"
			return 0
		fi
	done
	[ -n "$first" ] && echo "$first"
}

skt_loaded()
{
	[ -d "/sys/module/$(echo "$1" | tr - _)" ]
}

# skt_have_module NAME: loaded, in SPLITKIT_KO_DIR, or installed.
skt_have_module()
{
	skt_loaded "$1" || skt_ko "$1" >/dev/null ||
		modinfo "$1" >/dev/null 2>&1
}

# skt_need_modules NAME...: skip the whole test unless each is available.
skt_need_modules()
{
	local m
	for m in "$@"; do
		skt_have_module "$m" ||
			skt_skip_all "module $m not found (make install, or set SPLITKIT_KO_DIR to the directory of the built .ko files)"
	done
}

# skt_ko_depends FILE: the module names FILE's modinfo says it depends on,
# read from the file itself (SPLITKIT_KO_DIR has no modules.dep): kmod's
# modinfo reads the .modinfo section; where modinfo is busybox's (it
# knows modules.dep only) the whole file is scanned, which costs seconds
# for a megabyte module in an emulated guest.
skt_ko_depends()
{
	local deps

	if deps=$(modinfo -F depends "$1" 2>/dev/null); then
		echo "$deps" | tr ',' ' '
		return 0
	fi
	tr '\0' '\n' <"$1" | sed -n 's/^depends=//p' | tr ',' ' '
}

# skt_load NAME [PARAM=VALUE...]: load NAME (with its dependencies) unless
# it is loaded.  From SPLITKIT_KO_DIR when it holds NAME.ko, else modprobe.
skt_load()
{
	local name=$1 ko dep
	shift
	skt_loaded "$name" && return 0
	if ko=$(skt_ko "$name"); then
		for dep in $(skt_ko_depends "$ko"); do
			skt_load "$dep" || return 1
		done
		insmod "$ko" "$@"
	else
		modprobe "$name" "$@"
	fi
}

# skt_unload NAME: unload NAME; fails if it stays loaded.
skt_unload()
{
	rmmod "$1" && ! skt_loaded "$1"
}

# skt_wait SECONDS CMD...: retry CMD about every second until it succeeds,
# for at most SECONDS of wall-clock time (a bound, never a sequencing
# device: the condition is what the test waits for).  Gives up early when
# $SKT_ALIVE (a command) is set and fails; runs $SKT_PROGRESS (a command)
# every 30 s, if set.
skt_wait()
{
	local end next now
	end=$(($(date +%s) + $1))
	next=$(($(date +%s) + 30))
	shift
	while ! "$@"; do
		now=$(date +%s)
		[ "$now" -lt "$end" ] || return 1
		if [ -n "${SKT_ALIVE:-}" ] && ! $SKT_ALIVE; then
			echo "gave up: $SKT_ALIVE failed"
			return 1
		fi
		if [ -n "${SKT_PROGRESS:-}" ] && [ "$now" -ge "$next" ]; then
			$SKT_PROGRESS
			next=$((now + 30))
		fi
		sleep 1
	done
}

# skt_write_timeout SECONDS VALUE FILE: write to a sysfs file, bounded, so
# a teardown that hangs fails the check instead of the test.
skt_write_timeout()
{
	timeout "$1" sh -c "echo '$2' >'$3'"
}

# skt_no_irqs NAME: no IRQ named NAME left in /proc/interrupts.
skt_no_irqs()
{
	if grep -q "$1" /proc/interrupts; then
		grep "$1" /proc/interrupts
		return 1
	fi
}

# skt_dmesg_since N: the kernel log after its first N lines (N from an
# earlier 'dmesg | wc -l'; 0 or empty: all of it).
skt_dmesg_since()
{
	dmesg | sed -n "$((${1:-0} + 1)),\$p"
}
