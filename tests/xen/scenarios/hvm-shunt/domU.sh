# SPDX-License-Identifier: GPL-2.0
#
# hvm-shunt (guest half): the ext4 dom0 made on the disk is mounted from
# the emulated disk (whichever sd disk is IDE disk 0: the SCSI scan may
# name the slave sda) and written without pause by three writers of
# checksummed files (one fsyncs each file, one leaves its files to
# writeback, whose large bios the block layer splits, one writes in
# O_DIRECT 4 KiB pieces without pause), while splitkit_shunt moves its
# I/O to the PV disk (xvda, splitkit_front) and back with `splitkit shunt
# on|off`.  While shunted the PV disk must carry the I/O and the emulated
# disk none, and the other way round after; every file must read as
# written over the PV path, over the emulated path, and in dom0 after the
# guest is gone (dom0.sh).  Before that the shunt must refuse to load for
# the faces of two different disks of the config (IDE disk 0 with xvdb,
# IDE disk 1 with xvda: the position check); after it, shunted again,
# dom0 detaches the PV disk under I/O (xl block-detach,
# on the guest's console line "HOST block-detach xvda") and the shunt
# must fall back to the emulated path, the failed bios retried there,
# and let go of the dead disk; then its claim is dropped (unclaim), the
# shunt is unloaded and loaded again with auto_switch=1 while the PV disk
# is gone, must wait for it and claim the twin itself (claim disk0), and
# when dom0 attaches it again (xl block-attach, on "HOST block-attach
# xvda") must take it and switch to it by itself, and, unloaded while
# shunted, switch back first and drop its claim (xvda unbound).  An
# unclaim must be refused while the shunt holds the disk.  While disk 0 is shunted the first time, its
# unplug must be refused (disk 1 would go with it).  Last, the config's
# disk 1 (xvdb, served by splitkit_back through splitkit's hotplug script)
# is shunted and written through its emulated face, then unplugged (QEMU
# takes its emulated face; dom0 records "info block" on "HOST
# info-block"): no way back (shunt off, rmmod refused); dom0 detaches
# xvdb under writes ("HOST block-detach xvdb"), whose bios must be held,
# not failed, and attaches it again ("HOST block-attach xvdb"), which the
# shunt must take and switch to by itself; the writes land, and an
# unclaim of xvdb is refused (the shunt holds it for good).
# splitkit_front must bind neither PV disk before they are claimed.  The steps wait
# for observable state (files written, the shunt's path), never for time.
# The switch's held time and the most bios it held are reported, not
# required: whether a bio arrives during a switch is the scheduler's
# business.  Busybox tools only (the small HVM initramfs); the splitkit tool comes
# from dom0 on the filesystem itself (dom0.sh puts it in /sk).  For a
# one-run diagnosis every failed wait, and the end, dump the shunt's
# counters, both disks' statistics and the kernel's messages.

SYS=/sys/kernel/splitkit_shunt
hs_t0=$(date +%s)

# seconds since the script began, for the log (how fast this guest runs)
hs_at()
{
	echo "at $(($(date +%s) - hs_t0)) s"
}

# The splitkit tool with dom0's libraries, run by their own loader.
hs_tool()
{
	/mnt/sk/ld-linux-x86-64.so.2 --library-path /mnt/sk /mnt/sk/splitkit "$@"
}

hs_files_at_least()
{
	[ "$(shunt_written a)" -ge "$1" ]
}

hs_path_is()
{
	[ "$(cat $SYS/path 2>/dev/null)" = "$1" ]
}

# requests a disk completed: reads + writes (/sys/block/X/stat fields 1, 5)
hs_ios()
{
	awk '{ print $1 + $5 }' "/sys/block/$1/stat"
}

hs_say_lines()
{
	local l
	while IFS= read -r l; do
		sk_comment "$1$l"
	done
}

