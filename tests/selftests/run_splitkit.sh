#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# The package's own runner, for machines without a kernel tree's
# run_kselftest.sh (the Xen-in-QEMU harness's busybox dom0 and guests, or
# a host where only this directory was installed).  It runs the tests the
# way kselftest's runner does, with the same results: each test from its
# own directory under the 'settings' file's timeout, its output nested as
# "# " lines, then "ok N selftests: splitkit: <test>", "# SKIP" when the
# test exited 4, "not ok ... # TIMEOUT" or "# exit=<status>" otherwise.
#
# Usage: run_splitkit.sh [-l] [-t TEST]...
#   -t TEST   run TEST (a file name of this directory); repeatable.
#             Default: every test listed in tests.list.
#   -l        list the tests.
# kselftest_override_timeout=S (the variable kselftest's own runner reads)
# replaces the settings file's timeout: a harness whose own hang guard is
# longer (the Xen-in-QEMU harness, on a loaded host) sets it to that guard.
# Exit status: 0 when no test failed (skips are not failures), else 1.

here=$(cd "$(dirname "$0")" && pwd) || exit 1
collection=splitkit

tests=""
while [ $# -gt 0 ]; do
	case "$1" in
	-t) tests="$tests $2"; shift ;;
	-l) cat "$here/tests.list"; exit 0 ;;
	*) echo "usage: $0 [-l] [-t TEST]..." >&2; exit 2 ;;
	esac
	shift
done
[ -n "$tests" ] || tests=$(cat "$here/tests.list") || exit 1

timeout_s=45
if [ -r "$here/settings" ]; then
	t=$(sed -n 's/^timeout=\([0-9][0-9]*\)$/\1/p' "$here/settings")
	[ -n "$t" ] && timeout_s=$t
fi
case "${kselftest_override_timeout:-}" in
"") ;;
*[!0-9]*) echo "$0: kselftest_override_timeout '$kselftest_override_timeout' is not a number of seconds" >&2
	  exit 2 ;;
*) timeout_s=$kselftest_override_timeout ;;
esac

rcfile=$(mktemp) || exit 1
trap 'rm -f "$rcfile"' EXIT

echo "TAP version 13"
echo "1..$(echo $tests | wc -w)"
num=0
nfail=0
for t in $tests; do
	num=$((num + 1))
	name="selftests: $collection: $t"
	echo "# $name"
	if [ ! -x "$here/$t" ]; then
		echo "# no executable $t"
		echo "not ok $num $name"
		nfail=$((nfail + 1))
		continue
	fi
	# The status comes back through a file: the pipe that nests the
	# output would hide it.
	{
		(cd "$here" && timeout "$timeout_s" "./$t" </dev/null 2>&1)
		echo $? >"$rcfile"
	} | while IFS= read -r l; do
		echo "# $l"
	done
	rc=$(cat "$rcfile")
	case "$rc" in
	0) echo "ok $num $name" ;;
	4) echo "ok $num $name # SKIP" ;;
	124|137|143)
		echo "not ok $num $name # TIMEOUT $timeout_s seconds"
		nfail=$((nfail + 1)) ;;
	*)
		echo "not ok $num $name # exit=$rc"
		nfail=$((nfail + 1)) ;;
	esac
done
[ "$nfail" -eq 0 ]
