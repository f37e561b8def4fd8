# SPDX-License-Identifier: GPL-2.0
#
# vbd-online-ctl (dom0 half): control of splitkit_back's online image
# operations with the stock xen-blkfront in the guest (issue 11's "only
# root may start operations; a disk being detached cancels its operation
# cleanly", and an operation under xen-blkfront's I/O):
#
#   dom0: cmp.qcow2  ==> xvda  compact while the guest's fio verify passes
#                              write it (tests/xen/lib/online.sh)
#         frag.qcow2 ==> xvdb  defrag refused without root and without
#                              CAP_SYS_ADMIN; then cancelled after its
#                              first step; then run again to its end
#         gone.qcow2 ==> xvdc  defrag cut by xl block-detach of the disk
#         trim.qcow2 ==> xvdd  an ext4 whose files the guest deleted
#                              and trimmed (fstrim), then compacted: the
#                              file shrinks by what was deleted; the
#                              guest's fsck and md5 of the files after
#
# The guest leaves xvdb and xvdc idle once it has written them, so an
# operation paced by the guest (image_op/guest_pace 1) takes its first
# step and then waits (image_op/steps stays 1) until it is cancelled or
# its disk goes: the cancel and the detach land between two steps of a
# running operation however fast the machine is.  After each: state and
# the tool's exit status, qemu-img check clean, content (md5 against the
# guest's), and the "cancelled" end record in the image's history.

. /lib/splitkit/online.sh

name=vbd-online-ctl
NAME_ONLINE=$name
# util-linux's (busybox's setpriv changes no uid)
CTL_SETPRIV=/usr/lib/splitkit/setpriv

# ctl_make: the three empty 32 MiB images (64 KiB clusters).
ctl_make()
{
	local i

	sk_qcow2_fs "$OD" || return 1
	for i in cmp frag gone trim; do
		qemu-img create -q -f qcow2 "$OD/$i.qcow2" ${OL_SIZE}M || return 1
	done
}

# ctl_set DEV FILE VALUE: write DEV's image_op/FILE.
ctl_set()
{
	echo "$3" >"/sys/bus/xen-backend/devices/$1/image_op/$2"
}

# ctl_wait_steps DEV N: wait until the operation of DEV has taken N steps
# (it stalls there, paced by an idle guest); 600 s is a hang guard.
ctl_wait_steps()
{
	local left=1200

	while [ "$(sk_online_op_val "$1" steps 2>/dev/null)" != "$2" ]; do
		[ "$left" -gt 0 ] || return 1
		sleep 0.5
		left=$((left - 1))
	done
}

# ctl_idle DEV: no operation ever started on DEV.
ctl_idle()
{
	test "$(sk_online_op_val "$1" state)" = idle &&
		test "$(sk_online_op_val "$1" op)" = none
}

# ctl_refused DESC MSG SETPRIV-ARGS...: splitkit vbd defrag on $DEV_B,
# run under setpriv ARGS, fails saying MSG and starts nothing.
ctl_refused()
{
	local desc=$1 msg=$2 log=/tmp/ctl-refused.log
	shift 2

	sk_online_check "$desc: splitkit vbd defrag fails" \
		sh -c "! $CTL_SETPRIV $* splitkit vbd defrag $DEV_B >$log 2>&1"
	sk_comment "$desc: $(cat $log)"
	sk_online_check "$desc: it says \"$msg\"" grep -q "$msg" $log
	sk_online_check "$desc: no operation started" ctl_idle "$DEV_B"
}

# ctl_stall DEV OP LOG: start OP on DEV in the background (in this shell,
# so that it can be waited for: CTL_PID), paced by the guest (which leaves
# DEV idle), 4 clusters a step, its output to LOG.
ctl_stall()
{
	CTL_PID=
	ctl_set "$1" guest_pace 1 && ctl_set "$1" step_clusters 4 || return 1
	splitkit vbd "$2" "$1" >"$3" 2>&1 &
	CTL_PID=$!
}

# ctl_stalled DEV: the operation of DEV took its first step and waits.
ctl_stalled()
{
	ctl_wait_steps "$1" 1 &&
		test "$(sk_online_op_val "$1" state)" = running
}

