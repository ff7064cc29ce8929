#!/bin/sh
# TAP: memoffctl's command-line contract: exit codes, the usage-error format,
# common options anywhere, and --help and memoffctl(8) agreeing with the code.
# Runs only against the captured trees.
set -u
srcdir=${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}
builddir=${top_builddir:-$srcdir}
memoffctl=${MEMOFFCTL:-$builddir/src/memoffctl/memoffctl}
man=$srcdir/doc/memoffctl.8
tree=$srcdir/tests/sysfs-trees/synthetic-gap-going-offline
export LC_ALL=C

if [ ! -x "$memoffctl" ]; then echo "1..0 # SKIP $memoffctl is not built"; exit 0; fi
tmp=$(mktemp -d "${TMPDIR:-/tmp}/cli.XXXXXX") || exit 99
trap 'rm -rf "$tmp"' EXIT

n=0
ok() { n=$((n + 1)); echo "ok $n - $*"; }
nok() { n=$((n + 1)); echo "not ok $n - $*"; sed 's/^/# /' "$tmp/out" "$tmp/err"; }

# run EXPECTED_STATUS DESCRIPTION ARGS...: exit status as expected
run() {
	want=$1 what=$2
	shift 2
	"$memoffctl" "$@" > "$tmp/out" 2> "$tmp/err"
	rc=$?
	if [ $rc -eq "$want" ]; then ok "$what (exit $rc)"; else nok "$what: exit $rc, want $want"; fi
}

# usage ARGS...: exit 2, "memoffctl: ..." and the hint on stderr, nothing on stdout
usage() {
	"$memoffctl" "$@" > "$tmp/out" 2> "$tmp/err"
	rc=$?
	if [ $rc -eq 2 ] && [ ! -s "$tmp/out" ] && head -n1 "$tmp/err" | grep -q '^memoffctl: ' &&
	   grep -qx "Try 'memoffctl --help'." "$tmp/err"; then
		ok "usage error: memoffctl $* ($(head -n1 "$tmp/err"))"
	else
		nok "usage error: memoffctl $*: exit $rc"
	fi
}

# in_man TEXT: TEXT (with '-' escaped as troff wants) appears in the man page
in_man() { grep -qF -- "$(printf '%s' "$1" | sed 's/-/\\-/g')" "$man"; }

echo "1..22"

run 0 "global --help" --help
if grep -q '^ list ' "$tmp/out"; then ok "global --help lists the list command"; else nok "global --help lists no 'list'"; fi
run 0 "--version" -V
usage
usage frobnicate
if grep -q "'frobnicate'" "$tmp/err"; then ok "unknown command names the bad text"; else nok "unknown command message"; fi
usage --bogus list
usage list --bogus
usage list -o FOO
usage list -o
usage list -J -r
usage list -a --split STATE
usage list --summary=only -J
usage list --summary=sometimes
usage list extra-argument

run 1 "a sysroot without sys/ fails" list --sysroot "$tmp/nothing"
if grep -qF "$tmp/nothing/sys" "$tmp/err"; then ok "the failure names the path"; else nok "the failure names no path"; fi

# Common options anywhere, -s as lsmem spells --sysroot, --direct accepted.
"$memoffctl" list --sysroot "$tree" > "$tmp/a" 2>&1
"$memoffctl" --sysroot "$tree" list > "$tmp/b" 2>&1
"$memoffctl" list -s "$tree" --direct > "$tmp/c" 2>&1
if [ -s "$tmp/a" ] && cmp -s "$tmp/a" "$tmp/b" && cmp -s "$tmp/a" "$tmp/c"; then
	ok "--sysroot before or after the command, -s and --direct give the same output"
else
	: > "$tmp/out"; diff "$tmp/a" "$tmp/b" > "$tmp/err"; diff "$tmp/a" "$tmp/c" >> "$tmp/err"
	nok "--sysroot placement changes the output"
fi

# --help and the man page agree with the code.
"$memoffctl" list --help > "$tmp/help"
"$memoffctl" list --sysroot "$tree" --output-all -r -a | head -n1 | tr ' ' '\n' > "$tmp/cols"
missing=
while read -r col; do
	grep -q "^ *$col  " "$tmp/help" || missing="$missing help:$col"
	grep -qx "\.B $col" "$man" || missing="$missing man:$col"
done < "$tmp/cols"
if [ -s "$tmp/cols" ] && [ -z "$missing" ]; then ok "every column is in list --help and memoffctl(8)"
else : > "$tmp/out"; echo "missing:$missing" > "$tmp/err"; nok "columns undocumented"; fi

missing=
for opt in $(grep -o -- '--[a-z][a-z-]*' "$tmp/help" | sort -u) $(grep -o -- '^ -[a-zA-Z]' "$tmp/help"); do
	in_man "$opt" || missing="$missing $opt"
done
if [ -z "$missing" ]; then ok "every option of list --help is in memoffctl(8)"
else : > "$tmp/out"; echo "missing:$missing" > "$tmp/err"; nok "options missing from memoffctl(8)"; fi

"$memoffctl" --help > "$tmp/ghelp"
missing=
for cmd in $(sed -n '/^Commands:/,/^$/s/^ \([a-z][a-z-]*\) .*/\1/p' "$tmp/ghelp"); do
	grep -qx "\.SS $cmd" "$man" || missing="$missing $cmd"
done
if [ -z "$missing" ]; then ok "every command of --help has a section in memoffctl(8)"
else : > "$tmp/out"; echo "missing:$missing" > "$tmp/err"; nok "commands without a man section"; fi

"$memoffctl" list --sysroot "$tree" --direct -J > "$tmp/out" 2> "$tmp/err"
if [ $? -eq 0 ] && python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert list(d) == ["memory"] and len(d["memory"]) == 8' "$tmp/out" 2>> "$tmp/err"; then
	ok "list -J is one JSON object with a 'memory' array of the merged rows"
else
	nok "list -J output"
fi
