#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# 'make check' phase xenlib: the Xen harness's shell libraries checked on
# the build host, before any QEMU boots.  A scenario calls helpers from
# tests/xen/lib/ and the selftests package's lib/; a helper renamed or
# removed in one place and still called in another is only found under
# Xen, and there it looks like a hang (a handshake never sent leaves the
# other side waiting: vbd-qcow2 lost sk_vbd_handshake that way).  Here
# every sk_* word a harness script uses outside comments and single-quoted
# strings must be defined as a function in one of them.  Prints KTAP.

TOP=$(cd "$(dirname "$0")/../.." && pwd)
cd "$TOP" || exit 1

scripts=$(ls tests/xen/lib/*.sh tests/xen/lib/dom0-init \
	     tests/xen/lib/domU-init tests/xen/scenarios/*/*.sh 2>/dev/null)
libs="$scripts $(ls tests/selftests/lib/*.sh)"

defined=$(sed -n 's/^[[:space:]]*\(sk_[A-Za-z0-9_]*\)[[:space:]]*().*/\1/p' \
	  $libs | sort -u)

echo "KTAP version 1"
echo "1..6"
missing=0
for f in $scripts; do
	for w in $(sed -e 's/#.*//' -e "s/'[^']*'//g" "$f" |
		   grep -o '\bsk_[A-Za-z0-9_]*' | sort -u); do
		echo "$defined" | grep -qx "$w" && continue
		echo "# $f calls $w, which no harness library defines"
		missing=$((missing + 1))
	done
done
rc=0
if [ "$missing" = 0 ]; then
	echo "ok 1 every sk_* helper the Xen harness calls is defined"
else
	echo "not ok 1 every sk_* helper the Xen harness calls is defined ($missing missing)"
	rc=1
fi

