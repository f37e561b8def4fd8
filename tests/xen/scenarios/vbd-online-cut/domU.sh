# SPDX-License-Identifier: GPL-2.0
#
# vbd-online-cut (domU half): prepares the four disks as vbd-online does,
# then writes and flushes their loop regions pass after pass until the
# power goes (tests/xen/lib/onlinecut.sh, sk_oc_guest).

. /lib/splitkit/online.sh
. /lib/splitkit/onlinecut.sh

sk_oc_guest
