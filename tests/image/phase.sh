#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Interop and crash tests of the image engine against qemu-img.
#
#   qemu-img/qemu-io write  --->  splitkit img reads (every byte compared)
#   splitkit img writes     --->  qemu-img check (no errors, no leaks)
#                                 qemu-img compare (same guest content)
#   splitkit img compact/defrag/merge cut at every write/flush
#   (SPLITKIT_IMG_CRASH_AFTER) ---> qemu-img check + compare on the survivor
#
# The tool run here is built with AddressSanitizer and UBSan (its own
# build in $BUILD/san; leaks fail a command too): the image core and the
# command line read hostile files.
#
# Prints flat KTAP; exits non-zero when a test fails, 4 when qemu-img is
# missing.

set -u
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
BUILD=${BUILD:-$TOP/build}
SK=$BUILD/san/tools/splitkit
export SPLITKIT_IMG_NOSYNC=1
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:exitcode=99
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1:exitcode=98

echo "KTAP version 1"
if ! command -v qemu-img >/dev/null || ! command -v qemu-io >/dev/null; then
	echo "1..0 # SKIP qemu-img/qemu-io not installed"
	exit 4
fi
# one build of the tool at a time (tests/xen/run.sh builds it too)
mkdir -p "$BUILD"
if ! flock "$BUILD/tools.lock" make -s -C "$TOP/tools" BUILD="$BUILD/san" \
	SANITIZE="-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer" \
	>/dev/null; then
	echo "1..1"
	echo "not ok 1 build splitkit"
	exit 1
fi

W=$(mktemp -d /tmp/sk-image-phase.XXXXXX)
trap 'rm -rf "$W"' EXIT
cd "$W" || exit 1

results=()
failed=0
result()	# result <0|1> <description>
{
	if [ "$1" = 0 ]; then
		results+=("ok $((${#results[@]} + 1)) $2")
	else
		results+=("not ok $((${#results[@]} + 1)) $2")
		failed=$((failed + 1))
	fi
}
run()		# run <description> <command...>: ok when it exits 0
{
	local desc=$1
	shift
	if "$@" >"$W/log" 2>&1; then
		result 0 "$desc"
	else
		sed 's/^/# /' "$W/log" | tail -n 15
		result 1 "$desc"
	fi
}
qcheck()	# qemu-img check: no errors and no leaks
{
	qemu-img check -q "$1"
}
same()		# same <image> <raw>: qemu-img and splitkit both see <raw>
{
	qemu-img compare -q -f qcow2 -F raw "$1" "$2" &&
		"$SK" img export "$1" "$W/export.raw" && cmp -s "$W/export.raw" "$2"
}
reads_like_qemu()	# splitkit reads every byte qemu-img reads
{
	qemu-img convert -O raw "$1" "$W/q.raw" &&
		"$SK" img export "$1" "$W/s.raw" && cmp "$W/q.raw" "$W/s.raw"
}

# ---- qemu writes, we read -------------------------------------------------
for cs in 512 4096 65536 2M; do
	qemu-img create -q -f qcow2 -o cluster_size=$cs q$cs.qcow2 8M
	qemu-io -c "write -P 0x11 0 100k" -c "write -P 0x22 1000k 3000k" \
		-c "write -z 2M 512k" -c "discard 3M 256k" \
		-c "write -P 0x33 7M 10" q$cs.qcow2 >/dev/null
	run "qemu-made image, cluster $cs: every byte reads the same" \
		reads_like_qemu q$cs.qcow2
	run "qemu-made image, cluster $cs: our check is clean" \
		"$SK" img check q$cs.qcow2
done
head -c 6M /dev/urandom >rand.raw
qemu-img convert -q -f raw -O qcow2 -c rand.raw comp.qcow2
qemu-io -c "write -P 0x44 64k 64k" comp.qcow2 >/dev/null
run "compressed clusters (qemu-img convert -c) read correctly" \
	reads_like_qemu comp.qcow2
qemu-img convert -q -f raw -O qcow2 -c -o cluster_size=4096 rand.raw comp4k.qcow2
run "compressed clusters with 4 KiB clusters read correctly" \
	reads_like_qemu comp4k.qcow2

# Backing chain: raw <- qcow2 (qemu) <- qcow2 (qemu) <- qcow2 (ours).
head -c 8M /dev/urandom >base.raw
qemu-img create -q -f qcow2 -b base.raw -F raw mid.qcow2
qemu-io -c "write -P 0x55 1M 1M" -c "write -z 3M 64k" -c "discard 5M 128k" \
	mid.qcow2 >/dev/null
qemu-img create -q -f qcow2 -b mid.qcow2 -F qcow2 top.qcow2 6M
qemu-io -c "write -P 0x66 1500k 100k" top.qcow2 >/dev/null
run "backing chain raw <- qcow2 <- qcow2 (shorter top) reads the same" \
	reads_like_qemu top.qcow2
"$SK" img create -b top.qcow2 -F qcow2 ours.qcow2 >/dev/null
head -c 300000 /dev/urandom >w.raw
"$SK" img write ours.qcow2 w.raw 777777
run "our child on a qemu chain: qemu-img check clean" qcheck ours.qcow2
run "our child on a qemu chain: qemu and we read the same" \
	reads_like_qemu ours.qcow2

# ---- the command line: wrong arguments are refused, said and cost nothing --
vsize()		# vsize <image>: its virtual size in bytes, as qemu-img sees it
{
	qemu-img info --output=json "$1" |
		python3 -c 'import json, sys; print(json.load(sys.stdin)["virtual-size"])'
}
refused()	# refused <file that must not appear> <stderr text> <command...>
{
	local gone=$1 text=$2
	shift 2
	# (exit status 1 exactly: a sanitizer's report exits 98 or 99)
	"$@" 2>"$W/err"
	[ $? = 1 ] && ! test -e "$gone" && grep -q -- "$text" "$W/err" ||
		{ cat "$W/err"; return 1; }
}
run "img create: a size in whole sectors only (1000 refused)" \
	refused c1.qcow2 "multiple of 512" "$SK" img create c1.qcow2 1000
run "img create: no sign (-512 refused)" \
	refused c2.qcow2 "bad size" "$SK" img create c2.qcow2 -- -512
