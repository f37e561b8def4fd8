# SPDX-License-Identifier: GPL-2.0
#
# dom0-only helpers for scenario scripts (sourced after common.sh): start a
# domU from an xl config, wait for it with a timeout, and turn the results
# it printed on its console into dom0 results.

SK_CONSOLE_DIR=/var/log/xen/console

# sk_domU_name CFG: the name= of an xl config.
sk_domU_name()
{
	sed -n 's/^[[:space:]]*name[[:space:]]*=[[:space:]]*"\([^"]*\)".*/\1/p' "$1" |
		head -n 1
}

# sk_domU_live NAME SHOWN: print the guest console lines past line SHOWN
# as "SKL:<name>: ..." (for a person watching console.log; run.sh ignores
# them) and echo the new line count.
sk_domU_live()
{
	local log=$SK_CONSOLE_DIR/guest-$1.log total
	[ -f "$log" ] || { echo "$2"; return; }
	total=$(wc -l <"$log")
	if [ "$total" -gt "$2" ]; then
		sed -n "$(($2 + 1)),${total}p" "$log" | tr -d '\r' |
			sed "s/^/SKL:$1: /" >/dev/console
	fi
	echo "$total"
}

# sk_dom0_stuck WHAT: something did not get to WHAT in time; before it is
# torn down, say where dom0 is: the kernel's own reports (SysRq w: every
# blocked task with its stack; SysRq l: what each CPU runs, for a task
# spinning rather than sleeping), every process with its state and wait
# channel, and the stack of every task with splitkit, the image engine,
# xen-blkback, xenbus or a ring consumer on it, whatever its state.
sk_dom0_stuck()
{
	local since f l

	sk_comment "stuck before '$1': dom0 state follows"
	since=$(dmesg | wc -l)
	echo w >/proc/sysrq-trigger 2>/dev/null
	echo l >/proc/sysrq-trigger 2>/dev/null
	skt_dmesg_since "$since" | head -n 300 |
		sed 's/^\[[ 0-9.]*\] //' | while IFS= read -r l; do
			sk_comment "sysrq: $l"
		done
	for f in /proc/[0-9]*; do
		[ -r "$f/stat" ] || continue
		l=$(tr '\0' ' ' <"$f/cmdline" 2>/dev/null | cut -c 1-100)
		sk_comment "ps: ${f#/proc/} $(cut -d' ' -f3 "$f/stat" 2>/dev/null) $(cat "$f/wchan" 2>/dev/null) ${l:-[$(cat "$f/comm" 2>/dev/null)]}"
	done
	for f in $(grep -l -E 'skb_|ski_|sk_chan|splitkit|xen_blkif|xenbus|xs_' \
		   /proc/[0-9]*/stack 2>/dev/null); do
		f=${f%/stack}
		sk_comment "stack of ${f#/proc/} ($(cat "$f/comm" 2>/dev/null)), $(grep '^State:' "$f/status" 2>/dev/null):"
		while IFS= read -r l; do
			sk_comment "  $l"
		done <"$f/stack"
	done
}

# sk_domU_alive NAME: does domain NAME exist, under its own name or under
# one of the names xl gives it while it migrates on this host (the new
# domain is NAME--incoming until the old one, renamed NAME--migratedaway,
# is gone: for a moment no domain is called NAME)?
sk_domU_alive()
{
	xl list 2>/dev/null | awk -v n="$1" '
		NR > 1 && ($1 == n || $1 == n "--incoming" ||
			   $1 == n "--migratedaway") { found = 1 }
		END { exit !found }'
}

# sk_domU_wait NAME TIMEOUT: wait until domain NAME is gone, relaying its
# console live; destroy it once TIMEOUT seconds of wall-clock time have
# passed (each xl call itself takes seconds under software emulation, so
# counting loop turns would stretch the limit).  Returns 1 on timeout.
sk_domU_wait()
{
	local name=$1 deadline=$(($(date +%s) + $2)) shown=0 next=0 now
	while sk_domU_alive "$name"; do
		now=$(date +%s)
		if [ "$now" -ge "$deadline" ]; then
			sk_comment "domU $name still running after $2 s: destroying it"
			sk_dom0_stuck "domU $name to finish"
			xl destroy "$name" >/dev/null 2>&1
			return 1
		fi
		if [ "$now" -ge "$next" ]; then
			shown=$(sk_domU_live "$name" "$shown")
			next=$((now + 5))
		fi
		sleep 1
	done
	return 0
}

# sk_console_open NAME: does xenconsoled still hold domain NAME's console
# log open (it closes it once it has cleaned up after the dead domain)?
sk_console_open()
{
	local pid
	for pid in $(pidof xenconsoled); do
		ls -l "/proc/$pid/fd" 2>/dev/null | grep -q "/guest-$1\.log" &&
			return 0
	done
	return 1
}

