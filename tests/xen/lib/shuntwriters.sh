# SPDX-License-Identifier: GPL-2.0
#
# The writers of the shunt's tests (the shunt phase's plain-QEMU guest,
# tests/shunt/guest.sh, and the hvm-shunt scenario's HVM guest): three
# kinds of checksummed files written without pause into /mnt/a, /mnt/b and
# /mnt/c of a mounted filesystem while splitkit_shunt moves the disk's I/O,
# each file's md5 appended to /tmp/sums.<kind> once it is written; each
# stops at its file count or when /tmp/stop exists, and leaves
# /tmp/err.<kind> if a write failed.  Busybox only.
#
#   a  128 KiB files, each fsynced
#   b  SHUNT_B_KB KiB files (default 1024) left to writeback: large bios,
#      which the emulated disk's queue splits; SHUNT_B_FILES of them (30)
#   c  256 KiB files in O_DIRECT 4 KiB writes, one after the other: a
#      stream of small synchronous bios with hardly a gap between them

# shunt_count FILE: its number of lines (0 if it does not exist).
shunt_count()
{
	if [ -f "$1" ]; then wc -l <"$1"; else echo 0; fi
}

# _shunt_write KIND MAX BLOCKS64K DD-ARGS...: files of BLOCKS64K x 64 KiB,
# each from fresh random data, written with dd DD-ARGS.
_shunt_write()
{
	local kind=$1 max=$2 blocks=$3 i=1 sum
	shift 3
	while [ ! -e /tmp/stop ] && [ "$i" -le "$max" ]; do
		dd if=/dev/urandom of=/tmp/src.$kind bs=64k count=$blocks \
			2>/dev/null
		sum=$(md5sum </tmp/src.$kind | cut -d' ' -f1)
		dd if=/tmp/src.$kind of="/mnt/$kind/$i" "$@" 2>/dev/null || {
			echo "writer $kind: file $i failed" >/tmp/err.$kind
			break
		}
		echo "$sum  $kind/$i" >>/tmp/sums.$kind
		i=$((i + 1))
	done
}

shunt_writer_a()
{
	_shunt_write a 300 2 bs=64k conv=fsync
}

shunt_writer_b()
{
	local kb=${SHUNT_B_KB:-1024}
	_shunt_write b "${SHUNT_B_FILES:-30}" $((kb / 64)) bs=${kb}k
}

shunt_writer_c()
{
	_shunt_write c 100 4 bs=4k oflag=direct
}

# shunt_verify: every file listed so far reads as written, from the disk
# (the page cache dropped first).
shunt_verify()
{
	sync
	echo 3 >/proc/sys/vm/drop_caches
	cat /tmp/sums.a /tmp/sums.b /tmp/sums.c >/tmp/sums.now 2>/dev/null
	(cd /mnt && md5sum -c -s /tmp/sums.now)
}