# Everything that tells where the I/O went and what the kernel said.
hs_diag()
{
	sk_comment "diag ($1, $(hs_at)): files a=$(shunt_written a) b=$(shunt_written b) c=$(shunt_written c)"
	[ -d $SYS ] && (cd $SYS && grep . *) 2>&1 | tr '\n' ' ' |
		hs_say_lines "shunt: "
	sk_comment "${EMUL:-sda} stat: $(cat /sys/block/${EMUL:-sda}/stat 2>&1)"
	sk_comment "xvda stat: $(cat /sys/block/xvda/stat 2>&1)"
	(cd /sys/block/xvda/device/skf_stats 2>/dev/null && grep . *) |
		tr '\n' ' ' | hs_say_lines "skf_stats: "
	dmesg | grep -iE 'shunt|splitkit|blkfront|vbd|ata[0-9]|sd[a-z]? |EXT4|I/O error|BUG|WARN|Oops|Call Trace|blocked for|RIP' |
		tail -n 40 | sed 's/^\[[ 0-9.]*\] //' | hs_say_lines "dmesg: "
}

# On a wait that failed: the above, and the stacks of blocked tasks.
hs_stuck()
{
	hs_diag "$1"
	echo w >/proc/sysrq-trigger
	dmesg | tail -n 80 | sed 's/^\[[ 0-9.]*\] //' | hs_say_lines "stack: "
}

# A switch that never arrives leaves the writers' bios held, and the
# init's final sync would wait for them for ever: end the guest now, its
# state and stacks on the console.
hs_give_up()
{
	hs_stuck "$1"
	sk_fail "the guest gave up after: $1"
	sk_say "DONE"
	poweroff -f
}

hs_progress()
{
	sk_comment "waiting ($(hs_at)): path $(cat $SYS/path 2>/dev/null), files a=$(shunt_written a) b=$(shunt_written b), ${EMUL:-sda} $(hs_ios ${EMUL:-sda}) xvda $(hs_ios xvda) requests, held $(cat $SYS/held 2>/dev/null)"
}
SKT_PROGRESS=hs_progress

# hs_carried_by emul|pv N WHAT: the writers write N more fsynced files
# (WHAT says when); the disk of that path must carry their I/O and the
# other disk none (not checked for the PV disk once it is gone).
hs_carried_by()
{
	local e0 p0 e1 p1 n
	e0=$(hs_ios $EMUL)
	p0=$(hs_ios xvda 2>/dev/null)
	n=$(shunt_written a)
	sk_check "writers go on $3 ($2 more fsynced files)" \
		skt_wait 600 hs_files_at_least $((n + $2)) || hs_give_up "writing $3"
	e1=$(hs_ios $EMUL)
	p1=$(hs_ios xvda 2>/dev/null)
	if [ "$1" = pv ]; then
		sk_check "$3: the PV disk carried the I/O ($p0 -> $p1 requests), the emulated disk none ($e0 -> $e1)" \
			test "$p1" -gt "$p0" -a "$e1" = "$e0"
	else
		sk_check "$3: the emulated disk carried the I/O ($e0 -> $e1 requests), the PV disk none ($p0 -> $p1)" \
			test "$e1" -gt "$e0" -a "$p1" = "$p0"
	fi
}

# The three writers and the check of their files (lib/shuntwriters.sh);
# b writes 512 KiB files here, 16 of them (all before the first switch
# on this slow emulated disk: its split bios meet the first switch at most).
. /lib/splitkit/shuntwriters.sh
SHUNT_B_KB=512
SHUNT_B_FILES=16

sk_check "running in an HVM guest" grep -qi hvm /sys/hypervisor/guest_type
sk_check "load ata_piix and sd_mod" sk_modprobe ata_piix sd_mod
sk_check "emulated disk /dev/sda appeared" sk_wait_block /dev/sda 120 ||
	{ hs_diag "no sda"; return; }
sk_check "load splitkit_front" sk_insmod splitkit_front

