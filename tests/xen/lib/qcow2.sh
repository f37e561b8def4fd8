# SPDX-License-Identifier: GPL-2.0
#
# qcow2 images served by splitkit_back (backend/qcow2.c through
# splitkit_image.ko): the block-pair suite of vbd.sh on qcow2 images made
# by qemu-img, plus what only qcow2 has, and the image policy refusals.
#
#   dom0: /run/q/seed.raw   MB (32 MiB, vbd.sh), fio seed 1 (the expected
#                           base content)
#         /run/q/base.qcow2 seed.raw converted, 2 MiB clusters: backing
#         /run/q/data.qcow2 ==> xvda  64 KiB clusters over base.qcow2
#                                     (relative name, format recorded)
#         /run/q/fs.qcow2   ==> xvdb  64 MiB: mkfs, files, fsck; fstrim
#         /run/q/disc.qcow2 ==> xvdc  discard frees clusters and file space
#         /run/q/ro.qcow2   ==> xvdd  access=ro
#         /run/q/probe.qcow2 => xvde  a qcow2 file attached *raw*
#
# xvda..xvdd run the guest half of vbd.sh unchanged: the guest verifies
# seed 1 read through the chain, writes (copy-on-write into data.qcow2),
# then writes seed 2 over the whole disk.  Once it has, the read-only xvdd
# must show requests served on the backend's direct path (skb_stats/
# image_direct: O_DIRECT I/O on clusters the image holds in place), and a
# read of xvda must take it once dom0's page cache holds nothing dirty of
# the image, and be served from that cache (image_cached) when it does,
# until the backend's write-back pass alone has made the image clean
# again (image_dirty; sk_qcow2_dirty_host).  After the guest: qemu-img check is clean on every
# image, qemu-img compare finds base.qcow2 still equal to seed.raw (the
# backing was never written), the top's guest content verifies as seed 2,
# fs.qcow2's ext4 checks clean, the discard disk lost its discarded
# clusters' space, and data.qcow2's history has the attach and the detach
# with the domain's name.  The guest's fstrim on xvdb makes fs.qcow2's
# allocated size fall (handshakes qcow2-filled, qcow2-trimmed).
#
# sk_qcow2_policy (vbd-qcow2-policy) runs xl create -p against images
# whose VM information or chain the backend must refuse, and checks xl
# prints the reason.

. /lib/splitkit/vbd.sh

QD=/run/q

# sk_qcow2_fs DIR [xfs]: DIR, empty, on a filesystem that takes O_DIRECT,
# as image stores do: DIR itself where its parent is on ext4, XFS or btrfs
# (the power-cut disks, whose images the host reads after the cut); else
# (dom0's /run, a tmpfs: no O_DIRECT, so splitkit_back would serve every
# request through its image engine and its direct path, backend/qcow2.c,
# would go untested) a fresh ext4 (or, with xfs, XFS: its page cache may hold
# folios larger than a page, which the direct path treats apart) on a
# loop device over the file DIR.fs (xfs is then ignored where the parent
# already takes O_DIRECT).  A DIR mounted by an earlier call is unmounted
# first.  The file is sparse (mkfs.xfs writes its 64 MiB log whole: a
# 1 GiB XFS allows no smaller one); mkfs.ext4 leaves its inode tables
# and journal unwritten (lazy_*_init), reading as zeroes, and the kernel
# does not zero them behind the test's back (noinit_itable): writing them
# is slow for dom0 under TCG.
sk_qcow2_fs()
{
	sk_qcow2_fs_gone "$1" && mkdir -p "${1%/*}" || return 1
	case $(stat -f -c %T "${1%/*}") in
	ext2/ext3|ext4|xfs|btrfs)
		mkdir -p "$1"
		return ;;
	esac
	mkdir -p "$1" && truncate -s 1G "$1.fs" || return 1
	if [ "${2:-}" = xfs ]; then
		sk_modprobe loop xfs &&
		mkfs.xfs -q -f -K "$1.fs" &&
		mount -t xfs -o loop "$1.fs" "$1"
		return
	fi
	sk_modprobe loop crc32c_generic ext4 &&
	mkfs.ext4 -q -F -E lazy_itable_init=1,lazy_journal_init=1,nodiscard \
		"$1.fs" &&
	mount -t ext4 -o loop,noinit_itable "$1.fs" "$1"
}

# sk_qcow2_fs_gone DIR: undo sk_qcow2_fs DIR (or remove a plain DIR).
sk_qcow2_fs_gone()
{
	if grep -q " $1 " /proc/mounts; then
		umount -d "$1" || return 1
	fi
	rm -rf "$1" "$1.fs"
}

# sk_qcow2_make: the images above.
sk_qcow2_make()
{
	sk_qcow2_fs "$QD" || return 1
	truncate -s "${VBD_MB}M" "$QD/seed.raw" &&
	sk_blk_fio "$QD/seed.raw" 1 write &&
	qemu-img convert -q -f raw -O qcow2 -o cluster_size=2M \
		"$QD/seed.raw" "$QD/base.qcow2" &&
	(cd "$QD" && qemu-img create -q -f qcow2 -b base.qcow2 -F qcow2 \
		data.qcow2) &&
	qemu-img create -q -f qcow2 "$QD/fs.qcow2" 64M &&
	qemu-img create -q -f qcow2 "$QD/disc.qcow2" "$((VBD_MB / 2))M" &&
	dd if=/dev/urandom of="$QD/ro.raw" bs=1M count=8 2>/dev/null &&
	qemu-img convert -q -f raw -O qcow2 "$QD/ro.raw" "$QD/ro.qcow2" &&
	qemu-img create -q -f qcow2 "$QD/probe.qcow2" 1M
}

