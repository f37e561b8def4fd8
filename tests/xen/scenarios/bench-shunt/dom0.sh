# SPDX-License-Identifier: GPL-2.0
#
# bench-shunt (dom0 half): what splitkit_shunt costs and gains in a
# running HVM guest (issue 13's bench; make bench-shunt, whose
# tests/xen/bench-shunt.sh prints the table).
#
#   dom0: /run/bench-shunt.img -- QEMU (IDE emulation) -------> sda  :HVM
#                              \-- splitkit_back ==ring==> xvda      :domU
#
# dom0 makes an ext4 on the image with the file the jobs run on
# (/bench.dat, 128 MiB of random bytes) and fio and the splitkit tool
# with their libraries and loader in /sk, and loads splitkit_back.  The
# guest (domU.sh) runs the jobs through the emulated disk, through the
# shunt and on the PV disk directly, round after round; dom0 follows its
# console (lib/bench.sh's bench_follow) and counts its own side over each
# job's window: QEMU's work for the emulated disk shows as dom0 CPU time
# and as events on the device model's event channels, splitkit_back's as
# events on its rings and its grant counters.  Each job becomes one
#   BENCH pair=<emul|shunt|pv> round=R job=J ios=N ... domU_...=N dom0_...=N
# comment, each switch one "BENCH pair=held round=R job=<pv|emul>
# domU_ns=N domU_bios=N".  Afterwards dom0 checks the filesystem.  The
# image lives in dom0's memory (/run), so the paths are compared, not a
# disk.  Nothing here is timed: an fio error, a switch that did not
# happen or a path that did not carry its jobs fails; speed never does.

. /lib/splitkit/blk.sh
. /lib/splitkit/bench.sh

bench_dmesg0=$(dmesg | wc -l)
img=/run/bench-shunt.img
ld=/lib64/ld-linux-x86-64.so.2
name=bench-shunt
cfg=/tmp/bench-shunt.cfg

# bs_report PAIR ROUND KEY RES DOM0-RES (bench_follow's BENCH_REPORT): the
# guest's key is <path>_<round>_<job>
bs_report()
{
	local key=$3 path round
	path=${key%%_*}
	key=${key#*_}
	round=${key%%_*}
	bench_report "$path" "$round" "${key#*_}" "$4" "${5:-}"
}
BENCH_REPORT=bs_report

# bs_put_tools: fio and the splitkit tool, their libraries and loader
# (and libgcc_s, which glibc opens for pthread_cancel) in /sk, and the
# jobs' file, on the image's filesystem
bs_put_tools()
{
	local l rc=0
	mount -o loop -t ext4 "$img" /mnt/bs || return 1
	mkdir -p /mnt/bs/sk
	# (the loader lists the libraries of one program at a time)
	for l in /usr/bin/fio /usr/bin/splitkit "$ld" \
		 /lib/x86_64-linux-gnu/libgcc_s.so.1 \
		 $({ "$ld" --list /usr/bin/fio; "$ld" --list /usr/bin/splitkit; } |
		   awk '/=>/ { print $3 }' | sort -u); do
		cp "$l" /mnt/bs/sk/ || { rc=1; break; }
	done
	[ "$rc" -ne 0 ] ||
		dd if=/dev/urandom of=/mnt/bs/bench.dat bs=1M count=128 \
			2>/dev/null || rc=1
	umount /mnt/bs || rc=1
	return $rc
}

rm -f "$img"
truncate -s 512M "$img"
sk_check "load loop and ext4" sk_modprobe loop ext4 crc32c_generic || return
sk_check "mkfs.ext4 on the image" \
	mkfs.ext4 -q -F -E lazy_itable_init=0,lazy_journal_init=0 "$img" || return
mkdir -p /mnt/bs
sk_check "fio, the splitkit tool and the jobs' file on the guest's filesystem" \
	bs_put_tools || return
sk_check "load splitkit_back" sk_blk_load_back || return
BENCH_STATKEYS="gcopy_segs gcopy_bytes grant_maps grant_unmaps zc_segs completion_runs direct_answers"
BENCH_STATDIR=""
sk_comment "BENCH-INFO backing=tmpfs image_mib=512 file_mib=128 runtime_s=$BENCH_RUNTIME ramp_s=$BENCH_RAMP window_s=$BENCH_WINDOW dom0_vcpus=$(grep -c '^processor' /proc/cpuinfo) zero_copy=$(tr YN 10 </sys/module/splitkit_back/parameters/zero_copy)"
sk_comment "bench: $BENCH_ROUNDS round(s) of emul, shunt, pv; jobs $BENCH_JOBS, ${BENCH_RAMP} s ramp + ${BENCH_RUNTIME} s each, ${BENCH_WINDOW} s windows"

sed -e "s|sk\.scenario=bench-shunt|sk.scenario=bench-shunt $(bench_arg_line)/1 sk.rounds=$BENCH_ROUNDS|" \
	domU.cfg >"$cfg"
# the guest's boot, fio's start from its slow emulated disk, then per
# round three times the jobs (each with its set-up and the
# window's slack) and the switches; several times that on a loaded host
timeout=$((900 + BENCH_ROUNDS * 3 * ($(echo $BENCH_JOBS | wc -w) * (BENCH_RAMP + BENCH_RUNTIME + 8) * 3 + 300)))
# the guest alone on physical CPU 1 (its cpus=), dom0 on CPU 0: dom0's
# vCPU on CPU 1 took the guest's time away in some windows and not in
# others (a shunted job once ran at a third of the next one's rate with
# the guest's CPU two-thirds idle)
sk_check "dom0's vCPUs on physical CPU 0" xl vcpu-pin Domain-0 all 0
sk_domU_create "$cfg" "$name" || return
sk_ok "xl create $name"
bench_follow shunt 1 "$name" "$timeout"
xl vcpu-pin Domain-0 all all
sk_domU_wait "$name" 60
sk_domU_results "$name"
sk_check "dom0 fscks the guest's filesystem" e2fsck -f -n "$img"
rm -f "$img"
sk_check "splitkit_back serves no vbd any more" sk_blk_no_vbd 60
sk_check "rmmod splitkit_back" rmmod splitkit_back
sk_check "dmesg: no kernel report (oops, warning, hung task...) since the bench began" \
	skt_kreport_clean "$bench_dmesg0"
