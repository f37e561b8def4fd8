# SPDX-License-Identifier: GPL-2.0
#
# vbd-online-ctl (domU half), on the stock xen-blkfront: writes xvda whole
# and discards its first half, writes xvdb and xvdc in random cluster
# order, then runs fio verify passes on xvda alone until dom0 says stop;
# xvdb and xvdc stay idle (dom0 detaches xvdc), and xvdb's md5 is checked
# again at the end (tests/xen/lib/online.sh).

OG_ALL="xvda xvdb xvdc"
OG_FRAG="xvdb xvdc"
OG_DISKS="xvda"
OG_END="xvda xvdb"
. /lib/splitkit/online.sh

sk_online_guest
