# SPDX-License-Identifier: GPL-2.0
#
# vbd-online: splitkit_back's online image operations (backend/imgop.c,
# Documentation/image.rst "Online operations") on qcow2 images that a
# running guest writes through splitkit_front all along.
#
#   dom0: /run/online/seed.raw     32 MiB, fio seed 1 (the bases' content)
#         cmp.qcow2    ==> xvda  (a) compact
#         frag.qcow2   ==> xvdb  (b) defrag
#         cchild.qcow2 ==> xvdc  (c) commit into cbase.qcow2 (128 KiB
#                                    clusters, seed.raw)
#         schild.qcow2 ==> xvdd  (d) stream sbase.qcow2 (seed.raw) in
#         dchild.qcow2 ==> xvde  (e) commit into dbase.qcow2 (64 KiB
#                                    clusters as the child's: the copies
#                                    unlocked and direct, seed.raw)
#
# Every disk has two parts: [0, 24M) and [26M, 32M), which the guest
# prepares once and then only reads (their md5 taken before and after,
# and by dom0 at the end), and the loop region [24M, 26M), where the guest
# runs fio verify passes (16 KiB random writes, libaio, O_DIRECT, iodepth 8, one fio
# process per disk, so that each job is fio's thread 1 and dom0 can replay
# it) until dom0 says stop; each pass marks its blocks with its own byte
# (sk_online_fio), so a lost write fails that pass's verify.  Before its
# first pass the guest writes xvda whole (file order = guest order) and
# discards [0, 16M) of it, and writes xvdb's [0, 24M) in random order, one
# 64 KiB cluster per O_DIRECT request, so its file is fragmented on
# purpose.
#
# dom0 runs the four operations in turn (splitkit vbd, --step 16), each
# paced by the guest's I/O (image_op/guest_pace = OL_PACE: after every
# step the backend waits until the guest has sent OL_PACE more requests to
# that disk), so guest writes land between every two steps whatever the
# machine's speed; nothing here waits for a time.  Checks: state "done" and
# at least OL_PACE guest requests served while it ran; (a) the file shrank
# by at least the 16 MiB discarded; (b) the fragment count of splitkit vbd
# list fell (to a quarter or less); (c) the commit moved every cluster the
# child held when it began, and the child holds none afterwards (the
# guest's later writes went to the parent), whose own data the guest's
# last reads got on the backend's direct path (skb_stats/image_direct grew
# after the commit); (d) the stream copied every cluster the child did not
# hold, and the child has no backing file any more; (e) as (c), into a
# parent of the child's cluster size, whose copies run unlocked and with
# direct I/O (checked), as those of (a), (b) and (d) do.  Then dom0 sends
# online-stop=N, N the first pass to begin after the operations, the last
# the guest runs.  The only time limits are hang guards: the guest's life
# (the scenario's sk.timeout less 240 s) and its loop's.  After the guest:
# qemu-img check clean on every image, content (md5 of everything but the
# loop region: zeroes and the guest's data on xvda, the guest's data on
# xvdb, the seed on xvdc, xvdd and xvde, each read from the image that must now
# hold it alone; dom0's fio replays the guest's last pass over the loop
# region, so a lost write or one left from an earlier pass fails), the
# stream's parent unchanged, and each image's history records its
# operation.  Handshakes (guest -> dom0): md5s, online-ready, begun (the
# number of the pass it begins, rewritten), pass (of the last pass done,
# rewritten) and pass-N (each), online-failed, online-done (the last
# pass's mark); dom0 -> guest: online-stop (the last pass to run),
# online-done-seen.

. /lib/splitkit/qcow2.sh

OD=/run/online
# the loop region, MiB (a scenario may make it smaller: OL_MB=1)
OL_OFF=24
OL_MB=${OL_MB:-2}
# the disks' size, MiB
OL_SIZE=32
# guest requests between two steps of an operation (image_op/guest_pace)
OL_PACE=2
# clusters a step moves at most (image_op/step_clusters)
OL_STEP=16
# make (e)'s images too (vbd-online-cut has no use for them)
OL_E=${OL_E-1}

