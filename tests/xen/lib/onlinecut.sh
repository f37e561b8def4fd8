# SPDX-License-Identifier: GPL-2.0
#
# Power cuts in the middle of splitkit_back's online image operations
# (issue 11's crash test; scenario vbd-online-cut, needs words "qcow2
# powercut"; tests/xen/lib/powercut.sh).  Sourced after
# online.sh in dom0 and in the guest.
#
#   host: build/xen/<kver>/powercut.img (QEMU, cache=none)
#     dom0: /dev/vdX, ext4, /mnt/powercut/online/<set>/: one set of
#           vbd-online's images (tests/xen/lib/online.sh) a letter:
#           cmp.qcow2 (compact), frag.qcow2 (defrag), cchild.qcow2 over
#           cbase.qcow2 (commit), schild.qcow2 over sbase.qcow2 (stream),
#           served by splitkit_back to the guest's four disks of that set
#   host: build/xen/<kver>/powercut-4k.img
#     dom0: /dev/vdY, ext4, /mnt/powercut-4k/expect: what the host checks
#
# The scenario names its operations in OC_OPS, one entry an operation,
# SET:VDEV:OP:STEP:PACE:FIELD:N: operation OP on the guest's disk VDEV
# (whose image is in set SET), steps of STEP clusters, paced by the guest
# (image_op/guest_pace PACE), to be cut once its image_op/FIELD (moved:
# clusters moved or copied, done: progress of image_op/total) reached N.
# Several sets let one power cut land at several points of each operation:
# dom0 starts every operation at once, and holds each one where it reached
# its point (guest_pace 65536: no step until the guest sends that many
# requests, which it never does before the cut), so the points do not
# depend on which operation the machine happened to run faster.  Once all
# are there, dom0 checks that all still run, writes the guest's md5s, its
# last flushed pass and the chains to check to the other filesystem
# (synced alone), lets every operation go on at its pace again and cuts
# the power while the guest writes and the operations step.
#
# Once the images are made dom0 syncs; from then on only a flush writes to
# the image filesystem (powercut.sh: no background writeback): the guest's
# flushes (splitkit_back fsyncs the image) and whatever the operations'
# steps flush.  The guest (sk_oc_guest) prepares its disks as in
# vbd-online, then writes the loop region of every disk pass after pass,
# flushing after each.  The host's check: scenarios/vbd-online-cut/host.sh.

OC_MNT=/mnt/powercut/online
# no images for vbd-online's fifth disk
OL_E=
OC_EXPECT=/mnt/powercut-4k/expect
# guest_pace that holds an operation where it is
OC_HOLD=65536

# oc_field ENTRY N: field N of an OC_OPS entry (no pipe: dom0 polls it).
oc_field()
{
	local n=$2 IFS=:

	set -- $1
	eval "echo \"\${$n}\""
}

