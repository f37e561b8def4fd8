# SPDX-License-Identifier: GPL-2.0
# Unit test and fuzzer of splitkit_front's portable core (frontend/core/).

UNIT_TESTS          += front_check
front_check_SRCS    := tests/unit/front/test_check.c frontend/core/check.c

FUZZ_TARGETS        += front_rsp
front_rsp_SRCS      := tests/unit/front/fuzz_rsp.c frontend/core/check.c
front_rsp_CORPUS    := tests/unit/front/corpus/rsp
