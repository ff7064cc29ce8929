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
#   out as \xHH, in memoffctl's errors, memoffd's log and its D-Bus errors;
# - output echoed them from /proc and sysfs: a process named "pin ESC [2J
#   newline fake CSI" (prctl(PR_SET_NAME) allows it), a cgroup and a mapped
#   file named with ESC, BEL and CSI, a DIMM link and auto_online_blocks with
#   ESC or a byte that is not UTF-8. Tables, job reports, status and jobs now
#   show each control character as \xHH, never a line of its own; JSON output
#   escapes every control character (C1 too), stays valid UTF-8, and gives
#   the process's, cgroup's and file's names back byte for byte.
#
# Needs: busctl (systemd), python3. Runs as any user; make check sets the
# write guard.
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

# ---- control characters in what the output echoes (/proc, sysfs) ----
# Block 3's page 0x18040, which the kernel log says failed to migrate, is
# mapped by pid 4242, whose name, cgroup and mapped file hold control
# characters (written as the kernel shows them: comm and cgroup raw, a newline
# in a file name as \012 in maps).
python3 - "$T" "$top_srcdir/tests/lib" <<'PY'
import os, sys
t = sys.argv[1]
sys.path.insert(0, sys.argv[2])
from fakeproc import KPF, migration_failure, put
put(t + "/proc/kpageflags", 0x18040, KPF["anon"] | KPF["mmap"] | KPF["lru"] | KPF["uptodate"])
with open(t + "/proc/kpageflags", "r+b") as f:
    f.truncate(0x78000 * 8)
pid = t + "/proc/4242"
os.makedirs(pid)
open(pid + "/comm", "wb").write(b"pin\x1b[2J\nfake\xc2\x9b\n")
open(pid + "/cgroup", "wb").write(b"0::/user.slice/a\x1b]0;owned\x07\xc2\x9b.scope\n")
open(pid + "/maps", "wb").write(b"10000000-10002000 rw-p 00000000 08:01 1234 /tmp/ev\x1b[31mil\xc2\x9b\\012x\n")
put(pid + "/pagemap", 0x10000, (1 << 63) | 0x18040)
migration_failure(t, 0x18040)
# a DIMM whose name holds ESC and a byte that is not UTF-8
os.makedirs(t + "/sys/devices/LNXSYSTM:00/PNP0C80:\xff\x1b[2J".encode("latin-1").decode("utf-8", "surrogateescape"))
os.symlink(b"../../../../LNXSYSTM:00/PNP0C80:\xff\x1b[2J", (t + "/sys/devices/system/memory/memory3/firmware_node").encode())
open(t + "/sys/devices/system/memory/auto_online_blocks", "wb").write(b"online\x1b[2J\n")
PY
# no_cntrl FILE: FILE holds no control character (C0 but newline, DEL, C1 in UTF-8 or as a byte)
no_cntrl() { ! LC_ALL=C grep -q "$(printf '[\001-\011\013-\037\177\200-\237]')" "$1"; }
# the JSON document in FILE parses, and its strings at PYTHON-EXPR equal the bytes given (Python)
json_has() {
	python3 -m json.tool "$1" > /dev/null && python3 - "$@" <<'PY'
import json, sys
d = json.load(open(sys.argv[1], encoding="utf-8"))
for expr, want in zip(sys.argv[2::2], sys.argv[3::2]):
    got = eval(expr, {"d": d}).encode("utf-8", "surrogatepass")
    want = want.encode("latin-1").decode("unicode_escape").encode("latin-1")
    assert got == want, (expr, got, want)
PY
}
COMM='pin\x1b[2J\nfake\xc2\x9b'
CGROUP='/user.slice/a\x1b]0;owned\x07\xc2\x9b.scope'
FILE='/tmp/ev\x1b[31mil\xc2\x9b\\012x'
OWNER='d["blocks"][0]["groups"][0]["owner"]'

ctl --direct pins -b 3 > "$T/out" 2> "$T/err"
check "memoffctl pins of a page mapped by a process named with ESC and a newline (exit $?)" \
	grep -qF 'pin\x1b[2J\x0afake\xc2\x9b' "$T/out"
check "... the table holds no control character and no forged line" \
	eval 'no_cntrl "$T/out" && ! grep -q "^fake" "$T/out"'
