# SPDX-License-Identifier: GPL-2.0
#
# hvm-shunt (dom0 half): splitkit_shunt in a running HVM guest (issue 13;
# Documentation/shunt.rst).  HVM guests are slow under TCG: the guest
# gets up to 1200 s (a hang guard), inside the harness's default
# SCENARIO_TIMEOUT of 1500 s.
#
#   dom0: /run/hvm-shunt.img -- QEMU (IDE emulation) --> sda  :HVM domU
#                            \-- QEMU qdisk ==ring==> xvda    :HVM domU
#         /run/hvm-shunt-other.img (32 MiB) -- QEMU (IDE) --> sdb
#                            \-- splitkit_back ==ring==> xvdb
#
# dom0 makes an ext4 on the image and puts the splitkit tool (with its
# libraries and loader; the needs word "qcow2" ships it into dom0) in
# /sk of it.  The guest mounts the filesystem from sda, keeps writing
# checksummed files, switches its I/O to xvda and back with `splitkit
# shunt on|off`, and lists every file's checksum; dom0 then checks the
# filesystem and every file in the image.  For one-run diagnosis dom0
# also shows the vbd's XenStore directories (backend and frontend) once
# the guest has its PV disk (on failure sk_hvm_run shows the guest
# kernel's own console lines, Xen's and the device model's).

. /lib/splitkit/blk.sh

img=/run/hvm-shunt.img
log=/var/log/xen/console/guest-hvm-shunt.log
ld=/lib64/ld-linux-x86-64.so.2
rm -f "$img"
truncate -s 128M "$img"
sk_check "load loop and ext4" sk_modprobe loop ext4 crc32c_generic
sk_check "load splitkit_back (the second disk's PV backend)" sk_blk_load_back
sk_check "mkfs.ext4 on the image" \
	mkfs.ext4 -q -F -E lazy_itable_init=0,lazy_journal_init=0 "$img" || return
mkdir -p /mnt/hs
# the tool, its libraries and their loader, for the guest's busybox
hs_put_tool()
{
	local l rc=0
	mount -o loop -t ext4 "$img" /mnt/hs || return 1
	mkdir -p /mnt/hs/sk
	for l in /usr/bin/splitkit "$ld" \
		 $("$ld" --list /usr/bin/splitkit | awk '/=>/ { print $3 }'); do
		cp "$l" /mnt/hs/sk/ || { rc=1; break; }
	done
	umount /mnt/hs || rc=1
	return $rc
}
sk_check "the splitkit tool on the guest's filesystem" hs_put_tool
# the config's second disk (32 MiB of random bytes), which the shunt
# must refuse beside the first disk's faces; at the end the guest shunts
# it to splitkit_back and writes 1 MiB at 8 MiB, nothing else
other=/run/hvm-shunt-other.img
sk_check "the second disk's image" \
	dd if=/dev/urandom of="$other" bs=1M count=32
# the guest writes 1 MiB at 8 MiB through the shunt (splitkit_back)
hs_other_md5() # SKIP-MiB [COUNT-MiB]
{
	dd if="$other" bs=1M skip="$1" ${2:+count=$2} 2>/dev/null |
		md5sum | cut -d' ' -f1
}
other_head=$(hs_other_md5 0 8)
other_mid=$(hs_other_md5 9 7)
other_tail=$(hs_other_md5 17)