# --- the PV twins: unbound until claimed ----------------------------------
# With the emulated disks plugged, splitkit_front must leave a vbd that
# has an emulated twin alone until root claims it (both faces in use at
# once would corrupt the disk); its probe says so in the kernel log.
hs_twin_left() # VDEVICE INDEX
{
	dmesg | grep -q "vbd $1 is the PV twin of emulated disk $2: left unbound until claimed"
}
hs_twins_left()
{
	hs_twin_left 51712 0 && hs_twin_left 51728 1
}
CLAIM=/sys/module/splitkit_front/parameters/claim
UNCLAIM=/sys/module/splitkit_front/parameters/unclaim
sk_check "splitkit_front leaves both PV twins unbound (vbd 51712, 51728)" \
	skt_wait 120 hs_twins_left
sk_check "no PV disk before the claim (no xvda, no xvdb)" \
	test ! -e /sys/block/xvda -a ! -e /sys/block/xvdb
sk_check "claim vbd 51712 and 51728" \
	sh -c "echo 51712 >$CLAIM && echo 51728 >$CLAIM"
sk_check "the claims read back (51712,51728)" \
	test "$(cat $CLAIM)" = 51712,51728
if ! sk_check "PV disk /dev/xvda appeared" sk_wait_block /dev/xvda 120; then
	sk_comment "xen bus: $(ls /sys/bus/xen/devices 2>&1 | tr '\n' ' ')"
	hs_diag "no xvda"
	return
fi
sk_comment "xvda bound by $(basename "$(readlink /sys/block/xvda/device/driver)")"

# --- refusals: faces of two different disks of the domain -----------------
# xvdb is the config's second disk (another image, another size): QEMU
# emulates it as sdb.  Neither pairing across the two disks may load.
hs_second_disk()
{
	sk_wait_block /dev/xvdb 120 && sk_wait_block /dev/sdb 120
}
sk_check "the second disk's faces appeared (sdb, xvdb)" hs_second_disk
# EMUL PV: insmod refuses them, nothing stays loaded, the log says why
hs_refused()
{
	if sk_insmod splitkit_shunt emul="$1" pv="$2"; then
		echo "loaded with emul=$1 pv=$2"
		rmmod splitkit_shunt
		return 1
	fi
	if [ -d $SYS ]; then
		echo "$SYS is there"
		return 1
	fi
	dmesg | grep "splitkit_shunt: ${1#/dev/} is the domain's disk [0-9]*, ${2#/dev/} is vbd [0-9]*, its disk [0-9]*: not the same disk"
}
# Which sd disk is which is the SCSI scan's business (asynchronous: the
# slave may come first): find each by its IDE position.
EMUL=$(shunt_emul_disk 0)
EMUL1=$(shunt_emul_disk 1)
sk_check "the config's disk 0 is emulated as ${EMUL:-?}, disk 1 as ${EMUL1:-?} (IDE primary master, slave)" \
	test -n "$EMUL" -a -n "$EMUL1"
sk_check "refused: emul=/dev/$EMUL pv=/dev/xvdb (the config's disks 0 and 1)" \
	hs_refused "/dev/$EMUL" /dev/xvdb
sk_check "refused: emul=/dev/$EMUL1 pv=/dev/xvda (disks 1 and 0)" \
	hs_refused "/dev/$EMUL1" /dev/xvda
sk_check "load ext4" sk_modprobe crc32c_generic ext4
mkdir -p /mnt
sk_check "mount the emulated disk's ext4 ($EMUL)" mount -t ext4 "/dev/$EMUL" /mnt ||
	{ hs_diag "mount"; return; }
sk_check "the splitkit tool runs" hs_tool shunt help
mkdir -p /mnt/a /mnt/b /mnt/c
shunt_writer_a &
wa=$!
shunt_writer_b &
wb=$!
shunt_writer_c &
wc=$!
if ! sk_check "load splitkit_shunt emul=/dev/$EMUL pv=/dev/xvda" \
	sk_insmod splitkit_shunt emul="/dev/$EMUL" pv=/dev/xvda; then
	hs_diag "insmod"
	touch /tmp/stop
	wait
	umount /mnt
	return
