#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Run splitkit's unit-test binaries and fuzzers and merge their results into
# one flat KTAP stream: every test case becomes one top-level result named
# "<binary>: <case>".  A binary that crashes or exits non-zero with all its
# cases passing, or that prints fewer results than its plan, gets a failing
# result of its own, so a sanitizer abort can never pass silently.
#
# Arguments: unit-test binaries, and fuzz:<binary>=<corpus dir or empty>.

set -u

FUZZ_RUNS=${FUZZ_RUNS:-20000}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

n=0
emit()
{
	n=$((n + 1))
	echo "$1 $n $2" >>"$tmp/results"
}

run_unit()
{
	bin=$1
	name=$(basename "$bin")
	"$bin" >"$tmp/out" 2>&1
	rc=$?
	planned=$(sed -n 's/^1\.\.\([0-9]*\)$/\1/p' "$tmp/out" | head -n 1)
	seen=0
	bad=0
	while IFS= read -r line; do
		case "$line" in
		"ok "*)
			seen=$((seen + 1))
			emit ok "$name: ${line#ok [0-9]* }"
			;;
		"not ok "*)
			seen=$((seen + 1)); bad=$((bad + 1))
			emit "not ok" "$name: ${line#not ok [0-9]* }"
			;;
		"#"*)
			echo "$line" >>"$tmp/results"
			;;
		esac
	done <"$tmp/out"
	if [ "$rc" -ne 0 ] && [ "$bad" -eq 0 ] ||
	   [ "${planned:-0}" -ne "$seen" ] || [ "$seen" -eq 0 ]; then
		tail -n 30 "$tmp/out" | sed 's/^/# /' >>"$tmp/results"
		emit "not ok" "$name: exit status $rc, $seen of ${planned:-?} results"
	fi
}

run_fuzz()
{
	spec=${1#fuzz:}
	bin=${spec%%=*}
	corpus=${spec#*=}
	name=$(basename "$bin")
	work=$tmp/corpus-$name
	mkdir -p "$work"
	# libFuzzer writes new inputs into the first directory: keep the
	# repository's seed corpus read-only by passing it second.
	if [ -n "$corpus" ] && [ -d "$corpus" ]; then
		set -- "$work" "$corpus"
	else
		set -- "$work"
	fi
	if (cd "$tmp" && "$bin" -runs="$FUZZ_RUNS" -seed=1 "$@") \
	    >"$tmp/out" 2>&1; then
		emit ok "fuzz $name: $FUZZ_RUNS inputs"
	else
		tail -n 40 "$tmp/out" | sed 's/^/# /' >>"$tmp/results"
		emit "not ok" "fuzz $name: crash or sanitizer report"
	fi
}

: >"$tmp/results"
for arg in "$@"; do
	case "$arg" in
	fuzz:*) run_fuzz "$arg" ;;
	*) run_unit "$arg" ;;
	esac
done

echo "KTAP version 1"
echo "1..$n"
cat "$tmp/results"
! grep -q '^not ok ' "$tmp/results"