# sk_guard: a hang guard stretches to the scenario's kill time less 90 s
# (or the reserve given), never below what the caller asked for, and is
# what was asked without a deadline (a guest)
out=$(HERE=$TOP/tests/xen SK_SELFTESTS= busybox sh -c '
	. "$HERE/lib/common.sh" || exit 1
	now=$(date +%s)
	echo "$(SK_DEADLINE=$((now + 1000)) sk_guard 600)"
	echo "$(SK_DEADLINE=$((now + 100)) sk_guard 600)"
	echo "$(SK_DEADLINE= sk_guard 480)"
	echo "$(SK_DEADLINE=$((now + 1000)) sk_guard 60 45)"' 2>&1)
set -- $out
if [ $# -eq 4 ] && [ "$1" -ge 905 ] && [ "$1" -le 910 ] &&
   [ "$2" = 600 ] && [ "$3" = 480 ] && [ "$4" -ge 950 ] && [ "$4" -le 955 ]; then
	echo "ok 2 sk_guard stretches a hang guard to the scenario's deadline"
else
	echo "# got: $out"
	echo "not ok 2 sk_guard stretches a hang guard to the scenario's deadline"
	rc=1
fi

# sk_hvm_run: an HVM guest that ended in a triple fault (Xen says so in its
# log) with no fault of its own kernel on its console is created once more,
# said in a comment, up to three creates in all; one that oopsed first, or
# faulted a third time, fails, with its console lines and Xen's shown.  xl
# and the waits are stubs: each "xl create" plays the next of the attempts
# in $PLAY ("fault": no line, then Xen's triple-fault line; "late": a first
# line, then the fault; "oops": a first line, the guest kernel's oops, then
# the fault; "ok": the guest's results and end marker).
hvm_case()
{
	HERE=$TOP/tests/xen PLAY=$1 busybox sh -c '
	. "$HERE/lib/common.sh" && . "$HERE/lib/dom0lib.sh" || exit 1
	SK_CONSOLE_DIR=$(mktemp -d) || exit 1
	trap "rm -rf $SK_CONSOLE_DIR" EXIT
	sk_say() { echo "$*"; }
	sk_domU_wait() { return 0; }
	sk_console_open() { return 1; }
	n=0
	xl()
	{
		case "$1" in
		create)
			n=$((n + 1))
			set -- $PLAY
			shift $((n - 1))
			log=$SK_CONSOLE_DIR/guest-g.log
			case "$1" in
			fault)	: >"$log" ;;
			late)	echo "SKU: # domU scenario g" >"$log" ;;
			oops)	printf "SKU: # domU scenario g\nBUG: kernel NULL pointer dereference\n" >"$log" ;;
			ok)	printf "SKU: ok - it ran\nSKU: DONE\n" >"$log" ;;
			esac
			echo "$1" >"$SK_CONSOLE_DIR/play.$n" ;;
		domid)	echo $((n + 10)) ;;
		dmesg)	for f in "$SK_CONSOLE_DIR"/play.*; do
				k=${f##*.}
				case "$(cat "$f")" in fault|late|oops)
					echo "(XEN) d$((k + 10))v0 Triple fault - invoking HVM shutdown action 1" ;;
				esac
			done ;;
		esac
	}
	echo "name = \"g\"" >"$SK_CONSOLE_DIR/g.cfg"
	sk_hvm_run "$SK_CONSOLE_DIR/g.cfg" 10
	echo "rc=$? creates=$n"' 2>&1
}
# hvm_expect PLAY PATTERN: sk_hvm_run's output for PLAY matches PATTERN
hvm_expect()
{
	local out
	out=$(hvm_case "$1")
	case "$out" in
	$2) return 0 ;;
	esac
	echo "# $1: $out" | tr '\n' ' '
	echo
	return 1
}
ok3=1
hvm_expect "fault ok" '*triple-faulted*after 0 result lines*ok - domU g: it ran*rc=0 creates=2' || ok3=0
hvm_expect "late ok" '*triple-faulted*after 1 result lines*ok - domU g: it ran*rc=0 creates=2' || ok3=0
hvm_expect "fault late ok" '*ok - domU g: it ran*rc=0 creates=3' || ok3=0
hvm_expect "fault late fault ok" '*not ok - domU g: ran to its end*xen: (XEN) d13v0 Triple fault*rc=1 creates=3' || ok3=0
hvm_expect "oops ok" '*not ok - domU g: ran to its end*console: BUG: kernel NULL*rc=1 creates=1' || ok3=0
hvm_expect "ok" '*ok - xl create g.cfg*ok - domU g: it ran*rc=0 creates=1' || ok3=0
case "$(hvm_case ok)" in
*triple*|*console:*) ok3=0; echo "# ok: a clean run said more than its results" ;;
esac
if [ "$ok3" = 1 ]; then
	echo "ok 3 sk_hvm_run creates an HVM guest once more after a triple fault of the platform, not after its own kernel's fault, at most three times"
else
	echo "not ok 3 sk_hvm_run creates an HVM guest once more after a triple fault of the platform, not after its own kernel's fault, at most three times"
	rc=1
fi

