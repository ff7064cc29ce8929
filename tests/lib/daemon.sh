# SPDX-License-Identifier: LGPL-2.1-or-later
# shellcheck shell=sh
#
# memoffd in the shell tests (after tap.sh and sysfs-tree.sh): the daemon on
# a scratch tree, its private socket in $T/run, its state in $T/state, its
# log in $T/daemon.log.
#
#   daemon_requires       skip_all unless busctl is there, memoffd and
#                         memoffctl are built and the host write guard is on
#   daemon_scratch NAME   T: a new scratch directory; at exit memoffd is
#                         killed, the kernel loop stopped and T removed
#   memoffd_start ROOT CONF [ARG...]
#                         start memoffd on ROOT with CONF; return 0 once it
#                         answers on its socket (MEMOFFD_SOCKET), 1 if it never does
#   memoffd_stop [SIGNAL] stop it (default SIGTERM) and wait for it

MEMOFFD=$top_builddir/src/memoffd/memoffd
MEMOFFCTL=$top_builddir/src/memoffctl/memoffctl
DAEMON_PID=

daemon_requires() {
	command -v busctl > /dev/null || skip_all "busctl (systemd) is not installed"
	[ -x "$MEMOFFD" ] || skip_all "memoffd was not built"
	[ -x "$MEMOFFCTL" ] || skip_all "memoffctl was not built"
	[ "${MEMOFF_FORBID_HOST_WRITES:-}" = 1 ] || skip_all "run through make check (the host write guard)"
}

daemon_cleanup() {
	[ -n "$DAEMON_PID" ] && kill -9 "$DAEMON_PID" 2> /dev/null
	tree_kernel_stop
	wait 2> /dev/null
	rm -rf "$T"
}

daemon_scratch() {
	T=$(mktemp -d "/tmp/memoff-$1.XXXXXX") || exit 99
	trap daemon_cleanup EXIT
}

memoffd_start() {
	daemon_root=$1 daemon_conf=$2
	shift 2
	MEMOFFD_SOCKET=$T/run/control
	"$MEMOFFD" --sysroot "$daemon_root" --runtime-dir "$T/run" --state-dir "$T/state" -c "$daemon_conf" "$@" \
		>> "$T/daemon.log" 2>&1 &
	DAEMON_PID=$!
	for _ in $(seq 100); do
		busctl --address="unix:path=$MEMOFFD_SOCKET" call org.memoff.Manager1 /org/memoff/Manager1 \
			org.memoff.Manager1 ListJobs > /dev/null 2>&1 && return 0
		sleep 0.1
	done
	return 1
}

memoffd_stop() {
	[ -n "$DAEMON_PID" ] || return 0
	kill "-${1:-TERM}" "$DAEMON_PID" 2> /dev/null
	wait "$DAEMON_PID" 2> /dev/null
	DAEMON_PID=
}
