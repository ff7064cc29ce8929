#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# memoffctl prints the same whoever runs the job: every job verb, as text and
# as -J, through memoffd (on one copy of a tree, its private socket named by
# MEMOFF_SOCKET) and --direct (on an identical copy), with the same sequence
# of requests so that both trees go through the same states. Only what truly
# differs is normalized: durations (the TIME column, "in 1ms", "seconds").
# Exit codes must match too. The stderr line naming memoffd's job is the one
# difference on stderr and is not compared (stdout is).
#
# Needs: busctl (systemd).
set -u

top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
MEMOFFD=$top_builddir/src/memoffd/memoffd
CTL=$top_builddir/src/memoffctl/memoffctl

n=0
ok() { n=$((n + 1)); echo "ok $n - $*"; }
not_ok() { n=$((n + 1)); echo "not ok $n - $*"; }
skip_all() { echo "1..0 # SKIP $*"; exit 0; }

command -v busctl >/dev/null || skip_all "busctl (systemd) is not installed"
[ -x "$MEMOFFD" ] || skip_all "memoffd was not built"
[ -x "$CTL" ] || skip_all "memoffctl was not built"
[ "${MEMOFF_FORBID_HOST_WRITES:-}" = 1 ] || skip_all "run through make check (the host write guard)"

T=$(mktemp -d /tmp/memoff-same.XXXXXX)
DAEMON_PID=
cleanup() {
	[ -n "$DAEMON_PID" ] && kill -9 "$DAEMON_PID" 2>/dev/null
	wait 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT

# 128M blocks: 0-7 boot memory (Normal), 32-39 online Movable.
mktree() {
	local mem=$1/sys/devices/system/memory
	mkdir -p "$mem" "$1/proc" "$1/sys/devices/system/node/node0"
	echo 8000000 > "$mem/block_size_bytes"
	for i in 0 1 2 3 4 5 6 7 32 33 34 35 36 37 38 39; do
		mkdir -p "$mem/memory$i"
		echo online > "$mem/memory$i/state"
		ln -s ../../node/node0 "$mem/memory$i/node0"
		if [ "$i" -lt 8 ]; then echo Normal; else echo Movable; fi > "$mem/memory$i/valid_zones"
	done
	printf 'MemTotal:       16384000 kB\nMemFree:        12000000 kB\nMemAvailable:   14000000 kB\n' \
		> "$1/proc/meminfo"
}
mktree "$T/a"
mktree "$T/b"
printf '[Offline]\nAttemptTimeout=500ms\nBackoffInitial=200ms\nBackoffCap=500ms\n' > "$T/memoffd.conf"

"$MEMOFFD" --sysroot "$T/a" --runtime-dir "$T/run" --state-dir "$T/state" -c "$T/memoffd.conf" \
	> "$T/daemon.log" 2>&1 &
DAEMON_PID=$!
for _ in $(seq 100); do
	busctl --address="unix:path=$T/run/control" call org.memoff.Manager1 /org/memoff/Manager1 \
		org.memoff.Manager1 ListJobs >/dev/null 2>&1 && break
	sleep 0.1
done

# Durations are the one thing two runs cannot share.
normalize() {
	sed -E -e 's/"seconds": [0-9]+\.[0-9]+/"seconds": S/' \
	       -e 's/ in [0-9.]+(us|ms|s|min)\././' \
	       -e 's/ +[0-9.]+(us|ms|s|min) / TIME /'
}

cases=(
	"offline 256M"
	"offline -J 256M"
	"online -b 32-33"
	"online -J -b 32-33"
	"offline -b 34-35"
	"online -J -b 34-35"
	"offline 0x110000000-0x11fffffff"
	"offline -b 100"
	"offline 5X"
	"offline -J -b 36 --attempt-timeout 1s --deadline infinity"
	"online -b 36 --deadline '2 min'"
	"offline --dry-run 256M"
	"offline --dry-run -J 256M"
	"offline -q 256M"
	"online 512M"
)
echo "1..$(( ${#cases[@]} + 3 ))"

daemon_used=0
for c in "${cases[@]}"; do
	eval "MEMOFF_SOCKET=$T/run/control \"\$CTL\" --sysroot \"\$T/a\" $c" > "$T/a.out" 2> "$T/a.err"
	ra=$?
	eval "\"\$CTL\" --sysroot \"\$T/b\" --direct $c" > "$T/b.out" 2> "$T/b.err"
	rb=$?
	grep -q '^memoffctl: memoffd job [0-9]*$' "$T/a.err" && daemon_used=$((daemon_used + 1))
	if [ "$ra" = "$rb" ] && diff -u <(normalize < "$T/b.out") <(normalize < "$T/a.out") > "$T/diff"; then
		ok "memoffctl $c: the same through memoffd and --direct (exit $ra, $(wc -l < "$T/a.out") lines)"
	else
		not_ok "memoffctl $c: through memoffd (exit $ra) and --direct (exit $rb) differ"
		sed 's/^/# /' "$T/diff" "$T/a.err"
	fi
done
# the comparison compared something: memoffd ran the jobs that change memory
if [ "$daemon_used" -ge 8 ]; then ok "memoffd ran $daemon_used of the jobs"; else not_ok "memoffd ran only $daemon_used jobs"; fi
# a dry run never becomes a daemon job (it plans here, read-only)
if MEMOFF_SOCKET=$T/run/control "$CTL" --sysroot "$T/a" offline --dry-run 256M 2>&1 | grep -q 'memoffd job'; then
	not_ok "a dry run went to memoffd"
else
	ok "a dry run never becomes a memoffd job (it plans in-process, read-only)"
fi
if diff -r "$T/a/sys" "$T/b/sys" > "$T/tree.diff"; then
	ok "both trees went through the same states"
else
	not_ok "the trees differ"; sed 's/^/# /' "$T/tree.diff"
fi