# The vbd as the toolstack and both ends published it, once the guest
# has looked for its PV disk (its result line for xvda, either way).
hs_xenstore()
{
	local n=0 domid
	until grep -q 'PV disk /dev/xvda appeared' "$log" 2>/dev/null; do
		[ "$n" -lt 1200 ] || return
		sleep 1
		n=$((n + 1))
	done
	domid=$(xl domid hvm-shunt 2>/dev/null) || return
	{
		xenstore-ls -f "/local/domain/0/backend/qdisk/$domid" 2>&1
		xenstore-ls -f "/local/domain/0/backend/vbd/$domid" 2>&1
		xenstore-ls -f "/local/domain/$domid/device/vbd" 2>&1
	} | grep -vE '/(ring-ref|event-channel)' | while IFS= read -r l; do
		sk_comment "xenstore: $l"
	done
}
hs_xenstore &
diag=$!
# the fallback and unplug tests: detach a PV disk when the guest asks (a
# console line "HOST <request>"), under its writers' I/O, and attach it
# again when it asks; record the device model's drives (QEMU's "info
# block") when it asks.  Each request is served once per console log (a
# guest created once more after a triple fault, sk_hvm_run, starts a new
# log and asks again), in the order below, which is the guest's: it waits
# for each detach and attach to show before it asks the next.
hs_requests="block-detach:xvda block-attach:xvda info-block block-detach:xvdb block-attach:xvdb"
hs_host_xl() # WHAT DISK XL-ARGS...
{
	sk_comment "$1 $2 as the guest asked"
	shift 2
	xl "$@" 2>&1 | while IFS= read -r l; do
		sk_comment "xl $1: $l"
	done
}
hs_serve() # REQUEST
{
	case "$1" in
	block-detach:*)
		hs_host_xl detaching "${1#*:}" block-detach hvm-shunt "${1#*:}" ;;
	block-attach:xvda)
		hs_host_xl "attaching again" xvda block-attach hvm-shunt \
			"vdev=xvda, access=rw, backendtype=qdisk, format=raw, target=$img" ;;
	block-attach:xvdb)
		hs_host_xl "attaching again" xvdb block-attach hvm-shunt \
			"vdev=xvdb, access=rw, script=splitkit, target=$other" ;;
	info-block)
		xl qemu-monitor-command hvm-shunt "info block" >/run/hs-info-block 2>&1 ;;
	esac
}
hs_host()
{
	local ino="" cur served="" r
	while :; do
		cur=$(ls -i "$log" 2>/dev/null | awk '{ print $1 }')
		if [ "$cur" != "$ino" ]; then
			ino=$cur
			served=""
		fi
		for r in $hs_requests; do
			case " $served " in *" $r "*) continue ;; esac
			[ -n "$ino" ] &&
				grep -q "HOST $(echo "$r" | tr : ' ')" "$log" 2>/dev/null ||
				break
			served="$served $r"
			hs_serve "$r"
		done
		sleep 1
	done
}
rm -f /run/hs-info-block
hs_host &
host=$!
sk_hvm_run domU.cfg 1200
kill "$diag" "$host" 2>/dev/null
# at shutdown the unplugged disk's SCSI device is set offline first, so
# that sd's cache flush does not wait for a drive QEMU took away (without
# it: "ata1: lost interrupt", failed revalidations, minutes of EH)
sk_check "the guest shut down without waiting for the unplugged drive (no libata timeout on its console)" \
	sh -c "! grep -qE 'lost interrupt|revalidation failed|ata[0-9.]+: failed command' '$log'"

# the guest's "SKU: # sums <N> <md5>" line: how many files it wrote and
# the md5 of their list, which it left in /sk/sums of its filesystem
# ("<md5>  <kind>/<n>" lines, for md5sum -c)
set -- $(tr -d '\r' <"$log" | sed -n 's/^SKU: # sums \([0-9]*\) \([0-9a-f]\{32\}\)$/\1 \2/p' | tail -n 1)
sums=${1:-?} sums_md5=${2:-?}
sk_check "dom0 fscks the guest's filesystem" e2fsck -f -n "$img"
if sk_check "dom0 mounts it read-only" mount -o ro,loop -t ext4 "$img" /mnt/hs; then
	sk_check "the guest's list of checksums ($sums files announced, at least 40) is on its filesystem whole" \
		test "$(md5sum </mnt/hs/sk/sums | cut -d' ' -f1)" = "$sums_md5" -a \
		"$(wc -l </mnt/hs/sk/sums)" = "$sums" -a "$sums" -ge 40 &&
		sk_check "every file as the guest wrote it" \
			sh -c "cd /mnt/hs && md5sum -c -s sk/sums"
	umount /mnt/hs
fi
hs_pattern() # NAME: the md5 the guest announced as "SKU: # NAME <md5>"
{
	tr -d '\r' <"$log" | sed -n "s/^SKU: # $1 \([0-9a-f]\{32\}\)\$/\1/p" | tail -n 1
}
pattern=$(hs_pattern pattern)
pattern2=$(hs_pattern pattern2)
sk_check "the second disk's image holds the guest's 1 MiB at 8 MiB and, written while xvdb was away, at 16 MiB (by splitkit_back)" \
	test "$(hs_other_md5 8 1) $(hs_other_md5 16 1)" = "${pattern:-?} ${pattern2:-?}"
sk_check "the rest of the second disk's image is unchanged (the refusals wrote nothing)" \
	test "$(hs_other_md5 0 8) $(hs_other_md5 9 7) $(hs_other_md5 17)" = "$other_head $other_mid $other_tail"
# QEMU names the config's IDE disks ide0-hd0 (disk 0) and ide0-hd1
sed 's/\r$//' /run/hs-info-block 2>/dev/null | while IFS= read -r l; do
	sk_comment "info block: $l"
done
sk_check "the device model unplugged disk 1 when the guest asked (info block: ide0-hd0 there, ide0-hd1 gone)" \
	sh -c "grep -q '^ide0-hd0' /run/hs-info-block && ! grep -q '^ide0-hd1' /run/hs-info-block"
rm -f "$img" "$other"
# the next scenarios load splitkit_back with their own parameters (and
# image-load unloads splitkit_image, which splitkit_back holds)
sk_check "splitkit_back serves no vbd any more" sk_blk_no_vbd 60
sk_check "rmmod splitkit_back" rmmod splitkit_back
