# SPDX-License-Identifier: GPL-2.0
#
# demo (dom0 half): serve a 512 MiB file to a PV guest and check, after the
# guest has powered off, that the filesystem it made is clean and holds
# its files.
#
#   dom0: /run/demo.img --loop--> xen-blkback ==ring==> xen-blkfront :domU
#
# The block-pair work switches this to splitkit_back + splitkit_front.

img=/run/demo.img
sk_check "load the block backend" sk_modprobe xen-blkback loop || return
rm -f "$img"
truncate -s 512M "$img"
sk_comment "backend: Linux xen-blkback, disk: $img (512 MiB file)"
sk_domU_run domU.cfg 400
sk_check "dom0: e2fsck finds the guest's filesystem clean" e2fsck -fn "$img"
rm -f "$img"
