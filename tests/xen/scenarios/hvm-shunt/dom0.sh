# SPDX-License-Identifier: GPL-2.0
#
# hvm-shunt (dom0 half): splitkit_shunt in a running HVM guest (issue 13;
# Documentation/shunt.rst).  wip: written with the module, not yet run.
#
#   dom0: /run/hvm-shunt.img -- QEMU (IDE emulation) --> sda  :HVM domU
#                            \-- QEMU qdisk ==ring==> xvda    :HVM domU
#
# The guest makes a filesystem on sda, keeps writing files to it, switches
# its I/O to xvda and back with splitkit_shunt, and lists every file's
# checksum; dom0 then checks the filesystem and every file in the image.

. /lib/splitkit/blk.sh

img=/run/hvm-shunt.img
rm -f "$img"
truncate -s 128M "$img"
sk_domU_run domU.cfg 900
grep '^SKU: # sum ' /var/log/xen/console/guest-hvm-shunt.log | tr -d '\r' |
	sed 's/^SKU: # sum //' >/run/hvm-shunt.sums
sk_check "the guest listed its files' checksums ($(wc -l </run/hvm-shunt.sums))" \
	test "$(wc -l </run/hvm-shunt.sums)" -ge 100
sk_check "load loop" sk_modprobe loop ext4 crc32c_generic
sk_check "dom0 fscks the guest's filesystem" e2fsck -f -n "$img"
mkdir -p /mnt/hs
if sk_check "dom0 mounts it read-only" mount -o ro,loop -t ext4 "$img" /mnt/hs; then
	sk_check "every file as the guest wrote it" \
		sh -c "cd /mnt/hs && sed 's| /mnt/|  |' /run/hvm-shunt.sums | md5sum -c -s"
	umount /mnt/hs
fi
rm -f "$img" /run/hvm-shunt.sums
