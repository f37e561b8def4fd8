#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The 'selftests' phase of make check, on the build host: checks the
# kselftest package itself (not splitkit, which the xen phase tests by
# running this package in dom0 and a guest).
#
#   make -C tests/selftests run_tests / install / emit_tests  (standalone)
#   each test run directly: exit 4 and "1..0 # SKIP" off Xen
#   tools/testing/selftests/splitkit in a kernel tree (Debian's
#   linux-source-6.1): kselftest's install, kselftest-list.txt and
#   run_kselftest.sh take the package as they take their own
#
# Prints flat KTAP; exits non-zero when a check fails.  This file is not
# part of the package (the Makefile installs tests.list's tests only).

set -u
HERE=$(cd "$(dirname "$0")" && pwd)
KSRC=${KSFT_LINUX_SOURCE:-/usr/src/linux-source-6.1.tar.xz}

n=0
nfail=0
ok() { n=$((n + 1)); echo "ok $n $*"; }
fail() { n=$((n + 1)); nfail=$((nfail + 1)); echo "not ok $n $*"; }
skip() { n=$((n + 1)); echo "ok $n $1 # SKIP $2"; }
# check DESC CMD...: one result; CMD's output as comments on failure.
check()
{
	local desc=$1 out
	shift
	if out=$("$@" 2>&1); then
		ok "$desc"
	else
		echo "$out" | tail -n 15 | sed 's/^/# /'
		fail "$desc"
	fi
}

tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
tests=$(cat "$HERE/tests.list")
ntests=$(echo $tests | wc -w)

echo "KTAP version 1"

on_xen=0
if [ "$(cat /sys/hypervisor/type 2>/dev/null)" = xen ] || [ -d /proc/xen ]; then
	on_xen=1
fi

# every listed test: an executable sh script with an SPDX line
well_formed()
{
	local t
	for t in $tests; do
		[ -x "$HERE/$t" ] || { echo "$t not executable"; return 1; }
		[ "$(head -n 1 "$HERE/$t")" = "#!/bin/sh" ] ||
			{ echo "$t: first line is not #!/bin/sh"; return 1; }
		grep -q '^# SPDX-License-Identifier: GPL-2.0' "$HERE/$t" ||
			{ echo "$t: no SPDX line"; return 1; }
		sh -n "$HERE/$t" || return 1
	done
}
check "every test in tests.list is a well-formed sh script" well_formed

# off Xen, each test skips: exit 4 and a KTAP skip plan
skips_here()
{
	local t out rc
	for t in $tests; do
		out=$(cd "$HERE" && "./$t" </dev/null 2>&1)
		rc=$?
		echo "$out" | grep -qx '1\.\.0 # SKIP .*' ||
			{ echo "$t printed: $out"; return 1; }
		[ "$rc" -eq 4 ] || { echo "$t exited $rc"; return 1; }
	done
}
if [ "$on_xen" -eq 1 ]; then
	skip "off Xen every test exits 4 with a KTAP skip" "the build host runs on Xen"
else
	check "off Xen every test exits 4 with a KTAP skip" skips_here
fi

# standalone run_tests: the runner's TAP, one skipped result per test
run_tests_standalone()
{
	local out
	out=$(make -s -C "$HERE" run_tests) || { echo "$out"; return 1; }
	echo "$out" | grep -qx 'TAP version 13' &&
		echo "$out" | grep -qx "1\.\.$ntests" || { echo "$out"; return 1; }
	[ "$(echo "$out" | grep -c '^ok [0-9]* selftests: splitkit: .* # SKIP$')" -eq "$ntests" ] ||
		{ echo "$out"; return 1; }
}
if [ "$on_xen" -eq 1 ]; then
	skip "make run_tests: $ntests tests, each skipped" "the build host runs on Xen"
else
	check "make run_tests: $ntests tests, each skipped" run_tests_standalone
fi

