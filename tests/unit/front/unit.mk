# SPDX-License-Identifier: GPL-2.0
# Unit test and fuzzer of splitkit_front's portable core (frontend/core/).

FRONT_CORE := frontend/core/track.c frontend/core/negotiate.c \
	      frontend/core/segs.c frontend/core/vdev.c \
	      frontend/core/route.c

UNIT_TESTS          += front_check
front_check_SRCS    := tests/unit/front/test_check.c $(FRONT_CORE)

FUZZ_TARGETS        += front_rsp
front_rsp_SRCS      := tests/unit/front/fuzz_rsp.c $(FRONT_CORE) \
		       ring/core/parse.c
front_rsp_CORPUS    := tests/unit/front/corpus/rsp
