# SPDX-License-Identifier: GPL-2.0
#
# The writers of the shunt's tests (the shunt phase's plain-QEMU guest,
# tests/shunt/guest.sh, and the hvm-shunt scenario's HVM guest): three
# kinds of checksummed files written without pause into /mnt/a, /mnt/b and
# /mnt/c of a mounted filesystem while splitkit_shunt moves the disk's I/O,
# each file's md5 appended to /tmp/sums.<kind> once it is written and the
# number of files written so far in /tmp/written.<kind>.  a and c go on
# until /tmp/stop exists, keeping their newest files only (the oldest is
# taken off the list, then deleted: the filesystem never fills, however
# fast the machine writes); b stops at its file count.  Each leaves
# /tmp/err.<kind> if a write failed.  Busybox only.  Also which sd disk an
# HVM guest's IDE disk is (shunt_emul_disk; hvm-shunt and bench-shunt).
#
#   a  128 KiB files, each fsynced; the newest 300 kept
#   b  SHUNT_B_KB KiB files (default 1024) left to writeback: large bios,
#      which the emulated disk's queue splits; SHUNT_B_FILES of them (30)
#   c  256 KiB files in O_DIRECT 4 KiB writes, one after the other: a
#      stream of small synchronous bios with hardly a gap between them;
#      the newest 100 kept

# shunt_unloaded_back N: the kernel log after its first N lines (N from
# 'dmesg | wc -l' just before an rmmod of splitkit_shunt) says the module
# switched to the emulated path and then unloaded, its last line.  The
# unload's own line alone proves nothing: the module prints it at every
# unload, whatever path it was on, and an earlier unload's stays in the
# log.
shunt_unloaded_back()
{
	dmesg | sed -n "$(($1 + 1)),\$p" | grep -o 'splitkit_shunt: .*' \
		>/tmp/unload.log
	grep -q ' now on its emulated path; ' /tmp/unload.log &&
		tail -n 1 /tmp/unload.log |
		grep -qx 'splitkit_shunt: back on the emulated path, unloaded'
}

# shunt_count FILE: its number of lines (0 if it does not exist).
shunt_count()
{
	if [ -f "$1" ]; then wc -l <"$1"; else echo 0; fi
}

# shunt_written KIND: how many files writer KIND has written so far.
shunt_written()
{
	cat "/tmp/written.$1" 2>/dev/null || echo 0
}

# _shunt_lock, _shunt_unlock: the lock a verify holds while it reads the
# files listed, and a writer while it deletes one (mkdir is atomic).
_shunt_lock()
{
	until mkdir /tmp/sums.lock 2>/dev/null; do
		sleep 1
	done
}

_shunt_unlock()
{
	rmdir /tmp/sums.lock
}

# _shunt_forget KIND N: take file N of KIND off the list, then delete it.
_shunt_forget()
{
	_shunt_lock
	grep -v "  $1/$2\$" "/tmp/sums.$1" >"/tmp/sums.$1.new"
	mv "/tmp/sums.$1.new" "/tmp/sums.$1"
	rm -f "/mnt/$1/$2"
	_shunt_unlock
}

# _shunt_write KIND MAX ROTATE BLOCKS64K DD-ARGS...: files of BLOCKS64K x
# 64 KiB, each from fresh random data, written with dd DD-ARGS; after MAX
# files, stop (ROTATE 0) or delete the oldest before each new one (1).
_shunt_write()
{
	local kind=$1 max=$2 rotate=$3 blocks=$4 i=1 sum
	shift 4
	while [ ! -e /tmp/stop ]; do
		if [ "$i" -gt "$max" ]; then
			[ "$rotate" -eq 1 ] || break
			_shunt_forget "$kind" $((i - max))
		fi
		dd if=/dev/urandom of=/tmp/src.$kind bs=64k count=$blocks \
			2>/dev/null
		sum=$(md5sum </tmp/src.$kind | cut -d' ' -f1)
		dd if=/tmp/src.$kind of="/mnt/$kind/$i" "$@" 2>/dev/null || {
			echo "writer $kind: file $i failed" >/tmp/err.$kind
			break
		}
		echo "$sum  $kind/$i" >>/tmp/sums.$kind
		echo "$i" >/tmp/written.$kind
		i=$((i + 1))
	done
}

shunt_writer_a()
{
	_shunt_write a 300 1 2 bs=64k conv=fsync
}

shunt_writer_b()
{
	local kb=${SHUNT_B_KB:-1024}
	_shunt_write b "${SHUNT_B_FILES:-30}" 0 $((kb / 64)) bs=${kb}k
}

shunt_writer_c()
{
	_shunt_write c 100 1 4 bs=4k oflag=direct
}

# shunt_verify [new]: every file listed so far reads as written, from the
# disk (the page cache dropped first); no writer deletes one meanwhile.
# With "new": only the files listed since the last verify that passed (at
# least one, or it fails; every file if none passed yet).  /tmp/sums.now
# keeps the list verified.
shunt_verify()
{
	local rc
	sync
	echo 3 >/proc/sys/vm/drop_caches
	_shunt_lock
	cat /tmp/sums.a /tmp/sums.b /tmp/sums.c >/tmp/sums.all 2>/dev/null
	if [ "${1:-}" = new ] && [ -f /tmp/sums.verified ]; then
		grep -v -x -F -f /tmp/sums.verified /tmp/sums.all >/tmp/sums.now
	else
		cp /tmp/sums.all /tmp/sums.now
	fi
	if [ -s /tmp/sums.now ]; then
		(cd /mnt && md5sum -c -s /tmp/sums.now)
		rc=$?
	else
		echo "shunt_verify: no file to verify" >&2
		rc=1
	fi
	[ "$rc" -eq 0 ] && cp /tmp/sums.all /tmp/sums.verified
	_shunt_unlock
	return $rc
}

# shunt_emul_disk N: the sd disk of IDE disk N (ata_piix: channel N / 2 is
# libata's port ata<N/2+1>, unit N % 2 the SCSI target id)
shunt_emul_disk()
{
	local d
	for d in /sys/block/sd*; do
		case "$(readlink -f "$d/device")" in
		*/ata$(($1 / 2 + 1))/host*/target*:0:$(($1 % 2))/*)
			echo "${d##*/}"
			return 0 ;;
		esac
	done
	return 1
}
