# SPDX-License-Identifier: GPL-2.0
# Unit tests and fuzzers for splitkit_ring's portable core (ring/core/).

RING_CORE := ring/core/ring.c ring/core/poll.c ring/core/parse.c \
	     ring/core/state.c ring/core/xs.c

UNIT_TESTS        += ring_index ring_threads ring_state ring_poll ring_xs
ring_index_SRCS   := tests/unit/ring/test_index.c $(RING_CORE)
ring_threads_SRCS := tests/unit/ring/test_threads.c $(RING_CORE)
ring_state_SRCS   := tests/unit/ring/test_state.c $(RING_CORE)
ring_poll_SRCS    := tests/unit/ring/test_poll.c $(RING_CORE)
ring_xs_SRCS      := tests/unit/ring/test_xs.c $(RING_CORE)

FUZZ_TARGETS      += ring_peer ring_parse ring_xbstate
ring_peer_SRCS    := tests/unit/ring/fuzz_peer.c $(RING_CORE)
ring_peer_CORPUS  := tests/unit/ring/corpus/peer
ring_parse_SRCS   := tests/unit/ring/fuzz_parse.c $(RING_CORE)
ring_parse_CORPUS := tests/unit/ring/corpus/parse
ring_xbstate_SRCS := tests/unit/ring/fuzz_xbstate.c $(RING_CORE)