# sk_online_fio FILE MARK MODE [ARGS...]: the loop region's fio job,
# MODE "write" (write and verify, as the guest's passes) or "verify" (dom0
# replays it on an image's raw conversion).  Every block holds the pass's
# MARK byte (two hex digits) and its own offset (fio's verify_pattern
# "0xMARK%o"), so a block left from an earlier pass, or written to the
# wrong place, fails.  (fio 3.33's crc32c headers would not do: a
# verify_only run with another --randseed accepts them.)
sk_online_fio()
{
	local file=$1 mark=$2 mode=$3 extra
	shift 3
	case "$mode" in
	write) extra="--do_verify=1" ;;
	verify) extra="--verify_only" ;;
	esac
	fio --name=loop --filename="$file" --rw=randwrite --bs=16k --eta=never \
	    --offset=${OL_OFF}m --size=${OL_MB}m \
	    --verify=pattern --verify_pattern="0x$mark%o" --verify_fatal=1 \
	    --randrepeat=1 --randseed=7 --verify_state_save=0 $extra "$@"
}

# sk_online_md5 FILE: md5 of FILE but its loop region ([0, 24M), then
# [26M, 32M)).  The page cache is dropped first, so that a guest reads its
# disk, not what it read before.
sk_online_md5()
{
	sync
	echo 3 >/proc/sys/vm/drop_caches
	{ dd if="$1" bs=1M count=$OL_OFF 2>/dev/null &&
	  dd if="$1" bs=1M skip=$((OL_OFF + OL_MB)) \
	     count=$((OL_SIZE - OL_OFF - OL_MB)) 2>/dev/null; } |
		md5sum | cut -d' ' -f1
}

# --- guest ----------------------------------------------------------------

# The guest's disks (a scenario may set these before calling
# sk_online_guest): OG_ALL all of them, OG_FILL those written whole in
# order with [0, 16M) then discarded, OG_FRAG those written in random
# cluster order before the operations, OG_DISKS those the fio verify
# passes run on, OG_END those whose md5 is checked again at the end.
OG_ALL=${OG_ALL:-"xvda xvdb xvdc xvdd xvde"}
OG_FILL=${OG_FILL:-"xvda"}
OG_FRAG=${OG_FRAG:-"xvdb"}
OG_DISKS=${OG_DISKS:-"$OG_ALL"}
OG_END=${OG_END:-"$OG_ALL"}

# sk_online_pass MARK: one fio verify pass over every disk's loop region,
# in parallel; fails if any fio does (its output becomes comments).
sk_online_pass()
{
	local d pids="" rc=0

	for d in $OG_DISKS; do
		sk_online_fio "/dev/$d" "$1" write --ioengine=libaio \
			--iodepth=8 --direct=1 --output="/tmp/fio-$d.log" &
		pids="$pids $!"
	done
	for p in $pids; do
		wait "$p" || rc=1
	done
	[ "$rc" = 0 ] && return 0
	for d in $OG_DISKS; do
		grep -iE 'err|verify|bad|crc' "/tmp/fio-$d.log" | head -n 20 |
			while IFS= read -r l; do sk_comment "fio $d: $l"; done
	done
	return 1
}

