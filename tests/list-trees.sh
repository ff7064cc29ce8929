#!/bin/sh
# TAP: memoffctl list against every captured sysfs tree and every case.
#
# A tree is any directory in tests/sysfs-trees/ that holds
# sys/devices/system/memory; a case is a line of tests/sysfs-trees/cases
# (NAME<TAB>ORIGIN<TAB>ARGS). Each pair is one test: run
# `memoffctl list --sysroot TREE ARGS`, require exit status 0 and output equal
# to TREE/expected/NAME.out. A missing expected file fails (make it with
# tests/sysfs-trees/regen.sh). Reads the trees only.
set -u
srcdir=${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}
builddir=${top_builddir:-$srcdir}
memoffctl=${MEMOFFCTL:-$builddir/src/memoffctl/memoffctl}
trees=$srcdir/tests/sysfs-trees
tab=$(printf '\t')

. "$srcdir/tests/lib/tap.sh"
. "$srcdir/tests/lib/cli.sh"
cli_scratch list-trees

: > "$tmp/trees"
for d in "$trees"/*/sys/devices/system/memory; do
	[ -d "$d" ] && echo "${d%/sys/devices/system/memory}" >> "$tmp/trees"
done
grep -v -e '^#' -e '^$' "$trees/cases" > "$tmp/cases"
n_trees=$(wc -l < "$tmp/trees")
n_cases=$(wc -l < "$tmp/cases")

if [ "$n_trees" -eq 0 ] || [ "$n_cases" -eq 0 ]; then
	plan 1
	not_ok "no trees ($n_trees) or no cases ($n_cases) under $trees"
	exit 1
fi

plan $((n_trees * n_cases))
while read -r tree; do
	t=${tree##*/}
	while IFS="$tab" read -r name origin args; do
		exp=$tree/expected/$name.out
		got=$tmp/$t.$name.out
		# shellcheck disable=SC2086 # ARGS split on blanks on purpose
		"$memoffctl" list --sysroot "$tree" $args > "$got" 2> "$tmp/err"
		rc=$?
		what="$t $name ($origin): memoffctl list $args"
		if [ ! -f "$exp" ]; then
			not_ok "$what # no $exp: run tests/sysfs-trees/regen.sh"
		elif [ $rc -ne 0 ]; then
			not_ok "$what # exit status $rc"
			sed 's/^/# /' "$tmp/err"
		elif ! diff -u "$exp" "$got" > "$tmp/diff"; then
			not_ok "$what"
			sed 's/^/# /' "$tmp/diff"
		else
			ok "$what"
		fi
	done < "$tmp/cases"
done < "$tmp/trees"
