# SPDX-License-Identifier: GPL-2.0
#
# vbd-qcow2-policy (dom0 only): splitkit_back enforces a qcow2 image's own
# policy (its VM information: expires, requires, allowed-domains,
# read-only, max-attach) and the rules for backing chains at attach, and
# xl create prints each refusal's reason; attaches and detaches land in
# the image's history.  Guests are created paused and never run.  The
# checks are sk_qcow2_policy in tests/xen/lib/qcow2.sh.

. /lib/splitkit/qcow2.sh

sk_qcow2_policy