created_size()	# created_size <image> <bytes> <img create arguments...>
{
	local img=$1 bytes=$2
	shift 2
	"$SK" img create "$@" >/dev/null && test "$(vsize "$img")" = "$bytes"
}
run "img create: decimal only (010k is 10 KiB, not octal)" \
	created_size c3.qcow2 10240 c3.qcow2 010k
run "img create: -F other than qcow2 or raw refused" \
	refused c4.qcow2 "qcow2 or raw" "$SK" img create -b ours.qcow2 -F bogus c4.qcow2 1M
run "img create: -F without -b refused" \
	refused c5.qcow2 "without -b" "$SK" img create -F raw c5.qcow2 1M
run "img create: -b without -F or a size refused (no format guessed)" \
	refused c6.qcow2 "give the size" "$SK" img create -b ours.qcow2 c6.qcow2
run "img create: a backing file that cannot be opened is named" \
	refused c7.qcow2 "nonexist.raw" "$SK" img create -b nonexist.raw -F raw c7.qcow2
head -c 1000 /dev/urandom >odd.raw
run "img create -b odd.raw -F raw: its size rounded up to a sector (1024)" \
	created_size odd.qcow2 1024 -b odd.raw -F raw odd.qcow2
run "img export to a directory that is not there names it" \
	refused "$W/nodir/out" "nodir/out" "$SK" img export ours.qcow2 "$W/nodir/out"
run "img export to a full device fails, names it, leaves the device" \
	sh -c "'$SK' img export ours.qcow2 /dev/full 2>'$W/err';
	       test \$? = 1 && grep -q /dev/full '$W/err' && test -c /dev/full"
run "img write from an input that cannot be read fails and says so" \
	sh -c "'$SK' img write ours.qcow2 '$W' 0 2>'$W/err';
	       test \$? = 1 && grep -q reading '$W/err'"
run "img create: an image cannot be its own backing file" \
	refused self.qcow2 "its own backing file" "$SK" img create -b self.qcow2 -F qcow2 self.qcow2 1M
run "img create: a backing file that is not there is refused with a size given too" \
	refused c8.qcow2 "nonexist.qcow2" "$SK" img create -b nonexist.qcow2 -F qcow2 c8.qcow2 1M
export_kept()	# export_kept <image> <out>: refused, and <out> unchanged
{
	cp "$2" "$W/before" &&
		refused /nonexistent "not overwritten" "$SK" img export "$1" "$2" &&
		cmp "$2" "$W/before"
}
run "img export onto the image itself is refused and leaves it whole" \
	export_kept ours.qcow2 ours.qcow2
run "img export onto the image's backing file is refused and leaves it whole" \
	export_kept ours.qcow2 top.qcow2
# a raw file at the end of the chain too (new-user trial: it was zeroed)
raw_base()
{
	rm -f rb.raw rt.qcow2
	head -c 4M /dev/urandom >rb.raw &&
		"$SK" img create -b rb.raw -F raw rt.qcow2 >/dev/null &&
		export_kept rt.qcow2 rb.raw
}
run "img export onto the image's raw backing file is refused and leaves it whole" \
	raw_base
# an image too corrupt to open has errors, as qemu-img check says (2)
check_corrupt()
{
	local l1

	rm -f cx.qcow2
	qemu-img create -q -f qcow2 cx.qcow2 4M &&
		qemu-io -c "write -P 1 0 64k" cx.qcow2 >/dev/null || return 1
	l1=$(od -An -t u8 --endian=big -j 40 -N 8 cx.qcow2 | tr -d ' ')
	# the L1 entry of the data: an unaligned L2 table
	printf '\200\0\0\0\0\0\020\0' |
		dd of=cx.qcow2 bs=1 seek="$l1" conv=notrunc status=none
	qemu-img check -q cx.qcow2 >/dev/null 2>&1
	[ $? = 2 ] || { echo "# qemu-img check does not call it corrupt"; return 1; }
	"$SK" img check cx.qcow2 2>"$W/err"
	[ $? = 2 ] && grep -q "unaligned" "$W/err"
}
run "img check: an image too corrupt to open exits 2 with the reason, as qemu-img check" \
	check_corrupt
esc_hidden()	# an image's escape sequence is printed escaped by img info
{
	# ESC (C0) and CSI as UTF-8 (U+009B, C1); an e-acute stays as it is
	"$SK" img create -m "name=$(printf 'a\033[31mb\302\233c\303\251')" \
		esc.qcow2 1M >/dev/null &&
		"$SK" img info esc.qcow2 >"$W/info" &&
		grep -q "name: a\\\\x1b\\[31mb\\\\xc2\\\\x9bc$(printf '\303\251')\$" "$W/info" &&
		! grep -q "$(printf '\033')" "$W/info"
}
run "img info prints an image's control characters escaped (\\x1b)" esc_hidden
run "img check: a usage error exits 1 (2 and 3 mean errors and leaks found)" \
	sh -c "'$SK' img check 2>/dev/null; test \$? = 1"

# ---- we write, qemu checks --------------------------------------------------
we_write()
{
	local cs=$1 img=w$1.qcow2
	rm -f $img
	"$SK" img create -c $cs $img 16M >/dev/null || return 1
	head -c 16M /dev/zero >ref.raw
	head -c 5M /dev/urandom >a.raw
	"$SK" img write $img a.raw 12345 || return 1
	dd if=a.raw of=ref.raw bs=64k seek=12345 oflag=seek_bytes conv=notrunc status=none
	"$SK" img write $img w.raw 9999999 || return 1
	dd if=w.raw of=ref.raw bs=64k seek=9999999 oflag=seek_bytes conv=notrunc status=none
	"$SK" img discard $img 1M 2M || return 1
	dd if=/dev/zero of=ref.raw bs=1M seek=1 count=2 conv=notrunc status=none
	qcheck $img && same $img ref.raw
}
for cs in 512 4096 65536; do
	run "we write (cluster $cs, refcount growth): qemu-img check and compare" \
		we_write $cs
done

