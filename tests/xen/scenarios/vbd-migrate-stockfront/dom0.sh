# SPDX-License-Identifier: GPL-2.0
#
# vbd-migrate-stockfront (dom0 half): the block-pair interop suite on a mixed pair
# (xen-blkfront on splitkit_back), with the guest migrated to this same host while
# it writes (tests/xen/lib/vbd.sh, the package's vbd_dom0.sh migrate()).

. /lib/splitkit/vbd.sh

sk_vbd_host splitkit_back vbd-migrate-stockfront
