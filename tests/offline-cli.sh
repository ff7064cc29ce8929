#!/bin/sh
# TAP: memoffctl offline / online on fake sysfs trees (state files are plain
# files, or a full FIFO that blocks a write the way a pinned page makes
# offline_pages() spin). Usage errors, dry runs, real runs, headroom, SIGINT,
# the deadline, JSON, --help against memoffctl(8), and a read-only dry run
# on the live machine. Never writes outside the trees it makes.
set -u
srcdir=${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}
builddir=${top_builddir:-$srcdir}
memoffctl=${MEMOFFCTL:-$builddir/src/memoffctl/memoffctl}

. "$srcdir/tests/lib/tap.sh"
. "$srcdir/tests/lib/sysfs-tree.sh"
. "$srcdir/tests/lib/cli.sh"
cli_scratch offline-cli

# A tree: 128M blocks; 0 spans zones, 1-7 Normal, 8-15 Movable (node 0),
# 16-17 offline "Normal Movable", 18 offline "Normal"; 4G RAM, 3G available.
mktree() {
	tree_new "$1"
	for i in $(seq 0 18); do
		if [ "$i" -eq 0 ]; then z=none; elif [ "$i" -lt 8 ]; then z=Normal
		elif [ "$i" -lt 16 ]; then z=Movable; elif [ "$i" -lt 18 ]; then z="Normal Movable"; else z=Normal; fi
		if [ "$i" -ge 16 ]; then tree_block "$1" "$i" offline "$z"; else tree_block "$1" "$i" online "$z"; fi
	done
	tree_meminfo "$1" 4194304 2097152 3145728
}
states() { for i in $(seq 0 18); do printf '%s:%s ' "$i" "$(cat "$1/sys/devices/system/memory/memory$i/state")"; done; }
state() { cat "$1/sys/devices/system/memory/memory$2/state"; }

plan 46

T=$tmp/tree
mktree "$T"
before=$(states "$T")

# --- help (tests/help-man.sh checks it against memoffctl(8)) ------------------
for verb in offline online; do
	run 0 "$verb --help" "$verb" --help
done

# --- bad input: exit 2 (1 for a block that does not exist), nothing changes
usage offline --sysroot "$T"
usage offline --sysroot "$T" 5X
usage offline --sysroot "$T" 100M
usage offline --sysroot "$T" 0x1-0x2
usage offline --sysroot "$T" 0x8000000-0x8ffffff
usage offline --sysroot "$T" -b 3-1
usage offline --sysroot "$T" -b x
usage offline --sysroot "$T" --deadline 0 1G
usage offline --sysroot "$T" --attempt-timeout soon 1G
usage offline --sysroot "$T" -z Foo 1G
usage offline --sysroot "$T" -b 9 -z Movable
usage offline --sysroot "$T" 1G 2G
usage online --sysroot "$T" --force -b 16
usage online --sysroot "$T" -z Normal,Movable -b 16
run 1 "a block that does not exist" offline --sysroot "$T" -b 40
check "the message names it" grep -q "block 40 does not exist" "$tmp/err"
check "bad input changed no block" test "$(states "$T")" = "$before"

# --- dry run ----------------------------------------------------------------
run 0 "dry run of 512M" offline --sysroot "$T" --dry-run 512M
check "the plan lists 4 planned Movable blocks and the headroom" \
	sh -c "test \$(grep -c ' planned ' '$tmp/out') -eq 4 && grep -q '^Plan: offline 512M of 512M' '$tmp/out' && grep -q '^Headroom: 3G available of 4G' '$tmp/out'"
check "a dry run changes nothing" test "$(states "$T")" = "$before"
run 64 "dry run of more than the Movable blocks" offline --sysroot "$T" --dry-run 2G
check "...says which blocks were left out" grep -q 'Eligible blocks: 8; left out: .*not in an allowed zone' "$tmp/out"
run 1 "dry run against the headroom reserve" offline --sysroot "$T" --dry-run --reserve 3G 128M
check "...is refused by the headroom guard" grep -q ' headroom ' "$tmp/out"

# --- real runs on the tree ----------------------------------------------------
run 0 "offline 512M" offline --sysroot "$T" 512M
check "the four highest Movable blocks went offline" \
	test "$(state "$T" 15)$(state "$T" 14)$(state "$T" 13)$(state "$T" 12)$(state "$T" 11)" = offlineofflineofflineofflineonline
if $have_python; then
	run 0 "offline -J of a range that is partly offline already" offline --sysroot "$T" -J 0x58000000-0x67ffffff
	check "JSON: one object per block with outcome, totals done" json '
b = {x["block"]: x for x in d["blocks"]}
assert set(b) == {11, 12}, b
assert b[11]["outcome"] == "done" and b[12]["outcome"] == "already"
assert b[11]["range"] == "0x0000000058000000-0x000000005fffffff"
assert b[11]["attempts"] == 1 and isinstance(b[11]["seconds"], float)
t = d["totals"]
assert t["done_blocks"] == 2 == t["wanted_blocks"] and t["exit_code"] == 0 and t["stop"] == "finished"
assert d["headroom"]["reserve"] == 256 << 20'
else
	skip "no python3"; skip "no python3"