# sk_online_prepare: load the frontend (sk.front, default splitkit_front),
# wait for the disks, write them as the header says, and send each one's
# md5 outside the loop region (md5-xvdX); sets md5_xvdX.
sk_online_prepare()
{
	local d m front rs=31

	front=$(sk_cmdline sk.front) || front=splitkit_front
	sk_check "load $front" sk_blk_load_front "$front" || return
	for d in $OG_ALL; do
		sk_check "/dev/$d appeared" sk_wait_block "/dev/$d" 60 || return
	done
	# (a) whole in file order, then [0, 16M) discarded (1 MiB requests:
	# splitkit_back flushes once per allocating request, not per cluster)
	for d in $OG_FILL; do
		sk_check "$d: write the whole disk" \
			fio --name=fill --filename=/dev/$d --rw=write --bs=1m \
			    --eta=never --direct=1 --size=100% --randrepeat=1 \
			    --randseed=30 --output=/dev/null || return
		sk_check "$d: blkdiscard [0, 16M)" \
			blkdiscard -o 0 -l $((16 << 20)) /dev/$d || return
	done
	# (b) [0, 24M) in random order, a cluster a request
	for d in $OG_FRAG; do
		sk_check "$d: write [0, 24M) in random cluster order" \
			fio --name=frag --filename=/dev/$d --rw=randwrite --bs=64k \
			    --eta=never --direct=1 --size=${OL_OFF}m --randrepeat=1 \
			    --randseed=$rs --output=/dev/null || return
		rs=$((rs + 1))
	done
	for d in $OG_ALL; do
		eval "md5_$d=\$(sk_online_md5 /dev/$d)"
		eval "m=\$md5_$d"
		sk_comment "$d: md5 outside the loop region $m"
		sk_hs_send "md5-$d" "$m" >/dev/null
	done
}

sk_online_guest()
{
	local d pass=0 seed last=0 deadline m ok=1 guard stop

	sk_online_prepare || return
	sk_check "first fio verify pass on every disk" sk_online_pass f0 ||
		{ sk_hs_send online-failed 0; return; }
	sk_check "tell dom0" sk_hs_send online-ready
	# passes until dom0 says stop; the deadline is a hang guard only (dom0
	# destroys a guest that outlives the scenario first)
	deadline=$(($(date +%s) + 3600))
	guard=0
	while :; do
		pass=$((pass + 1))
		seed=$(printf %02x $((pass % 240)))
		xenstore-write data/splitkit/guest/begun "$pass"
		if ! sk_online_pass "$seed"; then
			ok=0
			sk_fail "fio verify pass $pass (mark $seed)"
			sk_hs_send online-failed "$pass"
			break
		fi
		last=$seed
		xenstore-write data/splitkit/guest/pass "$pass"
		xenstore-write data/splitkit/guest/pass-$pass "$seed"
		# dom0's online-stop names the last pass to run
		stop=$(xenstore-read data/splitkit/dom0/online-stop 2>/dev/null) &&
			[ "$pass" -ge "$stop" ] && break
		if [ "$(date +%s)" -ge "$deadline" ]; then
			guard=1
			break
		fi
	done
	sk_comment "$pass fio verify passes of ${OL_MB} MiB on each disk"
	[ "$ok" = 1 ] && sk_ok "every fio verify pass clean ($pass passes)"
	[ "$guard" = 0 ] || sk_fail "dom0 said online-stop within 3600 s"
	for d in $OG_END; do
		eval "m=\$md5_$d"
		sk_check "$d: outside the loop region reads as before the operations" \
			test "$(sk_online_md5 /dev/$d)" = "$m"
	done
	for d in $OG_DISKS; do
		sk_comment "$d: $(sk_blk_front_stat "$d" | tr '\n' ' ')"
	done
	# dom0 reads the mark before the guest (and its keys) go away
	[ "$ok" = 1 ] && sk_check "dom0 read the last pass's mark" \
		sk_online_done "$last"
}

# sk_online_done MARK: (guest) send online-done=MARK, wait for dom0's
# online-done-seen.
sk_online_done()
{
	sk_hs_send online-done "$1" && sk_hs_wait online-done-seen 300 >/dev/null
}

# --- dom0 -----------------------------------------------------------------

# sk_online_check DESC CMD...: sk_check, remembering a failure (dom0's
# kernel log is printed at the end then).
sk_online_check()
{
	sk_check "$@" && return 0
	ONLINE_BAD=1
	return 1
}

