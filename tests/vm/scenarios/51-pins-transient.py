# SPDX-License-Identifier: LGPL-2.1-or-later
"""A pin that goes away: the offline succeeds once pinner lets go, and memoff
records the blocked pages as transient (cleared before the long-lived
threshold), after having named them."""

import json
import re

REQUIRES = ["memoffctl", "pinner"]
DIMMS = ["512M"]
TIMEOUT = 420


def run(t, vm):
    blk = vm.dimm_blocks("d1")[2]
    vm.spawn("pinner --pin-block %d --count 2 --release-after 5" % blk, "pin")
    text = vm.wait_output("/tmp/pin.out", r"^(READY|NOTFOUND)", timeout=180)
    pids = set(re.findall(r"^PIN pid=(\d+) ", text, re.M))
    t.ok(len(pids) == 1 and "READY" in text, "pinner pins pages of block %d" % blk, text)
    if len(pids) != 1:
        return
    pid = pids.pop()

    rc, _ = vm.run("(MEMOFF_LOG_LEVEL=debug memoffctl offline -b %d --attempt-timeout 1s --deadline 40s "
                   "--long-lived 60s -J) > /tmp/o.txt 2> /tmp/e.txt" % blk, timeout=120)
    out = vm.read_file("/tmp/o.txt").decode()
    err = vm.read_file("/tmp/e.txt").decode()
    t.ok(rc == 0, "offline succeeds once the pins are released", "rc=%d\n%s" % (rc, err))
    try:
        b = json.loads(out)["blocks"][0]
    except (ValueError, KeyError, IndexError):
        b = {}
    t.eq(b.get("outcome"), "done", "the block went offline")
    t.ok(b.get("attempts", 0) >= 2, "after attempts that timed out", repr(b))
    t.eq(b.get("blocked_pages"), None, "no blocked-page report for a block that went offline")
    t.diag("measured: %s attempts in %s s" % (b.get("attempts"), b.get("seconds")))
    new = [l for l in err.splitlines() if "MEMOFF_EVENT=new" in l]
    cleared = [l for l in err.splitlines() if "MEMOFF_EVENT=cleared" in l]
    t.ok(len(new) == 1 and "MEMOFF_PID=%s " % pid in new[0] and "MEMOFF_COMM=pinner " in new[0],
         "the pages were named once, with pinner's pid, while they blocked", err)
    t.ok(len(cleared) == 1 and "MEMOFF_CLASS=transient " in cleared[0],
         "then recorded as no longer blocked, transient", err)
    t.ok(not any("MEMOFF_EVENT=long-lived" in l for l in err.splitlines()),
         "never called long-lived", err)
