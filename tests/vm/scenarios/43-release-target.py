# SPDX-License-Identifier: LGPL-2.1-or-later
"""The release target: memoffd works towards it by itself, across pins and a restart.

Three 512 MiB pc-dimms, online in ZONE_MOVABLE, each holding a pinned page
(pinner, one per DIMM). `memoffctl target 1G` sets the target: every round
of release jobs fails (memoffd logs the devices not released and what
blocked them), nothing is deleted. memoffd is restarted: the target is still
1G, nothing released, and the work resumes. `memoffctl target --wait -J`
(subscribed before it reads, doc/cloud.md's recipe) waits while the pins are
dropped; memoffd then completes the target by itself: two DIMMs released,
the host sees DEVICE_DELETED for exactly those two, the third stays.
"""

import json
import os
import re
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import scenlib as S  # noqa: E402

REQUIRES = ["memoffd", "memoffctl", "pinner"]
DIMMS = ["512M", "512M", "512M"]
TIMEOUT = 600
GIB = 1 << 30

CONF = """[Offline]
AttemptTimeout=2s
AttemptsPerBlock=1
BackoffInitial=1s
BackoffCap=3s
Deadline=1min
"""


def start_daemon(vm, name):
    return S.start_daemon(vm, name, "-v -c /etc/memoff/target.conf --state-dir /var/lib/memoff")


def target_json(vm, args=""):
    rc, out = vm.run("memoffctl target %s -J" % args, timeout=60)
    try:
        return rc, json.loads(out)
    except ValueError:
        return rc, {"raw": out}


def run(t, vm):
    dimms = vm.dimms_info()
    bs = vm.block_size()
    # which ACPI device each DIMM is, from its first block's firmware_node
    acpi = {}
    for d, info in dimms.items():
        blk = info["addr"] // bs
        acpi[vm.sh("basename $(readlink /sys/devices/system/memory/memory%d/firmware_node)" % blk).strip()] = d
    t.eq(sorted(acpi.values()), sorted(dimms), "each DIMM is an ACPI memory device: %s" % acpi)
    vm.sh("mkdir -p /etc/memoff")
    vm.write_file("/etc/memoff/target.conf", CONF)

    targets = {d: info["addr"] // bs + 1 for d, info in dimms.items()}
    ppid = vm.spawn("pinner --max-mib 2048 " + " ".join("--pin-block %d" % b for b in sorted(targets.values())), "pin")
    text = vm.wait_output("/tmp/pin.out", r"^(READY|NOTFOUND)", timeout=180)
    pinned = {int(b) for b in re.findall(r"^PIN pid=\d+ .* block=(\d+)$", text, re.M)}
    if not t.eq(pinned, set(targets.values()), "pinner pins a page in each DIMM"):
        t.diag(text)
        return

    pid = start_daemon(vm, "memoffd")
    since = len(vm.events)
    rc, obj = target_json(vm, "1G")
    t.eq(rc, 0, "memoffctl target 1G exits 0")
    t.ok((obj.get("target"), obj.get("released")) == (GIB, 0), "-J: target 1G, 0 released", lambda: repr(obj))
    t.eq(obj.get("releasable"), 3 * 512 << 20, "-J: 1.5G releasable (three whole DIMMs)")
    try:
        vm.wait_until(lambda: len(re.findall(r"Release target: PNP0C80:\w+ not released this round: block \d+: ",
                                             vm.sh("cat /tmp/memoffd.out"))) >= 2, 180,
                      what="rounds that released nothing")
        blocked = True
    except Exception:
        blocked = False
    t.ok(blocked, "with every DIMM pinned, rounds release nothing and memoffd logs what blocked each device",
         lambda: vm.sh("tail -40 /tmp/memoffd.out"))
    t.match(r"not released this round: block \d+: .*pinner\[\d+\]", vm.sh("cat /tmp/memoffd.out"),
            "... naming the pinner (DeviceBlocked's summary)")
    t.eq(S.deleted_since(vm, since), [], "nothing was deleted")

    # --- a restart does not lose the target --------------------------------------
    S.stop_daemon(vm, pid, timeout=90)
    t.match(r"^target 1073741824$", vm.sh("cat /var/lib/memoff/release-target"),
            "the target is in the state directory")
    pid = start_daemon(vm, "memoffd2")
    t.match(r"Release target 1G, 0B released so far: resuming", vm.sh("cat /tmp/memoffd2.out"),
            "the restarted memoffd resumes the target")
    rc, obj = target_json(vm)
    t.ok((obj.get("target"), obj.get("released")) == (GIB, 0), "memoffctl target -J after the restart: 1G, 0",
         lambda: repr(obj))

    # --- the pins go: memoffd completes the target by itself ----------------------
    vm.spawn("memoffctl target --wait -J", "wait")
    time.sleep(2)
    t0 = time.monotonic()
    vm.kill(ppid)
    try:
        vm.wait_output("/tmp/wait.out", r'"reached": true', timeout=240)
        done = True
    except Exception:
        done = False
    t.ok(done, "memoffctl target --wait returns once memoffd reached the target",
         lambda: vm.sh("cat /tmp/wait.out; tail -30 /tmp/memoffd2.out"))
    t.diag("measured: pins dropped to target reached %.1f s" % (time.monotonic() - t0))
    try:
        obj = json.loads(vm.sh("cat /tmp/wait.out"))
    except ValueError:
        obj = {}
    released = [acpi.get(x["device"]) for x in obj.get("devices", [])]
    t.ok((obj.get("target"), obj.get("released")) == (GIB, GIB), "--wait -J: 1G of 1G released", lambda: repr(obj))
    t.eq(len(released), 2, "... as two devices: %s" % released)
    time.sleep(2)
    t.eq(S.deleted_since(vm, since), sorted(released), "the host saw DEVICE_DELETED for exactly those DIMMs")
    left = sorted(set(dimms) - set(released))
    t.eq(sorted(vm.dimms_info()), left, "query-memory-devices still lists the third")
    log = vm.sh("cat /tmp/memoffd2.out")
    t.match(r"Release target reached: 1G released of 1G", log, "memoffd logs the target reached")
    rc, obj = target_json(vm)
    t.eq(obj.get("releasable"), 512 << 20, "what is left is releasable again (512M)")
    vm.kill(pid)
