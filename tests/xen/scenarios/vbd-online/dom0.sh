# SPDX-License-Identifier: GPL-2.0
#
# vbd-online (dom0 half): compact, defrag, commit and stream of qcow2
# images served by splitkit_back while the guest's fio verify loop writes
# them (tests/xen/lib/online.sh).

. /lib/splitkit/online.sh

sk_online_host
