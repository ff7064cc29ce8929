# SPDX-License-Identifier: LGPL-2.1-or-later
"""A pinned block: the journal names the pinner; systemctl stop during a spinning attempt leaves the block online and the job accounted."""
import os
import re
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import syslib  # noqa: E402

VM_ARGS = syslib.VM_ARGS
DIMMS = ["512M"]
TIMEOUT = 900
PAGES_BLOCKED = "d0c392c4d3f7419c8f2a07bde8586e66"


def run(t, vm):
    syslib.boot(t, vm)
    syslib.install(t, vm)
    t.eq(syslib.wait_active(vm), "active", "memoffd runs")
    blk = vm.dimm_blocks("d1")[1]
    spawned = vm.spawn("pinner --pin-block %d" % blk, "pin")
    text = vm.wait_output("/tmp/pin.out", "^READY", 180)
    pid = int(re.search(r"^PIN pid=(\d+)", text, re.M).group(1))

    rc, out = vm.run("memoffctl offline -b %d --attempt-timeout 2s --deadline 8s" % blk, timeout=120)
    t.ok(rc == 1, "offline of the pinned block fails (exit 1)", out)
    # pins through the daemon, after the kernel logged the page: /dev/kmsg
    # and /proc/PID/pagemap read from inside the sandbox
    rc, out = vm.run("memoffctl pins -b %d" % blk, timeout=120)
    t.match(r"\bpinner\b", out, "memoffctl pins -b %d (memoffd reads kmsg and pagemap in its sandbox) "
            "names pinner" % blk)
    rec = syslib.journal(vm, "-o verbose MESSAGE_ID=%s" % PAGES_BLOCKED)
    t.match(r"MEMOFF_COMM=pinner", rec, "journalctl MESSAGE_ID=%s finds the pinner by name" % PAGES_BLOCKED)
    t.match(r"MEMOFF_PID=%d\b" % pid, rec, "... and its pid")
    t.match(r"MEMOFF_BLOCK=%d\b" % blk, rec, "... and the block")

    # An attempt that spins (the kernel retries a pinned page forever; no stall
    # detection, which would end it at once and retry) ...
    vm.sh("setsid sh -c 'memoffctl offline -b %d --attempt-timeout 40s --stall-grace 0 --deadline 5min "
          "> /tmp/off.out 2>&1' < /dev/null > /dev/null 2>&1 &" % blk)
    vm.wait_until(lambda: vm.run("cat /sys/devices/system/memory/memory%d/state" % blk)[1].strip()
                  == "going-offline", 60, what="block %d going-offline" % blk)
    time.sleep(2)
    t0 = time.monotonic()
    rc, out = vm.run("systemctl stop memoffd.service", timeout=180)
    t.diag("systemctl stop took %.1f s (attempt timeout 40 s, TimeoutStopSec 1 min)" % (time.monotonic() - t0))
    p = syslib.show(vm, ["Result", "ExecMainCode", "ExecMainStatus", "ActiveState"])
    t.ok(rc == 0 and p["ActiveState"] == "inactive" and p["Result"] == "success"
         and p["ExecMainStatus"] == "0",
         "systemctl stop during a spinning attempt: memoffd exits 0 by itself (not killed at TimeoutStopSec)",
         repr((rc, out, p)))
    t.eq(vm.run("cat /sys/devices/system/memory/memory%d/state" % blk)[1].strip(), "online",
         "the block is left online, not going-offline")
    vm.sh("systemctl start memoffd.service")
    rc, jobs = vm.run("memoffctl jobs")
    t.match(r"^\s*2\s+offline\s+finished\s+cancelled", jobs, "after the next start the job is accounted: cancelled")
    vm.kill(spawned)
