# SPDX-License-Identifier: LGPL-2.1-or-later
"""A block with a pinned page: memoffctl offline ends by its deadline, and on SIGINT/SIGTERM.

pinner vmsplice()s a page of a Movable block into a pipe nobody reads, so
offline_pages() spins on it forever. memoffctl offline -b of that block must
end by its --deadline with "timed out" (exit 1, -J outcome timed-out), the
block still online and no other block changed. A SIGINT or SIGTERM during a
spinning attempt ends memoffctl at once (well within the attempt timeout)
with a report of what was done: exit 1 when nothing was, 64 when a block of
the request was already offlined; the pinned block is back online. Stall detection is off here
(--stall-grace 0): this is about the attempt timeout; 18-offline-stalled-pins
is about attempts that stall.
"""

import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import scenlib as S  # noqa: E402

REQUIRES = ["memoffctl", "pinner"]
DIMMS = ["512M"]
TIMEOUT = 300

DEADLINE = 6
ATTEMPT = 2
SLACK = 4  # process start, the census, the report: generous for TCG


def signal_midway(vm, args, sig, cond, name):
    """Start `memoffctl ARGS -J` in the background, wait until cond() holds
    (host side), send `sig`, and time how long memoffctl takes to exit.
    Returns (exit status, parsed JSON or None, stderr, seconds to exit)."""
    vm.spawn("memoffctl %s -J > /tmp/%s.json 2> /tmp/%s.err; echo $? > /tmp/%s.rc"
             % (args, name, name, name), name)
    ok = True
    try:
        vm.wait_until(cond, 60, interval=0.2, what="the attempt to spin")
    except Exception:
        ok = False
    out = vm.sh("p=$(pidof memoffctl); [ -n \"$p\" ] || exit 0; kill -%s $p; "
                "s=$(cut -d' ' -f1 /proc/uptime); i=0; "
                "while kill -0 $p 2> /dev/null && [ $i -lt 600 ]; do sleep 0.1; i=$((i + 1)); done; "
                "e=$(cut -d' ' -f1 /proc/uptime); echo \"T $s $e\"" % sig, timeout=120)
    m = re.search(r"T ([0-9.]+) ([0-9.]+)", out)
    secs = float(m.group(2)) - float(m.group(1)) if m else None
    vm.sh("i=0; while [ ! -s /tmp/%s.rc ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done" % name)
    rc = vm.run("cat /tmp/%s.rc" % name)[1].strip()
    try:
        obj = S.json.loads(vm.sh("cat /tmp/%s.json" % name))
    except ValueError:
        obj = None
    err = vm.run("cat /tmp/%s.err" % name)[1]
    return (int(rc) if rc.isdigit() else None), obj, err, (secs if ok else None)


def run(t, vm):
    dimm = vm.dimm_blocks("d1")
    blk = dimm[1]
    pid, pins, _, text = S.start_pinner(vm, "--pin-block %d" % blk, "pin")
    if not t.ok([b for _, b in pins] == [blk], "pinner pins a page in block %d" % blk, text):
        return
    t.diag("pinned pfn %#x in block %d" % (pins[0][0], blk))

    # --- the deadline -------------------------------------------------------
    before = S.list_all(vm)
    rc, out, err, secs = S.ctl(vm, "offline -b %d --stall-grace 0 --attempt-timeout %ds --deadline %ds"
                               % (blk, ATTEMPT, DEADLINE))
    t.diag("measured: offline of the pinned block returned after %.2f s (deadline %d s)"
           % (secs, DEADLINE))
    t.eq(rc, 1, "offline of the pinned block exits 1")
    t.ok(secs <= DEADLINE + SLACK, "it returns by its deadline (%d s, +%d s to start and report)"
         % (DEADLINE, SLACK), "took %.2f s" % secs)
    t.match(r"\btimed out\b", out, "its report says \"timed out\"")
    t.match(r"deadline", out + err, "and that the deadline ended the request")
    t.eq(S.state(vm, blk), "online", "the pinned block is still online")
    t.eq(S.list_all(vm), before, "memoffctl list -J -a is the same as before (no block changed)")

    rc, res, out, err, secs = S.ctl_json(vm, "offline -b %d --stall-grace 0 --attempt-timeout %ds --deadline %ds"
                                         % (blk, ATTEMPT, DEADLINE))
    rec = S.json_blocks(res).get(blk, {})
    t.eq(rc, 1, "with -J: exit 1")
    t.eq(rec.get("outcome"), "timed-out", "-J: the block's outcome is timed-out")
    t.ok((rec.get("attempts") or 0) >= 2, "-J: it was attempted more than once before the deadline",
         repr(rec))
    t.eq(((res or {}).get("totals") or {}).get("done_blocks"), 0, "-J: nothing done")
    t.eq(S.list_all(vm), before, "still no block changed")

    # --- SIGINT during a spinning attempt -----------------------------------
    rc, res, err, secs = signal_midway(
        vm, "offline -b %d --stall-grace 0 --attempt-timeout 30s --deadline 60s" % blk, "INT",
        lambda: S.state(vm, blk) == "going-offline", "int")
    t.ok(secs is not None, "the attempt spins (state going-offline) before SIGINT")
    if secs is not None:
        t.diag("measured: SIGINT to exit: %.2f s (attempt timeout 30 s)" % secs)
        t.ok(secs < 30, "SIGINT ends memoffctl within one attempt timeout", "%.2f s" % secs)
    t.eq(rc, 1, "after SIGINT with nothing done: exit 1")
    t.eq(S.json_blocks(res).get(blk, {}).get("outcome"), "cancelled",
         "-J reports the block's attempt as cancelled")
    t.eq(S.state(vm, blk), "online", "the pinned block is back online")

    # --- SIGTERM after one block of the request was done ---------------------
    other = dimm[2]
    rng = "%d-%d" % (min(blk, other), max(blk, other))
    rc, res, err, secs = signal_midway(
        vm, "offline -b %s --stall-grace 0 --attempt-timeout 5s --deadline 120s" % rng, "TERM",
        lambda: S.state(vm, other) == "offline" and S.state(vm, blk) == "going-offline", "term")
    t.ok(secs is not None, "block %d goes offline and the pinned one spins before SIGTERM" % other)
    if secs is not None:
        t.diag("measured: SIGTERM to exit: %.2f s (attempt timeout 5 s)" % secs)
        t.ok(secs < 5, "SIGTERM ends memoffctl within one attempt timeout", "%.2f s" % secs)
    recs = S.json_blocks(res)
    t.eq(rc, 64, "after SIGTERM with part of the request done: exit 64")
    t.eq((recs.get(other, {}).get("outcome"), recs.get(blk, {}).get("outcome")), ("done", "cancelled"),
         "-J reports what was done: block %d done, the pinned one cancelled" % other)
    t.eq((S.state(vm, other), S.state(vm, blk)), ("offline", "online"),
         "block %d stays offline, the pinned block is back online" % other)
    t.ok(S.alive(vm, pid), "the pinning process was left alone")
    vm.kill(pid)