# sk_platform_retry: a scenario's dom0 half (here "run") whose guest ended
# in a triple fault new in Xen's log, with no fault of the guest's own
# kernel on its console logs (the receiving domain's too) and before its
# end marker, runs once more, its held results turned into comments, up
# to three runs in all and only while the scenario has time for one more;
# the last run's results are shown as they are; a run that failed without
# a new triple fault, whose guest oopsed or had finished, is not run
# again; called with results already held it only runs CMD.  Each run
# plays the next of $PLAY ("fault": a result, then Xen's triple-fault
# line and a failure; "oops": the same with the guest kernel's BUG on its
# console, "oops-in": on the receiving domain's console, "done": with the
# guest's end marker; "fail": a failure alone; "ok": a pass); past the
# plays, "fail".  $PRE: shell run first (a deadline, a held outer run).
retry_case()
{
	HERE=$TOP/tests/xen PLAY=$1 PRE=${2:-:} busybox sh -c '
	. "$HERE/lib/common.sh" && . "$HERE/lib/dom0lib.sh" || exit 1
	SK_CONSOLE_DIR=$(mktemp -d) || exit 1
	trap "rm -rf $SK_CONSOLE_DIR" EXIT
	SK_CONSOLE=/dev/stdout SK_HELD_DIR=$SK_CONSOLE_DIR
	: >"$SK_CONSOLE_DIR/xen.log"
	xl()
	{
		[ "$1" = dmesg ] && cat "$SK_CONSOLE_DIR/xen.log"
	}
	run()
	{
		local n log=$SK_CONSOLE_DIR/guest-g.log
		n=$(($(cat "$SK_CONSOLE_DIR/runs" 2>/dev/null || echo 0) + 1))
		echo $n >"$SK_CONSOLE_DIR/runs"
		set -- $PLAY
		if [ "$n" -le $# ]; then shift $((n - 1)); else set -- fail; fi
		: >"$log"
		sk_ok "run $n began"
		case "$1" in
		oops)	echo "BUG: unable to handle page fault" >"$log" ;;
		oops-in) echo "BUG: unable to handle page fault" >"$SK_CONSOLE_DIR/guest-g--incoming.log" ;;
		done)	echo "SKU: DONE" >"$log" ;;
		esac
		case "$1" in
		fault|oops|oops-in|done)
			echo "(XEN) d$((n + 10))v1 Triple fault - invoking HVM shutdown action 1" >>"$SK_CONSOLE_DIR/xen.log"
			sk_fail "run $n migrated"
			return 1 ;;
		fail)	sk_fail "run $n migrated"
			return 1 ;;
		esac
		sk_ok "run $n migrated"
	}
	echo "(XEN) d3v0 Triple fault - invoking HVM shutdown action 1" >"$SK_CONSOLE_DIR/xen.log"
	eval "$PRE"
	sk_platform_retry g 3 run
	echo "rc=$? runs=$(cat "$SK_CONSOLE_DIR/runs")"
	ls "$SK_CONSOLE_DIR" | grep -q "^sk-held" && echo "held file left"' 2>&1
}
# retry_expect PLAY PATTERN [BAD [PRE]]: sk_platform_retry's output for
# PLAY (after PRE) matches PATTERN (and not BAD)
retry_expect()
{
	local out
	out=$(retry_case "$1" "${4:-}")
	case "$out" in
	$2) case "$out" in ${3:-"-no-"}|*"held file left"*) ;; *) return 0 ;; esac ;;
	esac
	echo "# $1: $out" | tr '\n' ' '
	echo
	return 1
}
ok4=1
retry_expect "fault ok" '*triple-faulted*d11v1 Triple fault*# faulted run: not ok - run 1 migrated*SK: ok - run 2 migrated*rc=0 runs=2' \
	'*SK: not ok*' || ok4=0
retry_expect "fault fault ok" '*d12v1*SK: ok - run 3 migrated*rc=0 runs=3' '*SK: not ok*' || ok4=0
retry_expect "fault fault fault ok" '*d12v1*SK: not ok - run 3 migrated*rc=1 runs=3' || ok4=0
retry_expect "oops ok" '*SK: not ok - run 1 migrated*rc=1 runs=1' '*triple-faulted*' || ok4=0
retry_expect "oops-in ok" '*SK: not ok - run 1 migrated*rc=1 runs=1' '*triple-faulted*' || ok4=0
retry_expect "done ok" '*SK: not ok - run 1 migrated*rc=1 runs=1' '*triple-faulted*' || ok4=0
retry_expect "fail ok" '*SK: not ok - run 1 migrated*rc=1 runs=1' '*triple-faulted*' || ok4=0
retry_expect "ok" 'SK: ok - run 1 began*SK: ok - run 1 migrated*rc=0 runs=1' '*#*' || ok4=0
retry_expect "fault ok" '*SK: not ok - run 1 migrated*rc=1 runs=1' '*triple-faulted*' \
	'SK_DEADLINE=1000; date() { if [ -f "$SK_CONSOLE_DIR/t" ]; then echo 994; else echo 990; : >"$SK_CONSOLE_DIR/t"; fi; }' || ok4=0
retry_expect "fault ok" 'SK: ok - run 1 began*SK: not ok - run 1 migrated*rc=1 runs=1' '*triple-faulted*' \
	'SK_SAY_TO=/dev/stdout' || ok4=0
if [ "$ok4" = 1 ]; then
	echo "ok 4 sk_platform_retry runs a migrating guest's scenario once more after a new triple fault of the platform, not after its own kernel's fault, its end or a plain failure, at most three times and while time is left"
