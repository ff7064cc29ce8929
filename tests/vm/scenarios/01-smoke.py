# SPDX-License-Identifier: LGPL-2.1-or-later
"""Smoke: the harness works, and the raw kernel behaves as DESIGN.md says.

Boots with no DIMM, hot-adds one over QMP and sees its blocks come up online
in ZONE_MOVABLE, linked to their ACPI memory device. Then the baseline memoff
builds on, with nothing but `echo > state`: a block holding a vmsplice-pinned
page does not offline (the write spins until a signal ends it, and the kernel
log names the pinned PFN), a free block offlines at once, a pin that goes
away lets a spinning offline finish, and device_del of a DIMM with a pinned
page completes only once the pin is gone.
"""

import os
import re
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import scenlib as S  # noqa: E402
from scenlib import MEM, MIB  # noqa: E402

REQUIRES = ["pinner"]
DIMMS = []
TIMEOUT = 420


def run(t, vm):
    # --- what the guest looks like at boot -------------------------------
    bs = vm.block_size()
    t.ok(bs >= 128 * MIB and bs & (bs - 1) == 0,
         "block_size_bytes is a power of two of at least 128 MiB", "block size %#x" % bs)
    t.diag("measured: memory block size %d MiB" % (bs // MIB))
    boot = vm.blocks()
    t.eq(len(boot), (1 << 30) // bs, "1 GiB of boot memory shows as that many blocks")
    t.ok(all(b["state"] == "online" for b in boot.values()), "every boot block is online",
         lambda: repr(boot))
    t.ok(not any("Movable" in b["zones"] for b in boot.values()),
         "no boot block is in ZONE_MOVABLE", lambda: repr(boot))

    # --- hot-add a 512 MiB DIMM over QMP ---------------------------------
    since = len(vm.events)
    t0 = time.monotonic()
    vm.hotplug_dimm("d1", "512M")
    ev = vm.wait_event("ACPI_DEVICE_OST", 30, since=since,
                       match=lambda d: d.get("info", {}).get("device") == "d1")
    t.eq(ev["data"]["info"].get("status"), 0, "the guest's ACPI acknowledges the hot-add (_OST 0)")
    info = vm.dimms_info()["d1"]
    dimm = list(range(info["addr"] // bs, (info["addr"] + info["size"]) // bs))
    t.eq(len(dimm), 512 * MIB // bs, "the DIMM spans 512 MiB worth of blocks")

    def dimm_online():
        b = vm.blocks()
        return all(n in b and b[n]["state"] == "online" for n in dimm) and b
    blocks = vm.wait_until(dimm_online, 60, what="the DIMM's blocks to come online")
    t.diag("measured: hot-add to all blocks online: %.1f s" % (time.monotonic() - t0))
    t.ok(all(blocks[n]["zones"] == "Movable" for n in dimm),
         "the DIMM's blocks are online in ZONE_MOVABLE (valid_zones)",
         lambda: repr({n: blocks[n] for n in dimm}))
    t.ok(set(blocks) == set(boot) | set(dimm), "no other block appeared",
         lambda: repr(sorted(blocks)))

    fw = vm.sh("readlink %s/memory%d/firmware_node" % (MEM, dimm[0])).strip()
    m = t.match(r"(PNP0C80:[0-9a-fA-F]+)$", fw, "a DIMM block links to its ACPI memory device")
    if m:
        dev = m.group(1)
        phys = vm.sh("cd /sys/bus/acpi/devices/%s && for l in physical_node*; do "
                     "readlink -f $l; done" % dev)
        linked = sorted(int(x) for x in re.findall(r"/memory(\d+)$", phys, re.M))
        t.eq(linked, dimm, "the ACPI device lists exactly the DIMM's blocks as physical_node links")
    for n in boot:
        rc, _ = vm.run("test -e %s/memory%d/firmware_node" % (MEM, n))
        if rc == 0:
            t.ok(False, "boot block %d has no firmware_node" % n)
            break
    else:
        t.ok(True, "no boot block has a firmware_node link")

    # --- a pinned page stops a plain offline -----------------------------
    lo, hi = info["addr"], info["addr"] + info["size"] - 1
    pid, pins, _, text = S.start_pinner(vm, "--mib 16 --pin-range %#x-%#x" % (lo, hi), "pin")
    t.ok(len(pins) == 1 and pins[0][1] in dimm, "pinner pins one page inside the DIMM", text)
    if not pins:
        return
    pfn, blk = pins[0]
    t.eq(blk, pfn * 4096 // bs, "pinner's block number matches its PFN")
    vm.sh("dmesg -c > /dev/null")
    t0 = time.monotonic()
    rc, out = vm.run("timeout 10 sh -c 'echo offline > %s/memory%d/state'" % (MEM, blk), timeout=60)
    t.diag("measured: timeout-bounded offline of the pinned block returned after %.1f s (rc %d)"
           % (time.monotonic() - t0, rc))
    t.ok(rc != 0, "echo offline on the pinned block does not succeed (busybox timeout ends it)",
         "rc=%d %s" % (rc, out))
    t.eq(S.state(vm, blk), "online", "the pinned block is still online after the interrupted write")
    dmesg = vm.sh("dmesg")
    t.match(r"migrating pfn %x failed ret:\d+" % pfn, dmesg,
            "the kernel log names the pinned PFN as failing migration")
    m = t.match(r"page:.*refcount:(\d+) mapcount:(\d+) .*pfn:0x%x\b" % pfn, dmesg,
                "dump_page() shows the pinned page's refcount and mapcount")
    if m:
        t.ok(int(m.group(1)) - int(m.group(2)) >= 1,
             "the pinned page holds references beyond its mappings", m.group(0))
    t.match(r"page dumped because: migration failure", dmesg, "dump_page() says why")

    # --- a free block offlines with a plain write ------------------------
    free = [n for n in dimm if n != blk][-1]
    t0 = time.monotonic()
    rc, out = vm.run("echo offline > %s/memory%d/state" % (MEM, free), timeout=120)
    t.diag("measured: plain offline of an unpinned DIMM block: %.2f s" % (time.monotonic() - t0))
    t.eq(rc, 0, "echo offline on an unpinned DIMM block succeeds")
    t.eq(S.state(vm, free), "offline", "that block reads offline")
    zones = vm.sh("cat %s/memory%d/valid_zones" % (MEM, free)).strip()
    t.ok("Movable" in zones.split(), "an offline DIMM block may go back to Movable (valid_zones)",
         zones)
    rc, out = vm.run("echo online_movable > %s/memory%d/state" % (MEM, free), timeout=60)
    t.eq((rc, S.state(vm, free)), (0, "online"), "echo online_movable brings it back online")
    t.eq(vm.sh("cat %s/memory%d/valid_zones" % (MEM, free)).strip(), "Movable",
         "back in ZONE_MOVABLE")

    # --- the pin goes, the block goes -------------------------------------
    vm.kill(pid)
    rc, out = vm.run("timeout 60 sh -c 'echo offline > %s/memory%d/state'" % (MEM, blk), timeout=90)
    t.eq((rc, S.state(vm, blk)), (0, "offline"), "once pinner is killed its block offlines")
    vm.sh("echo online_movable > %s/memory%d/state" % (MEM, blk))

    # --- a transient pin: the spinning write finishes when it goes ---------
    pid, pins, _, text = S.start_pinner(vm, "--mib 16 --pin-range %#x-%#x --release-after 8"
                                   % (lo, hi), "transient")
    if t.ok(len(pins) == 1, "pinner pins a page for 8 s", text):
        pfn, blk = pins[0]
        vm.sh("dmesg -c > /dev/null")
        t0 = time.monotonic()
        rc, out = vm.run("timeout 120 sh -c 'echo offline > %s/memory%d/state'" % (MEM, blk),
                         timeout=150)
        t.diag("measured: offline spanning a transient pin returned after %.1f s"
               % (time.monotonic() - t0))
        t.eq((rc, S.state(vm, blk)), (0, "offline"),
             "an offline that spins on a transient pin succeeds once the pin is released")
        t.match(r"migrating pfn %x failed" % pfn, vm.sh("dmesg"),
                "and it did spin on the pinned PFN meanwhile")
        vm.sh("echo online_movable > %s/memory%d/state" % (MEM, blk))
    vm.kill(pid)

    # --- device_del waits for the pin -------------------------------------
    pid, pins, _, text = S.start_pinner(vm, "--mib 16 --pin-range %#x-%#x" % (lo, hi), "eject")
    if not t.ok(len(pins) == 1, "pinner pins a page of the DIMM again", text):
        return
    since = vm.unplug_dimm("d1")
    deleted = S.event_seen(vm, "DEVICE_DELETED", 15, since, {"device": "d1"}) is not None
    t.ok(not deleted, "device_del of a DIMM with a pinned page does not complete (15 s)")
    rc, out = vm.run("cat %s/memory%d/state" % (MEM, pins[0][1]), timeout=60)
    t.ok(rc == 0, "the guest still answers while the kernel spins on the unplug", out)
    t0 = time.monotonic()
    vm.kill(pid)
    deleted = S.event_seen(vm, "DEVICE_DELETED", 60, since, {"device": "d1"}) is not None
    t.ok(deleted, "once the pin is gone the host sees DEVICE_DELETED")
    t.diag("measured: pin released to DEVICE_DELETED: %.1f s" % (time.monotonic() - t0))
    left = vm.wait_until(lambda: (lambda b: not any(n in b for n in dimm) and b)(vm.blocks()), 30,
                         what="the DIMM's blocks to disappear")
    t.ok(set(left) == set(boot), "the DIMM's blocks are gone from sysfs", repr(sorted(left)))
    t.ok("d1" not in vm.dimms_info(), "QEMU no longer lists the DIMM")