# _sk_console_incoming_closed NAME: xenconsoled no longer writes the log it
# opened for NAME--incoming.
_sk_console_incoming_closed()
{
	! sk_console_open "$1--incoming"
}

# sk_console_follow NAME: after domain NAME migrated on this host.
# xenconsoled names a guest's log after the domain's name when it first
# sees the domain, so the migrated guest's console went on in
# guest-NAME--incoming.log.  SIGHUP makes it reopen every log under the
# domain's name of now; what went to the other log is appended to
# guest-NAME.log (the guest prints nothing in between: it waits for dom0's
# answer to its handshake), so the guest's results stay in one log.
sk_console_follow()
{
	local dir=$SK_CONSOLE_DIR pid f

	pid=$(pidof xenconsoled) || return 1
	kill -HUP "$pid" || return 1
	skt_wait 60 _sk_console_incoming_closed "$1" || {
		echo "xenconsoled still writes guest-$1--incoming.log" >&2
		return 1
	}
	for f in "$dir/guest-$1--"*.log; do
		[ -f "$f" ] || continue
		tr -d '\r' <"$f" >>"$dir/guest-$1.log" && rm -f "$f"
	done
}

# sk_domU_results NAME: re-emit the domU's "SKU:" results as dom0 results
# named "domU: ..." (or "domU <name>: ..." when the domain is not named
# after the scenario).  Returns 1 if the domU did not reach its end marker
# (crash, hang, kernel panic).
sk_domU_results()
{
	local name=$1 log=$SK_CONSOLE_DIR/guest-$1.log line done=1 who=domU
	[ "$name" = "${SK_SCENARIO:-}" ] || who="domU $name"
	if [ ! -f "$log" ]; then
		sk_fail "$who: no console log"
		return 1
	fi
	tr -d '\r' <"$log" >"/tmp/sk-guest-$1.log"
	while IFS= read -r line; do
		case "$line" in
		"SKU: ok - "*)
			sk_ok "$who: ${line#SKU: ok - }" ;;
		"SKU: not ok - "*)
			sk_fail "$who: ${line#SKU: not ok - }" ;;
		"SKU: # "*)
			sk_comment "$who: ${line#SKU: # }" ;;
		"SKU: DONE")
			done=0 ;;
		esac
	done <"/tmp/sk-guest-$1.log"
	if [ "$done" -ne 0 ]; then
		sk_fail "$who: ran to its end"
		return 1
	fi
	return 0
}

# sk_domU_run CFG [TIMEOUT]: create the domU described by xl config CFG,
# wait for it to power off (at most TIMEOUT s, default 240), then report
# its results (dom0's init ships its console log to the host afterwards).
# Returns non-zero if the domU could not be created, timed out or did not
# finish its script.
sk_domU_run()
{
	local cfg=$1 timeout=${2:-240} name rc=0
	name=$(sk_domU_name "$cfg")
	sk_domU_create "$cfg" "$name" || return 1
	sk_ok "xl create $(basename "$cfg")"
	sk_domU_wait "$name" "$timeout" || rc=1
	sk_domU_console_done "$name"
	sk_domU_results "$name" || rc=1
	return $rc
}

# sk_domU_create CFG NAME: create domU NAME from xl config CFG, its console
# log emptied first.  On failure xl's output becomes comments, the failed
# result "xl create CFG" is printed, and it returns 1.
sk_domU_create()
{
	rm -f "$SK_CONSOLE_DIR/guest-$2.log"
	xl create "$1" >"/tmp/sk-xl-create-$2.log" 2>&1 && return 0
	while IFS= read -r l; do
		sk_comment "$l"
	done <"/tmp/sk-xl-create-$2.log"
	sk_fail "xl create $(basename "$1")"
	return 1
}

# sk_domU_console_done NAME: after domain NAME is gone.  xenconsoled writes
# the log asynchronously: wait for the end marker or for xenconsoled to
# close the log, which it does once it has dealt with the dead domain (an
# event, not a delay; 60 s bound as a hang guard; a missing marker is
# reported as a failure by sk_domU_results).
sk_domU_console_done()
{
	local deadline=$(($(date +%s) + 60))
	while ! grep -q '^SKU: DONE' "$SK_CONSOLE_DIR/guest-$1.log" 2>/dev/null &&
	      sk_console_open "$1" && [ "$(date +%s)" -lt "$deadline" ]; do
		sleep 1
	done
}

