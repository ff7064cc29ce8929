# SPDX-License-Identifier: LGPL-2.1-or-later
# shellcheck shell=sh
#
# Fake sysfs/procfs trees for the shell tests: memory blocks whose state files
# are plain files, ACPI memory devices, /proc/meminfo; and a background loop
# that plays the kernel's hot-remove worker. Writes only under the tree.
#
#   tree_new DIR [BLOCK_SIZE_HEX]     an empty tree (default block size 8000000: 128M)
#   tree_block DIR N STATE ZONES [DEVICE]
#                                     memoryN: state, valid_zones, node0; with
#                                     DEVICE (PNP0C80:00) a firmware_node link
#   tree_device DIR NAME [BLOCK...]   an ACPI memory device with an empty eject
#                                     file, listing BLOCKs as physical_node links
#   tree_boot DIR COUNT               blocks 0..COUNT-1 online Normal, no device
#                                     (boot memory)
#   tree_dimms DIR FIRST N            N ACPI DIMMs PNP0C80:00.. of 4 blocks each
#                                     from block FIRST, online Movable
#   tree_dimm_machine DIR             a new tree: 0-7 boot memory, two DIMMs
#                                     (32-35 PNP0C80:00, 36-39 PNP0C80:01),
#                                     16G of RAM with 14G available
#   tree_meminfo DIR TOTAL_KB FREE_KB AVAILABLE_KB
#   tree_state DIR N                  memoryN's state, "gone" when it vanished
#   tree_kernel_start DIR...          in the background, for each tree: the
#                                     blocks of a device whose eject file reads
#                                     1 vanish, and it reads empty again; its
#                                     pid in TREE_KERNEL_PID
#   tree_kernel_stop

tree_new() {
	rm -rf "$1"
	mkdir -p "$1/sys/devices/system/memory" "$1/sys/devices/system/node/node0" "$1/proc"
	echo "${2:-8000000}" > "$1/sys/devices/system/memory/block_size_bytes"
}

tree_block() {
	tree_m=$1/sys/devices/system/memory/memory$2
	mkdir -p "$tree_m"
	echo "$3" > "$tree_m/state"
	echo "$4" > "$tree_m/valid_zones"
	ln -s ../../node/node0 "$tree_m/node0"
	if [ -n "${5:-}" ]; then
		ln -s "../../../LNXSYSTM:00/LNXSYBUS:00/PNP0A06:04/$5" "$tree_m/firmware_node"
	fi
}

tree_device() {
	tree_d=$1/sys/bus/acpi/devices/$2
	mkdir -p "$tree_d"
	: > "$tree_d/eject"
	shift 2
	tree_k=0
	for tree_i; do
		tree_l=physical_node$tree_k
		[ "$tree_k" -eq 0 ] && tree_l=physical_node
		ln -s "../../../../devices/system/memory/memory$tree_i" "$tree_d/$tree_l"
		tree_k=$((tree_k + 1))
	done
}

tree_boot() {
	tree_i=0
	while [ "$tree_i" -lt "$2" ]; do
		tree_block "$1" "$tree_i" online Normal
		tree_i=$((tree_i + 1))
	done
}

tree_dimms() {
	tree_n=0
	while [ "$tree_n" -lt "$3" ]; do
		tree_name=PNP0C80:$(printf %02d "$tree_n")
		for tree_i in 0 1 2 3; do
			tree_block "$1" $(($2 + 4 * tree_n + tree_i)) online Movable "$tree_name"
		done
		tree_device "$1" "$tree_name"
		tree_n=$((tree_n + 1))
	done
}

tree_dimm_machine() {
	tree_new "$1"
	tree_boot "$1" 8
	tree_dimms "$1" 32 2
	tree_meminfo "$1" 16384000 12000000 14000000
}

tree_meminfo() {
	printf 'MemTotal:       %8s kB\nMemFree:        %8s kB\nMemAvailable:   %8s kB\n' "$2" "$3" "$4" \
		> "$1/proc/meminfo"
}

tree_state() {
	cat "$1/sys/devices/system/memory/memory$2/state" 2> /dev/null || echo gone
}

TREE_KERNEL_PID=
tree_kernel_start() {
	(
		while :; do
			for tree_t; do
				for tree_e in "$tree_t"/sys/bus/acpi/devices/*/eject; do
					[ "$(cat "$tree_e" 2> /dev/null)" = 1 ] || continue
					tree_dev=$(basename "$(dirname "$tree_e")")
					for tree_f in "$tree_t"/sys/devices/system/memory/memory*/firmware_node; do
						case $(readlink "$tree_f") in
						*/"$tree_dev") rm -rf "$(dirname "$tree_f")" ;;
						esac
					done
					: > "$tree_e"
				done
			done
			sleep 0.05
		done
	) &
	TREE_KERNEL_PID=$!
}

tree_kernel_stop() {
	[ -n "$TREE_KERNEL_PID" ] && kill "$TREE_KERNEL_PID" 2> /dev/null
	TREE_KERNEL_PID=
}