sk_online_make()
{
	sk_qcow2_fs "$OD" || return 1
	truncate -s 32M "$OD/seed.raw" &&
	sk_blk_fio "$OD/seed.raw" 1 write &&
	qemu-img create -q -f qcow2 "$OD/cmp.qcow2" 32M &&
	qemu-img create -q -f qcow2 "$OD/frag.qcow2" 32M &&
	qemu-img convert -q -f raw -O qcow2 -o cluster_size=128k \
		"$OD/seed.raw" "$OD/cbase.qcow2" &&
	qemu-img convert -q -f raw -O qcow2 "$OD/seed.raw" "$OD/sbase.qcow2" &&
	(cd "$OD" &&
	 qemu-img create -q -f qcow2 -b cbase.qcow2 -F qcow2 cchild.qcow2 &&
	 qemu-img create -q -f qcow2 -b sbase.qcow2 -F qcow2 schild.qcow2) &&
	{ [ -z "$OL_E" ] ||
	  (cd "$OD" &&
	   qemu-img convert -q -f raw -O qcow2 seed.raw dbase.qcow2 &&
	   qemu-img create -q -f qcow2 -b dbase.qcow2 -F qcow2 dchild.qcow2); }
}

# sk_online_status DEV: splitkit vbd status of DEV as comments.
sk_online_status()
{
	splitkit vbd status --json "$1" 2>&1 | while IFS= read -r l; do
		sk_comment "status: $l"
	done
}

# sk_online_list: splitkit vbd list as comments.
sk_online_list()
{
	splitkit vbd list 2>&1 | while IFS= read -r l; do
		sk_comment "vbd list: $l"
	done
}

# sk_online_frags DEV: the FRAGMENTS column of splitkit vbd list for DEV.
sk_online_frags()
{
	splitkit vbd list | awk -v d="$1" '$1 == d { print $7 }'
}

# sk_online_key NAME KEY: the value domain NAME sent as KEY (no waiting).
sk_online_key()
{
	local home
	home=$(sk_hs_home "$NAME_ONLINE" 2>/dev/null) &&
		xenstore-read "$home/guest/$1" 2>/dev/null
}

# sk_online_run OUT ARGS...: splitkit ARGS, its output into OUT.
sk_online_run()
{
	local out=$1
	shift
	splitkit "$@" >"$out" 2>&1
}

# sk_online_paused_gone NAME: destroy a paused guest of the attach rules
# checks and wait for it and its backend devices (the online guest's
# disks stay).
sk_online_paused_gone()
{
	local id

	id=$(xl domid "$1") || return
	xl destroy "$1" && sk_blk_gone "$1" 30 && sk_blk_no_vbd 30 "$id-"
}

# sk_online_op_val DEV FILE: DEV's image_op/FILE.
sk_online_op_val()
{
	cat "/sys/bus/xen-backend/devices/$1/image_op/$2"
}

# sk_online_bulk: bytes the operations' copies moved with direct I/O
# (splitkit_image's bulk_direct_bytes)
sk_online_bulk()
{
	cat /sys/module/splitkit_image/parameters/bulk_direct_bytes
}

# sk_online_op OP DEVID: run OP on the guest's disk DEVID with splitkit
# vbd (which waits for the end), paced by the guest's requests
# (image_op/guest_pace), and check that it ended done with the guest
# served between its steps.  Leaves image_op/moved in ONLINE_MOVED and
# the bytes its copies moved with direct I/O in ONLINE_BULK.
sk_online_op()
{
	local dev=vbd-$DOMID_ONLINE-$2 out=/tmp/sk-online-$1.log reqs state held
	local bulk0

	ONLINE_MOVED=
	bulk0=$(sk_online_bulk)
	sk_online_check "$1: image_op/guest_pace = $OL_PACE" \
		sh -c "echo $OL_PACE >/sys/bus/xen-backend/devices/$dev/image_op/guest_pace"
	sk_online_check "splitkit vbd $1 $dev" \
		sk_online_run "$out" vbd "$1" --step $OL_STEP "$dev"
	while IFS= read -r l; do sk_comment "vbd $1: $l"; done <"$out"
	sk_online_status "$dev"
	state=$(sk_online_op_val "$dev" state)
	reqs=$(sk_online_op_val "$dev" guest_requests)
	ONLINE_MOVED=$(sk_online_op_val "$dev" moved)
	sk_online_check "$1: image_op/state is done" test "$state" = "done"
	sk_online_check "$1: guest requests served between its steps ($reqs, pace $OL_PACE)" \
		test "${reqs:-0}" -ge "$OL_PACE"
	held=$(sk_online_op_val "$dev" held_max_us)
	sk_online_check "$1: image_op/held_max_us counted its steps' lock holds ($held us)" \
		test "${held:-0}" -gt 0
	ONLINE_BULK=$(($(sk_online_bulk) - bulk0))
}

