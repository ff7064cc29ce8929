# SPDX-License-Identifier: LGPL-2.1-or-later
# shellcheck shell=sh
#
# make check's entry for a tier of the VM suite, sourced by run-suite.sh and
# system/run-system.sh: vm_tier_exec DRIVER ARGS... runs the tier's Python
# driver (TAP), skipping without python3.
#
# The two VM tiers take turns: TCG is CPU-bound and each tier already runs
# MEMOFF_VM_JOBS guests at once (two on a 2-CPU machine); four guests on two
# CPUs make the guests' command channels time out.

vm_tier_exec() {
	if ! command -v python3 > /dev/null 2>&1; then
		echo "1..0 # SKIP python3 not found"
		exit 0
	fi
	vm_lock=${top_builddir:-.}/tests/vm/tiers.lock
	if [ "${MEMOFF_VM_SUITE:-1}" != 0 ] && command -v flock > /dev/null 2>&1 &&
		mkdir -p "${vm_lock%/*}" 2> /dev/null; then
		exec flock "$vm_lock" python3 "$@"
	fi
	exec python3 "$@"
}