fi
sk_check "the shunt starts on the emulated path" hs_path_is emul
sk_check "unclaim 51712 is refused while the shunt holds xvda (EBUSY)" \
	sh -c "! echo 51712 2>/dev/null >$UNCLAIM && test -b /dev/xvda && test \"\$(cat $CLAIM)\" = 51712,51728"
sk_check "the kernel log says both faces are the domain's disk 0 (vbd 51712)" \
	sh -c "dmesg | grep -q 'splitkit_shunt: $EMUL and xvda are the domain.s disk 0 (vbd 51712)'"
sk_check "writers got going (6 fsynced files)" skt_wait 600 hs_files_at_least 6 ||
	hs_give_up "writers before the switch"

# --- to the PV path, mid-write --------------------------------------------
sk_comment "switching to PV $(hs_at), files a=$(shunt_written a) b=$(shunt_written b) c=$(shunt_written c)"
sk_check "splitkit shunt on" hs_tool shunt on ||
	sh -c "echo pv >$SYS/path"
sk_check "the shunt is on the PV path" skt_wait 300 hs_path_is pv ||
	hs_give_up "switch to PV"

# splitkit shunt status tells the same (its lines go to the console only
# if it does not)
hs_status_says()
{
	hs_tool shunt status >/tmp/status 2>&1 &&
		grep -qE '^path +pv$' /tmp/status &&
		grep -qE '^switches_to_pv +1$' /tmp/status
}
sk_check "splitkit shunt status says path pv, switches_to_pv 1" \
	hs_status_says || hs_say_lines "status: " </tmp/status
sk_comment "held $(cat $SYS/last_held_ns) ns, at most $(cat $SYS/max_held) bios"
sk_check "one switch to PV, no flush error or identity refusal" \
	test "$(cat $SYS/switches_to_pv)/$(cat $SYS/flush_errors)/$(cat $SYS/identity_refusals)" = 1/0/0
e0=$(hs_ios $EMUL)
p0=$(hs_ios xvda)
c0=$(cat /sys/block/xvda/device/skf_stats/completed 2>/dev/null || echo 0)
n=$(shunt_written a)
sk_check "writers go on over the PV path (6 more fsynced files)" \
	skt_wait 600 hs_files_at_least $((n + 6)) || hs_give_up "writing over PV"
sk_check "every file so far reads as written over the PV path" shunt_verify
e1=$(hs_ios $EMUL)
p1=$(hs_ios xvda)
c1=$(cat /sys/block/xvda/device/skf_stats/completed 2>/dev/null || echo 0)
sk_check "the PV disk carried the I/O ($p0 -> $p1 requests, splitkit_front completed $c0 -> $c1)" \
	test "$p1" -gt "$p0" -a "$c1" -gt "$c0"
sk_check "the emulated disk carried none ($e0 -> $e1 requests)" test "$e1" = "$e0"
sk_check "still on the PV path (no fallback)" hs_path_is pv
# disk 0, the primary master, goes only with every IDE disk: disk 1's
# emulated face would go with it
hs_unplug_refused()
{
	! hs_tool shunt unplug 2>/dev/null &&
		test "$(cat $SYS/unplugged)" = 0 &&
		dmesg | grep -q "unplugging $EMUL would take $EMUL1 too"
}
sk_check "splitkit shunt unplug is refused: it would take $EMUL1 too (kernel log)" \
	hs_unplug_refused

# --- back to the emulated path, mid-write, and to the PV path again -------
# (unloading while shunted, and loading with auto_switch=1, which also
# switches at load, are the shunt phase's, tests/shunt/guest.sh: the same
# code without Xen; here the shunt is unloaded on the PV path further on,
# after the PV disk came back)
sk_comment "switching back $(hs_at), files a=$(shunt_written a) b=$(shunt_written b) c=$(shunt_written c)"
sk_check "splitkit shunt off" hs_tool shunt off ||
	sh -c "echo emul >$SYS/path"
