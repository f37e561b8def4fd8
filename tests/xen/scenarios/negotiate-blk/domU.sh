# SPDX-License-Identifier: GPL-2.0
#
# negotiate-blk (domU half): see dom0.sh.  Requests blk.iops for xvda
# (20..100 against dom0's capacity of 300: offers 100, 75, 50, 25),
# selects the third (50), measures random 4 KiB reads with fio (within 10%
# of 50); after dom0 lowers its capacity to 30 (offers 30, 22), selects
# the first new offer (30) and measures again; then writes garbage and floods requests into its own
# slots and checks dom0 answered with an error key and kept slot 0.

. /lib/splitkit/blk.sh

dev=/sys/bus/xen/devices/sk-neg-0
vdev=51712	# xvda

slot0()
{
	grep '^0 ' "$dev/slots"
}

slot0_is()
{
	slot0 | grep -q "^0 $1 "
}

# iops N: random 4 KiB direct reads, N of them; print fio's read IOPS.
iops()
{
	fio --name=neg --filename=/dev/xvda --rw=randread --bs=4k --direct=1 \
	    --ioengine=libaio --iodepth=4 --number_ios="$1" --size=32M \
	    --randrepeat=1 --minimal | cut -d';' -f8
}

# within RATE LIMIT: RATE within 10% of LIMIT
within()
{
	[ "$1" -ge $(($2 * 9 / 10)) ] && [ "$1" -le $(($2 * 11 / 10)) ]
}

sk_check "load splitkit_front" sk_blk_load_front splitkit_front || return
sk_check "xvda appears" sk_wait_block /dev/xvda || return
sk_check "load splitkit_negotiate (frontend)" sk_insmod splitkit_negotiate ||
	return
free=$(iops 600)
sk_comment "unlimited: $free IOPS"
sk_check "unlimited IOPS above 75 (else the limit could not show)" \
	test "${free%.*}" -gt 75
sk_hs_send neg-ready
sk_hs_wait neg-device >/dev/null || return
# the request is refused (ENOTCONN) until both ends are connected
sk_check "request blk.iops 20..100 for xvda once connected" \
	skt_wait 120 sh -c "echo 0 blk.iops $vdev 20 100 >$dev/request"
sk_check "dom0 offers" skt_wait 120 slot0_is offered
sk_comment "$(slot0)"
sk_check "offers are 100,75,50,25" sh -c "grep '^0 ' $dev/slots | grep -q 'offers [0-9]*:100,75,50,25 '"
sk_check "select the third offer (50)" sh -c "echo 0 2 >$dev/select"
sk_check "the agreement is applied" skt_wait 120 slot0_is applied
sk_comment "$(slot0)"
sk_check "applied 50" sh -c "grep '^0 ' $dev/slots | grep -q 'applied 50:'"
got=$(iops 500)
sk_comment "limited to 50: $got IOPS"
sk_check "fio IOPS within 10% of 50" within "${got%.*}" 50
sk_hs_send neg-applied
sk_hs_wait neg-lowered >/dev/null || return
sk_check "dom0's lower capacity brings new offers" \
	skt_wait 120 slot0_is offered
sk_comment "$(slot0)"
sk_check "new offers are 30,22" sh -c "grep '^0 ' $dev/slots | grep -q 'offers [0-9]*:30,22 '"
sk_check "select the first new offer (30)" sh -c "echo 0 0 >$dev/select"
sk_check "the new agreement is applied" skt_wait 120 sh -c \
	"grep '^0 applied ' $dev/slots | grep -q 'applied 30:'"
got=$(iops 300)
sk_comment "limited to 30: $got IOPS"
sk_check "fio IOPS within 10% of 30" within "${got%.*}" 30

# hostile: garbage in slot 1, a flood of requests in slot 2
mine=device/sk-neg/0
sk_check "write garbage into slot 1" \
	xenstore-write "$mine/slot-1/resource" blk.iops "$mine/slot-1/target" \
		"$vdev" "$mine/slot-1/min" -5 "$mine/slot-1/max" \
		99999999999999999999999 "$mine/slot-1/request-gen" 1
i=1
while [ "$i" -le 100 ]; do
	xenstore-write "$mine/slot-2/resource" blk.iops "$mine/slot-2/target" \
		"$vdev" "$mine/slot-2/min" 10 "$mine/slot-2/max" 20 \
		"$mine/slot-2/request-gen" "$i" || break
	i=$((i + 1))
done
sk_check "flooded 100 requests" test "$i" -gt 100
domid=$(xenstore-read domid)
be=/local/domain/0/backend/sk-neg/$domid/0
sk_check "dom0 answered the garbage with an error key" \
	skt_wait 120 xenstore-read "$be/slot-1/error"
sk_comment "slot-1/error: $(xenstore-read "$be/slot-1/error" 2>&1)"
sk_check "dom0 answered the flood's last request (nothing lost)" \
	skt_wait 120 sh -c "test \"\$(xenstore-read $be/slot-2/offer-for)\" = 100"
sk_check "slot 0 untouched" sh -c "grep '^0 applied ' $dev/slots | grep -q 'applied 30:'"
sk_hs_send neg-hostile-done
sk_hs_wait neg-dom0-done >/dev/null
