#!/bin/sh
# Fault injection under `memoffctl offline --direct` (TAP): a copy of a
# captured tree whose state files behave like sysfs (tests/fault/shim.so,
# MEMOFF_FAULT_SYSFS), and the kernel's answers to a write of "offline"
# injected: EBUSY, EINVAL, EPERM, ENOMEM, EINTR, EACCES, a write that spins
# until the attempt's timer fires, a block removed between planning and
# attempt. What a user may expect: the outcome named with its errno, retries
# where they can help and none where they cannot, exit 1 (or 0 when a retry
# made it), the block left as the kernel left it; never a crash.
set -u
srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
builddir=${top_builddir:-$(pwd)}
N=14

. "$srcdir/tests/lib/fault.sh"
fault_requires
"$ctl" offline --help >/dev/null 2>&1 || skip_all "memoffctl has no offline verb in this build"
plan $N
fault_scratch
FAULT_SYSFS='*/sys/devices/*' # the state files behave like sysfs

# run FAULT ARGS...: memoffctl offline --direct ARGS under the shim, on a fresh tree
run() {
	fault=$1
	shift
	fault_fresh
	fault_ctl "$fault" offline --direct --sysroot "$T" "$@"
	all=$(cat "$tmp/out" "$tmp/err")
}
st() { cat "$mem/memory$1/state" 2>/dev/null; }
says() { printf '%s\n' "$all" | grep -q -- "$1"; }
tap_on_fail() {
	echo "#   exit $rc, faults injected: $hit; states: 9=$(st 9) 10=$(st 10) 11=$(st 11)"
	printf '%s\n' "$all" | sed 's/^/#   /' | head -25
}

run "" -b 9
fault_sane && [ "$rc" -eq 0 ] && [ "$(st 9)" = offline ] && [ "$hit" -eq 0 ]
point $? "baseline: block 9 goes offline in the copied tree"

run 'write@*/memory9/state=EBUSY' -b 9 --deadline 3s
fault_sane && [ "$rc" -eq 1 ] && [ "$(st 9)" = online ] && says 'EBUSY' && [ "$hit" -ge 2 ]
point $? "EBUSY: retried with backoff until the deadline, named, exit 1, block online"

run 'write@*/memory9/state=EBUSY*2' -b 9 --deadline 20s
fault_sane && [ "$rc" -eq 0 ] && [ "$(st 9)" = offline ] && [ "$hit" -eq 2 ]
point $? "EBUSY twice, then the third attempt succeeds: exit 0"

# errors a retry cannot help: ERRNO:WHAT
for c in "EINVAL:EINVAL" "EPERM:EPERM (a notifier's veto)"; do
	e=${c%%:*}
	run "write@*/memory9/state=$e" -b 9 --deadline 3s
	fault_sane && [ "$rc" -eq 1 ] && [ "$(st 9)" = online ] && says "$e" && [ "$hit" -eq 1 ]
	point $? "${c#*:}: not retried, named, exit 1"
done

run 'write@*/memory9/state=ENOMEM' -b 9 --deadline 3s
fault_sane && [ "$rc" -eq 1 ] && [ "$(st 9)" = online ] && says 'ENOMEM'
point $? "ENOMEM: named, exit 1, block online"

run 'write@*/memory9/state=EINTR*1' -b 9 --deadline 10s
fault_sane && [ "$rc" -eq 0 ] && [ "$(st 9)" = offline ] && [ "$hit" -eq 1 ]
point $? "a write interrupted once (EINTR, no timer) is tried again: exit 0"

run 'write@*/memory9/state=hang' -b 9 --attempt-timeout 1s --deadline 3s
fault_sane && [ "$rc" -eq 1 ] && [ "$(st 9)" = online ] && says 'timed out' && [ "$hit" -ge 2 ]
point $? "a write that spins like offline_pages(): the attempt timer ends it, timed out, exit 1"

run 'openw@*/memory9/state=remove' -b 9 --deadline 3s
fault_sane && [ "$rc" -eq 1 ] && [ ! -e "$mem/memory9" ] && says 'vanished'
point $? "a block removed between planning and attempt: 'vanished', exit 1"

run 'write@*/memory*/state=EACCES' -b 9-11 --deadline 10s
fault_sane && [ "$rc" -eq 1 ] && [ "$hit" -eq 1 ] && says 'permission denied'
point $? "EACCES: systemic, stops after the first write instead of trying every block"

run 'write@*/memory11/state=EBUSY' -b 9-11 --deadline 3s
fault_sane && [ "$rc" -eq 64 ] && [ "$(st 9)" = offline ] && [ "$(st 10)" = offline ] && [ "$(st 11)" = online ]
point $? "one block of three busy: the other two go offline, exit 64 (partly done)"

run 'write@*/memory11/state=EBUSY' -b 9-11 --all-or-nothing --deadline 3s
fault_sane && [ "$rc" -eq 1 ] && [ "$(st 9)" != offline ] && [ "$(st 10)" != offline ] && says 'put back online'
point $? "--all-or-nothing with one block busy: the others are put back online, exit 1"

# The tree has three blocks offline (5, 6, 14) to begin with.
run "" 128M --dry-run
first=$(printf '%s\n' "$all" | awk '$1 ~ /^[0-9]+$/ { print $1; exit }')
run "write@*/memory$first/state=EBUSY" 128M --deadline 5s
fault_sane && [ "$rc" -eq 0 ] && [ -n "$first" ] && [ "$(st "$first")" = online ] &&
	[ "$(grep -lx offline "$mem"/memory*/state | wc -l)" -eq 4 ]
point $? "a SIZE whose first choice (block ${first:-?}) is busy is taken from another block"

run 'read@*/memory*/valid_zones=EIO;open@*/memory*/phys_index=ENOENT' 128M --deadline 5s
fault_sane && [ "$rc" -le 1 ]
point $? "unreadable optional attributes during a SIZE request: no crash (exit $rc)"
