# SPDX-License-Identifier: GPL-2.0
# Unit tests and fuzzer for splitkit_negotiate's portable core
# (negotiate/core/) and the token bucket (include/splitkit/bucket.h).

NEG_CORE := negotiate/core/state.c negotiate/core/parse.c \
	    negotiate/core/offer.c ring/core/parse.c

UNIT_TESTS          += neg_parse neg_offer neg_state neg_bucket neg_policy
neg_parse_SRCS      := tests/unit/negotiate/test_parse.c $(NEG_CORE)
neg_parse_CFLAGS    := -I$(TOP)/negotiate/core
neg_offer_SRCS      := tests/unit/negotiate/test_offer.c $(NEG_CORE)
neg_offer_CFLAGS    := -I$(TOP)/negotiate/core
neg_state_SRCS      := tests/unit/negotiate/test_state.c $(NEG_CORE)
neg_state_CFLAGS    := -I$(TOP)/negotiate/core
neg_policy_SRCS     := tests/unit/negotiate/test_policy.c \
		       tools/splitkit/negpolicy.c
neg_policy_CFLAGS   := -I$(TOP)/tools/splitkit
neg_bucket_SRCS     := tests/unit/negotiate/test_bucket.c
neg_bucket_CFLAGS   := -I$(TOP)/negotiate/core

FUZZ_TARGETS        += neg_msg
neg_msg_SRCS        := tests/unit/negotiate/fuzz_msg.c $(NEG_CORE)
neg_msg_CFLAGS      := -I$(TOP)/negotiate/core
neg_msg_CORPUS      := tests/unit/negotiate/corpus/msg
