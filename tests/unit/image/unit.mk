# SPDX-License-Identifier: GPL-2.0
#
# Unit tests and fuzzers for the image engine core (image/core).

IMAGE_CORE := image/core/header.c image/core/vminfo.c image/core/image.c \
	      image/core/inflate.c image/core/check.c image/core/relocate.c \
	      image/core/merge.c image/core/ops.c image/user/platform_user.c

UNIT_TESTS	+= image_format
image_format_SRCS := tests/unit/image/test_format.c $(IMAGE_CORE)
image_format_CFLAGS := -I$(TOP)/image

UNIT_TESTS	+= image_engine
image_engine_SRCS := tests/unit/image/test_engine.c $(IMAGE_CORE)
image_engine_CFLAGS := -I$(TOP)/image

FUZZ_TARGETS	+= image_header
image_header_SRCS := tests/unit/image/fuzz_header.c $(IMAGE_CORE)
image_header_CFLAGS := -I$(TOP)/image
image_header_CORPUS := tests/unit/image/corpus/header

FUZZ_TARGETS	+= image_vminfo
image_vminfo_SRCS := tests/unit/image/fuzz_vminfo.c $(IMAGE_CORE)
image_vminfo_CFLAGS := -I$(TOP)/image
image_vminfo_CORPUS := tests/unit/image/corpus/vminfo

FUZZ_TARGETS	+= image_tables
image_tables_SRCS := tests/unit/image/fuzz_tables.c $(IMAGE_CORE)
image_tables_CFLAGS := -I$(TOP)/image
image_tables_CORPUS := tests/unit/image/corpus/tables

FUZZ_TARGETS	+= image_inflate
image_inflate_SRCS := tests/unit/image/fuzz_inflate.c $(IMAGE_CORE)
image_inflate_CFLAGS := -I$(TOP)/image
image_inflate_CORPUS := tests/unit/image/corpus/inflate

# Power cuts under a write-back cache model: the engine's file I/O is
# recorded through link-time wrappers (wbcache.c), not a platform hook.
UNIT_TESTS	+= image_wbcache
image_wbcache_SRCS := tests/unit/image/test_wbcache.c \
		      tests/unit/image/wbcache.c $(IMAGE_CORE)
image_wbcache_CFLAGS := -I$(TOP)/image \
	-Wl,--wrap=skp_open,--wrap=skp_close,--wrap=skp_pwrite \
	-Wl,--wrap=skp_flush,--wrap=skp_truncate
