# SPDX-License-Identifier: GPL-2.0
#
# Runs tests of splitkit's kselftest package (tests/selftests, installed by
# run.sh into both images under /lib/splitkit/selftests) inside dom0 or a
# domU, and flattens the runner's nested KTAP into this harness's results
# (sk_ok / sk_fail / sk_comment, so "SK:" in dom0 and "SKU:" in a guest):
#
#   run_splitkit.sh                      here
#   # selftests: splitkit: T             (the test being run)
#   # ok N desc / # not ok N desc        T: desc
#   # # text                             comment "T: text"
#   ok N selftests: splitkit: T          T: exited 0
#   ok N ... # SKIP / not ok N ...       not ok "T: exited 0": in the
#                                        harness every test must run
#
# A subtest skipped inside a test fails here too, for the same reason.

SK_SELFTESTS=${SK_SELFTESTS:-/lib/splitkit/selftests}

# sk_selftests TEST...: run the tests (file names of the package), with
# SPLITKIT_KO_DIR set to the image's module directory, each under the
# time the scenario has left less 45 s (in dom0: later than the guest
# guards inside the test, sk_guard's 90, earlier than the scenario's
# kill; 1500 s in a guest, whose life dom0 bounds) instead of the
# package's settings timeout, which a loaded host can outlast.  Returns
# non-zero if any result failed or a test printed no final result.
sk_selftests()
{
	local t args="" want=$# rc to=1500
	[ -z "${SK_DEADLINE:-}" ] || to=$(sk_guard 60 45)
	if [ ! -x "$SK_SELFTESTS/run_splitkit.sh" ]; then
		sk_fail "kselftest package installed in $SK_SELFTESTS"
		return 1
	fi
	for t in "$@"; do
		args="$args -t $t"
	done
	SPLITKIT_KO_DIR=${SPLITKIT_KO_DIR:-/lib/modules} \
	kselftest_override_timeout=$to \
		"$SK_SELFTESTS/run_splitkit.sh" $args 2>&1 |
		_sk_selftests_flatten "$want"
	rc=$?
	return $rc
}

# _sk_selftests_flatten N: read the runner's output; expect N tests.
_sk_selftests_flatten()
{
	local line cur="" ntop=0 nbad=0 d
	while IFS= read -r line; do
		case "$line" in
		"# selftests: splitkit: "*)
			cur=${line#\# selftests: splitkit: } ;;
		"# ok "*"# SKIP"*)
			d=${line#\# ok }
			nbad=$((nbad + 1))
			d=${d#* }
			sk_fail "$cur: ${d%% # SKIP*} (skipped: ${d#*# SKIP})" ;;
		"# ok "*)
			d=${line#\# ok }
			sk_ok "$cur: ${d#* }" ;;
		"# not ok "*)
			d=${line#\# not ok }
			nbad=$((nbad + 1))
			sk_fail "$cur: ${d#* }" ;;
		"# # "*)
			sk_comment "$cur: ${line#\# \# }" ;;
		"# TAP version"*|"# KTAP version"*|"# 1.."*)
			case "$line" in
			*"# SKIP"*) sk_comment "$cur: ${line#\# }" ;;
			esac ;;
		"# "*)
			sk_comment "$cur: ${line#\# }" ;;
		"ok "*"# SKIP"*)
			ntop=$((ntop + 1))
			nbad=$((nbad + 1))
			sk_fail "$cur: ran (it skipped, exit 4)" ;;
		"ok "*)
			ntop=$((ntop + 1))
			sk_ok "$cur: exited 0" ;;
		"not ok "*)
			ntop=$((ntop + 1))
			nbad=$((nbad + 1))
			sk_fail "$cur: exited 0 (${line##*# })" ;;
		esac
	done
	if [ "$ntop" -ne "$1" ]; then
		sk_fail "kselftest runner reported all $1 tests (got $ntop)"
		return 1
	fi
	[ "$nbad" -eq 0 ]
}
