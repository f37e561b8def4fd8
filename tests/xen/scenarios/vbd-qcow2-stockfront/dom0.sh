# SPDX-License-Identifier: GPL-2.0
#
# vbd-qcow2-stockfront (dom0 half): Linux xen-blkfront in the domU, splitkit_back in
# dom0 serving qcow2 images made by qemu-img, the data disk as the top of
# a backing chain; checks in tests/xen/lib/qcow2.sh.

. /lib/splitkit/qcow2.sh

sk_qcow2_host vbd-qcow2-stockfront
