# SPDX-License-Identifier: LGPL-2.1-or-later
"""memoffd in the guest: hotplug policy, jobs through memoffctl, kill -9 and restart.

The guest boots with memhp_default_state=offline, so hot-added memory comes
up offline and nothing but memoffd's own uevent monitor (there is no udevd
in the image: it listens to the kernel's uevents) can online it. A DIMM
hot-added over QMP must end up online in ZONE_MOVABLE by the "auto" policy.
Then an offline and an online job go through memoffctl and the daemon; an
offline job on a block with a pinned page is running when the daemon is
killed with SIGKILL: the kernel rolls the block back, and the restarted
daemon reports the job as interrupted with the block's real state. Before
that, an offline job on the pinned block times out, and the daemon's log
records (stderr, fields shown by -v) name the pinner's pid.
"""

import json
import re
import time

REQUIRES = ["memoffd", "memoffctl"]
DIMMS = []
VM_ARGS = {"memhp": "offline"}
TIMEOUT = 480


def state(vm, block):
    return vm.sh("cat /sys/devices/system/memory/memory%d/state" % block).strip()


def start_daemon(vm, name):
    pid = vm.spawn("memoffd -v", name)
    vm.wait_output("/tmp/%s.out" % name, r"Ready:", timeout=60)
    return pid


def job_line(vm, request):
    """The newest job (memoffctl jobs lists them by id) whose request has `request`."""
    rc, out = vm.run("memoffctl jobs", timeout=30)
    lines = [line for line in out.splitlines() if request in line]
    return lines[-1] if lines else ""


