# SPDX-License-Identifier: GPL-2.0
#
# vbd-online-cut (dom0 half): one power cut that lands at three points of
# each of the four online operations, with the guest writing and flushing
# all along (tests/xen/lib/onlinecut.sh): three sets of vbd-online's
# images, twelve disks, each set's four operations cut at one point.
#
#   dom0: /mnt/powercut/online/<set>/: vbd-online's images ==> domU
#         cmp.qcow2 (compact), frag.qcow2 (defrag), cchild.qcow2 over
#         cbase.qcow2 (commit), schild.qcow2 over sbase.qcow2 (stream)
#     set e: xvda-xvdd, just past their start: moved >= 2 (compaction and
#         defragmentation past their table scans, the merges past their
#         first copies); steps of 2 (1 for the commit), guest_pace 2 (4)
#     set m: xvde-xvdh, midway: compaction, defragmentation and the
#         stream moved >= 64, the commit >= 6 of its 16; steps of 4 (1),
#         guest_pace 2 (4)
#     set l: xvdi-xvdl, with a quarter or less to go: compaction done
#         >= 192 of its 256 moves, the stream >= 352 of the 512 clusters
#         it walks, the commit moved >= 12 of 16, defragmentation done
#         >= 288 of the 400 guest clusters that hold data (its "done"
#         walks 512 but leaps over the last 112, which hold none, then
#         it compacts); steps of 8 or 16 (1), guest_pace 2 (4)
#     The stream's copies count as moved when written; it maps them in
#     one batch at the end of its pass (32 MiB), so sets e and m cut it
#     with copies written and not mapped (leaked; the child still reads
#     through its base there).
#
# Steps and paces leave each operation 16 guest requests or more from
# its end when dom0 holds it: seconds of the guest's writing, against
# dom0's polls twice a second.  The loop region is 1 MiB (OL_MB=1): with
# twelve disks a pass is 768 requests.

OG_ALL="xvda xvdb xvdc xvdd xvde xvdf xvdg xvdh xvdi xvdj xvdk xvdl"
OL_MB=1

. /lib/splitkit/online.sh
. /lib/splitkit/powercut.sh
. /lib/splitkit/onlinecut.sh

OC_OPS="e:xvda:compact:2:2:moved:2 e:xvdb:defrag:2:2:moved:2
	e:xvdc:commit:1:4:moved:2 e:xvdd:stream:2:2:moved:2
	m:xvde:compact:4:2:moved:64 m:xvdf:defrag:4:2:moved:64
	m:xvdg:commit:1:4:moved:6 m:xvdh:stream:4:2:moved:64
	l:xvdi:compact:8:2:done:192 l:xvdj:defrag:16:2:done:288
	l:xvdk:commit:1:4:moved:12 l:xvdl:stream:16:2:done:352"

sk_oc_host vbd-online-cut
