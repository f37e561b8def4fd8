# SPDX-License-Identifier: GPL-2.0
# Unit tests of splitkit_shunt's portable switch core (shunt/core/).

UNIT_TESTS          += shunt_switch
shunt_switch_SRCS   := tests/unit/shunt/test_switch.c shunt/core/switch.c
shunt_switch_CFLAGS := -I$(TOP)/shunt/core