ctl --direct pins -b 3 -J > "$T/out.json" 2> "$T/err"
check "memoffctl pins -J: valid JSON, comm, cgroup and file name given back byte for byte" \
	json_has "$T/out.json" "$OWNER[\"comm\"]" "$COMM" "$OWNER[\"cgroup\"]" "$CGROUP" "$OWNER[\"mapping\"]" "$FILE"
check "... and every control character escaped (\\u001b, \\u009b), none raw" \
	eval 'no_cntrl "$T/out.json" && grep -qF "pin\\u001b[2J\\nfake\\u009b" "$T/out.json"'

LD_PRELOAD=$SHIM MEMOFF_TEST_STUCK_BLOCKS=3 ctl --direct offline -b 3 --attempt-timeout 200ms --deadline 1s \
	> "$T/out" 2> "$T/err"
check "an offline of that block gives up (exit $?) and names the owner in its summary, escaped" \
	grep -qF 'mapped by pin\x1b[2J\x0afake\xc2\x9b[4242] (at 0x10000000, /tmp/ev\x1b[31mil\xc2\x9b\012x)' "$T/out"
check "... its report holds no control character and no forged line" \
	eval 'no_cntrl "$T/out" && no_cntrl "$T/err" && ! grep -q "^fake" "$T/out"'
LD_PRELOAD=$SHIM MEMOFF_TEST_STUCK_BLOCKS=3 ctl --direct offline -b 3 --attempt-timeout 200ms --deadline 1s -J \
	> "$T/out.json" 2> "$T/err"
check "... its JSON report: valid, the owner's names byte for byte, no raw control character" \
	eval 'json_has "$T/out.json" "d[\"blocks\"][0][\"blocked_pages\"][\"groups\"][0][\"owner\"][\"comm\"]" "$COMM" &&
	      no_cntrl "$T/out.json"'

ctl list -o RANGE,DEVICE > "$T/out" 2> "$T/err"
check "memoffctl list: a DIMM named with ESC and a byte that is not UTF-8, escaped" \
	eval 'grep -qF "PNP0C80:\\xff\\x1b[2J" "$T/out" && no_cntrl "$T/out"'
ctl list -o RANGE,DEVICE -J > "$T/out.json" 2> "$T/err"
check "memoffctl list -J: valid JSON, ESC escaped, the stray byte as U+FFFD" \
	json_has "$T/out.json" 'd["memory"][1]["device"]' 'PNP0C80:\xef\xbf\xbd\x1b[2J'

MEMOFFD_ENV="LD_PRELOAD=$SHIM MEMOFF_TEST_STUCK_BLOCKS=3"
: > "$LOG"
check "memoffd starts on that tree" start_daemon
export MEMOFF_SOCKET=$T/run/control
ctl offline -b 3 --attempt-timeout 200ms --deadline 1s > "$T/out" 2> "$T/err"
check "an offline through memoffd (exit $?): the owner named in its report, escaped" \
	grep -qF 'mapped by pin\x1b[2J\x0afake\xc2\x9b[4242]' "$T/out"
check "... the report holds no control character and no forged line" \
	eval 'no_cntrl "$T/out" && no_cntrl "$T/err" && ! grep -q "^fake" "$T/out"'
ctl pins -b 3 -J > "$T/out.json" 2> "$T/err"
check "memoffctl pins -J through memoffd: the same names byte for byte, no raw control character" \
	eval 'json_has "$T/out.json" "$OWNER[\"comm\"]" "$COMM" "$OWNER[\"mapping\"]" "$FILE" && no_cntrl "$T/out.json"'
ctl status > "$T/out" 2> "$T/err"
check "memoffctl status: auto_online_blocks with ESC, escaped ($(grep auto_online "$T/out"))" \
	eval 'grep -qF "auto_online_blocks: online\\x1b[2J)" "$T/out" && no_cntrl "$T/out"'
ctl status -J > "$T/out.json" 2> "$T/err"
check "memoffctl status -J: valid, the value byte for byte" \
	json_has "$T/out.json" 'd["auto_online_blocks"]' 'online\x1b[2J'
ctl jobs > "$T/out" 2> "$T/err"
check "memoffctl jobs: no control character" eval 'grep -q "^ *1 " "$T/out" && no_cntrl "$T/out"'
unset MEMOFF_SOCKET
stop_daemon >/dev/null

plan_done