# sk_qcow2_history IMAGE OP NAME: IMAGE's history has OP with note NAME.
sk_qcow2_history()
{
	splitkit img meta list "$1" | grep -q "history: .* $2 $3\$"
}

# sk_qcow2_img_ok IMAGE: qemu-img check finds IMAGE clean (leaks too).
sk_qcow2_img_ok()
{
	qemu-img check -q "$1"
}

# sk_qcow2_stuck WHAT: the guest did not get to WHAT in time: dom0's state
# (sk_dom0_stuck), with splitkit_back's counters first.  Once per run.
sk_qcow2_stuck()
{
	[ -z "${SK_QCOW2_STUCK:-}" ] || return 0
	SK_QCOW2_STUCK=1
	sk_blk_diag
	sk_dom0_stuck "$1"
}

# sk_qcow2_wait NAME KEY: sk_vbd_wait_guest until shortly before the
# guest's own deadline (SK_QCOW2_END), and the dom0 dump above if it
# does not come.  After a failed wait, a guest that is gone fails the
# next ones at once (sk_vbd_wait_guest would wait for it to appear).
sk_qcow2_wait()
{
	local left=$((SK_QCOW2_END - $(date +%s)))

	if [ -n "${SK_QCOW2_STUCK:-}" ] && ! xl domid "$1" >/dev/null 2>&1; then
		sk_comment "$1 is gone: no '$2' will come"
		return 1
	fi
	[ "$left" -gt 0 ] || left=1
	sk_vbd_wait_guest "$1" "$2" "$left" && return
	sk_qcow2_stuck "$2"
	return 1
}

# sk_qcow2_direct DOMID DEVID: splitkit_back served some of the disk's
# requests on its direct path (backend/qcow2.c; skb_stats/image_direct).
sk_qcow2_direct()
{
	local n

	n=$(sk_blk_back_stat "$1" "$2" image_direct) && [ -n "$n" ] ||
		return 1
	sk_comment "vbd-$1-$2: image_direct $n"
	[ "$n" -gt 0 ]
}

# sk_qcow2_zero_copy DOMID DEVID: splitkit_back serves the qcow2 disk on
# the frontend's mapped persistent grants (skb_stats/zero_copy 1) and did
# segments there (zc_segs), the engine's requests and the direct path's.
sk_qcow2_zero_copy()
{
	local zc segs gc

	zc=$(sk_blk_back_stat "$1" "$2" zero_copy) &&
		segs=$(sk_blk_back_stat "$1" "$2" zc_segs) &&
		gc=$(sk_blk_back_stat "$1" "$2" gcopy_segs) &&
		[ -n "$segs" ] || return 1
	sk_comment "vbd-$1-$2: zero_copy $zc, zc_segs $segs, gcopy_segs $gc"
	[ "$zc" = 1 ] && [ "$segs" -gt 0 ]
}

