#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Who may call what (doc/security.md), TAP: memoffd on a copy of a captured
# tree, its private socket and a private dbus-daemon with the shipped policy
# (conf/org.memoff.Manager1.conf). Every mutating path is called as an
# unprivileged user, on the socket and on the bus, and must be refused with
# nothing changed; the read-only ones must work; AllowedGroup= lets a member
# in on the socket only.
#
# Needs: busctl, dbus-daemon (for the bus half), setpriv, python3, root.
set -u
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}

. "$top_srcdir/tests/lib/daemon.sh"
daemon_requires
command -v setpriv >/dev/null || skip_all "setpriv (util-linux) is not installed"
command -v python3 >/dev/null || skip_all "python3 is not installed"
[ "$(id -u)" -eq 0 ] || skip_all "needs root (to call as another user)"
id nobody >/dev/null 2>&1 && getent group nogroup >/dev/null || skip_all "no user nobody / group nogroup"

daemon_scratch access
daemon_copy_tree "$T"
MEM=$T/sys/devices/system/memory
CONF=$T/memoffd.conf
printf '[Offline]\nAttemptTimeout=500ms\n' >"$CONF"

have_bus=false
command -v dbus-daemon >/dev/null && bus_start && have_bus=true
start_daemon() { MEMOFFD_ENV="DBUS_SYSTEM_BUS_ADDRESS=unix:path=$T/bus" memoffd_start "$T" "$CONF"; }
# as a user who is in group nogroup only as a supplementary group
as_member() { setpriv --reuid=nobody --regid=daemon --groups=nogroup -- "$@"; }
snapshot() { for f in "$MEM"/memory*/state; do printf '%s %s\n' "$f" "$(cat "$f")"; done; }
njobs() { busctl $PRIV call $DEST ListJobs 2>/dev/null | awk '{ print $2 }'; }

plan 30
if ! start_daemon; then
	not_ok "memoffd starts"
	sed 's/^/#   /' "$T/daemon.log"
	exit 0
fi
ok "memoffd starts on a copied tree"

# The socket: anyone may connect (the uid check guards mutations), nobody
# but root may replace it.
sock=$(stat -c '%U %a' "$T/run/control")
dir=$(stat -c '%U %a' "$T/run")
check "the control socket is root's, mode 666 ($sock)" test "$sock" = "root 666"
check "its directory is root's and not writable by others ($dir)" \
	sh -c "case '$dir' in 'root '*[0145][0145]) exit 0;; *) exit 1;; esac"

# A job root made, for Job1.Cancel.
jp=$(busctl $PRIV call $DEST Offline 'ssa{sv}' blocks 9 1 dry-run b true 2>/dev/null | sed -n 's/^o "\(.*\)"$/\1/p')
before=$(snapshot)
jobs_before=$(njobs)

D=org.memoff.Error.AccessDenied
expect_error $D "socket: Offline as nobody is refused" as_nobody busctl $PRIV call $DEST Offline 'ssa{sv}' blocks 9 0
expect_error $D "socket: Online as nobody is refused" as_nobody busctl $PRIV call $DEST Online 'ssa{sv}' blocks 5 0
expect_error $D "socket: Release as nobody is refused" as_nobody busctl $PRIV call $DEST Release 'sa{sv}' 128M 0
expect_error $D "socket: GetPins as nobody is refused (other processes' mappings)" \
	as_nobody busctl $PRIV call $DEST GetPins 'ssa{sv}' blocks 9 0
expect_error $D "socket: CancelJob as nobody is refused" as_nobody busctl $PRIV call $DEST CancelJob u 1
expect_error $D "socket: CancelJob of a job that does not exist, as nobody: refused, not 'no job' (no probing)" \
	as_nobody busctl $PRIV call $DEST CancelJob u 4000000000
expect_error $D "socket: ApplyHotplugPolicy as nobody is refused" \
	as_nobody busctl $PRIV call $DEST ApplyHotplugPolicy t 14
expect_error $D "socket: Reload as nobody is refused" as_nobody busctl $PRIV call $DEST Reload
if [ -n "$jp" ]; then
	expect_error $D "socket: Job1.Cancel as nobody is refused" \
		as_nobody busctl $PRIV call org.memoff.Manager1 "$jp" org.memoff.Job1 Cancel
else
	not_ok "socket: Job1.Cancel as nobody is refused (root could not make a job)"
