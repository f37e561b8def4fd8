#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# /init of the shunt phase's guest (phase.sh): a plain QEMU PC (no Xen)
# whose one disk image is attached twice, as an IDE disk (ata_piix ->
# sda, the "emulated" face) and as a virtio disk (vda, standing in for
# the PV face: the shunt does not care which driver serves its PV disk).
# The ext4 made on the host is mounted from sda and written without pause
# by three writers of checksummed files (fsynced, left to writeback,
# O_DIRECT 4 KiB), while splitkit_shunt moves sda's I/O to vda and back,
# then to vda again, and is unloaded there (it switches back first), then
# loaded and switched to vda once more, where the host unplugs vda (the
# guest asks with "SQ: HOST device_del pv0"): the shunt must fall back to
# sda, the bios that failed on vda retried there, and let go of vda;
# then the host plugs the image in again as a new virtio disk, which the
# shunt must take back and switch to by itself (auto_switch=1); then,
# vda unplugged once more, the shunt is loaded before it is there and must
# wait for it and switch to it when the host plugs it in; then, on a dm
# device over vda whose table is swapped for the error target (a PV disk
# that fails and stays), fall back, ask for it again by itself without
# holding anything while it fails, and switch forward once the table is
# linear again; then every file must read as written.  Before all that, a switch to vdb (another image of
# another size) and one to vdc (an image of the same size, blank) must be
# refused.  The steps wait for observable
# state (files written, the shunt's path), never for time; the bounds
# below are hang guards.  Results: "SQ: ok - ..." / "SQ: not ok - ...",
# comments "SQ: # ...", the end "SQ: DONE".  Busybox only.

/bin/busybox --install -s /bin
export PATH=/bin:/sbin:/usr/bin:/usr/sbin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mount -t tmpfs tmpfs /tmp

SYS=/sys/kernel/splitkit_shunt

say() { echo "SQ: $*" >/dev/console; }
check()
{
	local what=$1
	shift
	if "$@" >/tmp/out 2>&1; then
		say "ok - $what"
		return 0
	fi
	say "not ok - $what"
	while IFS= read -r l; do say "# $l"; done </tmp/out
	return 1
}

