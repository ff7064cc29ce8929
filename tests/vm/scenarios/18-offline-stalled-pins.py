# SPDX-License-Identifier: LGPL-2.1-or-later
"""Pins in many huge pages: stalled attempts end early, and memoffd remembers the pinned blocks.

A 2 GiB Movable DIMM (16 blocks), THP on. pinner's workload (about 1 GiB of
anonymous memory) fills the lower blocks; in each of the top 8 blocks it pins
16 huge pages (one page in each, vmsplice), which otherwise hold little: by the
census those blocks are the cheapest, and the census cannot see a pin.

Through memoffd, `offline 512M -z Movable` must succeed (exit 0, 512 MiB
done) with no attempt running to its attempt timeout: each attempt on a
pinned block stalls (pgmigrate_fail rising, nothing moving) and ends within a
fraction of a second. memoffd then remembers those blocks (its state file,
`list -o PINNED`, `pins`), and a second request through the same daemon tries
none of them. Last, a block whose migration takes far longer than the grace
(a full workload block, --stall-grace 20ms) is not cut short: pages moving
are progress.
"""

import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import scenlib as S  # noqa: E402

REQUIRES = ["memoffctl", "memoffd", "pinner"]
DIMMS = ["2G"]
TIMEOUT = 600

PINNED_BLOCKS = 8
PINS_PER_BLOCK = 16
PINS_FILE = "/var/lib/memoff/pins"


def remembered(vm):
    """{block: [pfns]} of memoffd's pin store (pinmem.h), read in the guest."""
    out = vm.run("cat %s" % PINS_FILE)[1]
    recs = {}
    for line in out.splitlines():
        f = line.split()
        if f and f[0].isdigit() and len(f) >= 3:
            recs[int(f[0])] = [int(x, 16) for x in f[3:]]
    return recs


def attempts(res):
    """[(block, outcome, attempts)] of a daemon job's -J result, attempted blocks only."""
    return [(b["block"], b["outcome"], b["attempts"]) for b in (res or {}).get("blocks", [])
            if b.get("attempts")]


