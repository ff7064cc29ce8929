#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Every verb's --help lists the options its section of memoffctl(8)
# documents, no more and no fewer (the common options are documented once,
# under OPTIONS), in the one help layout: each option's text starts in the
# same column. And a usage error points at the verb's own help.
set -u

top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
CTL=$top_builddir/src/memoffctl/memoffctl
MAN=$top_srcdir/doc/memoffctl.8
. "$top_srcdir/tests/lib/tap.sh"

[ -x "$CTL" ] || skip_all "memoffctl was not built"
command -v python3 >/dev/null || skip_all "python3 is not installed"

TMP=$(mktemp -d "${TMPDIR:-/tmp}/help-man.XXXXXX") || exit 99
trap 'rm -rf "$TMP"' EXIT
verbs=$("$CTL" --help | sed -n '/^Commands:/,/^$/s/^ \([a-z]*\) .*/\1/p')
plan $(( 3 * $(wc -w <<<"$verbs") + 1 ))
[ "$(wc -w <<<"$verbs")" -ge 10 ]
point $? "memoffctl --help lists the verbs ($(echo $verbs))"

for v in $verbs; do
	out=$(python3 - "$MAN" "$v" <("$CTL" "$v" --help) <<'PY'
import re, sys
man, verb, helpfile = sys.argv[1], sys.argv[2], sys.argv[3]
common = {"--sysroot", "--procroot", "--direct", "--help", "--version", "-h", "-V"}
# the verb's section: from ".SS verb" to the next .SS or .SH
section, inside = [], False
for line in open(man):
    if line.startswith(".SS ") or line.startswith(".SH "):
        inside = line.split()[1:2] == [verb]
        continue
    if inside:
        section.append(line.rstrip("\n"))
doc = set()
for i, line in enumerate(section):
    if i and section[i - 1] in (".TP", ".TQ") and re.match(r"\.(B|BR|BI|IR) ", line):
        for o in re.findall(r"\\-\\-([a-z](?:[a-z]|\\-)*)|\\-([A-Za-z])\b", line):
            doc.add("--" + o[0].replace("\\-", "-") if o[0] else "-" + o[1])
helped = set()
for line in open(helpfile):
    m = re.match(r"^ (-[A-Za-z])?(?:, )?( *--[a-z][a-z-]*)?", line)
    if m and (m.group(1) or m.group(2)):
        if m.group(1):
            helped.add(m.group(1))
        if m.group(2):
            helped.add(m.group(2).strip())
doc -= common
helped -= common
if doc != helped:
    print("only in --help: %s; only in memoffctl(8): %s" % (sorted(helped - doc) or "-", sorted(doc - helped) or "-"))
    sys.exit(1)
print(" ".join(sorted(helped)))
PY
	)
	point $? "memoffctl $v --help and memoffctl(8) document the same options: ${out:-none}"
	# one layout: every option's text starts in column 28 (or on the next line, there)
	cols=$("$CTL" "$v" --help | sed -n '/^Options:/,/^$/p' | grep -E '^ +-' |
		awk '{ line = $0; sub(/^ +-[^ ]*( [^ ]+)*  +/, "", line); if (line != $0) print length($0) - length(line) + 1 }' | sort -u)
	[ "$cols" = 28 ]
	point $? "memoffctl $v --help: the options' texts line up (columns: $(echo $cols))"
	"$CTL" "$v" --no-such-option >/dev/null 2>"$TMP/err"
	grep -q "^Try 'memoffctl $v --help'.$" "$TMP/err"
	point $? "memoffctl $v with a bad option points at 'memoffctl $v --help'"
done
