# SPDX-License-Identifier: GPL-2.0
#
# vbd-online-cut (domU half): prepares the four disks as vbd-online does
# (tests/xen/lib/online.sh), then writes the loop region of every disk
# pass after pass, never stopping on its own: 16 KiB blocks in a fixed
# scrambled order, each block of each disk filled with 32-byte lines
# naming the pass, the block and the disk (host.sh reads them back), one
# O_DIRECT write a block, the four disks in turn.  After each pass a
# flush of every disk (fsync of the block device: BLKIF_OP_FLUSH_
# DISKCACHE), then "flushed" = the pass: from then on dom0's power cut
# may not lose it.  dom0 says online-ready's meaning: the first pass is
# flushed.

. /lib/splitkit/online.sh

NL='
'
# 16 KiB blocks of the loop region
OC_BLOCKS=$((OL_MB * 64))

# oc_block PASS BLOCK DISK: /tmp/oc-block, 512 copies of the line
# (31 characters and a newline) for that block of that pass and disk.
oc_block()
{
	local b

	b=$(printf 'g%09dj%09dk%010d' "$1" "$2" "$3")$NL
	b=$b$b; b=$b$b; b=$b$b; b=$b$b; b=$b$b; b=$b$b; b=$b$b; b=$b$b; b=$b$b
	printf '%s' "$b" >/tmp/oc-block
}

# oc_pass PASS: one pass over every disk's loop region, then its flushes.
oc_pass()
{
	local i j k d

	i=0
	while [ "$i" -lt "$OC_BLOCKS" ]; do
		# 37 is prime to 128: every block once, scattered
		j=$(((i * 37) % OC_BLOCKS))
		k=0
		for d in $OG_ALL; do
			oc_block "$1" "$j" "$k"
			dd if=/tmp/oc-block of="/dev/$d" bs=16k count=1 \
			   seek=$((OL_OFF * 64 + j)) oflag=direct 2>/dev/null ||
				return 1
			k=$((k + 1))
		done
		i=$((i + 1))
	done
	for d in $OG_ALL; do
		dd if=/dev/zero of="/dev/$d" bs=4k count=0 conv=notrunc,fsync \
			2>/dev/null || return 1
	done
	xenstore-write data/splitkit/guest/flushed "$1"
}

sk_online_prepare || return
sk_check "first pass written and flushed on every disk" oc_pass 1 || return
sk_check "tell dom0" sk_hs_send online-ready
pass=2
while oc_pass "$pass"; do
	pass=$((pass + 1))
done
sk_fail "pass $pass failed"