else
	echo "not ok 4 sk_platform_retry runs a migrating guest's scenario once more after a new triple fault of the platform, not after its own kernel's fault, its end or a plain failure, at most three times and while time is left"
	rc=1
fi
# sk_boot_crash: a guest log with an oops whose module list is empty and
# no line of the guest's init is the platform's (the oops line printed);
# with a module named, with a line of the init before, without an oops, or
# empty, it is not.  The logs xenconsoled writes end their lines in CRLF.
crash_case()
{
	HERE=$TOP/tests/xen LOGTEXT=$1 busybox sh -c '
	. "$HERE/lib/common.sh" && . "$HERE/lib/dom0lib.sh" || exit 1
	f=$(mktemp) || exit 1
	printf "%b" "$LOGTEXT" >"$f"
	o=$(sk_boot_crash "$f")
	echo "rc=$? $o"
	rm -f "$f"' 2>&1
}
oops='[    3.777228] Oops: int3: 0000 [#1] PREEMPT SMP NOPTI\r\n[    3.777610] CPU: 0 PID: 0 Comm: swapper/0\r\n[    3.781553] Modules linked in:\r\n[    3.782342] Kernel panic - not syncing: Fatal exception in interrupt\r\n'
ok5=1
for c in "$oops|rc=0 *Oops: int3*" \
	 "$(echo "$oops" | sed 's/Modules linked in:/Modules linked in: splitkit_front splitkit_ring/')|rc=1 " \
	 "SKU: # domU 6.12 scenario vbd-ours\r\n$oops|rc=1 " \
	 "[    3.1] Modules linked in:\r\nSKU: ok - x\r\n|rc=1 " \
	 "[    3.1] Modules linked in:\r\n|rc=1 " \
	 "|rc=1 "; do
	out=$(crash_case "${c%|*}")
	case "$out" in
	${c##*|}) ;;
	*) echo "# case ${c##*|}: got $out"; ok5=0 ;;
	esac
done
if [ "$ok5" = 1 ]; then
	echo "ok 5 sk_boot_crash tells a guest kernel that died booting, before its init and with no module loaded, from a guest whose own code ran"
else
	echo "not ok 5 sk_boot_crash tells a guest kernel that died booting, before its init and with no module loaded, from a guest whose own code ran"
	rc=1
fi

# sk_blk_passes, read while sk_blk_verify_passes runs (fio stubbed: 150
# passes that pass, then one that fails): every read is a count that never
# goes back, until -1 once the failure is written.  A reader that saw the
# file half rewritten, or read it twice, once gave up a negotiate-ring
# wait ('verify_ok failed') on passes that all verified.
out=$(HERE=$TOP/tests/xen SK_SELFTESTS= timeout 300 busybox sh -c '
	. "$HERE/lib/common.sh" && . "$HERE/lib/blk.sh" || exit 1
	d=$(mktemp -d) || exit 1
	trap "rm -rf $d" EXIT
	sk_blk_fio()
	{
		n=$(($(cat "$d/calls" 2>/dev/null || echo 0) + 1))
		echo "$n" >"$d/calls"
		[ "$n" -le 150 ]
	}
	mkdir "$d/io"
	sk_blk_verify_passes xvda 64k 1 7 "$d/io" &
	loop=$! last=0 reads=0 bad=""
	while :; do
		alive=1
		kill -0 $loop 2>/dev/null || alive=0
		p=$(sk_blk_passes "$d/io")
		reads=$((reads + 1))
		[ "$p" = -1 ] && break
		case "$p" in
		""|*[!0-9]*) bad="read \"$p\" after $last"; break ;;
		esac
		[ "$p" -ge "$last" ] || { bad="read $p after $last"; break; }
		last=$p
		[ $alive = 1 ] || { bad="the loop ended at $p, no failure read"; break; }
	done
	wait
	echo "reads=$reads last=$last ${bad:-clean}"' 2>&1)
case "$out" in
*" last="[1-9]*" clean")
	echo "# $out"
	echo "ok 6 sk_blk_passes reads a count that only grows while the verify passes run, then -1 once one failed" ;;
*)
	echo "# got: $out"
	echo "not ok 6 sk_blk_passes reads a count that only grows while the verify passes run, then -1 once one failed"
	rc=1 ;;
esac
exit $rc
