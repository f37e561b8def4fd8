#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# vbd-online-cut-ends (host half): vbd-online-cut's, which checks the
# chains dom0's expect file names.
#
# Usage: host.sh POWERCUT_IMG POWERCUT_4K_IMG

exec "$(dirname "$0")/../vbd-online-cut/host.sh" "$@"