# ---- long operations ------------------------------------------------------
# A fragmented image: 4 KiB clusters written backwards, every other dropped.
make_frag()
{
	rm -f "$1"
	"$SK" img create -c 4096 "$1" ${2:-1M} >/dev/null
	qemu-io -c "write -P 0x77 0 ${2:-1M}" "$1" >/dev/null
	local n=$(( $(numfmt --from=iec ${2:-1M}) / 4096 )) i cmds=()
	for ((i = n - 1; i >= 0; i--)); do
		cmds+=(-c "write -P $((i % 200 + 1)) $((i * 4096)) 4096")
	done
	for ((i = 0; i < n; i += 3)); do
		cmds+=(-c "discard $((i * 4096)) 4096")
	done
	qemu-io "${cmds[@]}" "$1" >/dev/null
	qemu-img convert -O raw "$1" "${1%.qcow2}.raw"
}
# compact_sizes IMG RAW TEST: compact IMG; its size after is TEST (-lt,
# -le) its size before, and qemu-img check and compare (with RAW) agree
compact_sizes()
{
	local before after

	before=$(stat -c %s "$1")
	"$SK" img compact "$1" >/dev/null || return 1
	after=$(stat -c %s "$1")
	echo "# compact: $before -> $after bytes"
	[ "$after" "$3" "$before" ] && qcheck "$1" && same "$1" "$2"
}
compact_test()
{
	make_frag f.qcow2 4M && compact_sizes f.qcow2 f.raw -lt
}
run "compact shrinks a qemu-made image; qemu-img check and compare agree" \
	compact_test
# qemu-io's compressed writes leave the file ending inside its last
# cluster: compaction frees nothing there and must not round the file up
compact_unaligned()
{
	qemu-img create -q -f qcow2 u.qcow2 8M &&
		qemu-io -c "write -c -P 0x5a 0 64k" -c "write -c -P 0 64k 64k" \
			u.qcow2 >/dev/null &&
		qemu-img convert -O raw u.qcow2 u.raw || return 1
	[ $(($(stat -c %s u.qcow2) % 65536)) != 0 ] || {
		echo "# qemu-io left a whole last cluster: no test"
		return 1
	}
	compact_sizes u.qcow2 u.raw -le
}
run "compact never grows a file that ends inside its last cluster" \
	compact_unaligned
defrag_test()
{
	make_frag g.qcow2 4M
	"$SK" img defrag g.qcow2 >/dev/null || return 1
	qcheck g.qcow2 && same g.qcow2 g.raw || return 1
	# Data runs in the file follow guest order: offsets only grow.
	qemu-img map --output=json g.qcow2 | python3 -c '
import json, sys
m = [e["offset"] for e in json.load(sys.stdin) if e.get("data") and "offset" in e]
sys.exit(0 if m == sorted(m) else 1)'
}
run "defrag puts guest order in file order; qemu-img check and compare agree" \
	defrag_test
merge_test()
{
	qemu-img create -q -f qcow2 -o cluster_size=4096 p.qcow2 2M
	qemu-io -c "write -P 0x12 0 2M" p.qcow2 >/dev/null
	"$SK" img create -b p.qcow2 -F qcow2 -m tag=child c.qcow2 >/dev/null
	head -c 70000 /dev/urandom >x.raw
	"$SK" img write c.qcow2 x.raw 100000 >/dev/null
	"$SK" img discard c.qcow2 1M 256k >/dev/null
	qemu-img convert -O raw c.qcow2 c.raw
	"$SK" img merge c.qcow2 >/dev/null || return 1
	qcheck p.qcow2 && qcheck c.qcow2 && same p.qcow2 c.raw &&
		same c.qcow2 c.raw &&
		"$SK" img meta list p.qcow2 | grep -q "tag: child"
}
run "merge (commit) into the parent: both check clean, content kept, child's info wins" \
	merge_test
stream_test()
{
	qemu-img create -q -f qcow2 -o cluster_size=4096 sp.qcow2 2M
	qemu-io -c "write -P 0x13 0 1M" sp.qcow2 >/dev/null
	qemu-img create -q -f qcow2 -b sp.qcow2 -F qcow2 sc.qcow2
	qemu-io -c "write -P 0x14 512k 4k" sc.qcow2 >/dev/null
	qemu-img convert -O raw sc.qcow2 sc.raw
	"$SK" img merge --stream sc.qcow2 >/dev/null || return 1
	rm sp.qcow2
	! qemu-img info sc.qcow2 | grep -q backing && qcheck sc.qcow2 &&
		same sc.qcow2 sc.raw
}
run "merge --stream pulls the chain in and drops the backing file" stream_test
# Commit across cluster sizes, judged by qemu-img commit on copies of the
# same images: the child's zeroed range (qemu-io write -z, or our discard)
# must read zero in the parent even where it covers only part of a parent
# cluster; a parent smaller than the child grows (over a longer grandparent
# whose bytes must not show through the new range), a larger one keeps its
# size and its data past the child's end (both sizes as qemu-img commit's).
commit_like_qemu()	# commit_like_qemu <parent cs> <child cs> <how> <psize>
{
	local pcs=$1 ccs=$2 how=$3 psize=$4 f
	rm -f xg.qcow2 xp.qcow2 xc.qcow2 q-*.qcow2
	qemu-img create -q -f qcow2 -o cluster_size=$pcs xg.qcow2 8M &&
	qemu-io -c "write -P 0x44 0 8M" xg.qcow2 >/dev/null &&
	qemu-img create -q -f qcow2 -o cluster_size=$pcs -b xg.qcow2 -F qcow2 \
		xp.qcow2 $psize &&
	qemu-io -c "write -P 0x12 0 1M" -c "write -P 0x13 3M 64k" \
		xp.qcow2 >/dev/null &&
	qemu-img create -q -f qcow2 -o cluster_size=$ccs -b xp.qcow2 \
		-F qcow2 xc.qcow2 6M || return 1
	case $how in
	zero)	qemu-io -c "write -z 0 64k" -c "write -z 3M 4k" \
			-c "write -P 0x66 5M 10k" xc.qcow2 >/dev/null ;;
	discard) "$SK" img discard xc.qcow2 0 64k &&
		"$SK" img discard xc.qcow2 3M 4k &&
		head -c 10240 /dev/urandom >xw.raw &&
		"$SK" img write xc.qcow2 xw.raw 5M ;;
	esac || return 1
	qemu-img convert -O raw xc.qcow2 xc.raw || return 1
	for f in xg xp xc; do cp $f.qcow2 q-$f.qcow2; done
	qemu-img rebase -u -b q-xg.qcow2 -F qcow2 q-xp.qcow2 &&
		qemu-img rebase -u -b q-xp.qcow2 -F qcow2 q-xc.qcow2 &&
		qemu-img commit -q q-xc.qcow2 || return 1
	"$SK" img merge xc.qcow2 >/dev/null || return 1
	qemu-img compare -q xp.qcow2 q-xp.qcow2 ||
		{ echo "# parent differs from qemu-img commit's"; return 1; }
	qemu-img compare -q -F raw xc.qcow2 xc.raw ||
		{ echo "# child changed"; return 1; }
	[ "$(vsize xp.qcow2)" = "$(vsize q-xp.qcow2)" ] ||
		{ echo "# parent's size differs from qemu-img commit's"; return 1; }
	qcheck xp.qcow2 && qcheck xc.qcow2 && "$SK" img check xp.qcow2 >/dev/null
}
for pcs in 128k 1M 2M; do
	for ccs in 4k 64k; do
		run "commit, parent $pcs clusters, child $ccs, zeroed ranges: parent as qemu-img commit's" \
			commit_like_qemu $pcs $ccs zero 6M
	done