# ctl_ended LOG MSG: the background splitkit vbd defrag (CTL_PID) ended
# with status 1, its output (LOG) saying MSG.
ctl_ended()
{
	local rc

	wait "$CTL_PID"
	rc=$?
	sk_comment "splitkit vbd defrag: $(cat "$1")"
	sk_online_check "the waiting splitkit vbd defrag ended with status 1 ($rc)" \
		test "$rc" = 1
	sk_online_check "it says \"$2\"" grep -q "$2" "$1"
}

ctl_root()
{
	sk_online_list
	ctl_refused "uid 65534" "$DEV_B: Permission denied" \
		--reuid=65534 --regid=65534 --clear-groups
	ctl_refused "root without CAP_SYS_ADMIN" "$DEV_B: Operation not permitted" \
		--bounding-set=-sys_admin
	$CTL_SETPRIV --reuid=65534 --regid=65534 --clear-groups sh -c \
		"echo 5 >/sys/bus/xen-backend/devices/$DEV_B/image_op/guest_pace" \
		>/tmp/ctl-pace.log 2>&1
	sk_comment "uid 65534 writing guest_pace: $(cat /tmp/ctl-pace.log)"
	sk_online_check "uid 65534: image_op/guest_pace not writable" \
		grep -q "guest_pace: Permission denied" /tmp/ctl-pace.log
	sk_online_check "guest_pace still 0" \
		test "$(sk_online_op_val "$DEV_B" guest_pace)" = 0
}

ctl_cancel()
{
	local log=/tmp/ctl-cancel.log f0 f1 done total

	f0=$(sk_online_frags "$DEV_B")
	ctl_stall "$DEV_B" defrag $log
	sk_online_check "xvdb: defrag started (pid ${CTL_PID:-none})" test -n "$CTL_PID" ||
		return
	sk_online_check "xvdb: it stalls after its first step (guest idle)" \
		ctl_stalled "$DEV_B" || return
	sk_online_check "splitkit vbd cancel $DEV_B" splitkit vbd cancel "$DEV_B"
	ctl_ended $log "defrag cancelled"
	sk_online_check "image_op/state is cancelled" \
		test "$(sk_online_op_val "$DEV_B" state)" = cancelled
	done=$(sk_online_op_val "$DEV_B" done)
	total=$(sk_online_op_val "$DEV_B" total)
	sk_online_check "cancelled part-way: one step ($done of $total clusters)" \
		test "$(sk_online_op_val "$DEV_B" steps)" = 1 -a "$done" -lt "$total"
	ctl_set "$DEV_B" guest_pace 0
	sk_online_check "xvdb: defrag again, to its end" \
		splitkit vbd defrag --step 16 "$DEV_B"
	f1=$(sk_online_frags "$DEV_B")
	sk_comment "frag.qcow2: ${f0:-?} fragments before, ${f1:-?} after"
	sk_online_check "defrag: fragments fell to a quarter or less" \
		test -n "$f0" -a -n "$f1" -a "$((f1 * 4))" -le "${f0:-0}"
}

ctl_detach()
{
	local log=/tmp/ctl-detach.log rc

	ctl_stall "$DEV_C" defrag $log
	sk_online_check "xvdc: defrag started (pid ${CTL_PID:-none})" test -n "$CTL_PID" ||
		return
	sk_online_check "xvdc: it stalls after its first step (guest idle)" \
		ctl_stalled "$DEV_C" || return
	timeout 60 xl block-detach "$name" xvdc >/tmp/ctl-xl.log 2>&1
	rc=$?
	sk_comment "xl block-detach: rc $rc, $(tr '\n' ' ' </tmp/ctl-xl.log)"
	sk_online_check "xl block-detach $name xvdc" test "$rc" = 0
	sk_online_check "xvdc's backend device gone" \
		sk_blk_no_vbd 60 "$DOMID_ONLINE-51744"
	ctl_ended $log "is gone"
	sk_online_check "qemu-img check: gone.qcow2 clean after the detach" \
		sk_qcow2_img_ok "$OD/gone.qcow2"
	sk_online_check "gone.qcow2 reads what the guest wrote (md5)" \
		sk_online_content_md5 "$OD/gone.qcow2" "$md5_xvdc"
}

