#!/bin/sh
# Regenerate the expected outputs of the captured trees (how they were made).
#
#   regen.sh [--memoffctl] [TREE...]      (default: every tree here)
#
# For every case in ./cases whose ORIGIN is "lsmem", the expected output is
# util-linux's own:  LC_ALL=C lsmem --sysroot TREE ARGS > TREE/expected/NAME.out
# That needs lsmem from util-linux 2.38 (Debian 12 ships 2.38.1), the version
# memoffctl list follows; any other version is refused.
#
# Cases whose ORIGIN is "memoffctl" (memoff's own columns) have no reference
# implementation. With --memoffctl, the script writes memoffctl's output to
# TREE/expected/NAME.out.new and shows how it differs from NAME.out; a human
# reads it against the tree (ls -l TREE/sys/devices/system/memory/*/), and only
# then renames it to NAME.out. Set MEMOFFCTL to the binary to use (default:
# ../../src/memoffctl/memoffctl, i.e. an in-tree build).
#
# A tree captured inside a guest (tests/sysfs-trees/capture.sh run there) may
# come with the guest lsmem's outputs: they must equal what this script makes
# from the captured tree, which checks the capture itself.
#
# The synthetic tree's sys/ is made by build-synthetic.sh; the host tree's by
# capture.sh on the machine it is named after.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
tab=$(printf '\t')
do_memoffctl=false
if [ "${1:-}" = --memoffctl ]; then do_memoffctl=true; shift; fi
memoffctl=${MEMOFFCTL:-$here/../../src/memoffctl/memoffctl}

ver=$(lsmem --version 2>/dev/null) || { echo "regen.sh: lsmem not found" >&2; exit 1; }
case $ver in
*" 2.38"|*" 2.38."*) ;;
*) echo "regen.sh: '$ver' is not util-linux 2.38, the version memoffctl list follows" >&2; exit 1 ;;
esac
if $do_memoffctl && [ ! -x "$memoffctl" ]; then
	echo "regen.sh: $memoffctl: not built (set MEMOFFCTL)" >&2; exit 1
fi

if [ $# -eq 0 ]; then
	for d in "$here"/*/sys/devices/system/memory; do
		[ -d "$d" ] && set -- "$@" "${d%/sys/devices/system/memory}"
	done
fi

export LC_ALL=C
for tree in "$@"; do
	mkdir -p "$tree/expected"
	while IFS="$tab" read -r name origin args; do
		case $name in ''|'#'*) continue ;; esac
		out=$tree/expected/$name.out
		case $origin in
		lsmem)
			# shellcheck disable=SC2086 # ARGS split on blanks on purpose
			lsmem --sysroot "$tree" $args > "$out"
			;;
		memoffctl)
			$do_memoffctl || continue
			# shellcheck disable=SC2086
			"$memoffctl" list --sysroot "$tree" $args > "$out.new"
			if [ -f "$out" ] && cmp -s "$out" "$out.new"; then
				rm -f "$out.new"
			else
				echo "== $out.new: check it by hand, then rename it to $name.out"
				if [ -f "$out" ]; then diff -u "$out" "$out.new" || :; else cat "$out.new"; fi
			fi
			;;
		*)
			echo "regen.sh: case $name: unknown origin '$origin'" >&2; exit 1 ;;
		esac
	done < "$here/cases"
done
