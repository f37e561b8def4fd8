# SPDX-License-Identifier: GPL-2.0
#
# The block-pair interop table, shared by the package's vbd_guest.sh (the
# guest's view of what a frontend/backend pair negotiated) and the
# Xen-in-QEMU harness's dom0 half (tests/xen/lib/vbd.sh, both ends'
# XenStore keys): what each driver offers and what a pair must take.
#
# VBD_OFFERS: what each driver offers on a writable disk, as the harness's
# vbd-* scenarios load it: interrupt-driven queues (rings; a frontend
# counts no more than the guest's 2 vCPUs, xen-blkback offers one per dom0
# vCPU, 2 there), the largest ring-page-order, indirect segments (0: none),
# persistent grants, flush, discard, and poll queues (splitkit_front's
# poll_queues=1).  xen-blkfront gets max_ring_page_order=2 from
# vbd-stockfront (its default is one page).  Documentation/block.rst shows
# the same table.  On another machine, set SPLITKIT_VBD_OFFERS to a table
# of the same shape for the drivers as loaded there.
VBD_OFFERS=${SPLITKIT_VBD_OFFERS:-"
#driver        queues order indirect persistent flush discard poll
splitkit_front 2      2     32       1          -     -       1
xen-blkfront   2      2     32       1          -     -       0
splitkit_back  4      4     256      1          1     1       -
xen-blkback    2      4     256      1          1     1       -
qdisk          1      4     0        0          1     1       -
"}

# skt_vbd_offer DRIVER FIELD: one entry of VBD_OFFERS.
skt_vbd_offer()
{
	echo "$VBD_OFFERS" | awk -v d="$1" -v f="$2" '
		$1 == d {
			n = split("queues order indirect persistent flush discard poll", k, " ")
			for (i = 1; i <= n; i++)
				if (k[i] == f)
					print $(i + 1)
		}'
}

skt_vbd_min()
{
	if [ "$1" -lt "$2" ]; then echo "$1"; else echo "$2"; fi
}

# skt_vbd_expect FRONT BACK WHAT: what the pair must negotiate.  WHAT is
# irq (interrupt-driven queues), poll (poll queues), rings (both), order,
# indirect (0: direct requests only), persistent, flush, discard.
skt_vbd_expect()
{
	local f=$1 b=$2 bq fq irq poll n

	bq=$(skt_vbd_offer "$b" queues)
	fq=$(skt_vbd_offer "$f" queues)
	irq=$(skt_vbd_min "$fq" "$bq")
	poll=0
	if [ "$f" = splitkit_front ]; then
		# frontend/xenbus.c: poll queues come out of the backend's
		# rings, at least one ring stays interrupt-driven
		poll=$(skt_vbd_min "$(skt_vbd_offer "$f" poll)" $((bq - 1)))
		[ $((irq + poll)) -le "$bq" ] || irq=$((bq - poll))
	fi
	case "$3" in
	irq) echo "$irq" ;;
	poll) echo "$poll" ;;
	rings) echo $((irq + poll)) ;;
	order)
		skt_vbd_min "$(skt_vbd_offer "$f" order)" "$(skt_vbd_offer "$b" order)" ;;
	indirect)
		n=$(skt_vbd_min "$(skt_vbd_offer "$f" indirect)" \
			"$(skt_vbd_offer "$b" indirect)")
		# 11 segments or fewer fit a direct request
		[ "$n" -gt 11 ] || n=0
		echo "$n" ;;
	persistent)
		skt_vbd_min "$(skt_vbd_offer "$f" persistent)" \
			"$(skt_vbd_offer "$b" persistent)" ;;
	flush|discard)
		skt_vbd_offer "$b" "$3" ;;
	esac
}
