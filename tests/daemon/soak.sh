#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Soak: memoffd on a copy of a captured tree under everything at once, for a
# bounded number of rounds: root submits and cancels jobs; several other
# uids list, ask for pins (refused) and attack (pipelined calls never read,
# connections held past the caps); the configuration is reloaded; memoffd
# is restarted midway. Throughout, a probe checks that root is answered
# (each call bounded by busctl's own timeout: a generous bound, not a
# benchmark). At the end: descriptors and RSS are back near idle, and every
# job root was given is accounted for in memoffd's log (queued, then
# finished with a result).
#
# make check runs a short soak (SOAK_ROUNDS=4, 200 submissions); `make
# soak` a long one (SOAK_ROUNDS=60, 3000). Needs: busctl, setpriv, python3, root.
set -u

top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
MEMOFFD=$top_builddir/src/memoffd/memoffd
SHIM=$top_builddir/tests/daemon/stuck-write.so
RAW=$top_srcdir/tests/daemon/dbus-raw.py
TREE=$top_srcdir/tests/sysfs-trees/synthetic-gap-going-offline
ROUNDS=${SOAK_ROUNDS:-4}
JOBS_PER_ROUND=${SOAK_JOBS_PER_ROUND:-50}

n=0
ok() { n=$((n + 1)); echo "ok $n - $*"; }
not_ok() { n=$((n + 1)); echo "not ok $n - $*"; }
check() { local what=$1; shift; if "$@" >/dev/null 2>&1; then ok "$what"; else not_ok "$what"; fi; }
skip_all() { echo "1..0 # SKIP $*"; exit 0; }

for t in busctl setpriv /usr/bin/python3; do
	command -v "$t" >/dev/null || skip_all "$t is not installed"
done
[ "$(id -u)" = 0 ] || skip_all "needs root (to act as other uids)"
[ -x "$MEMOFFD" ] || skip_all "memoffd was not built"
[ -f "$SHIM" ] || skip_all "tests/daemon/stuck-write.so was not built"
[ "${MEMOFF_FORBID_HOST_WRITES:-}" = 1 ] || skip_all "run through make check (the host write guard)"

T=$(mktemp -d /tmp/memoffd-soak.XXXXXX)
chmod 755 "$T"
DAEMON_PID=
BG=
cleanup() {
	[ -n "$BG" ] && kill $BG 2>/dev/null
	[ -n "$DAEMON_PID" ] && kill -9 "$DAEMON_PID" 2>/dev/null
	wait 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT

cp -a "$TREE/sys" "$T/"
mkdir -p "$T/proc/4242" "$T/run" "$T/state"
chmod 755 "$T/run"
printf 'MemTotal: 16384000 kB\nMemFree: 12000000 kB\nMemAvailable: 14000000 kB\n' > "$T/proc/meminfo"
echo stuck > "$T/proc/4242/comm"
mkfifo "$T/proc/4242/maps"       # a process whose maps never reads (its mmap_lock held)
printf '[Offline]\nAttemptTimeout=100ms\nBackoffInitial=50ms\nBackoffCap=100ms\nDeadline=500ms\n' > "$T/memoffd.conf"
SOCK=$T/run/control
PRIV="--address=unix:path=$SOCK"
DEST="org.memoff.Manager1 /org/memoff/Manager1 org.memoff.Manager1"
LOG=$T/daemon.log

start_daemon() {
	MEMOFF_TEST_STUCK_BLOCKS=13 LD_PRELOAD="$SHIM" "$MEMOFFD" --sysroot "$T" --runtime-dir "$T/run" \
		--state-dir "$T/state" -c "$T/memoffd.conf" --no-system-bus --no-monitor >> "$LOG" 2>&1 &
	DAEMON_PID=$!
	for _ in $(seq 100); do
		busctl $PRIV call $DEST ListJobs >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	return 1
}
stop_daemon() {
	kill -TERM "$DAEMON_PID" 2>/dev/null
	for _ in $(seq 600); do kill -0 "$DAEMON_PID" 2>/dev/null || break; sleep 0.1; done
	! kill -0 "$DAEMON_PID" 2>/dev/null
	local rc=$?
	wait "$DAEMON_PID" 2>/dev/null
	DAEMON_PID=
	return $rc
}
as() { local u=$1; shift; setpriv --reuid="$u" --regid=nogroup --clear-groups -- "$@"; }
fds() { ls "/proc/$DAEMON_PID/fd" | wc -l; }
rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$DAEMON_PID/status"; }
call() { busctl $PRIV call $DEST "$@"; }

# root's jobs: offline (dry run, or for real on block 13 whose writes spin), half cancelled
submit_jobs() {  # COUNT
	local i p blk
	for i in $(seq "$1"); do
		case $((i % 8)) in
			0) blk=13 ;;        # spins until cancelled or past its deadline
			*) blk=$((9 + i % 3)) ;;
		esac
		p=$(call Offline 'ssa{sv}' blocks "$blk" 1 dry-run b $([ $blk = 13 ] && echo false || echo true) \
			2>/dev/null | sed -n 's/^o "\(.*\)"$/\1/p')
		[ -n "$p" ] || continue
		echo "${p##*/}" >> "$T/ids"
		[ $((i % 2)) = 0 ] && call CancelJob u "${p##*/}" >/dev/null 2>&1
	done
}

