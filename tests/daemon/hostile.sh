#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Issue 12's denial-of-service reproductions on memoffd's private socket, by
# an unprivileged user (nobody), each followed by the check that matters:
# root is still answered. memoffd runs on a copy of a captured tree with its
# private socket only. tests/daemon/dbus-raw.py is the misbehaving peer.
#
# Needs: busctl, setpriv, prlimit, python3, root (to be someone else).
set -u

. "$(dirname "$0")/memoffd-env.sh"
for t in setpriv prlimit /usr/bin/python3; do
	command -v "$t" >/dev/null || skip_all "$t is not installed"
done
[ "$(id -u)" = 0 ] || skip_all "needs root (to attack as nobody)"

memoffd_tree
start_daemon() { : > "$LOG"; memoffd_env_start "$@"; }
printf '[Offline]\nAttemptTimeout=300ms\n' > "$CONF"
# root_answered: root's ListJobs and a dry-run Offline are answered (busctl's own 25 s timeout bounds them)
root_answered() {
	busctl $PRIV call $DEST ListJobs >/dev/null &&
		busctl $PRIV call $DEST Offline 'ssa{sv}' blocks 9 1 dry-run b true >/dev/null
}

check "memoffd starts" start_daemon
idle_fds=$(fds)
rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$DAEMON_PID/status"; }
idle_rss=$(rss_kb)
# A peer (uid 4243) that starts the handshake and never ends it, from now
# on; checked before the first restart (memoffd closes it after 30 s).
setpriv --reuid=4243 --regid=4243 --clear-groups -- /usr/bin/python3 "$RAW" "$SOCK" silent > "$T/silent.out" 2>&1 &
SILENT_PID=$!

# ---- descriptor passing: refused on the private socket ----
out=$(as_nobody /usr/bin/python3 "$RAW" "$SOCK" negotiate-fds 2>&1)
check "NEGOTIATE_UNIX_FD on the private socket is refused ($out)" eval 'echo "$out" | grep -q "^ERROR"'
check "... and root is answered" root_answered

# ---- replies never read: the connection is closed, not memoffd's memory filled ----
out=$(as_nobody /usr/bin/python3 "$RAW" "$SOCK" pipeline 20000 2>&1)
check "20000 pipelined ListBlocks whose replies nobody reads: memoffd closes the connection ($out)" \
	test "$out" = closed
check "... says so in its log, naming the uid" grep -q "Closing a connection of uid 65534 .*unread\|Closing a connection of uid 65534 .*does not read" "$LOG"
check "... and root is answered" root_answered

# ---- connections past the caps: refused, and the refusals logged at a limited rate ----
coproc HOLD { as_nobody /usr/bin/python3 "$RAW" "$SOCK" hold 400; }
DAEMON_EXTRA_PIDS=$HOLD_PID
read -r -t 60 held <&"${HOLD[0]}"
check "400 connections from nobody: at most the per-uid cap is accepted (${held:-?} held)" test "${held:-99}" -le 16
refusals=$(grep -c "Too many connections" "$LOG")
check "... the refusals are logged at a limited rate ($refusals lines for 384 refusals)" test "$refusals" -le 6
check "... and root is answered while they are held" root_answered
kill "$HOLD_PID" 2>/dev/null; wait "$HOLD_PID" 2>/dev/null; DAEMON_EXTRA_PIDS=

# ---- signals never reach a bus client before its Hello is answered ----
# busctl --address is a bus client: it says Hello first and fails on anything else ("Input/output error")
(for i in $(seq 60); do
	p=$(busctl $PRIV call $DEST Offline 'ssa{sv}' blocks 9 1 dry-run b true 2>/dev/null | sed -n 's/^o "\(.*\)"$/\1/p')
	[ -n "$p" ] && busctl $PRIV call $DEST CancelJob u "${p##*/}" >/dev/null 2>&1
done) &
churn=$!
failed=0
for _ in $(seq 100); do
	busctl $PRIV call $DEST ListJobs >/dev/null 2>&1 || failed=$((failed + 1))
done
wait "$churn"
check "100 busctl calls while jobs churn: none fails ($failed failed)" test "$failed" = 0

# ---- messages that never finish arriving: refused by their header ----
# Issue 12's reproduction: sixteen 60 MB calls from one uid, each sent but
# for its last byte (b1500a2, where sd-bus read the socket itself: RSS 942 MB
# while they were held). memoffd's relay refuses a message of more than 1 MiB
# from anyone but root as soon as its 16-byte header arrives, so it holds
# none of them. A uid of its own: nobody's warnings of this minute are spent.
as_4242() { setpriv --reuid=4242 --regid=4242 --clear-groups -- "$@"; }
coproc INCOMPLETE { as_4242 /usr/bin/python3 "$RAW" "$SOCK" incomplete 16 60; }
DAEMON_EXTRA_PIDS=$INCOMPLETE_PID
read -r -t 120 held <&"${INCOMPLETE[0]}"
held_rss=$(rss_kb)
check "16 incomplete 60 MB messages from one uid: every connection is closed at its header (${held:-?} of 16 still open)" \
	test "${held:-99}" = 0
