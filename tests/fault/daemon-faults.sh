#!/bin/sh
# Fault injection under memoffd (TAP): the daemon on a copied tree whose
# state files behave like sysfs, with tests/fault/shim.so making the writes
# to chosen blocks fail as the kernel can (EBUSY; a write that spins until
# the attempt timer ends it; the block removed between planning and
# attempt). The job's per-block record, the daemon's ListBlocks and sysfs
# must agree; a kill -9 while a write spins, then a restart, must leave no
# block in a state the daemon does not know about.
#
# Needs: busctl (systemd). Skips without it or without the offline verb.
set -u
srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
builddir=${top_builddir:-$(pwd)}
ctl=$builddir/src/memoffctl/memoffctl
daemon=$builddir/src/memoffd/memoffd
shim=$builddir/tests/fault/shim.so
tree=$srcdir/tests/sysfs-trees/synthetic-gap-going-offline
N=12

. "$srcdir/tests/lib/tap.sh"
[ -x "$ctl" ] && [ -x "$daemon" ] && [ -f "$shim" ] || skip_all "memoffctl, memoffd or the shim not built"
command -v busctl >/dev/null || skip_all "busctl (systemd) is not installed"
"$ctl" offline --help >/dev/null 2>&1 || skip_all "memoffctl has no offline verb in this build"
[ "${MEMOFF_FORBID_HOST_WRITES:-}" = 1 ] || skip_all "run through make check (the host write guard)"
plan $N

T=$(mktemp -d) || exit 1
DAEMON_PID=
cleanup() { [ -n "$DAEMON_PID" ] && kill -9 "$DAEMON_PID" 2>/dev/null; wait 2>/dev/null; rm -rf "$T"; }
trap cleanup EXIT
cp -a "$tree/sys" "$T/"
mkdir -p "$T/proc"
printf 'MemTotal: 16384000 kB\nMemFree: 12000000 kB\nMemAvailable: 14000000 kB\n' >"$T/proc/meminfo"
printf '[Offline]\nAttemptTimeout=1s\nBackoffInitial=200ms\nBackoffCap=500ms\nDeadline=4s\n' >"$T/memoffd.conf"
mem=$T/sys/devices/system/memory
MEMOFF_SOCKET=$T/run/control
export MEMOFF_SOCKET
start_daemon() { # FAULTS
	LD_PRELOAD=$shim MEMOFF_FAULT=$1 MEMOFF_FAULT_SYSFS="$T/sys/devices/*" MEMOFF_FAULT_LOG=$T/fault.log \
		"$daemon" --sysroot "$T" --runtime-dir "$T/run" --state-dir "$T/state" -c "$T/memoffd.conf" \
		>>"$T/daemon.log" 2>&1 &
	DAEMON_PID=$!
	for _ in $(seq 100); do
		"$ctl" --sysroot "$T" jobs >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	return 1
}
st() { cat "$mem/memory$1/state" 2>/dev/null || echo gone; }
outcome() { python3 -c 'import json,sys; print(next((b["outcome"] for b in json.load(open(sys.argv[1]))["blocks"] if b["block"] == int(sys.argv[2])), ""))' "$1" "$2" 2>/dev/null; }
# the daemon's own view: ListBlocks a(tttssis), "t INDEX t START t SIZE s STATE ..."
daemon_state() {
	busctl --address="unix:path=$MEMOFF_SOCKET" --json=short call org.memoff.Manager1 /org/memoff/Manager1 \
		org.memoff.Manager1 ListBlocks 2>/dev/null |
		python3 -c "import json,sys; d=json.load(sys.stdin)['data'][0]; print(next((b[3] for b in d if b[0]==$1), 'gone'))"
}

start_daemon 'write@*/memory9/state=EBUSY;write@*/memory10/state=hang;openw@*/memory11/state=remove'
point $? "memoffd starts under the fault shim" "$T/daemon.log"

"$ctl" --sysroot "$T" offline -b 9-12 >"$T/job1.out" 2>&1
rc=$?
[ "$rc" -eq 64 ]
point $? "offline -b 9-12 with three blocks failing three ways: exit 64, partly done (got $rc)" "$T/job1.out"
"$ctl" --sysroot "$T" watch 1 -J >"$T/job1.json" 2>"$T/job1.err"
[ "$(outcome "$T/job1.json" 9)" = unmovable ] && grep -q 'EBUSY' "$T/job1.json"
point $? "block 9 (EBUSY): recorded unmovable, with the errno" "$T/job1.json"
[ "$(outcome "$T/job1.json" 10)" = timed-out ]
point $? "block 10 (a write that spins): recorded timed-out" "$T/job1.json"
[ "$(outcome "$T/job1.json" 11)" = vanished ]
point $? "block 11 (removed before its write): recorded vanished" "$T/job1.json"
[ "$(outcome "$T/job1.json" 12)" = done ]
point $? "block 12: done" "$T/job1.json"
[ "$(st 9)" = online ] && [ "$(st 10)" = online ] && [ "$(st 11)" = gone ] && [ "$(st 12)" = offline ]
point $? "sysfs agrees: 9 and 10 online, 11 gone, 12 offline"
if command -v python3 >/dev/null; then
	[ "$(daemon_state 9)" = online ] && [ "$(daemon_state 10)" = online ] &&
		[ "$(daemon_state 11)" = gone ] && [ "$(daemon_state 12)" = offline ]
	point $? "the daemon's ListBlocks agrees with sysfs"
else
	skip "python3 not installed"
fi

# kill -9 while block 10's write spins; restart without faults.
"$ctl" --sysroot "$T" offline -b 10 --attempt-timeout 60s --deadline 5min >"$T/job2.out" 2>&1 &
hung=1
for _ in $(seq 100); do
	[ "$(grep -c "^write .*/memory10/state hang" "$T/fault.log" 2>/dev/null)" -ge 4 ] && { hung=0; break; }
	sleep 0.1
done
kill -9 "$DAEMON_PID"
wait "$DAEMON_PID" 2>/dev/null
DAEMON_PID=
wait
[ "$hung" -eq 0 ] && [ "$(st 10)" = online ]
point $? "killed with SIGKILL while the write to block 10 spun; the block reads online" "$T/fault.log"
start_daemon ""
point $? "memoffd restarts" "$T/daemon.log"
"$ctl" --sysroot "$T" watch 2 -J >"$T/job2.json" 2>"$T/job2.err"
grep -q '"result": "interrupted"' "$T/job2.json" &&
	[ "$(outcome "$T/job2.json" 10)" = interrupted ] && grep -q '"reason": ".*the block is online' "$T/job2.json"
point $? "the restarted daemon reports job 2 interrupted, with block 10's real state" "$T/job2.json"
"$ctl" --sysroot "$T" offline -b 10 >"$T/job3.out" 2>&1 && [ "$(st 10)" = offline ]
point $? "and block 10 can be taken offline again" "$T/job3.out"
