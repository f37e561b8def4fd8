# SPDX-License-Identifier: GPL-2.0
#
# vbd-online-cut-ends (dom0 half): one power cut that lands near the
# start of all four online operations and near the end of all four
# others, with the guest writing and flushing all along
# (tests/xen/lib/onlinecut.sh; vbd-online-cut cuts them midway).
#
#   dom0: /mnt/powercut/online/e/: vbd-online's images ==> domU xvda
#         (compact), xvdb (defrag), xvdc (commit), xvdd (stream):
#         steps of 2 clusters, guest_pace 2 (8 for the commit), cut once
#         each moved its first clusters (moved >= 2): compaction and
#         defragmentation past their table scans, the merges past their
#         first copies
#         /mnt/powercut/online/l/: the same ==> xvde, xvdf, xvdg, xvdh:
#         cut with a quarter or less to go: compaction done >= 192 of its
#         256 moves, the stream >= 384 of the 512 clusters it walks, the
#         commit moved >= 24 of its 32, defragmentation done >= 288 of
#         the 400 guest clusters that hold data (its "done" walks 512 but
#         leaps over the last 112, which hold none, then it compacts).
#         Steps and paces leave each 16 guest requests or more from its
#         end when dom0 holds it: several seconds of the guest's writing,
#         against dom0's polls twice a second.
#
# The loop region is 1 MiB (OL_MB=1): eight disks take the guest twice
# as long a pass as vbd-online-cut's four.
# Each operation is held where it reached its point until all are there
# (onlinecut.sh), so the early ones are not cut midway after all and the
# late ones do not finish first.

OG_ALL="xvda xvdb xvdc xvdd xvde xvdf xvdg xvdh"
OL_MB=1

. /lib/splitkit/online.sh
. /lib/splitkit/powercut.sh
. /lib/splitkit/onlinecut.sh

OC_OPS="e:xvda:compact:2:2:moved:2 e:xvdb:defrag:2:2:moved:2
	e:xvdc:commit:2:8:moved:2 e:xvdd:stream:2:2:moved:2
	l:xvde:compact:8:2:done:192 l:xvdf:defrag:16:2:done:288
	l:xvdg:commit:2:4:moved:24 l:xvdh:stream:16:2:done:384"

sk_oc_host vbd-online-cut-ends
