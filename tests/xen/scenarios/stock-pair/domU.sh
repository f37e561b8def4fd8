# SPDX-License-Identifier: GPL-2.0
#
# stock-pair (domU half): Linux's xen-blkfront against dom0's xen-blkback.
# Verifies what dom0 wrote (region A) and writes region B for dom0.

. /lib/splitkit/fio.sh

sk_check "load xen-blkfront" sk_modprobe xen-blkfront
sk_check "/dev/xvda appeared" sk_wait_block /dev/xvda || return
sk_check "/dev/xvda is 256 MiB" \
	test "$(cat /sys/block/xvda/size)" -eq $((256 * 2048))
sk_check "domU verifies region A written by dom0" sk_fio_region /dev/xvda A verify
sk_check "domU writes region B (fio, crc32c, read back)" \
	sk_fio_region /dev/xvda B write
sk_check "flush to the backend" sync
