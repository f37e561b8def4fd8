# SPDX-License-Identifier: GPL-2.0
#
# vbd-stockback (dom0 half): splitkit_front in the domU, Linux's stock
# xen-blkback in dom0 on loop devices the splitkit hotplug script sets up.
# The checks are the block-pair interop suite, tests/xen/lib/vbd.sh.

. /lib/splitkit/vbd.sh

sk_vbd_host xen-blkback vbd-stockback