done
run "commit, parent 2M, child 64k, our discard: parent as qemu-img commit's" \
	commit_like_qemu 2M 64k discard 6M
run "commit into a smaller parent (4M, 1M clusters): grown as by qemu-img commit" \
	commit_like_qemu 1M 64k zero 4M
run "commit into a smaller parent, size not cluster-aligned, over a longer grandparent" \
	commit_like_qemu 128k 4k zero 4100k
run "commit into a larger parent (8M, child 6M): its size and its data past the child kept, as qemu-img commit" \
	commit_like_qemu 1M 64k zero 8M
bench_shape()
{
	# Same operations qemu-img does, on the same image: results agree.
	make_frag h.qcow2 2M
	qemu-img convert -O qcow2 h.qcow2 h-conv.qcow2 &&
		"$SK" img compact h.qcow2 >/dev/null &&
		qemu-img compare -q h.qcow2 h-conv.qcow2
}
run "compacted image and qemu-img convert output compare equal" bench_shape

# map_agrees <image> [runs]: our map and qemu-img map say the same for
# every byte; with "runs", compared run for run instead, runs merged where
# they continue each other (same kind, offsets contiguous), for an image
# too large to list byte by byte
map_agrees()
{
	qemu-img map --output=json "$1" >qmap.json &&
	"$SK" img map --json "$1" >smap.json &&
	python3 - qmap.json smap.json "${2:-bytes}" <<'PY'
import json, sys
def expand(runs, kind):
    out = {}
    for r in runs:
        k = kind(r)
        for b in range(r["start"], r["start"] + r["length"], 512):
            off = r.get("offset")
            if off is not None and k != "unallocated":
                off += b - r["start"]
            else:
                off = None
            out[b] = (k, off)
    return out
def merged(runs, kind):
    out = []
    for r in runs:
        k, off = kind(r), r.get("offset")
        if k == "unallocated":
            off = None
        if out:
            s, n, pk, po = out[-1]
            if (pk == k and s + n == r["start"] and
                    (po is None) == (off is None) and
                    (off is None or po + n == off)):
                out[-1] = (s, n + r["length"], pk, po)
                continue
        out.append((r["start"], r["length"], k, off))
    return out
def qemu_kind(r):
    if r.get("depth", 0) != 0 or not r["present"]:
        return "unallocated"
    return "data" if r["data"] else "zero"
def our_kind(r):
    return "data" if r["type"] in ("data", "compressed") else r["type"]
if sys.argv[3] == "runs":
    q = merged(json.load(open(sys.argv[1])), qemu_kind)
    s = merged(json.load(open(sys.argv[2])), our_kind)
    for a, b in zip(q, s):
        if a != b:
            print("# qemu", a, "splitkit", b)
            break
    sys.exit(0 if q == s else 1)
q = expand(json.load(open(sys.argv[1])), qemu_kind)
s = expand(json.load(open(sys.argv[2])), our_kind)
bad = [b for b in q if q[b] != s.get(b)]
for b in bad[:3]:
    print("# byte", b, "qemu", q[b], "splitkit", s.get(b))
sys.exit(1 if bad or len(q) != len(s) else 0)
PY
}
run "map agrees with qemu-img map (zero, discarded, data offsets)" \
	map_agrees q4096.qcow2
run "map agrees with qemu-img map on compressed clusters" map_agrees comp.qcow2
run "map agrees with qemu-img map after compaction" map_agrees f.qcow2
run "map agrees with qemu-img map after defrag" map_agrees g.qcow2
run "map agrees with qemu-img map on our child over a chain" \
	map_agrees ours.qcow2

# 100 TiB (1.6 billion clusters, 204800 L2 ranges), data in two of them:
# map steps over each range without an L2 table at once
run "map agrees with qemu-img map on a 100 TiB image with two runs of data" \
	eval '"$SK" img create huge.qcow2 100T >/dev/null &&
	      qemu-io -c "write -P 1 5T 128k" -c "write -z 6T 64k" \
		      -c "write -P 2 99T 64k" huge.qcow2 >/dev/null &&
	      map_agrees huge.qcow2 runs && rm -f huge.qcow2'

# ---- crash at every step --------------------------------------------------
crash_test()	# crash_test <op args...>: image set up by $setup
{
	local cut=0 rc points=0 f
	$setup || return 1
	mkdir -p tmpl && cp $img $also_check $ref tmpl/
	while :; do
		for f in $img $also_check; do cp tmpl/$f $f; done
		SPLITKIT_IMG_CRASH_AFTER=$cut "$SK" img "$@" -s 4 $img \
			>/dev/null 2>&1
		rc=$?
		if [ $rc != 0 ] && [ $rc != 99 ]; then
			echo "# cut $cut: exit $rc"
			return 1
		fi
		# qemu-img check: 0 clean, 3 leaks only (allowed after a crash).
		for f in $img $also_check; do
			qemu-img check -q $f >/dev/null 2>&1
			case $? in 0|3) ;; *) echo "# cut $cut: $f bad"; return 1;; esac
		done
		if ! qemu-img compare -q -F raw $img $ref; then
			echo "# cut $cut: content differs"
			return 1
		fi
		[ $rc = 0 ] && break
		points=$((points + 1))
		cut=$((cut + 1))
	done
	rm -rf tmpl
	echo "# $*: $points crash points verified with qemu-img"
	[ $points -gt 5 ]
}
setup_frag() { make_frag k.qcow2 128K && cp k.raw kref.raw; }
setup=setup_frag img=k.qcow2 ref=kref.raw also_check= \
	run "compact cut at every write: qemu-img check and compare" \
	crash_test compact
