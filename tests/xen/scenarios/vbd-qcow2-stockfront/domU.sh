# SPDX-License-Identifier: GPL-2.0
#
# vbd-qcow2-stockfront (domU half): the guest side of tests/xen/lib/vbd.sh, on qcow2
# images, then the qcow2-only checks (tests/xen/lib/qcow2.sh).

. /lib/splitkit/qcow2.sh

sk_qcow2_guest
