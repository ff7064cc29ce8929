# SPDX-License-Identifier: LGPL-2.1-or-later
"""memoffctl offline of a free block, and of a busy block whose pages migrate.

A free Movable block goes offline at once (exit 0, -J says done, nothing
migrated). Then a workload holds anonymous memory and a tmpfs file mapped
(pinner --hold --file): the block holding most of the file's pages goes
offline, the kernel migrates its pages (pgmigrate_success rises), and the
workload is still alive with the file's contents unchanged.
"""

import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import scenlib as S  # noqa: E402

REQUIRES = ["memoffctl", "pinner"]
DIMMS = ["512M", "512M"]
TIMEOUT = 300


def rss(vm, pid):
    rc, out = vm.run("grep VmRSS /proc/%d/status" % pid)
    m = re.search(r"VmRSS:\s+(\d+) kB", out)
    return int(m.group(1)) if m else None


def run(t, vm):
    movable = vm.dimm_blocks("d1") + vm.dimm_blocks("d2")
    bs = vm.block_size()

    # --- a free block -------------------------------------------------------
    rc, plan, out, err, _ = S.ctl_json(vm, "offline --dry-run -b %d-%d" % (movable[0], movable[-1]))
    free = [b["block"] for b in plan["blocks"] if b["migrate_bytes"] == 0] if plan else []
    if not t.ok(free, "the census finds a Movable block with nothing to migrate", out + err):
        return
    blk = free[-1]
    before = S.list_all(vm)
    mig0 = S.vmstat(vm)["pgmigrate_success"]
    rc, res, out, err, secs = S.ctl_json(vm, "offline -b %d" % blk)
    t.diag("measured: offline of free block %d: %.2f s" % (blk, secs))
    t.eq(rc, 0, "offline -b %d of a free block exits 0" % blk)
    rec = S.json_blocks(res).get(blk, {})
    t.eq((rec.get("outcome"), rec.get("attempts")), ("done", 1), "-J says done after one attempt")
    t.eq(((res or {}).get("totals") or {}).get("done_bytes"), bs, "-J counts one block done")
    t.eq(S.state(vm, blk), "offline", "the block reads offline in sysfs")
    t.eq(S.vmstat(vm)["pgmigrate_success"] - mig0, 0, "no page had to migrate")
    after = S.list_all(vm)
    t.ok([str(r["block"]) for r in after["memory"] if r["state"] == "offline"] == [str(blk)],
         "memoffctl list shows exactly that block offline",
         lambda: "before %r\nafter %r" % (before, after))

    # --- a busy block: a workload's pages migrate ---------------------------
    vm.sh("head -c %d /dev/urandom > /dev/shm/data && md5sum /dev/shm/data > /tmp/data.md5"
          % (32 * S.MIB), timeout=120)
    pid, pins, files, text = S.start_pinner(vm, "--mib 96 --hold --file /dev/shm/data", "work")
    busy = {b: n for b, n in files.items() if b in movable and b != blk}
    if not t.ok(busy, "the workload's file pages sit in Movable blocks", text[-2000:]):
        return
    target = max(busy, key=lambda b: busy[b])
    t.diag("workload: 96 MiB anonymous + 32 MiB tmpfs file; block %d holds %d of its file pages"
           % (target, busy[target]))
    rc, plan, out, err, _ = S.ctl_json(vm, "offline --dry-run -b %d" % target)
    mig = S.json_blocks(plan).get(target, {}).get("migrate_bytes") or 0
    t.ok(mig >= busy[target] * 4096, "the census counts at least the file's pages as to migrate",
         "migrate_bytes %d, file pages %d" % (mig, busy[target]))
    rss0 = rss(vm, pid)
    mig0 = S.vmstat(vm)["pgmigrate_success"]
    rc, res, out, err, secs = S.ctl_json(vm, "offline -b %d" % target, timeout=180)
    moved = S.vmstat(vm)["pgmigrate_success"] - mig0
    t.diag("measured: offline of busy block %d: %.2f s, %d pages migrated" % (target, secs, moved))
    t.eq(rc, 0, "offline of the busy block exits 0")
    t.eq(S.json_blocks(res).get(target, {}).get("outcome"), "done", "-J says done")
    t.eq(S.state(vm, target), "offline", "the busy block reads offline")
    t.ok(moved >= busy[target], "pgmigrate_success rose by at least the file pages that were there",
         "rose by %d, %d file pages were in the block" % (moved, busy[target]))
    t.ok(S.alive(vm, pid), "the workload is still running")
    rc, out = vm.run("md5sum -c /tmp/data.md5")
    t.eq(rc, 0, "the tmpfs file it maps reads back unchanged")
    rss1 = rss(vm, pid)
    t.ok(rss1 is not None and rss1 == rss0,
         "the workload still has all its memory resident (VmRSS unchanged)",
         "VmRSS before %s kB, after %s kB" % (rss0, rss1))
    t.eq(S.oom_kills(vm), 0, "nothing was OOM-killed")
    vm.kill(pid)
