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

. "$top_srcdir/tests/lib/daemon.sh"

daemon_requires
daemon_scratch target

# 128M blocks: 0-7 boot memory; 32-35 PNP0C80:00 and 36-39 PNP0C80:01, online Movable.
tree_dimm_machine "$T"
MEM=$T/sys/devices/system/memory
ACPI=$T/sys/bus/acpi/devices
printf '[Offline]\nAttemptTimeout=500ms\nAttemptsPerBlock=1\nBackoffInitial=200ms\nBackoffCap=500ms\n' \
	> "$T/memoffd.conf"
tree_kernel_start "$T"

export MEMOFF_SOCKET=$T/run/control
start_daemon() { memoffd_start "$T" "$T/memoffd.conf" -v --no-system-bus; }
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

memoffd_stop
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
memoffd_stop

plan_done
