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

. "$(dirname "$0")/memoffd-env.sh"
ROUNDS=${SOAK_ROUNDS:-4}
JOBS_PER_ROUND=${SOAK_JOBS_PER_ROUND:-50}
for t in setpriv /usr/bin/python3; do
	command -v "$t" >/dev/null || skip_all "$t is not installed"
done
[ "$(id -u)" = 0 ] || skip_all "needs root (to act as other uids)"
[ -f "$SHIM" ] || skip_all "tests/daemon/stuck-write.so was not built"

memoffd_tree
mkdir -p "$T/proc/4242"
echo stuck > "$T/proc/4242/comm"
mkfifo "$T/proc/4242/maps"       # a process whose maps never reads (its mmap_lock held)
printf '[Offline]\nAttemptTimeout=100ms\nBackoffInitial=50ms\nBackoffCap=100ms\nDeadline=500ms\n' > "$CONF"
MEMOFFD_ENV="MEMOFF_TEST_STUCK_BLOCKS=13 LD_PRELOAD=$SHIM"
as() { local u=$1; shift; setpriv --reuid="$u" --regid=nogroup --clear-groups -- "$@"; }
rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$DAEMON_PID/status"; }

# root's jobs: offline (dry run, or for real on block 13 whose writes spin), half cancelled
submit_jobs() {  # COUNT
	local i p blk
	for i in $(seq "$1"); do
		case $((i % 8)) in
			0) blk=13 ;;        # spins until cancelled or past its deadline
			*) blk=$((9 + i % 3)) ;;
		esac
		p=$(call Offline 'ssa{sv}' blocks "$blk" 1 dry-run b "$([ "$blk" = 13 ] && echo false || echo true)" \
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
DAEMON_EXTRA_PIDS=$PROBE

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
DAEMON_EXTRA_PIDS=

submitted=$(sort -un "$T/ids" | wc -l)
check "the queue drains after $ROUNDS rounds ($submitted jobs)" test "$drained" = 1
fails=$(wc -l < "$T/probe.fail")
check "root was answered throughout: $fails of root's probes failed" test "$fails" = 0
sleep 1
now_fds=$(fds)
now_rss=$(rss_kb)
check "descriptors back near idle ($idle_fds idle, $now_fds now)" test "$now_fds" -le $((idle_fds + 2))
# Under AddressSanitizer freed memory sits in its quarantine (256 MB by
# default): RSS says nothing about what memoffd holds there.
if grep -q __asan_init "$MEMOFFD" 2>/dev/null; then
	skip "RSS back near idle: not measurable under AddressSanitizer (${idle_rss} kB idle, ${now_rss} kB now)"
else
	check "RSS back near idle (${idle_rss} kB idle, ${now_rss} kB now; at most 32 MB more)" \
		test "$now_rss" -le $((idle_rss + 32768))
fi
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

plan_done
