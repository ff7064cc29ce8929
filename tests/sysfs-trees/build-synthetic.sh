#!/bin/sh
# Build the hand-made tree synthetic-gap-going-offline/ (its sys/ part; the
# expected outputs come from regen.sh). Writes nothing but DEST.
#
#   build-synthetic.sh [DEST]     (default: synthetic-gap-going-offline next to this script)
#
# 128M blocks on two nodes, with what real captures rarely show together:
#   memory0-2   online, removable, node0, zones None / DMA32 / Normal
#   memory3     online, not removable (removable reads 0), Normal
#   memory4     going-offline, Movable, in DIMM PNP0C80:00
#   memory5-6   offline, "Movable Normal", in DIMM PNP0C80:00
#   memory7-8   missing: a gap in the numbering
#   memory9     online, Movable, node1, in DIMM PNP0C80:01
#   memory10    online, in DIMM PNP0C80:01, no removable and no valid_zones files
#   memory11    online, Movable, in DIMM PNP0C80:01
#   memory12-13 online, Normal, node1, no device
#   memory14    offline, "Normal Movable", node1, no device
set -eu
here=$(cd "$(dirname "$0")" && pwd)
dest=${1:-$here/synthetic-gap-going-offline}
mem=$dest/sys/devices/system/memory
fw=../../../LNXSYSTM:00/LNXSYBUS:00/PNP0A06:00

rm -rf "$dest/sys"
mkdir -p "$mem"
echo 8000000 > "$mem/block_size_bytes"
echo online_movable > "$mem/auto_online_blocks"

# block INDEX STATE REMOVABLE|- ZONES|- NODE DEVICE|-
block() {
	d=$mem/memory$1
	mkdir -p "$d"
	echo "$2" > "$d/state"
	printf '%08x\n' "$1" > "$d/phys_index"
	echo 0 > "$d/phys_device"
	if [ "$2" = online ]; then echo 1 > "$d/online"; else echo 0 > "$d/online"; fi
	if [ "$3" != - ]; then echo "$3" > "$d/removable"; fi
	if [ "$4" != - ]; then echo "$4" > "$d/valid_zones"; fi
	ln -s "../../node/node$5" "$d/node$5"
	if [ "$6" != - ]; then ln -s "$fw/$6" "$d/firmware_node"; fi
}

block 0 online 1 none 0 -
block 1 online 1 DMA32 0 -
block 2 online 1 Normal 0 -
block 3 online 0 Normal 0 -
block 4 going-offline 1 Movable 0 PNP0C80:00
block 5 offline 1 "Movable Normal" 0 PNP0C80:00
block 6 offline 1 "Movable Normal" 0 PNP0C80:00
block 9 online 1 Movable 1 PNP0C80:01
block 10 online - - 1 PNP0C80:01
block 11 online 1 Movable 1 PNP0C80:01
block 12 online 1 Normal 1 -
block 13 online 1 Normal 1 -
block 14 offline 1 "Normal Movable" 1 -
