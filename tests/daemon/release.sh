#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# memoffd's Release method against a fake sysfs tree with two ACPI memory
# devices (writes go to the tree, never to the host: make check exports
# MEMOFF_FORBID_HOST_WRITES=1), on its private socket. A background loop
# plays the kernel's hot-remove worker: when a device's eject file reads 1 it
# removes the device's blocks. Bad arguments, a dry run, a release through
# busctl and one through memoffctl, a size nothing can make.
#
# Needs: busctl (systemd).
set -u

top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}

. "$top_srcdir/tests/lib/daemon.sh"

daemon_requires
daemon_scratch release

# 128M blocks; 0-7 boot memory; 32-35 PNP0C80:00 and 36-39 PNP0C80:01, online Movable.
tree_dimm_machine "$T"
MEM=$T/sys/devices/system/memory
CONF=$T/memoffd.conf
printf '[Offline]\nAttemptTimeout=500ms\nBackoffInitial=200ms\nBackoffCap=500ms\n' > "$CONF"

tree_kernel_start "$T"

gone() { for i; do [ -e "$MEM/memory$i" ] && return 1; done; return 0; }
online() { for i; do [ "$(cat "$MEM/memory$i/state" 2>/dev/null)" = online ] || return 1; done; return 0; }

plan 21

memoffd_start "$T" "$CONF" -v
point $? "memoffd starts and answers on the private socket" "$T/daemon.log"

# ---- bad arguments ----
expect_error org.memoff.Error.InvalidArgument "Release of a malformed size is refused" call Release 'sa{sv}' 5X 0
expect_error org.memoff.Error.InvalidArgument "Release of a size that is not whole blocks is refused" call Release 'sa{sv}' 100M 0
expect_error org.memoff.Error.InvalidArgument "Release takes no zone" call Release 'sa{sv}' 512M 1 zone s Movable
expect_error org.memoff.Error.InvalidArgument "Release takes no all-or-nothing" call Release 'sa{sv}' 512M 1 all-or-nothing b true
expect_error org.memoff.Error.InvalidArgument "eject-timeout is for Release only" call Offline 'ssa{sv}' blocks 32 1 eject-timeout s 5s

# ---- a size the devices cannot make ----
p=$(call Release 'sa{sv}' 2G 0 | path_of)
check "Release 2G returns a job ($p)" test -n "$p"
check "... which fails" test "$(wait_job "$p")" = 's "failed"'
check "... saying why" grep -q "cannot release 2G as whole devices: the 2 eligible of 2 hot-pluggable devices hold 1G" \
	<<<"$(jobprop "$p" Message)"

# ---- dry run ----
p=$(call Release 'sa{sv}' 512M 1 dry-run b true | path_of)
check "a dry run finishes done" test "$(wait_job "$p")" = 's "done"'
check "... names the device it would release" \
	test "$(jobprop "$p" Message)" = 's "dry run: would release 512M of 512M (PNP0C80:01)"'
check "... and changes nothing" online 32 33 34 35 36 37 38 39

# ---- a release through busctl ----
p=$(call Release 'sa{sv}' 512M 1 deadline s 1min | path_of)
check "Release 512M finishes done" test "$(wait_job "$p")" = 's "done"'
check "... its Request and Kind" test "$(jobprop "$p" Request) $(jobprop "$p" Kind)" = 's "release 512M deadline=1min" s "release"'
released01() { gone 36 37 38 39 && online 32 33 34 35; }
check "... PNP0C80:01's blocks are gone, PNP0C80:00's online" released01
check "... each of its blocks reported released" \
	test "$(jobprop "$p" Results | grep -o '"released" 1 [0-9]* "PNP0C80:01 released (offline, ejected)"' | wc -l)" = 4

# ---- through memoffctl ----
out=$(MEMOFF_SOCKET=$T/run/control "$MEMOFFCTL" --sysroot "$T" release 512M 2>&1)
rc=$?
check "memoffctl release 512M through the daemon exits 0" test $rc = 0
check "... memoffd ran it as a job" grep -q "^memoffctl: memoffd job [0-9]*$" <<<"$out"
check "... and reports PNP0C80:00 released, as --direct would" grep -q "^PNP0C80:00 .* released " <<<"$out"
check "... with the summary --direct prints" grep -q "^Released 512M of 512M (1 device) in " <<<"$out"
out=$(MEMOFF_SOCKET=$T/run/control "$MEMOFFCTL" --sysroot "$T" release 128M 2>&1)
rc=$?
nothing_left() { [ $rc = 1 ] && grep -q 'no hot-pluggable memory device' <<<"$out"; }
check "with no device left: exit 1, saying so" nothing_left