# sk_qcow2_dirty_host NAME DOMID: (dom0) which path xvda's reads take
# (backend/qcow2.c, skb_qcow2_range_dirty()) and the write-back pass
# (skb_qcow2_writeback()).  dom0 writes its dirty pages back (sync), so
# the guest's O_DIRECT read of 1 MiB must take the direct path
# (skb_stats/image_direct grows).  With splitkit_back's qcow2_writeback
# off, the guest rewrites a 4 KiB block in that MiB (through the engine,
# into dom0's page cache, no flush; image_dirty must say 1) and reads the
# MiB again, which must show the new bytes and take that page, and only
# that page, from the page cache (image_cached grows, image_cached_bytes by
# 4096: skb_qcow2_piece()).  The guest then writes the MiB whole (1 MiB,
# O_DIRECT, the dirty block new again): again only that page goes into the
# page cache (image_cached_bytes grows by 4096), the rest on the direct
# path (image_direct grows), and the MiB reads back as written.  dom0's
# periodic write-back is off meanwhile, so the page stays dirty however
# slowly the guest runs.  Then with
# qcow2_writeback on, the guest puts the old bytes back (no flush either):
# the write-back pass alone must make the image clean (image_dirty falls
# to 0; nothing else writes it back), and the guest's next read of the MiB
# must take the direct path again (image_direct grows, image_cached not)
# and show the old bytes.  Each answer is sent whatever happened before,
# so neither side waits for the other in vain.
sk_qcow2_dirty_host()
{
	local vm=/proc/sys/vm wb ex d0 d1 d2 d3 c0 c1 c2 c3 b0 b1 b2 e0 e1 w0 w1 on
	local p=/sys/module/splitkit_back/parameters/qcow2_writeback

	wb=$(cat $vm/dirty_writeback_centisecs)
	ex=$(cat $vm/dirty_expire_centisecs)
	on=$(cat $p)
	echo 0 >$vm/dirty_writeback_centisecs
	echo 360000 >$vm/dirty_expire_centisecs
	sk_check "qcow2_writeback off" sh -c "echo N >$p"
	sync
	d0=$(sk_blk_back_stat "$2" 51712 image_direct)
	if sk_check "tell the guest to read xvda, then rewrite a block" \
		sk_hs_send_to "$1" qcow2-dirty-go &&
	   sk_check "guest read 1 MiB of xvda, then rewrote 4 KiB of it" \
		sk_qcow2_wait "$1" qcow2-dirty-written; then
		d1=$(sk_blk_back_stat "$2" 51712 image_direct)
		c0=$(sk_blk_back_stat "$2" 51712 image_cached)
		b0=$(sk_blk_back_stat "$2" 51712 image_cached_bytes)
		sk_comment "vbd-$2-51712: image_direct $d0 before the first read, $d1 after"
		sk_check "xvda: a read of data clean in dom0's page cache took the direct path" \
			test "$d1" -gt "$d0"
		sk_check "xvda: image_dirty says the rewrite is in dom0's page cache" \
			test "$(sk_blk_back_stat "$2" 51712 image_dirty)" = 1
		sk_check "tell the guest" \
			sk_hs_send_to "$1" qcow2-dirty-written-seen &&
			sk_check "guest read the MiB again" \
				sk_qcow2_wait "$1" qcow2-dirty-read &&
			c1=$(sk_blk_back_stat "$2" 51712 image_cached) &&
			b1=$(sk_blk_back_stat "$2" 51712 image_cached_bytes) &&
			sk_comment "vbd-$2-51712: image_cached $c0 before the second read, $c1 after; image_cached_bytes $b0 -> $b1"
		sk_check "xvda: a read of data dirty in dom0's page cache was served from it" \
			test "$c1" -gt "$c0"
		sk_check "xvda: that read took only the dirty page from the page cache (4096 bytes)" \
			test "$((b1 - b0))" = 4096
	fi
	# the page is still dirty: a 1 MiB write over it
	b1=$(sk_blk_back_stat "$2" 51712 image_cached_bytes)
	e0=$(sk_blk_back_stat "$2" 51712 image_direct)
	if sk_check "tell the guest to write the MiB whole" \
		sk_hs_send_to "$1" qcow2-dirty-read-seen &&
	   sk_check "guest wrote the MiB" \
		sk_qcow2_wait "$1" qcow2-dirty-wrote; then
		b2=$(sk_blk_back_stat "$2" 51712 image_cached_bytes)
		e1=$(sk_blk_back_stat "$2" 51712 image_direct)
		sk_comment "vbd-$2-51712: the 1 MiB write: image_cached_bytes $b1 -> $b2, image_direct $e0 -> $e1"
		sk_check "xvda: the 1 MiB write put only the dirty page into the page cache (4096 bytes)" \
			test "$((b2 - b1))" = 4096
		sk_check "xvda: the rest of the 1 MiB write took the direct path" \
			test "$e1" -gt "$e0"
	fi
	sk_check "qcow2_writeback on" sh -c "echo Y >$p"
	w0=$(sk_blk_back_stat "$2" 51712 image_writeback)
	if sk_check "tell the guest to read the MiB and put the old bytes back" \
		sk_hs_send_to "$1" qcow2-dirty-wrote-seen &&
	   sk_check "guest put the old bytes back (no flush)" \
		sk_qcow2_wait "$1" qcow2-dirty-restored; then
		sk_check "xvda: the write-back pass made the image clean (image_dirty 0)" \
			sk_qcow2_wait_stat "$2" 51712 image_dirty 0
		w1=$(sk_blk_back_stat "$2" 51712 image_writeback)
		d2=$(sk_blk_back_stat "$2" 51712 image_direct)
		c2=$(sk_blk_back_stat "$2" 51712 image_cached)
		sk_comment "vbd-$2-51712: image_writeback $w0 before the write, $w1 after"
		sk_check "xvda: a write-back pass ran after the write" \
			test "$w1" -gt "$w0"
	fi
	# sent whatever happened: the guest reads the MiB once more
	if sk_check "tell the guest to read the MiB again" \
		sk_hs_send_to "$1" qcow2-dirty-clean; then
		sk_check "guest read the MiB a third time" \
			sk_qcow2_wait "$1" qcow2-dirty-reread &&
			d3=$(sk_blk_back_stat "$2" 51712 image_direct) &&
			c3=$(sk_blk_back_stat "$2" 51712 image_cached) &&
			sk_comment "vbd-$2-51712: image_direct $d2 -> $d3, image_cached $c2 -> $c3"
		sk_check "xvda: after the write-back pass the read took the direct path" \
			test "$d3" -gt "$d2" -a "$c3" = "$c2"
	fi
	echo "$on" >$p
	echo "$wb" >$vm/dirty_writeback_centisecs
	echo "$ex" >$vm/dirty_expire_centisecs
	sk_check "tell the guest" sk_hs_send_to "$1" qcow2-dirty-seen
}

# sk_qcow2_wait_stat DOMID DEVID NAME VALUE: wait until the disk's
# skb_stats/NAME reads VALUE: 60 s at most (what it waits for takes
# milliseconds), and never past SK_QCOW2_END, so the guest's own
# handshake waits outlast it.
sk_qcow2_wait_stat()
{
	local end=$(($(date +%s) + 60))

	[ "$end" -lt "$SK_QCOW2_END" ] || end=$SK_QCOW2_END
	until [ "$(sk_blk_back_stat "$1" "$2" "$3")" = "$4" ]; do
		if [ "$(date +%s)" -ge "$end" ]; then
			sk_comment "skb_stats/$3 is $(sk_blk_back_stat "$1" "$2" "$3"), not $4"
			return 1
		fi
		sleep 1
	done
}

