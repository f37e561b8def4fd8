#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# make check phase "deps": scripts/deps.sh (what 'make deps', 'make check'
# and 'make demo' run first on a fresh machine) and scripts/kver.sh (which
# kernels the build and the harness use) in the machine states a new user
# may have.  Nothing here touches the real system: deps.sh runs against a
# stub apt-get, dpkg-query and id placed first in PATH, with its
# policy-rc.d moved into a scratch directory (SPLITKIT_POLICY_RC_D);
# kver.sh runs against made-up /usr/src and /boot trees.
#
#   stub dpkg-query  answers from $W/installed (one package a line)
#   stub apt-get     logs its arguments; 'install' checks that a
#                    policy-rc.d forbidding service starts is in force,
#                    then marks the packages installed (or fails on request)
#   stub id          says uid 0 unless STUB_UID is set
#
# Prints KTAP; exits non-zero if any check failed.

TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
W=$(mktemp -d /tmp/sk-deps-phase.XXXXXX)
trap 'rm -rf "$W"' EXIT

n=0
failed=0
result()	# result <0|1> <description>
{
	n=$((n + 1))
	if [ "$1" -eq 0 ]; then
		echo "ok $n $2"
	else
		echo "not ok $n $2"
		failed=$((failed + 1))
	fi
}
check()		# check <description> <command...>
{
	desc=$1
	shift
	if "$@" >"$W/check.log" 2>&1; then
		result 0 "$desc"
	else
		sed 's/^/# /' "$W/check.log" | tail -n 10
		result 1 "$desc"
	fi
}

# ---- stubs --------------------------------------------------------------

mkdir -p "$W/bin" "$W/sbin"
cat >"$W/bin/dpkg-query" <<'EOF'
#!/bin/sh
# dpkg-query -W -f='${Status}\n' PKG
for p; do pkg=$p; done
if grep -qx "$pkg" "$STUB_DIR/installed" 2>/dev/null; then
	echo "install ok installed"
	exit 0
fi
echo "dpkg-query: no packages found matching $pkg" >&2
exit 1
EOF
cat >"$W/bin/apt-get" <<'EOF'
#!/bin/sh
echo "apt-get $*" >>"$STUB_DIR/apt.log"
case "$1" in
update) exit 0 ;;
install) ;;
*) exit 100 ;;
esac
# what invoke-rc.d would ask while the packages are configured
if [ ! -x "$SPLITKIT_POLICY_RC_D" ]; then
	echo "stub apt-get: no policy-rc.d in force" >>"$STUB_DIR/apt.log"
	exit 100
fi
"$SPLITKIT_POLICY_RC_D" xenstored start
rc=$?
echo "policy answered $rc" >>"$STUB_DIR/apt.log"
[ "$rc" -eq 101 ] || exit 100
[ -z "${STUB_APT_FAIL:-}" ] || exit 100
for p; do
	case "$p" in
	-*|install) ;;
	*) echo "$p" >>"$STUB_DIR/installed" ;;
	esac
done
EOF
cat >"$W/bin/id" <<'EOF'
#!/bin/sh
echo "${STUB_UID:-0}"
EOF
chmod 755 "$W/bin/"*

# every package deps.sh installs, from the script itself
sed -n '/^PKGS="/,/^"/p' "$TOP/scripts/deps.sh" | sed '1d;$d' >"$W/all"
total=$(wc -l <"$W/all")

POLICY=$W/sbin/policy-rc.d
export STUB_DIR=$W SPLITKIT_POLICY_RC_D=$POLICY
# The harness's lean fio (scripts/fio-lean.sh), already built: every
# deps.sh run here finds it and builds nothing.
mkdir -p "$W/fio"
printf '#!/bin/sh\necho fio-3.33\n' >"$W/fio/fio"
chmod 755 "$W/fio/fio"
export SPLITKIT_FIO_DIR=$W/fio

# A made-up /usr/src and /boot with one 6.1 release, headers and image
# (kver.sh's, as deps.sh asks it whether each kernel line can boot).
mkdir -p "$W/ksrc/linux-headers-6.1.0-57-amd64" \
	"$W/ksrc/linux-headers-6.1.0-57-common" "$W/kboot"
: >"$W/ksrc/linux-headers-6.1.0-57-amd64/Makefile"
: >"$W/kboot/vmlinuz-6.1.0-57-amd64"


