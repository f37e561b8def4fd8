# SPDX-License-Identifier: GPL-2.0
# Unit tests and fuzzers for splitkit_back's request validator, sharing
# policy and attach rules (backend/core/).

UNIT_TESTS        += back_req
back_req_SRCS     := tests/unit/back/test_req.c backend/core/blkreq.c
back_req_CFLAGS   := -I$(TOP)/backend/core

FUZZ_TARGETS      += back_req_fuzz
back_req_fuzz_SRCS := tests/unit/back/fuzz_req.c backend/core/blkreq.c
back_req_fuzz_CFLAGS := -I$(TOP)/backend/core
back_req_fuzz_CORPUS := tests/unit/back/corpus/req

# The attach rules for qcow2 images (backend/core/policy.c) over the image
# core's VM information decoder: a table test and a fuzzer of the
# extension as the backend reads it at attach.
BACK_POLICY_SRCS := backend/core/policy.c image/core/vminfo.c \
		    image/user/platform_user.c

UNIT_TESTS        += back_policy
back_policy_SRCS  := tests/unit/back/test_policy.c $(BACK_POLICY_SRCS)
back_policy_CFLAGS := -I$(TOP)/backend/core -I$(TOP)/image
back_policy_LDLIBS := -lz

FUZZ_TARGETS      += back_policy_fuzz
back_policy_fuzz_SRCS := tests/unit/back/fuzz_policy.c $(BACK_POLICY_SRCS)
back_policy_fuzz_CFLAGS := -I$(TOP)/backend/core -I$(TOP)/image
back_policy_fuzz_LDLIBS := -lz
back_policy_fuzz_CORPUS := tests/unit/back/corpus/policy

UNIT_TESTS        += back_share
back_share_SRCS   := tests/unit/back/test_share.c backend/core/share.c
back_share_CFLAGS := -I$(TOP)/backend/core

# The mapped-grant pool's bookkeeping (backend/core/gmap.c): hits, misses,
# LRU evictions, all-or-nothing reservations, and never an eviction of a
# slot with I/O in flight.
UNIT_TESTS        += back_gmap
back_gmap_SRCS    := tests/unit/back/test_gmap.c backend/core/gmap.c
back_gmap_CFLAGS  := -I$(TOP)/backend/core
