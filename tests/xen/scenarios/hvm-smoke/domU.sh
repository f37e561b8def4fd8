# SPDX-License-Identifier: GPL-2.0
#
# hvm-smoke (guest half): the same disk through IDE emulation (sda) and
# through Linux's xen-blkfront (xvda).

. /lib/splitkit/fio.sh

sk_wait_block()
{
	local tries=60
	while [ ! -b "$1" ] && [ "$tries" -gt 0 ]; do
		sleep 1
		tries=$((tries - 1))
	done
	test -b "$1"
}

sk_check "running in an HVM guest" \
	sh -c 'grep -q "^hvm" /sys/hypervisor/guest_type 2>/dev/null ||
	       grep -q HVM /sys/hypervisor/guest_type'
sk_check "load ata_piix and sd_mod" sk_modprobe ata_piix sd_mod
sk_check "emulated disk /dev/sda appeared" sk_wait_block /dev/sda || return
sk_check "load xen-blkfront" sk_modprobe xen-blkfront
sk_check "PV disk /dev/xvda appeared" sk_wait_block /dev/xvda || return
sk_check "emulated path: region A verifies" sk_fio_region /dev/sda A verify
sk_check "PV path: region A verifies" sk_fio_region /dev/xvda A verify
sk_check "PV path: write region B" sk_fio_region /dev/xvda B write
sync
echo 3 >/proc/sys/vm/drop_caches
sk_check "emulated path: region B verifies" sk_fio_region /dev/sda B verify
