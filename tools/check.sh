#!/bin/sh
# Build memoff out of tree (in ./build) and run the whole test suite:
# unit tests, captured sysfs trees, the live read-only lsmem comparison and
# the real-kernel QEMU suite. Ends with one line "N passed, N failed, N skipped".
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1
[ -x configure ] || ./autogen.sh >/dev/null 2>&1 || { echo "autogen.sh failed" >&2; exit 1; }
mkdir -p build && cd build || exit 1
if [ ! -f Makefile ]; then
	../configure ${MEMOFF_CONFIGURE_FLAGS:-} >configure.out 2>&1 || { cat configure.out; exit 1; }
fi
jobs=$(nproc 2>/dev/null || echo 2)
make -j"$jobs" >make.out 2>&1 || { cat make.out; echo "0 passed, 1 failed"; exit 1; }
{ make -j"$jobs" check 2>&1; echo $? >check.rc; } | tee check.out
rc=$(cat check.rc)
sum() { grep -E "^# $1: " check.out | awk '{ s += $3 } END { print s + 0 }'; }
pass=$(sum PASS); fail=$(( $(sum FAIL) + $(sum ERROR) + $(sum XPASS) )); skip=$(sum SKIP)
[ "$pass" -gt 0 ] || fail=$((fail + 1))
echo "$pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ] && [ "$rc" -eq 0 ]
