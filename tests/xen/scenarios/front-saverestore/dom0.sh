# SPDX-License-Identifier: GPL-2.0
#
# front-saverestore (dom0 half): the domU is saved to a file and restored
# while fio writes and verifies its disk, so splitkit_front must drop the
# dead connection, reconnect to the backend the toolstack recreates and
# re-issue the requests that were in flight.  The restore lands on a
# backend that offers less: between save and restore splitkit_back's
# max_indirect_segs goes from 512 to 256 (its floor: never fewer than
# xen-blkback's) while the guest writes 2 MiB requests, so the frontend must split what it sends (and what was in
# flight) to the new limit, never fail it; max_ring_order from 4 to
# 0, so fewer requests fit in flight; and max_queues from 4 to 1, so the
# guest's three rings (two event-driven, one polled) become one: its
# frontend must move what its other queues held onto the one ring and
# have blk-mq use one hardware queue, never fail or hang.  And the disk
# is restored onto a block device with no volatile cache (a loop device
# over the same file, its queue/write_cache set to "write through"), so
# the restored backend offers no flush (nor barrier): the frontend must
# drop its queue's write cache and flushes must keep succeeding, never be
# sent to a backend that refuses them.
#
#   dom0: /run/front-sr.img --file I/O--> splitkit_back ==ring==> splitkit_front
#         xl save  -> /run/front-sr.save -> xl restore domU-wt.cfg
#   then: /run/front-sr.img <- /dev/loopN (write through) <- /run/front-sr-wt
#         --bio--> splitkit_back ==ring==> splitkit_front
#
# The domU writes and verifies the disk pass after pass until dom0 tells
# it (XenStore handshake, common.sh) that the save and the restore both
# happened; it then runs a whole pass more and verifies the whole disk.
# dom0 verifies the file once the domU is gone, with the seed of the
# domU's last pass.

. /lib/splitkit/blk.sh

name=front-saverestore
img=/run/front-sr.img
save=/run/front-sr.save
log=$SK_CONSOLE_DIR/guest-$name.log
wt=/run/front-sr-wt

# fsr_wt_loop: a loop device over the image that says it has no volatile
# cache, named $wt for domU-wt.cfg.
fsr_wt_loop()
{
	local loop

	# (busybox losetup: no --show)
	loop=$(losetup -f) && losetup "$loop" "$img" || return
	ln -sf "$loop" "$wt"
	echo "write through" >"/sys/block/${loop#/dev/}/queue/write_cache" &&
		grep -q 'write through' "/sys/block/${loop#/dev/}/queue/write_cache"
}

# fsr_no_flush: the restored domain's backend offers neither flush nor
# barrier (it writes them before going Connected, after xl restore).
fsr_no_flush()
{
	local be k

	be=/local/domain/0/backend/vbd/$(xl domid "$name")/51712
	for k in feature-flush-cache feature-barrier; do
		[ "$(xenstore-read "$be/$k" 2>/dev/null)" = 0 ] || return 1
	done
}

# fsr_wt_loop_free: detach it (the guest and its backend are gone).
fsr_wt_loop_free()
{
	local loop

	loop=$(readlink "$wt") && [ -n "$loop" ] && losetup -d "$loop"
	rm -f "$wt"
}

sk_check "load splitkit_back" sk_blk_load_back || return
sk_check "splitkit_back offers 512 indirect segments to the new guest" \
	sh -c 'echo 512 >/sys/module/splitkit_back/parameters/max_indirect_segs'
rm -f "$log"
sk_blk_save_busy "$name" "$img" "$save" || return
sk_check "splitkit_back now offers 256 indirect segments (the guest sends 512)" \
	sh -c 'echo 256 >/sys/module/splitkit_back/parameters/max_indirect_segs'
sk_check "splitkit_back now offers one-page rings (the guest uses 4)" \
	sh -c 'echo 0 >/sys/module/splitkit_back/parameters/max_ring_order'
sk_check "splitkit_back now offers one queue (the guest uses 3)" \
	sh -c 'echo 1 >/sys/module/splitkit_back/parameters/max_queues'
sk_check "load loop" sk_modprobe loop
sk_check "the disk is now a write-through loop device (no flush to offer)" \
	fsr_wt_loop
sk_check "xl restore domU-wt.cfg" xl restore domU-wt.cfg "$save" &&
	sk_hs_send_to "$name" restored
rm -f "$save"
# a hang guard only: the keys are there once the guest reconnected, and
# the guest waits for a whole pass after "restored"
sk_check "the restored backend offers no flush and no barrier" \
	skt_wait 300 fsr_no_flush
sk_blk_verify_restored "$name" "$img" 2M
# leave dom0 as we found it: later scenarios load xen-blkback or unload
# splitkit_ring
sk_check "backend devices gone after the domU" sk_blk_no_vbd 30
sk_check "loop device of the restore detached" fsr_wt_loop_free
sk_check "no loop device left over the image" \
	sh -c "! losetup -a | grep -q front-sr"
sk_check "rmmod splitkit_back (its parameters back to the defaults)" \
	rmmod splitkit_back
rm -f "$img"
