#!/bin/sh
# make check's entry for the full-system tier of the VM suite (TAP): memoff's
# .deb on a Debian 12 guest booted with systemd. See run-system.py.
if ! command -v python3 >/dev/null 2>&1; then
	echo "1..0 # SKIP python3 not found"
	exit 0
fi
# The two VM tiers take turns: TCG is CPU-bound and each tier already runs
# MEMOFF_VM_JOBS guests at once (two on a 2-CPU machine); four guests on two
# CPUs make the guests' command channels time out.
lock=${top_builddir:-.}/tests/vm/tiers.lock
if [ "${MEMOFF_VM_SUITE:-1}" != 0 ] && command -v flock >/dev/null 2>&1 &&
	mkdir -p "${lock%/*}" 2>/dev/null; then
	exec flock "$lock" python3 "$(dirname "$0")/run-system.py" "$@"
fi
exec python3 "$(dirname "$0")/run-system.py" "$@"
