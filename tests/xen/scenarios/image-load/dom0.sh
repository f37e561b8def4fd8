# SPDX-License-Identifier: GPL-2.0
#
# image-load (dom0 only): splitkit_image.ko, the qcow2 core splitkit_back
# imports, loads into the running kernel (its zlib_inflate and crc32_le
# imports resolve) and unloads cleanly.  The module on its own: splitkit_back serving
# qcow2 is vbd-qcow2, the core's behaviour make unit and tests/image/phase.sh.
#
#   dom0: insmod splitkit_image.ko -> /sys/module/splitkit_image -> rmmod

. /lib/splitkit/blk.sh

sk_check "insmod splitkit_image" sk_insmod splitkit_image || return
sk_check "splitkit_image is live" \
	test "$(cat /sys/module/splitkit_image/initstate)" = live
sk_check "the core is in the running kernel (ski_open_file)" \
	grep -qw ski_open_file /proc/kallsyms
sk_check "rmmod splitkit_image" rmmod splitkit_image
sk_check "dmesg: no oops, warning or hung task" sk_blk_dmesg_clean
