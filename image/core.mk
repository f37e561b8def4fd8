# SPDX-License-Identifier: GPL-2.0
#
# The portable image core (image/core/), by file name without extension:
# the one list the splitkit tool (tools/Makefile), the unit tests and
# fuzzers (tests/unit/image/unit.mk) and the kernel module (image/Kbuild)
# all build from.  A new core file is added here and nowhere else.  The
# platform layer's host half is not listed: each world brings its own
# (image/user/, image/kernel/); its portable half (fileio, bulkio) is.

SKI_CORE := header vminfo rmap cache overlap refcount table io grow meta open create \
	    check relocate merge ops fileio bulkio
