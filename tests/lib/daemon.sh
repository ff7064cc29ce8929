# SPDX-License-Identifier: LGPL-2.1-or-later
# shellcheck shell=bash
#
# memoffd in the shell tests (sources tap.sh and sysfs-tree.sh): the daemon
# on a scratch tree, its private socket in $T/run,
# its state in $T/state, its log in $T/daemon.log; a private dbus-daemon
# with the shipped policy standing in for the system bus.
#
#   daemon_requires       skip_all unless busctl is there, memoffd and
#                         memoffctl are built and the host write guard is on
#   daemon_scratch NAME   T: a new scratch directory (mode 755: nobody must
#                         reach the sockets); at exit memoffd, the bus and
#                         $DAEMON_EXTRA_PIDS are killed, the kernel loop
#                         stopped and T removed. memoffd's socket will be
#                         $MEMOFFD_SOCKET, busctl's address option for it $PRIV
#   daemon_copy_tree DIR  DIR/sys: a copy of the captured tree $TREE
#                         (synthetic-gap-going-offline unless set), and a
#                         DIR/proc/meminfo of 16G with 14G available
#   bus_start [XML]       the private bus on $T/bus ($BUS: busctl's address
#                         option), XML added to its configuration; return 1
#                         if it never listens
#   memoffd_start ROOT CONF [ARG...]
#                         start memoffd on ROOT with CONF, $MEMOFFD_ENV
#                         (NAME=value words) in its environment, run through
#                         $MEMOFFD_PREFIX (e.g. prlimit ... --) when set;
#                         return 0 once it answers on its socket, 1 if it
#                         dies or never does
#   memoffd_stop [SIGNAL] stop it (default SIGTERM); return its exit status,
#                         124 if it is still running after 60 s (then it
#                         is killed with SIGKILL)
#   call METHOD ARGS...   busctl call on the Manager, on the private socket
#   jobprop PATH NAME     a property of the job at PATH
#   path_of               the object path in busctl's answer on stdin
#   wait_job PATH         until the job has finished (30 s): print its
#                         Result; "timeout" and return 1 if it never does
#   expect_error NAME WHAT COMMAND...
#                         ok when the busctl COMMAND fails with D-Bus error NAME
#   as_nobody COMMAND...  run COMMAND as user nobody, group nogroup (needs root
#                         and setpriv)
#   state N               memoryN's state in $T ("gone" when it vanished)

. "$top_srcdir/tests/lib/tap.sh"
. "$top_srcdir/tests/lib/sysfs-tree.sh"

MEMOFFD=$top_builddir/src/memoffd/memoffd
MEMOFFCTL=$top_builddir/src/memoffctl/memoffctl
TREE=${TREE:-$top_srcdir/tests/sysfs-trees/synthetic-gap-going-offline}
DEST="org.memoff.Manager1 /org/memoff/Manager1 org.memoff.Manager1"
MEMOFFD_ENV=${MEMOFFD_ENV:-}
MEMOFFD_PREFIX=
DAEMON_PID=
BUS_PID=
DAEMON_EXTRA_PIDS=

daemon_requires() {
	command -v busctl > /dev/null || skip_all "busctl (systemd) is not installed"
	[ -x "$MEMOFFD" ] || skip_all "memoffd was not built"
	[ -x "$MEMOFFCTL" ] || skip_all "memoffctl was not built"
	[ "${MEMOFF_FORBID_HOST_WRITES:-}" = 1 ] || skip_all "run through make check (the host write guard)"
}

daemon_cleanup() {
	# shellcheck disable=SC2086 # a list of pids
	[ -n "$DAEMON_EXTRA_PIDS" ] && kill $DAEMON_EXTRA_PIDS 2> /dev/null
	[ -n "$DAEMON_PID" ] && kill -9 "$DAEMON_PID" 2> /dev/null
	[ -n "$BUS_PID" ] && kill "$BUS_PID" 2> /dev/null
	command -v tree_kernel_stop > /dev/null && tree_kernel_stop
	wait 2> /dev/null
	rm -rf "$T"
}

daemon_scratch() {
	T=$(mktemp -d "/tmp/memoff-$1.XXXXXX") || exit 99
	chmod 755 "$T"
	MEMOFFD_SOCKET=$T/run/control
	PRIV="--address=unix:path=$MEMOFFD_SOCKET"
	trap daemon_cleanup EXIT
}

