# SPDX-License-Identifier: GPL-2.0
#
# bench-blk: our block pair (splitkit_front + splitkit_back) against the
# stock pair (xen-blkfront + xen-blkback) and fio in dom0 on the backing
# device itself, in one Xen-in-QEMU boot on one backing device (see
# tests/xen/bench-blk.sh and tests/xen/scenarios/bench-blk/).  Prints a table
# of ratios, saved to $(BUILD)/bench/blk.txt.

BENCHES += bench-blk

.PHONY: bench-blk
bench-blk:
	@TOP=$(TOP) BUILD=$(BUILD) $(TOP)/tests/xen/bench-blk.sh