sk_qcow2_host()
{
	local name=$1 timeout pid domid kb kb1 kb2 ro_sum base_sum front

	sk_check "load splitkit_back" sk_vbd_load_back splitkit_back || return
	sk_check "qemu-img makes the images and the chain" sk_qcow2_make ||
		return
	ro_sum=$(md5sum <"$QD/ro.qcow2")
	base_sum=$(md5sum <"$QD/base.qcow2")
	front=$(sed -n 's/.*sk\.front=\([^ "]*\).*/\1/p' domU.cfg)
	# the waits end 30 s before sk_domU_run destroys the guest, so a
	# stuck guest's dom0 side is dumped while it is still stuck
	timeout=$(sk_guard 480)
	SK_QCOW2_END=$(($(date +%s) + timeout - 30))
	sk_domU_run domU.cfg "$timeout" &
	pid=$!
	if sk_check "guest connected its disks" \
		sk_qcow2_wait "$name" vbd-connected; then
		domid=$(xl domid "$name")
		sk_vbd_xs_checks "$front" splitkit_back "$domid"
		sk_check "xvda is served as qcow2 (splitkit-status ok)" test \
			"$(xenstore-read "/local/domain/0/backend/vbd/$domid/51712/splitkit-status")" = ok
		sk_check "tell the guest" \
			sk_hs_send_to "$name" vbd-connected-seen
		if sk_check "guest finished its I/O" \
			sk_qcow2_wait "$name" vbd-io-done; then
			sk_check "xvdd (read-only): reads took the direct path" \
				sk_qcow2_direct "$domid" 51760
			sk_check "xvda: served on the guest's mapped grants (zero copy)" \
				sk_qcow2_zero_copy "$domid" 51712
			sk_check "tell the guest" \
				sk_hs_send_to "$name" vbd-io-checked
		fi
		sk_qcow2_dirty_host "$name" "$domid"
		if sk_check "guest filled xvdb's filesystem" \
			sk_qcow2_wait "$name" qcow2-filled; then
			kb1=$(sk_blk_kb "$QD/fs.qcow2")
			sk_check "tell the guest" \
				sk_hs_send_to "$name" qcow2-filled-seen
		fi
		if sk_check "guest removed the file and ran fstrim" \
			sk_qcow2_wait "$name" qcow2-trimmed; then
			kb2=$(sk_blk_kb "$QD/fs.qcow2")
			sk_comment "fs.qcow2: $kb1 KiB allocated with a 20 MiB file, $kb2 KiB after rm and fstrim"
			sk_check "fstrim made fs.qcow2's allocated size fall by 16 MiB or more" \
				test "$kb2" -lt $((kb1 - 16 * 1024))
			sk_check "tell the guest" \
				sk_hs_send_to "$name" qcow2-trimmed-seen
		fi
	fi
	wait "$pid"
	sk_check "backend devices gone after the guest" sk_blk_no_vbd 30
	for i in data base fs disc ro; do
		sk_check "qemu-img check: $i.qcow2 clean" sk_qcow2_img_ok "$QD/$i.qcow2"
	done
	sk_check "splitkit img check: data.qcow2 clean" \
		splitkit img check "$QD/data.qcow2"
	sk_check "the backing file was not written (md5)" \
		test "$(md5sum <"$QD/base.qcow2")" = "$base_sum"
	sk_check "qemu-img compare: base.qcow2 still reads as seed.raw" \
		qemu-img compare -q "$QD/base.qcow2" "$QD/seed.raw"
	sk_check "qemu-img converts the top of the chain" \
		qemu-img convert -q -O raw "$QD/data.qcow2" "$QD/data.raw" &&
		sk_check "qemu-img compare: data.qcow2 reads as its conversion" \
			qemu-img compare -q "$QD/data.qcow2" "$QD/data.raw" &&
		sk_check "dom0 verifies the whole data disk written by the guest (seed 2)" \
			sk_blk_fio "$QD/data.raw" 2 verify 128k
	rm -f "$QD/data.raw" "$QD/seed.raw"
	sk_check "qemu-img converts fs.qcow2" \
		qemu-img convert -q -O raw "$QD/fs.qcow2" "$QD/fs.raw" &&
		sk_check "dom0 fscks the guest's ext4" e2fsck -f -n "$QD/fs.raw"
	rm -f "$QD/fs.raw"
	kb=$(sk_blk_kb "$QD/disc.qcow2")
	# the guest wrote the whole disk (MB/2) and discarded half of it:
	# MB/4 left, give or take 2 MiB of metadata and rounding
	sk_comment "disc.qcow2: $kb KiB allocated after $((VBD_MB / 2)) MiB written, $((VBD_MB / 4)) MiB discarded"
	sk_check "discard freed clusters and their file space (< $((VBD_MB / 4 + 2)) MiB allocated)" \
		test "$kb" -lt $(((VBD_MB / 4 + 2) * 1024))
	sk_check "discard kept the other half (> $((VBD_MB / 4 - 2)) MiB allocated)" \
		test "$kb" -gt $(((VBD_MB / 4 - 2) * 1024))
	sk_check "read-only image unchanged" \
		test "$(md5sum <"$QD/ro.qcow2")" = "$ro_sum"
	sk_check "data.qcow2's history: attached by $name" \
		sk_qcow2_history "$QD/data.qcow2" attached "$name"
	sk_check "data.qcow2's history: detached by $name" \
		sk_qcow2_history "$QD/data.qcow2" detached "$name"
	splitkit img meta list "$QD/data.qcow2" | while IFS= read -r l; do
		sk_comment "data.qcow2 meta: $l"
	done
	sk_check "rmmod splitkit_back" rmmod splitkit_back
	sk_blk_dmesg_dump
	sk_check "dmesg: no oops, warning or hung task" sk_blk_dmesg_clean
	sk_qcow2_fs_gone "$QD"
}

