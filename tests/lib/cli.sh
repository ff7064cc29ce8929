# SPDX-License-Identifier: LGPL-2.1-or-later
# shellcheck shell=sh
#
# Running memoffctl in the shell tests (after tap.sh): $memoffctl is the
# binary, $tmp a scratch directory; out and err of the last run are
# $tmp/out and $tmp/err (tap_on_fail shows them).
#
#   run STATUS WHAT ARGS...   ok when memoffctl ARGS exits with STATUS
#   usage ARGS...             ok when memoffctl ARGS is a usage error: exit 2,
#                             nothing on stdout, "memoffctl: ..." then the hint
#                             at the verb's help ("Try 'memoffctl VERB --help'.",
#                             or memoffctl's own when ARGS name no verb)

tap_on_fail() { sed 's/^/# /' "$tmp/out" "$tmp/err" 2> /dev/null; }

run() {
	cli_want=$1 cli_what=$2
	shift 2
	"$memoffctl" "$@" > "$tmp/out" 2> "$tmp/err"
	rc=$?
	if [ $rc -eq "$cli_want" ]; then ok "$cli_what (exit $rc)"; else not_ok "$cli_what: exit $rc, want $cli_want"; fi
}

usage() {
	cli_hint="Try 'memoffctl --help'."
	if [ $# -gt 0 ] && "$memoffctl" --help | grep -q "^ $1 "; then
		cli_hint="Try 'memoffctl $1 --help'."
	fi
	"$memoffctl" "$@" > "$tmp/out" 2> "$tmp/err"
	rc=$?
	if [ $rc -eq 2 ] && [ ! -s "$tmp/out" ] && head -n1 "$tmp/err" | grep -q '^memoffctl: ' &&
	   grep -qxF "$cli_hint" "$tmp/err"; then
		ok "usage error: memoffctl $* ($(head -n1 "$tmp/err"))"
	else
		not_ok "usage error: memoffctl $*: exit $rc"
	fi
}
