#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Issue 12's smaller reproductions about outside input, each as a user would
# meet it, on a copy of a captured tree:
# - one malformed memory block entry (a state that is no state, a state file
#   that cannot be read) left the whole `memoffctl list` and ListBlocks
#   failing, naming the directory: now that block is left out with a warning
#   naming its file, the rest is listed, and `list` exits 64 (partly done);
# - memoryN with a huge N made N × block size wrap onto another block's
#   range: now that block is refused by name;
# - error messages echoed control characters from command-line arguments,
#   configuration values, sysfs contents and D-Bus strings: now each comes
#   out as \xHH, in memoffctl's errors, memoffd's log and its D-Bus errors.
#
# Needs: busctl (systemd). Runs as any user; make check sets the write guard.
set -u

. "$(dirname "$0")/memoffd-env.sh"

memoffd_tree
printf '[Offline]\nAttemptTimeout=300ms\n' > "$CONF"
ESC=$(printf '\033')
# has_esc FILE: whether FILE holds a raw ESC byte
has_esc() { grep -q "$ESC" "$1"; }
ctl() { "$MEMOFFCTL" --sysroot "$T" "$@"; }

# ---- malformed block entries: left out by name, the rest listed ----
printf 'xy%sz\n' "$ESC" > "$MEM/memory6/state"
rm "$MEM/memory5/state" && mkdir "$MEM/memory5/state"
mkdir "$MEM/memory36028797018963968" && echo online > "$MEM/memory36028797018963968/state"
ctl list -a -o BLOCK,STATE > "$T/out" 2> "$T/err"
rc=$?
check "memoffctl list with three malformed block entries exits 64, partly done (exit $rc)" test "$rc" = 64
check "... and lists the other 11 blocks of the 13" test "$(awk '$1 ~ /^[0-9]+$/' "$T/out" | wc -l)" = 11
check "... naming memory6/state and its invalid value, escaped" \
	grep -qF "warning: $MEM/memory6/state: invalid value \"xy\\x1bz\"" "$T/err"
check "... naming memory5/state and the reason it cannot be read" \
	grep -qF "warning: $MEM/memory5/state: Is a directory" "$T/err"
check "... refusing memory36028797018963968, whose start does not fit in 64 bits" \
	grep -qF "$MEM/memory36028797018963968: its start (index × block size) does not fit in 64 bits" "$T/err"
check "... and no raw control character reaches the terminal" eval '! has_esc "$T/err"'

check "memoffd starts on that tree" start_daemon
call ListBlocks > "$T/blocks" 2> "$T/err"
check "ListBlocks answers ($(head -c 200 "$T/err"))" test $? = 0
check "... with the 11 well-formed blocks" grep -q '^a(tttssis) 11 ' "$T/blocks"
check "... and memoffd's log names memory6/state, escaped" \
	grep -qF "$MEM/memory6/state: invalid value \"xy\\x1bz\"" "$LOG"
check "... and memoffd's log names memory5/state" grep -qF "$MEM/memory5/state: Is a directory" "$LOG"

# ---- control characters in a D-Bus string: escaped in the error and the log ----
out=$(call Offline 'ssa{sv}' size "1${ESC}[2J" 0 2>&1)
check "Offline of size \"1 ESC [2J\": refused, the size escaped in the error ($out)" \
	eval 'printf "%s" "$out" | grep -qF "invalid size '"'"'1\\x1b[2J'"'"'"'
out=$(call Offline 'ssa{sv}' size 1G 1 "zo${ESC}[2Jne" s Movable 2>&1)
check "an unknown option named with ESC: refused, the name escaped ($out)" \
	eval 'printf "%s" "$out" | grep -qF "unknown option '"'"'zo\\x1b[2Jne'"'"'"'
out=$(call Offline 'ssa{sv}' size 1G 1 zone s "Mov${ESC}[2Jable" 2>&1)
check "a zone with ESC: refused, the value escaped ($out)" \
	eval 'printf "%s" "$out" | grep -qF "invalid zone '"'"'Mov\\x1b[2Jable'"'"'"'
check "... and no raw control character in memoffd's log" eval '! has_esc "$LOG"'
stop_daemon >/dev/null

# ---- control characters in a command-line argument ----
ctl offline "1${ESC}]0;owned${ESC}\\" --dry-run > /dev/null 2> "$T/err"
check "memoffctl offline with an escape sequence as its size: the argument escaped in the error" \
	grep -qF "invalid size '1\\x1b]0;owned\\x1b\\'" "$T/err"
check "... and no raw control character in it" eval '! has_esc "$T/err"'
ctl list "--colour${ESC}[31m" > /dev/null 2> "$T/err"
check "an unknown option with an escape sequence: escaped ($(head -1 "$T/err"))" \
	eval 'grep -qF "\\x1b[31m" "$T/err" && ! has_esc "$T/err"'

# ---- control characters in the configuration ----
printf '[Offline]\nAttemptTimeout=3%s[2Js\nBell%s=1\n' "$ESC" "$(printf '\007')" > "$T/bad.conf"
"$MEMOFFD" --check-config -c "$T/bad.conf" > /dev/null 2> "$T/err"
check "memoffd --check-config: the bad value and key are named, escaped ($(head -1 "$T/err"))" \
	eval 'grep -qF "3\\x1b[2Js" "$T/err" && grep -qF "Bell\\x07" "$T/err"'
check "... and no raw control character in its output" eval '! grep -q "[[:cntrl:]]" "$T/err"'
cp "$T/bad.conf" "$CONF"
: > "$LOG"
check "memoffd starts with that configuration" start_daemon
check "... and logs the problems escaped, each on its line" \
	eval 'grep -qF "3\\x1b[2Js" "$LOG" && grep -qF "Bell\\x07" "$LOG" && ! grep -q "[[:cntrl:]]" "$LOG"'
stop_daemon >/dev/null

plan_done
