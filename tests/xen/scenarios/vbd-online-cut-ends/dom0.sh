# SPDX-License-Identifier: GPL-2.0
#
# vbd-online-cut-ends (dom0 half): one power cut that lands near the
# start of all four online operations and near the end of all four
# others, with the guest writing and flushing all along
# (tests/xen/lib/onlinecut.sh; vbd-online-cut cuts them midway).
#
#   dom0: /mnt/powercut/online/e/: vbd-online's images ==> domU xvda
#         (compact), xvdb (defrag), xvdc (commit), xvdd (stream):
#         steps of 2 clusters, guest_pace 8 (64 for the commit), cut once
#         each moved its first clusters (moved >= 2): compaction and
#         defragmentation past their table scans, the merges past their
#         first copies
#         /mnt/powercut/online/l/: the same ==> xvde, xvdf, xvdg, xvdh:
#         steps of 4, guest_pace 2 (16 for the commit), cut with an
#         eighth or less to go: done >= 224 of compaction's 256, >= 448
#         of the 512 the others scan, the commit's moved >= 24 of its 32
#
# Each operation is held where it reached its point until all are there
# (onlinecut.sh), so the early ones are not cut midway after all and the
# late ones do not finish first.

OG_ALL="xvda xvdb xvdc xvdd xvde xvdf xvdg xvdh"

. /lib/splitkit/online.sh
. /lib/splitkit/powercut.sh
. /lib/splitkit/onlinecut.sh

OC_OPS="e:xvda:compact:2:8:moved:2 e:xvdb:defrag:2:8:moved:2
	e:xvdc:commit:2:64:moved:2 e:xvdd:stream:2:8:moved:2
	l:xvde:compact:4:2:done:224 l:xvdf:defrag:4:2:done:448
	l:xvdg:commit:4:16:moved:24 l:xvdh:stream:4:2:done:448"

sk_oc_host vbd-online-cut-ends
