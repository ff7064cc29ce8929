# SPDX-License-Identifier: LGPL-2.1-or-later
"""A SIZE request reaches its size with other blocks when some Movable blocks hold pinned pages.

A 512 MiB DIMM gives four Movable blocks. pinner holds 256 MiB of anonymous
memory (it lands in the lower blocks) and pins a page in each of the two
highest blocks, which otherwise hold little: by the census they are cheaper
than the full blocks. memoffctl offline of two blocks' worth must offline
exactly the two unpinned blocks, migrating the workload out of them (exit 0),
and leave the pinned blocks online, whatever order it tried them in.
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import scenlib as S  # noqa: E402

REQUIRES = ["memoffctl", "pinner"]
DIMMS = ["512M"]
TIMEOUT = 300


def run(t, vm):
    movable = vm.dimm_blocks("d1")
    bs = vm.block_size()
    want = movable[-2:]
    pid, pins, _, text = S.start_pinner(
        vm, "--mib 256 " + " ".join("--pin-block %d" % b for b in want), "pin")
    pinned = sorted({b for _, b in pins})
    if not t.eq(pinned, want, "pinner pins a page in each of blocks %s" % want):
        t.diag(text)
        return
    free = [b for b in movable if b not in pinned]
    size = len(free) * bs
    rc, plan, out, err, _ = S.ctl_json(vm, "offline --dry-run %dM" % (size // S.MIB))
    t.diag("plan: " + ", ".join("%d (migrate %d MiB)" % (b["block"], b["migrate_bytes"] // S.MIB)
                                for b in (plan or {}).get("blocks", [])))
    t.diag("the workload's pages: %s" % ", ".join(
        "%d: %d MiB" % (b["block"], b["migrate_bytes"] // S.MIB)
        for b in S.ctl_json(vm, "offline --dry-run -b %d-%d" % (movable[0], movable[-1]))[1]["blocks"]))

    before = S.states(vm)
    mig0 = S.vmstat(vm)["pgmigrate_success"]
    rc, res, out, err, secs = S.ctl_json(
        vm, "offline %dM --attempt-timeout 3s --deadline 90s" % (size // S.MIB), timeout=180)
    after = S.states(vm)
    t.diag("measured: offline %d MiB: %.2f s, %d pages migrated"
           % (size // S.MIB, secs, S.vmstat(vm)["pgmigrate_success"] - mig0))
    t.diag("tried: " + ", ".join("%d %s x%d" % (b["block"], b["outcome"], b["attempts"])
                                 for b in (res or {}).get("blocks", [])))
    t.eq(rc, 0, "offline %dM exits 0" % (size // S.MIB))
    t.eq(((res or {}).get("totals") or {}).get("done_bytes"), size, "-J: the whole size is done")
    gone = sorted(b for b in after if before.get(b) == "online" and after[b] == "offline")
    t.eq(gone, free, "exactly the unpinned Movable blocks went offline")
    t.eq(len(gone) * bs, size, "the blocks offlined add up to the size asked for")
    t.ok(all(after[b] == "online" for b in pinned), "the pinned blocks are still online",
         repr({b: after[b] for b in pinned}))
    t.ok(all(after[b] == before[b] for b in after if b not in movable),
         "no boot memory block changed state")
    t.ok(S.alive(vm, pid), "the workload is still running")
    t.eq(S.oom_kills(vm), 0, "nothing was OOM-killed")
    vm.kill(pid)
