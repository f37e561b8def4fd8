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
echo "1..2"
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
exit $rc
