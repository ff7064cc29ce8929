#!/bin/sh
# TAP: memoffctl's command-line contract: exit codes, the usage-error format,
# common options anywhere, and list's columns and the verbs in memoffctl(8).
# Runs only against the captured trees.
set -u
srcdir=${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}
builddir=${top_builddir:-$srcdir}
memoffctl=${MEMOFFCTL:-$builddir/src/memoffctl/memoffctl}
man=$srcdir/doc/memoffctl.8
tree=$srcdir/tests/sysfs-trees/synthetic-gap-going-offline

. "$srcdir/tests/lib/tap.sh"
. "$srcdir/tests/lib/cli.sh"
cli_scratch cli

plan 23

run 0 "global --help" --help
if grep -q '^ list ' "$tmp/out"; then ok "global --help lists the list command"; else not_ok "global --help lists no 'list'"; fi
run 0 "--version" -V
usage
usage frobnicate
if grep -q "'frobnicate'" "$tmp/err"; then ok "unknown command names the bad text"; else not_ok "unknown command message"; fi
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
if grep -qF "$tmp/nothing/sys" "$tmp/err"; then ok "the failure names the path"; else not_ok "the failure names no path"; fi

# Common options anywhere, -s as lsmem spells --sysroot, --direct accepted.
"$memoffctl" list --sysroot "$tree" > "$tmp/a" 2>&1
"$memoffctl" --sysroot "$tree" list > "$tmp/b" 2>&1
"$memoffctl" list -s "$tree" --direct > "$tmp/c" 2>&1
if [ -s "$tmp/a" ] && cmp -s "$tmp/a" "$tmp/b" && cmp -s "$tmp/a" "$tmp/c"; then
	ok "--sysroot before or after the command, -s and --direct give the same output"
else
	: > "$tmp/out"; diff "$tmp/a" "$tmp/b" > "$tmp/err"; diff "$tmp/a" "$tmp/c" >> "$tmp/err"
	not_ok "--sysroot placement changes the output"
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
else : > "$tmp/out"; echo "missing:$missing" > "$tmp/err"; not_ok "columns undocumented"; fi

# (every verb's options against memoffctl(8): tests/help-man.sh)
"$memoffctl" --help > "$tmp/ghelp"
missing=
for cmd in $(sed -n '/^Commands:/,/^$/s/^ \([a-z][a-z-]*\) .*/\1/p' "$tmp/ghelp"); do
	grep -qx "\.SS $cmd" "$man" || missing="$missing $cmd"
done
if [ -z "$missing" ]; then ok "every command of --help has a section in memoffctl(8)"
else : > "$tmp/out"; echo "missing:$missing" > "$tmp/err"; not_ok "commands without a man section"; fi

"$memoffctl" list --sysroot "$tree" --direct -J > "$tmp/out" 2> "$tmp/err"
if [ $? -eq 0 ] && python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert list(d) == ["memory"] and len(d["memory"]) == 8' "$tmp/out" 2>> "$tmp/err"; then
	ok "list -J is one JSON object with a 'memory' array of the merged rows"
else
	not_ok "list -J output"
fi

# pins without the privilege to read page flags says so, once, on stderr,
# and does not claim that nothing would block.
if [ "$(id -u)" -eq 0 ] && command -v setpriv > /dev/null && id nobody > /dev/null 2>&1; then
	P=$tmp/pins
	mkdir -p "$P/proc" && cp -a "$tree/sys" "$P/" && chmod -R a+rX "$tmp"
	head -c $((8 * 0x20000)) /dev/zero > "$P/proc/kpageflags" && chmod 400 "$P/proc/kpageflags"
	setpriv --reuid=nobody --regid=nogroup --clear-groups \
		"$memoffctl" pins --direct --sysroot "$P" --no-kmsg -b 1 > "$tmp/out" 2> "$tmp/err"
	rc=$?
	if [ $rc -eq 1 ] && grep -q "^memoffctl: cannot read the page flags .*CAP_SYS_ADMIN" "$tmp/err" &&
	   ! grep -q "would block offlining" "$tmp/out" && ! grep -q "page flags" "$tmp/out" &&
	   [ "$(grep -c 'page flags' "$tmp/err")" -eq 1 ]; then
		ok "pins as a user: exit 1, 'needs CAP_SYS_ADMIN' once on stderr, no '0 pages would block'"
	else
		not_ok "pins as a user: exit $rc"
	fi
	"$memoffctl" pins --direct --sysroot "$P" --no-kmsg -b 1 > "$tmp/out" 2> "$tmp/err"
	if [ $? -eq 0 ] && grep -q "^0 pages in 1 block would block offlining.$" "$tmp/out"; then
		ok "pins as root on the same tree: exit 0, 0 pages would block"
	else
		not_ok "pins as root on the same tree"
	fi
else
	skip "pins as a user: needs root, setpriv and the user nobody"
	skip "pins as root"
fi
