# SPDX-License-Identifier: GPL-2.0
#
# back-harden (dom0 half): splitkit_back's guards against what a frontend
# or a toolstack may ask of it (issue 16: logical block size, response
# padding, sharing safety, access modes, discard-enable, the indirect
# segment floor).
#
#   dom0: /run/bh4k.img --losetup --sector-size 4096--> loopN
#         loopN -> splitkit_back ==blkif== splitkit_hostile test=misaligned
#                                          :domU back-harden-misaligned
#         loopN -> splitkit_back ==blkif== xen-blkfront + fio verify
#                                          :domU back-harden-fio
#   dom0: /run/bsh*.img, a mounted loopM -> splitkit_back -> no frontend
#                                          :domUs back-harden-a, -b
#
# 1. max_indirect_segs refuses values below 256 (a guest restored onto
#    fewer segments than xen-blkback's 256 may crash).
# 2. On a 4 KiB-sector disk, requests not in whole 4 KiB blocks are refused
#    (the hostile module's verdicts; dom0: the refusals logged, the disk
#    unchanged) and every response's padding is zero; a normal guest
#    passes fio verify there, and dom0 verifies the data again.
# 3. Sharing: while domain A has a file writable, domain B gets it neither
#    writable nor read-only (EBUSY, the XenStore error names domain A),
#    but does as the same VM (B's "vm" made A's, as in a migration) and
#    with mode "w!" (a toolstack asking for a shared disk; also: "w!" is
#    writable, info 0); a block device mounted in dom0 is refused
#    writable, and taken once unmounted; "no-discard" turns discard off.

. /lib/splitkit/blk.sh

LOSETUP=/usr/lib/splitkit/losetup	# util-linux: --sector-size
PARAM=/sys/module/splitkit_back/parameters/max_indirect_segs

# hb_be DOMID DEVID: the backend directory of a vbd.
hb_be()
{
	echo "/local/domain/0/backend/vbd/$1/$2"
}

# hb_err DOMID DEVID: the fatal error splitkit_back reported for a vbd.
hb_err()
{
	xenstore-read "/local/domain/0/error/backend/vbd/$1/$2/error" 2>/dev/null
}

# hb_settle DOMID DEVID: wait (at most 120 s) until the backend opened the
# backing (its "sectors" key) or reported a fatal error; print which.
hb_settle()
{
	local left=120
	while [ "$left" -gt 0 ]; do
		if xenstore-read "$(hb_be "$1" "$2")/sectors" >/dev/null 2>&1; then
			echo open
			return 0
		fi
		if hb_err "$1" "$2" >/dev/null; then
			echo "error: $(hb_err "$1" "$2")"
			return 0
		fi
		sleep 1
		left=$((left - 1))
	done
	echo "neither opened nor refused in 120 s"
}

# hb_attach DEVID SPEC: xl block-attach SPEC to domain B, then wait until
# the backend settled; print what hb_settle says.
hb_attach()
{
	local devid=$1
	shift
	timeout 120 xl block-attach back-harden-b "$1" >/tmp/hb-attach.log 2>&1
	sk_comment "xl block-attach '$1': rc $? $(tr '\n' ' ' </tmp/hb-attach.log | cut -c 1-160)"
	hb_settle "$b" "$devid"
}

# hb_expect WHAT DEVID SPEC PATTERN: attach SPEC to B; one result WHAT,
# passed when hb_settle's answer matches PATTERN (grep -E).
hb_expect()
{
	local what=$1 devid=$2 spec=$3 pat=$4 got
	got=$(hb_attach "$devid" "$spec")
	sk_comment "$what: $got"
	sk_check "$what" sh -c "echo '$got' | grep -qE '$pat'"
}

# hb_mount DEV: a fresh ext4 on DEV, mounted on /mnt/bsh.
hb_mount()
{
	sk_modprobe crc32c_generic ext4 &&
		mkfs.ext4 -q "$1" && mount -t ext4 "$1" /mnt/bsh
}

sk_check "load splitkit_back (xen-blkback not loaded)" sk_blk_load_back ||
	return
sk_check "load loop" sk_modprobe loop

# --- 1. the indirect-segment floor ---------------------------------------
sh -c "echo 0 >$PARAM" 2>/dev/null
sk_check "max_indirect_segs refuses 0" test "$(cat $PARAM)" = 256
sh -c "echo 255 >$PARAM" 2>/dev/null
sk_check "max_indirect_segs refuses 255" test "$(cat $PARAM)" = 256
sk_check "max_indirect_segs takes 512 and 256" \
	sh -c "echo 512 >$PARAM && test \$(cat $PARAM) = 512 &&
	       echo 256 >$PARAM && test \$(cat $PARAM) = 256"

# --- 2. 4 KiB logical blocks ---------------------------------------------
img=/run/bh4k.img
rm -f "$img" /run/bh4k-dev
dd if=/dev/urandom of="$img" bs=1M count=16 2>/dev/null
loop=$($LOSETUP --sector-size 4096 -f --show "$img")
if sk_check "loop device with 4096-byte sectors over $img ($loop)" \
	test -b "$loop"; then
	ln -s "$loop" /run/bh4k-dev
	lbs=$(cat "/sys/block/${loop#/dev/}/queue/logical_block_size")
	sk_check "$loop has 4096-byte logical blocks ($lbs)" test "$lbs" = 4096
	sum=$(md5sum <"$img")
	n0=$(dmesg | grep -c 'refused: misaligned I/O request')
	sk_domU_run misaligned.cfg 300
	n1=$(dmesg | grep -c 'refused: misaligned I/O request')
	sk_check "backend logged the misaligned requests as such ($((n1 - n0)))" \
		test "$n1" -gt "$n0"
	sk_check "4 KiB-sector disk unchanged by the misaligned writes" \
		test "$(md5sum <"$img")" = "$sum"
	sk_domU_run fio4k.cfg "$(sk_guard 900)"
	sk_check "dom0 verifies what the guest wrote through the 4 KiB disk" \
		sk_blk_fio "$img" 41 verify 64k
	sk_check "every backend device torn down" sk_blk_no_vbd 60
	sk_check "release $loop" $LOSETUP -d "$loop"