# sk_online_op_bulk OP: OP's copies went with direct I/O (the images are on
# ext4), not through dom0's page cache
sk_online_op_bulk()
{
	sk_online_check "$1: copied with direct I/O ($ONLINE_BULK bytes of splitkit_image's bulk_direct_bytes)" \
		test "$ONLINE_BULK" -gt 0
}

# sk_online_history IMAGE OP NOTE: IMAGE's history has OP (with NOTE, a
# prefix of the record's note; "" for none).
sk_online_history()
{
	splitkit img meta list "$1" | grep -q "history: .* $2${3:+ $3}"
}

# sk_online_region_ok RAW SEED MD5: RAW outside the loop region has MD5
# and its loop region holds the guest's last pass (mark SEED).
sk_online_region_ok()
{
	local m

	m=$(sk_online_md5 "$1")
	if [ "$m" != "$3" ]; then
		echo "md5 outside the loop region: $m, expected $3" >&2
		return 1
	fi
	sk_online_fio "$1" "$2" verify --output=/tmp/sk-online-fio.log ||
		{ cat /tmp/sk-online-fio.log >&2; return 1; }
}

# sk_online_content_md5 IMAGE MD5: IMAGE outside the loop region has MD5
# (it holds no guest pass).
sk_online_content_md5()
{
	local m

	qemu-img convert -q -O raw "$1" "$1.raw" &&
		m=$(sk_online_md5 "$1.raw")
	rm -f "$1.raw"
	if [ -z "$2" ] || [ "$m" != "$2" ]; then
		echo "md5 outside the loop region: ${m:-none}, expected ${2:-none}" >&2
		return 1
	fi
}

# sk_online_content IMAGE RAW SEED MD5: convert IMAGE and check it.
sk_online_content()
{
	qemu-img convert -q -O raw "$1" "$2" &&
		sk_online_region_ok "$2" "$3" "$4"
	local rc=$?
	rm -f "$2"
	return $rc
}

# sk_online_stop: tell the guest (NAME_ONLINE) to end its passes with
# one begun after the operations, wait for that pass's mark, and leave it
# in ONLINE_LAST.
sk_online_stop()
{
	local stop n

	ONLINE_LAST=
	# the guest writes "begun" before each pass: the next one begins
	# after the operations, and is its last
	stop=$(sk_online_key begun) || stop=0
	stop=$((stop + 1))
	sk_online_check "tell the guest to stop after pass $stop" \
		sk_hs_send_to "$NAME_ONLINE" online-stop "$stop"
	sk_online_check "guest's last pass verified" \
		sk_qcow2_wait "$NAME_ONLINE" online-done || return 1
	ONLINE_LAST=$(sk_online_key online-done)
	n=$(sk_online_key pass)
	sk_online_check "the guest's last pass ($n) began after the operations" \
		test "${n:-0}" -ge "$stop"
	sk_online_check "tell the guest" \
		sk_hs_send_to "$NAME_ONLINE" online-done-seen
}

