# SPDX-License-Identifier: GPL-2.0
#
# vbd-ours (dom0 half): splitkit_front in the domU, splitkit_back in dom0
# serving files in place (our pair).
# The checks are the block-pair interop suite, tests/xen/lib/vbd.sh.

. /lib/splitkit/vbd.sh

sk_vbd_host splitkit_back vbd-ours

# How splitkit_back served the disks: zero copy on mapped persistent
# grants or grant copy (Documentation/block.rst), and what each disk's
# disconnect counted.
dmesg | grep -E 'vbd.*(zero copy|grant copy|grant\(s\)|grant slot)' |
	sed 's/^\[[ 0-9.]*\] //' | tail -n 24 | while IFS= read -r l; do
		sk_comment "dmesg: $l"
	done