fi
run 1 "offline refused by the headroom guard" offline --sysroot "$T" --reserve 3G -b 10
check "...names the reserve, block 10 stays online" sh -c "grep -q reserve '$tmp/err' && test \"\$(cat '$T/sys/devices/system/memory/memory10/state')\" = online"
run 0 "--force overrides the guard" offline --sysroot "$T" --reserve 3G --force -b 10
run 0 "online -b 16-18: Movable where the block allows it" online --sysroot "$T" -b 16-18
check "16, 17 online_movable, 18 online" test "$(state "$T" 16) $(state "$T" 17) $(state "$T" 18)" = "online_movable online_movable online"
mktree "$T"
run 0 "online -z Normal" online --sysroot "$T" -z normal -b 17
check "...writes online_kernel" test "$(state "$T" 17)" = online_kernel

# --- a write that spins: SIGINT and the deadline ------------------------------
if $have_python; then
	cat > "$tmp/spin.py" <<'EOF'
# Make STATE a FIFO that is full, with a reader that never reads: a write to
# it blocks like offline_pages() spinning on a pinned page. Run the command,
# optionally send it a signal after DELAY seconds, exit with its status.
import os, signal, subprocess, sys, time
state, sig, delay, cmd = sys.argv[1], sys.argv[2], float(sys.argv[3]), sys.argv[4:]
os.unlink(state)
os.mkfifo(state)
r = os.open(state, os.O_RDONLY | os.O_NONBLOCK)
w = os.open(state, os.O_WRONLY | os.O_NONBLOCK)  # kept open: reading the state must not block
for chunk in (b"x" * 4096, b"x"):
    try:
        while True:
            os.write(w, chunk)
    except BlockingIOError:
        pass
p = subprocess.Popen(cmd)
if sig != "none":
    time.sleep(delay)
    p.send_signal(getattr(signal, sig))
try:
    rc = p.wait(timeout=120)
except subprocess.TimeoutExpired:
    p.kill()
    rc = 124
sys.exit(rc if rc >= 0 else 128 - rc)
EOF
	mktree "$T"
	S15=$T/sys/devices/system/memory/memory15/state
	python3 "$tmp/spin.py" "$S15" SIGINT 0.5 "$memoffctl" offline --sysroot "$T" -J -b 14-15 \
		--attempt-timeout 100s > "$tmp/out" 2> "$tmp/err"
	rc=$?
	if [ $rc -eq 64 ]; then ok "SIGINT ends the spinning write, exit 64 (block 14 done)"; else not_ok "SIGINT: exit $rc, want 64"; fi
	check "...reported as cancelled, block 14 done" json '
b = {x["block"]: x for x in d["blocks"]}
assert b[14]["outcome"] == "done" and b[15]["outcome"] == "cancelled", b
assert d["totals"]["stop"] == "cancelled"'
	python3 "$tmp/spin.py" "$S15" SIGTERM 0.5 "$memoffctl" offline --sysroot "$T" -b 15 \
		--attempt-timeout 100s > "$tmp/out" 2> "$tmp/err"
	rc=$?
	if [ $rc -eq 1 ]; then ok "SIGTERM too, exit 1 (nothing done)"; else not_ok "SIGTERM: exit $rc, want 1"; fi
	python3 "$tmp/spin.py" "$S15" none 0 "$memoffctl" offline --sysroot "$T" -J -b 15 \
		--attempt-timeout 200ms --deadline 3s > "$tmp/out" 2> "$tmp/err"
	rc=$?
	if [ $rc -eq 1 ]; then ok "a block that never goes: the deadline ends it, exit 1"; else not_ok "deadline: exit $rc, want 1"; fi
	check "...timed out, retried with backoff" json '
b = d["blocks"][0]
assert b["outcome"] == "timed-out" and b["attempts"] >= 2 and b["errno"] == "EINTR", b
assert d["totals"]["stop"] == "deadline reached"'
	mktree "$T"
	python3 "$tmp/spin.py" "$S15" none 0 "$memoffctl" offline --sysroot "$T" -J --all-or-nothing -b 13-15 \
		--attempt-timeout 200ms --deadline 1s > "$tmp/out" 2> "$tmp/err"
	rc=$?
	if [ $rc -eq 1 ]; then ok "all-or-nothing that cannot finish: exit 1"; else not_ok "all-or-nothing: exit $rc, want 1"; fi
	check "...puts 13 and 14 back online_movable" sh -c "test \"\$(cat '$T/sys/devices/system/memory/memory13/state') \$(cat '$T/sys/devices/system/memory/memory14/state')\" = 'online_movable online_movable'"
else
	for i in 1 2 3 4 5 6 7; do skip "no python3"; done
fi

# --- the live machine, read-only ----------------------------------------------
if [ -r /sys/devices/system/memory/block_size_bytes ]; then
	"$memoffctl" offline --dry-run 512M > "$tmp/out" 2> "$tmp/err"
	rc=$?
	case $rc in
	0|1|64) ok "dry run on the live machine (exit $rc, nothing written)";;
	*) not_ok "dry run on the live machine: exit $rc";;
	esac
	check "...prints a plan" grep -q '^Plan: offline' "$tmp/out"
else
	skip "no memory-block sysfs here"; skip "no memory-block sysfs here"
fi