# sk_qcow2_handshake KEY ANSWER: (guest) send KEY to dom0 and wait (300 s
# at most) for its ANSWER.
sk_qcow2_handshake()
{
	sk_hs_send "$1" && sk_hs_wait "$2" 300 >/dev/null
}

# sk_qcow2_dirty_guest: (guest) sk_qcow2_dirty_host's half, on the MiB
# of xvda from 8 MiB and its second 4 KiB block (2049): read, rewrite
# with new bytes (O_DIRECT, no flush), read again, put the old bytes back
# (O_DIRECT, no flush), read a third time.
sk_qcow2_dirty_guest()
{
	local b=/tmp/dirty rd

	rd="dd if=/dev/xvda of=$b.1m bs=1M skip=8 count=1 iflag=direct 2>/dev/null"
	if ! sk_hs_wait qcow2-dirty-go 300 >/dev/null; then
		sk_check "dom0 said qcow2-dirty-go" false
		return
	fi
	sk_check "read 1 MiB of xvda from 8 MiB (O_DIRECT)" \
		sh -c "$rd && dd if=$b.1m of=$b.old bs=4k skip=1 count=1 2>/dev/null"
	sk_check "rewrite its block 2049 with new bytes (O_DIRECT, no flush)" \
		sh -c "dd if=/dev/urandom of=$b.new bs=4k count=1 2>/dev/null &&
		       dd if=$b.new of=/dev/xvda bs=4k seek=2049 count=1 oflag=direct conv=notrunc 2>/dev/null"
	sk_check "dom0 counted" \
		sk_qcow2_handshake qcow2-dirty-written qcow2-dirty-written-seen
	sk_check "read the MiB again (O_DIRECT): block 2049 has the new bytes" \
		sh -c "$rd && dd if=$b.1m bs=4k skip=1 count=1 2>/dev/null | cmp -s - $b.new"
	sk_check "dom0 checked the read" \
		sk_qcow2_handshake qcow2-dirty-read qcow2-dirty-read-seen
	sk_check "write the MiB whole, block 2049 new again (O_DIRECT, no flush)" \
		sh -c "cp $b.1m $b.w && dd if=/dev/urandom of=$b.new2 bs=4k count=1 2>/dev/null &&
		       dd if=$b.new2 of=$b.w bs=4k seek=1 conv=notrunc 2>/dev/null &&
		       dd if=$b.w of=/dev/xvda bs=1M seek=8 count=1 oflag=direct conv=notrunc 2>/dev/null"
	sk_check "dom0 counted the write" \
		sk_qcow2_handshake qcow2-dirty-wrote qcow2-dirty-wrote-seen
	sk_check "read the MiB again (O_DIRECT): it is what was written" \
		sh -c "$rd && cmp -s $b.1m $b.w"
	sk_check "put block 2049's old bytes back (O_DIRECT, no flush)" \
		dd if=$b.old of=/dev/xvda bs=4k seek=2049 count=1 oflag=direct conv=notrunc 2>/dev/null
	sk_check "dom0 saw the image written back" \
		sk_qcow2_handshake qcow2-dirty-restored qcow2-dirty-clean
	sk_check "read the MiB a third time (O_DIRECT): block 2049 has the old bytes" \
		sh -c "$rd && dd if=$b.1m bs=4k skip=1 count=1 2>/dev/null | cmp -s - $b.old"
	sk_check "dom0 checked the reads" \
		sk_qcow2_handshake qcow2-dirty-reread qcow2-dirty-seen
	rm -f "$b.1m" "$b.old" "$b.new" "$b.new2" "$b.w"
}

# sk_qcow2_guest: vbd.sh's guest half, then the raw-attached qcow2 file
# and fstrim on xvdb.
sk_qcow2_guest()
{
	sk_vbd_guest
	sk_check "/dev/xvde appeared" sk_wait_block /dev/xvde 60 &&
		sk_check "xvde (a qcow2 file attached raw) shows the file's own bytes (QFI\\xfb)" \
			sh -c 'dd if=/dev/xvde bs=4 count=1 2>/dev/null | od -An -tx1 | tr -d " \n" | grep -qx 514649fb'
	sk_qcow2_dirty_guest
	mkdir -p /mnt
	sk_check "mount xvdb" mount -t ext4 /dev/xvdb /mnt || return
	# 20 MiB: the vbd suite's own files stay on the 64 MiB filesystem
	sk_check "write a 20 MiB file on xvdb" \
		dd if=/dev/urandom of=/mnt/big bs=1M count=20 conv=fsync
	sk_check "dom0 measured fs.qcow2" \
		sk_qcow2_handshake qcow2-filled qcow2-filled-seen
	rm -f /mnt/big
	sync
	sk_check "fstrim xvdb" fstrim /mnt
	sk_check "unmount xvdb" umount /mnt
	sk_check "dom0 measured fs.qcow2 again" \
		sk_qcow2_handshake qcow2-trimmed qcow2-trimmed-seen
}

# --- policy (vbd-qcow2-policy) ------------------------------------------

PD=/run/p

