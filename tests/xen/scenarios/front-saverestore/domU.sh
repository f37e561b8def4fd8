# SPDX-License-Identifier: GPL-2.0
#
# front-saverestore (domU half): fio writes and verifies the whole disk
# (several passes, so the save lands in the middle) while dom0 saves and
# restores this domain.

. /lib/splitkit/blk.sh

sk_check "load splitkit_front" sk_insmod splitkit_front || return
sk_check "/dev/xvda appeared" sk_wait_block /dev/xvda || return
sk_comment "$(sk_blk_front_features xvda)"
sk_comment "fio running"
sk_check "fio write + verify across save/restore" \
	sk_blk_fio /dev/xvda 42 write 64k 1 libaio --loops=4 --iodepth=16
sk_comment "$(dmesg | grep -c 'resuming: reconnecting') resume(s) seen"
sk_comment "$(sk_blk_front_stat xvda | tr '\n' ' ')"
sk_check "the frontend went through a resume" \
	sh -c "dmesg | grep -q 'resuming: reconnecting'"
sk_check "connected again" test "$(sk_blk_front_stat xvda connected)" = 1
sk_check "no backend protocol violations" \
	test "$(sk_blk_front_stat xvda violations)" = 0

sk_blk_guest_dmesg
