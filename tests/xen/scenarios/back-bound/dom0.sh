# SPDX-License-Identifier: GPL-2.0
#
# back-bound (dom0 half): a guest must not be able to make dom0 pin memory
# without bound (issue 16, fault 1).  Every request splitkit_back serves
# holds one bounce page per segment until it is answered; the page budget
# (backend/budget.c) bounds them per disk (max_pages) and in all
# (max_pages_all, plus one request per disk), and makes the excess wait.
#
#   dom0: /run/bb{0,1,2}.img -> loop -> dm-delay (each I/O held DELAY_MS)
#         -> splitkit_back ==blkif== splitkit_hostile test=fill
#                                     :domU back-bound-fill
#   dom0: /run/bb-good.img -> splitkit_back ==blkif== xen-blkfront + fio
#                                     :domU back-bound-good
#
# The fill guest keeps its three rings full of the largest indirect reads
# (32 x 260 pages a disk - bounce pages, the indirect page and the
# bookkeeping - 24960 pages in all, against budgets of 4096 a
# disk and 8192 in all); dom0 waits until every fill disk has waited for
# the budget (the bound was reached: skb_stats/page_waits), runs the good
# guest to its end meanwhile, then checks the peaks the backend recorded:
# no fill disk above 4096 pages, the backend not above 8192 plus one
# request per disk.  Then the fill guest stops and reports every request
# answered OKAY (waiting, not failing).  The delay only keeps requests in
# flight long enough to fill the budget; no check depends on it.

. /lib/splitkit/blk.sh

LOSETUP=/usr/lib/splitkit/losetup
P=/sys/module/splitkit_back/parameters
DELAY_MS=100
DISK_MAX=4096
ALL_MAX=8192
FILL=back-bound-fill

# bb_stat DOMID DEVID NAME: one counter of a disk's skb_stats/.
bb_stat()
{
	cat "/sys/bus/xen-backend/devices/vbd-$1-$2/skb_stats/$3" 2>/dev/null ||
		echo -1
}

# bb_all_full DOMID: every fill disk has reached its bound: it waited for
# the budget, or (a backend without one) held more than the bound.
bb_all_full()
{
	local devid
	for devid in 51712 51728 51744; do
		[ "$(bb_stat "$1" $devid page_waits)" -gt 0 ] ||
			[ "$(bb_stat "$1" $devid pages_peak)" -gt $DISK_MAX ] ||
			return 1
	done
}

# bb_all_waited DOMID: every fill disk has waited for the budget.
bb_all_waited()
{
	local devid
	for devid in 51712 51728 51744; do
		[ "$(bb_stat "$1" $devid page_waits)" -gt 0 ] || return 1
	done
}

sk_check "load splitkit_back (xen-blkback not loaded)" sk_blk_load_back ||
	return
sk_check "load loop and dm-delay" sk_modprobe loop dm-delay || return

# --- the parameters ------------------------------------------------------
sh -c "echo 4095 >$P/max_pages" 2>/dev/null
sk_check "max_pages refuses 4095 (one request of 4096 segments must fit)" \
	test "$(cat $P/max_pages)" = 16384
sh -c "echo 100 >$P/max_pages_all" 2>/dev/null
sk_check "max_pages_all refuses 100" test "$(cat $P/max_pages_all)" = 131072
sk_check "set max_pages=$DISK_MAX max_pages_all=$ALL_MAX" \
	sh -c "echo $DISK_MAX >$P/max_pages && echo $ALL_MAX >$P/max_pages_all"

# --- three slow disks ----------------------------------------------------
ok=1
loops=""
for i in 0 1 2; do
	rm -f "/run/bb$i.img" "/run/bb$i-dev"
	truncate -s 64M "/run/bb$i.img"
	loop=$($LOSETUP -f --show "/run/bb$i.img") || { ok=0; break; }
	loops="$loops $loop"
	sectors=$(blockdev --getsz "$loop")
	DM_DISABLE_UDEV=1 dmsetup create "bb$i" \
		--table "0 $sectors delay $loop 0 $DELAY_MS" || { ok=0; break; }
	dev=/dev/mapper/bb$i
	[ -b "$dev" ] ||
		dev=/dev/$(DM_DISABLE_UDEV=1 dmsetup info -c --noheadings -o blkdevname "bb$i")
	ln -s "$dev" "/run/bb$i-dev"
	[ -b "/run/bb$i-dev" ] || { ok=0; break; }
done
sk_check "three dm-delay disks ($DELAY_MS ms) over loop devices" test $ok = 1 ||
	return
rm -f /run/bb-good.img
truncate -s 32M /run/bb-good.img

# --- fill, and a normal guest meanwhile ----------------------------------
sk_domU_run fill.cfg 900 &
pid=$!
if sk_check "fill guest started filling" \
	skt_wait "$(sk_guard 600)" sh -c "xl domid $FILL >/dev/null 2>&1" &&
   sk_check "fill guest says filling" sk_hs_wait_from $FILL filling "$(sk_guard 600)"; then
	domid=$(xl domid $FILL)
	sk_check "every fill disk reached its bound" \
		skt_wait 300 bb_all_full "$domid"
	sk_check "every fill disk waited for the page budget" \
		bb_all_waited "$domid"
	sk_domU_run good.cfg "$(sk_guard 600)"
	for devid in 51712 51728 51744; do
		peak=$(bb_stat "$domid" $devid pages_peak)
		sk_comment "fill disk $devid: pages_peak $peak, page_waits $(bb_stat "$domid" $devid page_waits), now $(bb_stat "$domid" $devid pages)"
		sk_check "fill disk $devid never held more than $DISK_MAX pages ($peak)" \
			test "$peak" -ge 0 -a "$peak" -le $DISK_MAX
	done
	peak=$(cat $P/pages_peak)
	sk_comment "backend: pages_peak $peak, in use $(cat $P/pages_in_use)"
	# four disks, each may start one 256-segment request beyond the bound:
	# 256 bounce pages, its indirect page and its bookkeeping (< 4 pages)
	sk_check "backend never held more than $ALL_MAX + 4 x 261 pages ($peak)" \
		test "$peak" -le $((ALL_MAX + 4 * 261))
	sk_check "backend held more than one disk's bound at its peak ($peak)" \
		test "$peak" -gt $DISK_MAX
	sk_check "tell the fill guest: fill-stop" sk_hs_send_to $FILL fill-stop
fi
wait $pid

sk_check "backend devices gone after the guests" sk_blk_no_vbd 60
sk_check "no pages left in use" test "$(cat $P/pages_in_use)" = 0
for i in 0 1 2; do
	DM_DISABLE_UDEV=1 dmsetup remove "bb$i" 2>/dev/null
	rm -f "/run/bb$i-dev" "/run/bb$i.img"
done
for loop in $loops; do
	$LOSETUP -d "$loop" 2>/dev/null
done
rm -f /run/bb-good.img
# unloading resets the parameters for the scenarios that follow
sk_check "rmmod splitkit_back" rmmod splitkit_back
sk_blk_dmesg_dump
sk_check "dmesg: no oops, warning or hung task" sk_blk_dmesg_clean
