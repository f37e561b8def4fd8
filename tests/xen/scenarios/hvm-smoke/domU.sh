# SPDX-License-Identifier: GPL-2.0
#
# hvm-smoke (guest half): the same disk through IDE emulation (sda) and
# through Linux's xen-blkfront (xvda).  Busybox tools only (no fio in the
# small HVM initramfs).

# region_md5 DEV SKIP_MIB: checksum of 16 MiB at SKIP_MIB, read past the
# page cache so the device itself answers.
region_md5()
{
	echo 3 >/proc/sys/vm/drop_caches
	dd if="$1" bs=1M skip="$2" count=16 2>/dev/null | md5sum | cut -d' ' -f1
}

md5a=$(sk_cmdline sk.md5a)
sk_check "running in an HVM guest" grep -qi hvm /sys/hypervisor/guest_type
sk_check "load ata_piix and sd_mod" sk_modprobe ata_piix sd_mod
sk_check "emulated disk /dev/sda appeared" sk_wait_block /dev/sda 120 || return
sk_check "load xen-blkfront" sk_modprobe xen-blkfront
if ! sk_check "PV disk /dev/xvda appeared" sk_wait_block /dev/xvda 120; then
	sk_comment "xen bus: $(ls /sys/bus/xen/devices 2>&1 | tr '\n' ' ')"
	dmesg | grep -i -E 'xen|blkfront|vbd|platform' | tail -n 25 |
		sed 's/^\[[ 0-9.]*\] //' | while IFS= read -r l; do
			sk_comment "dmesg: $l"
		done
	return
fi
sk_check "emulated path: region A reads as dom0 wrote it" \
	test "$(region_md5 /dev/sda 0)" = "$md5a"
sk_check "PV path: region A reads as dom0 wrote it" \
	test "$(region_md5 /dev/xvda 0)" = "$md5a"
dd if=/dev/urandom of=/tmp/b bs=1M count=16 2>/dev/null
md5b=$(md5sum </tmp/b | cut -d' ' -f1)
sk_check "PV path: write region B" \
	dd if=/tmp/b of=/dev/xvda bs=1M seek=64 conv=fsync 2>/dev/null
sk_comment "md5 of region B: $md5b"
sk_check "emulated path: region B reads as written through the PV path" \
	test "$(region_md5 /dev/sda 64)" = "$md5b"
