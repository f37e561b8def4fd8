# SPDX-License-Identifier: GPL-2.0
#
# hvm-smoke (dom0 half): proves the harness can run HVM guests, which the
# shunt needs: an emulated disk and a PV path to the same disk.
#
#   dom0: /run/hvm-smoke.img -- QEMU (IDE emulation) --> sda  :HVM domU
#                            \-- QEMU qdisk ==ring==> xvda    :HVM domU
#
# dom0 writes region A; the guest verifies it through both paths, writes
# region B through the PV path and verifies it through the emulated one;
# dom0 verifies region B at the end.

. /lib/splitkit/fio.sh

img=/run/hvm-smoke.img
rm -f "$img"
truncate -s 256M "$img"
sk_check "dom0 writes region A (fio, crc32c)" sk_fio_region "$img" A write
sk_domU_run domU.cfg 420
sk_check "dom0 verifies region B written by the guest" \
	sk_fio_region "$img" B verify
rm -f "$img"
