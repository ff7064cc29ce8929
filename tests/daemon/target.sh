#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# The release target through memoffd and memoffctl target, on a fake tree
# with two ACPI memory devices of 512M (a background loop plays the kernel's
# hot-remove worker): a bad size, a target reached with --wait -J, the
# target kept across a restart, a target that cannot be reached given up at
# its deadline, clearing it, an unknown option. Writes go to the tree only
# (make check exports MEMOFF_FORBID_HOST_WRITES=1).
#
# Needs: busctl (systemd).
set -u

top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
MEMOFFD=$top_builddir/src/memoffd/memoffd
MEMOFFCTL=$top_builddir/src/memoffctl/memoffctl

. "$top_srcdir/tests/lib/tap.sh"

command -v busctl >/dev/null || skip_all "busctl (systemd) is not installed"
[ -x "$MEMOFFD" ] && [ -x "$MEMOFFCTL" ] || skip_all "memoffd or memoffctl was not built"
[ "${MEMOFF_FORBID_HOST_WRITES:-}" = 1 ] || skip_all "run through make check (the host write guard)"

T=$(mktemp -d /tmp/memoffd-target.XXXXXX)
DAEMON_PID=
KERNEL_PID=
cleanup() {
	[ -n "$DAEMON_PID" ] && kill -9 "$DAEMON_PID" 2>/dev/null
	[ -n "$KERNEL_PID" ] && kill "$KERNEL_PID" 2>/dev/null
	wait 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT

# 128M blocks: 0-3 boot memory; 32-35 PNP0C80:00 and 36-39 PNP0C80:01, online Movable.
MEM=$T/sys/devices/system/memory
ACPI=$T/sys/bus/acpi/devices
mkdir -p "$MEM" "$T/proc" "$ACPI/PNP0C80:00" "$ACPI/PNP0C80:01"
echo 8000000 > "$MEM/block_size_bytes"
for i in 0 1 2 3 32 33 34 35 36 37 38 39; do
	mkdir -p "$MEM/memory$i"
	echo online > "$MEM/memory$i/state"
	if [ "$i" -lt 32 ]; then echo Normal > "$MEM/memory$i/valid_zones"; continue; fi
	echo Movable > "$MEM/memory$i/valid_zones"
	ln -s "../../../LNXSYSTM:00/PNP0C80:0$(( (i - 32) / 4 ))" "$MEM/memory$i/firmware_node"
done
: > "$ACPI/PNP0C80:00/eject"
: > "$ACPI/PNP0C80:01/eject"
printf 'MemTotal:       16384000 kB\nMemAvailable:   14000000 kB\n' > "$T/proc/meminfo"
printf '[Offline]\nAttemptTimeout=500ms\nAttemptsPerBlock=1\nBackoffInitial=200ms\nBackoffCap=500ms\n' \
	> "$T/memoffd.conf"
(
	while :; do
		for d in 0 1; do
			e=$ACPI/PNP0C80:0$d/eject
			[ "$(cat "$e" 2>/dev/null)" = 1 ] || continue
			for i in 0 1 2 3; do rm -rf "$MEM/memory$((32 + 4 * d + i))"; done
			: > "$e"
		done
		sleep 0.05
	done
) &
KERNEL_PID=$!

export MEMOFF_SOCKET=$T/run/control
start_daemon() {
	"$MEMOFFD" --sysroot "$T" --runtime-dir "$T/run" --state-dir "$T/state" -c "$T/memoffd.conf" -v \
		--no-system-bus >> "$T/daemon.log" 2>&1 &
	DAEMON_PID=$!
	for _ in $(seq 100); do "$MEMOFFCTL" status >/dev/null 2>&1 && return 0; sleep 0.1; done
	return 1
}
ctl() { timeout 60 "$MEMOFFCTL" --sysroot "$T" target "$@" > "$T/out" 2> "$T/err"; rc=$?; }
field() { python3 -c "import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])" "$T/out" "$1" 2>/dev/null; }

check "memoffd starts" start_daemon

ctl 100M
check "target 100M (not whole blocks) is a usage error (exit 2)" test "$rc" = 2
check "... naming the block size" grep -q "not a multiple of the memory block size (128M)" "$T/err"

ctl 512M --wait -J
check "target 512M --wait -J exits 0" test "$rc" = 0
check "... state reached, 512M released" \
	test "$(field state) $(field target) $(field released)" = "reached 536870912 536870912"
check "... as one device, named in the JSON" grep -q '"device": "PNP0C80:0[01]"' "$T/out"
check "... whose blocks are gone (one device ejected, the other online)" \
	test "$(ls -d "$MEM"/memory3[2-9] 2>/dev/null | wc -l)" = 4
check "memoffd queued it as a target job" grep -q "Job [0-9]* (release 512M target) done" "$T/daemon.log"

kill "$DAEMON_PID"; wait "$DAEMON_PID" 2>/dev/null
check "after a restart ..." start_daemon
ctl -J
check "... the target is still there, reached, 512M released" \
	test "$(field state) $(field released)" = "reached 536870912"

# the other device cannot go (its eject file is gone): given up at the deadline
rm -f "$ACPI/PNP0C80:00/eject" "$ACPI/PNP0C80:01/eject"
ctl 512M --deadline 2s --wait -J
check "a target nothing can meet, --deadline 2s --wait: exit 1" test "$rc" = 1
check "... state given-up, nothing released" test "$(field state) $(field released)" = "given-up 0"
check "... and memoffd logs it" grep -q "Release target given up at its deadline: 0B released of 512M" "$T/daemon.log"

ctl 0
ctl -J
check "target 0 clears it (state none)" test "$(field state) $(field target)" = "none 0"
out=$(busctl --address="unix:path=$T/run/control" call org.memoff.Manager1 /org/memoff/Manager1 \
	org.memoff.Manager1 SetReleaseTarget 'ta{sv}' 0 1 colour s blue 2>&1)
check "SetReleaseTarget refuses an unknown option" grep -q "unknown option 'colour'" <<<"$out"
kill "$DAEMON_PID"; wait "$DAEMON_PID" 2>/dev/null; DAEMON_PID=

plan_done
