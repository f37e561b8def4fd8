# SPDX-License-Identifier: GPL-2.0
#
# bench-ring: userspace benchmark of splitkit's ring core against the plain
# Xen io/ring.h macros (see ring/bench/bench_ring.c).  Included by the
# top-level Makefile, which sets TOP, BUILD and KDIR.
#
#   make bench-ring [RING_BENCH_ARGS="-n 2000000 -p 50000 -r 3"]

BENCHES += bench-ring

# The kernel headers' copy of io/ring.h, matching KDIR when possible.
RING_BENCH_XEN_RING_H := $(firstword $(wildcard \
	$(subst -amd64,-common,$(KDIR))/include/xen/interface/io/ring.h \
	/usr/src/linux-headers-*-common/include/xen/interface/io/ring.h))
RING_BENCH_BIN := $(BUILD)/bench/bench_ring
RING_BENCH_SRCS := $(TOP)/ring/bench/bench_ring.c $(TOP)/ring/core/ring.c \
	$(TOP)/ring/core/poll.c
RING_BENCH_ARGS ?=

.PHONY: bench-ring
bench-ring: $(RING_BENCH_BIN)
	$(RING_BENCH_BIN) $(RING_BENCH_ARGS)

$(RING_BENCH_BIN): $(RING_BENCH_SRCS) $(TOP)/include/splitkit/ring_core.h \
		   $(TOP)/include/splitkit/platform.h $(TOP)/ring/bench.mk
	@test -n "$(RING_BENCH_XEN_RING_H)" || \
		{ echo "bench-ring: no kernel io/ring.h found"; exit 1; }
	mkdir -p $(dir $@)
	gcc -std=gnu11 -O2 -g -Wall -Wextra -Werror -Wno-unused-parameter \
		-DSPLITKIT_USERSPACE -I$(TOP)/include \
		-I$(TOP)/ring/bench/shim \
		-DXEN_RING_H='"$(RING_BENCH_XEN_RING_H)"' \
		-o $@ $(RING_BENCH_SRCS) -lpthread
