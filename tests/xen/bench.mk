# SPDX-License-Identifier: GPL-2.0
#
# bench-blk: our block pair (splitkit_front + splitkit_back) against the
# stock pair (xen-blkfront + xen-blkback) and fio in dom0 on the backing
# device itself, in one Xen-in-QEMU boot on one backing device (see
# tests/xen/bench-blk.sh and tests/xen/scenarios/bench-blk/).  Prints a table
# of ratios, saved to $(BUILD)/bench/blk.txt.

#
# bench-qcow2: one qcow2 image served by splitkit_back against the same
# image served by QEMU qdisk and against the raw file it was made from
# served by splitkit_back, splitkit_front in every guest (issue 10's
# table), saved to $(BUILD)/bench/qcow2.txt.

#
# bench-online: splitkit_back's online compaction and commit, the guest's
# read latency during them and their speed against a sequential copy and
# the offline qemu-img anchors (issue 11's table), saved to
# $(BUILD)/bench/online.txt.

#
# bench-shunt: one HVM guest's fio jobs on one file through its emulated
# IDE disk, through splitkit_shunt and on the PV disk directly (issue
# 13's table), saved to $(BUILD)/bench/shunt.txt.

BENCHES += bench-blk bench-qcow2 bench-online bench-shunt

.PHONY: bench-blk bench-qcow2 bench-online bench-shunt
bench-blk:
	@TOP=$(TOP) BUILD=$(BUILD) $(TOP)/tests/xen/bench-blk.sh

bench-qcow2:
	@TOP=$(TOP) BUILD=$(BUILD) BENCH_NAME=$${BENCH_NAME:-qcow2} \
		BENCH_PAIRS="$${BENCH_PAIRS:-qdisk qcow2 raw}" \
		$(TOP)/tests/xen/bench-blk.sh

bench-online:
	@TOP=$(TOP) BUILD=$(BUILD) $(TOP)/tests/xen/bench-online.sh

bench-shunt:
	@TOP=$(TOP) BUILD=$(BUILD) $(TOP)/tests/xen/bench-shunt.sh