# sk_online_cmp_content MARK MD5: cmp.qcow2 (compacted after the guest
# discarded [0, 16M)) reads zero there, MD5 outside the loop region, and
# the guest's last pass (MARK) in it.
sk_online_cmp_content()
{
	local rc=0

	qemu-img convert -q -O raw "$OD/cmp.qcow2" "$OD/cmp.raw" || return 1
	sk_online_check "compact: [0, 16M) reads zero" \
		cmp -n $((16 << 20)) "$OD/cmp.raw" /dev/zero || rc=1
	sk_online_check "compact: content (md5, the loop region's last pass)" \
		sk_online_region_ok "$OD/cmp.raw" "$1" "$2" || rc=1
	rm -f "$OD/cmp.raw"
	return $rc
}

# sk_online_start MAKE: load splitkit_back, make the images (MAKE), start
# the guest of domU.cfg (NAME_ONLINE) in the background (ONLINE_PID; its
# limit, a hang guard, the scenario's sk.timeout less what the checks after
# it need) and wait for its online-ready; DOMID_ONLINE then.  Fails with
# ONLINE_PID empty if no guest was started.
sk_online_start()
{
	local timeout

	ONLINE_PID=
	timeout=$(sk_cmdline sk.timeout) || timeout=1500
	timeout=$((timeout - 240))
	sk_online_check "load splitkit_back" sk_vbd_load_back splitkit_back ||
		return
	sk_online_check "qemu-img makes the images" "$1" || return
	SK_QCOW2_END=$(($(date +%s) + timeout - 30))
	sk_domU_run domU.cfg "$timeout" &
	ONLINE_PID=$!
	sk_online_check "guest prepared its disks and ran a first verify pass" \
		sk_qcow2_wait "$NAME_ONLINE" online-ready || return
	DOMID_ONLINE=$(xl domid "$NAME_ONLINE")
}

# sk_online_committed LABEL CHILD BASE MARK MD5: after a commit, CHILD
# (.qcow2 in OD) holds no cluster and BASE alone holds the seed (MD5)
# and the guest's last pass (MARK).
sk_online_committed()
{
	local cm rc=0

	cm=$(qemu-img map --output=json "$OD/$2.qcow2" | grep -c '"depth": 0')
	sk_online_check "$1: $2.qcow2 holds no cluster ($cm)" \
		test "$cm" = 0 || rc=1
	sk_online_check "$1: $3.qcow2 alone holds the seed and the guest's last pass" \
		sk_online_content "$OD/$3.qcow2" "$OD/$3.raw" "$4" "$5" || rc=1
	return $rc
}

# sk_refused CMD...: CMD fails.
sk_refused()
{
	! "$@"
}

