# SPDX-License-Identifier: GPL-2.0
#
# hvm-shunt (guest half): a filesystem on the emulated disk (sda) keeps
# being written while splitkit_shunt moves sda's I/O to the PV disk (xvda,
# splitkit_front) and back; afterwards every file reads as written.  The
# steps wait for observable state (files written, the shunt's path), never
# for time.  Busybox tools only (the small HVM initramfs).

SYS=/sys/kernel/splitkit_shunt

hs_files_at_least()
{
	[ "$(wc -l </tmp/sums 2>/dev/null || echo 0)" -ge "$1" ]
}

hs_path_is()
{
	[ "$(cat $SYS/path 2>/dev/null)" = "$1" ]
}

# sda's write count (sectors written, /sys/block/sda/stat field 7)
hs_sda_writes()
{
	awk '{ print $7 }' /sys/block/sda/stat
}

hs_writer()
{
	local i=1
	while [ ! -e /tmp/stop ] && [ "$i" -le 400 ]; do
		dd if=/dev/urandom of="/mnt/f$i" bs=64k count=4 conv=fsync \
			2>/dev/null || break
		md5sum "/mnt/f$i" >>/tmp/sums
		i=$((i + 1))
	done
}

sk_check "running in an HVM guest" grep -qi hvm /sys/hypervisor/guest_type
sk_check "load ata_piix and sd_mod" sk_modprobe ata_piix sd_mod
sk_check "emulated disk /dev/sda appeared" sk_wait_block /dev/sda 120 || return
sk_check "load splitkit_front" sk_insmod splitkit_front
sk_check "PV disk /dev/xvda appeared" sk_wait_block /dev/xvda 120 || return
sk_check "load ext4" sk_modprobe crc32c_generic ext4
sk_check "mkfs on sda" mke2fs -q /dev/sda || return
mkdir -p /mnt
sk_check "mount sda" mount -t ext4 /dev/sda /mnt || return
hs_writer &
writer=$!
sk_check "load splitkit_shunt emul=/dev/sda pv=/dev/xvda" \
	sk_insmod splitkit_shunt emul=/dev/sda pv=/dev/xvda || return
sk_check "writer got going (50 files)" skt_wait 600 hs_files_at_least 50
sk_check "ask for the PV path" sh -c "echo pv >$SYS/path"
sk_check "the shunt is on the PV path" skt_wait 120 hs_path_is pv
sk_comment "held for $(cat $SYS/last_held_ns) ns, max held $(cat $SYS/max_held)"
sk_check "one switch to PV, no identity refusal" \
	test "$(cat $SYS/switches_to_pv)" = 1 -a "$(cat $SYS/identity_refusals)" = 0
w0=$(hs_sda_writes)
c0=$(cat /sys/block/xvda/device/skf_stats/completed 2>/dev/null || echo 0)
n=$(wc -l </tmp/sums)
sk_check "writer goes on over the PV path (50 more files)" \
	skt_wait 600 hs_files_at_least $((n + 50))
c1=$(cat /sys/block/xvda/device/skf_stats/completed 2>/dev/null || echo 0)
sk_check "the PV disk carried the I/O ($c0 -> $c1 requests)" test "$c1" -gt "$c0"
sk_check "the emulated disk saw none ($w0 -> $(hs_sda_writes) sectors written)" \
	test "$(hs_sda_writes)" = "$w0"
sk_check "ask for the emulated path" sh -c "echo emul >$SYS/path"
sk_check "the shunt is back on the emulated path" skt_wait 120 hs_path_is emul
n=$(wc -l </tmp/sums)
sk_check "writer goes on over the emulated path (20 more files)" \
	skt_wait 600 hs_files_at_least $((n + 20))
touch /tmp/stop
wait "$writer"
sk_check "rmmod splitkit_shunt" rmmod splitkit_shunt
sync
echo 3 >/proc/sys/vm/drop_caches
sk_check "every file reads as written ($(wc -l </tmp/sums) files)" \
	md5sum -c -s /tmp/sums
while read -r sum file; do
	sk_comment "sum $sum $file"
done </tmp/sums
sk_check "umount" umount /mnt
sk_check "dmesg: no oops or warning" sh -c "! dmesg | grep -E 'BUG|WARNING|Oops'"