# load NAME: nothing if NAME is built in (not in the image's list), else
# NAME's dependencies in the recorded order (one that does not
# load is skipped, as a CPU-specific crc32c may not), then NAME itself.
load()
{
	local line pair last
	line=$(grep "^$1 " /lib/modules/sk.order) || return 0
	last=${line##* }
	for pair in ${line#* }; do
		[ -d "/sys/module/${pair%%:*}" ] && continue
		if [ "$pair" = "$last" ]; then
			insmod "/lib/modules/${pair#*:}" || return 1
		else
			insmod "/lib/modules/${pair#*:}" 2>/dev/null
		fi
	done
}

# wait_for SECONDS CMD...: until CMD succeeds (a hang guard, not a delay)
wait_for()
{
	local end=$(($(date +%s) + $1))
	shift
	until "$@"; do
		[ "$(date +%s)" -lt "$end" ] || return 1
		sleep 1
	done
}

files_at_least() { [ "$(shunt_written a)" -ge "$1" ]; }
path_is() { [ "$(cat $SYS/path 2>/dev/null)" = "$1" ]; }
# requests a disk completed: reads + writes (stat fields 1 and 5)
ios() { awk '{ print $1 + $5 }' "/sys/block/$1/stat"; }

refused_once() { [ "$(cat $SYS/identity_refusals)" -ge 1 ] && path_is emul; }

# carried_by emul|pv N WHAT: the writers write N more fsynced files (WHAT
# says when); that path's disk must carry their I/O and the other disk
# none (not checked for vda while it is gone).
carried_by()
{
	local e0 p0 e1 p1 n
	e0=$(ios sda)
	p0=$(ios vda 2>/dev/null)
	n=$(shunt_written a)
	check "writers go on $3 ($2 more fsynced files)" \
		wait_for 600 files_at_least $((n + $2)) || give_up "writing $3"
	e1=$(ios sda)
	p1=$(ios vda 2>/dev/null)
	if [ "$1" = pv ]; then
		check "$3: the PV disk carried the I/O ($p0 -> $p1 requests), the emulated disk none ($e0 -> $e1)" \
			test "$p1" -gt "$p0" -a "$e1" = "$e0"
	else
		check "$3: the emulated disk carried the I/O ($e0 -> $e1 requests), the PV disk none ($p0 -> $p1)" \
			test "$e1" -gt "$e0" -a "$p1" = "$p0"
	fi
}

diag()
{
	say "# $1: files a=$(shunt_written a) b=$(shunt_written b) c=$(shunt_written c), sda $(ios sda) vda $(ios vda) requests"
	[ -d $SYS ] && say "# shunt: $(cd $SYS && grep . * | tr '\n' ' ')"
	dmesg | grep -iE 'shunt|BUG|WARN|Oops|I/O error|EXT4-fs|blocked for|Call Trace|RIP' |
		tail -n 30 | while IFS= read -r l; do say "# dmesg: $l"; done
}

# A switch that never arrives leaves bios held: show the stacks and end.
give_up()
{
	diag "$1"
	echo w >/proc/sysrq-trigger
	dmesg | tail -n 60 | while IFS= read -r l; do say "# stack: $l"; done
	say "not ok - gave up after: $1"
	say DONE
	poweroff -f
}

# the three writers and the check of their files
. /shuntwriters.sh

say "# kernel $(uname -r)"
load_all()
{
	local m
	for m in ata_piix sd_mod virtio_pci virtio_blk crc32c_generic ext4; do
		load $m || { echo "loading $m failed"; return 1; }
	done
}
check "load ata_piix, sd_mod, virtio_blk, ext4" load_all
check "both faces of the disk and the other disks appeared (sda, vda, vdb, vdc)" \
	wait_for 120 test -b /dev/sda -a -b /dev/vda -a -b /dev/vdb -a -b /dev/vdc ||
	give_up "disks"
mkdir -p /mnt
check "mount the ext4 from sda" mount -t ext4 /dev/sda /mnt || give_up "mount"
mkdir -p /mnt/a /mnt/b /mnt/c
shunt_writer_a &
shunt_writer_b &
shunt_writer_c &
# refusal: vdb is another disk (another image, another size); a virtio
# disk has no Xen position to compare, so the switch's own check refuses
check "load splitkit_shunt emul=/dev/sda pv=/dev/vdb (another disk)" \
	insmod /lib/modules/splitkit_shunt.ko emul=/dev/sda pv=/dev/vdb ||
	give_up "insmod with vdb"
check "the kernel log says vdb's position is not checked (no Xen vbd)" \
	sh -c "dmesg | grep -q 'splitkit_shunt: vdb is no Xen vbd: its position is not checked'"
check "echo pv to vdb" sh -c "echo pv >$SYS/path"
check "that switch is refused, the disk stays on sda" wait_for 300 refused_once ||
	give_up "refusal of vdb"
check "the kernel log says why (vdb has another size)" \
	sh -c "dmesg | grep -q 'splitkit_shunt: sda has [0-9]* sectors of 512 bytes, vdb [0-9]* of 512: not the same disk'"
check "no switch to PV was made" test "$(cat $SYS/switches_to_pv)" = 0
check "rmmod splitkit_shunt (vdb)" rmmod splitkit_shunt
# vdc has sda's size and other bytes: refused by their comparison, which
# the comparison made before the switch holds bios must not skip
check "load splitkit_shunt emul=/dev/sda pv=/dev/vdc (same size, blank)" \
	insmod /lib/modules/splitkit_shunt.ko emul=/dev/sda pv=/dev/vdc ||
	give_up "insmod with vdc"
check "echo pv to vdc" sh -c "echo pv >$SYS/path"
check "that switch is refused, the disk stays on sda" wait_for 300 refused_once ||
	give_up "refusal of vdc"
check "the kernel log says why (sda and vdc differ)" \
	sh -c "dmesg | grep -q 'splitkit_shunt: sda and vdc differ at sector [0-9]*: not the same backing'"
check "no switch to PV was made (vdc)" test "$(cat $SYS/switches_to_pv)" = 0
check "rmmod splitkit_shunt (vdc)" rmmod splitkit_shunt

check "load splitkit_shunt emul=/dev/sda pv=/dev/vda" \
	insmod /lib/modules/splitkit_shunt.ko emul=/dev/sda pv=/dev/vda ||
	give_up "insmod"
check "on the emulated path" path_is emul
check "it names its disks (emul sda, pv vda)" \
	test "$(cat $SYS/emul) $(cat $SYS/pv)" = "sda vda"
check "writers got going (15 fsynced files)" wait_for 600 files_at_least 15 ||
	give_up "writing before the switch"

check "echo pv" sh -c "echo pv >$SYS/path"
check "on the PV path" wait_for 300 path_is pv || give_up "switch to PV"
say "# held $(cat $SYS/last_held_ns) ns, at most $(cat $SYS/max_held) bios"
check "one switch, no flush error or identity refusal" \
	test "$(cat $SYS/switches_to_pv)/$(cat $SYS/flush_errors)/$(cat $SYS/identity_refusals)" = 1/0/0
# no Xen: no platform device to unplug sda with
unplug_refused()
{
	! sh -c "echo 1 >$SYS/unplugged" && test "$(cat $SYS/unplugged)" = 0 &&
		dmesg | grep -q 'not a Xen HVM guest: no platform device' &&
		path_is pv
}
check "an unplug is refused without Xen (kernel log), still on the PV path" \
	unplug_refused
e0=$(ios sda)
p0=$(ios vda)
n=$(shunt_written a)
check "writers go on over the PV path (15 more fsynced files)" \
	wait_for 600 files_at_least $((n + 15)) || give_up "writing over PV"
check "every file so far reads as written over the PV path" shunt_verify
e1=$(ios sda)
p1=$(ios vda)
check "the PV disk carried the I/O ($p0 -> $p1 requests)" test "$p1" -gt "$p0"
check "the emulated disk carried none ($e0 -> $e1 requests)" test "$e1" = "$e0"
check "still on the PV path" path_is pv

check "echo emul" sh -c "echo emul >$SYS/path"
check "back on the emulated path" wait_for 300 path_is emul ||
	give_up "switch to emul"
carried_by emul 10 "over the emulated path"

# unloading while shunted and written: the module switches back first
check "echo pv again" sh -c "echo pv >$SYS/path"
check "on the PV path again" wait_for 300 path_is pv || give_up "switch to PV again"
n=$(shunt_written a)
check "writers go on over the PV path (5 more fsynced files)" \
	wait_for 600 files_at_least $((n + 5)) || give_up "writing over PV again"
l0=$(dmesg | wc -l)
check "rmmod splitkit_shunt while the writers write" rmmod splitkit_shunt
check "it switched back to the emulated path, then unloaded (kernel log)" \
	shunt_unloaded_back "$l0"
carried_by emul 5 "after the unload"

# fallback: the PV disk goes away under I/O (the host unplugs it), then
# comes back (the host plugs it again) and the shunt switches forward by
# itself (auto_switch=1, which also switches at load)
check "load splitkit_shunt again, auto_switch=1" \
	insmod /lib/modules/splitkit_shunt.ko emul=/dev/sda pv=/dev/vda auto_switch=1 ||
	give_up "insmod again"
check "on the PV path a third time (auto_switch at load)" wait_for 300 path_is pv ||
	give_up "switch to PV a third time"
n=$(shunt_written a)
check "writers go on over the PV path (3 more fsynced files)" \
	wait_for 600 files_at_least $((n + 3)) || give_up "writing over PV a third time"
say "HOST device_del pv0"
check "the PV disk went away (the host unplugged it)" \
	wait_for 300 sh -c '! test -e /sys/block/vda' || give_up "unplug"
check "the shunt fell back to the emulated path" wait_for 300 path_is emul ||
	give_up "fallback"
say "# after the fallback: requeued $(cat $SYS/requeued), switches to emul $(cat $SYS/switches_to_emul)"
check "the bio that failed on the PV path was retried, not failed (requeued >= 1)" \
	test "$(cat $SYS/requeued)" -ge 1
check "the kernel log says why" \
	sh -c "dmesg | grep -q 'splitkit_shunt: vda failed a bio'"
pv_is() { [ "$(cat $SYS/pv 2>/dev/null)" = "$1" ]; }
# plug_pv N WHAT RETURNS LOG: the host plugs the image in as a new virtio
# disk (pv<N>; the host fills in @DISK@); the shunt must take it (its
# pv_returns then RETURNS) and switch to it by itself, the kernel log
# saying LOG
plug_pv()
{
	say "HOST drive_add 0 if=none,id=pvd$1,file=@DISK@,format=raw,file.locking=off,cache=writeback"
	say "HOST device_add virtio-blk-pci,drive=pvd$1,id=pv$1"
	check "the PV disk $2 (vda)" wait_for 300 test -b /dev/vda ||
		give_up "vda $2"
	check "the shunt took the vda that $2 and switched to it by itself" \
		wait_for 300 path_is pv || give_up "switch to the vda that $2"
	check "pv_returns $3, pv vda" \
		test "$(cat $SYS/pv_returns)/$(cat $SYS/pv)" = "$3/vda"
	check "the kernel log says so" \
		sh -c "dmesg | grep -q 'splitkit_shunt: $4'"
}
check "the shunt let go of the PV disk that went away (pv reads -)" \
	wait_for 300 pv_is - || give_up "letting go of vda"
check "echo pv with the PV disk gone is refused" sh -c "! echo pv >$SYS/path"
check "still on the emulated path" path_is emul
carried_by emul 3 "after the fallback"
# the same image again, as a new virtio disk
plug_pv 2 "came back" 1 "vda is back: the PV disk of sda again"
carried_by pv 3 "over the returned PV disk"

# loaded before its PV disk is there: refused without auto_switch; with
# it, the shunt waits on the emulated path and switches when the disk
# comes (the host plugs the image in once more)
check "rmmod splitkit_shunt on the returned PV disk, writers writing" \
	rmmod splitkit_shunt
say "HOST device_del pv2"
check "the PV disk went away again (the host unplugged it)" \
	wait_for 300 sh -c '! test -e /sys/block/vda' || give_up "second unplug"
check "without auto_switch, a load with no PV disk there is refused" \
	sh -c "! insmod /lib/modules/splitkit_shunt.ko emul=/dev/sda pv=/dev/vda 2>/dev/null && test ! -d $SYS"
check "load splitkit_shunt auto_switch=1 before its PV disk is there" \
	insmod /lib/modules/splitkit_shunt.ko emul=/dev/sda pv=/dev/vda auto_switch=1 ||
	give_up "insmod before vda"
check "it waits on the emulated path (path emul, pv -)" \
	test "$(cat $SYS/path) $(cat $SYS/pv)" = "emul -"
check "the kernel log says it waits for vda" \
	sh -c "dmesg | grep -q 'splitkit_shunt: vda is not there yet: sda switches to it when it comes'"
carried_by emul 2 "while the shunt waits"
# a first coming is no return: pv_returns stays 0
plug_pv 3 came 0 "vda came: the PV disk of sda"
carried_by pv 3 "over the PV disk that came after the load"

# a PV path that fails and stays: with auto_switch=1 the shunt asks for
# it again by itself (after 1 s, then twice as late each time), nothing
# held while it still fails, and switches forward once it works.  dm
# stands in for a backend that answers errors: a linear target over vda
# whose table is swapped for the error target and back.
check "rmmod splitkit_shunt (for the failing PV disk)" rmmod splitkit_shunt
export DM_DISABLE_UDEV=1
sectors=$(cat /sys/block/vda/size)
dm_table() { dmsetup suspend pvf && dmsetup load pvf --table "0 $sectors $1" && dmsetup resume pvf; }
check "load dm_mod" load dm_mod || give_up "dm_mod"
check "dmsetup create pvf, linear over vda" \
	dmsetup create pvf --table "0 $sectors linear /dev/vda 0" ||
	give_up "dmsetup create"
check "load splitkit_shunt pv=/dev/mapper/pvf auto_switch=1" \
	insmod /lib/modules/splitkit_shunt.ko emul=/dev/sda pv=/dev/mapper/pvf auto_switch=1 ||
	give_up "insmod with pvf"
check "on the PV path (pvf)" wait_for 300 path_is pv || give_up "switch to pvf"
dm=$(cat $SYS/pv)
check "the PV disk is the dm device ($dm)" sh -c "test -d /sys/block/$dm/dm"
carried_by pv 2 "over pvf"
check "pvf fails every bio from now on (dm error target)" dm_table error ||
	give_up "dm error table"
check "the shunt fell back to the emulated path" wait_for 300 path_is emul ||
	give_up "fallback from pvf"
sw=$(cat $SYS/switches_to_pv)
retried() { [ "$(cat $SYS/pv_retries)" -ge "$1" ]; }
check "it asked for pvf again by itself and was refused, twice (pv_retries >= 2)" \
	wait_for 300 retried 2 || give_up "retries of pvf"
check "still on the emulated path, the PV disk still $dm" \
	test "$(cat $SYS/path) $(cat $SYS/pv)" = "emul $dm"
# the retries compared bytes before holding anything: no switch was
# begun for a disk that still fails, none undone at its flushed instant
check "no switch begun for the failing pvf (switches_to_pv $sw, identity_refusals 0)" \
	test "$(cat $SYS/switches_to_pv)/$(cat $SYS/identity_refusals)/$(cat $SYS/flush_errors)" = "$sw/0/0"
check "the kernel log says it asks again, later each time" \
	sh -c "dmesg | grep -q 'splitkit_shunt: $dm still fails (-5): sda asks for it again in 4 s'"
carried_by emul 2 "while pvf fails"
check "pvf works again (linear over vda)" dm_table "linear /dev/vda 0" ||
	give_up "dm linear table"
check "the shunt switched forward to pvf by itself" wait_for 300 path_is pv ||
	give_up "switch forward to pvf"
carried_by pv 3 "over pvf that failed and stayed"
check "the kernel log says the PV disk carries the bios again" \
	wait_for 300 sh -c "dmesg | grep -q 'splitkit_shunt: $dm carries sda.s bios again'"
check "pv_returns 0 (pvf never went away)" test "$(cat $SYS/pv_returns)" = 0
touch /tmp/stop
wait
check "rmmod splitkit_shunt on pvf" rmmod splitkit_shunt
check "dmsetup remove pvf" dmsetup remove pvf
check "unloaded back on the emulated path (kernel log)" \
	sh -c "dmesg | tail -n 5 | grep -q 'splitkit_shunt: back on the emulated path, unloaded'"
check "no writer failed" sh -c "! cat /tmp/err.* 2>/dev/null | grep ."
check "every file reads as written ($(shunt_written a) + $(shunt_written b) + $(shunt_written c) files)" \
	shunt_verify
check "umount" umount /mnt
diag "end"
check "dmesg: no oops, warning or I/O error on sda" \
	sh -c "! dmesg | grep -E 'BUG|WARNING|Oops|I/O error, dev sda|EXT4-fs error'"
say DONE
poweroff -f