fi
rm -f "$img" /run/bh4k-dev

# --- 3. sharing, modes, discard-enable -------------------------------------
rm -f /run/bsh*.img
truncate -s 16M /run/bsh.img /run/bshm.img /run/bshd.img /run/bshe.img
sk_check "xl create share-a.cfg (domain A, /run/bsh.img writable)" \
	xl create share-a.cfg || return
a=$(xl domid back-harden-a)
got=$(hb_settle "$a" 51712)
sk_check "A's disk opened ($got)" test "$got" = open
sk_check "xl create share-b.cfg (domain B, no disk)" \
	xl create share-b.cfg || { xl destroy back-harden-a; return; }
b=$(xl domid back-harden-b)
# both must stay up through the checks (they are destroyed at the end)
sk_check "domain A's guest is up (its VM: $(xenstore-read "/local/domain/$a/vm"))" \
	sk_blk_console_wait back-harden-a '^SKU: # idle' 300
sk_check "domain B's guest is up (its VM: $(xenstore-read "/local/domain/$b/vm"))" \
	sk_blk_console_wait back-harden-b '^SKU: # idle' 300

hb_expect "B: the file A writes, writable: refused, naming domain A" 51712 \
	"vdev=xvda, access=rw, script=splitkit, target=/run/bsh.img" \
	"^error: 16 .*in use by domain $a "
hb_expect "B: the file A writes, read-only: refused, naming domain A" 51728 \
	"vdev=xvdb, access=ro, script=splitkit, target=/run/bsh.img" \
	"^error: 16 .*in use by domain $a "

vm_b=$(xenstore-read "/local/domain/$b/vm")
xenstore-write "/local/domain/$b/vm" "$(xenstore-read "/local/domain/$a/vm")"
hb_expect "B as the same VM as A (a migration): the file shared" 51744 \
	"vdev=xvdc, access=rw, script=splitkit, target=/run/bsh.img" "^open$"
xenstore-write "/local/domain/$b/vm" "$vm_b"

hb_expect "B with mode w! (shared on purpose): the file shared" 51760 \
	"vdev=xvdd, access=rw, script=/scenarios/back-harden/force-share, target=/run/bsh.img" \
	"^open$"
be=$(hb_be "$b" 51760)
sk_check "mode w! is writable: info 0 ($(xenstore-read "$be/mode"), info $(xenstore-read "$be/info"))" \
	test "$(xenstore-read "$be/mode"):$(xenstore-read "$be/info")" = "w!:0"

mloop=$(losetup -f)
if sk_check "loop device $mloop over /run/bshm.img" \
	losetup "$mloop" /run/bshm.img; then
	mkdir -p /mnt/bsh
	if sk_check "ext4 on $mloop mounted in dom0" hb_mount "$mloop"; then
		hb_expect "B: a block device dom0 has mounted, writable: refused" \
			51776 \
			"vdev=xvde, access=rw, script=splitkit, target=$mloop" \
			"^error: 16 .*in use in dom0 \(mounted"
		umount /mnt/bsh
		hb_expect "B: the same device once unmounted: taken" 51792 \
			"vdev=xvdf, access=rw, script=splitkit, target=$mloop" \
			"^open$"
	fi
fi

hb_expect "B: a disk with no-discard" 51808 \
	"vdev=xvdg, access=rw, no-discard, script=splitkit, target=/run/bshd.img" \
	"^open$"
sk_check "no-discard: feature-discard 0" \
	test "$(xenstore-read "$(hb_be "$b" 51808)/feature-discard")" = 0
hb_expect "B: a disk with discard (the default)" 51824 \
	"vdev=xvdh, access=rw, script=splitkit, target=/run/bshe.img" "^open$"
sk_check "discard: feature-discard 1" \
	test "$(xenstore-read "$(hb_be "$b" 51824)/feature-discard")" = 1
sk_check "advertised feature-max-indirect-segments >= 256" \
	test "$(xenstore-read "$(hb_be "$b" 51824)/feature-max-indirect-segments")" -ge 256

sk_check "A and B still up after the attaches" \
	sh -c 'xl domid back-harden-a && xl domid back-harden-b'
sk_check "xl destroy B" xl destroy back-harden-b
sk_check "xl destroy A" xl destroy back-harden-a
sk_blk_relay back-harden-a
sk_check "every backend device torn down" sk_blk_no_vbd 60
sk_check "release $mloop" losetup -d "$mloop"
sk_check "splitkit_back holds no references" \
	test "$(cat /sys/module/splitkit_back/refcnt)" = 0
sk_check "rmmod splitkit_back" rmmod splitkit_back
sk_blk_dmesg_dump
sk_check "dmesg: no oops, warning or hung task" sk_blk_dmesg_clean
rm -f /run/bsh*.img