# ctl_trim: compact the ext4 disk the guest deleted files from and
# trimmed.  The guest's fstrim must have reached the image (its file holds
# at least half the bytes deleted less as holes: how much of each deleted
# extent covers whole clusters is ext4's layout, which varies from run to
# run), and the compaction must give them back: the file shrinks by its
# holes (size less allocated bytes) less two clusters (the end of the
# file, a table left above the last hole).
ctl_trim()
{
	local dev=vbd-$DOMID_ONLINE-51760 before after deleted holes

	set -- $(sk_online_key trim-ready)
	deleted=${2:-0}
	before=$(stat -c %s "$OD/trim.qcow2")
	holes=$((before - $(stat -c %b "$OD/trim.qcow2") * 512))
	sk_online_check "xvdd: the guest's fstrim freed clusters in the image ($holes bytes of holes >= half of $deleted deleted)" \
		test "$deleted" -gt 0 -a "$holes" -ge $((deleted / 2))
	sk_online_check "xvdd: compact after the guest's fstrim" \
		splitkit vbd compact "$dev"
	after=$(stat -c %s "$OD/trim.qcow2")
	sk_comment "trim.qcow2: $before -> $after bytes, $holes bytes of holes, $deleted bytes deleted by the guest"
	sk_online_check "xvdd: the file shrank by its holes ($((before - after)) >= $holes - 131072)" \
		test $((before - after)) -ge $((holes - 131072))
}

ctl_host()
{
	local before after last d

	if sk_online_start ctl_make; then
		DEV_B=vbd-$DOMID_ONLINE-51728
		DEV_C=vbd-$DOMID_ONLINE-51744
		for d in xvda xvdb xvdc; do
			eval "md5_$d=\$(sk_online_key md5-$d)"
		done
		ctl_root
		ctl_cancel
		ctl_detach
		ctl_trim
		before=$(stat -c %s "$OD/cmp.qcow2")
		sk_online_op compact 51712
		after=$(stat -c %s "$OD/cmp.qcow2")
		sk_comment "cmp.qcow2: $before -> $after bytes"
		sk_online_check "compact: the file shrank by 16 MiB or more" \
			test $((before - after)) -ge $((16 << 20))
		sk_online_list
		sk_online_stop
		last=$ONLINE_LAST
	fi
	[ -n "$ONLINE_PID" ] || return
	wait "$ONLINE_PID"
	sk_online_check "backend devices gone after the guest" sk_blk_no_vbd 30
	for d in cmp frag gone trim; do
		sk_online_check "qemu-img check: $d.qcow2 clean" \
			sk_qcow2_img_ok "$OD/$d.qcow2"
	done
	if [ -n "${last:-}" ]; then
		sk_online_cmp_content "$last" "$md5_xvda"
	else
		sk_fail "content checks (the guest sent no online-done)"
		ONLINE_BAD=1
	fi
	sk_online_check "frag.qcow2 reads what the guest wrote (md5)" \
		sk_online_content_md5 "$OD/frag.qcow2" "$md5_xvdb"
	for d in "cmp online-op-end compact:" "frag online-op-end defrag:.*cancelled" \
		 "gone online-op-end defrag:.*cancelled" \
		 "trim online-op-end compact:"; do
		set -- $d
		sk_online_check "history of $1.qcow2: $2 $3" \
			sk_online_history "$OD/$1.qcow2" "$2" "$3"
	done
	sk_online_check "history of frag.qcow2: then a defrag to its end" \
		sh -c "splitkit img meta list $OD/frag.qcow2 | grep 'online-op-end defrag:' |
		       tail -n 1 | grep -qv cancelled"
	for d in cmp frag gone; do
		splitkit img meta list "$OD/$d.qcow2" | grep 'history:' |
			while IFS= read -r l; do sk_comment "$d.qcow2 $l"; done
	done
	sk_online_check "rmmod splitkit_back" rmmod splitkit_back
	sk_online_check "dmesg: no oops, warning or hung task" sk_blk_dmesg_clean
	[ -z "${ONLINE_BAD:-}" ] || sk_blk_dmesg_dump
	sk_qcow2_fs_gone "$OD"
}

ctl_host
