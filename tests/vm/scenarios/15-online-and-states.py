# SPDX-License-Identifier: LGPL-2.1-or-later
"""memoffctl online, as Movable by default, and the going-offline state in list.

Blocks taken offline come back with memoffctl online -b (Movable by default:
valid_zones reads Movable afterwards), with -z Movable, and by size; an
online of a block that is online already is done, not an error. While a
plain `echo offline` spins on a block with a pinned page, sysfs reads
going-offline and memoffctl list shows the block as on->off (lsmem's name
for it); once the write is interrupted the kernel rolls the block back to
online.
"""

import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import scenlib as S  # noqa: E402

REQUIRES = ["memoffctl", "pinner"]
DIMMS = ["512M"]
TIMEOUT = 240


def list_row(text, block):
    """The state column of `memoffctl list -a -o BLOCK,STATE` for a block."""
    for line in text.splitlines():
        f = line.split()
        if len(f) == 2 and f[0] == str(block):
            return f[1]
    return None


def run(t, vm):
    dimm = vm.dimm_blocks("d1")
    a, b, c = dimm[-3:]
    rc, out, err, _ = S.ctl(vm, "offline -b %d-%d" % (a, c))
    t.eq((rc, [S.state(vm, x) for x in (a, b, c)]), (0, ["offline"] * 3),
         "setup: blocks %d-%d offlined by memoffctl" % (a, c))
    t.ok("Movable" in S.zones(vm, c).split(), "an offline DIMM block may go to Movable (valid_zones)",
         S.zones(vm, c))

    # --- online ---------------------------------------------------------------
    rc, res, out, err, _ = S.ctl_json(vm, "online -b %d" % c)
    t.eq(rc, 0, "online -b %d exits 0" % c)
    t.eq(S.state(vm, c), "online", "the block reads online")
    t.eq(S.zones(vm, c), "Movable", "online without -z puts it in ZONE_MOVABLE (valid_zones Movable)")
    t.eq(S.json_blocks(res).get(c, {}).get("state_change"), "online_movable",
         "-J says it wrote online_movable")

    rc, out, err, _ = S.ctl(vm, "online -z Movable -b %d" % b)
    t.eq((rc, S.state(vm, b), S.zones(vm, b)), (0, "online", "Movable"),
         "online -z Movable -b %d: online, valid_zones Movable" % b)

    rc, res, out, err, _ = S.ctl_json(vm, "online 128M")
    t.eq(rc, 0, "online 128M exits 0")
    t.eq((S.state(vm, a), S.zones(vm, a)), ("online", "Movable"),
         "it brought the last offline block (%d) back, Movable" % a)

    rc, res, out, err, _ = S.ctl_json(vm, "online -b %d" % c)
    t.eq((rc, S.json_blocks(res).get(c, {}).get("outcome")), (0, "already"),
         "online of a block that is online already: exit 0, outcome already")
    t.ok(all(v == "online" for v in S.states(vm).values()), "every block is online again")

    # --- going-offline --------------------------------------------------------
    blk = dimm[1]
    pid, pins, _, text = S.start_pinner(vm, "--pin-block %d" % blk, "pin")
    if not t.ok([x for _, x in pins] == [blk], "pinner pins a page in block %d" % blk, text):
        return
    spin = S.spin_offline(vm, blk, 60, "spin")
    seen = S.wait_state(vm, blk, "going-offline", 30)
    t.ok(seen, "while a plain echo offline spins, sysfs state reads going-offline",
         lambda: S.state(vm, blk))
    lst = vm.sh("memoffctl list -a -o BLOCK,STATE")
    t.eq(list_row(lst, blk), "on->off", "memoffctl list -a shows the block as on->off")
    rows = [r for r in S.list_all(vm)["memory"] if str(r["block"]) == str(blk)]
    t.eq([r["state"] for r in rows], ["on->off"], "memoffctl list -J -a says on->off too")
    lst = vm.sh("memoffctl list -o RANGE,STATE,BLOCK")
    t.ok(re.search(r"on->off\s+%d$" % blk, lst, re.M),
         "without -a the going-offline block is a row of its own", lst)
    vm.kill(spin)
    t.ok(S.wait_state(vm, blk, "online", 30), "once the write is interrupted the block is online again",
         lambda: S.state(vm, blk))
    vm.kill(pid)
