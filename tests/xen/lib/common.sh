# SPDX-License-Identifier: GPL-2.0
#
# Shell helpers for scenario scripts, sourced inside dom0 and inside domUs
# (busybox sh).  Every result line goes to the console with a prefix the
# outer side looks for: dom0 prints "SK: ..." on the Xen console, which the
# host reads from QEMU's serial output; a domU prints "SKU: ..." on its own
# console, which xenconsoled logs in dom0 and sk_domU_run turns into dom0
# results.  Results are KTAP-shaped: "ok - <what>" / "not ok - <what>".

SK_PREFIX=${SK_PREFIX:-SK:}

sk_say()
{
	echo "$SK_PREFIX $*" >/dev/console
}

sk_comment()
{
	sk_say "# $*"
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
# shown as comments when it fails.
sk_check()
{
	local desc=$1 out rc
	shift
	out=$("$@" 2>&1)
	rc=$?
	if [ "$rc" -eq 0 ]; then
		sk_ok "$desc"
	else
		echo "$out" | tail -n 20 | cut -c 1-200 | while IFS= read -r l; do
			sk_comment "$l"
		done
		sk_comment "exit status $rc: $*"
		sk_fail "$desc"
	fi
	return "$rc"
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

# --- Handshakes between dom0 and a guest --------------------------------
#
# The helpers live in the kselftest package (tests/selftests/lib/
# handshake.sh, installed in every image), so the harness's scenarios and
# the package's tests speak one protocol; see that file.  Here each is
# sk_hs_* and reports through sk_comment.

SKT_HS_SAY=sk_comment
# (absent where no domain runs: host.sh scripts source this file on the host)
if [ -r "${SK_SELFTESTS:-/lib/splitkit/selftests}/lib/handshake.sh" ]; then
	. "${SK_SELFTESTS:-/lib/splitkit/selftests}/lib/handshake.sh"
fi

sk_hs_send()		{ skt_hs_send "$@"; }
sk_hs_wait()		{ skt_hs_wait "$@"; }
sk_hs_got()		{ skt_hs_got "$@"; }
sk_hs_home()		{ skt_hs_home "$@"; }
sk_hs_send_to()		{ skt_hs_send_to "$@"; }
sk_hs_wait_from()	{ skt_hs_wait_from "$@"; }
sk_hs_got_from()	{ skt_hs_got_from "$@"; }