if grep -q __asan_init "$MEMOFFD" 2>/dev/null; then
	skip "... and memoffd's RSS stays near idle while they are sent: not measurable under AddressSanitizer"
else
	check "... and memoffd's RSS stays near idle while they are sent (${idle_rss} kB idle, ${held_rss} kB then; at most 16 MB more)" \
		test "$held_rss" -le $((idle_rss + 16384))
fi
kill "$INCOMPLETE_PID" 2>/dev/null; wait "$INCOMPLETE_PID" 2>/dev/null; DAEMON_EXTRA_PIDS=
closed=$(grep -c "Closing a connection of uid 4242 .*longer than it may" "$LOG")
check "... each closure is logged with its reason, at most 5 a minute for the uid ($closed lines)" \
	test "$closed" -ge 1 -a "$closed" -le 5
out=$(as_4242 /usr/bin/python3 "$RAW" "$SOCK" big 1020 2>&1)
check "a whole call of 1020 KiB from the same uid is still read and answered ($out)" \
	test "$out" = answered
out=$(/usr/bin/python3 "$RAW" "$SOCK" big 4096 2>&1)
check "root's calls are not held to that limit: a 4 MiB call is answered ($out)" test "$out" = answered

# ---- the heap after the attacker leaves ----
# Three pipelines of 20000 calls whose replies nobody reads, at once; then,
# twice, 8 messages of 768 KiB (under the limit) that never finish arriving:
# sd-bus holds what came of each (the second round finds glibc's mmap
# threshold raised by the first, so its buffers come from the heap). Once
# the peers are gone, RSS is back near idle (b1500a2: ~1 GB during the
# pipelines, 630 MB after).
pids=
for _ in 1 2 3; do
	as_nobody /usr/bin/python3 "$RAW" "$SOCK" pipeline 20000 >/dev/null 2>&1 &
	pids="$pids $!"
done
# shellcheck disable=SC2086
wait $pids
for round in 1 2; do
	coproc INCOMPLETE { as_nobody /usr/bin/python3 "$RAW" "$SOCK" incomplete 8 0.75; }
	DAEMON_EXTRA_PIDS=$INCOMPLETE_PID
	read -r -t 120 held <&"${INCOMPLETE[0]}"
	held_rss=$(rss_kb)
	kill "$INCOMPLETE_PID" 2>/dev/null; wait "$INCOMPLETE_PID" 2>/dev/null; DAEMON_EXTRA_PIDS=
done
check "... and root is answered after the memory attacks (${held:-?} incomplete 768 KiB messages held, RSS then ${held_rss} kB)" root_answered
sleep 0.5
now_rss=$(rss_kb)
# Under AddressSanitizer freed memory sits in its quarantine: RSS says nothing.
if grep -q __asan_init "$MEMOFFD" 2>/dev/null; then
	skip "RSS back near idle after the attacks: not measurable under AddressSanitizer"
else
	check "RSS back near idle after the attacker left (${idle_rss} kB idle, ${now_rss} kB now; at most 16 MB more)" \
		test "$now_rss" -le $((idle_rss + 16384))
fi

sleep 0.5
wait "$SILENT_PID"
silent=$(cat "$T/silent.out")
check "a peer that never ends the D-Bus handshake is closed ($silent; the limit is 30 s)" \
	eval 'case "$silent" in "closed after "*) true ;; *) false ;; esac'
check "... saying why in the log" grep -q "Closing a connection of uid 4243 .*did not finish the D-Bus authentication" "$LOG"
now_fds=$(fds)
check "the descriptors are back to idle ($idle_fds at start, $now_fds now)" test "$now_fds" -le $((idle_fds + 2))
check "SIGTERM ends memoffd" stop_daemon