# sk_qcow2_cfg NAME ACCESS TARGET: an xl config of a small PV guest (it is
# only ever created paused) with one disk.
sk_qcow2_cfg()
{
	cat >"/tmp/$1.cfg" <<-EOF
	name = "$1"
	type = "pv"
	kernel = "/boot/vmlinux-domU"
	ramdisk = "/boot/initrd-domU-small.img"
	memory = 128
	vcpus = 1
	disk = [ "vdev=xvda, access=$2, script=splitkit, target=$3" ]
	EOF
}

# sk_qcow2_attach NAME ACCESS TARGET: xl create -p of that guest succeeds.
sk_qcow2_attach()
{
	sk_qcow2_cfg "$1" "$2" "$3"
	xl create -p "/tmp/$1.cfg" >/tmp/sk-qcow2-xl.log 2>&1 && return
	while IFS= read -r l; do sk_comment "xl: $l"; done </tmp/sk-qcow2-xl.log
	return 1
}

# sk_qcow2_gone NAME: destroy the (paused) guest, wait for its backend
# devices.  libxl removes the frontend's directory and waits up to 10 s for
# each backend to say Closed; one that does not is an error in xl's output
# ("unable to remove device"), which fails this: a backend still waiting
# for a frontend that never ran closes at once (ring/core/state.c).
sk_qcow2_gone()
{
	local rc=0 l

	xl destroy "$1" >/tmp/sk-qcow2-destroy.log 2>&1 || rc=1
	grep -q "error" /tmp/sk-qcow2-destroy.log && rc=1
	[ "$rc" = 0 ] || while IFS= read -r l; do
		sk_comment "xl destroy: $l"
	done </tmp/sk-qcow2-destroy.log
	sk_blk_gone "$1" 30 && sk_blk_no_vbd 30 && return "$rc"
}

# sk_qcow2_refused NAME ACCESS TARGET TEXT: xl create -p fails, prints
# TEXT (the backend's reason, through the hotplug script's
# hotplug-error), and leaves no domain behind.
sk_qcow2_refused()
{
	local rc=0

	sk_qcow2_cfg "$1" "$2" "$3"
	if xl create -p "/tmp/$1.cfg" >/tmp/sk-qcow2-xl.log 2>&1; then
		sk_comment "xl create succeeded"
		sk_qcow2_gone "$1"
		return 1
	fi
	grep -qF -- "$4" /tmp/sk-qcow2-xl.log || rc=1
	[ "$rc" = 0 ] || while IFS= read -r l; do
		sk_comment "xl: $l"
	done </tmp/sk-qcow2-xl.log
	# the domain is gone; its refused disk, with it (other guests may
	# still hold disks, so no wait for every vbd to go)
	sk_blk_gone "$1" 30 || rc=1
	return $rc
}

# sk_qcow2_meta IMAGE KEY VALUE
sk_qcow2_meta()
{
	splitkit img meta set "$1" "$2" "$3" >/dev/null
}

# lk_refused TEXT CMD...: CMD fails and says TEXT.
lk_refused()
{
	local text=$1 out

	shift
	out=$("$@" 2>&1) && { sk_comment "succeeded: $out"; return 1; }
	case "$out" in
	*"$text"*) return 0 ;;
	esac
	sk_comment "$out"
	return 1
}

# lk_compact_refused IMAGE COPY: splitkit img compact refuses IMAGE as in
# use and leaves it as COPY.
lk_compact_refused()
{
	lk_refused "is in use" splitkit img compact "$1" && cmp -s "$1" "$2"
}

# lk_destroy_frees NAME FILE: xl destroy NAME; from the moment its backend
# says Closed (which xl waits for), no lock is left on FILE (the backend
# dropped its locks first; the device itself goes later), and qemu-img
# info opens FILE as soon as xl returned.  The state is polled from before
# the destroy until Closed or gone (as fast as xenstore-read goes; the
# count is only a hang guard): whenever that is seen, the locks must
# already be gone.
lk_destroy_frees()
{
	local id st ino rc=0 left=100000 pid

	id=$(xl domid "$1") && ino=$(stat -c %i "$2") || return
	xl destroy "$1" >/dev/null 2>&1 &
	pid=$!
	while st=$(xenstore-read "/local/domain/0/backend/vbd/$id/51712/state" 2>/dev/null) &&
	      [ "$st" != 6 ] && [ "$left" -gt 0 ]; do
		left=$((left - 1))
	done
	if [ "$left" = 0 ]; then
		sk_comment "backend state still '$st' (a hang guard)"
		rc=1
	elif grep -q "OFDLCK .*:$ino " /proc/locks; then
		sk_comment "backend state '${st:-gone}': locks on $2 still held"
		rc=1
	fi
	wait "$pid" || rc=1
	qemu-img info "$2" >/tmp/sk-lk-info.log 2>&1 || rc=1
	[ "$rc" = 0 ] || sk_comment "$(tail -n 1 /tmp/sk-lk-info.log)"
	sk_blk_gone "$1" 30 && sk_blk_no_vbd 30 || rc=1
	return $rc
}

# lk_raw_refused NAME ACCESS PATH TEXT: xl create -p of a guest whose raw
# disk splitkit_back refuses: the backend's xenbus error (the hotplug
# script waits for no verdict on a raw disk) says TEXT.  The error node is
# the backend's answer, waited for (30 s at most) as a handshake.
lk_raw_refused()
{
	local err id rc=1 left=300

	sk_qcow2_attach "$1" "$2" "$3" || return
	id=$(xl domid "$1")
	while [ "$left" -gt 0 ]; do
		err=$(xenstore-read "/local/domain/0/error/backend/vbd/$id/51712/error" 2>/dev/null) &&
			break
		sleep 0.1
		left=$((left - 1))
	done
	case "$err" in
	*"$4"*) rc=0 ;;
	*) sk_comment "backend error: '$err'" ;;
	esac
	sk_qcow2_gone "$1" || rc=1
	return $rc
}

