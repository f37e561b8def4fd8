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
echo "1..3"
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

# sk_hvm_run: an HVM guest that triple-faulted before its first line (Xen
# says so in its log) is created once more, said in a comment; one that
# faulted after its first line, or twice, fails.  xl and the waits are
# stubs: each "xl create" plays the next of the attempts in $PLAY
# ("fault": no line, Xen's triple-fault line; "late": a first line, then
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
			ok)	printf "SKU: ok - it ran\nSKU: DONE\n" >"$log" ;;
			esac
			echo "$1" >"$SK_CONSOLE_DIR/play.$n" ;;
		domid)	echo $((n + 10)) ;;
		dmesg)	for f in "$SK_CONSOLE_DIR"/play.*; do
				k=${f##*.}
				case "$(cat "$f")" in fault|late)
					echo "(XEN) d$((k + 10))v0 Triple fault - invoking HVM shutdown action 1" ;;
				esac
			done ;;
		esac
	}
	echo "name = \"g\"" >"$SK_CONSOLE_DIR/g.cfg"
	sk_hvm_run "$SK_CONSOLE_DIR/g.cfg" 10
	echo "rc=$? creates=$n"' 2>&1
}
ok3=1
out=$(hvm_case "fault ok")
case "$out" in
*"triple-faulted before its first line"*"ok - domU g: it ran"*"rc=0 creates=2") ;;
*) ok3=0; echo "# fault then ok: $out" | tr '\n' ' '; echo ;;
esac
out=$(hvm_case "fault fault")
case "$out" in
*"not ok - domU g: ran to its end"*"rc=1 creates=2") ;;
*) ok3=0; echo "# fault twice: $out" | tr '\n' ' '; echo ;;
esac
out=$(hvm_case "late ok")
case "$out" in
*creates=2) ok3=0; echo "# late fault retried: $out" | tr '\n' ' '; echo ;;
*"not ok - domU g: ran to its end"*"rc=1 creates=1") ;;
*) ok3=0; echo "# late fault: $out" | tr '\n' ' '; echo ;;
esac
out=$(hvm_case "ok")
case "$out" in
*creates=2|*"triple"*) ok3=0; echo "# ok: $out" | tr '\n' ' '; echo ;;
*"ok - xl create g.cfg"*"ok - domU g: it ran"*"rc=0 creates=1") ;;
*) ok3=0; echo "# ok: $out" | tr '\n' ' '; echo ;;
esac
if [ "$ok3" = 1 ]; then
	echo "ok 3 sk_hvm_run creates an HVM guest once more only after an early triple fault"
else
	echo "not ok 3 sk_hvm_run creates an HVM guest once more only after an early triple fault"
	rc=1
fi
exit $rc