# ---- accept() at its descriptor limit: a pause, not a spin ----
# A connection takes three descriptors (the peer's and the relay's
# socketpair), so whether the limit is met by accept() or by the socketpair
# depends on the descriptors memoffd holds at idle: three limits cover the
# three cases (the run of 300d6a9 whose accept() got the last descriptor
# spun, logging "Cannot set up a connection" without pause).
for nofile in 48 49 50; do
	check "memoffd starts with $nofile descriptors at most" start_daemon prlimit --nofile=$nofile:$nofile --
	coproc ROOTHOLD { /usr/bin/python3 "$RAW" "$SOCK" hold 24; }
	DAEMON_EXTRA_PIDS=$ROOTHOLD_PID
	read -r -t 60 held <&"${ROOTHOLD[0]}"
	sleep 2
	accept_lines=$(grep -c "accept() on" "$LOG")
	other_lines=$(grep -c "Cannot set up a connection" "$LOG")
	check "24 connections against a limit of $nofile descriptors: accept() failures logged at a limited rate ($accept_lines lines, ${held:-?} connections held)" \
		test "$accept_lines" -ge 1 -a "$accept_lines" -le 4 -a "$other_lines" = 0
	kill "$ROOTHOLD_PID" 2>/dev/null; wait "$ROOTHOLD_PID" 2>/dev/null; DAEMON_EXTRA_PIDS=
	ok=0
	for _ in $(seq 100); do root_answered 2>/dev/null && { ok=1; break; }; sleep 0.1; done
	check "... and once they are gone, root is answered again" test "$ok" = 1
	check "SIGTERM ends memoffd" stop_daemon
done

# ---- a process stuck holding its mmap_lock: CancelJob and SIGTERM reach the maps read ----
# Block 13's writes spin (stuck-write.so) over a page that its census sees in
# use (kpageflags), so after each timed-out attempt the job looks for the
# page's owners; every process's /proc/PID/maps is a FIFO, whose open never
# returns (as a read waiting for a stuck mmap_lock). The helper thread stuck
# in that open is visible as a task of memoffd blocked in openat (257).
if [ -f "$SHIM" ]; then
	/usr/bin/python3 - "$T" <<'PY'
import os, struct, sys
t = sys.argv[1]
with open(t + "/proc/kpageflags", "w+b") as f:
    f.seek(0x68020 * 8)
    f.write(struct.pack("<Q", (1 << 12) | (1 << 11) | (1 << 5) | (1 << 3)))  # anon, mmap, lru, uptodate
    f.truncate(0x78000 * 8)
for pid in range(4300, 4316):
    os.makedirs("%s/proc/%d" % (t, pid))
    open("%s/proc/%d/comm" % (t, pid), "w").write("stuck\n")
    os.mkfifo("%s/proc/%d/maps" % (t, pid))
