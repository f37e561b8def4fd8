# SPDX-License-Identifier: GPL-2.0
#
# back-barrier (dom0 half): splitkit_back's BLKIF_OP_WRITE_BARRIER orders
# each ring and makes data durable, on both I/O paths.
#
#   dom0: /run/bb-file.img (file, in place)      -> splitkit_back ==blkif==>
#         /run/bb-dev.img --loop--> /dev/loopN   -> (bios)          splitkit_hostile
#         /run/bb-ro.img (read-only)             ->             test=barrier :domU
#
# The domU sends, in one push, writes | barrier with data | writes |
# empty barrier | write, groups overlapping each other
# (tests/modules/hostile/barrier.c), and checks the answers' order and
# the data read back.  Here: the counters show the barriers were taken
# (2 per writable disk, the empty one on the read-only disk), each block
# of the test region in both backing files holds the data of the group
# that wrote it last, everything outside the region and the read-only
# file are untouched.

. /lib/splitkit/blk.sh

name=back-barrier
cfg=/run/back-barrier.cfg
file=/run/bb-file.img
dimg=/run/bb-dev.img
ro=/run/bb-ro.img
base=16		# first 4 KiB block of the test region (barrier.c HB_BASE)
blocks=66	# its size (HB_BLOCKS)

# bb_expect REL: the group that writes relative block REL last (the plan
# of barrier.c: 1 = before the barrier, 2 = the barrier, 3 = after it,
# 5 = after the empty barrier).
bb_expect()
{
	if [ "$1" -lt 5 ]; then echo 1
	elif [ "$1" -lt 10 ]; then echo 2
	elif [ "$1" -lt 18 ]; then echo 3
	elif [ "$1" -lt 29 ]; then echo 5
	elif [ "$1" -lt 33 ]; then echo 1
	else echo 3
	fi
}

# bb_region IMG: every test block holds "blk NNNNN gen G" lines only,
# G the expected group; prints the blocks that do not.
bb_region()
{
	local b=0 want got bad=0
	while [ "$b" -lt "$blocks" ]; do
		want=$(printf 'blk %05d gen %d' $((base + b)) "$(bb_expect "$b")")
		got=$(dd if="$1" bs=4096 skip=$((base + b)) count=1 2>/dev/null |
		      sort -u | head -c 200 | tr '\n' '|')
		if [ "$got" != "$want|" ]; then
			echo "block $((base + b)): '$got', want '$want'"
			bad=$((bad + 1))
		fi
		b=$((b + 1))
	done
	[ "$bad" -eq 0 ]
}

# bb_outside IMG: md5 of everything but the test region.
bb_outside()
{
	{ dd if="$1" bs=4096 count="$base" 2>/dev/null
	  dd if="$1" bs=4096 skip=$((base + blocks)) 2>/dev/null; } | md5sum
}

# bb_stat DEVID KEY: one counter of the snapshot taken below.
bb_stat()
{
	sk_blk_stat "/run/bb-$1.stats" "$2"
}

sk_check "load splitkit_back (xen-blkback not loaded)" sk_blk_load_back ||
	return
sk_check "load loop" sk_modprobe loop || return
rm -f "$file" "$dimg" "$ro" /run/bb-*.stats
dd if=/dev/urandom of="$file" bs=1M count=16 2>/dev/null
dd if=/dev/urandom of="$dimg" bs=1M count=16 2>/dev/null
dd if=/dev/urandom of="$ro" bs=1M count=16 2>/dev/null
file_out=$(bb_outside "$file")
dimg_out=$(bb_outside "$dimg")
ro_sum=$(md5sum <"$ro")
loop=$(losetup -f)
sk_check "loop device $loop over $dimg" losetup "$loop" "$dimg" || return
sed "s|@LOOP@|$loop|" domU.cfg >"$cfg"

rm -f "/var/log/xen/console/guest-$name.log"
if sk_check "xl create domU.cfg" xl create "$cfg"; then
	sk_check "domU finished the barrier test" \
		sk_hs_wait_from "$name" barrier-test-done 450
	domid=$(xl domid "$name")
	for devid in 51712 51728 51744; do
		sk_blk_stats "$domid" "$devid" >"/run/bb-$devid.stats" 2>&1
		sk_comment "vbd-$devid: $(tr '\n' ' ' <"/run/bb-$devid.stats")"
	done
	sk_check "xl destroy" xl destroy "$name"
	sk_check "domU gone" sk_blk_gone "$name" 60
	sk_blk_relay "$name"
fi
sk_check "backend devices torn down" sk_blk_no_vbd 60

sk_check "file disk: 2 barriers taken, no refusal or I/O error" \
	test "$(bb_stat 51712 barriers) $(bb_stat 51712 refused) $(bb_stat 51712 io_errors)" = "2 0 0"
sk_check "device disk: 2 barriers taken, no refusal or I/O error" \
	test "$(bb_stat 51728 barriers) $(bb_stat 51728 refused) $(bb_stat 51728 io_errors)" = "2 0 0"
sk_check "read-only disk: the empty barrier taken, the one with data refused" \
	test "$(bb_stat 51744 barriers) $(bb_stat 51744 refused)" = "1 1"
sk_check "file disk: test region holds the last writer's data" \
	bb_region "$file"
sk_check "file disk: nothing outside the test region changed" \
	test "$(bb_outside "$file")" = "$file_out"
sk_check "release $loop" losetup -d "$loop"
sk_check "device disk: test region holds the last writer's data" \
	bb_region "$dimg"
sk_check "device disk: nothing outside the test region changed" \
	test "$(bb_outside "$dimg")" = "$dimg_out"
sk_check "read-only disk unchanged" test "$(md5sum <"$ro")" = "$ro_sum"
sk_check "splitkit_back holds no references" \
	test "$(cat /sys/module/splitkit_back/refcnt)" = 0
sk_check "rmmod splitkit_back" rmmod splitkit_back
sk_blk_dmesg_dump
sk_check "dmesg: no oops, warning or hung task" sk_blk_dmesg_clean
rm -f "$file" "$dimg" "$ro" "$cfg" /run/bb-*.stats
