#!/bin/sh
# TAP: memoffctl release on fake sysfs trees with two ACPI memory devices.
# A background loop plays the kernel's hot-remove worker: when a device's
# eject file reads 1 it removes the device's blocks. Usage errors, a size the
# devices cannot make, dry runs, a real release, a device whose block will
# not go offline (the fault shim), an eject the "kernel" never completes,
# JSON, --help against memoffctl(8), and a read-only dry run on the live
# machine. Never writes outside the trees it makes.
set -u
srcdir=${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}
builddir=${top_builddir:-$srcdir}
memoffctl=${MEMOFFCTL:-$builddir/src/memoffctl/memoffctl}
shim=$builddir/tests/fault/shim.so

. "$srcdir/tests/lib/tap.sh"
. "$srcdir/tests/lib/sysfs-tree.sh"
. "$srcdir/tests/lib/cli.sh"
cli_scratch release-cli

# A tree: 128M blocks; 0-7 boot memory (Normal, no device); 32-35 belong to
# PNP0C80:00 and 36-39 to PNP0C80:01 (firmware_node links; :00 also lists
# its blocks as physical_node links), all online Movable; 4G RAM, 3G available.
mktree() {
	tree_dimm_machine "$1"
	tree_device "$1" PNP0C80:00 32 33 34 35
	tree_meminfo "$1" 4194304 2097152 3145728
}
states() { for i in 32 33 34 35 36 37 38 39; do printf '%s:%s ' "$i" "$(tree_state "$1" "$i")"; done; }
eject() { cat "$1/sys/bus/acpi/devices/PNP0C80:$2/eject"; }
start_kernel() { tree_kernel_start "$1"; }
stop_kernel() { tree_kernel_stop; }

plan 32

T=$tmp/tree
mktree "$T"
before=$(states "$T")

# --- help (tests/help-man.sh checks it against memoffctl(8)) ------------------
run 0 "release --help" release --help

# --- bad input: exit 2, nothing changes --------------------------------------
usage release --sysroot "$T"
usage release --sysroot "$T" 5X
usage release --sysroot "$T" 100M
check "...the alignment message names the block size" grep -q "not a multiple of the memory block size (128M)" "$tmp/err"
usage release --sysroot "$T" 0
usage release --sysroot "$T" 512M 1G
usage release --sysroot "$T" --deadline 0 512M
usage release --sysroot "$T" --eject-timeout soon 512M
usage release --sysroot "$T" -b 32
check "bad input changed no block" test "$(states "$T")" = "$before"

# --- more than the devices hold: exit 1, nothing changes -----------------------
run 1 "release 2G with 1G of devices" release --sysroot "$T" 2G
check "...says why" grep -q "cannot release 2G as whole devices: the 2 eligible of 2 hot-pluggable devices hold 1G" "$tmp/err"
check "...and changed nothing" test "$(states "$T")" = "$before"

# --- dry run -------------------------------------------------------------------
run 0 "dry run of 512M" release --sysroot "$T" --dry-run 512M
check "the plan takes one device, the higher one (no census here)" \
	sh -c "grep -q '^PNP0C80:01 .* planned ' '$tmp/out' && ! grep -q '^PNP0C80:00' '$tmp/out' && grep -q '^Plan: release 512M for 512M (1 device)' '$tmp/out'"
run 0 "dry run of 640M rounds up to whole devices" release --sysroot "$T" --dry-run 640M
check "...and says so" grep -q '^Whole devices only: 384M more than asked' "$tmp/out"
check "dry runs change nothing" sh -c "test \"$(states "$T")\" = \"$before\" && test -z \"\$(cat '$T/sys/bus/acpi/devices/PNP0C80:01/eject')\""

# --- real runs -----------------------------------------------------------------
start_kernel "$T"
if $have_python; then
	run 0 "release 512M -J" release --sysroot "$T" -J 512M
	check "JSON: PNP0C80:01 released, its four blocks done, :00 not tried" json '
