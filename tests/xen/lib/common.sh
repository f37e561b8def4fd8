# SPDX-License-Identifier: GPL-2.0
#
# Shell helpers for scenario scripts, sourced inside dom0 and inside domUs
# (busybox sh).  Every result line goes to the console with a prefix the
# outer side looks for: dom0 prints "SK: ..." on the Xen console, which the
# host reads from QEMU's serial output; a domU prints "SKU: ..." on its own
# console, which xenconsoled logs in dom0 and sk_domU_run turns into dom0
# results.  Results are KTAP-shaped: "ok - <what>" / "not ok - <what>".

SK_PREFIX=${SK_PREFIX:-SK:}
SK_CONSOLE=${SK_CONSOLE:-/dev/console}

# sk_say TEXT: one line on the console, or appended to the file SK_SAY_TO
# names while a run's results are held back (sk_platform_retry).
sk_say()
{
	echo "$SK_PREFIX $*" >>"${SK_SAY_TO:-$SK_CONSOLE}"
}

sk_comment()
{
	sk_say "# $*"
}

# sk_guard SECONDS [RESERVE]: a hang guard for a wait inside a scenario,
# to pass where a wait takes its bound: SECONDS, or longer, up to the
# scenario's own kill time (SK_DEADLINE, set by dom0's init) less RESERVE
# (default 90) s to report what hung.  A loaded host slows the emulated
# machine several times over; a wait whose guard fires while the scenario
# still has time would fail a test for being slow.  Only for pure hang
# guards, computed just before the wait: a wait kept short on purpose
# (a grace period, time kept for later checks) passes its own number.
# Where SK_DEADLINE is not known (a guest), SECONDS.
sk_guard()
{
	local left
	[ -n "${SK_DEADLINE:-}" ] || { echo "$1"; return; }
	left=$((SK_DEADLINE - $(date +%s) - ${2:-90}))
	[ "$left" -gt "$1" ] && echo "$left" || echo "$1"
}

sk_ok()
{
	sk_say "ok - $*"
}

sk_fail()
{
	sk_say "not ok - $*"
}

# sk_check DESC CMD...: run CMD; one result named DESC.  CMD's output is
# shown as comments when it fails.  Returns CMD's status.  The logic is
# the kselftest package's skt_run_check (sourced below).
sk_check()
{
	skt_run_check sk_ok sk_fail sk_comment "$@"
}

# sk_insmod NAME [PARAM=VALUE...]: load module NAME with its dependencies,
# in the order the image builder recorded in /lib/modules/sk.order, then
# NAME itself with the parameters.  A dependency that does not load is
# skipped (soft dependencies such as crc32c-intel need a CPU feature
# QEMU's CPU may lack); NAME itself must load.
sk_insmod()
{
	local name=$1 line pair mod file last
	shift
	line=$(grep "^$name " /lib/modules/sk.order | head -n 1)
	if [ -z "$line" ]; then
		echo "sk_insmod: $name is not in this image" >&2
		return 1
	fi
	last=${line##* }
	for pair in ${line#* }; do
		mod=${pair%%:*}
		file=${pair#*:}
		[ -d "/sys/module/$mod" ] && continue
		if [ "$pair" = "$last" ]; then
			insmod "/lib/modules/$file" "$@" || return 1
		else
			insmod "/lib/modules/$file" 2>/dev/null
		fi
	done
}

# sk_back_params: splitkit_back's module parameters for this run, as
# separate words for sk_insmod (XEN_BACK_PARAMS of tests/xen/run.sh, on
# dom0's command line as sk.backparams=a=1:b=2); nothing if none.
sk_back_params()
{
	sk_cmdline sk.backparams | tr : ' '
}

# sk_modprobe NAME...: sk_insmod each NAME, without parameters.
sk_modprobe()
{
	local name
	for name in "$@"; do
		sk_insmod "$name" || return 1
	done
}

# sk_wait_block DEV [SECONDS]: wait (default 60 s of wall-clock time) for
# block device DEV to appear, as it does once a frontend has connected.
sk_wait_block()
{
	local deadline=$(($(date +%s) + ${2:-60}))
	while [ ! -b "$1" ] && [ "$(date +%s)" -lt "$deadline" ]; do
		sleep 1
	done
	test -b "$1"
}

# sk_cmdline KEY: value of KEY=value on the kernel command line.
sk_cmdline()
{
	local w
	for w in $(cat /proc/cmdline); do
		case "$w" in
		"$1"=*) echo "${w#*=}"; return 0 ;;
		esac
	done
	return 1
}

# --- The kselftest package's library -----------------------------------
#
# The checks' run-and-report logic (skt_run_check, lib/ktap.sh), the
# handshakes between dom0 and a guest (lib/handshake.sh) and what the
# package's tests share with the scenarios (lib/blk.sh, lib/vbd.sh) live
# in the kselftest package (tests/selftests), so the harness and the
# package speak one protocol and report one way.  The package is installed
# in every image under /lib/splitkit/selftests; on the build host (the
# scenarios' host.sh scripts set HERE to tests/xen) the repository's copy
# is used.  What the package says goes through sk_comment here.

SKT_SAY=sk_comment
SKT_HS_SAY=sk_comment
if [ -z "${SK_SELFTESTS:-}" ]; then
	SK_SELFTESTS=/lib/splitkit/selftests
	[ -r "$SK_SELFTESTS/lib/ktap.sh" ] || [ -z "${HERE:-}" ] ||
		SK_SELFTESTS=$HERE/../selftests
fi
if [ ! -r "$SK_SELFTESTS/lib/ktap.sh" ]; then
	echo "common.sh: no kselftest package library in $SK_SELFTESTS/lib" >&2
	return 1
fi
. "$SK_SELFTESTS/lib/ktap.sh"
. "$SK_SELFTESTS/lib/handshake.sh"
. "$SK_SELFTESTS/lib/kreport.sh"

# Handshakes (see lib/handshake.sh), as sk_hs_*.
sk_hs_send()		{ skt_hs_send "$@"; }
sk_hs_wait()		{ skt_hs_wait "$@"; }
sk_hs_got()		{ skt_hs_got "$@"; }
sk_hs_home()		{ skt_hs_home "$@"; }
sk_hs_send_to()		{ skt_hs_send_to "$@"; }
sk_hs_wait_from()	{ skt_hs_wait_from "$@"; }
sk_hs_got_from()	{ skt_hs_got_from "$@"; }

# sk_kreport_check WHO: on a debug kernel (lib/kreport.sh), one result: no
# kernel report (KASAN, KFENCE, lockdep, atomic sleep, kmemleak, BUG,
# WARNING) since the last check.  Nothing on other kernels.
sk_kreport_check()
{
	skt_kreport_kernel || return 0
	sk_check "$1: no kernel report (KASAN, KFENCE, lockdep, kmemleak, BUG, WARNING)" \
		skt_kreport_check
}
