# SPDX-License-Identifier: GPL-2.0
#
# front-saverestore (dom0 half): the domU is saved to a file and restored
# while fio writes and verifies its disk, so splitkit_front must drop the
# dead connection, reconnect to the backend the toolstack recreates and
# re-issue the requests that were in flight.
#
#   dom0: /run/front-sr.img --file I/O--> splitkit_back ==ring==> splitkit_front
#         xl save  -> /run/front-sr.save -> xl restore  (same domain name)
#
# The domU's fio checks every block it wrote (crc32c) after the restore;
# dom0 verifies the whole disk once the domU is gone.

. /lib/splitkit/blk.sh

name=front-saverestore
img=/run/front-sr.img
save=/run/front-sr.save
log=$SK_CONSOLE_DIR/guest-$name.log

sk_check "load splitkit_back" sk_blk_load_back || return
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

# wait for the domU's fio to be running
tries=240
while [ "$tries" -gt 0 ] && ! grep -q "SKU: # fio running" "$log" 2>/dev/null
do
	sleep 1
	tries=$((tries - 1))
done
sk_check "domU started fio" grep -q "SKU: # fio running" "$log"
sleep 8
sk_check "xl save under I/O" xl save "$name" "$save"
sk_check "domain is gone after save" sh -c "! xl domid $name"
sk_check "xl restore" xl restore "$save"
rm -f "$save"
sk_domU_wait "$name" 480
sk_domU_results "$name"
sk_check "dom0 verifies all of the disk as written by the domU" \
	sk_blk_fio "$img" 42 verify
sk_check "hotplug script released the loop device" \
	sh -c "! losetup -a | grep -q front-sr"
# leave dom0 as we found it: later scenarios load xen-blkback or unload
# splitkit_ring
sk_check "backend devices gone after the domU" sk_blk_no_vbd 30
sk_check "rmmod splitkit_back" rmmod splitkit_back
rm -f "$img"
