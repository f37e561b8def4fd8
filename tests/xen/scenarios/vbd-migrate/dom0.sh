# SPDX-License-Identifier: GPL-2.0
#
# vbd-migrate (dom0 half): the block-pair interop suite on our pair, with
# the guest migrated to this same host while it writes
# (tests/xen/lib/vbd.sh, the package's vbd_dom0.sh migrate()).

. /lib/splitkit/vbd.sh

sk_vbd_host splitkit_back vbd-migrate
