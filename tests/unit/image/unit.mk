# SPDX-License-Identifier: GPL-2.0
#
# Unit tests and fuzzers for the image engine core (image/core).

include $(TOP)/image/core.mk
IMAGE_CORE := $(patsubst %,image/core/%.c,$(SKI_CORE)) \
	      image/user/platform_user.c

UNIT_TESTS	+= image_format
image_format_SRCS := tests/unit/image/test_format.c $(IMAGE_CORE)

UNIT_TESTS	+= image_engine
image_engine_SRCS := tests/unit/image/test_engine.c \
		     tests/unit/image/helpers.c $(IMAGE_CORE)

UNIT_TESTS	+= image_limits
image_limits_SRCS := tests/unit/image/test_limits.c \
		     tests/unit/image/helpers.c $(IMAGE_CORE)

UNIT_TESTS	+= image_online
image_online_SRCS := tests/unit/image/test_online.c \
		     tests/unit/image/helpers.c $(IMAGE_CORE)

UNIT_TESTS	+= image_serve
image_serve_SRCS := tests/unit/image/test_serve.c \
		    tests/unit/image/helpers.c $(IMAGE_CORE)

UNIT_TESTS	+= image_open
image_open_SRCS := tests/unit/image/test_open.c \
		   tests/unit/image/helpers.c $(IMAGE_CORE)

UNIT_TESTS	+= image_overlap
image_overlap_SRCS := tests/unit/image/test_overlap.c \
		      tests/unit/image/helpers.c $(IMAGE_CORE)

FUZZ_TARGETS	+= image_header
image_header_SRCS := tests/unit/image/fuzz_header.c $(IMAGE_CORE)
image_header_CORPUS := tests/unit/image/corpus/header

FUZZ_TARGETS	+= image_vminfo
image_vminfo_SRCS := tests/unit/image/fuzz_vminfo.c $(IMAGE_CORE)
image_vminfo_CORPUS := tests/unit/image/corpus/vminfo

FUZZ_TARGETS	+= image_tables
image_tables_SRCS := tests/unit/image/fuzz_tables.c $(IMAGE_CORE)
image_tables_CORPUS := tests/unit/image/corpus/tables

FUZZ_TARGETS	+= image_inflate
image_inflate_SRCS := tests/unit/image/fuzz_inflate.c $(IMAGE_CORE)
image_inflate_CORPUS := tests/unit/image/corpus/inflate

# Power cuts under a write-back cache model: the engine's file I/O is
# recorded through link-time wrappers (wbcache.c), not a platform hook.
# --wrap reaches only calls that cross an object file, so the model sees
# every write as long as the engine writes through skp_pwrite() from outside
# core/fileio.c (where skp_pwrite() loops over skp_write_at()) and nothing
# else calls skp_write_at(); check with nm that only fileio.o imports it.
UNIT_TESTS	+= image_wbcache
image_wbcache_SRCS := tests/unit/image/test_wbcache.c \
		      tests/unit/image/wbcache.c \
		      tests/unit/image/helpers.c $(IMAGE_CORE)
image_wbcache_CFLAGS := \
	-Wl,--wrap=skp_open,--wrap=skp_close,--wrap=skp_pwrite \
	-Wl,--wrap=skp_flush,--wrap=skp_truncate

# Every image target: the core's headers, and zlib under its platform layer.
# (Header dependencies come from the generic rules' <object>.d files.)
$(foreach t,$(filter image_%,$(UNIT_TESTS) $(FUZZ_TARGETS)),\
	$(eval $(t)_CFLAGS += -I$(TOP)/image)$(eval $(t)_LDLIBS += -lz))
