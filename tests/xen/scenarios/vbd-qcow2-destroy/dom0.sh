# SPDX-License-Identifier: GPL-2.0
#
# vbd-qcow2-destroy (dom0 half): xl destroy in the middle of a guest's
# writes to a qcow2 image served by splitkit_back leaves an image that
# qemu-img check calls consistent (leaked clusters allowed, nothing else)
# and that reads back every write the guest saw flushed (issue 10).
#
#   dom0: /run/qd/base.raw    8 MiB of lines "b<30-digit line number>"
#         /run/qd/base.qcow2  base.raw converted, 2 MiB clusters: backing
#         /run/qd/top.qcow2   64 KiB clusters over base.qcow2 ==> xvda
#                             (splitkit_front; top-stock.qcow2 for
#                             xen-blkfront)
#
# The guest (domU.sh) writes 4 KiB at offset 16 KiB of every 64 KiB block,
# pass after pass, each write's 128 lines naming its pass and block
# ("g<pass>j<block>k0..."): copy-on-write of a partial cluster from the
# backing file, an L2 entry and a refcount per new cluster.  After every
# fourth write it flushes and writes the pass and block reached to
# XenStore (data/splitkit/guest/flushed = PASS:BLOCK).  dom0 waits until
# 64 writes are flushed and the backend is serving more requests, reads
# the flushed mark once more and destroys the domain at once.
# Afterwards, line by line over the whole image (qemu-img's raw view):
# every line outside the written 4 KiB is the base line of its offset;
# every written 4 KiB holds the base lines or one pass's lines for its
# own block, whole (no request torn, none misplaced), and at least the
# pass the flushed mark covers (a block at or below the mark's block:
# the mark's pass; above it: the pass before, the base for pass 1).  The
# backing file is untouched, the history has the attach and the detach.
# The images are on XFS (sk_qcow2_fs), a common image store: its page
# cache may hold folios larger than a page, so every engine write waits
# for the direct path's I/O (Documentation/block.rst); the kernel log
# must say the backend knows.  (The writes before the destroy all
# allocate clusters, so the engine serves them all.)  The point where the
# destroy lands is wherever the guest is: the checks hold for any.  The same again with Linux's xen-blkfront as
# the writer (stock.cfg, on its own top image).  Then a third guest
# (gaps.cfg) runs the hostile test frontend's gap test on another qcow2
# image.

. /lib/splitkit/blk.sh
. /lib/splitkit/qcow2.sh

QDD=/run/qd
LINES=262144	# 32-byte lines in 8 MiB
BLOCKS=128	# 64 KiB blocks (domU.sh's)

# qd_make: base.raw and base.qcow2 above (qd_destroy makes each top).
qd_make()
{
	sk_qcow2_fs "$QDD" xfs || return 1
	awk -v n="$LINES" 'BEGIN { for (i = 0; i < n; i++) printf "b%030d\n", i }' \
		>"$QDD/base.raw" &&
	qemu-img convert -q -f raw -O qcow2 -o cluster_size=2M \
		"$QDD/base.raw" "$QDD/base.qcow2"
}

