# SPDX-License-Identifier: LGPL-2.1-or-later
#
# TAP for the shell tests, sourced by every one of them (one dialect):
#
#   plan N               "1..N" (or plan_done at the end when N is not known)
#   ok WHAT / not_ok WHAT
#   check WHAT           ok or not_ok after the status of the command before
#   check_cmd WHAT CMD.. run CMD (its stdout dropped); ok when it succeeds
#   point STATUS WHAT [FILE]
#                        ok when STATUS is 0, else not_ok and FILE as comments
#   diag TEXT..          "# TEXT" lines
#   skip_all WHY         "1..0 # SKIP WHY" and exit
#   tap_done             exit 1 when any test failed (after a plan_done)
#
# TAP_TMP is a scratch directory removed at exit, unless the test sets its
# own EXIT trap (then it should call tap_cleanup).

tap_n=0
tap_failed=0
TAP_TMP=$(mktemp -d "${TMPDIR:-/tmp}/memoff-tap.XXXXXX")
tap_cleanup() { rm -rf "$TAP_TMP"; }
trap tap_cleanup EXIT

plan() { echo "1..$1"; }
plan_done() { echo "1..$tap_n"; }
ok() { tap_n=$((tap_n + 1)); echo "ok $tap_n - $*"; }
not_ok() { tap_n=$((tap_n + 1)); tap_failed=$((tap_failed + 1)); echo "not ok $tap_n - $*"; }
check() { if [ $? -eq 0 ]; then ok "$@"; else not_ok "$@"; fi; }
check_cmd() { local what=$1; shift; if "$@" >/dev/null; then ok "$what"; else not_ok "$what"; fi; }
diag() { local l; for l in "$@"; do echo "# $l"; done; }
point() {
	local st=$1 what=$2 file=${3:-}
	if [ "$st" -eq 0 ]; then
		ok "$what"
	else
		not_ok "$what"
		[ -n "$file" ] && [ -r "$file" ] && sed 's/^/#   /' "$file"
	fi
	return 0
}
skip_all() { echo "1..0 # SKIP $*"; exit 0; }
tap_done() { [ "$tap_failed" -eq 0 ]; exit $?; }
