# SPDX-License-Identifier: GPL-2.0
#
# vbd-online-cut-ends (domU half): prepares two sets of vbd-online's four
# disks (xvda-xvdd, xvde-xvdh), then writes and flushes their loop regions
# pass after pass until the power goes (tests/xen/lib/onlinecut.sh).

OG_ALL="xvda xvdb xvdc xvdd xvde xvdf xvdg xvdh"
OG_FILL="xvda xvde"
OG_FRAG="xvdb xvdf"
OL_MB=1

. /lib/splitkit/online.sh
. /lib/splitkit/onlinecut.sh

sk_oc_guest
