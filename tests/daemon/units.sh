#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# The generated units and rules: systemd-analyze verify accepts the service,
# the D-Bus policy is well-formed XML, and the udev rule names the installed
# memoffctl. Skips what the machine has no tool for, saying why.
set -u
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
. "$top_srcdir/tests/lib/tap.sh"

unit=$top_builddir/units/memoffd.service
T=$(mktemp -d /tmp/memoff-units.XXXXXX)
trap 'rm -rf "$T"' EXIT

if [ ! -f "$unit" ]; then
	not_ok "units/memoffd.service was generated"
elif ! command -v systemd-analyze >/dev/null; then
	skip "systemd-analyze verify: systemd-analyze is not installed (package systemd)"
else
	# verify wants the ExecStart binary to exist: point it at the build.
	sed "s|^ExecStart=.*|ExecStart=$top_builddir/src/memoffd/memoffd|" "$unit" > "$T/memoffd.service"
	if out=$(SYSTEMD_LOG_LEVEL=notice systemd-analyze verify --man=no "$T/memoffd.service" 2>&1) &&
	   ! printf '%s\n' "$out" | grep -v "Failed to open /dev/tty\|No such file or directory" | grep -q "memoffd.service"; then
		ok "systemd-analyze verify accepts memoffd.service"
	else
		not_ok "systemd-analyze verify accepts memoffd.service"
		printf '%s\n' "$out" | sed 's/^/# /'
	fi
fi
# ProtectKernelTunables= makes /sys read-only: the unit must open the memory
# blocks, the ACPI device tree and the ACPI memory hotplug knob
# ([Cloud] HandleEjectRequests=) again (tests/vm/system writes the first two there).
if ! grep -q '^ProtectKernelTunables=yes' "$unit" 2>/dev/null ||
   grep -q '^ReadWritePaths=/sys/devices/system/memory -/sys/devices/LNXSYSTM:00 -/sys/firmware/acpi/hotplug/memory$' "$unit"; then
	ok "memoffd.service can write memory block states and eject files (ReadWritePaths= under ProtectKernelTunables=)"
else
	not_ok "memoffd.service can write memory block states and eject files (ReadWritePaths= under ProtectKernelTunables=)"
fi
if grep -q "^ExecStart=/.*/memoffd$" "$unit" 2>/dev/null && grep -q "RUN+=\"/.*/memoffctl hotplug %k\"" "$top_builddir/units/60-memoff.rules"; then
	ok "the unit and the rule name absolute installed paths"
else
	not_ok "the unit and the rule name absolute installed paths"
fi
if command -v python3 >/dev/null; then
	if python3 -c 'import sys, xml.dom.minidom; xml.dom.minidom.parse(sys.argv[1])' "$top_srcdir/conf/org.memoff.Manager1.conf"; then
		ok "the D-Bus policy is well-formed XML"
	else
		not_ok "the D-Bus policy is well-formed XML"
	fi
else
	skip "python3 is not installed"
fi
# The man pages document every option of --help and every config key.
memoffd=$top_builddir/src/memoffd/memoffd
if [ -x "$memoffd" ]; then
	missing=
	for opt in $("$memoffd" --help | grep -o -- '--[a-z][a-z-]*' | sort -u); do
		man_opt=$(printf '%s' "$opt" | sed 's/-/\\\\-/g')
		grep -q -- "$man_opt" "$top_srcdir/doc/memoffd.8" || missing="$missing $opt"
	done
	if [ -z "$missing" ]; then ok "memoffd(8) documents every option of --help"
	else not_ok "memoffd(8) documents every option of --help (missing:$missing)"; fi
else
	not_ok "memoffd was built"
fi
missing=
for key in $(sed -n 's/^#\([A-Z][A-Za-z]*\)=.*/\1/p' "$top_srcdir/conf/memoffd.conf"); do
	grep -q "^\.BI $key=" "$top_srcdir/doc/memoffd.conf.5" || missing="$missing $key"
done
if [ -z "$missing" ]; then ok "memoffd.conf(5) describes every key of conf/memoffd.conf"
else not_ok "memoffd.conf(5) describes every key of conf/memoffd.conf (missing:$missing)"; fi
plan_done
