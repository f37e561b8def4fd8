# SPDX-License-Identifier: GPL-2.0
#
# vbd-migrate-stockback (domU half): the guest side of tests/xen/lib/vbd.sh.

. /lib/splitkit/vbd.sh

sk_vbd_guest
