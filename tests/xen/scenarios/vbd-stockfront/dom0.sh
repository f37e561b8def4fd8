# SPDX-License-Identifier: GPL-2.0
#
# vbd-stockfront (dom0 half): Linux's stock xen-blkfront in the domU,
# splitkit_back in dom0 serving files in place.
# The checks are the block-pair interop suite, tests/xen/lib/vbd.sh.

. /lib/splitkit/vbd.sh

sk_vbd_host splitkit_back vbd-stockfront
