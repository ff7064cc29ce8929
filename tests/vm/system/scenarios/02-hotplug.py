# SPDX-License-Identifier: LGPL-2.1-or-later
"""Hot-added memory with memhp_default_state=offline: the udev rule onlines it movable (with and without memoffd); release ejects a DIMM."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import syslib  # noqa: E402

VM_ARGS = dict(syslib.VM_ARGS, memhp="offline")
TIMEOUT = 900


def all_movable(vm, dimm):
    b = vm.blocks()
    return all(b.get(n, {}).get("state") == "online" and b[n]["zones"] == "Movable"
               for n in vm.dimm_blocks(dimm))


def hot_add(vm, dimm):
    """Hot-add a 512M DIMM; wait (bounded) until its blocks are online
    movable. Returns (its blocks, whether they all are)."""
    vm.hotplug_dimm(dimm, "512M")
    blocks = vm.wait_until(lambda: vm.dimm_blocks(dimm), 30, what="%s's blocks" % dimm)
    try:
        vm.wait_until(lambda: all_movable(vm, dimm), 120, what="%s online movable" % dimm)
    except Exception:
        pass
    return blocks, all_movable(vm, dimm)


def run(t, vm):
    syslib.boot(t, vm)
    syslib.install(t, vm)
    t.eq(syslib.wait_active(vm), "active", "memoffd runs")
    # udevd logs what its RUN programs print at debug level: the proof that
    # the rule, not memoffd's own uevent monitor, acted.
    vm.sh("udevadm control --log-level=debug")

    blocks, movable = hot_add(vm, "d1")
    t.ok(movable, "hot-added DIMM d1 (kernel: offline): every block online in ZONE_MOVABLE",
         lambda: repr({n: vm.blocks().get(n) for n in blocks}))
    b0 = blocks[0]
    udevlog = syslib.journal(vm, "-u systemd-udevd")
    t.match(r"memoffctl hotplug memory%d'?\(out\) 'memory%d: online" % (b0, b0), udevlog,
            "the rule's RUN program (memoffctl hotplug) onlined memory%d: its output in udevd's journal" % b0)
    log = syslib.journal(vm, "-u memoffd")
    t.match(r"memory%d: online" % b0, log, "... through memoffd (its journal says so)")

    # Without the daemon the rule applies the policy itself.
    vm.sh("systemctl stop memoffd.service")
    blocks2, movable = hot_add(vm, "d2")
    t.ok(movable, "memoffd stopped: hot-added DIMM d2 still comes online movable",
         lambda: repr({n: vm.blocks().get(n) for n in blocks2}))
    t.eq(vm.run("systemctl is-active memoffd.service")[1].strip(), "inactive",
         "... and memoffd was not started for it")
    udevlog = syslib.journal(vm, "-u systemd-udevd")
    t.match(r"memoffctl hotplug memory%d'?\(out\) 'memory%d: online" % (blocks2[0], blocks2[0]), udevlog,
            "... by the rule's memoffctl hotplug (udevd's journal)")
    vm.sh("udevadm control --log-level=info")

    # release: whole DIMMs offlined and ejected from inside the sandbox.
    vm.sh("systemctl start memoffd.service")
    since = len(vm.events)
    rc, out = vm.run("memoffctl release 512M --deadline 2min", timeout=240)
    t.ok(rc == 0, "memoffctl release 512M through memoffd: done", out)
    try:
        ev = vm.wait_event("DEVICE_DELETED", 60, match=lambda d: d.get("device") in ("d1", "d2"),
                           since=since)
        t.ok(True, "QEMU emits DEVICE_DELETED for the ejected DIMM (%s)" % ev["data"]["device"])
    except Exception as e:
        t.ok(False, "QEMU emits DEVICE_DELETED for the ejected DIMM", str(e))
    t.ok(len(vm.dimms_info()) == 1, "one DIMM is left", repr(vm.dimms_info()))
    t.diag(syslib.journal(vm, "-u memoffd -n 30"))