PY
	printf '[Offline]\nAttemptTimeout=200ms\nBackoffInitial=100ms\nBackoffCap=100ms\n' > "$CONF"
	MEMOFFD_ENV="MEMOFF_TEST_STUCK_BLOCKS=13 LD_PRELOAD=$SHIM"
	stuck_opens() { grep -l '^257 ' /proc/"$DAEMON_PID"/task/*/syscall 2>/dev/null | wc -l; }
	wait_stuck() {  # N: until N maps reads are stuck (at most 60 s)
		for _ in $(seq 600); do [ "$(stuck_opens)" -ge "$1" ] && return 0; sleep 0.1; done
		return 1
	}
	check "memoffd starts with block 13's writes spinning and 16 stuck processes" start_daemon
	p=$(call Offline 'ssa{sv}' blocks 13 0 | path_of)
	id=${p##*/}
	check "an offline of block 13 (job ${id:-?}) reaches a stuck maps read" wait_stuck 1
	call CancelJob u "${id:-0}" >/dev/null
	check "CancelJob while the job waits in the stuck read: the job finishes" wait_job "$p"
	n=$(stuck_opens)
	check "... without reading another process's maps after the cancel ($n stuck reads; 16 processes)" test "$n" = 1
	check "... its result is cancelled" eval '[ "$(jobprop "$p" Result)" = "s \"cancelled\"" ]'

	p=$(call Offline 'ssa{sv}' blocks 13 0 | path_of)
	id=${p##*/}
	check "a second offline of block 13 (job ${id:-?}) reaches a stuck maps read" wait_stuck 2
	check "SIGTERM while the job waits in the stuck read: memoffd ends (within TimeoutStopSec=1min)" stop_daemon
	check "... and the state file holds the job, cancelled" grep -q "^job ${id:-0} offline finished cancelled " "$STATE"
	MEMOFFD_ENV=
else
	skip "tests/daemon/stuck-write.so was not built: CancelJob and SIGTERM against a stuck maps read"
fi

# ---- a process stuck holding its mmap_lock: its pagemap reads, its cgroup and comm ----
# Processes 4401 and 4402 map block 13's page (0x68020) at 0x10000000, but
# every pread() of their pagemap blocks for ever (the fault shim's "stuck":
# a killable wait, as for a process that holds its mmap_lock; memoffd's
# helper threads block every signal). GetPins looks them up (the kernel log
# names the page), and so does an offline of block 13 after each timed-out
# attempt.
FAULT_SHIM=$top_builddir/tests/fault/shim.so
if [ -f "$SHIM" ] && [ -f "$FAULT_SHIM" ]; then
	rm -rf "$T"/proc/43[0-9][0-9]
	# /proc/kpageflags as above: 0x68020 anonymous, mapped
	/usr/bin/python3 - "$T" "$top_srcdir/tests/lib" <<'PY'
import os, sys
t = sys.argv[1]
sys.path.insert(0, sys.argv[2])
from fakeproc import migration_failure, put
for pid in (4401, 4402, 4403):
    os.makedirs("%s/proc/%d" % (t, pid))
    open("%s/proc/%d/maps" % (t, pid), "w").write("10000000-10001000 rw-p 00000000 00:00 0 \n")
    put("%s/proc/%d/pagemap" % (t, pid), 0x10000, (1 << 63) | 0x68020)
    if pid == 4403:
        # its pagemap reads, but its cgroup and comm are FIFOs that nobody writes
        os.mkfifo("%s/proc/%d/cgroup" % (t, pid))
        os.mkfifo("%s/proc/%d/comm" % (t, pid))
    else:
        open("%s/proc/%d/comm" % (t, pid), "w").write("stuck\n")
os.rename(t + "/proc/4403", t + "/proc.4403")
# the kernel log says the page failed to migrate: GetPins looks for its owners
migration_failure(t, 0x68020)
PY
	printf '[Offline]\nAttemptTimeout=200ms\nBackoffInitial=100ms\nBackoffCap=100ms\n' > "$CONF"
	FAULTS=$T/faults.log
	: > "$FAULTS"
	MEMOFFD_ENV="MEMOFF_TEST_STUCK_BLOCKS=13 LD_PRELOAD=$SHIM:$FAULT_SHIM MEMOFF_FAULT=read@*/proc/440[12]/pagemap=stuck MEMOFF_FAULT_LOG=$FAULTS"
	stuck_reads() { grep -c 'pagemap stuck$' "$FAULTS"; }
	wait_reads() {  # N: until N pagemap reads have got stuck (at most 60 s)
		for _ in $(seq 600); do [ "$(stuck_reads)" -ge "$1" ] && return 0; sleep 0.1; done
		return 1
	}
	getpins13() { busctl $PRIV --json=short call $DEST GetPins 'ssa{sv}' blocks 13 0; }
	check "memoffd starts with two processes whose pagemap reads never return" start_daemon
	# four at once: as many as memoffd answers at a time (b1500a2: Busy for ever after four)
	pids=
	for i in 1 2 3 4; do
		getpins13 > "$T/pins.$i" 2>&1 &
		pids="$pids $!"
	done
	failed=0
	for p in $pids; do wait "$p" || failed=$((failed + 1)); done
	check "four GetPins of block 13 at once are all answered ($failed failed; $(stuck_reads) pagemap reads stuck)" \
		test "$failed" = 0 -a "$(stuck_reads)" -ge 4
	check "... and a fifth after them too (not Busy)" getpins13

	n=$(stuck_reads)
	p=$(call Offline 'ssa{sv}' blocks 13 0 | path_of)
	id=${p##*/}
	check "an offline of block 13 (job ${id:-?}) reaches a stuck pagemap read" wait_reads $((n + 1))
	call CancelJob u "${id:-0}" >/dev/null
	check "CancelJob while the job waits in the stuck pagemap read: the job finishes" wait_job "$p"
	check "... its result is cancelled" eval '[ "$(jobprop "$p" Result)" = "s \"cancelled\"" ]'

	n=$(stuck_reads)
	p=$(call Offline 'ssa{sv}' blocks 13 0 | path_of)
	id=${p##*/}
	check "a second offline of block 13 (job ${id:-?}) reaches a stuck pagemap read" wait_reads $((n + 1))
	check "SIGTERM while the job waits in the stuck pagemap read: memoffd ends (within TimeoutStopSec=1min)" stop_daemon
	check "... and the state file holds the job, cancelled" grep -q "^job ${id:-0} offline finished cancelled " "$STATE"

	rm -rf "$T"/proc/440[12]
	mv "$T/proc.4403" "$T/proc/4403"
	MEMOFFD_ENV=
	check "memoffd starts with a process whose cgroup and comm never read" start_daemon
	# shellcheck disable=SC2016
	owner='import json, sys
d = json.loads(json.load(sys.stdin)["data"][0])
sys.exit(0 if any(g["owner_pid"] == 4403 for b in d["blocks"] for g in b["groups"]) else 1)'
	check "GetPins of block 13 is answered, naming process 4403 as the page's owner" \
		eval 'getpins13 | python3 -c "$owner"'
	check "SIGTERM ends memoffd" stop_daemon
else
	skip "tests/daemon/stuck-write.so or tests/fault/shim.so was not built: stuck pagemap, cgroup and comm reads"
fi

plan_done