# the runner turns a failing test into "not ok" and its own exit status 1
runner_counts_failure()
{
	local out
	mkdir -p "$tmp/fake"
	cp -R "$HERE/run_splitkit.sh" "$HERE/settings" "$tmp/fake/"
	printf '#!/bin/sh\necho "TAP version 13"\necho "1..1"\necho "not ok 1 broken"\nexit 1\n' \
		>"$tmp/fake/broken.sh"
	chmod +x "$tmp/fake/broken.sh"
	echo broken.sh >"$tmp/fake/tests.list"
	if out=$("$tmp/fake/run_splitkit.sh"); then
		echo "runner exited 0: $out"
		return 1
	fi
	echo "$out" | grep -qx '# not ok 1 broken' &&
		echo "$out" | grep -qx 'not ok 1 selftests: splitkit: broken.sh # exit=1' ||
		{ echo "$out"; return 1; }
}
check "run_splitkit.sh reports a failing test and exits 1" runner_counts_failure

# kselftest_override_timeout replaces the settings file's timeout (the
# harness's hang guard is longer): a test outliving it is a TIMEOUT
runner_override_timeout()
{
	local out
	mkdir -p "$tmp/slow"
	cp -R "$HERE/run_splitkit.sh" "$tmp/slow/"
	echo "timeout=600" >"$tmp/slow/settings"
	printf '#!/bin/sh
echo "TAP version 13"
echo "1..1"
sleep 30
echo "ok 1 slow"
' \
		>"$tmp/slow/slow.sh"
	chmod +x "$tmp/slow/slow.sh"
	echo slow.sh >"$tmp/slow/tests.list"
	out=$(kselftest_override_timeout=1 "$tmp/slow/run_splitkit.sh")
	echo "$out" | grep -qx 'not ok 1 selftests: splitkit: slow.sh # TIMEOUT 1 seconds' ||
		{ echo "$out"; return 1; }
	out=$(kselftest_override_timeout=x "$tmp/slow/run_splitkit.sh" 2>&1) &&
		{ echo "a bad override was taken: $out"; return 1; }
	return 0
}
check "run_splitkit.sh: kselftest_override_timeout replaces the settings timeout" \
	runner_override_timeout

