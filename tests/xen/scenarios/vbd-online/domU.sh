# SPDX-License-Identifier: GPL-2.0
#
# vbd-online (domU half): prepares the five disks, then runs fio verify
# passes on all of them until dom0 says stop (tests/xen/lib/online.sh).

. /lib/splitkit/online.sh

sk_online_guest
