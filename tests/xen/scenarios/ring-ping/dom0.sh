# SPDX-License-Identifier: GPL-2.0
#
# ring-ping (dom0 half): runs the kselftest package's dom0 tests
# (tests/selftests): dom0_modules.sh (splitkit_back and splitkit_ring load,
# parameters, unload), then ring_ping_back.sh in the background, which
# serves this scenario's domU running ring_ping_front.sh (domU.sh) through
# splitkit_ring.  The checks live in the package, so a real Xen host runs
# the same ones (Documentation/testing.rst, "kselftest package").
#
#   dom0: splitkit_ping_back <==ring + event channel (per queue)==> domU
#         (XenStore nodes of device "splitkit-ping" written by the test)

. /lib/splitkit/selftests.sh

sk_selftests dom0_modules.sh
(export SPLITKIT_PING_DOMU=ring-ping; sk_selftests ring_ping_back.sh) &
bg=$!
sk_domU_run domU.cfg 560
wait $bg
