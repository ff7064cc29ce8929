# SPDX-License-Identifier: LGPL-2.1-or-later
"""A pin that goes away after some seconds: the retries with backoff then succeed.

pinner pins a page of a Movable block and drops the pin after 6 s
(--release-after). memoffctl offline -b of that block, with 2 s attempts
and a deadline well past the release, stalls at first (well before the
attempt timeout: nothing moves while the kernel keeps failing on the pinned
page), backs off, tries again and offlines the block once the pin is gone: exit 0, -J outcome done
after two attempts or more.
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import scenlib as S  # noqa: E402

REQUIRES = ["memoffctl", "pinner"]
DIMMS = ["512M"]
TIMEOUT = 240

RELEASE = 6


def run(t, vm):
    blk = vm.dimm_blocks("d1")[1]
    pid, pins, _, text = S.start_pinner(vm, "--pin-block %d --release-after %d" % (blk, RELEASE),
                                        "pin")
    if not t.ok([b for _, b in pins] == [blk], "pinner pins a page in block %d for %d s"
                % (blk, RELEASE), text):
        return
    vm.sh("dmesg -c > /dev/null")
    rc, res, out, err, secs = S.ctl_json(
        vm, "offline -b %d --attempt-timeout 2s --deadline 60s -v" % blk, timeout=120)
    rec = S.json_blocks(res).get(blk, {})
    t.diag("measured: offline across a %d s pin: %.2f s, %s attempts" % (RELEASE, secs,
                                                                        rec.get("attempts")))
    t.diag(err.strip())
    t.eq(rc, 0, "offline -b %d exits 0 once the pin is gone" % blk)
    t.eq(rec.get("outcome"), "done", "-J: outcome done")
    t.ok((rec.get("attempts") or 0) >= 2, "-J: it took two attempts or more", repr(rec))
    t.match(r"attempt 1: stalled after", err, "-v: the first attempt stalled")
    t.match(r"waiting .* for the next retry|retry in", err, "-v: and a retry was scheduled with a delay")
    t.match(r"RELEASED", vm.sh("cat /tmp/pin.out"), "pinner did drop its pin meanwhile")
    t.match(r"migrating pfn %x failed" % pins[0][0], vm.sh("dmesg"),
            "the kernel did spin on the pinned page during the first attempt")
    t.eq(S.state(vm, blk), "offline", "the block reads offline")
    t.ok(S.alive(vm, pid), "the process that held the pin is still running")
    vm.kill(pid)
