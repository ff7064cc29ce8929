# SPDX-License-Identifier: LGPL-2.1-or-later
# shellcheck shell=sh
#
# memoffctl under the fault shim (tests/fault/shim.so; MEMOFF_FAULT's syntax
# is in shim.c), for tests/fault/*.sh. Sources tap.sh.
#
#   fault_requires            skip_all unless memoffctl and the shim are built
#   fault_scratch             tmp: a scratch directory removed at exit;
#                             T=$tmp/root, mem its memory blocks
#   fault_fresh               T: a new copy of the captured tree, with a
#                             /proc/meminfo of 16G (14G available)
#   fault_ctl FAULT ARGS...   memoffctl ARGS under the shim, MEMOFF_FAULT=FAULT
#                             (and $FAULT_SYSFS as MEMOFF_FAULT_SYSFS when
#                             set): sets rc and hit (how many faults fired);
#                             its output in $tmp/out and $tmp/err
#   fault_sane                no crash (exit < 128) and no sanitizer report

. "$srcdir/tests/lib/tap.sh"

ctl=$builddir/src/memoffctl/memoffctl
shim=$builddir/tests/fault/shim.so
tree=$srcdir/tests/sysfs-trees/synthetic-gap-going-offline

fault_requires() {
	[ -x "$ctl" ] && [ -f "$shim" ] || skip_all "memoffctl or tests/fault/shim.so not built"
}

fault_scratch() {
	tmp=$(mktemp -d) || exit 1
	trap 'rm -rf "$tmp"' EXIT
	T=$tmp/root
	mem=$T/sys/devices/system/memory
}

fault_fresh() {
	rm -rf "$T" && mkdir -p "$T/proc" && cp -a "$tree/sys" "$T/"
	printf 'MemTotal: 16384000 kB\nMemFree: 12000000 kB\nMemAvailable: 14000000 kB\n' > "$T/proc/meminfo"
}

fault_ctl() {
	fault_spec=$1
	shift
	: > "$tmp/fault.log"
	env ${FAULT_SYSFS:+"MEMOFF_FAULT_SYSFS=$FAULT_SYSFS"} LD_PRELOAD="$shim" MEMOFF_FAULT="$fault_spec" \
		MEMOFF_FAULT_LOG="$tmp/fault.log" "$ctl" "$@" > "$tmp/out" 2> "$tmp/err"
	rc=$?
	hit=$(wc -l < "$tmp/fault.log")
}

fault_sane() { [ "$rc" -lt 128 ] && ! cat "$tmp/out" "$tmp/err" | grep -qE 'Sanitizer|runtime error'; }
