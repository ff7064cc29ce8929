#!/bin/sh
# Fault injection under `memoffctl list` (TAP): a copy of a captured sysfs
# tree, then attributes that vanish mid-read, unreadable files, garbage
# values and blocks removed during the scan, some by changing the tree and
# some through tests/fault/shim.so (see shim.c). What a user may expect:
# a clear error and exit 1, or the output without the block that went away;
# never a crash (exit >= 128) and never a sanitizer report.
set -u
srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
builddir=${top_builddir:-$(pwd)}

. "$srcdir/tests/lib/fault.sh"
fault_requires
plan 18
fault_scratch

# run [FAULT]: memoffctl list -a -o BLOCK,STATE,ZONES under the shim with
# MEMOFF_FAULT=FAULT; sets rc, out, err, hit (the faults that fired).
run() {
	fault_ctl "${1:-}" list -a -o BLOCK,STATE,ZONES --sysroot "$T"
	out=$(cat "$tmp/out")
	err=$(cat "$tmp/err")
}
tap_on_fail() {
	echo "#   exit $rc, faults injected: $hit"
	sed 's/^/#   out: /' "$tmp/out" | head -20
	sed 's/^/#   err: /' "$tmp/err" | head -20
}
has_block() { printf '%s\n' "$out" | awk -v b="$1" '$1 == b { f = 1 } END { exit !f }'; }
rows() { printf '%s\n' "$out" | awk '$1 ~ /^[0-9]+$/' | wc -l; }

fault_fresh
run ""
[ "$rc" -eq 0 ] && [ "$(rows)" -eq 13 ] && [ "$hit" -eq 0 ]
point $? "baseline: all 13 blocks of the copied tree, exit 0"

run 'read@*/memory5/state=ENODEV'
fault_sane && [ "$rc" -eq 0 ] && ! has_block 5 && [ "$(rows)" -eq 12 ] && [ "$hit" -ge 1 ]
point $? "a block whose state vanishes mid-read (ENODEV) is left out, the rest listed"

run 'read@*/memory6/state=remove'
fault_sane && [ "$rc" -eq 0 ] && ! has_block 6 && has_block 5 && [ ! -e "$mem/memory6" ]
point $? "a block removed during the scan is left out"
fault_fresh

run 'open@*/memory9/valid_zones=EACCES'
fault_sane && [ "$rc" -eq 0 ] && has_block 9 && [ "$(rows)" -eq 13 ] && [ "$hit" -ge 1 ]
point $? "an unreadable optional attribute (valid_zones, EACCES) leaves the block listed"

run 'read@*/memory9/removable=EIO'
fault_sane && [ "$rc" -eq 0 ] && has_block 9 && [ "$hit" -ge 1 ]
point $? "an optional attribute failing with EIO leaves the block listed"

run 'read@*/memory5/state=EIO'
fault_sane && [ "$rc" -eq 64 ] && printf '%s' "$err" | grep -q 'memory/memory5/state: Input/output error' &&
	! has_block 5 && [ "$(rows)" -eq 12 ]
point $? "a state read failing with EIO: block 5 left out with a warning naming its state file, the rest listed, exit 64"

run 'open@*/devices/system/memory=EACCES'
fault_sane && [ "$rc" -eq 1 ] && printf '%s' "$err" | grep -q 'devices/system/memory: Permission denied'
point $? "an unreadable memory directory: exit 1 with the directory and the reason"

run 'read@*/block_size_bytes=ENOMEM'
fault_sane && [ "$rc" -eq 1 ] && printf '%s' "$err" | grep -q 'Cannot allocate memory'
point $? "block_size_bytes failing with ENOMEM: exit 1 with the reason"

run 'read@*/memory1*/state=EINTR*1'
fault_sane && [ "$rc" -eq 0 ] && [ "$(rows)" -eq 13 ] && [ "$hit" -eq 1 ]
point $? "one read interrupted (EINTR) is retried: every block listed"

# Faults in the tree itself.
fault_fresh
rm "$mem/memory5/state" && mkdir "$mem/memory5/state"
run ""
fault_sane && [ "$rc" -eq 64 ] && printf '%s' "$err" | grep -q "^memoffctl: warning: $mem/memory5/state: Is a directory" &&
	! has_block 5 && [ "$(rows)" -eq 12 ]
point $? "a directory where the state file belongs: that file and the reason named, the other 12 listed, exit 64"

fault_fresh
printf 'bogus\n' >"$mem/memory6/state"
run ""
fault_sane && [ "$rc" -eq 64 ] && printf '%s' "$err" | grep -q "^memoffctl: warning: $mem/memory6/state: invalid value \"bogus\"" &&
	! has_block 6 && [ "$(rows)" -eq 12 ]
point $? "a garbage state: the block left out, its file and value named, the rest listed, exit 64"

fault_fresh
mkdir "$mem/memory36028797018963968" && printf 'online\n' >"$mem/memory36028797018963968/state"
run ""
fault_sane && [ "$rc" -eq 64 ] && ! has_block 36028797018963968 && [ "$(rows)" -eq 13 ] &&
	printf '%s' "$err" | grep -q "memory36028797018963968: its start (index × block size) does not fit in 64 bits"
point $? "memoryN whose start (N × 128M) overflows 64 bits: refused by name, not wrapped onto block 0"

[ -z "$("$ctl" list -a -r -n -o RANGE --sysroot "$T" 2>/dev/null | sort | uniq -d)" ]
point $? "... and no two blocks share a range (none wrapped onto block 0's)"

fault_fresh
printf '\0\0\0' >"$mem/memory9/valid_zones"
printf 'x\n' >"$mem/memory10/phys_index"
printf '7\n' >"$mem/memory11/removable"
run ""
fault_sane && [ "$rc" -eq 0 ] && [ "$(rows)" -eq 13 ]
point $? "garbage in optional attributes (NUL bytes, bad hex, removable 7) is tolerated"

fault_fresh
ln -sf nowhere "$mem/memory9/firmware_node"
rm -f "$mem/memory9/node"*
ln -s loop "$mem/memory10/loop" && ln -sf loop "$mem/memory10/firmware_node" 2>/dev/null
run ""
fault_sane && [ "$rc" -eq 0 ] && has_block 9 && has_block 10
point $? "dangling and looping links (firmware_node, no nodeN) are tolerated"

fault_fresh
printf 'zz\n' >"$mem/block_size_bytes"
run ""
fault_sane && [ "$rc" -eq 1 ] && [ -n "$err" ] && [ -z "$out" ]
point $? "a garbage block_size_bytes: exit 1 with an error"

fault_fresh
rm "$mem/block_size_bytes"
run ""
fault_sane && [ "$rc" -eq 1 ] && [ -n "$err" ]
point $? "no block_size_bytes: exit 1 with an error"

fault_fresh
for d in "$mem"/memory*; do rm -rf "$d"; done
run ""
fault_sane && [ "$rc" -le 1 ]
point $? "a memory directory without any block: no crash (exit $rc)"
