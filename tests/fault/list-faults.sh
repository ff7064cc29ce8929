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
ctl=$builddir/src/memoffctl/memoffctl
shim=$builddir/tests/fault/shim.so
tree=$srcdir/tests/sysfs-trees/synthetic-gap-going-offline

. "$srcdir/tests/lib/tap.sh"
if [ ! -x "$ctl" ] || [ ! -f "$shim" ]; then skip_all "memoffctl or tests/fault/shim.so not built"; fi
plan 16
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
T=$tmp/root
mem=$T/sys/devices/system/memory

fresh() { rm -rf "$T" && mkdir -p "$T" && cp -a "$tree/sys" "$T/"; }
# run [FAULT]: memoffctl list -a -o BLOCK,STATE,ZONES under the shim with
# MEMOFF_FAULT=FAULT; sets rc, out, err, hit (the faults that fired).
run() {
	rm -f "$tmp/fault.log" && : >"$tmp/fault.log"
	LD_PRELOAD=$shim MEMOFF_FAULT=${1:-} MEMOFF_FAULT_LOG=$tmp/fault.log \
		"$ctl" list -a -o BLOCK,STATE,ZONES --sysroot "$T" >"$tmp/out" 2>"$tmp/err"
	rc=$?
	out=$(cat "$tmp/out")
	err=$(cat "$tmp/err")
	hit=$(wc -l <"$tmp/fault.log")
}
tap_on_fail() {
	echo "#   exit $rc, faults injected: $hit"
	sed 's/^/#   out: /' "$tmp/out" | head -20
	sed 's/^/#   err: /' "$tmp/err" | head -20
}
sane() { [ "$rc" -lt 128 ] && ! grep -qE 'Sanitizer|runtime error' "$tmp/err"; }
has_block() { printf '%s\n' "$out" | awk -v b="$1" '$1 == b { f = 1 } END { exit !f }'; }
rows() { printf '%s\n' "$out" | awk '$1 ~ /^[0-9]+$/' | wc -l; }

fresh
run ""
[ "$rc" -eq 0 ] && [ "$(rows)" -eq 13 ] && [ "$hit" -eq 0 ]
point $? "baseline: all 13 blocks of the copied tree, exit 0"

run 'read@*/memory5/state=ENODEV'
sane && [ "$rc" -eq 0 ] && ! has_block 5 && [ "$(rows)" -eq 12 ] && [ "$hit" -ge 1 ]
point $? "a block whose state vanishes mid-read (ENODEV) is left out, the rest listed"

run 'read@*/memory6/state=remove'
sane && [ "$rc" -eq 0 ] && ! has_block 6 && has_block 5 && [ ! -e "$mem/memory6" ]
point $? "a block removed during the scan is left out"
fresh

run 'open@*/memory9/valid_zones=EACCES'
sane && [ "$rc" -eq 0 ] && has_block 9 && [ "$(rows)" -eq 13 ] && [ "$hit" -ge 1 ]
point $? "an unreadable optional attribute (valid_zones, EACCES) leaves the block listed"

run 'read@*/memory9/removable=EIO'
sane && [ "$rc" -eq 0 ] && has_block 9 && [ "$hit" -ge 1 ]
point $? "an optional attribute failing with EIO leaves the block listed"

run 'read@*/memory5/state=EIO'
sane && [ "$rc" -eq 1 ] && printf '%s' "$err" | grep -q 'Input/output error' && [ -z "$out" ]
point $? "a state read failing with EIO: exit 1, the error named, no partial table"

run 'open@*/devices/system/memory=EACCES'
sane && [ "$rc" -eq 1 ] && printf '%s' "$err" | grep -q 'devices/system/memory: Permission denied'
point $? "an unreadable memory directory: exit 1 with the directory and the reason"

run 'read@*/block_size_bytes=ENOMEM'
sane && [ "$rc" -eq 1 ] && printf '%s' "$err" | grep -q 'Cannot allocate memory'
point $? "block_size_bytes failing with ENOMEM: exit 1 with the reason"

run 'read@*/memory1*/state=EINTR*1'
sane && [ "$rc" -eq 0 ] && [ "$(rows)" -eq 13 ] && [ "$hit" -eq 1 ]
point $? "one read interrupted (EINTR) is retried: every block listed"

# Faults in the tree itself.
fresh
rm "$mem/memory5/state" && mkdir "$mem/memory5/state"
run ""
sane && [ "$rc" -eq 1 ] && printf '%s' "$err" | grep -q 'Is a directory'
point $? "a directory where the state file belongs: exit 1 with the reason"

fresh
printf 'bogus\n' >"$mem/memory6/state"
run ""
sane && [ "$rc" -eq 0 ] && printf '%s\n' "$out" | awk '$1 == 6 && $2 == "?" { f = 1 } END { exit !f }'
point $? "a garbage state is shown as unknown (?), not guessed"

fresh
printf '\0\0\0' >"$mem/memory9/valid_zones"
printf 'x\n' >"$mem/memory10/phys_index"
printf '7\n' >"$mem/memory11/removable"
run ""
sane && [ "$rc" -eq 0 ] && [ "$(rows)" -eq 13 ]
point $? "garbage in optional attributes (NUL bytes, bad hex, removable 7) is tolerated"

fresh
ln -sf nowhere "$mem/memory9/firmware_node"
rm -f "$mem/memory9/node"*
ln -s loop "$mem/memory10/loop" && ln -sf loop "$mem/memory10/firmware_node" 2>/dev/null
run ""
sane && [ "$rc" -eq 0 ] && has_block 9 && has_block 10
point $? "dangling and looping links (firmware_node, no nodeN) are tolerated"

fresh
printf 'zz\n' >"$mem/block_size_bytes"
run ""
sane && [ "$rc" -eq 1 ] && [ -n "$err" ] && [ -z "$out" ]
point $? "a garbage block_size_bytes: exit 1 with an error"

fresh
rm "$mem/block_size_bytes"
run ""
sane && [ "$rc" -eq 1 ] && [ -n "$err" ]
point $? "no block_size_bytes: exit 1 with an error"

fresh
for d in "$mem"/memory*; do rm -rf "$d"; done
run ""
sane && [ "$rc" -le 1 ]
point $? "a memory directory without any block: no crash (exit $rc)"
