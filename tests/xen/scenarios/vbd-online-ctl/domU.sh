# SPDX-License-Identifier: GPL-2.0
#
# vbd-online-ctl (domU half), on the stock xen-blkfront: an ext4 on xvdd
# with CT_FILES files of 1 MiB, every other one deleted, then fstrim
# (trim-ready = the md5 of the files left and the bytes deleted); then, as
# vbd-online's guest (tests/xen/lib/online.sh), writes xvda whole and
# discards its first half, writes xvdb and xvdc in random cluster order,
# and runs fio verify passes on xvda alone until dom0 says stop; xvdb and
# xvdc stay idle (dom0 detaches xvdc), and xvdb's md5 is checked again at
# the end, the ext4 on xvdd too (fsck, the files' md5).

OG_ALL="xvda xvdb xvdc"
OG_FRAG="xvdb xvdc"
OG_DISKS="xvda"
OG_END="xvda xvdb"
. /lib/splitkit/online.sh

CT_FILES=20
CT_MNT=/mnt/trim

# ct_md5: md5 of the files left on the ext4 of xvdd (mounted).
ct_md5()
{
	cat "$CT_MNT"/f* | md5sum | cut -d' ' -f1
}

# ct_prepare: the ext4 of xvdd, its files, half deleted, fstrim; the md5
# of those left in /tmp/ct-sum (sk_check runs it in a subshell).
ct_prepare()
{
	local i=0

	sk_modprobe ext4 crc32c_generic && mkfs.ext4 -q -F /dev/xvdd &&
		mkdir -p $CT_MNT &&
		mount -t ext4 /dev/xvdd $CT_MNT || return 1
	while [ "$i" -lt "$CT_FILES" ]; do
		dd if=/dev/urandom of=$CT_MNT/f$i bs=1M count=1 2>/dev/null ||
			return 1
		i=$((i + 1))
	done
	sync
	i=0
	while [ "$i" -lt "$CT_FILES" ]; do
		rm -f $CT_MNT/f$i
		i=$((i + 2))
	done
	sync && fstrim -v $CT_MNT && ct_md5 >/tmp/ct-sum && umount $CT_MNT
}

# ct_check: after the operations, the ext4 of xvdd is clean and its files
# read as before.
ct_check()
{
	e2fsck -f -n /dev/xvdd >/tmp/ct-fsck.log 2>&1 ||
		{ cat /tmp/ct-fsck.log; return 1; }
	mount -t ext4 -o ro /dev/xvdd $CT_MNT || return 1
	sync && echo 3 >/proc/sys/vm/drop_caches
	test "$(ct_md5)" = "$(cat /tmp/ct-sum)"
	local rc=$?
	umount $CT_MNT
	return $rc
}

sk_check "load xen-blkfront" sk_blk_load_front xen-blkfront || return
sk_check "/dev/xvdd appeared" sk_wait_block /dev/xvdd 60 || return
sk_check "xvdd: ext4, $CT_FILES files of 1 MiB, every other one deleted, fstrim" \
	ct_prepare || return
sk_check "xvdd: md5 of the files left taken" test -s /tmp/ct-sum || return
sk_hs_send trim-ready "$(cat /tmp/ct-sum) $(((CT_FILES / 2) << 20))" >/dev/null
sk_online_guest
sk_check "xvdd: ext4 clean and its files as before the compaction" ct_check
