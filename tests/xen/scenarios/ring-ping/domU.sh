# SPDX-License-Identifier: GPL-2.0
#
# ring-ping (domU half): the kselftest package's ring_ping_front.sh
# (splitkit_ping_front against dom0's splitkit_ping_back, both on
# splitkit_ring; see tests/selftests/ring_ping_front.sh).  SPLITKIT_PING=1:
# dom0 adds the device, the test must run.

. /lib/splitkit/selftests.sh

export SPLITKIT_PING=1
sk_selftests ring_ping_front.sh
