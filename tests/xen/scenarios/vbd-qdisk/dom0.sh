# SPDX-License-Identifier: GPL-2.0
#
# vbd-qdisk (dom0 half): splitkit_front in the domU, QEMU's qdisk in dom0
# (no persistent grants or indirect segments: the frontend degrades to what
# it offers).
# The checks are the block-pair interop suite, tests/xen/lib/vbd.sh.

. /lib/splitkit/vbd.sh

sk_vbd_host qdisk vbd-qdisk
