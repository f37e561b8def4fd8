# SPDX-License-Identifier: GPL-2.0
#
# vbd-online-cut (dom0 half): a power cut in the middle of all four online
# operations at once, each well into its moves, with the guest writing and
# flushing all along (tests/xen/lib/onlinecut.sh; vbd-online-cut-ends cuts
# them near their start and near their end).
#
#   dom0: /mnt/powercut/online/m/: vbd-online's images, splitkit_back ==>
#         domU cmp.qcow2 xvda (compact), frag.qcow2 xvdb (defrag),
#         cchild.qcow2 xvdc (commit into cbase.qcow2), schild.qcow2 xvdd
#         (stream sbase.qcow2 in)
#
# Steps of 2 clusters, guest_pace 8 (64 for the commit, which has only 32
# clusters to move); cut past their set-up steps (compaction and
# defragmentation first scan the tables) and a quarter into compaction's
# 256 moves: moved >= 64 (8 for the commit).

. /lib/splitkit/online.sh
. /lib/splitkit/powercut.sh
. /lib/splitkit/onlinecut.sh

OC_OPS="m:xvda:compact:2:8:moved:64 m:xvdb:defrag:2:8:moved:64
	m:xvdc:commit:2:64:moved:8 m:xvdd:stream:2:8:moved:64"

sk_oc_host vbd-online-cut