def run(t, vm):
    vm.sh("echo always > /sys/kernel/mm/transparent_hugepage/enabled")
    movable = vm.dimm_blocks("d1")
    bs = vm.block_size()
    targets = movable[-PINNED_BLOCKS:]
    pid, pins, _, text = S.start_pinner(
        vm, "--thp --mib 1024 --chunk-mib 4 --max-mib 2800 --stride 512 --count %d %s"
        % (PINS_PER_BLOCK, " ".join("--pin-block %d" % b for b in targets)), "pin", timeout=400)
    per_block = {b: sum(1 for _, pb in pins if pb == b) for b in targets}
    t.diag("pins per block: %s" % per_block)
    if not t.ok(all(per_block[b] >= 1 for b in targets),
                "pinner pins huge pages in each of the top %d blocks" % PINNED_BLOCKS, text[-2000:]):
        return
    t.diag("huge pages: %s" % vm.sh("grep AnonHugePages /proc/meminfo").strip())
    t.diag("plan: " + ", ".join("%d (migrate %d MiB)" % (b["block"], b["migrate_bytes"] // S.MIB)
                                for b in S.ctl_json(vm, "offline --direct --dry-run 512M -z Movable")[1]
                                .get("blocks", [])))

    daemon = vm.spawn("memoffd -v", "memoffd")
    vm.wait_output("/tmp/memoffd.out", r"Ready:", timeout=60)

    # --- first contact ------------------------------------------------------
    before = S.states(vm)
    rc, res, out, err, secs = S.ctl_json(vm, "offline 512M -z Movable", timeout=300)
    tried = attempts(res)
    log = vm.sh("cat /tmp/memoffd.out")
    timed_out = len(re.findall(r"attempt \d+ timed out after", log))
    stalled = re.findall(r"block (\d+): attempt \d+ stalled after (\S+):", log)
    t.diag("measured: first offline 512M through memoffd: %.2f s; tried %s" % (secs, tried))
    t.diag("stalled attempts: %s" % ", ".join("%s after %s" % s for s in stalled))
    t.eq(rc, 0, "offline 512M -z Movable through memoffd exits 0")
    t.eq(((res or {}).get("totals") or {}).get("done_bytes"), 512 * S.MIB, "-J: 512 MiB done")
    t.eq(timed_out, 0, "no attempt ran to its attempt timeout (memoffd logged none timed out)")
    pinned_tried = sorted({b for b, _, _ in tried if b in targets})
    t.ok(pinned_tried, "the census ranked pinned blocks first: some were tried", repr(tried))
    t.ok(len(stalled) >= len(pinned_tried) and {int(b) for b, _ in stalled} >= set(pinned_tried),
         "every pinned block tried ended stalled", "stalled %s, tried %s" % (stalled, pinned_tried))
    t.ok(all(o in ("stalled", "not-tried") for b, o, _ in tried if b in targets),
         "-J: the pinned blocks' outcome is stalled", repr(tried))
    after = S.states(vm)
    gone = sorted(b for b in after if before.get(b) == "online" and after[b] == "offline")
    t.eq(len(gone) * bs, 512 * S.MIB, "four blocks went offline")
    t.ok(not set(gone) & set(targets), "none of them a pinned block", repr(gone))

    # --- what memoffd remembers ---------------------------------------------
    mem = remembered(vm)
    t.diag("remembered: %s" % {b: ["%#x" % p for p in v[:3]] for b, v in mem.items()})
    t.ok(set(pinned_tried) <= set(mem), "memoffd's state file remembers every stalled block",
         "%s vs %s" % (sorted(mem), pinned_tried))
    pfns = {p for p, b in pins if b in pinned_tried}
    t.ok(all(set(mem.get(b, [])) for b in pinned_tried),
         "with the pages that blocked it", repr(mem))
    t.diag("remembered PFNs that pinner pinned (its huge pages' heads): %d of %d"
           % (len(pfns & {p for v in mem.values() for p in v}), len(pfns)))
    lst = S.ctl_json(vm, "list -a -o BLOCK,PINNED")[1]
    shown = {int(r["block"]): r.get("pinned") for r in (lst or {}).get("memory", [])}
    t.ok(all((shown.get(b) or 0) >= 1 for b in pinned_tried), "list -o PINNED counts them",
         repr({b: shown.get(b) for b in targets}))
    rc, out = vm.run("memoffctl pins -b %d" % pinned_tried[0] if pinned_tried else "false", timeout=120)
    t.match(r"memoffd remembers .*\n\s+block %d: last seen" % (pinned_tried or [-1])[0], out,
            "memoffctl pins shows what memoffd remembers of the block")

    # --- a second request through the same memoffd ---------------------------
    rc, res2, out, err, secs2 = S.ctl_json(vm, "offline 256M -z Movable", timeout=300)
    tried2 = attempts(res2)
    t.diag("measured: second offline 256M through memoffd: %.2f s; tried %s" % (secs2, tried2))
    t.eq(rc, 0, "a second request (256M) exits 0")
    t.ok(not {b for b, _, _ in tried2} & set(mem), "it tries no block memoffd remembers as pinned",
         repr(tried2))
    log2 = vm.sh("cat /tmp/memoffd.out")[len(log):]
    t.eq(len(re.findall(r"stalled after|timed out after", log2)), 0, "and no attempt of it stalled or timed out")

    # --- slow but moving: not cut short --------------------------------------
    full = [b for b in movable if S.state(vm, b) == "online" and b not in targets]
    plan = {b["block"]: b["migrate_bytes"] for b in
            S.ctl_json(vm, "offline --direct --dry-run -b %d-%d" % (full[0], full[-1]))[1].get("blocks", [])
            if b["block"] in full}
    busiest = max(plan, key=plan.get)
    rc, res3, out, err, secs3 = S.ctl_json(
        vm, "offline --direct -b %d --stall-grace 20ms --max-attempts 1" % busiest, timeout=120)
    rec = S.json_blocks(res3).get(busiest, {})
    t.diag("measured: block %d, %d MiB to migrate, grace 20 ms: %.2f s, %s"
           % (busiest, plan[busiest] // S.MIB, secs3, rec.get("outcome")))
    t.ok(plan[busiest] >= 64 * S.MIB, "a block with at least 64 MiB to migrate", repr(plan))
    t.eq((rc, rec.get("outcome"), rec.get("attempts")), (0, "done", 1),
         "its migration, far longer than a 20 ms grace, is not cut short (done in one attempt)")

    t.ok(S.alive(vm, pid), "the workload is still running")
    t.eq(S.oom_kills(vm), 0, "nothing was OOM-killed")
    vm.kill(daemon)
    vm.kill(pid)
