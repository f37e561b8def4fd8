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
# have blk-mq use one hardware queue, never fail or hang.
#
#   dom0: /run/front-sr.img --file I/O--> splitkit_back ==ring==> splitkit_front
#         xl save  -> /run/front-sr.save -> xl restore  (same domain name)
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

sk_check "load splitkit_back" sk_blk_load_back || return
sk_check "splitkit_back offers 512 indirect segments to the new guest" \
	sh -c 'echo 512 >/sys/module/splitkit_back/parameters/max_indirect_segs'
# xl save runs libxl-save-helper from the Xen library directory.
sk_check "libxl-save-helper is in dom0" \
	test -x /usr/lib/xen-4.17/bin/libxl-save-helper
rm -f "$img" "$save" "$log"
truncate -s 64M "$img"
if ! xl create domU.cfg >/tmp/sk-xl-create.log 2>&1; then
	sk_comment "$(cat /tmp/sk-xl-create.log)"
	sk_fail "xl create domU.cfg"
	return
fi
sk_ok "xl create domU.cfg"

# Handshake (common.sh): the domU's fio loop runs until we say
# "restored", so the save always finds it busy, whatever the speed.
sk_check "domU has fio I/O under way" sk_hs_wait_from "$name" io-running 300
sk_check "xl save under I/O" xl save "$name" "$save"
sk_check "xl save produced a file" test -s "$save"
sk_comment "saved image: $(ls -l "$save" 2>&1)"
sk_check "domain is gone after save" sh -c "! xl domid $name"
sk_check "splitkit_back now offers 256 indirect segments (the guest sends 512)" \
	sh -c 'echo 256 >/sys/module/splitkit_back/parameters/max_indirect_segs'
sk_check "splitkit_back now offers one-page rings (the guest uses 4)" \
	sh -c 'echo 0 >/sys/module/splitkit_back/parameters/max_ring_order'
sk_check "splitkit_back now offers one queue (the guest uses 3)" \
	sh -c 'echo 1 >/sys/module/splitkit_back/parameters/max_queues'
sk_check "xl restore" xl restore "$save" &&
	sk_hs_send_to "$name" restored
rm -f "$save"
sk_domU_wait "$name" "$(sk_guard 480)"
sk_domU_results "$name"
seed=$(sed -n 's/^SKU: # handshake: sent seed=\([0-9]*\).*/\1/p' "$log" |
	tr -d '\r' | tail -n 1)
sk_check "dom0 verifies all of the disk as written by the domU (seed ${seed:-none})" \
	sk_blk_fio "$img" "${seed:-0}" verify 2M
sk_check "hotplug script released the loop device" \
	sh -c "! losetup -a | grep -q front-sr"
# leave dom0 as we found it: later scenarios load xen-blkback or unload
# splitkit_ring
sk_check "backend devices gone after the domU" sk_blk_no_vbd 30
sk_check "rmmod splitkit_back (its parameters back to the defaults)" \
	rmmod splitkit_back
rm -f "$img"