# lk_hold FILE [qcow2]: qemu-io opens FILE read-write (QEMU's locks) and
# keeps it open until lk_release; returns once /proc/locks shows its lock
# on using writing (byte 101; QEMU merges it with 100 into "100 101") and,
# for a qcow2 image, on not sharing writing (201).  A fifo feeds
# qemu-io's commands.  Run in this shell, not under sk_check (whose
# subshell would take the fifo's end and qemu-io's pid with it).
lk_hold()
{
	local left=600 ino

	ino=$(stat -c %i "$1") || return
	rm -f "$PD/lk.fifo" && mkfifo "$PD/lk.fifo" || return
	qemu-io "$1" <"$PD/lk.fifo" >/dev/null 2>&1 &
	lk_pid=$!
	exec 7>"$PD/lk.fifo"
	until grep -q "OFDLCK .*:$ino 10[01] 101\$" /proc/locks &&
	      { [ "$2" != qcow2 ] ||
		grep -q "OFDLCK .*:$ino 201 201\$" /proc/locks; }; do
		[ "$left" -gt 0 ] || return 1
		sleep 0.1
		left=$((left - 1))
	done
}

# lk_alive: the qemu-io of lk_hold still runs.
lk_alive()
{
	kill -0 "$lk_pid"
}

lk_release()
{
	[ -n "$lk_pid" ] || return 0
	echo quit >&7
	exec 7>&-
	wait "$lk_pid"
	lk_pid=
}

# QEMU's image locks (backend/qemulock.c): a file splitkit_back serves is
# locked as a QEMU disk locks it, released before the backend says Closed,
# and a file QEMU holds is refused.
sk_qcow2_locks()
{
	local q=$PD/lk.qcow2 r=$PD/lk.raw

	sk_check "qemu-img makes lk.qcow2 and lk.raw" sh -c "
		qemu-img create -q -f qcow2 $q 8M &&
		qemu-img create -q -f raw $r 8M" || return
	if sk_check "locks: lk.qcow2 attached rw" \
		sk_qcow2_attach polA rw "qcow2:$q"; then
		sk_check "... qemu-img info refused (splitkit_back shares no writing)" \
			lk_refused 'Failed to get shared "write" lock' \
			qemu-img info "$q"
		sk_check "... qemu-img info -U still reads it" \
			qemu-img info -U "$q"
		cp "$q" "$PD/lk-before.qcow2"
		sk_check "... splitkit img compact refused, the image untouched" \
			lk_compact_refused "$q" "$PD/lk-before.qcow2"
		sk_check "... no lock left once the backend says Closed, qemu-img info once xl returned" \
			lk_destroy_frees polA "$q"
	fi
	if sk_check "locks: lk.qcow2 attached ro" \
		sk_qcow2_attach polA ro "qcow2:$q"; then
		sk_check "... qemu-io cannot write it (not shared)" \
			lk_refused 'Failed to get "write" lock' \
			qemu-io -c "write 0 4k" "$q"
		sk_check "... qemu-img info reads it" qemu-img info "$q"
		sk_check "detach" sk_qcow2_gone polA
	fi
	if sk_check "locks: lk.raw attached rw" \
		sk_qcow2_attach polA rw "$r"; then
		sk_check "... qemu-io cannot write it" \
			lk_refused 'Failed to get "write" lock' \
			qemu-io -c "write 0 4k" "$r"
		sk_check "detach" sk_qcow2_gone polA
	fi
	sk_check "locks: qemu-io writes lk.raw once it is detached" \
		qemu-io -c "write 0 4k" "$r"

	lk_hold "$q" qcow2
	if sk_check "locks: qemu-io holds lk.qcow2 (/proc/locks)" \
		test $? = 0; then
		sk_check "... attach ro refused: QEMU writes it" \
			sk_qcow2_refused polA ro "qcow2:$q" \
			"in use by another process in dom0 (a VM's QEMU, qemu-img, qemu-io or splitkit img), which writes it"
		sk_check "... attach rw refused: QEMU shares no writing" \
			sk_qcow2_refused polA rw "qcow2:$q" \
			"in use by another process in dom0 (a VM's QEMU, qemu-img, qemu-io or splitkit img), which does not share writing"
		sk_check "... qemu-io held it throughout" lk_alive
	fi
	lk_release
	sk_check "locks: lk.qcow2 attaches once qemu-io quit" \
		sk_qcow2_attach polA rw "qcow2:$q" && sk_qcow2_gone polA
	lk_hold "$r"
	if sk_check "locks: qemu-io holds lk.raw (/proc/locks)" \
		test $? = 0; then
		sk_check "... attach rw refused: QEMU writes it" \
			lk_raw_refused polA rw "$r" \
			"in use by another process in dom0 (a VM's QEMU, qemu-img, qemu-io or splitkit img), which writes it"
		sk_check "... qemu-io held it throughout" lk_alive
	fi
	lk_release
	sk_check "qemu-img check: lk.qcow2 clean" sk_qcow2_img_ok "$q"
}