# deps [VAR=value...]: run deps.sh with the stubs; status in $W/rc.
deps()
{
	env PATH="$W/bin:$PATH" SPLITKIT_SRC_DIR="$W/ksrc" \
		SPLITKIT_BOOT_DIR="$W/kboot" "$@" sh "$TOP/scripts/deps.sh" \
		>"$W/out" 2>&1
	echo $? >"$W/rc"
}
fresh()		# fresh <installed-list-file|none>: a new machine state
{
	rm -f "$W/apt.log" "$POLICY" "$POLICY.splitkit-saved"
	if [ "$1" = none ]; then
		: >"$W/installed"
	else
		cp "$1" "$W/installed"
	fi
}
rc_is()		{ [ "$(cat "$W/rc")" -eq "$1" ]; }
installed_all()	{ sort "$W/all" | cmp -s - "$(sort -u "$W/installed" >"$W/s"; echo "$W/s")"; }
apt_installed()	# apt_installed <list-file>: install got exactly these
{
	grep '^apt-get install' "$W/apt.log" | tr ' ' '\n' |
		grep -v -e '^-' -e '^apt-get$' -e '^install$' | sort >"$W/got"
	sort "$1" | cmp -s - "$W/got"
}
no_apt()	{ [ ! -e "$W/apt.log" ]; }
say_out()	{ sed 's/^/# deps.sh: /' "$W/out" | tail -n 3; }

echo "KTAP version 1"

# 1. everything installed: nothing to do, exit 0 (make check's first step)
fresh "$W/all"
deps
check "all packages present: exit 0" rc_is 0
check "all packages present: apt-get not run" no_apt

# 2. fresh machine that already has a policy-rc.d answering 101 (most
#    container images): the old trap bug made this run exit 1
fresh none
printf '#!/bin/sh\n# image policy\nexit 101\n' >"$POLICY"
chmod 755 "$POLICY"
cp "$POLICY" "$W/policy.orig"
deps
say_out
check "pre-existing policy-rc.d: exit 0" rc_is 0
check "pre-existing policy-rc.d: every package installed" installed_all
check "pre-existing policy-rc.d: left as it was" cmp -s "$POLICY" "$W/policy.orig"

# 3. a pre-existing policy-rc.d that allows starts: ours replaces it while
#    apt runs, then it is put back
fresh none
printf '#!/bin/sh\nexit 0\n' >"$POLICY"
chmod 755 "$POLICY"
cp "$POLICY" "$W/policy.orig"
deps
check "permissive policy-rc.d: exit 0, services kept from starting" \
	sh -c "rc=\$(cat '$W/rc'); [ \$rc -eq 0 ] && grep -q 'policy answered 101' '$W/apt.log'"
check "permissive policy-rc.d: put back afterwards" cmp -s "$POLICY" "$W/policy.orig"

# 4. no policy-rc.d at all: one is in force during the install, gone after
fresh none
deps
check "no policy-rc.d: exit 0" rc_is 0
check "no policy-rc.d: one forbade starts during the install" \
	grep -q 'policy answered 101' "$W/apt.log"
check "no policy-rc.d: removed again" test ! -e "$POLICY"

# 5. packages half present: only the missing ones are asked for
fresh none
sed -n '1~2p' "$W/all" >"$W/installed"
sed -n '2~2p' "$W/all" >"$W/missing"
deps
check "half present: exit 0" rc_is 0
check "half present: apt-get installs exactly the missing ones" \
	apt_installed "$W/missing"

# 6. a second run right after: nothing left to do
rm -f "$W/apt.log"
deps
check "second run: exit 0 without apt-get" sh -c "[ \$(cat '$W/rc') -eq 0 ] && [ ! -e '$W/apt.log' ]"

# 7. 'make deps' itself (what 'make check' depends on) exits 0
fresh "$W/all"
env PATH="$W/bin:$PATH" make -s -C "$TOP" deps >"$W/out" 2>&1
echo $? >"$W/rc"
check "make deps with everything present: exit 0" rc_is 0

# 8. apt-get fails: the failure is the script's, our policy-rc.d is gone
fresh none
deps STUB_APT_FAIL=1
check "apt-get failure: non-zero exit" sh -c "[ \$(cat '$W/rc') -ne 0 ]"
check "apt-get failure: policy-rc.d removed" test ! -e "$POLICY"

# 9. not root with packages missing: a clear message, exit 1, no apt
fresh none
deps STUB_UID=1000
check "not root: exit 1" rc_is 1
check "not root: says what to run" grep -q "run 'make deps' as root" "$W/out"
check "not root: apt-get not run" no_apt

