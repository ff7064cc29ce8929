#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# memoffd when idle: resident memory, and how often it wakes up.
#
#   bench/memoffd-idle.sh [SECONDS]    (default 60)
#
# Starts memoffd against a copy of a captured sysfs tree (--sysroot, private
# socket in a temporary directory, no system bus, no uevent monitor: nothing
# touches the host), lets it settle, then over SECONDS counts the times any
# of its threads was scheduled (/proc/PID/task/*/schedstat, second field of
# run counts) and lists its timers (POSIX timers in /proc/PID/timers, armed
# timerfds in /proc/PID/fdinfo). One client connection is made and closed
# first, so that the D-Bus machinery is paged in.
#
# Targets: VmRSS <= 4 MiB; 0 wakeups and 0 armed timers when idle.
set -u
secs=${1:-60}
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
memoffd=$top_builddir/src/memoffd/memoffd
[ -x "$memoffd" ] || { echo "memoffd is not built ($memoffd)"; exit 1; }

T=$(mktemp -d /tmp/memoffd-bench.XXXXXX)
pid=
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$T"' EXIT
cp -a "$top_srcdir/tests/sysfs-trees/synthetic-gap-going-offline/sys" "$T/"
mkdir -p "$T/proc"
printf 'MemTotal: 16384000 kB\nMemFree: 12000000 kB\nMemAvailable: 14000000 kB\n' > "$T/proc/meminfo"
MEMOFF_FORBID_HOST_WRITES=1 "$memoffd" --sysroot "$T" --runtime-dir "$T/run" --state-dir "$T/state" \
	--no-system-bus --no-monitor -c "$T/none.conf" 2>"$T/log" &
pid=$!
for _ in $(seq 50); do [ -S "$T/run/control" ] && break; sleep 0.1; done
if command -v busctl >/dev/null; then
	busctl --address="unix:path=$T/run/control" call org.memoff.Manager1 /org/memoff/Manager1 \
		org.memoff.Manager1 ListBlocks >/dev/null
fi
sleep 2

runs() { cat /proc/"$pid"/task/*/schedstat 2>/dev/null | awk '{ s += $3 } END { print s + 0 }'; }
armed_timerfds() {
	n=0
	for fd in /proc/"$pid"/fd/*; do
		[ "$(readlink "$fd" 2>/dev/null)" = "anon_inode:[timerfd]" ] || continue
		v=$(sed -n 's/^it_value: (\([0-9]*\), \([0-9]*\))$/\1\2/p' /proc/"$pid"/fdinfo/"${fd##*/}")
		[ -n "$v" ] && [ "$v" != 00 ] && n=$((n + 1))
	done
	echo "$n"
}

rss=$(awk '/^VmRSS:/ { print $2 }' /proc/"$pid"/status)
hwm=$(awk '/^VmHWM:/ { print $2 }' /proc/"$pid"/status)
threads=$(ls /proc/"$pid"/task | wc -l)
posix_timers=$(grep -c '^ID:' /proc/"$pid"/timers 2>/dev/null)
posix_timers=${posix_timers:-0}
before=$(runs)
sleep "$secs"
after=$(runs)
wakeups=$((after - before))
per_min=$((wakeups * 60 / secs))
timerfds=$(armed_timerfds)
kill "$pid"; wait "$pid" 2>/dev/null; pid=

printf 'memoffd idle, %s s: VmRSS %d KiB (%s MiB; peak %d KiB), threads %d\n' "$secs" "$rss" \
	"$(awk -v k="$rss" 'BEGIN { printf "%.1f", k / 1024 }')" "$hwm" "$threads"
printf 'memoffd idle, %s s: %d wakeups (%d per minute), %s POSIX timers, %s armed timerfds\n' \
	"$secs" "$wakeups" "$per_min" "$posix_timers" "$timerfds"
printf 'targets: VmRSS <= 4096 KiB: %s; 0 wakeups and no armed timer: %s\n' \
	"$([ "$rss" -le 4096 ] && echo met || echo MISSED)" \
	"$([ "$wakeups" -eq 0 ] && [ "$timerfds" -eq 0 ] && [ "$posix_timers" -eq 0 ] && echo met || echo MISSED)"
