# SPDX-License-Identifier: GPL-2.0
#
# stock-pair (dom0 half): proves the harness with Linux's own split block
# drivers, the reference every splitkit driver is compared with.
#
#   dom0: /run/stock-pair.img --loop--> xen-blkback ==ring==> xen-blkfront :domU
#
# dom0 writes region A with fio verify headers; the domU verifies A and
# writes region B; dom0 verifies B once the domU has powered off.

. /lib/splitkit/fio.sh
. /lib/splitkit/vbd.sh

img=/run/stock-pair.img
# (unloads splitkit_back first if a scenario left it loaded: both bind vbd)
sk_check "load xen-blkback and loop" sk_vbd_load_back xen-blkback || return
rm -f "$img"
truncate -s 256M "$img"
sk_check "dom0 writes region A (fio, crc32c)" sk_fio_region "$img" A write
sk_domU_run domU.cfg 300
sk_check "dom0 verifies region B written by the domU" \
	sk_fio_region "$img" B verify
sk_check "hotplug script released the loop device" \
	sh -c "! losetup -a | grep -q stock-pair.img"
rm -f "$img"
