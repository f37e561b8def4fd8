# SPDX-License-Identifier: GPL-2.0
#
# vbd-qcow2-destroy (domU half): write 4 KiB into the middle of every
# 64 KiB block of xvda, pass after pass, never stopping on its own; after
# every fourth write a flush (fsync of the block device: BLKIF_OP_FLUSH_
# DISKCACHE), then tell dom0 how far the writes it covers reached
# ("flushed" = PASS:BLOCK).  dom0 destroys the domain in the middle of
# this.  The data format is dom0.sh's.
#
# With sk.gaps=1 (gaps.cfg) it is the hostile test frontend instead
# (splitkit_hostile test=gaps, no other frontend): writes and reads whose
# segments leave gaps in their pages, each read back; its verdicts are
# relayed.

. /lib/splitkit/blk.sh

if [ "$(sk_cmdline sk.gaps)" = 1 ]; then
	sk_blk_hostile_test gaps
	return
fi

BLOCKS=128	# 64 KiB blocks of the 8 MiB disk

NL='
'

# qd_line PASS BLOCK: the 32-byte line (31 characters and a newline)
# that fills the 4 KiB written into BLOCK by PASS.
qd_line()
{
	printf 'g%09dj%09dk%010d' "$1" "$2" 0
}

sk_check "load $(sk_cmdline sk.front)" sk_blk_load_front
sk_check "/dev/xvda appeared" sk_wait_block /dev/xvda 30 || return
pass=1
while :; do
	j=0
	while [ "$j" -lt "$BLOCKS" ]; do
		# 128 copies of the line: 4 KiB
		b=$(qd_line "$pass" "$j")$NL
		b=$b$b; b=$b$b; b=$b$b; b=$b$b; b=$b$b; b=$b$b; b=$b$b
		printf '%s' "$b" >/tmp/qd-block
		dd if=/tmp/qd-block of=/dev/xvda bs=4096 count=1 \
		   seek=$((j * 16 + 4)) oflag=direct 2>/dev/null ||
			sk_fail "write pass $pass block $j"
		if [ $((j % 4)) -eq 3 ]; then
			dd if=/dev/zero of=/dev/xvda bs=4k count=0 \
			   conv=notrunc,fsync 2>/dev/null &&
				xenstore-write data/splitkit/guest/flushed \
					"$pass:$j" ||
				sk_fail "flush after pass $pass block $j"
		fi
		j=$((j + 1))
	done
	pass=$((pass + 1))
done
