# SPDX-License-Identifier: GPL-2.0
#
# The block-pair interop table and dom0's XenStore view of a pair, shared
# by the package's two halves of the interop suite, vbd_guest.sh (the
# guest's view of what a frontend/backend pair negotiated) and
# vbd_dom0.sh (both ends' XenStore keys), and by the Xen-in-QEMU
# harness's scenarios that call them (tests/xen/lib/vbd.sh): what each
# driver offers, what a pair must take, and how dom0 reads and checks it.
# Checks made here report through $SKT_CHECK (default skt_check, which
# the harness replaces with its sk_check).
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

# --- dom0's view: both ends' XenStore keys ----------------------------

_skt_vbd_check()
{
	${SKT_CHECK:-skt_check} "$@"
}

# skt_vbd_xs PATH DEFAULT: a XenStore value, DEFAULT when the key is absent.
skt_vbd_xs()
{
	xenstore-read "$1" 2>/dev/null || echo "$2"
}

# skt_vbd_xs_keys [-p PREFIX] DIR KEY[=DEFAULT]...: the value of each KEY
# under the XenStore directory DIR, one line each, in order: DEFAULT (or
# nothing) when the key is absent; with -p, "PREFIX KEY VALUE" lines.  One
# xenstore-ls for them all: every client run is a fork and an exec, about
# a tenth of a second in a PV dom0 under emulation, and these checks read
# dozens of keys.  (xenstore-ls -f shortens only values longer than about
# 70 bytes; these keys hold numbers and paths.)
skt_vbd_xs_keys()
{
	local prefix="" dir

	if [ "$1" = -p ]; then
		prefix=$2
		shift 2
	fi
	dir=$1
	shift
	xenstore-ls -f "$dir" 2>/dev/null |
	awk -v dir="$dir" -v keys="$*" -v prefix="$prefix" '
	{
		i = index($0, " = \"")
		if (i)
			val[substr($0, 1, i - 1)] = substr($0, i + 4, length($0) - i - 4)
	}
	END {
		n = split(keys, k, " ")
		for (j = 1; j <= n; j++) {
			key = k[j]
			def = ""
			e = index(key, "=")
			if (e) {
				def = substr(key, e + 1)
				key = substr(key, 1, e - 1)
			}
			v = (dir "/" key) in val ? val[dir "/" key] : def
			if (prefix != "")
				print prefix, key, v
			else
				print v
		}
	}'
}

# skt_vbd_devid DISK: the XenStore device id of the guest's disk DISK
# (xvdb or /dev/xvdb; xvda..xvdp, then the extended xvdq..xvdz), as
# Xen's vbd interface numbers them (xen/include/public/io/blkif.h).
skt_vbd_devid()
{
	local d=${1#/dev/} n

	case "$d" in
	xvd[a-z]) ;;
	*) echo "skt_vbd_devid: $1 is not xvd<letter>" >&2; return 1 ;;
	esac
	n=$(($(printf '%d' "'${d#xvd}") - $(printf '%d' "'a")))
	if [ "$n" -lt 16 ]; then
		echo $(((202 << 8) | (n << 4)))
	else
		echo $(((1 << 28) | (n << 8)))
	fi
}

# skt_vbd_offers_seen BE: what the backend directory BE offers, in the
# order of VBD_OFFERS (queues order indirect persistent flush discard).
skt_vbd_offers_seen()
{
	skt_vbd_xs_keys "$1" multi-queue-max-queues=1 max-ring-page-order=0 \
		feature-max-indirect-segments=0 feature-persistent=0 \
		feature-flush-cache=0 feature-discard=0 | tr '\n' ' ' |
		sed 's/ $//'
}

