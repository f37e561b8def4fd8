# SPDX-License-Identifier: GPL-2.0
#
# front-stockback (dom0 half): splitkit_front against Linux's stock
# xen-blkback, so our frontend is proven on an unmodified dom0.
#
#   dom0: /run/front-a.img --loop--> xen-blkback ==ring==> splitkit_front :domU
#         /run/front-b.img --loop--> xen-blkback ==ring==> (xvda, xvdb)
#
# xvda: dom0 writes the whole disk with fio crc32c verify headers, the domU
# verifies it and writes the whole disk again (128 KiB direct I/O, i.e.
# indirect requests), dom0 verifies that after the domU is gone.
# xvdb: the domU makes ext4 on its first 64 MiB, copies files, checks
# them and fscks; dom0 fscks the same filesystem afterwards.  The rest of
# xvdb takes io_uring polled I/O (fio --hipri) with verify; the domU checks
# the completions were reaped by polling.

. /lib/splitkit/front.sh

a=/run/front-a.img
b=/run/front-b.img
sk_check "load xen-blkback and loop" sk_modprobe xen-blkback loop || return
rm -f "$a" "$b"
truncate -s 128M "$a"
truncate -s 96M "$b"
sk_check "dom0 writes all of xvda (fio, crc32c)" skf_fio_whole "$a" write 11
sk_domU_run domU.cfg 540
sk_check "dom0 verifies all of xvda as written by the domU" \
	skf_fio_whole "$a" verify 22 128k
sk_check "dom0 fscks the domU's ext4 on xvdb" e2fsck -fn "$b"
sk_check "hotplug script released the loop devices" \
	sh -c "! losetup -a | grep -q front-"
rm -f "$a" "$b"