# sk_hvm_post_mortem NAME DOMID: after HVM guest NAME (domain DOMID) ended
# without its end marker: the guest kernel's own console lines (not the
# script's), Xen's lines for the domain and the device model's log, as
# comments, so that one failed run says what happened.
sk_hvm_post_mortem()
{
	local l
	tr -d '\r' <"$SK_CONSOLE_DIR/guest-$1.log" 2>/dev/null |
		grep -v '^SKU:' | tail -n 40 |
		while IFS= read -r l; do sk_comment "console: $l"; done
	[ -n "$2" ] && xl dmesg 2>/dev/null | grep "d$2v[0-9]" | tail -n 20 |
		while IFS= read -r l; do sk_comment "xen: $l"; done
	tail -n 20 "/var/log/xen/qemu-dm-$1.log" 2>/dev/null |
		while IFS= read -r l; do sk_comment "qemu-dm: $l"; done
}

# What a guest console log shows when the guest kernel faulted itself (an
# oops, BUG or panic), an extended regular expression.
SK_GUEST_OOPS_RE='Oops|BUG:|Kernel panic|general protection|double fault'

# sk_boot_crash LOG: print the first oops line and succeed if the guest
# console log LOG shows the guest's kernel dying while it booted: an oops,
# BUG or panic (SK_GUEST_OOPS_RE) whose "Modules linked in:" line names no
# module, and no line from the guest's init (none begins "SKU:", and the
# init's first line comes before anything else it does).  Nothing of ours
# had run in that guest: its frontends are modules loaded by the init.
# Here the platform does that now and then: QEMU's emulated CPUs (TCG) and
# a kernel patching its own code while another vCPU runs it (text_poke):
# "Oops: int3" in sched_clock_cpu of a 6.12 PV guest at 3.8 s, before any
# line of its init (the CI of 5e4c196, vbd-ours, once in some fifteen
# make check runs).  dom0's init flags such a scenario (PLATFORM) and
# tests/xen/run.sh runs it once more in a boot of its own.
sk_boot_crash()
{
	local clean

	clean=$(tr -d '\r' <"$1" 2>/dev/null) || return 1
	printf '%s\n' "$clean" | grep -q '^SKU:' && return 1
	printf '%s\n' "$clean" | grep -q -E 'Modules linked in:[[:space:]]*$' ||
		return 1
	printf '%s\n' "$clean" | grep -E -m 1 "$SK_GUEST_OOPS_RE"
}

# sk_hvm_triple_fault NAME DOMID: print Xen's line if domain DOMID ended in
# a triple fault with no oops, BUG or panic of the guest kernel on its
# console before it (Linux reports its own faults; a triple fault without
# one is the CPU failing to deliver an exception at all).
sk_hvm_triple_fault()
{
	[ -n "$2" ] || return 1
	grep -q -E "$SK_GUEST_OOPS_RE" "$SK_CONSOLE_DIR/guest-$1.log" \
		2>/dev/null && return 1
	xl dmesg 2>/dev/null | grep "d$2v[0-9]* Triple fault" | head -n 1 |
		grep .
}

# sk_hvm_run CFG [TIMEOUT] [TRIES]: sk_domU_run for an HVM guest (its config
# says on_reboot = "destroy"), created once more, up to TRIES (default 3)
# times in all, while it ends in a triple fault.  Here an HVM guest runs on
# QEMU's software emulation of hardware virtualisation (Xen's HVM nested in
# TCG), which now and then faults a guest whatever it runs: Xen logs
# "d<domid>v<n> Triple fault" and shuts the domain down as a reboot (twice
# in some twenty make check runs: at the guest's start on a loaded host,
# once mid-test; both in hvm-smoke, whose guest runs none of our code).
# That is the test platform failing, not the code under test, and it is
# said as such in a comment with Xen's line; the guest's script starts
# over from its beginning.  A guest kernel that oopsed or panicked first,
# a guest that hung or any other end without the end marker fails as with
# sk_domU_run, and the guest's own console lines, Xen's and QEMU's are
# shown.
sk_hvm_run()
{
	local cfg=$1 timeout=${2:-240} tries=${3:-3} name domid rc=0 fault
	name=$(sk_domU_name "$cfg")
	sk_domU_create "$cfg" "$name" || return 1
	domid=$(xl domid "$name" 2>/dev/null)
	sk_domU_wait "$name" "$timeout" || rc=1
	sk_domU_console_done "$name"
	if [ "$rc" -eq 0 ] && [ "$tries" -gt 1 ] &&
	   ! grep -q '^SKU: DONE' "$SK_CONSOLE_DIR/guest-$name.log" 2>/dev/null &&
	   fault=$(sk_hvm_triple_fault "$name" "$domid"); then
		sk_comment "HVM guest $name (domain $domid) triple-faulted under the emulated hardware virtualisation, after $(grep -c '^SKU:' "$SK_CONSOLE_DIR/guest-$name.log") result lines: $fault; creating it once more"
		sk_hvm_run "$cfg" "$timeout" $((tries - 1))
		return
	fi
	sk_ok "xl create $(basename "$cfg")"
	sk_domU_results "$name" || rc=1
	[ "$rc" -eq 0 ] || sk_hvm_post_mortem "$name" "$domid"
	return $rc
}