dv = {x["device"]: x for x in d["devices"]}
r = dv["PNP0C80:01"]
assert r["outcome"] == "released" and r["tries"] == 1, r
assert [b["block"] for b in r["blocks"]] == [36, 37, 38, 39]
assert all(b["outcome"] == "done" for b in r["blocks"]), r["blocks"]
assert isinstance(r["eject_seconds"], float)
assert dv["PNP0C80:00"]["outcome"] == "not-tried"
t = d["totals"]
assert t["released_bytes"] == 512 << 20 == t["wanted_bytes"] and t["exit_code"] == 0 and t["stop"] == "finished"'
else
	run 0 "release 512M" release --sysroot "$T" 512M
	skip "no python3"
fi
check "its blocks are gone, the other device's blocks online" \
	test "$(states "$T")" = "32:online 33:online 34:online 35:online 36:gone 37:gone 38:gone 39:gone "

mktree "$T"
if [ -r "$shim" ]; then
	MEMOFF_FAULT="write@*/memory37/state=EBUSY" LD_PRELOAD=$shim \
		"$memoffctl" release --sysroot "$T" 512M > "$tmp/out" 2> "$tmp/err"
	rc=$?
	if [ $rc -eq 0 ]; then ok "a block of :01 will not go offline: :00 released instead (exit 0)"
	else not_ok "release around an unmovable block: exit $rc, want 0"; fi
	check "...:01 busy, naming block 37, in the table" grep -q '^PNP0C80:01 .* busy .*block 37' "$tmp/out"
	# (a failed write leaves the fake state file empty: the attempt opens it with O_TRUNC)
	check "...its block 36 put back online_movable, 38-39 untouched, :00 gone" \
		test "$(states "$T")" = "32:gone 33:gone 34:gone 35:gone 36:online_movable 37: 38:online 39:online "
	mktree "$T"
	MEMOFF_FAULT="write@*/memory3[37]/state=EBUSY" LD_PRELOAD=$shim \
		"$memoffctl" release --sysroot "$T" --max-tries 1 512M > "$tmp/out" 2> "$tmp/err"
	rc=$?
	if [ $rc -eq 1 ]; then ok "neither device can go: exit 1"; else not_ok "nothing can go: exit $rc, want 1"; fi
	check "...a clear message on stderr, one line per device" \
		sh -c "grep -q '^memoffctl: release 512M: released 0B of 512M: no device could be freed' '$tmp/err' && test \$(grep -c ': busy: block 3[37]' '$tmp/err') -eq 2"
	check "...every block back online, no eject written" \
		test "$(states "$T")$(eject "$T" 00)$(eject "$T" 01)" = \
		"32:online_movable 33: 34:online 35:online 36:online_movable 37: 38:online 39:online "
else
	for i in 1 2 3 4 5 6; do skip "tests/fault/shim.so is not built"; done
fi
stop_kernel

mktree "$T"
run 1 "an eject the kernel never completes" release --sysroot "$T" --eject-timeout 500ms 512M
check "...is reported unconfirmed; its blocks stay offline" \
	sh -c "grep -q 'eject not confirmed' '$tmp/err' && test \"\$(cat '$T/sys/bus/acpi/devices/PNP0C80:01/eject')\" = 1 && grep -q '^PNP0C80:01 .* unconfirmed ' '$tmp/out'"

# --- the live machine, read-only ------------------------------------------------
if [ -r /sys/devices/system/memory/block_size_bytes ]; then
	"$memoffctl" release --direct --dry-run 128M > "$tmp/out" 2> "$tmp/err"
	rc=$?
	case $rc in
	0|1) ok "dry run on the live machine (exit $rc, nothing written)";;
	*) not_ok "dry run on the live machine: exit $rc";;
	esac
	check "...prints a plan or why there is none" sh -c "grep -q '^Plan: release' '$tmp/out' || grep -q 'cannot release' '$tmp/err'"
else
	skip "no memory-block sysfs here"; skip "no memory-block sysfs here"
fi
