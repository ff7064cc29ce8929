# SPDX-License-Identifier: LGPL-2.1-or-later
"""A drop-in this version does not fully understand never stops hotplug (issue 12).

A drop-in written for a newer memoff (an unknown key, a value this version
refuses) made memoffd refuse to start and the udev rule's `memoffctl hotplug`
fail: in a Debian guest two DIMMs hot-added afterwards stayed offline. Here
the guest boots with memhp_default_state=offline (nothing else onlines
hot-added memory), memoffd starts with such a drop-in, reports its problems
as FILE:LINE and applies the rest of it (Policy=online_movable) to a DIMM
hot-added over QMP; with memoffd stopped, `memoffctl hotplug` (what the udev
rule runs) applies the same policy to a second DIMM's blocks.
"""

import re

REQUIRES = ["memoffd", "memoffctl"]
DIMMS = []
VM_ARGS = {"memhp": "offline"}
TIMEOUT = 300

CONF = "/tmp/memoffd.conf"
DROPIN = "[Offline]\nFromANewerGuide=yes\n[Hotplug]\nPolicy=online_movable\nMovableRatio=plenty\n[Future]\nKey=1\n"


def dimm_blocks(vm, dimm_id):
    bs = vm.block_size()
    info = vm.dimms_info()[dimm_id]
    return list(range(info["addr"] // bs, (info["addr"] + info["size"]) // bs))


def run(t, vm):
    vm.sh("printf '[Offline]\\nAttemptTimeout=5s\\n' > %s && mkdir -p %s.d" % (CONF, CONF))
    vm.sh("printf '%s' > %s.d/50-newer.conf" % (DROPIN.replace("\n", "\\n"), CONF))

    rc, out = vm.run("memoffd --check-config -c %s" % CONF, timeout=30)
    t.ok(rc != 0, "memoffd --check-config fails on the drop-in (exit %d)" % rc, out)
    t.match(r"50-newer\.conf:2: unknown key 'FromANewerGuide'", out, "... naming FILE:LINE of the unknown key")

    pid = vm.spawn("memoffd -v -c %s" % CONF, "memoffd")
    try:
        vm.wait_output("/tmp/memoffd.out", r"Ready:", timeout=60)
        started = True
    except Exception:
        started = False
    log = vm.sh("cat /tmp/memoffd.out")
    t.ok(started, "memoffd starts although a drop-in has an unknown key and a bad value", log)
    t.match(r"50-newer\.conf:2: unknown key 'FromANewerGuide' in section \[Offline\]", log,
            "... and logs the unknown key as FILE:LINE")
    t.match(r"50-newer\.conf:5: MovableRatio=: 'plenty'", log, "... and the bad value")
    t.match(r"hotplug policy online_movable", log, "... applying the rest of the drop-in (Policy=online_movable)")

    vm.hotplug_dimm("d1", "256M")
    d1 = dimm_blocks(vm, "d1")

    def online_movable(blocks):
        b = vm.blocks()
        return all(n in b and b[n]["state"] == "online" and b[n]["zones"] == "Movable" for n in blocks)

    try:
        vm.wait_until(lambda: online_movable(d1), 60, what="d1's blocks online")
        ok = True
    except Exception:
        ok = False
    t.ok(ok, "a DIMM hot-added to memoffd comes online in ZONE_MOVABLE (%d blocks)" % len(d1),
         lambda: vm.sh("cat /tmp/memoffd.out; lsmem -o RANGE,STATE,ZONES,BLOCK"))

    vm.kill(pid, "TERM")
    vm.wait_until(lambda: vm.run("kill -0 %d" % pid, timeout=10)[0] != 0, 30, what="memoffd stopped")

    # the udev rule's fallback, with no daemon: memoffctl hotplug memoryN
    vm.hotplug_dimm("d2", "256M")
    d2 = dimm_blocks(vm, "d2")
    vm.wait_until(lambda: all(n in vm.blocks() for n in d2), 30, what="d2's blocks present")
    results = []
    for n in d2:
        rc, out = vm.run("memoffctl hotplug -c %s memory%d" % (CONF, n), timeout=60)
        results.append((n, rc, out))
    t.ok(all(rc == 0 for _, rc, _ in results), "memoffctl hotplug succeeds for every block of d2",
         lambda: repr(results))
    t.ok(all(re.search(r"unknown key 'FromANewerGuide'", out) for _, _, out in results),
         "... warning about the drop-in each time", lambda: repr(results[:1]))
    t.ok(online_movable(d2), "... and d2's blocks are online in ZONE_MOVABLE",
         lambda: vm.sh("lsmem -o RANGE,STATE,ZONES,BLOCK"))
