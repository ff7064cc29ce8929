# SPDX-License-Identifier: LGPL-2.1-or-later
# shellcheck shell=bash
#
# What robust.sh, hostile.sh and soak.sh share: TAP helpers, and memoffd on a
# copy of a captured tree in $T with its private socket only.
#
#   ok / not_ok / check WHAT CMD... / skip_all WHY
#   memoffd_tree              copies the tree into $T, writes $T/proc/meminfo
#   memoffd_start [PREFIX...] starts memoffd (through PREFIX, e.g. prlimit ...
#                             --) with $MEMOFFD_ENV in its environment, -c
#                             $CONF, log in $LOG; waits until root is answered
#   memoffd_stop              SIGTERM; ok when it ends within 60 s
#   call ARGS...              busctl call on the Manager as root
#   fds                       how many descriptors memoffd has open
#   EXTRA_PIDS                background helpers killed on exit (and $T removed)

top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
MEMOFFD=$top_builddir/src/memoffd/memoffd
MEMOFFCTL=$top_builddir/src/memoffctl/memoffctl
SHIM=$top_builddir/tests/daemon/stuck-write.so
RAW=$top_srcdir/tests/daemon/dbus-raw.py
TREE=$top_srcdir/tests/sysfs-trees/synthetic-gap-going-offline
DEST="org.memoff.Manager1 /org/memoff/Manager1 org.memoff.Manager1"
MEMOFFD_ENV=${MEMOFFD_ENV:-}
DAEMON_PID=

. "$top_srcdir/tests/lib/tap.sh"

command -v busctl >/dev/null || skip_all "busctl (systemd) is not installed"
[ -x "$MEMOFFD" ] || skip_all "memoffd was not built"
[ "${MEMOFF_FORBID_HOST_WRITES:-}" = 1 ] || skip_all "run through make check (the host write guard)"

T=$(mktemp -d /tmp/memoffd-test.XXXXXX)
chmod 755 "$T"
EXTRA_PIDS=    # background helpers to kill on exit
cleanup() {
	# shellcheck disable=SC2086
	[ -n "$EXTRA_PIDS" ] && kill $EXTRA_PIDS 2>/dev/null
	[ -n "$DAEMON_PID" ] && kill -9 "$DAEMON_PID" 2>/dev/null
	wait 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT
CONF=$T/memoffd.conf
LOG=$T/daemon.log
MEM=$T/sys/devices/system/memory
STATE=$T/state/jobs
SOCK=$T/run/control
PRIV="--address=unix:path=$SOCK"

memoffd_tree() {
	cp -a "$TREE/sys" "$T/"
	mkdir -p "$T/proc" "$T/run" "$T/state"
	chmod 755 "$T/run"
	printf 'MemTotal: 16384000 kB\nMemFree: 12000000 kB\nMemAvailable: 14000000 kB\n' > "$T/proc/meminfo"
}

memoffd_start() {
	# shellcheck disable=SC2086 # MEMOFFD_ENV is a list of NAME=value words
	"$@" env $MEMOFFD_ENV "$MEMOFFD" --sysroot "$T" --runtime-dir "$T/run" --state-dir "$T/state" \
		-c "$CONF" --no-system-bus --no-monitor >> "$LOG" 2>&1 &
	DAEMON_PID=$!
	for _ in $(seq 100); do
		busctl $PRIV call $DEST ListJobs >/dev/null 2>&1 && return 0
		kill -0 "$DAEMON_PID" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}

memoffd_stop() {
	kill -TERM "$DAEMON_PID" 2>/dev/null
	for _ in $(seq 600); do kill -0 "$DAEMON_PID" 2>/dev/null || break; sleep 0.1; done
	! kill -0 "$DAEMON_PID" 2>/dev/null
	local rc=$?
	wait "$DAEMON_PID" 2>/dev/null
	DAEMON_PID=
	return $rc
}

call() { busctl $PRIV call $DEST "$@"; }
fds() { ls "/proc/$DAEMON_PID/fd" | wc -l; }
