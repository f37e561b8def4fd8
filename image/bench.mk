# SPDX-License-Identifier: GPL-2.0
#
# bench-img: image engine throughput against qemu-img on the same images in
# the same run (see image/bench.sh).  BENCH_IMG_MB sets the image size.

BENCHES += bench-img

.PHONY: bench-img
bench-img:
	@$(MAKE) -s -C $(TOP)/tools BUILD=$(BUILD)
	@TOP=$(TOP) BUILD=$(BUILD) $(TOP)/image/bench.sh