# The harness's sk_check is the package's skt_run_check: on the build host
# (as the scenarios' host.sh scripts use it) common.sh finds the package's
# library in the repository and reports both outcomes.
harness_check()
{
	local out
	out=$(HERE=$HERE/../xen SK_SELFTESTS= bash -c '
		. "$HERE/lib/common.sh" || exit 1
		sk_say() { echo "$*"; }
		sk_check "passes" true
		sk_check "fails" sh -c "echo why; exit 3"
		echo "status $?"') || { echo "$out"; return 1; }
	[ "$out" = "ok - passes
# why
# exit status 3: sh -c echo why; exit 3
not ok - fails
status 3" ] || { echo "$out"; return 1; }
}
check "tests/xen/lib/common.sh's sk_check is the package's skt_run_check" \
	harness_check

installs()
{
	local f
	make -s -C "$HERE" install INSTALL_PATH="$tmp/inst" || return 1
	for f in $tests lib/ktap.sh lib/ping.sh lib/handshake.sh lib/blk.sh \
		 lib/vbd.sh run_splitkit.sh tests.list settings config; do
		[ -e "$tmp/inst/$f" ] || { echo "missing $f"; return 1; }
	done
	grep -qx 'timeout=[0-9][0-9]*' "$tmp/inst/settings" ||
		{ echo "settings has no timeout="; return 1; }
	[ "$("$tmp/inst/run_splitkit.sh" -l | xargs)" = "$(echo $tests)" ]
}
check "make install INSTALL_PATH=... installs the package" installs

emits()
{
	[ "$(make -s -C "$HERE" emit_tests COLLECTION=splitkit | xargs)" = \
	  "$(for t in $tests; do printf 'splitkit:%s ' "$t"; done | xargs)" ]
}
check "make emit_tests lists splitkit:<test> for each test" emits

# The vbd suite's batched XenStore reads (lib/vbd.sh) against a made-up
# xenstore-ls -f: values in the order asked, an empty value kept, defaults
# (or nothing) for absent keys, no match in a subdirectory or a sibling
# with the same prefix, the -p form, and a directory that is not there.
xs_keys()
{
	local got want

	mkdir -p "$tmp/xsbin"
	cat >"$tmp/xsbin/xenstore-ls" <<-'EOF'
	#!/bin/sh
	[ "$1" = -f ] && [ "$2" = /be ] || exit 1
	echo '/be/state = "4"'
	echo '/be/feature-discard = ""'
	echo '/be/multi-queue-max-queues = "4"'
	echo '/be/q/queue-0 = "9"'
	echo '/bex/mode = "w"'
	EOF
	chmod +x "$tmp/xsbin/xenstore-ls"
	got=$(PATH="$tmp/xsbin:$PATH" sh -c '. "$1/lib/ktap.sh" &&
		. "$1/lib/vbd.sh" &&
		skt_vbd_xs_keys /be state feature-discard=1 queue-0=- mode \
			multi-queue-max-queues=1 absent=7 &&
		skt_vbd_xs_keys -p "backend 5" /be state absent=- &&
		skt_vbd_xs_keys /none state=3 &&
		skt_vbd_offers_seen /be' sh "$HERE")
	want=$(printf '%s\n' 4 '' - '' 4 7 'backend 5 state 4' \
		'backend 5 absent -' 3 '4 0 0 0 0 ')
	[ "$got" = "$want" ] || { printf 'got:\n%s\nwant:\n%s\n' "$got" "$want"; return 1; }
}
check "lib/vbd.sh reads XenStore keys with one xenstore-ls" xs_keys

# In a kernel tree, driven by kselftest's own Makefile and runner.
in_tree()
{
	local ks=$tmp/linux-source-6.1/tools/testing/selftests out
	tar -xJf "$KSRC" -C "$tmp" --wildcards \
		'linux-source-6.1/tools/testing/selftests/lib.mk' \
		'linux-source-6.1/tools/testing/selftests/Makefile' \
		'linux-source-6.1/tools/testing/selftests/kselftest/*' \
		'linux-source-6.1/tools/testing/selftests/run_kselftest.sh' \
		'linux-source-6.1/scripts/subarch.include' || return 1
	mkdir -p "$ks/splitkit"
	(cd "$HERE" && cp -R Makefile $tests lib run_splitkit.sh tests.list \
		settings config "$ks/splitkit/") || return 1
	make -s -C "$ks" TARGETS=splitkit install \
		INSTALL_PATH="$tmp/ksft" >/dev/null || return 1
	[ "$(grep -c '^splitkit:' "$tmp/ksft/kselftest-list.txt")" -eq "$ntests" ] ||
		{ cat "$tmp/ksft/kselftest-list.txt"; return 1; }
	out=$("$tmp/ksft/run_kselftest.sh" -c splitkit) || { echo "$out"; return 1; }
	echo "$out"
	[ "$(echo "$out" | grep -c '^ok [0-9]* selftests: splitkit: .* # SKIP$')" -eq "$ntests" ]
}
if [ ! -r "$KSRC" ]; then
	# make deps installs it: a missing input fails, never skips
	echo "# no $KSRC (make deps installs linux-source-6.1)"
	check "kselftest's install and run_kselftest.sh take the package" false
elif [ "$on_xen" -eq 1 ]; then
	skip "kselftest's install and run_kselftest.sh take the package" "the build host runs on Xen"
else
	check "kselftest's install and run_kselftest.sh take the package" in_tree
fi

echo "1..$n"
[ "$nfail" -eq 0 ]