fi
check "the refused calls changed no block" test "$(snapshot)" = "$before"
check "and made no job ($jobs_before before, $(njobs) after)" test "$(njobs)" = "$jobs_before"

check "socket: ListBlocks as nobody works" as_nobody busctl $PRIV call $DEST ListBlocks
check "socket: ListJobs and a job's properties as nobody work" \
	sh -c "setpriv --reuid=nobody --regid=nogroup --clear-groups -- busctl $PRIV call $DEST ListJobs &&
	       setpriv --reuid=nobody --regid=nogroup --clear-groups -- busctl $PRIV get-property \
	       org.memoff.Manager1 '$jp' org.memoff.Job1 State"
check "no property of the API is writable" \
	sh -c "! busctl $PRIV introspect org.memoff.Manager1 /org/memoff/Manager1 | grep -q writable &&
	       ! busctl $PRIV introspect org.memoff.Manager1 '$jp' | grep -q writable"

# The system bus: the policy refuses before memoffd sees the call.
B=org.freedesktop.DBus.Error.AccessDenied
if $have_bus && busctl $BUS status org.memoff.Manager1 >/dev/null 2>&1; then
	for call in "Offline ssa{sv} blocks 9 0" "Online ssa{sv} blocks 5 0" "Release sa{sv} 128M 0" \
		"GetPins ssa{sv} blocks 9 0" "CancelJob u 1" "ApplyHotplugPolicy t 14" "Reload"; do
		# shellcheck disable=SC2086
		expect_error $B "bus: ${call%% *} as nobody is refused by the policy" \
			as_nobody busctl $BUS call $DEST $call
	done
	check "bus: ListBlocks as nobody works" as_nobody busctl $BUS call $DEST ListBlocks
else
	for i in $(seq 8); do skip "no private dbus-daemon, or memoffd did not join it"; done
fi

# AllowedGroup=: members (supplementary groups count) may start jobs on the
# socket; the bus policy still refuses them unless the admin adds a drop-in.
printf '[Access]\nAllowedGroup=nogroup\n' >>"$CONF"
busctl $PRIV call $DEST Reload >/dev/null 2>&1
p=$(as_member busctl $PRIV call $DEST Offline 'ssa{sv}' blocks 9 1 dry-run b true 2>/dev/null)
check "AllowedGroup=nogroup: a member (supplementary group) may start a job on the socket" test -n "$p"
expect_error $D "AllowedGroup=nogroup: a non-member is still refused" \
	setpriv --reuid=daemon --regid=daemon --clear-groups -- busctl $PRIV call $DEST Offline 'ssa{sv}' blocks 9 0
if $have_bus && busctl $BUS status org.memoff.Manager1 >/dev/null 2>&1; then
	expect_error $B "AllowedGroup=nogroup: the bus policy still refuses a member" \
		as_member busctl $BUS call $DEST Offline 'ssa{sv}' blocks 9 0
else
	skip "no private dbus-daemon"
fi

# An unprivileged user holding every connection slot must not lock root out.
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3
setpriv --reuid=nobody --regid=nogroup --clear-groups -- "$PY" - "$T/run/control" 80 >"$T/hold.out" 2>&1 <<'EOF' &
import socket, sys, time
conns = []
for _ in range(int(sys.argv[2])):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        s.connect(sys.argv[1])
        conns.append(s)
    except OSError:
        break
print(len(conns), flush=True)
for s in conns:
    s.setblocking(False)
time.sleep(60)
EOF
HOLD_PID=$!
DAEMON_EXTRA_PIDS=$HOLD_PID
for _ in $(seq 50); do [ -s "$T/hold.out" ] && break; sleep 0.1; done
sleep 0.5
held=$(head -1 "$T/hold.out")
if [ "$held" -lt 65 ] 2>/dev/null || [ -z "$held" ]; then
	not_ok "nobody could hold 65 connections to test the limit ($(head -c 200 "$T/hold.out"))"
elif busctl $PRIV call $DEST ListJobs >/dev/null 2>&1; then
	ok "with $held idle connections held by nobody, root can still call"
else
	not_ok "with $held idle connections held by nobody, root can still call"
fi
kill "$HOLD_PID" 2>/dev/null
wait "$HOLD_PID" 2>/dev/null
DAEMON_EXTRA_PIDS=
sleep 0.5
check "after they are closed, calls work again" busctl $PRIV call $DEST ListJobs