sk_check "the shunt is back on the emulated path" skt_wait 300 hs_path_is emul ||
	hs_give_up "switch to emul"

sk_comment "held $(cat $SYS/last_held_ns) ns on the way back"
hs_carried_by emul 2 "over the emulated path"
sk_check "splitkit shunt on, again" hs_tool shunt on ||
	sh -c "echo pv >$SYS/path"
sk_check "on the PV path again" skt_wait 300 hs_path_is pv ||
	hs_give_up "switch to PV again"
hs_carried_by pv 2 "over the PV path again"

# --- fallback: dom0 detaches the PV disk under I/O, then attaches it ------
# again; the shunt, loaded again with auto_switch=1 while the disk is
# gone, takes the returning disk and switches forward to it by itself
# dom0 (dom0.sh) waits for this line, then runs xl block-detach
sk_comment "HOST block-detach xvda"
sk_check "the shunt fell back to the emulated path (dom0 detached the PV disk)" \
	skt_wait 600 hs_path_is emul || hs_give_up "fallback"
sk_comment "after the fallback: requeued $(cat $SYS/requeued), switches to emul $(cat $SYS/switches_to_emul)"
sk_check "the bios that failed on the PV path were retried, not failed (requeued >= 1)" \
	test "$(cat $SYS/requeued)" -ge 1
sk_check "the kernel log says why" \
	sh -c "dmesg | grep -q 'splitkit_shunt: xvda failed a bio'"
hs_pv_is()
{
	[ "$(cat $SYS/pv 2>/dev/null)" = "$1" ]
}
sk_check "the shunt let go of the PV disk that went away (pv reads -)" \
	skt_wait 300 hs_pv_is - || hs_give_up "letting go of xvda"
hs_carried_by emul 3 "after the fallback"
# loaded again while xvda is gone: with auto_switch=1 the shunt waits for
# its PV disk and switches when it comes (the code that takes a disk
# coming back to a loaded shunt; the shunt phase runs both ways)
# the claim goes too: the shunt, loaded before its twin is there, must
# ask splitkit_front for the twin of its emulated disk's position itself
sk_check "unclaim 51712 (its vbd gone: nothing to unbind)" \
	sh -c "echo 51712 >$UNCLAIM"
sk_check "the claims read back (51728)" test "$(cat $CLAIM)" = 51728
sk_check "rmmod splitkit_shunt with its PV disk gone" rmmod splitkit_shunt
sk_check "load splitkit_shunt auto_switch=1 before xvda is there" \
	sk_insmod splitkit_shunt emul="/dev/$EMUL" pv=/dev/xvda auto_switch=1 ||
	hs_give_up "insmod before xvda"
sk_check "it waits on the emulated path (path emul, pv -)" \
	test "$(cat $SYS/path) $(cat $SYS/pv)" = "emul -"
sk_check "the kernel log says it waits for xvda" \
	sh -c "dmesg | grep -q 'splitkit_shunt: xvda is not there yet: $EMUL switches to it when it comes'"
sk_check "the shunt claimed its twin by position (claims 51728,disk0)" \
	test "$(cat $CLAIM)" = 51728,disk0 || hs_give_up "the shunt's claim"
# dom0 (dom0.sh) waits for this line, then runs xl block-attach
sk_comment "HOST block-attach xvda"
sk_check "the PV disk came back (xvda, bound for the claim disk0)" \
	sk_wait_block /dev/xvda 600 || hs_give_up "xvda back"
sk_check "the shunt took it and switched to it by itself" \
	skt_wait 300 hs_path_is pv || hs_give_up "switch when xvda came"
sk_check "pv_returns 0 (a first coming is no return), pv xvda" \
	test "$(cat $SYS/pv_returns)/$(cat $SYS/pv)" = 0/xvda
sk_check "the kernel log says so (said only once its position was checked)" \
	sh -c "dmesg | grep -q 'splitkit_shunt: xvda came: the PV disk of $EMUL'"
