# SPDX-License-Identifier: GPL-2.0
#
# back-bound (domU half), by sk.bound=:
#   fill  the hostile test frontend with test=fill on every disk (no
#         xen-blkfront): rings kept full of the largest indirect reads
#         until dom0 says fill-stop (then fill_stop=1), its verdicts
#         relayed (every
#         request answered OKAY: the backend's page budget made the
#         excess wait, it failed nothing);
#   good  xen-blkfront on one disk: all of it written and verified
#         (direct I/O) while the fill guest holds the budget.

. /lib/splitkit/blk.sh

case "$(sk_cmdline sk.bound)" in
fill)
	ndisks=$(ls -d /sys/bus/xen/devices/vbd-* 2>/dev/null | wc -l)
	sk_check "the guest sees its three disks ($ndisks)" test "$ndisks" -eq 3 ||
		return
	sk_check "load splitkit_hostile test=fill (no xen-blkfront)" \
		sk_insmod splitkit_hostile test=fill || return
	sk_check "tell dom0: filling" sk_hs_send filling
	sk_check "dom0 says fill-stop" sk_hs_wait fill-stop 900
	# each disk's test thread stops filling and reports
	sk_check "stop filling" \
		sh -c "echo 1 >/sys/module/splitkit_hostile/parameters/fill_stop"
	sk_check "fill test ended on all $ndisks disks" \
		skt_wait 180 sh -c "test \$(dmesg | grep -c 'splitkit_hostile: .*fill test done') -eq $ndisks"
	sk_blk_hostile_results 'fill test done'
	;;
good)
	sk_check "load xen-blkfront" sk_blk_load_front || return
	sk_check "/dev/xvda appeared" sk_wait_block /dev/xvda 60 || return
	sk_check "fio: all of xvda written and verified (64 KiB, direct)" \
		sk_blk_fio /dev/xvda 11 write 64k 1
	sk_check "no I/O error in the guest's kernel log" \
		sh -c "! dmesg | grep -iE 'i/o error|op failed'"
	sk_blk_guest_dmesg 5
	;;
*)
	sk_fail "sk.bound=$(sk_cmdline sk.bound) is not a back-bound mode"
	;;
esac
