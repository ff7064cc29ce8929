#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# memoffctl prints the same whoever runs the job: every job verb (offline,
# online, release), as text and as -J, through memoffd (on one copy of a tree, its private socket named by
# MEMOFF_SOCKET) and --direct (on an identical copy), with the same sequence
# of requests so that both trees go through the same states. Only what truly
# differs is normalized: durations (the TIME column, "in 1ms", "seconds").
# Exit codes must match too. The stderr line naming memoffd's job is the one
# difference on stderr and is not compared (stdout is). And `memoffctl watch
# [-J] JOB` afterwards prints what the verb printed through memoffd, to the
# byte (the job's Report, by the same renderer), with the same exit code.
# On a terminal, the progress line through memoffd reads as it does in-process
# (memoffd publishes what the job is doing in the same words, Job1.Progress):
# block 7's offline writes spin (the stuck-write shim, as a pinned page makes
# the kernel's spin) in both runs, and every line drawn through memoffd is
# one the in-process run draws too, retry waits aside.
#
# Needs: busctl (systemd).
set -u

top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}

. "$top_srcdir/tests/lib/daemon.sh"

daemon_requires
daemon_scratch same
CTL=$MEMOFFCTL

# 128M blocks: 0-7 boot memory (Normal), 32-39 online Movable, 40-43 and
# 44-47 online Movable in the ACPI DIMMs PNP0C80:00 and PNP0C80:01.
mktree() {
	tree_new "$1"
	tree_boot "$1" 8
	for i in $(seq 32 39); do tree_block "$1" "$i" online Movable; done
	tree_dimms "$1" 40 2
	tree_meminfo "$1" 16384000 12000000 14000000
}
mktree "$T/a"
mktree "$T/b"
# the kernel's part, on both trees: an ejected DIMM's blocks go away
tree_kernel_start "$T/a" "$T/b"
# and between two requests: a block put online reads "online" again, whatever was written
settle() {
	for f in "$T"/[ab]/sys/devices/system/memory/memory*/state; do
		case $(cat "$f") in online_*) echo online > "$f" ;; esac
	done
}
printf '[Offline]\nAttemptTimeout=500ms\nBackoffInitial=200ms\nBackoffCap=500ms\n' > "$T/memoffd.conf"

SHIM=$top_builddir/tests/daemon/stuck-write.so
# block 7 is boot memory (Normal): no SIZE request of the cases takes it
MEMOFFD_ENV="LD_PRELOAD=$SHIM MEMOFF_TEST_STUCK_BLOCKS=7" memoffd_start "$T/a" "$T/memoffd.conf" || { plan 1; not_ok "memoffd starts"; sed 's/^/# /' "$T/daemon.log"; exit 1; }

# Durations are the one thing two runs cannot share (the eject's too), and
# with them the width of a table's TIME column: runs of spaces count as one.
normalize() {
	sed -E -e 's/"(eject_)?seconds": [0-9]+\.[0-9]+/"\1seconds": S/' \
	       -e 's/ in [0-9.]+(us|ms|s|min)\././' \
	       -e 's/ +[0-9.]+(us|ms|s|min) / TIME /' \
	       -e 's/  +/ /g'
}

