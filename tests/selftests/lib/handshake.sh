# SPDX-License-Identifier: GPL-2.0
#
# Handshakes between dom0 and a guest, for splitkit's kselftest package and
# the Xen-in-QEMU harness alike (tests/xen/lib/common.sh sources this file
# and wraps each function as sk_hs_*).
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
#
# What is said goes through $SKT_HS_SAY (default skt_comment).

SKT_HS_DIR=data/splitkit

_skt_hs_say()
{
	${SKT_HS_SAY:-skt_comment} "$@"
}

# _skt_hs_poll SECONDS ALIVE-CMD PATH: print PATH's value once it exists;
# fail when ALIVE-CMD fails or SECONDS have passed.
_skt_hs_poll()
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

# skt_hs_send KEY [VALUE]: guest side; tell dom0 KEY (VALUE, default 1).
skt_hs_send()
{
	xenstore-write "$SKT_HS_DIR/guest/$1" "${2:-1}" &&
		_skt_hs_say "handshake: sent $1=${2:-1}"
}

# skt_hs_wait KEY [SECONDS]: guest side; wait until dom0 has sent KEY and
# print its value.
skt_hs_wait()
{
	_skt_hs_poll "${2:-600}" : "$SKT_HS_DIR/dom0/$1"
}

# skt_hs_got KEY: guest side; has dom0 sent KEY yet (no waiting)?
skt_hs_got()
{
	xenstore-read "$SKT_HS_DIR/dom0/$1" >/dev/null 2>&1
}

# skt_hs_home NAME: dom0 side; the handshake directory of domain NAME as
# it is now (its domid changes across xl save/restore).
skt_hs_home()
{
	local domid
	domid=$(xl domid "$1" 2>/dev/null) || {
		echo "handshake: no domain $1" >&2
		return 1
	}
	echo "/local/domain/$domid/$SKT_HS_DIR"
}

# skt_hs_send_to NAME KEY [VALUE]: dom0 side; tell domain NAME KEY.
skt_hs_send_to()
{
	local home
	home=$(skt_hs_home "$1") || return 1
	xenstore-write "$home/dom0/$2" "${3:-1}" &&
		_skt_hs_say "handshake: sent $2=${3:-1} to $1"
}

# skt_hs_wait_from NAME KEY [SECONDS]: dom0 side; wait until domain NAME
# has sent KEY and print its value.  Fails at once if NAME does not exist
# or goes away (it finished, crashed or was saved) before sending KEY.
skt_hs_wait_from()
{
	local home
	home=$(skt_hs_home "$1") || return 1
	# the domain's home goes away with the domain (or its saved copy)
	_skt_hs_poll "${3:-600}" "xenstore-exists ${home%/$SKT_HS_DIR}" \
		"$home/guest/$2"
}

# skt_hs_got_from NAME KEY: dom0 side; has domain NAME sent KEY yet (no
# waiting; for loops that also watch something else)?
skt_hs_got_from()
{
	local home
	home=$(skt_hs_home "$1" 2>/dev/null) &&
		xenstore-read "$home/guest/$2" >/dev/null 2>&1
}

# skt_xs_add_device TYPE DOMID: dom0 creates xenbus device 0 of TYPE for
# domain DOMID, as a toolstack would (xl knows only its own device types):
# the backend and frontend directories with their links, permissions (dom0
# owns the backend, which the guest may read; the guest owns the frontend,
# which dom0 may read) and state 1 (Initialising).  Linux probes a device
# as soon as its directory has a state of 1, and a probe that cannot read
# the other end, or cannot write its own state, fails for good; libxl
# writes everything in one transaction, the xenstore client cannot, so
# each state is written last, once both directories exist with their
# permissions (a node dom0 makes then inherits its directory's).
skt_xs_add_device()
{
	local fe=/local/domain/$2/device/$1/0
	local be=/local/domain/0/backend/$1/$2/0

	xenstore-write "$fe/backend" "$be" "$fe/backend-id" 0 &&
	xenstore-chmod -r "$fe" n"$2" r0 &&
	xenstore-write "$be/frontend" "$fe" "$be/frontend-id" "$2" \
		"$be/online" 1 &&
	xenstore-chmod -r "$be" n0 r"$2" &&
	xenstore-write "$be/state" 1 &&
	xenstore-write "$fe/state" 1 &&
	xenstore-chmod "$fe/state" n"$2" r0
}