hs_carried_by pv 2 "over the PV disk that came"
touch /tmp/stop
wait "$wa" "$wb" "$wc"
l0=$(dmesg | wc -l)
sk_check "rmmod splitkit_shunt on the PV disk that came" rmmod splitkit_shunt
sk_check "it switched back to the emulated path, then unloaded (kernel log)" \
	shunt_unloaded_back "$l0"
# the twin the shunt claimed must not stay bound, unheld, beside sdX
hs_claim_dropped()
{
	test "$(cat $CLAIM)" = 51728 -a ! -e /sys/block/xvda
}
sk_check "the shunt's claim went with it (claims 51728, xvda unbound)" \
	skt_wait 120 hs_claim_dropped

# --- disk 1, served by splitkit_back: the shunt on our own backend -------
# (QEMU emulates it from the file splitkit's hotplug script published as
# physical-device-path.)  1 MiB of random bytes written through the
# emulated face while shunted must reach the image by the PV path; dom0
# checks the bytes in the image and that nothing else of it changed.
sk_check "load splitkit_shunt emul=/dev/$EMUL1 pv=/dev/xvdb (disk 1, splitkit_back)" \
	sk_insmod splitkit_shunt emul="/dev/$EMUL1" pv=/dev/xvdb ||
	hs_give_up "insmod on disk 1"
sk_check "splitkit shunt on (disk 1)" hs_tool shunt on ||
	sh -c "echo pv >$SYS/path"
sk_check "disk 1 on the PV path (same size and bytes on both faces)" \
	skt_wait 300 hs_path_is pv || hs_give_up "switch disk 1 to PV"
dd if=/dev/urandom of=/tmp/pattern bs=64k count=16 2>/dev/null
e0=$(hs_ios $EMUL1)
p0=$(hs_ios xvdb)
sk_check "1 MiB written at 8 MiB through $EMUL1, synced" \
	dd if=/tmp/pattern of="/dev/$EMUL1" bs=64k seek=128 conv=fsync
e1=$(hs_ios $EMUL1)
p1=$(hs_ios xvdb)
sk_check "xvdb (splitkit_back) carried it ($p0 -> $p1 requests), $EMUL1 none ($e0 -> $e1)" \
	test "$p1" -gt "$p0" -a "$e1" = "$e0"
# --- disk 1 unplugged: QEMU takes its emulated face for good --------------
# (disk 1 is an auxiliary IDE disk: its unplug leaves the primary master,
# disk 0, mounted above).  dom0 records the device model's drives when
# asked ("HOST info-block"), before it detaches xvdb (same loop, in
# order): the guest's wait for that detach orders the two.
sk_check "splitkit shunt unplug (disk 1: the IDE disks but the primary master)" \
	hs_tool shunt unplug || hs_give_up "unplug disk 1"
sk_check "unplugged reads 1, the kernel log says so" \
	sh -c "test \"\$(cat $SYS/unplugged)\" = 1 && dmesg | grep -q 'asked the device model to unplug $EMUL1'"
sk_comment "HOST info-block"
sk_check "splitkit shunt off is refused: no way back (ENODEV)" \
	sh -c "! echo emul >$SYS/path 2>/dev/null"
sk_check "still on the PV path" hs_path_is pv
sk_check "rmmod splitkit_shunt is refused (in use for good)" \
	sh -c "! rmmod splitkit_shunt 2>/dev/null"
# the PV disk goes under writes (the same 1 MiB at 16 MiB, fsynced, again
# and again): their bios are held, not failed, not sent to the unplugged
# disk; back, it takes them
dd if=/dev/urandom of=/tmp/pattern2 bs=64k count=16 2>/dev/null
hs_rewrite()
{
	while [ ! -e /tmp/stop2 ]; do
		dd if=/tmp/pattern2 of="/dev/$EMUL1" bs=64k seek=256 \
		   conv=fsync 2>/dev/null || echo "dd failed" >>/tmp/err.dd2
	done
}
hs_rewrite &
rw=$!
sk_comment "HOST block-detach xvdb"
hs_holding()
{
	test "$(cat $SYS/path)" = to-pv -a "$(cat $SYS/held)" -gt 0 -a \
		"$(cat $SYS/pv)" = -
}
sk_check "dom0 detached xvdb: the writes' bios held (path to-pv, held > 0, pv -)" \
	skt_wait 600 hs_holding || hs_give_up "holding while xvdb is gone"
