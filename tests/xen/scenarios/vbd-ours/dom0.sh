# SPDX-License-Identifier: GPL-2.0
#
# vbd-ours (dom0 half): splitkit_front in the domU, splitkit_back in dom0
# serving files in place (our pair).
# The checks are the block-pair interop suite, tests/xen/lib/vbd.sh.

. /lib/splitkit/vbd.sh

sk_vbd_host splitkit_back vbd-ours
