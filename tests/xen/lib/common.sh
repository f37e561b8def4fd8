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
# dom0 and a guest sequence each other through XenStore keys, never through
# sleeps.  The keys live in the guest's own data directory
# (/local/domain/<domid>/data, which libxl creates owned by the guest, so
# both sides read and write it): the guest writes data/splitkit/guest/KEY,
# dom0 writes data/splitkit/dom0/KEY.  The guest names its home with a
# relative path, so it keeps working after xl restore gave it a new domid;
# dom0 looks the domid up by domain name each time.  A wait never passes
# on its own: it ends when the key appears, and fails (saying why) when
# the peer is gone or SECONDS of wall-clock time have passed (a hang
# guard, default 600, never a sequencing device).  The guest side uses
# the xenstore client (xenstore-utils) on /dev/xen/xenbus.

SK_HS_DIR=data/splitkit

# _sk_hs_poll SECONDS ALIVE-CMD PATH: print PATH's value once it exists;
# fail when ALIVE-CMD fails or SECONDS have passed.
_sk_hs_poll()
{
	local deadline=$(($(date +%s) + $1)) alive=$2 path=$3 v
	while :; do
		if v=$(xenstore-read "$path" 2>/dev/null); then
			echo "$v"
			return 0
		fi
		if ! $alive; then
			echo "handshake: peer gone before $path was written" >&2
			return 1
		fi
		if [ "$(date +%s)" -ge "$deadline" ]; then
			echo "handshake: no $path after $1 s" >&2
			return 1
		fi
		sleep 1
	done
}

# sk_hs_send KEY [VALUE]: guest side; tell dom0 KEY (VALUE, default 1).
sk_hs_send()
{
	xenstore-write "$SK_HS_DIR/guest/$1" "${2:-1}" &&
		sk_comment "handshake: sent $1=${2:-1}"
}

# sk_hs_wait KEY [SECONDS]: guest side; wait until dom0 has sent KEY and
# print its value.
sk_hs_wait()
{
	_sk_hs_poll "${2:-600}" : "$SK_HS_DIR/dom0/$1"
}

# sk_hs_got KEY: guest side; has dom0 sent KEY yet (no waiting)?
sk_hs_got()
{
	xenstore-read "$SK_HS_DIR/dom0/$1" >/dev/null 2>&1
}

# sk_hs_home NAME: dom0 side; the handshake directory of domain NAME as it
# is now (its domid changes across xl save/restore).
sk_hs_home()
{
	local domid
	domid=$(xl domid "$1" 2>/dev/null) || {
		echo "handshake: no domain $1" >&2
		return 1
	}
	echo "/local/domain/$domid/$SK_HS_DIR"
}

# sk_hs_send_to NAME KEY [VALUE]: dom0 side; tell domain NAME KEY.
sk_hs_send_to()
{
	local home
	home=$(sk_hs_home "$1") || return 1
	xenstore-write "$home/dom0/$2" "${3:-1}" &&
		sk_comment "handshake: sent $2=${3:-1} to $1"
}

# sk_hs_wait_from NAME KEY [SECONDS]: dom0 side; wait until domain NAME
# has sent KEY and print its value.  Fails at once if NAME does not exist
# or goes away (it finished, crashed or was saved) before sending KEY.
sk_hs_wait_from()
{
	local home
	home=$(sk_hs_home "$1") || return 1
	# the domain's home goes away with the domain (or its saved copy)
	_sk_hs_poll "${3:-600}" "xenstore-exists ${home%/$SK_HS_DIR}" \
		"$home/guest/$2"
}

# sk_hs_got_from NAME KEY: dom0 side; has domain NAME sent KEY yet (no
# waiting; for loops that also watch something else)?
sk_hs_got_from()
{
	local home
	home=$(sk_hs_home "$1" 2>/dev/null) &&
		xenstore-read "$home/guest/$2" >/dev/null 2>&1
}