def run(t, vm):
    pid = start_daemon(vm, "memoffd")
    rc, out = vm.run("memoffctl status", timeout=30)
    t.eq(rc, 0, "memoffctl status reaches the daemon on /run/memoff/control")
    t.match(r"^memoffd .*: idle", out, "the daemon is idle")
    t.match(r"hotplug policy: auto \(kernel auto_online_blocks: offline\)", out,
            "policy auto, and the kernel does not online hot-added memory itself")

    # --- hot-add: the daemon's monitor applies the policy ------------------
    t0 = time.monotonic()
    vm.hotplug_dimm("d1", "512M")
    bs = vm.block_size()
    info = vm.dimms_info()["d1"]
    dimm = list(range(info["addr"] // bs, (info["addr"] + info["size"]) // bs))

    def all_online():
        b = vm.blocks()
        return all(n in b and b[n]["state"] == "online" for n in dimm)

    try:
        vm.wait_until(all_online, 60, what="the DIMM's blocks online")
        onlined = True
    except Exception:
        onlined = False
    t.ok(onlined, "every block of the hot-added DIMM was onlined (by memoffd)",
         lambda: vm.sh("cat /tmp/memoffd.out; lsmem -o RANGE,STATE,ZONES,BLOCK"))
    t.diag("measured: hot-add to all %d blocks online %.1f s" % (len(dimm), time.monotonic() - t0))
    zones = vm.blocks()
    t.ok(all(zones[n]["zones"] == "Movable" for n in dimm),
         "... into ZONE_MOVABLE (valid_zones reads Movable)", lambda: repr(zones))
    log = vm.sh("cat /tmp/memoffd.out")
    t.ok(all(re.search(r"memory%d: online_movable \(policy auto" % n, log) for n in dimm),
         "... and the daemon logged each block it onlined", log)
    t.ok(len(re.findall(r"memory%d: added" % dimm[0], log)) == 1,
         "the add uevent was handled once", log)

    # --- jobs through memoffctl and the daemon -----------------------------
    rc, _ = vm.run("memoffctl offline --help", timeout=30)
    if rc != 0:
        for name in ("offline through the daemon", "online through the daemon",
                     "kill -9 mid-job", "restart reports the job interrupted",
                     "block rolled back", "SIGTERM stops the daemon"):
            t.skip(name, "memoffctl has no offline verb in this build")
        return
    blk = dimm[-1]
    rc, out = vm.run("memoffctl offline -b %d" % blk, timeout=120)
    t.eq(rc, 0, "memoffctl offline -b %d through the daemon exits 0" % blk)
    t.eq(state(vm, blk), "offline", "the block is offline")
    t.match(r"\bdone\b", job_line(vm, "offline blocks %d" % blk), "memoffctl jobs shows the job done")
    rc, out = vm.run("memoffctl online -b %d" % blk, timeout=120)
    t.eq(rc, 0, "memoffctl online -b %d through the daemon exits 0" % blk)
    t.eq(state(vm, blk), "online", "the block is back online")

    # --- kill -9 mid-job, restart ------------------------------------------
    target = dimm[1]
    ppid = vm.spawn("pinner --pin-block %d" % target, "pin")
    text = vm.wait_output("/tmp/pin.out", r"^(READY|NOTFOUND)", timeout=180)
    t.match(r"^PIN .* block=%d$" % target, text, "pinner pinned a page in block %d" % target)

    # --- a timed-out offline job: the daemon's records name the pinner ----
    m = re.search(r"^PIN pid=(\d+) ", text, re.M)
    pin_pid = m.group(1) if m else "?"
    rc, out = vm.run("memoffctl offline -b %d --stall-grace 0 --attempt-timeout 1s --deadline 4s" % target, timeout=120)
    t.eq(rc, 1, "offline of the pinned block through the daemon times out (exit 1)")
    log = vm.sh("cat /tmp/memoffd.out")
    t.match(r"memoffd: block %d: attempt 1 timed out after .*MEMOFF_BLOCK=%d " % (target, target), log,
            "the daemon records the timed-out attempt (ATTEMPT_TIMED_OUT)")
    t.match(r"memoffd: block %d: offlining blocked by .*MEMOFF_PID=%s MEMOFF_COMM=pinner " % (target, pin_pid),
            log, "... and the blocked pages, naming the pinner's pid %s (PAGES_BLOCKED)" % pin_pid)
    t.match(r"Blocked pages:\n  block %d: .*pinner\[%s\]" % (target, pin_pid), out,
            "memoffctl prints the job's BlockedPages: the pinner")
    vm.spawn("memoffctl offline -b %d --stall-grace 0 --attempt-timeout 2s --deadline 5min" % target, "off")
    vm.wait_until(lambda: "running" in job_line(vm, "offline blocks %d" % target), 60,
                  what="the offline job running")
    time.sleep(1)
    vm.kill(pid, "KILL")
    vm.wait_until(lambda: vm.run("kill -0 %d" % pid, timeout=10)[0] != 0, 30, what="memoffd gone")
    t.eq(state(vm, target), "online", "after kill -9 mid-attempt the kernel rolled the block back")
    pid = start_daemon(vm, "memoffd2")
    line = job_line(vm, "offline blocks %d" % target)
    t.match(r"\binterrupted\b", line, "the restarted daemon reports the job interrupted")
    m = re.match(r"\s*(\d+)", line)
    rc, out = vm.run("memoffctl watch %s -J 2>/dev/null" % (m.group(1) if m else "0"), timeout=30)
    try:
        b = next((b for b in json.loads(out)["blocks"] if b["block"] == target), {})
    except (ValueError, KeyError, TypeError):
        b = {}
    t.ok(b.get("outcome") == "interrupted" and "after the restart the block is online" in b.get("reason", ""),
         "... with the block's state read back from sysfs", out)
    vm.kill(ppid)
    vm.kill(pid, "TERM")
    vm.wait_until(lambda: vm.run("kill -0 %d" % pid, timeout=10)[0] != 0, 30, what="memoffd stopped")
    t.match(r"Stopping", vm.sh("cat /tmp/memoffd2.out"), "SIGTERM stops the daemon cleanly")
