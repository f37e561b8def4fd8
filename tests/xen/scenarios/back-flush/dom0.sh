# SPDX-License-Identifier: GPL-2.0
#
# back-flush (dom0 half): what splitkit_back acknowledged as flushed is in
# the backing file even if the guest dies at once.
#
#   dom0: /run/bfl.img <- splitkit_back ==blkif== splitkit_front :domU
#
# The domU writes the whole disk through its page cache (fio, seed 5),
# fsyncs the device (the frontend sends FLUSH_DISKCACHE), prints FLUSHED and
# keeps writing elsewhere; dom0 destroys it as soon as it sees FLUSHED and
# verifies the whole file with the same fio job.

. /lib/splitkit/blk.sh

img=/run/bfl.img
name=back-flush

sk_check "load splitkit_back (xen-blkback not loaded)" sk_blk_load_back ||
	return
rm -f "$img"
truncate -s 64M "$img"
rm -f "/var/log/xen/console/guest-$name.log"
sk_check "xl create domU.cfg" xl create domU.cfg || return
sk_check "domU acknowledged a flush" \
	sk_blk_console_wait "$name" '^SKU: # FLUSHED' 300
sk_check "xl destroy right after the flush" xl destroy "$name"
sk_check "domU gone" sk_blk_gone "$name" 30
sk_blk_relay "$name"
sk_check "backend device torn down" sk_blk_no_vbd 30
sk_check "flushed data is in the backing file (fio verify, seed 5)" \
	sk_blk_fio "$img" 5 verify
sk_check "splitkit_back holds no references" \
	test "$(cat /sys/module/splitkit_back/refcnt)" = 0
sk_check "rmmod splitkit_back" rmmod splitkit_back
sk_blk_dmesg_dump
sk_check "dmesg: no oops, warning or hung task" sk_blk_dmesg_clean
rm -f "$img"
