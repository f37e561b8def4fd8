# SPDX-License-Identifier: GPL-2.0
#
# vbd-migrate-stockback (dom0 half): the block-pair interop suite on a mixed pair
# (splitkit_front on xen-blkback), with the guest migrated to this same host while
# it writes (tests/xen/lib/vbd.sh, the package's vbd_dom0.sh migrate()).

. /lib/splitkit/vbd.sh

sk_vbd_host xen-blkback vbd-migrate-stockback
