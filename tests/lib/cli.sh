# SPDX-License-Identifier: LGPL-2.1-or-later
# shellcheck shell=sh
#
# Running memoffctl in the shell tests (after tap.sh): $memoffctl is the
# binary, $tmp a scratch directory; out and err of the last run are
# $tmp/out and $tmp/err (tap_on_fail shows them).
#
#   cli_scratch NAME          skip_all unless $memoffctl is built; then the C
#                             locale, the host write guard, no MEMOFF_SOCKET
#                             (the in-process core only), tmp a new scratch
#                             directory removed at exit (after cli_cleanup_hook
#                             and tree_kernel_stop), have_python true or false
#   json EXPR                 run the Python EXPR with d the JSON document in
#                             $tmp/out (errors to $tmp/err)
#   run STATUS WHAT ARGS...   ok when memoffctl ARGS exits with STATUS
#   usage ARGS...             ok when memoffctl ARGS is a usage error: exit 2,
#                             nothing on stdout, "memoffctl: ..." then the hint
#                             at the verb's help ("Try 'memoffctl VERB --help'.",
#                             or memoffctl's own when ARGS name no verb)

tap_on_fail() { sed 's/^/# /' "$tmp/out" "$tmp/err" 2> /dev/null; }

cli_cleanup_hook() { :; }
cli_cleanup() {
	cli_cleanup_hook
	command -v tree_kernel_stop > /dev/null && tree_kernel_stop
	rm -rf "$tmp"
}

cli_scratch() {
	[ -x "$memoffctl" ] || skip_all "$memoffctl is not built"
	LC_ALL=C
	MEMOFF_FORBID_HOST_WRITES=1 # belt and braces: nothing here may write to the live sysfs
	export LC_ALL MEMOFF_FORBID_HOST_WRITES
	unset MEMOFF_SOCKET
	tmp=$(mktemp -d "${TMPDIR:-/tmp}/$1.XXXXXX") || exit 99
	trap cli_cleanup EXIT
	have_python=false
	command -v python3 > /dev/null 2>&1 && have_python=true
}

json() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); $1" "$tmp/out" 2>> "$tmp/err"; }

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