# oc_devid VDEV: the xenbus device id of xvdX (202:16*X).
oc_devid()
{
	local s=abcdefghijklmnop pre

	pre=${s%%"${1#xvd}"*}
	echo $((202 * 256 + 16 * ${#pre}))
}

# oc_dev ENTRY: the backend device of ENTRY's disk (vbd-DOMID-DEVID).
oc_dev()
{
	echo "vbd-$DOMID_ONLINE-$(oc_devid "$(oc_field "$1" 2)")"
}

# oc_dir ENTRY: the sysfs image_op directory of ENTRY's disk.
oc_dir()
{
	echo "/sys/bus/xen-backend/devices/$(oc_dev "$1")/image_op"
}

# oc_val ENTRY FILE: ENTRY's image_op/FILE.
oc_val()
{
	sk_online_op_val "$(oc_dev "$1")" "$2"
}

# oc_start ENTRY: its operation, paced by the guest.
oc_start()
{
	local d
	d=$(oc_dir "$1")

	echo "$(oc_field "$1" 4)" >"$d/step_clusters" &&
		echo "$(oc_field "$1" 5)" >"$d/guest_pace" &&
		echo "$(oc_field "$1" 3)" >"$d/op"
}

# oc_reached ENTRY: it is at its cut point.
oc_reached()
{
	local n
	n=$(oc_val "$1" "$(oc_field "$1" 6)")
	[ "${n:-0}" -ge "$(oc_field "$1" 7)" ]
}

# oc_wait_points: hold every operation as soon as it reached its point;
# returns when all are held, fails at once when one ended before its
# point (hang guard: 1800 polls).
oc_wait_points()
{
	local o left=1800 held="" all

	while :; do
		all=1
		for o in $OC_OPS; do
			case " $held " in *" $o "*) continue ;; esac
			if oc_reached "$o"; then
				echo $OC_HOLD >"$(oc_dir "$o")/guest_pace" || return 1
				held="$held $o"
			elif [ "$(oc_val "$o" state)" != running ]; then
				sk_comment "$(oc_field "$o" 3)-$(oc_field "$o" 1) ended ($(oc_val "$o" state)) before its point: $(oc_field "$o" 6) $(oc_val "$o" "$(oc_field "$o" 6)")"
				return 1
			else
				all=0
			fi
		done
		[ "$all" = 1 ] && return 0
		[ "$left" -gt 0 ] || return 1
		sleep 0.5
		left=$((left - 1))
	done
}

# oc_release: every operation at its own pace again.
oc_release()
{
	local o

	for o in $OC_OPS; do
		echo "$(oc_field "$o" 5)" >"$(oc_dir "$o")/guest_pace" || return 1
	done
}

# oc_sets: the sets OC_OPS names, each once.
oc_sets()
{
	local o
	for o in $OC_OPS; do
		oc_field "$o" 1
	done | sort -u
}

# oc_time WHAT: a comment with the seconds since boot (where the time goes).
oc_time()
{
	sk_comment "$1 at $(cut -d' ' -f1 /proc/uptime) s"
}

# oc_make: every set's images on the power-cut filesystem, durable.
oc_make()
{
	local s

	for s in $(oc_sets); do
		OD=$OC_MNT/$s
		sk_online_make && rm -f "$OD/seed.raw" || return 1
	done
	sync
}

# oc_chain ENTRY: the host's check line of ENTRY's chain: "chain LABEL
# IMAGE VDEV DISKNO" (IMAGE relative to the online directory).
oc_chain()
{
	local s op vdev img n

	s=$(oc_field "$1" 1)
	vdev=$(oc_field "$1" 2)
	op=$(oc_field "$1" 3)
	case $op in
	compact) img=cmp ;;
	defrag) img=frag ;;
	commit) img=cchild ;;
	stream) img=schild ;;
	esac
	n=$(echo "$OG_ALL" | tr ' ' '\n' | grep -n "^$vdev\$" | cut -d: -f1)
	echo "chain $op-$s $s/$img.qcow2 $vdev $((n - 1))"
}

# oc_expect_write FLUSHED: what the host checks.
oc_expect_write()
{
	local d o s

	for d in $OG_ALL; do
		echo "md5 $d $(sk_online_key "md5-$d")"
	done
	echo "flushed $1"
	echo "loop_mib $OL_MB"
	for s in $(oc_sets); do
		for o in cmp frag cbase cchild sbase schild; do
			echo "image $s/$o.qcow2"
		done
		echo "parent $s/cbase.qcow2"
		echo "parent $s/sbase.qcow2"
	done
	for o in $OC_OPS; do
		oc_chain "$o"
	done
}