sk_comment "HOST block-attach xvdb"
hs_forward()
{
	test "$(cat $SYS/path)/$(cat $SYS/held)/$(cat $SYS/pv)" = pv/0/xvdb
}
sk_check "xvdb back: on the PV path again, the held bios let go (held 0, pv xvdb)" \
	skt_wait 600 hs_forward || hs_give_up "forward to xvdb"
touch /tmp/stop2
wait "$rw"
sk_check "no write failed while xvdb was away" test ! -s /tmp/err.dd2
sk_check "the kernel log says the bios were held" \
	sh -c "dmesg | grep -q 'unplugged: bios held until the PV disk is back'"
echo 3 >/proc/sys/vm/drop_caches
sk_check "both patterns read back through $EMUL1 (the PV disk)" \
	test "$(dd if="/dev/$EMUL1" bs=64k skip=128 count=16 2>/dev/null | md5sum) $(dd if="/dev/$EMUL1" bs=64k skip=256 count=16 2>/dev/null | md5sum)" = "$(md5sum </tmp/pattern) $(md5sum </tmp/pattern2)"
sk_comment "pattern $(md5sum </tmp/pattern | cut -d' ' -f1)"
sk_comment "pattern2 $(md5sum </tmp/pattern2 | cut -d' ' -f1)"
# the shunt holds xvdb for good
sk_check "unclaim 51728 is refused while the shunt holds xvdb (EBUSY)" \
	sh -c "! echo 51728 >$UNCLAIM 2>/dev/null"
sk_check "no writer failed" sh -c "! cat /tmp/err.* 2>/dev/null | grep ."
# Over the emulated path: the files listed since the check over the PV
# path (every one written or rewritten across the switches that followed);
# the older ones read back over the PV path then, and dom0 reads every
# file listed from the image once the guest is gone.  (Reading them all
# here through the emulated IDE disk took 53 s.)
sk_check "every file written since the check over the PV path reads as written over the emulated path" \
	shunt_verify new
sk_comment "read back over the emulated path: $(wc -l </tmp/sums.now) of $(wc -l </tmp/sums.all) files"
# the list goes to dom0 in the filesystem itself (/mnt/sk/sums, fsynced
# before the unmount: the serial console, this guest's before hvc0, took
# half a minute for it), and
# its line count and md5 over the console, so a list the disk lost or
# damaged fails dom0's check instead of passing
cat /tmp/sums.a /tmp/sums.b /tmp/sums.c >/tmp/sums
sk_check "the list of checksums on the filesystem for dom0" \
	dd if=/tmp/sums of=/mnt/sk/sums conv=fsync
dmesg -n 1	# no kernel message in the middle of the line
sk_comment "sums $(wc -l </tmp/sums) $(md5sum </tmp/sums | cut -d' ' -f1)"
dmesg -n 5
sk_check "umount" umount /mnt
# everything that tells where the I/O went, for a run that failed
if dmesg | grep -qE 'BUG|WARNING|Oops'; then
	hs_diag "end"
else
	sk_comment "$EMUL stat: $(cat /sys/block/$EMUL/stat) xvda stat: $(cat /sys/block/xvda/stat 2>&1)"
fi
# (I/O errors of the PV disk after its detach are the fallback's, above)
sk_check "dmesg: no oops, warning, or I/O error on $EMUL" \
	sh -c "! dmesg | grep -E 'BUG|WARNING|Oops|I/O error, dev $EMUL|EXT4-fs error'"