# sk_platform_retry NAME TRIES CMD...: run CMD, a scenario's dom0 half
# around the PVH or HVM guest NAME, with the results it prints held back
# (SK_SAY_TO, in SK_HELD_DIR (/tmp)/sk-held-NAME.out, which dom0's init
# shows as comments if the scenario is killed meanwhile), up to TRIES
# times in all while a run ends in a triple fault of the platform: a
# "Triple fault" line new in Xen's log since the run began, the guest not
# at its end
# marker, and no oops, BUG or panic of the guest kernel on any of its
# console logs (the migration's receiving domain has its own:
# sk_console_follow), as sk_hvm_run decides for guests whose domain ids
# CMD alone knows.  The reason is sk_hvm_run's: Xen's HVM nested in
# QEMU's emulation now and then faults a guest whatever it runs, for a
# migrating PVH guest also as log-dirty mode starts.  A faulted run's held
# results become comments, after Xen's line, and count for nothing: a
# retried pass can hide an intermittent failure of that run, which is
# why its results stay in the log.  No run is started unless the
# scenario's time left (SK_DEADLINE) is twice what the faulted run took.
# The last run's results are shown as they are.  The guest's config must
# say on_reboot = "destroy" (Xen takes a triple fault for a reboot).  Not
# nestable: called with results already held it just runs CMD.  Returns
# the last run's status.
sk_platform_retry()
{
	local name=$1 tries=$2 held xenlog fault rc began d

	shift 2
	[ -z "${SK_SAY_TO:-}" ] || { "$@"; return; }
	held=${SK_HELD_DIR:-/tmp}/sk-held-$name.out
	xenlog=$(mktemp) || return 1
	rm -f "$held" "$SK_CONSOLE_DIR/guest-$name--"*.log
	xl dmesg >"$xenlog" 2>/dev/null
	began=$(date +%s)
	(
		export SK_SAY_TO="$held"
		"$@"
	)
	rc=$?
	fault=$(xl dmesg 2>/dev/null | grep -F "Triple fault" |
		grep -v -x -F -f "$xenlog" | head -n 1)
	rm -f "$xenlog"
	if [ "$rc" -ne 0 ] && [ -n "$fault" ] && [ "$tries" -gt 1 ] &&
	   _sk_retry_time_left "$began" &&
	   ! cat "$SK_CONSOLE_DIR/guest-$name.log" \
		 "$SK_CONSOLE_DIR/guest-$name--"*.log 2>/dev/null |
		grep -q -E "^SKU: DONE|$SK_GUEST_OOPS_RE"; then
		sk_comment "guest $name triple-faulted under the emulated hardware virtualisation: $fault; its run's results follow as comments, then the scenario runs once more"
		_sk_held_comments "$held" "faulted run"
		for d in "$name" "$name--incoming" "$name--migratedaway"; do
			xl destroy "$d" >/dev/null 2>&1
		done
		sk_platform_retry "$name" $((tries - 1)) "$@"
		return
	fi
	cat "$held" >>"${SK_SAY_TO:-$SK_CONSOLE}"
	rm -f "$held"
	return $rc
}

# _sk_retry_time_left BEGAN: the scenario has time for one more run like
# the one that began at BEGAN (twice its length left before SK_DEADLINE,
# or no deadline).
_sk_retry_time_left()
{
	local now

	[ -n "${SK_DEADLINE:-}" ] || return 0
	now=$(date +%s)
	[ $((SK_DEADLINE - now)) -gt $((2 * (now - $1))) ]
}

# _sk_held_comments FILE WHY: held results (sk_platform_retry) shown as
# comments saying WHY, and FILE removed.
_sk_held_comments()
{
	local l

	while IFS= read -r l; do
		sk_comment "$2: ${l#"$SK_PREFIX" }"
	done <"$1"
	rm -f "$1"
}

# sk_held_results: results a killed scenario held back
# (sk_platform_retry), as comments.
sk_held_results()
{
	local f

	for f in "${SK_HELD_DIR:-/tmp}"/sk-held-*.out; do
		[ -f "$f" ] || continue
		_sk_held_comments "$f" "held when the scenario was killed"
	done
}