# sk_oc_host NAME: dom0's half of the power-cut scenario NAME.
sk_oc_host()
{
	local name=$1 o state n

	NAME_ONLINE=$name
	sk_check "load splitkit_back" sk_vbd_load_back splitkit_back || return
	sk_pc_setup || return
	oc_time "power-cut disks ready"
	sk_check "qemu-img makes the images of sets $(oc_sets | tr '\n' ' ')(synced)" \
		oc_make || return
	oc_time "images made"
	rm -f "/var/log/xen/console/guest-$name.log"
	sk_check "xl create domU.cfg" xl create domU.cfg || return
	if ! sk_check "guest prepared its disks and flushed a first pass" \
		sk_hs_wait_from "$name" online-ready "$(sk_guard 900)"; then
		sk_blk_relay "$name"
		return
	fi
	oc_time "guest ready"
	DOMID_ONLINE=$(xl domid "$name")
	for o in $OC_OPS; do
		sk_check "set $(oc_field "$o" 1): start $(oc_field "$o" 3) on $(oc_field "$o" 2) (steps of $(oc_field "$o" 4), guest_pace $(oc_field "$o" 5)); cut at $(oc_field "$o" 6) >= $(oc_field "$o" 7)" \
			oc_start "$o" || return
	done
	sk_check "every operation reached its cut point, held there" \
		oc_wait_points
	oc_time "all at their points"
	for o in $OC_OPS; do
		state=$(oc_val "$o" state)
		sk_comment "$(oc_field "$o" 3)-$(oc_field "$o" 1): state $state, steps $(oc_val "$o" steps), done $(oc_val "$o" done) of $(oc_val "$o" total), moved $(oc_val "$o" moved)"
		sk_check "$(oc_field "$o" 3)-$(oc_field "$o" 1) still running at the cut" \
			test "$state" = running
	done
	n=$(sk_online_key flushed)
	sk_check "the guest's last flushed pass: ${n:-none}" test -n "$n"
	oc_expect_write "$n" >"$OC_EXPECT"
	sk_comment "expect: $(grep -E '^(md5|flushed)' "$OC_EXPECT" | tr '\n' ' ')"
	# the other filesystem alone: the images' stays as the guest's and
	# the operations' flushes left it
	sk_check "expect file synced (its filesystem only)" sync -f "$OC_EXPECT"
	sk_check "dmesg: no oops, warning or hung task" sk_blk_dmesg_clean
	sk_blk_relay "$name"
	sk_check "every operation steps at its pace again" oc_release
	sk_pc_cut
}

# --- guest -----------------------------------------------------------------

# 16 KiB blocks of the loop region
OC_BLOCKS=$((OL_MB * 64))
OC_NL='
'

# oc_block PASS BLOCK DISK: /tmp/oc-block, 512 copies of the line
# (31 characters and a newline) for that block of that pass and disk.
oc_block()
{
	local b

	b=$(printf 'g%09dj%09dk%010d' "$1" "$2" "$3")$OC_NL
	b=$b$b; b=$b$b; b=$b$b; b=$b$b; b=$b$b; b=$b$b; b=$b$b; b=$b$b; b=$b$b
	printf '%s' "$b" >/tmp/oc-block
}

# oc_pass PASS: one pass over every disk's loop region (16 KiB blocks in
# a fixed scrambled order, one O_DIRECT write a block, the disks in
# turn, so that every disk gets as many requests), then a flush of every
# disk (fsync of the block device: BLKIF_OP_FLUSH_DISKCACHE), then
# "flushed" = PASS: from then on dom0's power cut may not lose it.
oc_pass()
{
	local i j k d

	i=0
	while [ "$i" -lt "$OC_BLOCKS" ]; do
		# 37 is prime to any power of two: every block once, scattered
		j=$(((i * 37) % OC_BLOCKS))
		k=0
		for d in $OG_ALL; do
			oc_block "$1" "$j" "$k"
			dd if=/tmp/oc-block of="/dev/$d" bs=16k count=1 \
			   seek=$((OL_OFF * 64 + j)) oflag=direct 2>/dev/null ||
				return 1
			k=$((k + 1))
		done
		i=$((i + 1))
	done
	for d in $OG_ALL; do
		dd if=/dev/zero of="/dev/$d" bs=4k count=0 conv=notrunc,fsync \
			2>/dev/null || return 1
	done
	xenstore-write data/splitkit/guest/flushed "$1"
}

# sk_oc_guest: the guest's half: prepare the disks OG_ALL as vbd-online
# does, tell dom0 once the first pass is flushed (online-ready), then
# write passes until the power goes.
sk_oc_guest()
{
	local pass

	sk_online_prepare || return
	sk_comment "disks prepared at $(cut -d' ' -f1 /proc/uptime) s (guest)"
	sk_check "first pass written and flushed on every disk" oc_pass 1 ||
		return
	sk_check "tell dom0" sk_hs_send online-ready
	pass=2
	while oc_pass "$pass"; do
		pass=$((pass + 1))
	done
	sk_fail "pass $pass failed"
}
