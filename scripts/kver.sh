#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Print the release of the kernel(s) splitkit builds against, chosen from the
# Debian linux-headers-*-amd64 packages installed on this machine.  The build
# host's own kernel (uname -r) is never used: it is usually not a Debian one.
#
# A machine may keep older ABIs of a kernel line next to the one the
# metapackages point at (linux-headers-6.1.0-50-amd64 beside -57 after an
# upgrade), sometimes half removed.  Only complete header trees count (the
# arch directory's Makefile and the -common tree it includes), and each
# kernel line (major.minor: 6.1, 6.12) is represented by its newest ABI.
#
#   kver.sh            newest line's release (the default build target)
#   kver.sh --all      one release per line, oldest line first
#   kver.sh --oldest   oldest line's release (Debian 12's stock 6.1 kernel)
#   kver.sh --image    the oldest line's release that also has
#                      /boot/vmlinuz-<release> (the stock 6.1 kernel, booted
#                      by the Xen-in-QEMU harness)
#   kver.sh --images   per line, the newest release with headers and
#                      /boot/vmlinuz-<release>, oldest line first
#
# SPLITKIT_SRC_DIR and SPLITKIT_BOOT_DIR (default /usr/src and /boot) let the
# deps check run this against a made-up machine.

SRC=${SPLITKIT_SRC_DIR:-/usr/src}
BOOT=${SPLITKIT_BOOT_DIR:-/boot}

# complete_headers: every amd64 release whose header tree can build modules.
complete_headers()
{
	for d in "$SRC"/linux-headers-*-amd64; do
		[ -f "$d/Makefile" ] || continue
		r=${d#"$SRC"/linux-headers-}
		case "$r" in
		*-cloud-amd64 | *-rt-amd64) continue ;;
		esac
		[ -d "$SRC/linux-headers-${r%-amd64}-common" ] || continue
		echo "$r"
	done
}

# newest_per_line: reads releases, prints the newest of each major.minor,
# oldest line first.
newest_per_line()
{
	sort -V | awk -F. '{ line = $1 "." $2; last[line] = $0
			     if (!(line in seen)) { seen[line] = 1; order[n++] = line } }
			   END { for (i = 0; i < n; i++) print last[order[i]] }'
}

with_image()
{
	while read -r r; do
		[ -f "$BOOT/vmlinuz-$r" ] && echo "$r"
	done
}

all=$(complete_headers | newest_per_line)
if [ -z "$all" ]; then
	echo "kver.sh: no complete $SRC/linux-headers-*-amd64 installed; run 'make deps'" >&2
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
	r=$(complete_headers | with_image | newest_per_line | head -n 1)
	if [ -z "$r" ]; then
		echo "kver.sh: no release has both headers and $BOOT/vmlinuz-<release>" >&2
		exit 1
	fi
	echo "$r"
	;;
--images)
	complete_headers | with_image | newest_per_line
	;;
"")
	echo "$all" | tail -n 1
	;;
*)
	echo "usage: kver.sh [--all|--oldest|--image|--images]" >&2
	exit 2
	;;
esac