setup=setup_frag img=k.qcow2 ref=kref.raw also_check= \
	run "defrag cut at every write: qemu-img check and compare" \
	crash_test defrag
setup_chain()
{
	rm -f cp.qcow2 cc.qcow2
	qemu-img create -q -f qcow2 -o cluster_size=4096 cp.qcow2 80k
	qemu-io -c "write -P 0x21 0 80k" cp.qcow2 >/dev/null
	qemu-img create -q -f qcow2 -o cluster_size=4096 -b cp.qcow2 -F qcow2 \
		cc.qcow2
	qemu-io -c "write -P 0x22 10000 30000" -c "write -z 48k 8k" \
		cc.qcow2 >/dev/null
	qemu-img convert -O raw cc.qcow2 ccref.raw
}
setup=setup_chain img=cc.qcow2 ref=ccref.raw also_check=cp.qcow2 \
	run "merge (commit) cut at every write: qemu-img check and compare" \
	crash_test merge
setup=setup_chain img=cc.qcow2 ref=ccref.raw also_check=cp.qcow2 \
	run "merge --stream cut at every write: qemu-img check and compare" \
	crash_test merge --stream

l1_move_test()
{
	# qemu-img resize moves the L1 table to the end of the file; compaction
	# must bring it back down.  Cut at every write as above.
	local cut=0 rc points=0
	rm -f l1.qcow2
	qemu-img create -q -f qcow2 -o cluster_size=4096 l1.qcow2 128k
	qemu-io -c "write -P 0x31 0 128k" l1.qcow2 >/dev/null
	qemu-img resize -q l1.qcow2 3G
	qemu-io -c "discard 0 64k" l1.qcow2 >/dev/null
	cp l1.qcow2 l1-ref.qcow2
	cp l1.qcow2 l1-orig.qcow2
	while :; do
		cp l1-orig.qcow2 l1.qcow2
		SPLITKIT_IMG_CRASH_AFTER=$cut "$SK" img compact -s 4 l1.qcow2 \
			>/dev/null 2>&1
		rc=$?
		[ $rc = 0 ] || [ $rc = 99 ] || return 1
		qemu-img check -q l1.qcow2 >/dev/null 2>&1
		case $? in 0|3) ;; *) echo "# cut $cut: check failed"; return 1;; esac
		qemu-img compare -q l1.qcow2 l1-ref.qcow2 ||
			{ echo "# cut $cut: content differs"; return 1; }
		[ $rc = 0 ] && break
		points=$((points + 1))
		cut=$((cut + 1))
	done
	echo "# $points crash points"
	qcheck l1.qcow2 &&
		[ $(stat -c %s l1.qcow2) -lt $(stat -c %s l1-orig.qcow2) ] &&
		[ "$(vsize l1.qcow2)" = 3221225472 ]
}
run "compact moves the L1 table down (after qemu-img resize), cut at every write" \
	l1_move_test

leak_parity()
{
	# Cut a commit where it leaves leaked clusters in the child; our check
	# and qemu-img check must agree; check -r and compaction reclaim them.
	local cut leaked=0
	for cut in $(seq 3 14); do
		setup_chain
		SPLITKIT_IMG_CRASH_AFTER=$cut "$SK" img merge -s 2 cc.qcow2 \
			>/dev/null 2>&1
		qemu-img check -q cc.qcow2 >/dev/null 2>&1
		local q=$?
		"$SK" img check cc.qcow2 >/dev/null 2>&1
		local s=$?
		[ $q = $s ] || { echo "# cut $cut: qemu $q, splitkit $s"; return 1; }
		[ $q = 3 ] || continue
		leaked=$((leaked + 1))
		cp cc.qcow2 cc2.qcow2
		"$SK" img check -r cc.qcow2 >/dev/null && qcheck cc.qcow2 &&
			"$SK" img compact cc2.qcow2 >/dev/null && qcheck cc2.qcow2 &&
			same cc2.qcow2 ccref.raw || return 1
	done
	echo "# $leaked cuts leaked clusters, all agreed and reclaimed"
	[ $leaked -gt 0 ]
}
run "leaks after a crash: same verdict as qemu-img check; check -r and compact reclaim them" \
	leak_parity

# ---- VM information -------------------------------------------------------
vm_setup()
{
	rm -f vm.qcow2
	"$SK" img create -m name=web1 -m hardware=x86_64-pvh -m tag=prod \
		-m host-os=debian-12 vm.qcow2 32M >/dev/null &&
		"$SK" img meta set vm.qcow2 xl-config "$(printf 'name="web1"\nmemory=512\n')"
}
keeps_meta() { "$SK" img meta get vm.qcow2 name | grep -qx web1; }
run "VM information written and read back" \
	eval 'vm_setup && keeps_meta && qcheck vm.qcow2'
run "qemu-img amend keeps the VM information" \
	eval 'qemu-img amend -o lazy_refcounts=on vm.qcow2 && keeps_meta && qcheck vm.qcow2'
run "qemu-img resize keeps the VM information" \
	eval 'qemu-img resize -q vm.qcow2 64M && keeps_meta && qcheck vm.qcow2'
run "qemu-img rebase -u keeps the VM information" \
	eval 'qemu-img rebase -u -b base.raw -F raw vm.qcow2 && keeps_meta && qcheck vm.qcow2'
run "qemu-img convert drops it; splitkit img meta copy restores it" \
	eval 'qemu-img convert -O qcow2 vm.qcow2 vm2.qcow2 &&
	      ! "$SK" img meta get vm2.qcow2 name 2>/dev/null &&
	      "$SK" img meta copy vm.qcow2 vm2.qcow2 &&
	      "$SK" img meta get vm2.qcow2 name | grep -qx web1 && qcheck vm2.qcow2'
