# SPDX-License-Identifier: GPL-2.0
#
# front-qdisk (dom0 half): splitkit_front against QEMU's qdisk, the other
# stock blkif backend (no persistent grants, no indirect segments: the
# frontend must degrade to what it offers).
#
#   dom0: /run/front-qdisk.img -- QEMU qdisk ==ring==> splitkit_front :domU
#
# dom0 writes the whole disk with fio crc32c verify headers, the domU
# verifies it and writes it again, dom0 verifies that afterwards.
# ('needs' says hvm only because qdisk needs QEMU's device model in dom0.)

. /lib/splitkit/front.sh

img=/run/front-qdisk.img
rm -f "$img"
truncate -s 256M "$img"
sk_check "dom0 writes all of the disk (fio, crc32c)" \
	skf_fio_whole "$img" write 31
sk_domU_run domU.cfg 480
sk_check "dom0 verifies all of the disk as written by the domU" \
	skf_fio_whole "$img" verify 32 128k
rm -f "$img"
