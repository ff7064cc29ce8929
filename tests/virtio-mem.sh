#!/bin/sh
# TAP: virtio-mem (and dax kmem) memory is its driver's: memoff names the
# driver and leaves it alone. A fake tree: 128M blocks; 0-7 boot memory;
# 8-11 online Movable without an ACPI device, inside a "System RAM
# (virtio_mem)" range of /proc/iomem; 32-35 an ACPI DIMM (PNP0C80:00).
# `list` shows virtio_mem in DEVICE (table and JSON); an offline of a
# virtio-mem block is refused without --force; a release counts only the
# DIMM; memoffd's ListBlocks names the driver too (with busctl).
set -u
srcdir=${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}
builddir=${top_builddir:-$srcdir}
memoffctl=$builddir/src/memoffctl/memoffctl
memoffd=$builddir/src/memoffd/memoffd

. "$srcdir/tests/lib/tap.sh"
. "$srcdir/tests/lib/sysfs-tree.sh"
. "$srcdir/tests/lib/cli.sh"
cli_scratch virtio-mem
daemon_pid=
cli_cleanup_hook() { [ -n "$daemon_pid" ] && kill -9 "$daemon_pid" 2> /dev/null; }

t=$tmp/tree
tree_new "$t"
for i in 0 1 2 3 4 5 6 7; do tree_block "$t" "$i" online Normal; done
for i in 8 9 10 11; do tree_block "$t" "$i" online Movable; done
for i in 32 33 34 35; do tree_block "$t" "$i" online Movable PNP0C80:00; done
tree_device "$t" PNP0C80:00
cat > "$t/proc/iomem" <<EOM
00000000-3fffffff : System RAM
40000000-5fffffff : virtio0
  40000000-5fffffff : System RAM (virtio_mem)
100000000-11fffffff : System RAM
EOM
tree_meminfo "$t" 4194304 2097152 3145728

"$memoffctl" list --direct --sysroot "$t" -o RANGE,STATE,DEVICE > "$tmp/out" 2> "$tmp/err"
check "list: the virtio-mem range is named by its driver in DEVICE" \
	grep -Eq '^0x0000000040000000-0x000000005fffffff +online +virtio_mem$' "$tmp/out"
check "list: the DIMM by its ACPI device, boot memory by nothing" \
	sh -c "grep -Eq '^0x0000000100000000-0x000000011fffffff +online +PNP0C80:00\$' '$tmp/out' &&
	       grep -Eq '^0x0000000000000000-0x000000003fffffff +online *\$' '$tmp/out'"
"$memoffctl" list --direct --sysroot "$t" -J -o RANGE,DEVICE > "$tmp/out" 2> "$tmp/err"
check "list -J: \"device\": \"virtio_mem\"" \
	sh -c "grep -A1 '\"range\": \"0x0000000040000000-0x000000005fffffff\"' '$tmp/out' | grep -q '\"device\": \"virtio_mem\"'"
"$memoffctl" offline --direct --sysroot "$t" -b 9 --dry-run > "$tmp/out" 2> "$tmp/err"
rc=$?
check "offline of a virtio-mem block is refused (exit 1) ..." test "$rc" = 1
check "... as driver-managed memory, left alone without --force" grep -q "driver-managed" "$tmp/out" "$tmp/err"
"$memoffctl" release --direct --sysroot "$t" --dry-run 1G > "$tmp/out" 2> "$tmp/err"
rc=$?
check "release 1G: virtio-mem memory is not a device to release (exit 1, only the DIMM's 512M)" \
	sh -c "test $rc = 1 && grep -q 'the 1 eligible of 1 hot-pluggable devices hold 512M' '$tmp/err'"

if command -v busctl > /dev/null && [ -x "$memoffd" ]; then
	"$memoffd" --sysroot "$t" --runtime-dir "$tmp/run" --state-dir "$tmp/state" -c /dev/null \
		--no-system-bus --no-monitor > "$tmp/daemon.log" 2>&1 &
	daemon_pid=$!
	for _ in $(seq 100); do [ -S "$tmp/run/control" ] && break; sleep 0.1; done
	busctl --address="unix:path=$tmp/run/control" call org.memoff.Manager1 /org/memoff/Manager1 \
		org.memoff.Manager1 ListBlocks > "$tmp/out" 2> "$tmp/err"
	check "memoffd ListBlocks: block 9's device is \"virtio_mem\"" \
		grep -q '9 1207959552 134217728 "online" "Movable" 0 "virtio_mem"' "$tmp/out"
else
	skip "busctl or memoffd missing"
fi
plan_done
