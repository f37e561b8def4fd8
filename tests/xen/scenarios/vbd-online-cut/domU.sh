# SPDX-License-Identifier: GPL-2.0
#
# vbd-online-cut (domU half): prepares three sets of vbd-online's four
# disks (xvda-xvdd, xvde-xvdh, xvdi-xvdl), then writes and flushes their
# loop regions pass after pass until the power goes
# (tests/xen/lib/onlinecut.sh, sk_oc_guest).

OG_ALL="xvda xvdb xvdc xvdd xvde xvdf xvdg xvdh xvdi xvdj xvdk xvdl"
OG_FILL="xvda xvde xvdi"
OG_FRAG="xvdb xvdf xvdj"
OL_MB=1

. /lib/splitkit/online.sh
. /lib/splitkit/onlinecut.sh

sk_oc_guest
