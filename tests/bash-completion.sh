#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# memoffctl's bash completion (shell-completion/bash/memoffctl), sourced into
# bash with bash-completion's own functions, asked what a user would press Tab
# for: verbs, common options, a verb's options (read from its --help), block
# numbers of a captured sysfs tree (--sysroot) by state, and job numbers
# (from `memoffctl jobs`, here a stand-in that prints a daemon's table).
set -u
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
. "$top_srcdir/tests/lib/tap.sh"
bc=
for f in /usr/share/bash-completion/bash_completion /etc/bash_completion; do
	[ -r "$f" ] && { bc=$f; break; }
done
[ -n "$bc" ] || skip_all "bash-completion is not installed"
ctl=$top_builddir/src/memoffctl/memoffctl
[ -x "$ctl" ] || skip_all "$ctl not built"

# shellcheck source=/dev/null
. "$bc"
# shellcheck source=../shell-completion/bash/memoffctl
. "$top_srcdir/shell-completion/bash/memoffctl"

# complete LINE: COMPREPLY for the last word of LINE (a trailing space
# completes an empty word), sorted, one a line.
complete_line()
{
	local line=$1
	read -r -a COMP_WORDS <<<"$line"
	[[ $line == *' ' ]] && COMP_WORDS+=('')
	COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
	COMP_LINE=$line
	COMP_POINT=${#line}
	COMPREPLY=()
	_memoffctl "${COMP_WORDS[0]}" "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]:-}"
	printf '%s\n' "${COMPREPLY[@]}" | LC_ALL=C sort
}

# expect NAME LINE WANT...: the completions of LINE are exactly WANT.
expect()
{
	local name=$1 line=$2 got want
	shift 2
	got=$(complete_line "$line" | tr '\n' ' ')
	want=$(printf '%s\n' "$@" | LC_ALL=C sort | tr '\n' ' ')
	if [ "$got" = "$want" ]; then
		ok "$name"
	else
		not_ok "$name"
		diag "'$line<TAB>': got '$got', want '$want'"
	fi
}

# A memoffctl as the user runs it: the built one, whose `jobs` answers as a
# daemon with two finished jobs, one running and one queued would.
bindir=$(mktemp -d "${TMPDIR:-/tmp}/memoff-bashcomp.XXXXXX")
trap 'rm -rf "$bindir"' EXIT
cat >"$bindir/memoffctl" <<STUB
#!/bin/sh
if [ "\$1" = jobs ]; then
	printf '%5s %-8s %-9s %-12s %9s %s\n' ID KIND STATE RESULT DONE REQUEST \\
		3 offline finished done 1/1 'offline blocks 33' \\
		4 offline finished failed 0/1 'offline blocks 34' \\
		5 release running - 0/4 'release 512M' \\
		6 online queued - 0/2 'online blocks 40-41'
	exit 0
fi
exec "$ctl" "\$@"
STUB
chmod +x "$bindir/memoffctl"
PATH=$bindir:$PATH

tree=$top_srcdir/tests/sysfs-trees/qemu-2dimm
online=$(cd "$tree/sys/devices/system/memory" && grep -l '^online$' memory*/state | sed 's|memory\([0-9]*\)/state|\1|')
offline=$(cd "$tree/sys/devices/system/memory" && grep -l '^offline$' memory*/state | sed 's|memory\([0-9]*\)/state|\1|')
all=$(cd "$tree/sys/devices/system/memory" && printf '%s\n' memory[0-9]* | sed 's/memory//')

# The block lists below are word lists: unquoted on purpose.
expect "verbs" "memoffctl " list offline online pins release target status jobs watch cancel hotplug
expect "verbs by prefix" "memoffctl o" offline online
expect "common options before the verb" "memoffctl --" --help --version --sysroot --procroot --direct
expect "a verb's options come from its --help" "memoffctl offline --dr" --dry-run
expect "release's options" "memoffctl release --ej" --eject-timeout
expect "target's options" "memoffctl target --d" --deadline --direct
expect "offline -b: the online blocks of the --sysroot tree" \
	"memoffctl --sysroot $tree offline -b " $online
expect "online -b: the offline blocks" "memoffctl --sysroot $tree online -b " $offline
# shellcheck disable=SC2046,SC2086
expect "pins -b: every block, by prefix" "memoffctl --sysroot $tree pins -b 3" \
	$(printf '%s\n' $all | grep '^3')
expect "offline with a size: no block numbers" "memoffctl --sysroot $tree offline "
expect "--zone values" "memoffctl offline -z M" Movable
expect "cancel: the queued and running jobs" "memoffctl cancel " 5 6
expect "watch: every job" "memoffctl watch " 3 4 5 6
plan_done
[ "$tap_failed" -eq 0 ]