sk_qcow2_policy()
{
	local p=$PD/pol.qcow2 t

	sk_check "load splitkit_back" sk_vbd_load_back splitkit_back || return
	rm -rf "$PD" && mkdir -p "$PD/sub"
	sk_check "qemu-img makes the images" sh -c "
		qemu-img create -q -f qcow2 $p 8M &&
		qemu-img create -q -f raw $PD/base.raw 8M &&
		qemu-img create -q -f qcow2 $PD/base.qcow2 8M &&
		qemu-img create -q -f qcow2 -b $PD/base.qcow2 -F qcow2 $PD/abs.qcow2 &&
		cd $PD/sub && qemu-img create -q -f qcow2 -b ../base.qcow2 -F qcow2 up.qcow2 &&
		cd $PD && qemu-img create -q -f qcow2 snap.qcow2 8M &&
		qemu-img snapshot -c s1 snap.qcow2 &&
		qemu-img create -q -f qcow2 -o refcount_bits=32 rc32.qcow2 8M" || return
	# splitkit img create records no format without -F
	sk_check "an image over base.raw without a recorded format" \
		sh -c "cd $PD && splitkit img create -b base.raw unrec.qcow2 8M >/dev/null"

	sk_check "a plain qcow2 image attaches (rw)" \
		sk_qcow2_attach polA rw "qcow2:$p" &&
		sk_check "a second attach of a writable image is refused" \
			sk_qcow2_refused polB ro "qcow2:$p" "already attached"
	sk_check "detach" sk_qcow2_gone polA
	sk_check "history: attached by polA" sk_qcow2_history "$p" attached polA
	sk_check "history: detached by polA" sk_qcow2_history "$p" detached polA

	sk_qcow2_meta "$p" expires 1
	sk_check "expired image refused" \
		sk_qcow2_refused polA rw "qcow2:$p" "image expired"
	t=$(($(date +%s) + 86400 * 365))
	sk_qcow2_meta "$p" expires "$t"
	sk_check "image expiring in a year attaches" \
		sk_qcow2_attach polA ro "qcow2:$p" && sk_qcow2_gone polA

	# (a value this splitkit_back refuses: the tool writes it on --force)
	splitkit img meta set --force "$p" requires "expires warp-drive" >/dev/null
	sk_check "image requiring an unknown feature refused" \
		sk_qcow2_refused polA ro "qcow2:$p" "requires feature 'warp-drive'"
	sk_qcow2_meta "$p" requires "expires max-attach"
	sk_check "image requiring known features attaches" \
		sk_qcow2_attach polA ro "qcow2:$p" && sk_qcow2_gone polA

	sk_qcow2_meta "$p" allowed-domains "other-vm,00000000-0000-0000-0000-000000000001"
	sk_check "domain not in allowed-domains refused" \
		sk_qcow2_refused polA ro "qcow2:$p" "not in allowed-domains"
	sk_qcow2_meta "$p" allowed-domains "other-vm polA"
	sk_check "domain in allowed-domains attaches" \
		sk_qcow2_attach polA ro "qcow2:$p" && sk_qcow2_gone polA
	splitkit img meta rm "$p" allowed-domains >/dev/null

	sk_qcow2_meta "$p" read-only 1
	sk_check "read-only image attached rw refused" \
		sk_qcow2_refused polA rw "qcow2:$p" "image policy: read-only"
	sk_check "read-only image attaches ro" \
		sk_qcow2_attach polA ro "qcow2:$p" && sk_qcow2_gone polA

	sk_qcow2_meta "$p" max-attach 1
	if sk_check "max-attach 1: the first attach" \
		sk_qcow2_attach polA ro "qcow2:$p"; then
		sk_check "max-attach 1: the second concurrent attach refused" \
			sk_qcow2_refused polB ro "qcow2:$p" "at most 1 concurrent"
		sk_check "detach" sk_qcow2_gone polA
	fi

	sk_check "backing file without a recorded format refused" \
		sk_qcow2_refused polA ro "qcow2:$PD/unrec.qcow2" "without recorded format"
	sk_check "... unless the target says raw-backing" \
		sk_qcow2_attach polA ro "qcow2+raw-backing:$PD/unrec.qcow2" &&
		sk_qcow2_gone polA
	sk_check "absolute backing file name refused" \
		sk_qcow2_refused polA ro "qcow2:$PD/abs.qcow2" "backing chain refused"
	sk_check "backing file name with '..' refused" \
		sk_qcow2_refused polA ro "qcow2:$PD/sub/up.qcow2" "backing chain refused"
	sk_check "image with an internal snapshot refused rw" \
		sk_qcow2_refused polA rw "qcow2:$PD/snap.qcow2" "attach it with access=ro"
	sk_check "... and served ro" \
		sk_qcow2_attach polA ro "qcow2:$PD/snap.qcow2" && sk_qcow2_gone polA
	sk_check "image with 32-bit refcounts refused rw" \
		sk_qcow2_refused polA rw "qcow2:$PD/rc32.qcow2" "attach it with access=ro"
	sk_check "... and served ro" \
		sk_qcow2_attach polA ro "qcow2:$PD/rc32.qcow2" && sk_qcow2_gone polA
	sk_check "a raw file named qcow2 refused" \
		sk_qcow2_refused polA ro "qcow2:$PD/base.raw" "not a valid qcow2 image"

	sk_check "qemu-img check: pol.qcow2 clean after the attaches" \
		sk_qcow2_img_ok "$p"
	sk_qcow2_locks
	sk_check "rmmod splitkit_back" rmmod splitkit_back
	sk_blk_dmesg_dump
	sk_check "dmesg: no oops, warning or hung task" sk_blk_dmesg_clean
	rm -rf "$PD"
}
