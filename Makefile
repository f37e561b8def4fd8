# SPDX-License-Identifier: GPL-2.0
#
# splitkit top-level Makefile.
#
#   make              build all modules against the default kernel headers
#   make deps         install every Debian package the project needs, and
#                     build the harness's lean fio (as root, once)
#   make check        unit tests, module builds for every installed Debian
#                     kernel (W=1, sparse), Xen-in-QEMU scenarios; ends with
#                     one line "N passed, N failed"
#   make check-debug  the core scenarios on a debug kernel (KFENCE, lockdep,
#                     kmemleak, ...), failing on any kernel report; slow
#   make demo         boot Xen + dom0 + a domU in QEMU and show disk I/O
#   make bench        every benchmark (bench-*)
#   make modules-all  build for every installed Debian kernel, W=1 C=1
#   make unit         userspace unit tests only (ASan + UBSan)
#   make xen-test     Xen-in-QEMU scenarios only (SCENARIOS=a,b to pick)
#
# KVER picks a kernel release (default: newest installed
# /usr/src/linux-headers-*-amd64, never 'uname -r'); KDIR overrides the
# headers directory outright.

TOP	:= $(abspath $(dir $(lastword $(MAKEFILE_LIST))))
KVER	?= $(shell $(TOP)/scripts/kver.sh)
KDIR	?= /usr/src/linux-headers-$(KVER)
BUILD	?= $(TOP)/build
V	?= 0

export TOP BUILD

.PHONY: all modules modules-all install clean deps check check-debug unit xen-test \
	demo bench help

all: modules

modules:
	$(MAKE) -C $(KDIR) M=$(TOP) modules

# Each kernel gets its own copy of the sources under build/kmod/<kver>, so
# builds for several kernels never share object files.
modules-all:
	@$(TOP)/scripts/build-modules.sh $(shell $(TOP)/scripts/kver.sh --all)

# Installs the production modules only (never the test modules) under
# $(DESTDIR)/lib/modules/$(KVER), the splitkit tool as /usr/sbin/splitkit
# (splitkit_negotiate's default mem_helper), and the xl hotplug script.
install:
	$(MAKE) -C $(KDIR) M=$(TOP) SPLITKIT_TEST_MODULES=n modules
	$(MAKE) -C $(KDIR) M=$(TOP) SPLITKIT_TEST_MODULES=n \
		$(if $(DESTDIR),INSTALL_MOD_PATH=$(DESTDIR)) modules_install
	depmod $(if $(DESTDIR),-b $(DESTDIR)) -a $(KVER)
	$(MAKE) -C $(TOP)/tools
	install -D -m 755 $(BUILD)/tools/splitkit $(DESTDIR)/usr/sbin/splitkit
	install -D -m 755 $(TOP)/tools/hotplug/splitkit \
		$(DESTDIR)/etc/xen/scripts/splitkit

deps:
	@$(TOP)/scripts/deps.sh

unit:
	@$(MAKE) -s -C $(TOP)/tests/unit run

xen-test:
	@$(TOP)/tests/xen/run.sh $(if $(SCENARIOS),--scenarios $(SCENARIOS))

check: deps
	@$(TOP)/tests/check.sh

# The kernel's bug finders (KFENCE, lockdep, kmemleak, ...) on a debug build
# of Debian's 6.1 kernel, cached in /var/cache/splitkit; hours the first
# time, too slow for 'make check'.
check-debug:
	@$(TOP)/scripts/deps.sh --debug
	@$(TOP)/tests/check-debug.sh

demo: deps
	@$(TOP)/tests/xen/run.sh --demo

# Benchmarks register themselves as bench-<name> targets in bench.mk files.
BENCHES :=
-include $(wildcard $(TOP)/*/bench.mk $(TOP)/tests/*/bench.mk)

bench: deps $(BENCHES)

clean:
	-$(MAKE) -C $(KDIR) M=$(TOP) clean
	$(MAKE) -s -C $(TOP)/tests/unit clean
	rm -rf $(BUILD)

help:
	@sed -n '3,22p' $(TOP)/Makefile | sed 's/^# \{0,1\}//'
