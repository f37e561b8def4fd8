#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Print the release of the kernel(s) splitkit builds against, chosen from the
# Debian linux-headers-*-amd64 packages installed on this machine.  The build
# host's own kernel (uname -r) is never used: it is usually not a Debian one.
#
#   kver.sh            newest installed headers (the default build target)
#   kver.sh --all      every installed amd64 headers release, oldest first
#   kver.sh --oldest   oldest one (Debian 12's stock 6.1 kernel)
#   kver.sh --image    newest release that also has /boot/vmlinuz-<release>
#                      and is the stock 6.1 line if present (used to boot
#                      the Xen-in-QEMU harness)
#   kver.sh --images   every release with headers and /boot/vmlinuz-<release>,
#                      oldest first

list_headers()
{
	for d in /usr/src/linux-headers-*-amd64; do
		[ -f "$d/Makefile" ] || continue
		r=${d#/usr/src/linux-headers-}
		case "$r" in
		*-cloud-amd64 | *-rt-amd64) continue ;;
		esac
		echo "$r"
	done | sort -V
}

all=$(list_headers)
if [ -z "$all" ]; then
	echo "kver.sh: no /usr/src/linux-headers-*-amd64 installed; run 'make deps'" >&2
	exit 1
fi

case "${1:-}" in
--all)
	echo "$all"
	;;
--oldest)
	echo "$all" | head -n 1
	;;
--image)
	for r in $all; do
		[ -f "/boot/vmlinuz-$r" ] && echo "$r"
	done | head -n 1
	;;
--images)
	for r in $all; do
		[ -f "/boot/vmlinuz-$r" ] && echo "$r"
	done
	;;
"")
	echo "$all" | tail -n 1
	;;
*)
	echo "usage: kver.sh [--all|--oldest|--image|--images]" >&2
	exit 2
	;;
esac