# qd_flushed NAME: the writes the guest's flushed mark covers (its mark
# PASS:BLOCK, passes from 1, blocks from 0; 0 without a mark).
qd_flushed()
{
	local home v
	home=$(sk_hs_home "$1" 2>/dev/null) || { echo 0; return; }
	v=$(xenstore-read "$home/guest/flushed" 2>/dev/null) || { echo 0; return; }
	echo $(((${v%%:*} - 1) * BLOCKS + ${v##*:} + 1))
}

# qd_wait_flushed NAME MARK: wait until the guest's flushed mark reaches
# MARK (its own handshake key; 300 s hang guard).  Fails if it is gone.
qd_wait_flushed()
{
	local deadline=$(($(date +%s) + 300))
	while [ "$(qd_flushed "$1")" -lt "$2" ]; do
		xl domid "$1" >/dev/null 2>&1 || { echo "$1 is gone"; return 1; }
		[ "$(date +%s)" -lt "$deadline" ] ||
			{ echo "flushed mark still $(qd_flushed "$1") after 300 s"; return 1; }
		sleep 1
	done
}

# qd_image_check RAW PASS BLOCK: the line-by-line check above of RAW (the
# image's raw view) against the flushed mark PASS:BLOCK; prints what is
# wrong (at most 5 of each kind) and a summary.
qd_image_check()
{
	awk -v P="$2" -v J="$3" -v N="$LINES" '
	function want(j) { return j <= J ? P : P - 1 }
	{
		n = NR - 1; j = int(n / 2048); s = n % 2048
		base = sprintf("b%030d", n)
		if (s < 512 || s >= 640) {
			if ($0 != base && bad++ < 5)
				print "line " n " (block " j ") outside the writes: \"" $0 "\""
			next
		}
		if ($0 == base)
			got = 0
		else if (length($0) == 31 && $0 ~ /^g[0-9]+j[0-9]+k0+$/ &&
			 substr($0, 11, 11) == sprintf("j%09dk", j)) {
			# no leading zeros: some awks read them as octal
			got = substr($0, 2, 9)
			sub(/^0+/, "", got)
			got += 0
		} else {
			if (bad++ < 5)
				print "block " j " line " s - 512 ": \"" $0 "\""
			got = -1
		}
		if (s == 512)
			first = got
		else if (got != first && torn++ < 5)
			print "block " j ": torn (" first " then " got ")"
		if (s == 639) {
			written += first > 0
			if (first >= 0 && first < want(j) && lost++ < 5)
				print "block " j ": pass " first ", but pass " want(j) " was flushed"
		}
	}
	END {
		print NR " lines, " written " blocks written; " bad + 0 " bad lines, " torn + 0 " torn, " lost + 0 " lost flushed writes"
		exit NR != N || bad || torn || lost
	}' "$1"
}

# qd_destroy CFG TOP: run the writer guest of CFG (its frontend on
# top.qcow2 copy TOP), destroy it mid-write and check TOP as above.
qd_destroy()
{
	local cfg=$1 top=$QDD/$2 name mark="" domid be rc

	name=$(sk_domU_name "$cfg")
	(cd "$QDD" && qemu-img create -q -f qcow2 -o cluster_size=64k \
		-b base.qcow2 -F qcow2 "$2") || {
		sk_fail "$name: qemu-img makes $2 over base.qcow2"
		return
	}
	sk_domU_create "$cfg" "$name" || return
	sk_ok "$name: xl create $cfg"
	if sk_check "$name: the guest flushed 64 writes" \
		qd_wait_flushed "$name" 64; then
		domid=$(xl domid "$name")
		be=/local/domain/0/backend/vbd/$domid/51712
		sk_check "$name: xvda is served as qcow2 (splitkit-status ok)" \
			test "$(xenstore-read "$be/splitkit-status")" = ok
		sk_check "$name: $2 on XFS: the direct path with large folios (kernel log)" \
			sh -c "dmesg | grep -q 'vbd-$domid-51712: qcow2 image $top: .*qcow2+direct (large folios) I/O'"
		sk_check "$name: the backend offers flush (feature-flush-cache 1)" \
			test "$(xenstore-read "$be/feature-flush-cache")" = 1
		sk_check "$name: the backend is serving the guest's writes" \
			sk_blk_progress "$domid" 51712
		mark=$(xenstore-read "$(sk_hs_home "$name")/guest/flushed")
		sk_check "$name: xl destroy in the middle of the writes (flushed up to $mark)" \
			xl destroy "$name"
	fi
	sk_check "$name: domU gone" sk_blk_gone "$name" 60
	sk_blk_relay "$name"
	sk_check "$name: backend device gone after the destroy" \
		sk_blk_no_vbd 60
	sk_check "$name: the guest's kernel had no oops before the destroy" \
		sh -c "! grep -q -E 'BUG:|Oops|general protection' \
			/var/log/xen/console/guest-$name.log"
	qemu-img check "$top" >/tmp/qd-check.log 2>&1
	rc=$?
	while IFS= read -r l; do
		sk_comment "$name: qemu-img check: $l"
	done </tmp/qd-check.log
	sk_check "$name: qemu-img check: $2 consistent (rc $rc: 0 clean, 3 leaks only)" \
		test "$rc" = 0 -o "$rc" = 3
	if [ -n "$mark" ] &&
	   sk_check "$name: qemu-img converts $2" \
		qemu-img convert -q -O raw "$top" "$QDD/top.raw"; then
		qd_image_check "$QDD/top.raw" "${mark%%:*}" "${mark##*:}" \
			>/tmp/qd-lines.log
		rc=$?
		while IFS= read -r l; do
			sk_comment "$name: $l"
		done </tmp/qd-lines.log
		sk_check "$name: every line is the base's or a whole write of its own block, every flushed write there" \
			test "$rc" = 0
	fi
	rm -f "$QDD/top.raw"
	sk_check "$name: $2's history: attached by $name" \
		sk_qcow2_history "$top" attached "$name"
	sk_check "$name: $2's history: detached by $name" \
		sk_qcow2_history "$top" detached "$name"
}

sk_check "load splitkit_back" sk_vbd_load_back splitkit_back || return
sk_check "qemu-img makes base.qcow2" qd_make || return
base_sum=$(md5sum <"$QDD/base.qcow2")
# our pair, then Linux's xen-blkfront on splitkit_back
qd_destroy domU.cfg top.qcow2
qd_destroy stock.cfg top-stock.qcow2
sk_check "the backing file was not written (md5)" \
	test "$(md5sum <"$QDD/base.qcow2")" = "$base_sum"
# The third guest, the hostile test frontend: requests whose segments
# leave gaps in their pages (splitkit_back joins only contiguous ones
# into one image I/O), each read back by the guest.
sk_check "qemu-img makes gaps.qcow2" \
	qemu-img create -q -f qcow2 -o cluster_size=64k "$QDD/gaps.qcow2" 4M &&
	sk_domU_run gaps.cfg "$(sk_guard 300)"
sk_check "qemu-img check: gaps.qcow2 clean" sk_qcow2_img_ok "$QDD/gaps.qcow2"
sk_check "rmmod splitkit_back" rmmod splitkit_back
sk_blk_dmesg_dump
sk_check "dmesg: no oops, warning or hung task" sk_blk_dmesg_clean
sk_qcow2_fs_gone "$QDD"