# 10. every package present, but the 6.1 headers are of a newer ABI than
#     the kernel image (an older point release's linux-image-amd64): the
#     image of the headers' ABI is installed
fresh "$W/all"
rm -f "$W/kboot/vmlinuz-6.1.0-57-amd64"
: >"$W/kboot/vmlinuz-6.1.0-50-amd64"
deps
say_out
check "headers newer than the image: exit 0" rc_is 0
check "headers newer than the image: their image installed" \
	grep -q '^apt-get install .* linux-image-6.1.0-57-amd64' "$W/apt.log"
rm -f "$W/kboot/vmlinuz-6.1.0-50-amd64"
: >"$W/kboot/vmlinuz-6.1.0-57-amd64"

# 11. no lean fio yet, root: deps.sh runs the build (a stub here, that
#     fails as an offline machine's would); a warning, still exit 0
printf '#!/bin/sh\n[ "$1" = --check ] && exit 1\n: >"%s/fio-built"\nexit 1\n' "$W" >"$W/fio-lean-stub"
fresh "$W/all"
deps SPLITKIT_FIO_DIR="$W/no-fio" SPLITKIT_FIO_LEAN="$W/fio-lean-stub"
check "no lean fio, root: the build runs" test -e "$W/fio-built"
check "no lean fio, root: its failure is a warning, exit 0" \
	sh -c "[ \$(cat '$W/rc') -eq 0 ] && grep -q 'warning: no lean fio' '$W/out'"

# 12. no lean fio, not root: how to build it, no build, exit 0
rm -f "$W/fio-built"
deps STUB_UID=1000 SPLITKIT_FIO_DIR="$W/no-fio" \
	SPLITKIT_FIO_LEAN="$W/fio-lean-stub"
check "no lean fio, not root: says how to build it, exit 0" \
	sh -c "[ \$(cat '$W/rc') -eq 0 ] && grep -q 'fio-lean.sh' '$W/out'"
check "no lean fio, not root: no build" test ! -e "$W/fio-built"

# ---- kver.sh on a machine with older kernel ABIs ---------------------------

# mkkernel <release> [noimage] [nocommon]: a header tree (and vmlinuz)
mkkernel()
{
	r=$1
	shift
	mkdir -p "$W/src/linux-headers-$r"
	echo "include ../linux-headers-${r%-amd64}-common/Makefile" \
		>"$W/src/linux-headers-$r/Makefile"
	case " $* " in *" nocommon "*) ;; *)
		mkdir -p "$W/src/linux-headers-${r%-amd64}-common" ;;
	esac
	mkdir -p "$W/boot"
	case " $* " in *" noimage "*) ;; *)
		: >"$W/boot/vmlinuz-$r" ;;
	esac
}
mkkernel 6.1.0-9-amd64
mkkernel 6.1.0-50-amd64
mkkernel 6.1.0-57-amd64
mkkernel 6.1.0-60-amd64 nocommon	# half removed: unusable
mkkernel 6.12.12+bpo-amd64 noimage
mkkernel 6.12.117+deb12-amd64
mkkernel 6.1.0-57-cloud-amd64
kver()
{
	SPLITKIT_SRC_DIR=$W/src SPLITKIT_BOOT_DIR=$W/boot \
		sh "$TOP/scripts/kver.sh" "$@" | xargs
}
say_kver() { echo "# kver.sh $1: $(kver "$1")"; }
say_kver --all
check "kver --all: newest complete ABI of each line" \
	test "$(kver --all)" = "6.1.0-57-amd64 6.12.117+deb12-amd64"
check "kver: default build target is the newest line" \
	test "$(kver)" = "6.12.117+deb12-amd64"
check "kver --image: the stock 6.1 line's newest ABI with a vmlinuz" \
	test "$(kver --image)" = "6.1.0-57-amd64"
check "kver --images: one bootable release per line" \
	test "$(kver --images)" = "6.1.0-57-amd64 6.12.117+deb12-amd64"
rm -rf "$W/src" "$W/boot"
mkdir -p "$W/src" "$W/boot"
SPLITKIT_SRC_DIR=$W/src sh "$TOP/scripts/kver.sh" >"$W/out" 2>&1
echo $? >"$W/rc"
check "kver: no headers at all is an error that names make deps" \
	sh -c "[ \$(cat '$W/rc') -ne 0 ] && grep -q 'make deps' '$W/out'"

echo "1..$n"
[ "$failed" -eq 0 ]