run "info --json is valid JSON with the VM information" \
	eval '"$SK" img info --json vm.qcow2 | python3 -c "
import json, sys
d = json.load(sys.stdin)
assert d[\"vm\"][\"fields\"][\"name\"] == \"web1\"
assert \"prod\" in d[\"vm\"][\"tags\"]"'
run "required flag: qemu-img refuses naming the feature, splitkit opens" \
	eval '"$SK" img meta set vm.qcow2 required 1 &&
	      ! qemu-img info vm.qcow2 >qemu.err 2>&1 &&
	      grep -q "splitkit VM information (required)" qemu.err &&
	      "$SK" img meta get vm.qcow2 name >/dev/null &&
	      "$SK" img meta set vm.qcow2 required 0 && qcheck vm.qcow2'
run "history records creation and operations" \
	eval '"$SK" img compact vm.qcow2 >/dev/null &&
	      "$SK" img info vm.qcow2 | grep -q "created" &&
	      "$SK" img info vm.qcow2 | grep -q "compacted"'
meta_kept()	# meta_kept <text> <meta command args...>: refused, fields unchanged
{
	local text=$1
	shift
	"$SK" img meta list vm.qcow2 >"$W/meta.before" &&
		refused /nonexistent "$text" "$SK" img meta "$@" &&
		"$SK" img meta list vm.qcow2 | cmp -s - "$W/meta.before"
}
run "meta set refuses a policy value splitkit_back would refuse (expires soon)" \
	meta_kept "not a Unix time" set vm.qcow2 expires soon
run "meta set refuses read-only yes and an unknown required feature" \
	eval 'meta_kept "not 0 or 1" set vm.qcow2 read-only yes &&
	      meta_kept "does not know" set vm.qcow2 requires teleport'
run "meta set refuses max-attach 0 and an empty allowed-domains (no attach could pass)" \
	eval 'meta_kept "not a number from 1" set vm.qcow2 max-attach 0 &&
	      meta_kept "not a list of domain names" set vm.qcow2 allowed-domains " "'
# VM information this version cannot read (a newer version's) is kept by
# what would rewrite it (new-user trial: compact replaced it with a bare
# history, losing every field and the policy); meta set refuses, and
# meta set --force replaces it
vminfo_kept()
{
	local off

	rm -f vk.qcow2
	"$SK" img create -m name=keepme -m tag=t -m max-attach=1 vk.qcow2 1M \
		>/dev/null || return 1
	off=$(grep -obUa SKVM vk.qcow2 | head -n 1 | cut -d: -f1)
	[ -n "$off" ] || { echo "# no VM information extension found"; return 1; }
	# the version (a be32 after the extension's type and length): 2
	printf '\002' | dd of=vk.qcow2 bs=1 seek=$((off + 11)) conv=notrunc status=none
	cp vk.qcow2 "$W/vk.before"
	"$SK" img compact vk.qcow2 >/dev/null 2>&1 &&
		"$SK" img defrag vk.qcow2 >/dev/null 2>&1 || return 1
	cmp -i "$off:$off" -n 96 vk.qcow2 "$W/vk.before" || return 1
	"$SK" img meta set vk.qcow2 owner bob 2>"$W/err"
	[ $? = 1 ] && grep -q "left as it is" "$W/err" || return 1
	cmp -i "$off:$off" -n 96 vk.qcow2 "$W/vk.before" || return 1
	"$SK" img meta set --force vk.qcow2 owner bob 2>/dev/null &&
		[ "$("$SK" img meta get vk.qcow2 owner 2>/dev/null)" = bob ]
}
run "VM information from a newer version: compact and defrag keep it, meta set refuses, --force replaces it" \
	vminfo_kept
run "meta set --force writes such a value (an image for a newer splitkit_back)" \
	eval '"$SK" img meta set --force vm.qcow2 requires teleport &&
	      "$SK" img meta get vm.qcow2 requires | grep -qx teleport &&
	      "$SK" img meta rm vm.qcow2 requires'
run "img create -m refuses a policy value splitkit_back would refuse" \
	refused pol.qcow2 "not a number" "$SK" img create -m max-attach=-1 pol.qcow2 1M
run "meta rm: a VALUE only with key tag, and tag needs one" \
	eval '"$SK" img meta set vm.qcow2 description x &&
	      meta_kept "only taken with key" rm vm.qcow2 description y &&
	      meta_kept "which tag" rm vm.qcow2 tag'
run "meta get tag prints each tag, meta get required 0 or 1; meta rm required refuses when not set" \
	eval '"$SK" img meta set vm.qcow2 tag beta &&
	      [ "$("$SK" img meta get vm.qcow2 tag)" = "$(printf "prod\nbeta")" ] &&
	      [ "$("$SK" img meta get vm.qcow2 required)" = 0 ] &&
	      meta_kept "not required" rm vm.qcow2 required &&
	      "$SK" img meta rm vm.qcow2 tag beta &&
	      "$SK" img create notag.qcow2 1M >/dev/null &&
	      refused /nonexistent "has no tag" "$SK" img meta get notag.qcow2 tag &&
	      "$SK" img meta set notag.qcow2 tag "$(printf "a\nb")" &&
	      [ "$("$SK" img meta get notag.qcow2 tag)" = "a\\x0ab" ] &&
	      "$SK" img meta rm notag.qcow2 tag "$(printf "a\nb")"'
run "meta rm takes -- before a tag starting with '-', as meta set does" \
	eval '"$SK" img meta set notag.qcow2 tag -- -x &&
	      "$SK" img meta rm notag.qcow2 tag -- -x &&
	      ! "$SK" img meta get notag.qcow2 tag 2>/dev/null'
meta_limits()	# a value over 16 KiB and a 65th entry: refused, named, kept
{
	local i

	head -c 16385 /dev/zero | tr '\0' x >"$W/big" &&
		meta_kept "16385 bytes is over a field's limit of 16384" \
			set vm.qcow2 description "$(cat "$W/big")" || return 1
	# (img create records a history entry: 63 fields fill it)
	"$SK" img create full.qcow2 1M >/dev/null || return 1
	for i in $(seq 1 63); do
		"$SK" img meta set full.qcow2 "k$i" v || return 1
	done
	refused /nonexistent "VM information is full (at most 64" \
		"$SK" img meta set full.qcow2 k64 v &&
		[ "$("$SK" img meta list full.qcow2 | grep -c "^ *k[0-9]*:")" = 63 ] &&
		# an operation on a full image is done, and its history
		# record takes the place of the oldest
		"$SK" img compact full.qcow2 >/dev/null &&
		"$SK" img meta list full.qcow2 >"$W/full.meta" &&
		grep -q "history: .* compacted" "$W/full.meta" &&
		! grep -q "history: .* created" "$W/full.meta" &&
		[ "$(grep -c "^ *k[0-9]*:" "$W/full.meta")" = 63 ]
}
run "meta set: a value over 16 KiB and a 65th entry refused with the limit named; compact of a full image still records it" \
	meta_limits
past_end()	# write and discard past the disk's end: refused, nothing written
{
	"$SK" img create pe.qcow2 1M >/dev/null &&
		head -c 4096 /dev/urandom >"$W/pe.in" &&
		cp pe.qcow2 "$W/pe.before" || return 1
	refused /nonexistent "4096 bytes at offset 1044481 pass the disk's end (1048576" \
		"$SK" img write pe.qcow2 "$W/pe.in" 1044481 &&
		cmp -s pe.qcow2 "$W/pe.before" &&
		refused /nonexistent "pass the disk's end" \
			"$SK" img discard pe.qcow2 960k 128k &&
		cmp -s pe.qcow2 "$W/pe.before" &&
		# from a pipe: refused at the chunk that passes the end
		refused /nonexistent "pass the disk's end" \
			sh -c "cat '$W/pe.in' | '$SK' img write pe.qcow2 /dev/stdin 1044481" &&
		cmp -s pe.qcow2 "$W/pe.before" &&
		# an empty input writes nothing anywhere
		: >"$W/pe.empty" &&
		"$SK" img write pe.qcow2 "$W/pe.empty" 2M &&
		# 1.5 MiB from a pipe at 2 MiB of 3 MiB: the first 1 MiB chunk
		# is written and said to be, the next refused; still clean
		"$SK" img create pe3.qcow2 3M >/dev/null &&
		refused /nonexistent "first 1048576 bytes were written" \
			sh -c "head -c 1572864 /dev/zero | tr '\\0' x |
			       '$SK' img write pe3.qcow2 /dev/stdin 2M" &&
		qemu-img map --output=json pe3.qcow2 |
			grep -q '"start": 2097152, "length": 1048576, .*"data": true' &&
		qcheck pe3.qcow2
}
run "img write and discard past the disk's end refused, named, nothing written" \
	past_end
run "info: expires 0 is EXPIRED, as splitkit_back refuses it; a future time is not" \
	eval '"$SK" img meta set vm.qcow2 expires 0 &&
	      "$SK" img info vm.qcow2 | grep -q "(EXPIRED)" &&
	      "$SK" img meta set vm.qcow2 expires 99999999999 &&
	      ! "$SK" img info vm.qcow2 | grep -q "EXPIRED" &&
	      "$SK" img meta rm vm.qcow2 expires'
search_test()
{
	mkdir -p tree/a/b && cp vm.qcow2 tree/a/b/ && cp q4096.qcow2 tree/a/ &&
	"$SK" img create -m tag=dev tree/other.qcow2 1M >/dev/null &&
	[ "$("$SK" img search -t prod tree)" = "tree/a/b/vm.qcow2" ] &&
	[ "$("$SK" img search host-os=debian-12 tree)" = "tree/a/b/vm.qcow2" ] &&
	! "$SK" img search -t nosuch tree >/dev/null &&
	"$SK" img search --json -t dev tree | python3 -m json.tool >/dev/null
}
run "search finds images by tag and field" search_test

# search_skips: an image search cannot open (qcow2 version 7), and a
# directory it cannot list (as a user without the right), are named on
# standard error; the matches and the exit status stay as they were.
search_skips()
{
	local out rc=0

	cp vm.qcow2 tree/bad.qcow2 &&
	printf '\000\000\000\007' | dd of=tree/bad.qcow2 bs=1 seek=4 \
		conv=notrunc 2>/dev/null || rc=1
	out=$("$SK" img search -t prod tree 2>"$W/err") &&
		[ "$out" = "tree/a/b/vm.qcow2" ] &&
		grep -q "tree/bad.qcow2: Invalid argument (skipped)" "$W/err" &&
		grep -q "img: 1 skipped" "$W/err" || rc=1
	command -v setpriv >/dev/null || { echo "# no setpriv"; rc=1; }
	# (the tool copied here: the build tree may be out of that user's reach)
	[ $rc = 0 ] && mkdir -p tree/locked && cp vm.qcow2 tree/locked/ &&
		chmod 700 tree/locked &&
		chmod -R a+rX tree/a tree/other.qcow2 tree/bad.qcow2 &&
		chmod a+rx tree . && cp "$SK" sk-nobody && chmod 755 sk-nobody ||
		rc=1
	[ $rc = 0 ] && out=$(setpriv --reuid=65534 --regid=65534 --clear-groups \
		./sk-nobody img search -t prod tree 2>"$W/err") &&
		[ "$out" = "tree/a/b/vm.qcow2" ] &&
		grep -q "tree/locked: Permission denied (skipped)" "$W/err" &&
		grep -q "img: 2 skipped" "$W/err" || rc=1
	rm -rf tree/bad.qcow2 tree/locked sk-nobody
	return $rc
}
run "search names what it skipped (an image it cannot open, a directory it cannot list)" \
	search_skips
run "search follows a DIR that is a symbolic link, as grep -r, and names matches under it; an empty DIR is none" \
	eval 'ln -sfn tree treelink &&
	      [ "$("$SK" img search -t prod treelink)" = "treelink/a/b/vm.qcow2" ] &&
	      [ "$("$SK" img search -t prod treelink/)" = "treelink/a/b/vm.qcow2" ] &&
	      rm -f treelink &&
	      refused /nonexistent "cannot walk '"''"'" "$SK" img search -t prod ""'

# ---- refusals -------------------------------------------------------------
refuses()	# refuses <pattern> <image>: clear error, no crash
{
	local out
	out=$("$SK" img write "$2" w.raw 0 2>&1)
	local rc=$?
	echo "# $out" | head -n 2
	[ $rc = 1 ] && echo "$out" | grep -qi "$1"
}
# encrypted <method> <image>: a plain image whose header says it is
# encrypted (crypt_method, big-endian u32 at byte 32: 1 AES, 2 LUKS).  No
# QEMU crypto is involved (QEMU's LUKS setup times PBKDF iterations with a
# CPU clock some machines lack), so the input always exists; the field is
# read back so a failed patch fails the test instead of testing a plain
# image.
encrypted()
{
	local m=$1 img=$2
	qemu-img create -q -f qcow2 "$img" 1M &&
		printf "\\000\\000\\000\\$(printf %03o "$m")" |
		dd of="$img" bs=1 seek=32 conv=notrunc status=none &&
		[ "$(od -A n -t u1 -j 32 -N 4 "$img" | xargs)" = "0 0 0 $m" ] &&
		refuses encrypted "$img"
}
run "encrypted image (AES) refused" encrypted 1 aes.qcow2
run "encrypted image (LUKS) refused" encrypted 2 enc.qcow2
qemu-img create -q -f qcow2 -o data_file=ext.raw ext.qcow2 1M
run "external data file refused" refuses "external data" ext.qcow2
qemu-img create -q -f qcow2 -o extended_l2=on el2.qcow2 1M
run "extended L2 refused" refuses "extended L2" el2.qcow2
qemu-img create -q -f qcow2 snap.qcow2 1M
qemu-io -c "write -P 9 0 64k" snap.qcow2 >/dev/null
qemu-img snapshot -c s1 snap.qcow2
run "internal snapshots: writes refused" refuses snapshots snap.qcow2
run "internal snapshots: reads still match qemu" reads_like_qemu snap.qcow2
cp q4096.qcow2 bad.qcow2
printf '\x00\x00\x00\x00\x00\x10\x00\x00' |
	dd of=bad.qcow2 bs=1 seek=72 conv=notrunc status=none
run "unknown incompatible feature refused" refuses "unknown incompatible" bad.qcow2
cp q4096.qcow2 corrupt.qcow2
printf '\x02' | dd of=corrupt.qcow2 bs=1 seek=79 conv=notrunc status=none
run "corrupt bit: writes refused, reads work" \
	eval 'refuses corrupt corrupt.qcow2 && "$SK" img export corrupt.qcow2 /dev/null'
qemu-img create -q -f qcow2 -o lazy_refcounts=on dirty.qcow2 1M
sh -c 'qemu-io -c "write -P 1 0 64k" -c abort dirty.qcow2' >/dev/null 2>&1
run "dirty bit: writes refused, reads work" \
	eval 'refuses dirty dirty.qcow2 && "$SK" img export dirty.qcow2 /dev/null'
head -c 100000 /dev/urandom >garbage.qcow2
run "garbage file: clear error" refuses "not a qcow2" garbage.qcow2
head -c 50 q4096.qcow2 >short.qcow2
run "truncated header: clear error" refuses "too short" short.qcow2
# Autoclear bits we do not know are cleared before we write.
cp q4096.qcow2 ac.qcow2
printf '\x02' | dd of=ac.qcow2 bs=1 seek=95 conv=notrunc status=none
run "unknown autoclear bits cleared on write, image stays clean" \
	eval '"$SK" img write ac.qcow2 w.raw 0 &&
	      [ "$(od -An -tx1 -j88 -N8 ac.qcow2 | tr -d " ")" = 0000000000000000 ] &&
	      qcheck ac.qcow2'

# ---- QEMU's image locks --------------------------------------------------
# qemu-io keeps the image open (read-write, QEMU's locks) until it reads
# "quit": a writer of ours must refuse the image meanwhile.  And "img
# write" holds the image open while it waits for its data from a fifo:
# qemu must refuse the image then.
qemu-img create -q -f qcow2 lk.qcow2 4M
qemu-io -c "write -P 0x31 0 1M" -c "discard 0 512k" lk.qcow2 >/dev/null
mkfifo lk.fifo
qemu-io lk.qcow2 <lk.fifo >/dev/null 2>&1 &
lkpid=$!
exec 7>lk.fifo
# qemu-io has the image open (and locked) once qemu-img info is refused
lk_held() { ! qemu-img info lk.qcow2 >/dev/null 2>&1; }
lk_wait() { local i; for i in $(seq 600); do lk_held && return; sleep 0.1; done; return 1; }
run "qemu-io holds lk.qcow2 (qemu-img info refused)" lk_wait
cp lk.qcow2 lk-before.qcow2
run "img compact refused while qemu-io has the image open" \
	eval 'refused lk.none "is in use" "$SK" img compact lk.qcow2 &&
	      cmp -s lk.qcow2 lk-before.qcow2'
run "img meta set refused too" \
	refused lk.none "is in use" "$SK" img meta set lk.qcow2 tag x
run "read-only commands still work (img info)" "$SK" img info lk.qcow2
echo quit >&7
exec 7>&-
wait "$lkpid"
run "img compact once qemu-io closed it, image clean" \
	eval '"$SK" img compact lk.qcow2 && qcheck lk.qcow2 &&
	      qemu-io -c "read -P 0x31 512k 512k" lk.qcow2 | grep -q "read 524288"'
mkfifo lk.data
"$SK" img write lk.qcow2 lk.data 0 >/dev/null 2>&1 &
wrpid=$!
exec 8>lk.data
run "qemu-img info refused while img write holds the image" lk_wait
head -c 4096 /dev/zero >&8
exec 8>&-
run "img write ends once its data came" wait "$wrpid"

# ---- the same core in the kernel ----------------------------------------
# The newest installed kernel (the kbuild phase covers the others).
kdir=$(ls -d /usr/src/linux-headers-*-amd64 2>/dev/null | sort -V | tail -n 1)
if [ -n "$kdir" ] && [ -f "$kdir/Makefile" ]; then
	run "image core + kernel platform build with W=1 against $(basename "$kdir")" \
		"$TOP/image/kernel/build-check.sh" "$kdir" "$W/kbuild"
fi

echo "1..${#results[@]}"
printf '%s\n' "${results[@]}"
[ $failed = 0 ]
