# SPDX-License-Identifier: GPL-2.0
#
# vbd-stockfront (dom0 half): Linux's stock xen-blkfront in the domU,
# splitkit_back in dom0 serving files in place.
# The checks are the block-pair interop suite, tests/xen/lib/vbd.sh.

. /lib/splitkit/vbd.sh

sk_vbd_host splitkit_back vbd-stockfront

# How splitkit_back served the disks: zero copy on mapped persistent
# grants or grant copy (Documentation/block.rst), and what each disk's
# disconnect counted.
dmesg | grep -E 'vbd.*(zero copy|grant copy|grant\(s\)|grant slot)' |
	sed 's/^\[[ 0-9.]*\] //' | tail -n 24 | while IFS= read -r l; do
		sk_comment "dmesg: $l"
	done
