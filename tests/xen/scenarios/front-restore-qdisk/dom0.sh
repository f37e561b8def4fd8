# SPDX-License-Identifier: GPL-2.0
#
# front-restore-qdisk (dom0 half): a guest whose splitkit_front writes and
# verifies its disk through splitkit_back (indirect segments, persistent
# grants, discard) is saved under I/O and restored onto a backend that
# offers none of the three: QEMU's qdisk (no indirect segments, no
# persistent grants), and the disk spec says no-discard.  xl restore takes
# the restored domain's config from domU-qdisk.cfg instead of the saved
# one.  The frontend must split what it sends, and what was in flight, to
# 11 segments, grant without persistence, and turn discard off, never fail
# a request or hang (issue 16, fault 8: a backend after restore or
# migration may offer less; front-saverestore covers fewer segments,
# ring pages and queues on splitkit_back).
#
#   dom0: /run/front-rq.img --file I/O--> splitkit_back ==ring==> splitkit_front
#         xl save -> /run/front-rq.save -> xl restore domU-qdisk.cfg
#   dom0: /run/front-rq.img <-- QEMU qdisk ==ring==> splitkit_front
#
# Handshakes (common.sh): the guest says "io-running" once its fio loop
# moves data; dom0 answers "restored" after the save and the restore.  The
# guest ends with a whole-disk verify and sends the seed, which dom0 uses
# to verify the file once the guest is gone.

. /lib/splitkit/blk.sh

name=front-restore-qdisk
img=/run/front-rq.img
save=/run/front-rq.save
log=$SK_CONSOLE_DIR/guest-$name.log

sk_check "load splitkit_back" sk_blk_load_back || return
rm -f "$log"
sk_blk_save_busy "$name" "$img" "$save" || return
sk_check "splitkit_back released the disk" sk_blk_no_vbd 30
if xl restore domU-qdisk.cfg "$save" >/tmp/sk-xl-restore.log 2>&1; then
	sk_ok "xl restore onto QEMU qdisk without discard (domU-qdisk.cfg)"
	sk_hs_send_to "$name" restored
else
	sed 's/^/xl: /' /tmp/sk-xl-restore.log | tail -n 20 |
		while IFS= read -r l; do sk_comment "$l"; done
	sk_fail "xl restore onto QEMU qdisk without discard (domU-qdisk.cfg)"
fi
sk_check "the restored disk is QEMU's (backend/qdisk in XenStore)" \
	sh -c "xenstore-list /local/domain/0/backend/qdisk/\$(xl domid $name) >/dev/null"
rm -f "$save"
sk_blk_verify_restored "$name" "$img" 1M
sk_check "rmmod splitkit_back" rmmod splitkit_back
rm -f "$img"
