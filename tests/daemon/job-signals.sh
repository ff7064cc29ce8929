#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# JobRemoved means what it means in systemd1: a job finished, with its
# result; forgetting an old finished job is silent. Followed the race-free
# way (subscribe, then call, then wait: doc/cloud.md) by job-waiter, against
# memoffd on a copy of a captured tree: 36 jobs, more than the 32 finished
# ones memoffd keeps, so that evictions happen while it listens.
#
# Needs: memoffd, tests/daemon/job-waiter (both built).
set -u

top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
WAITER=$top_builddir/tests/daemon/job-waiter

. "$top_srcdir/tests/lib/daemon.sh"

daemon_requires
[ -x "$WAITER" ] || skip_all "tests/daemon/job-waiter was not built"

daemon_scratch signals
daemon_copy_tree "$T"
printf '[Offline]\nAttemptTimeout=500ms\n' > "$T/memoffd.conf"
memoffd_start "$T" "$T/memoffd.conf" --no-system-bus --no-monitor

"$WAITER" "$T/run/control" 36 blocks 9 9 > "$T/waiter.out" 2>&1
rc=$?
check "every one of 36 jobs ended with a JobRemoved the caller saw (subscribed before calling)" test "$rc" = 0
check "... each with its result (offline and online of block 9: done)" \
	test "$(grep -c '^job [0-9]* done finished-first=yes$' "$T/waiter.out")" = 36
check "... after the job's own Finished signal" \
	test "$(grep -c 'finished-first=no' "$T/waiter.out")" = 0
check "no JobRemoved came again when memoffd forgot the oldest finished jobs (evictions are silent)" \
	test "$(grep -c '^removed-again' "$T/waiter.out")" = 0
check "memoffd forgot some: it lists 32 finished jobs" \
	test "$(grep -c '^job .* finished' "$T/state/jobs")" = 32

plan_done
if grep -qv '^job [0-9]* done finished-first=yes$' "$T/waiter.out"; then
	echo "# job-waiter:"
	sed 's/^/#   /' "$T/waiter.out"
fi
exit 0
