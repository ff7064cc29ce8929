#!/bin/sh
# Capture a machine's memory-block sysfs into a directory, read-only.
#
#   capture.sh DEST [ROOT]
#
# Copies ROOT/sys/devices/system/memory (default ROOT is /): the global
# attributes, every block's attributes, and its nodeN and firmware_node links
# (as links with their original relative targets). Runs under busybox sh, so
# the real-kernel suite can capture a guest the same way. Writes nothing but DEST.
set -eu
[ $# -ge 1 ] || { echo "usage: $0 DEST [ROOT]" >&2; exit 2; }
dest=$1
root=${2:-}
src=$root/sys/devices/system/memory
dst=$dest/sys/devices/system/memory
[ -d "$src" ] || { echo "$0: $src: no memory-block sysfs here" >&2; exit 1; }
mkdir -p "$dst"
for f in block_size_bytes auto_online_blocks; do
	if [ -r "$src/$f" ]; then cat "$src/$f" > "$dst/$f"; fi
done
for d in "$src"/memory[0-9]*; do
	[ -d "$d" ] || continue
	n=${d##*/}
	mkdir -p "$dst/$n"
	for a in state phys_index phys_device removable valid_zones online; do
		if [ -r "$d/$a" ]; then cat "$d/$a" > "$dst/$n/$a" 2>/dev/null || rm -f "$dst/$n/$a"; fi
	done
	for l in "$d"/node[0-9]*; do
		if [ -L "$l" ]; then ln -s "$(readlink "$l")" "$dst/$n/${l##*/}"; fi
	done
	if [ -L "$d/firmware_node" ]; then ln -s "$(readlink "$d/firmware_node")" "$dst/$n/firmware_node"; fi
done