daemon_copy_tree() {
	cp -a "$TREE/sys" "$1/"
	mkdir -p "$1/proc"
	printf 'MemTotal:       16384000 kB\nMemFree:        12000000 kB\nMemAvailable:   14000000 kB\n' \
		> "$1/proc/meminfo"
}

bus_start() {
	BUS="--address=unix:path=$T/bus"
	cat > "$T/bus.conf" <<EOB
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-BUS Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:path=$T/bus</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/>
    <deny own="*"/>
    <deny send_type="method_call"/>
    <allow send_destination="org.freedesktop.DBus"/>
    <allow send_type="signal"/>
    <allow send_requested_reply="true" send_type="method_return"/>
    <allow send_requested_reply="true" send_type="error"/>
    <allow receive_type="method_call"/>
    <allow receive_type="method_return"/>
    <allow receive_type="error"/>
    <allow receive_type="signal"/>
  </policy>
  ${1:-}
  <include>$top_srcdir/conf/org.memoff.Manager1.conf</include>
</busconfig>
EOB
	dbus-daemon --config-file="$T/bus.conf" --nofork --nopidfile > "$T/bus.log" 2>&1 &
	BUS_PID=$!
	for _ in $(seq 50); do
		[ -S "$T/bus" ] && return 0
		sleep 0.1
	done
	return 1
}

memoffd_start() {
	daemon_root=$1 daemon_conf=$2
	shift 2
	# shellcheck disable=SC2086 # lists of words
	$MEMOFFD_PREFIX env $MEMOFFD_ENV "$MEMOFFD" --sysroot "$daemon_root" --runtime-dir "$T/run" --state-dir "$T/state" \
		-c "$daemon_conf" "$@" >> "$T/daemon.log" 2>&1 &
	DAEMON_PID=$!
	for _ in $(seq 100); do
		busctl $PRIV call $DEST ListJobs > /dev/null 2>&1 && return 0
		kill -0 "$DAEMON_PID" 2> /dev/null || return 1
		sleep 0.1
	done
	return 1
}

memoffd_stop() {
	[ -n "$DAEMON_PID" ] || return 0
	kill "-${1:-TERM}" "$DAEMON_PID" 2> /dev/null
	for _ in $(seq 600); do
		kill -0 "$DAEMON_PID" 2> /dev/null || break
		sleep 0.1
	done
	if kill -0 "$DAEMON_PID" 2> /dev/null; then
		# wedged: the test fails, and goes on (nor does its cleanup wait for it)
		kill -9 "$DAEMON_PID" 2> /dev/null
		wait "$DAEMON_PID" 2> /dev/null
		daemon_rc=124
	else
		wait "$DAEMON_PID" 2> /dev/null
		daemon_rc=$?
	fi
	DAEMON_PID=
	return $daemon_rc
}

# shellcheck disable=SC2086 # PRIV and DEST are lists of words
call() { busctl $PRIV call $DEST "$@"; }
jobprop() { busctl $PRIV get-property org.memoff.Manager1 "$1" org.memoff.Job1 "$2" 2> /dev/null; }
path_of() { sed -n 's/^o "\(.*\)"$/\1/p'; }

wait_job() {
	for _ in $(seq 300); do
		if [ "$(jobprop "$1" State)" = 's "finished"' ]; then
			jobprop "$1" Result
			return 0
		fi
		sleep 0.1
	done
	echo "timeout"
	return 1
}

expect_error() {
	daemon_name=$1 daemon_what=$2
	shift 2
	daemon_out=$(SYSTEMD_LOG_LEVEL=debug "$@" 2>&1 < /dev/null)
	if echo "$daemon_out" | grep -q "error-name=$daemon_name"; then
		ok "$daemon_what ($(echo "$daemon_out" | sed -n 's/^Call failed: //p' | head -1))"
	else
		not_ok "$daemon_what"
		echo "$daemon_out" | grep -E "error-name|Call failed" | sed 's/^/# /'
	fi
}

as_nobody() { setpriv --reuid=nobody --regid=nogroup --clear-groups -- "$@"; }
state() { tree_state "$T" "$1"; }
