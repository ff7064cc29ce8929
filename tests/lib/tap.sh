# SPDX-License-Identifier: LGPL-2.1-or-later
# shellcheck shell=sh
#
# TAP for the shell tests, sourced by every one of them: one dialect.
#
#   plan N                "1..N"; or plan_done at the end when N is not known
#   ok WHAT               a passing test
#   not_ok WHAT           a failing one; then calls tap_on_fail, which a test
#                         may define to print what went wrong as "# " lines
#   skip WHAT             "ok N # SKIP WHAT"
#   check WHAT CMD...     run CMD (its standard output dropped): ok when it succeeds
#   point STATUS WHAT [FILE]
#                         ok when STATUS (e.g. $?) is 0, else not_ok and FILE
#                         as "# " lines
#   diag TEXT...          "# TEXT" lines
#   skip_all WHY          "1..0 # SKIP WHY" and exit (before the plan)
#   tap_failed            how many tests failed so far
#
# Works in sh (dash) and bash.

tap_n=0
tap_failed=0

tap_on_fail() { :; }
plan() { echo "1..$1"; }
plan_done() { echo "1..$tap_n"; }
ok() { tap_n=$((tap_n + 1)); echo "ok $tap_n - $*"; }
not_ok() {
	tap_n=$((tap_n + 1))
	tap_failed=$((tap_failed + 1))
	echo "not ok $tap_n - $*"
	tap_on_fail
}
skip() { tap_n=$((tap_n + 1)); echo "ok $tap_n # SKIP $*"; }
check() {
	tap_what=$1
	shift
	if "$@" > /dev/null; then ok "$tap_what"; else not_ok "$tap_what"; fi
}
point() {
	if [ "$1" -eq 0 ]; then
		ok "$2"
	else
		not_ok "$2"
		if [ -n "${3:-}" ] && [ -r "$3" ]; then sed 's/^/#   /' "$3"; fi
	fi
	return 0
}
diag() { for tap_l in "$@"; do echo "# $tap_l"; done; }
skip_all() { echo "1..0 # SKIP $*"; exit 0; }
