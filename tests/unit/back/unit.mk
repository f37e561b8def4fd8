# SPDX-License-Identifier: GPL-2.0
# Unit tests and fuzzer for splitkit_back's request validator
# (backend/core/) and its sharing policy.

UNIT_TESTS        += back_req
back_req_SRCS     := tests/unit/back/test_req.c backend/core/blkreq.c
back_req_CFLAGS   := -I$(TOP)/backend/core

FUZZ_TARGETS      += back_req_fuzz
back_req_fuzz_SRCS := tests/unit/back/fuzz_req.c backend/core/blkreq.c
back_req_fuzz_CFLAGS := -I$(TOP)/backend/core
back_req_fuzz_CORPUS := tests/unit/back/corpus/req

UNIT_TESTS        += back_share
back_share_SRCS   := tests/unit/back/test_share.c backend/core/share.c
back_share_CFLAGS := -I$(TOP)/backend/core
