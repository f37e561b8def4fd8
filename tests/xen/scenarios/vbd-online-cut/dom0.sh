# SPDX-License-Identifier: GPL-2.0
#
# vbd-online-cut (dom0 half): a power cut in the middle of all four online
# operations at once, with the guest writing and flushing all along
# (issue 11's crash test; needs words "qcow2 powercut",
# tests/xen/lib/powercut.sh).
#
#   host: build/xen/<kver>/powercut.img (QEMU, cache=none)
#     dom0: /dev/vdX, ext4, /mnt/powercut/online/: the images of
#           vbd-online (tests/xen/lib/online.sh), splitkit_back ==> domU
#           cmp.qcow2 xvda (compact), frag.qcow2 xvdb (defrag),
#           cchild.qcow2 xvdc (commit into cbase.qcow2),
#           schild.qcow2 xvdd (stream sbase.qcow2 in)
#   host: build/xen/<kver>/powercut-4k.img
#     dom0: /dev/vdY, ext4, /mnt/powercut-4k/expect: what host.sh checks
#
# Once the images are made dom0 syncs; from then on only a flush writes
# to the image filesystem: the guest's flushes (splitkit_back fsyncs the
# image) and whatever the operations' steps flush.  The guest prepares its
# disks as in vbd-online, then writes its loop region pass after pass,
# flushing after each (domU.sh).  dom0 starts the four operations at once,
# each paced by the guest (steps of 2 clusters, image_op/guest_pace 8, 64
# for the commit, which has only 32 clusters to move), so they advance
# with the guest's writes, not with the machine's speed, and waits until
# each has moved (or copied) its share of OC_OPS: past its set-up steps
# (compaction and defragmentation first scan the tables) and well into
# its moves (a quarter of compaction's 256 clusters).  It checks that all
# four are still running, writes the guest's md5s and its last flushed pass to the
# other filesystem (synced alone, so the image filesystem is not flushed
# with it) and cuts the power, while the guest writes and the operations
# run.  host.sh then checks every image with qemu-img (consistent, leaks
# allowed) and by content through the chain that remains.

. /lib/splitkit/online.sh
. /lib/splitkit/powercut.sh

name=vbd-online-cut
NAME_ONLINE=$name
OD=/mnt/powercut/online
OC_EXPECT=/mnt/powercut-4k/expect
# DEVID:OP:PACE:MOVED: each operation, its guest_pace, and the clusters
# it has moved when dom0 cuts (of 256 for compaction, about 500 for
# defragmentation, 32 for the commit, 480 for the stream)
OC_OPS="51712:compact:8:64 51728:defrag:8:64 51744:commit:64:8 51760:stream:8:64"

# oc_field OP N: field N of an OC_OPS entry.
oc_field()
{
	echo "$1" | cut -d: -f"$2"
}

# oc_moved: every operation has moved its share.
oc_moved()
{
	local o n

	for o in $OC_OPS; do
		n=$(sk_online_op_val "vbd-$DOMID_ONLINE-$(oc_field "$o" 1)" moved)
		[ "${n:-0}" -ge "$(oc_field "$o" 4)" ] || return 1
	done
}

# oc_wait_moved: oc_moved, with a hang guard of 900 s.
oc_wait_moved()
{
	local left=1800

	until oc_moved; do
		[ "$left" -gt 0 ] || return 1
		sleep 0.5
		left=$((left - 1))
	done
}

# oc_start ID OP PACE: OP on disk ID, paced by the guest.
oc_start()
{
	local d=/sys/bus/xen-backend/devices/vbd-$DOMID_ONLINE-$1/image_op

	echo 2 >"$d/step_clusters" && echo "$3" >"$d/guest_pace" &&
		echo "$2" >"$d/op"
}

# oc_make: vbd-online's images on the power-cut filesystem, durable.
oc_make()
{
	sk_online_make && rm -f "$OD/seed.raw" && sync
}

oc_host()
{
	local o dv state n

	sk_check "load splitkit_back" sk_vbd_load_back splitkit_back || return
	sk_pc_setup || return
	sk_check "qemu-img makes the images, synced" oc_make || return
	rm -f "/var/log/xen/console/guest-$name.log"
	sk_check "xl create domU.cfg" xl create domU.cfg || return
	if ! sk_check "guest prepared its disks and flushed a first pass" \
		sk_hs_wait_from "$name" online-ready "$(sk_guard 900)"; then
		sk_blk_relay "$name"
		return
	fi
	DOMID_ONLINE=$(xl domid "$name")
	for o in $OC_OPS; do
		sk_check "start $(oc_field "$o" 2) on $(oc_field "$o" 1) (steps of 2, guest_pace $(oc_field "$o" 3))" \
			oc_start "$(oc_field "$o" 1)" "$(oc_field "$o" 2)" \
				"$(oc_field "$o" 3)" || return
	done
	sk_check "every operation moved its share of clusters" oc_wait_moved
	for o in $OC_OPS; do
		dv=vbd-$DOMID_ONLINE-$(oc_field "$o" 1)
		state=$(sk_online_op_val "$dv" state)
		sk_comment "$(oc_field "$o" 2): state $state, steps $(sk_online_op_val "$dv" steps), done $(sk_online_op_val "$dv" done) of $(sk_online_op_val "$dv" total), moved $(sk_online_op_val "$dv" moved)"
		sk_check "$(oc_field "$o" 2) still running at the cut" \
			test "$state" = running
	done
	n=$(sk_online_key flushed)
	sk_check "the guest's last flushed pass: ${n:-none}" test -n "$n"
	{
		for o in xvda xvdb xvdc xvdd; do
			echo "md5 $o $(sk_online_key "md5-$o")"
		done
		echo "flushed $n"
	} >"$OC_EXPECT"
	sk_comment "expect: $(tr '\n' ' ' <"$OC_EXPECT")"
	# the other filesystem alone: the images' stays as the guest's and
	# the operations' flushes left it
	sk_check "expect file synced (its filesystem only)" sync -f "$OC_EXPECT"
	sk_check "dmesg: no oops, warning or hung task" sk_blk_dmesg_clean
	sk_blk_relay "$name"
	sk_pc_cut
}

oc_host