cases=(
	"offline 256M"
	"offline -J 256M"
	"online -b 32-33"
	"online -J -b 32-33"
	"offline -b 34-35"
	"online -J -b 34-35"
	"offline 0x110000000-0x11fffffff"
	"offline -b 100"
	"offline 5X"
	"offline -J -b 36 --attempt-timeout 1s --deadline infinity"
	"online -b 36 --deadline '2 min'"
	"offline --dry-run 256M"
	"offline --dry-run -J 256M"
	"offline -q 256M"
	"online 512M"
	"release --dry-run 512M"
	"release --dry-run -J 512M"
	"release -J 512M"
	"release 512M"
	"release 512M"
	"release 100M"
)
plan $(( ${#cases[@]} + 5 ))

daemon_used=0
watched=0
watch_bad=
for c in "${cases[@]}"; do
	eval "MEMOFF_SOCKET=$T/run/control \"\$CTL\" --sysroot \"\$T/a\" $c" > "$T/a.out" 2> "$T/a.err"
	ra=$?
	eval "\"\$CTL\" --sysroot \"\$T/b\" --direct $c" > "$T/b.out" 2> "$T/b.err"
	rb=$?
	jid=$(sed -n 's/^memoffctl: memoffd job \([0-9]*\)$/\1/p' "$T/a.err")
	if [ -n "$jid" ]; then
		daemon_used=$((daemon_used + 1))
	fi
	# watch has no -q: a quiet run printed nothing to compare
	if [ -n "$jid" ] && [[ " $c " != *" -q "* ]]; then
		json=
		[[ " $c " == *" -J "* ]] && json=-J
		MEMOFF_SOCKET=$T/run/control "$CTL" --sysroot "$T/a" watch $json "$jid" > "$T/w.out" 2> "$T/w.err"
		rw=$?
		watched=$((watched + 1))
		if [ "$rw" != "$ra" ] || ! diff -u "$T/a.out" "$T/w.out" > "$T/wdiff"; then
			watch_bad="$watch_bad$c (job $jid: exit $rw, the verb's $ra)"$'\n'"$(cat "$T/wdiff" "$T/w.err")"$'\n'
		fi
	fi
	settle
	if [ "$ra" = "$rb" ] && diff -u <(normalize < "$T/b.out") <(normalize < "$T/a.out") > "$T/diff"; then
		ok "memoffctl $c: the same through memoffd and --direct (exit $ra, $(wc -l < "$T/a.out") lines)"
	else
		not_ok "memoffctl $c: through memoffd (exit $ra) and --direct (exit $rb) differ"
		sed 's/^/# /' "$T/diff" "$T/a.err"
	fi
done
# the comparison compared something: memoffd ran the jobs that change memory
if [ "$daemon_used" -ge 11 ]; then ok "memoffd ran $daemon_used of the jobs"; else not_ok "memoffd ran only $daemon_used jobs"; fi
if [ -z "$watch_bad" ] && [ "$watched" -ge 10 ]; then
	ok "memoffctl watch [-J] JOB prints what the verb printed through memoffd, for all $watched jobs"
else
	not_ok "memoffctl watch [-J] JOB differs from the verb's report ($watched jobs watched)"
	sed 's/^/# /' <<<"$watch_bad"
fi
# The progress line on a terminal (script(1) gives the command one): the
# details drawn after "\r\e[K", durations of retry waits left out.
progress_lines() {
	tr '\r' '\n' < "$1" | sed -n -E 's/^\x1b\[K(offline .*)$/\1/p' | \
		sed -E 's/waiting [0-9.]+(us|ms|s)/waiting D/' | sort -u
}
stuck="offline -b 7 --attempt-timeout 300ms --max-attempts 2 --deadline 1min"
if command -v script > /dev/null; then
	MEMOFF_SOCKET=$T/run/control script -qec "$CTL --sysroot $T/a $stuck" /dev/null > "$T/pa.out" 2>&1
	LD_PRELOAD=$SHIM MEMOFF_TEST_STUCK_BLOCKS=7 script -qec "$CTL --sysroot $T/b --direct $stuck" /dev/null \
		> "$T/pb.out" 2>&1
	progress_lines "$T/pa.out" > "$T/pa.lines"
	progress_lines "$T/pb.out" > "$T/pb.lines"
	if grep -q 'memoffd job' "$T/pa.out" && grep -q ', block 7 attempt [0-9]*$' "$T/pa.lines" &&
	   [ -z "$(comm -23 "$T/pa.lines" "$T/pb.lines")" ]; then
		ok "the progress line through memoffd reads as in-process ($(wc -l < "$T/pa.lines") distinct lines)"
	else
		not_ok "the progress line through memoffd differs from the one in-process"
		sed 's/^/# memoffd: /' "$T/pa.lines"; sed 's/^/# here:    /' "$T/pb.lines"
	fi
else
	ok "# SKIP no script(1) to give memoffctl a terminal"
fi
# a dry run never becomes a daemon job (it plans here, read-only)
if MEMOFF_SOCKET=$T/run/control "$CTL" --sysroot "$T/a" offline --dry-run 256M 2>&1 | grep -q 'memoffd job'; then
	not_ok "a dry run went to memoffd"
else
	ok "a dry run never becomes a memoffd job (it plans in-process, read-only)"
fi
if diff -r "$T/a/sys" "$T/b/sys" > "$T/tree.diff"; then
	ok "both trees went through the same states"
else
	not_ok "the trees differ"; sed 's/^/# /' "$T/tree.diff"
fi
