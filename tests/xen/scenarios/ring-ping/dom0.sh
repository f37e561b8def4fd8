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

# dom0_modules.sh loads and unloads splitkit_back itself (on a real host
# it skips those checks when splitkit_back is already serving, and skips
# outright next to xen-blkback): unload what an earlier scenario of this
# boot may have left, so every check runs here.
for m in splitkit_back xen_blkback splitkit_ring; do
	[ -d "/sys/module/$m" ] && rmmod "$m"
done
sk_selftests dom0_modules.sh
(export SPLITKIT_PING_DOMU=ring-ping; sk_selftests ring_ping_back.sh) &
bg=$!
sk_domU_run domU.cfg 560
wait $bg