# the others: read-only calls, pins (refused), and the attacks of hostile.sh
others() {
	local u
	for u in nobody daemon bin; do
		as "$u" busctl $PRIV call $DEST ListBlocks >/dev/null 2>&1
		as "$u" busctl $PRIV call $DEST ListJobs >/dev/null 2>&1
		as "$u" busctl $PRIV call $DEST GetPins 'ssa{sv}' blocks 9 0 >/dev/null 2>&1
	done
	as nobody /usr/bin/python3 "$RAW" "$SOCK" pipeline 20000 >/dev/null 2>&1 &
	as daemon /usr/bin/python3 "$RAW" "$SOCK" hold 40 < /dev/null >/dev/null 2>&1
	wait
}

# probe: root's ListJobs every 0.2 s while $T/probe exists; failures counted
probe() {
	: > "$T/probe.fail"
	while [ -e "$T/probe" ]; do
		if [ ! -e "$T/restarting" ]; then
			busctl $PRIV call $DEST ListJobs >/dev/null 2>&1 || [ -e "$T/restarting" ] ||
				echo "$(date +%T.%N) ListJobs failed" >> "$T/probe.fail"
		fi
		sleep 0.2
	done
}

check "memoffd starts" start_daemon
sleep 0.5
idle_fds=$(fds)
idle_rss=$(rss_kb)
touch "$T/probe"
probe &
PROBE=$!
BG=$PROBE

for round in $(seq "$ROUNDS"); do
	submit_jobs "$JOBS_PER_ROUND" &
	sub=$!
	others &
	oth=$!
	kill -HUP "$DAEMON_PID"
	wait "$sub" "$oth"
	if [ "$round" = $(((ROUNDS + 1) / 2)) ]; then
		touch "$T/restarting"
		stop_daemon || not_ok "SIGTERM ends memoffd mid-soak (round $round)"
		start_daemon || not_ok "memoffd restarts mid-soak (round $round)"
		rm -f "$T/restarting"
	fi
done

# let the queue drain: every job finishes (the spinning ones within their deadline)
drained=0
for _ in $(seq 600); do
	if call ListJobs 2>/dev/null | grep -q '"queued"\|"running"'; then sleep 0.2; else drained=1; break; fi
done
rm -f "$T/probe"
wait "$PROBE"
BG=

submitted=$(sort -un "$T/ids" | wc -l)
check "the queue drains after $ROUNDS rounds ($submitted jobs)" test "$drained" = 1
fails=$(wc -l < "$T/probe.fail")
check "root was answered throughout: $fails of root's probes failed" test "$fails" = 0
sleep 1
now_fds=$(fds)
now_rss=$(rss_kb)
check "descriptors back near idle ($idle_fds idle, $now_fds now)" test "$now_fds" -le $((idle_fds + 2))
check "RSS back near idle (${idle_rss} kB idle, ${now_rss} kB now; at most 32 MB more)" \
	test "$now_rss" -le $((idle_rss + 32768))
missing=
for id in $(sort -un "$T/ids"); do
	grep -q "Job $id (.*) queued by uid 0" "$LOG" &&
		grep -Eq "Job $id \(.*\) (done|partial|failed|cancelled|interrupted)" "$LOG" ||
		missing="$missing $id"
done
check "every job root was given is accounted for: queued and finished in the log (missing:${missing:- none})" \
	test -z "$missing"
closed=$(grep -c "Closing a connection of uid" "$LOG")
check "the attacks were met (connections closed for unread replies: $closed)" test "$closed" -ge 1
check "SIGTERM ends memoffd" stop_daemon
cat "$T/probe.fail" | sed 's/^/# /'

echo "1..$n"
