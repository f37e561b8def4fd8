#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Image engine benchmark: compaction and merge throughput, ours against
# qemu-img on identical copies of the same image, plus the physical bound.
#
#   compact:  splitkit img compact   vs  qemu-img convert -O qcow2
#   merge:    splitkit img merge     vs  qemu-img commit
#   bound:    dd of the same number of live bytes, fdatasync at the end
#
# Throughput counts the guest bytes each operation has to carry (live data
# for compaction, the child's data for merge).  Both sides start from the
# same file contents with a warm page cache and end with their data on
# disk (ours syncs at every step boundary, qemu-img when it closes).

set -eu
TOP=${TOP:-$(cd "$(dirname "$0")/.." && pwd)}
BUILD=${BUILD:-$TOP/build}
SK=$BUILD/tools/splitkit
MB=${BENCH_IMG_MB:-512}

command -v qemu-img >/dev/null || { echo "bench-img: qemu-img missing"; exit 4; }
W=$(mktemp -d /var/tmp/sk-bench-img.XXXXXX)
trap 'rm -rf "$W"' EXIT
cd "$W"

now() { date +%s.%N; }
secs() { echo "$2 - $1" | bc; }
rate() { echo "scale=1; $1 / 1048576 / $2" | bc; }

# Source image: MB of random data, then every other MiB discarded.
head -c ${MB}M /dev/urandom >src.raw
qemu-img convert -q -f raw -O qcow2 src.raw frag.qcow2
cmds=()
for ((i = 0; i < MB; i += 2)); do cmds+=(-c "discard ${i}M 1M"); done
qemu-io "${cmds[@]}" frag.qcow2 >/dev/null
live=$((MB / 2 * 1048576))

cp frag.qcow2 a.qcow2
cp frag.qcow2 b.qcow2
sync
t0=$(now); out=$("$SK" img compact a.qcow2); t1=$(now)
moved=$(echo "$out" | sed -n 's/.* \([0-9]*\) clusters moved.*/\1/p')
moved=$((moved * 65536))
qemu-img convert -q -O qcow2 b.qcow2 b-out.qcow2; sync b-out.qcow2; t2=$(now)
ours_c=$(secs $t0 $t1)
qemu_c=$(secs $t1 $t2)
qemu-img compare -q a.qcow2 b-out.qcow2
qemu-img check -q a.qcow2

# Merge: a child holding half the guest (the live MiBs) over a full parent.
qemu-img convert -q -f raw -O qcow2 src.raw parent.qcow2
qemu-img create -q -f qcow2 -b parent.qcow2 -F qcow2 child.qcow2
cmds=()
for ((i = 0; i < MB; i += 2)); do cmds+=(-c "write -P $((i % 250 + 1)) ${i}M 1M"); done
qemu-io "${cmds[@]}" child.qcow2 >/dev/null
merged=$((MB / 2 * 1048576))
for s in p1 p2; do cp parent.qcow2 $s.qcow2; done
cp child.qcow2 c1.qcow2
cp child.qcow2 c2.qcow2
qemu-img rebase -u -b p1.qcow2 -F qcow2 c1.qcow2
qemu-img rebase -u -b p2.qcow2 -F qcow2 c2.qcow2
sync
t0=$(now); "$SK" img merge c1.qcow2 >/dev/null; t1=$(now)
qemu-img commit -q c2.qcow2; sync p2.qcow2; t2=$(now)
ours_m=$(secs $t0 $t1)
qemu_m=$(secs $t1 $t2)
qemu-img compare -q p1.qcow2 p2.qcow2
qemu-img check -q p1.qcow2

# Physical bound: copy the same number of bytes sequentially.
sync
t0=$(now)
dd if=src.raw of=copy.raw bs=1M count=$((MB / 2)) conv=fdatasync status=none
t1=$(now)
bound=$(secs $t0 $t1)

echo "bench-img: ${MB} MiB image, 64 KiB clusters, half of it live"
echo "  compact: splitkit moved $((moved >> 20)) MiB in ${ours_c}s;" \
     "qemu-img convert copied $((live >> 20)) MiB in ${qemu_c}s"
echo "  merge:   splitkit and qemu-img commit each carried" \
     "$((merged >> 20)) MiB: ${ours_m}s vs ${qemu_m}s"
printf "  %-36s %8s MiB/s\n" \
	"splitkit img compact (bytes moved)" "$(rate $moved $ours_c)" \
	"qemu-img convert (live bytes)" "$(rate $live $qemu_c)" \
	"splitkit img merge" "$(rate $merged $ours_m)" \
	"qemu-img commit" "$(rate $merged $qemu_m)" \
	"sequential copy bound (dd)" "$(rate $live $bound)"
echo "  same-job time ratio (qemu-img time / splitkit time):" \
     "compact vs convert $(echo "scale=2; $qemu_c / $ours_c" | bc)," \
     "merge vs commit $(echo "scale=2; $qemu_m / $ours_m" | bc)"
echo "  fraction of the copy bound (splitkit MiB/s / dd MiB/s):" \
     "compact $(echo "scale=2; $(rate $moved $ours_c) / $(rate $live $bound)" | bc)," \
     "merge $(echo "scale=2; $(rate $merged $ours_m) / $(rate $live $bound)" | bc)"
