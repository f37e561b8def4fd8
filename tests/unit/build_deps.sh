#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# The unit tests' own build (tests/unit/Makefile) tracks header
# dependencies: once everything is built make has nothing to do, and a
# header that changed rebuilds the objects whose sources include it and no
# others.  "Changed" is make's -W (what if), so no file is touched.  Run
# by 'make -C tests/unit run' after the build, as one more test binary;
# needs TOP and BUILD (the Makefile's).

set -u
mk()
{
	# not the calling make's flags (a -j's jobserver is not passed on)
	env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL \
		make --no-print-directory -s -C "$TOP/tests/unit" TOP="$TOP" \
		BUILD="$BUILD" -n "$@" all 2>&1
}
n=0
check()
{
	n=$((n + 1))
	if [ "$1" = 0 ]; then
		echo "ok $n $2"
	else
		echo "$3" | head -n 5 | sed 's/^/# /'
		echo "not ok $n $2"
	fi
}

echo "KTAP version 1"
echo "1..3"
out=$(mk)
[ -z "$out" ]
check $? "built: nothing left to do" "$out"
out=$(mk -W "$TOP/image/core/image_priv.h")
echo "$out" | grep -q '/obj/gcc/[^ ]*/image/core/io\.o'
check $? "image/core/image_priv.h changed: the image core is rebuilt" "$out"
echo "$out" | grep -q 'ring/core/ring\.o'
[ $? != 0 ]
check $? "image/core/image_priv.h changed: the ring core is not" "$out"
