#!/bin/sh
# TAP: memoffctl list against util-linux's lsmem on this machine's own /sys,
# read-only. JSON outputs are compared field for field (python3's json);
# summaries as text. Skips where lsmem 2.38 (the version memoffctl list
# follows), python3 or the kernel's memory-block sysfs is missing.
set -u
srcdir=${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}
builddir=${top_builddir:-$srcdir}
memoffctl=${MEMOFFCTL:-$builddir/src/memoffctl/memoffctl}

. "$srcdir/tests/lib/tap.sh"
. "$srcdir/tests/lib/cli.sh"

[ -x "$memoffctl" ] || skip_all "$memoffctl is not built"
[ -r /sys/devices/system/memory/block_size_bytes ] || skip_all "no memory-block sysfs (/sys/devices/system/memory) on this machine"
lsmem=$(command -v lsmem) || skip_all "lsmem (util-linux) is not installed"
ver=$("$lsmem" --version 2>/dev/null)
case $ver in
*" 2.38"|*" 2.38."*) ;;
*) skip_all "'$ver' is not util-linux 2.38, the version memoffctl list follows" ;;
esac
command -v python3 > /dev/null || skip_all "python3 is not installed"

cli_scratch live-lsmem

# Compare two JSON documents field for field; print the differences as TAP comments.
json_same() {
	python3 - "$1" "$2" <<'PY'
import json, sys

with open(sys.argv[1]) as f:
    want = json.load(f)
with open(sys.argv[2]) as f:
    got = json.load(f)
diffs = []
if set(want) != set(got):
    diffs.append("top-level keys: lsmem %s, memoffctl %s" % (sorted(want), sorted(got)))
w, g = want.get("memory", []), got.get("memory", [])
if len(w) != len(g):
    diffs.append("rows: lsmem %d, memoffctl %d" % (len(w), len(g)))
for i, (a, b) in enumerate(zip(w, g)):
    for k in sorted(set(a) | set(b)):
        if k not in a or k not in b or a[k] != b[k] or type(a[k]) is not type(b[k]):
            diffs.append("row %d %s: lsmem %r, memoffctl %r" % (i, k, a.get(k, "<absent>"), b.get(k, "<absent>")))
for d in diffs[:20]:
    print("# " + d)
sys.exit(1 if diffs else 0)
PY
}

all_cols=RANGE,SIZE,STATE,REMOVABLE,BLOCK,NODE,ZONES
set -- \
	"json|-J" \
	"json, every block, every lsmem column|-J -a -o $all_cols" \
	"json, ranges, every lsmem column, bytes|-J -b -o $all_cols" \
	"summary|--summary=only" \
	"summary in bytes|--summary=only -b" \
	"table, every lsmem column|-o $all_cols"
plan $#
for c in "$@"; do
	what=${c%%|*}
	args=${c#*|}
	# shellcheck disable=SC2086 # ARGS split on blanks on purpose
	"$lsmem" $args > "$tmp/want" 2> "$tmp/want.err"
	rc_want=$?
	# shellcheck disable=SC2086
	"$memoffctl" list $args > "$tmp/got" 2> "$tmp/got.err"
	rc_got=$?
	if [ $rc_want -ne 0 ] || [ $rc_got -ne 0 ]; then
		not_ok "$what: exit status lsmem $rc_want, memoffctl $rc_got"
		sed 's/^/# /' "$tmp/want.err" "$tmp/got.err"
		continue
	fi
	case $args in
	-J*) json_same "$tmp/want" "$tmp/got" > "$tmp/diff" ;;
	*) diff -u "$tmp/want" "$tmp/got" | sed 's/^/# /' > "$tmp/diff"; [ ! -s "$tmp/diff" ] ;;
	esac
	if [ $? -eq 0 ]; then
		ok "$what (memoffctl list $args = lsmem $args)"
	else
		not_ok "$what (memoffctl list $args vs lsmem $args)"
		cat "$tmp/diff"
	fi
done