# skt_vbd_xs_checks FRONT BACK DOMID DEVID...: dom0's view of what was
# negotiated on each writable disk DEVID of domain DOMID, the guest
# connected: the backend offered what VBD_OFFERS says, the frontend took
# the rings, ring pages and persistent grants both allow.
skt_vbd_xs_checks()
{
	local f=$1 b=$2 domid=$3 devid fe be want o rings order persistent
	local keys seen nq ro fp

	shift 3
	want=""
	for o in queues order indirect persistent flush discard; do
		want="$want $(skt_vbd_offer "$b" $o)"
	done
	want=${want# }
	rings=$(skt_vbd_expect "$f" "$b" rings)
	order=$(skt_vbd_expect "$f" "$b" order)
	persistent=$(skt_vbd_offer "$f" persistent)
	for devid in "$@"; do
		fe=/local/domain/$domid/device/vbd/$devid
		keys=$(skt_vbd_xs_keys "$fe" backend multi-queue-num-queues=1 \
			ring-page-order=0 feature-persistent=0)
		{
			read -r be
			read -r nq
			read -r ro
			read -r fp
		} <<-EOF
		$keys
		EOF
		seen=$(skt_vbd_offers_seen "$be")
		${SKT_SAY:-skt_comment} "vbd $devid: backend $be offers (queues order indirect persistent flush discard) $seen"
		_skt_vbd_check "vbd $devid: $b offers queues order indirect persistent flush discard = $want" \
			test "$seen" = "$want"
		_skt_vbd_check "vbd $devid: $f took $rings ring(s) (multi-queue-num-queues $nq)" \
			test "$nq" = "$rings"
		_skt_vbd_check "vbd $devid: $f took ring-page-order $order (got $ro)" \
			test "$ro" = "$order"
		_skt_vbd_check "vbd $devid: $f offers persistent grants (feature-persistent $fp)" \
			test "$fp" = "$persistent"
	done
}

# skt_vbd_xs_snapshot DOMID: the features both ends of every disk of DOMID
# publish, one line per key, for a before/after comparison (xen-blkback
# withdraws feature-flush-cache or feature-discard when they fail).
skt_vbd_xs_snapshot()
{
	local fe be devid

	for devid in $(xenstore-list "/local/domain/$1/device/vbd" 2>/dev/null); do
		fe=/local/domain/$1/device/vbd/$devid
		be=$(skt_vbd_xs "$fe/backend" "")
		skt_vbd_xs_keys -p "backend $devid" "$be" state=- \
			feature-flush-cache=- feature-barrier=- \
			feature-discard=- feature-persistent=- \
			feature-max-indirect-segments=- \
			multi-queue-max-queues=- max-ring-page-order=-
		skt_vbd_xs_keys -p "frontend $devid" "$fe" state=- \
			multi-queue-num-queues=- ring-page-order=- \
			feature-persistent=-
	done
}

# --- splitkit_back's zero copy ------------------------------------------
#
# With splitkit_back's zero_copy parameter on (and max_grants above 0), a
# disk whose frontend keeps its grants persistent does its I/O on the
# guest's own pages, mapped once (Documentation/block.rst, "How data
# moves"), and grant-copies only what its ring's pool could not map.  The
# disk's counters (skb_stats/, read while it is connected, after the
# guest's I/O) must show it: zero_copy 1, segments on mapped pages
# (zc_segs), the mappings reused (grant_map_hits above grant_maps: one
# mapping serves many requests), and at most one data segment in ten
# grant-copied because the pool had no slot (zc_full) or the mapping
# failed (zc_failed).  So zero copy that silently falls back to grant
# copy fails, and so does zero copy where it is off.  Either way a request
# with nothing to copy out (every write; a read on mapped pages) is
# answered where its I/O completed, without a hop to the completion work:
# with zero copy those answers (direct_answers) must outnumber the work's
# runs (completion_runs), which only reads on bounce pages need; with
# grant copy only, where every read needs the work, the writes' answers
# must be there.  And the disk's one pool, shared by the rings the
# frontend connected (a frontend may use a granted page on any ring), holds
# max_grants for every queue offered (multi-queue-max-queues), at most
# 262144: grant_slots is exactly that (0 with grant copy only), so a cap
# by the rings in use (a one-ring guest left with a quarter of its disk's
# mappings) or a pool over the bound both fail; per-ring pools, where a
# busy ring outgrows its part while the others idle, show as copies.

# skt_vbd_zc_stat DIR KEY: one counter of a skb_stats directory, 0 if
# there is no such file.
skt_vbd_zc_stat()
{
	cat "$1/$2" 2>/dev/null || echo 0
}

# skt_vbd_zc_checks DOMID DEVID...: the checks above for each disk DEVID
# of domain DOMID, served by splitkit_back and connected.  SKT_VBD_SYSFS
# (default /sys) is where sysfs is read.
skt_vbd_zc_checks()
{
	local sys=${SKT_VBD_SYSFS:-/sys} domid=$1 devid st on pers
	local zc segs full failed maps hits copied direct runs
	local mg fe offered rings share slots

	shift
	on=$(cat "$sys/module/splitkit_back/parameters/zero_copy" 2>/dev/null)
	mg=$(cat "$sys/module/splitkit_back/parameters/max_grants" 2>/dev/null)
	[ "${mg:-0}" != 0 ] || on=N
	for devid in "$@"; do
		st=$sys/bus/xen-backend/devices/vbd-$domid-$devid/skb_stats
		fe=/local/domain/$domid/device/vbd/$devid
		pers=$(skt_vbd_xs "$fe/feature-persistent" 0)
		zc=$(skt_vbd_zc_stat "$st" zero_copy)
		segs=$(skt_vbd_zc_stat "$st" zc_segs)
		full=$(skt_vbd_zc_stat "$st" zc_full)
		failed=$(skt_vbd_zc_stat "$st" zc_failed)
		maps=$(skt_vbd_zc_stat "$st" grant_maps)
		hits=$(skt_vbd_zc_stat "$st" grant_map_hits)
		copied=$((full + failed))
		direct=$(skt_vbd_zc_stat "$st" direct_answers)
		runs=$(skt_vbd_zc_stat "$st" completion_runs)
		slots=$(skt_vbd_zc_stat "$st" grant_slots)
		${SKT_SAY:-skt_comment} "vbd $devid: splitkit_back zero_copy ${on:-?}, frontend feature-persistent $pers: zero_copy $zc, segments mapped $segs, copied for want of a slot $full, map failed $failed; grant_maps $maps, grant_map_hits $hits, grant_unmaps $(skt_vbd_zc_stat "$st" grant_unmaps), evictions $(skt_vbd_zc_stat "$st" grant_evictions), mapped now $(skt_vbd_zc_stat "$st" grants_mapped); grant copies $(skt_vbd_zc_stat "$st" gcopy_segs) ($(skt_vbd_zc_stat "$st" gcopy_bytes) bytes, indirect pages included)"
		if [ "$on" != Y ] || [ "$pers" != 1 ]; then
			_skt_vbd_check "vbd $devid: grant copy only (zero_copy ${on:-?}, feature-persistent $pers): nothing on mapped grants, no grant slots ($slots)" \
				test "$zc" = 0 -a "$segs" = 0 -a "$slots" = 0
			# reads are copied back by the completion work here
			_skt_vbd_check "vbd $devid: writes answered where their I/O completed ($direct; completion work $runs runs)" \
				test "$direct" -gt 0
			continue
		fi
		_skt_vbd_check "vbd $devid: answered where the I/O completed ($direct) more often than by the completion work ($runs runs)" \
			test "$direct" -gt "$runs"
		_skt_vbd_check "vbd $devid: zero copy in force (skb_stats/zero_copy $zc)" \
			test "$zc" = 1
		_skt_vbd_check "vbd $devid: I/O on mapped grants ($segs segments)" \
			test "$segs" -gt 0
		_skt_vbd_check "vbd $devid: mappings reused (grant_map_hits $hits > grant_maps $maps)" \
			test "$hits" -gt "$maps"
		_skt_vbd_check "vbd $devid: at most 1 data segment in 10 grant-copied ($copied of $((segs + copied)))" \
			test $((copied * 10)) -le $((segs + copied))
		offered=$(skt_vbd_xs "$(skt_vbd_xs "$fe/backend" "")/multi-queue-max-queues" 1)
		rings=$(skt_vbd_xs "$fe/multi-queue-num-queues" 1)
		share=$((mg * offered))
		[ "$share" -le 262144 ] || share=262144
		_skt_vbd_check "vbd $devid: its $rings ring(s) share one pool of the disk's mappings, max_grants $mg x $offered queue(s) offered: $share slots (grant_slots $slots)" \
			test "$slots" = "$share"
	done
}

skt_vbd_domain_exists()
{
	xl domid "$1" >/dev/null 2>&1
}

# skt_vbd_wait_guest NAME KEY SECONDS: dom0 side; wait until domain NAME
# has sent KEY (lib/handshake.sh).  The domain may not exist yet: wait for
# it first (skt_wait, so $SKT_ALIVE can end that wait early).  Fails when
# it is gone or SECONDS have passed.
skt_vbd_wait_guest()
{
	local deadline=$(($(date +%s) + $3))

	skt_wait "$3" skt_vbd_domain_exists "$1" || return 1
	skt_hs_wait_from "$1" "$2" $((deadline - $(date +%s))) >/dev/null
}