# sk_online_readonly_params: the parameters splitkit_image and
# splitkit_back only report through must refuse a value at load time as
# in sysfs (a load argument reaches the parameter's set() whatever its
# mode: without one, an oops), and the module stays out.
sk_online_readonly_params()
{
	local mp m p

	for m in splitkit_back splitkit_image; do
		[ ! -d "/sys/module/$m" ] || rmmod "$m"
	done
	for mp in splitkit_image:bulk_direct_bytes splitkit_back:pages_in_use \
		  splitkit_back:pages_peak splitkit_back:limits \
		  splitkit_back:rings; do
		m=${mp%%:*}
		p=${mp#*:}
		sk_online_check "insmod $m $p=1 refused: a read-only parameter" \
			sk_refused sk_insmod "$m" "$p=1"
		sk_online_check "$m not loaded after that" \
			test ! -d "/sys/module/$m"
	done
}

sk_online_host()
{
	local name=vbd-online seed_md5 sbase_sum before after
	local f0 f1 last rc d held cdirect n

	NAME_ONLINE=$name
	sk_online_readonly_params
	if sk_online_start sk_online_make; then
		seed_md5=$(sk_online_md5 "$OD/seed.raw")
		sbase_sum=$(md5sum <"$OD/sbase.qcow2")
		sk_online_list
		for d in xvda xvdb xvdc xvdd xvde; do
			eval "md5_$d=\$(sk_online_key md5-$d)"
		done

		# (a) compact after the guest's discard of [0, 16M)
		before=$(stat -c %s "$OD/cmp.qcow2")
		sk_online_op compact 51712
		sk_online_op_bulk compact
		sk_comment "compact: $ONLINE_MOVED clusters moved"
		after=$(stat -c %s "$OD/cmp.qcow2")
		sk_comment "cmp.qcow2: $before -> $after bytes, $(sk_blk_kb "$OD/cmp.qcow2") KiB allocated"
		sk_online_check "compact: the file shrank by 16 MiB or more" \
			test $((before - after)) -ge $((16 << 20))

		# (b) defrag of the randomly written image
		f0=$(sk_online_frags "vbd-$DOMID_ONLINE-51728")
		sk_online_op defrag 51728
		sk_online_op_bulk defrag
		f1=$(sk_online_frags "vbd-$DOMID_ONLINE-51728")
		sk_comment "frag.qcow2: ${f0:-?} fragments before, ${f1:-?} after"
		sk_online_check "defrag: fragments fell to a quarter or less" \
			test -n "$f0" -a -n "$f1" -a "$((f1 * 4))" -le "${f0:-0}"

		# (c) commit the child into its parent, guest writing.  The
		# child holds the loop region (64 KiB clusters), all the guest
		# wrote to xvdc; each of those moves once (a guest write goes
		# to a cluster the child holds, or below the commit's cursor
		# to the parent)
		held=$(((OL_MB << 20) / 65536))
		sk_online_op commit 51744
		# (the parent's 128 KiB clusters: every step the locked way,
		# through the engine, none of it a bulk copy)
		sk_comment "commit: $ONLINE_BULK bytes copied with direct I/O"
		sk_online_check "commit: moved the child's $held clusters ($ONLINE_MOVED)" \
			test "$held" = "${ONLINE_MOVED:-x}"
		cdirect=$(sk_blk_back_stat "$DOMID_ONLINE" 51744 image_direct)
		# the parent now serves xvdc: a second engine on its file
		# (another guest's disk, even read-only) is refused
		sk_online_check "commit: cbase.qcow2, which a commit writes, refused to another guest read-only" \
			sk_qcow2_refused online-pc ro "qcow2:$OD/cbase.qcow2" \
				"image is already attached (1 time(s))"

		# (d) stream the parent into the child, guest writing (to
		# clusters the child holds): every other cluster is copied
		held=$((((OL_SIZE - OL_MB) << 20) / 65536))
		sk_online_op stream 51760
		sk_online_op_bulk stream
		sk_online_check "stream: copied the $held clusters the child lacked ($ONLINE_MOVED)" \
			test "$held" = "${ONLINE_MOVED:-x}"
		sk_online_check "stream: schild.qcow2 has no backing file any more" \
			sh -c "! qemu-img info -U '$OD/schild.qcow2' | grep -q '^backing file'"

		# (e) commit into a parent of the child's cluster size: the
		# unlocked way, its copies direct.  First the rules between
		# attaches: dbase.qcow2, which xvde reads through, may not be
		# another guest's writable disk, and a read-only one there
		# keeps a commit out of it
		sk_online_check "commit-e: dbase.qcow2, xvde's backing file, refused to another guest writable" \
			sk_qcow2_refused online-pd w "qcow2:$OD/dbase.qcow2" \
				"image is the backing file of an attached image"
		sk_online_check "commit-e: dbase.qcow2 attached read-only to another (paused) guest" \
			sk_qcow2_attach online-pd ro "qcow2:$OD/dbase.qcow2"
		sk_online_check "commit-e: refused while the parent is attached" \
			sk_refused sk_online_run /tmp/sk-online-refused.log \
				vbd commit "vbd-$DOMID_ONLINE-51776"
		while IFS= read -r l; do sk_comment "vbd commit: $l"; done \
			</tmp/sk-online-refused.log
		sk_online_check "commit-e: dom0's kernel log says why" \
			sh -c "dmesg | grep -q 'dchild.qcow2: commit into .*dbase.qcow2 refused: the parent is attached'"
		sk_online_check "commit-e: the paused guest goes, and its disk" \
			sk_online_paused_gone online-pd
		held=$(((OL_MB << 20) / 65536))
		sk_online_op commit 51776
		sk_online_check "commit-e: moved the child's $held clusters ($ONLINE_MOVED)" \
			test "$held" = "${ONLINE_MOVED:-x}"
		sk_online_op_bulk commit-e
		sk_online_list

		sk_online_stop
		last=$ONLINE_LAST
		# the guest's md5 at the end read xvdc's [0, 24M), which only
		# the parent holds, clean in dom0's page cache: on the direct
		# path into the parent's file (backend/qcow2.c,
		# skb_qcow2_file_of())
		n=$(sk_blk_back_stat "$DOMID_ONLINE" 51744 image_direct)
		sk_comment "xvdc: image_direct ${cdirect:-?} after the commit, ${n:-?} at the end"
		sk_online_check "commit: afterwards the parent serves reads on the direct path" \
			test "${n:-0}" -gt "${cdirect:-x}"
	fi
	[ -n "$ONLINE_PID" ] || return
	wait "$ONLINE_PID"
	rc=0
	sk_online_check "backend devices gone after the guest" sk_blk_no_vbd 30
	for d in cmp frag cbase cchild sbase schild dbase dchild; do
		sk_online_check "qemu-img check: $d.qcow2 clean" \
			sk_qcow2_img_ok "$OD/$d.qcow2" || rc=1
	done
	if [ -n "${last:-}" ]; then
		sk_online_cmp_content "$last" "$md5_xvda" || rc=1
		sk_online_check "defrag: content (md5, the loop region's last pass)" \
			sk_online_content "$OD/frag.qcow2" "$OD/frag.raw" \
				"$last" "$md5_xvdb" || rc=1
		sk_online_check "defrag: the guest's md5 of xvdb was sent" \
			test -n "$md5_xvdb"
		# (c): the parent alone holds everything, the child nothing
		sk_online_committed commit cchild cbase "$last" "$seed_md5" ||
			rc=1
		# (d): the child alone, its former parent out of the way
		sk_online_check "stream: sbase.qcow2 was not written (md5)" \
			test "$(md5sum <"$OD/sbase.qcow2")" = "$sbase_sum"
		mv "$OD/sbase.qcow2" "$OD/sbase.away"
		sk_online_check "stream: schild.qcow2 alone holds the seed and the guest's last pass" \
			sk_online_content "$OD/schild.qcow2" "$OD/schild.raw" \
				"$last" "$seed_md5" || rc=1
		mv "$OD/sbase.away" "$OD/sbase.qcow2"
		# (e) as (c)
		sk_online_committed commit-e dchild dbase "$last" "$seed_md5" ||
			rc=1
	else
		sk_fail "content checks (the guest sent no online-done)"
		rc=1
	fi
	for d in "cmp online-op-start compact" "cmp online-op-end compact:" \
		 "frag online-op-start defrag" "frag online-op-end defrag:" \
		 "cbase online-op-start commit" "cbase merged" \
		 "cbase online-op-end commit:" "cchild merged" \
		 "schild online-op-start stream" "schild streamed" \
		 "schild online-op-end stream:" \
		 "dbase online-op-start commit" "dbase merged" \
		 "dbase online-op-end commit:" "dchild merged"; do
		set -- $d
		sk_online_check "history of $1.qcow2: $2${3:+ $3}" \
			sk_online_history "$OD/$1.qcow2" "$2" "${3:-}" || rc=1
	done
	for d in cmp frag cbase schild dbase; do
		splitkit img meta list "$OD/$d.qcow2" | grep 'history:' |
			while IFS= read -r l; do sk_comment "$d.qcow2 $l"; done
	done
	sk_online_check "rmmod splitkit_back" rmmod splitkit_back
	sk_online_check "dmesg: no oops, warning or hung task" sk_blk_dmesg_clean ||
		rc=1
	[ "$rc" = 0 ] && [ -z "${ONLINE_BAD:-}" ] || sk_blk_dmesg_dump
	sk_qcow2_fs_gone "$OD"
}
