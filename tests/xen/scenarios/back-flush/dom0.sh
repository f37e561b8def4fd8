# SPDX-License-Identifier: GPL-2.0
#
# back-flush (dom0 half): what splitkit_back acknowledged as flushed
# survives a power cut (needs word "powercut", tests/xen/lib/powercut.sh).
#
#   host: build/xen/<kver>/powercut.img     (QEMU, cache=none, 512 B sectors)
#     dom0: /dev/vdX, ext4, /mnt/powercut/disk.img     (sparse, 32 MiB)
#       splitkit_back, direct I/O    ==blkif==  splitkit_front xvda :domU
#   host: build/xen/<kver>/powercut-4k.img  (QEMU, cache=none, 4 KiB sectors)
#     dom0: /dev/vdY, ext4, /mnt/powercut-4k/disk.img  (sparse, 32 MiB)
#       splitkit_back, buffered I/O  ==blkif==  splitkit_front xvdb :domU
#
# Both files are sparse, so nothing the guest writes is durable without a
# flush: on the 512-byte disk splitkit_back writes with O_DIRECT and the
# blocks it allocates are ext4 metadata in dom0's journal; on the 4 KiB
# disk (too coarse for splitkit_back's O_DIRECT) the data itself stays in
# dom0's page cache.  The domU writes both disks (fio, seeds 5 and 6),
# fsyncs each (FLUSH_DISKCACHE), prints FLUSHED and keeps reading.  dom0
# then writes a control file on each filesystem without flushing it and
# asks the host to cut the power; host.sh replays each journal on a copy of
# the host file and verifies both disks with the same fio jobs, and that
# the control files are gone (the cut lost what was never flushed).

. /lib/splitkit/blk.sh
. /lib/splitkit/powercut.sh

name=back-flush
mnt=/mnt/powercut
mnt4k=/mnt/powercut-4k

sk_check "load splitkit_back (xen-blkback not loaded)" sk_blk_load_back ||
	return
sk_pc_setup || return
# the set-up is durable; from here on only a flush writes to the disks
sk_check "sparse 32 MiB backing files, synced" \
	sh -c "truncate -s 32M $mnt/disk.img $mnt4k/disk.img && sync" || return

rm -f "/var/log/xen/console/guest-$name.log"
sk_check "xl create domU.cfg" xl create domU.cfg || return
flushed=0
sk_check "domU acknowledged its flushes" \
	sk_blk_console_wait "$name" '^SKU: # FLUSHED' 300 && flushed=1
sk_blk_relay "$name"
[ "$flushed" -eq 1 ] || return

# the test covers the I/O path splitkit_back chose for each file
opened()
{
	dmesg | grep -q "file $1: [0-9]* sectors, $2 I/O"
}
sk_check "splitkit_back serves $mnt/disk.img with direct I/O" \
	opened "$mnt/disk.img" direct
sk_check "splitkit_back serves $mnt4k/disk.img with buffered I/O" \
	opened "$mnt4k/disk.img" buffered
# bf_no_io_errors: both disks' io_errors counters are 0 (fails if a disk's
# counters are not there).
bf_no_io_errors()
{
	local f n=0
	for f in /sys/bus/xen-backend/devices/vbd-*/skb_stats; do
		[ -d "$f" ] || continue
		sk_comment "${f#/sys/bus/xen-backend/devices/}: $(sk_stats_dump "$f" | tr '\n' ' ')"
		[ "$(cat "$f/io_errors")" = 0 ] || return 1
		n=$((n + 1))
	done
	[ "$n" = 2 ]
}
sk_check "splitkit_back: no I/O errors" bf_no_io_errors
sk_check "dmesg: no oops, warning or hung task" sk_blk_dmesg_clean
# the controls: written, never flushed, so the cut must lose them
sk_check "control files written without a flush" \
	sh -c "dd if=/dev/urandom of=$mnt/unflushed bs=64k count=16 &&
	       dd if=/dev/urandom of=$mnt4k/unflushed bs=64k count=16"
sk_pc_cut
