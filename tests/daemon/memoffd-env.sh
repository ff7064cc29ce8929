# SPDX-License-Identifier: LGPL-2.1-or-later
# shellcheck shell=bash
#
# What robust.sh, hostile.sh and soak.sh share, on tests/lib/daemon.sh:
# memoffd on a copy of a captured tree in $T, its private socket only.
#
#   memoffd_tree              copies the tree into $T with its run/ and state/
#   start_daemon [PREFIX...]  starts memoffd (through PREFIX, e.g. prlimit ...
#                             --) with $MEMOFFD_ENV in its environment, -c
#                             $CONF, log in $LOG; waits until root is answered
#   stop_daemon               SIGTERM; ok when it ends cleanly within 60 s
#   fds                       how many descriptors memoffd has open

top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
SHIM=$top_builddir/tests/daemon/stuck-write.so
RAW=$top_srcdir/tests/daemon/dbus-raw.py

. "$top_srcdir/tests/lib/daemon.sh"

daemon_requires
daemon_scratch memoffd-test
CONF=$T/memoffd.conf
LOG=$T/daemon.log
MEM=$T/sys/devices/system/memory
STATE=$T/state/jobs
SOCK=$MEMOFFD_SOCKET

memoffd_tree() {
	daemon_copy_tree "$T"
	mkdir -p "$T/run" "$T/state"
	chmod 755 "$T/run"
}

memoffd_env_start() { MEMOFFD_PREFIX="$*" memoffd_start "$T" "$CONF" --no-system-bus --no-monitor; }
start_daemon() { memoffd_env_start "$@"; }
stop_daemon() { memoffd_stop; }
fds() { ls "/proc/$DAEMON_PID/fd" | wc -l; }
