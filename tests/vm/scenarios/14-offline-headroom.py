# SPDX-License-Identifier: LGPL-2.1-or-later
"""The headroom guard: an offline the rest of memory has no room for is refused.

The guest has 512 MiB of boot memory and a 512 MiB DIMM (four Movable
blocks). A workload holds most of its memory (pinner --hold, sized from
MemAvailable to leave about 300 MiB), so that taking the DIMM's 512 MiB
offline would need more memory than is available: the kernel would OOM-kill
to make room. memoffctl offline 512M and
offline -b of a full block are refused (exit 1, a message about the reserve),
nothing changes, the workload survives and the kernel log has no "Out of
memory: Killed". The guard is on unless asked otherwise: -J says it is
enforced, and only --force (here with --dry-run) plans past it.
"""

import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import scenlib as S  # noqa: E402

REQUIRES = ["memoffctl", "pinner"]
DIMMS = ["512M"]
VM_ARGS = {"mem": "512M"}
TIMEOUT = 300

LEAVE_MIB = 300  # what the workload leaves available: less than a block + the 256 MiB reserve


def meminfo(vm, key):
    m = re.search(r"^%s:\s+(\d+) kB" % key, vm.sh("cat /proc/meminfo"), re.M)
    return int(m.group(1)) * 1024 if m else None


def run(t, vm):
    movable = vm.dimm_blocks("d1")
    mib = meminfo(vm, "MemAvailable") // S.MIB - LEAVE_MIB
    pid, _, _, text = S.start_pinner(vm, "--mib %d --hold" % mib, "work", timeout=240)
    t.ok("READY" in text, "the workload holds %d MiB" % mib, text)
    avail = meminfo(vm, "MemAvailable")
    rc, plan, out, err, _ = S.ctl_json(vm, "offline --dry-run --force -b %d-%d"
                                       % (movable[0], movable[-1]))
    blocks = (plan or {}).get("blocks", [])
    migrate = sum(b["migrate_bytes"] for b in blocks)
    full = [b["block"] for b in blocks if b["migrate_bytes"] >= 120 * S.MIB]
    t.diag("MemAvailable %d MiB; the DIMM's blocks hold %d MiB to migrate; full blocks: %s"
           % (avail // S.MIB, migrate // S.MIB, full))
    t.ok(full and migrate > avail,
         "offlining the DIMM's 512 MiB would need more memory than is available",
         "available %d MiB, to migrate %d MiB" % (avail // S.MIB, migrate // S.MIB))

    before = S.list_all(vm)
    rc, out, err, secs = S.ctl(vm, "offline 512M")
    t.eq(rc, 1, "offline 512M is refused: exit 1")
    t.match(r"reserve", err, "the message says the memory reserve would be breached")
    t.diag((out + "\n" + err).strip())
    rc, res, out, err, secs = S.ctl_json(vm, "offline -b %d" % full[0])
    t.eq(rc, 1, "offline -b %d (a full block) is refused: exit 1" % full[0])
    hr = (res or {}).get("headroom") or {}
    t.eq(hr.get("enforced"), True, "-J: the headroom guard is enforced without --force")
    t.ok(hr.get("reserve", 0) >= 256 * S.MIB, "-J: with the default reserve (at least 256 MiB)",
         repr(hr))
    t.eq(S.json_blocks(res).get(full[0], {}).get("attempts"), 0, "-J: the block was never attempted")
    t.eq(S.list_all(vm), before, "no block changed state")
    t.ok(S.alive(vm, pid), "the workload is alive")
    t.eq(S.oom_kills(vm), 0, "no \"Out of memory: Killed\" in the guest's kernel log")

    rc, out, err, _ = S.ctl(vm, "offline --dry-run --force 512M")
    t.eq(rc, 0, "only with --force would the same request go ahead (dry run: exit 0)")
    t.match(r"not enforced: --force", out, "and the plan says the guard is off")
    rc, out = vm.run("memoffctl offline --help")
    t.match(r"--force .*headroom", out, "--help describes --force as skipping the headroom guard")
    t.eq(S.list_all(vm), before, "the dry runs changed nothing")
    vm.kill(pid)
