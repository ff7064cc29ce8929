# SPDX-License-Identifier: LGPL-2.1-or-later
"""memoffctl release: whole DIMMs offlined and ejected, around pinned pages; the host sees them go.

Three 512 MiB pc-dimms (d1, d2, d3) come up online in ZONE_MOVABLE. pinner
pins a page in d3. `memoffctl release 512M` must free one of the other two:
offline its blocks, write its ACPI eject file, and QEMU must report
DEVICE_DELETED for that DIMM (and for no other); query-memory-devices no
longer lists it, its blocks are gone from the guest, d3 stays. Then a page
of the last free DIMM is pinned too: a release with every DIMM pinned exits 1
with a clear message, puts every block it took back online, and nothing is
deleted; with --stall-grace 0 its attempts run to --attempt-timeout instead
of stalling. With one pin dropped, a release of 1G frees the DIMM it can and
exits 64 (partly done). Finally, when memoffd is in the image, a release job
of the pinned last DIMM stalls, or with --stall-grace 0 times out, and the
DIMM goes through the daemon once its pin is gone.

The raw behaviour this improves on: a host `device_del` of a DIMM holding a
pinned page never completes, the guest kernel spinning in offline_pages()
in a worker (01-smoke shows it; not repeated here).
"""

import os
import re
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import scenlib as S  # noqa: E402
from scenlib import MIB  # noqa: E402

REQUIRES = ["memoffctl", "pinner"]
DIMMS = ["512M", "512M", "512M"]
TIMEOUT = 600


def start_pinner(vm, dimm, name):
    """Pin one page inside DIMM `dimm`; returns (pid, pinned block or None, output)."""
    info = vm.dimms_info()[dimm]
    lo, hi = info["addr"], info["addr"] + info["size"] - 1
    pid, pins, _, text = S.start_pinner(vm, "--mib 16 --pin-range %#x-%#x" % (lo, hi), name)
    return pid, pins[0][1] if pins else None, text


def dimm_of(dev, dimms):
    """The DIMM id whose address range a release JSON device record covers."""
    start = int(dev["range"].split("-")[0], 16)
    for d, info in dimms.items():
        if info["addr"] == start and info["size"] == dev["size"]:
            return d
    return None


def run(t, vm):
    bs = vm.block_size()
    dimms = vm.dimms_info()
    blocks_of = {d: list(range(i["addr"] // bs, (i["addr"] + i["size"]) // bs)) for d, i in dimms.items()}
    boot = vm.blocks()
    t.ok(all(boot[b]["state"] == "online" and boot[b]["zones"] == "Movable"
             for d in blocks_of for b in blocks_of[d]),
         "the three DIMMs' blocks are online in ZONE_MOVABLE", lambda: repr(boot))

    # --- a pinned page in d3: release 512M frees another DIMM --------------------
    p3, b3, text = start_pinner(vm, "d3", "pin3")
    if not t.ok(b3 in blocks_of["d3"], "pinner pins a page in d3 (block %s)" % b3, text):
        return
    rc, plan, out, err, _ = S.ctl_json(vm, "release --dry-run 512M", timeout=240)
    t.eq(rc, 0, "release --dry-run 512M exits 0")
    planned = [d for d in (plan or {}).get("devices", []) if d["outcome"] == "planned"]
    t.diag("plan: %s; ranking: %s" % (
        [(d["device"], dimm_of(d, dimms)) for d in planned],
        ", ".join("%s=%s (cost %s)" % (d["device"], dimm_of(d, dimms), d["cost"])
                  for d in (plan or {}).get("devices", []))))
    t.eq(len(planned), 1, "the plan takes one whole DIMM for 512M")

    since = len(vm.events)
    t0 = time.monotonic()
    rc, res, out, err, _ = S.ctl_json(vm, "release 512M --attempt-timeout 3s --deadline 2min", timeout=240)
    secs = time.monotonic() - t0
    t.eq(rc, 0, "release 512M exits 0")
    devs = (res or {}).get("devices", [])
    released = [d for d in devs if d["outcome"] == "released"]
    t.diag("release: %.1f s; " % secs + "; ".join(
        "%s (%s) %s x%d: %s" % (d["device"], dimm_of(d, dimms), d["outcome"], d["tries"], d["reason"])
        for d in devs if d["outcome"] not in ("not-tried",)))
    if not t.eq(len(released), 1, "one device was released", ):
        t.diag(out + err)
        return
    gone = dimm_of(released[0], dimms)
    t.ok(gone in ("d1", "d2"), "the released device is a DIMM without a pin (%s)" % gone)
    if released[0].get("eject_seconds") is not None:
        t.diag("measured: eject written to blocks gone in the guest: %.2f s" % released[0]["eject_seconds"])
    t.ok(S.event_seen(vm, "DEVICE_DELETED", 30, since, {"device": gone}), "the host sees DEVICE_DELETED for %s" % gone)
    t.diag("measured: release 512M to DEVICE_DELETED on the host: %.1f s" % (time.monotonic() - t0))
    t.eq(S.deleted_since(vm, since), [gone], "... and for no other DIMM")
    left = vm.dimms_info()
    t.eq(sorted(left), sorted(d for d in dimms if d != gone), "query-memory-devices no longer lists it; d3 stays")
    now = vm.blocks()
    t.ok(not any(b in now for b in blocks_of[gone]), "its blocks are gone from the guest's sysfs",
         lambda: repr(sorted(now)))
    t.ok(all(now[b]["state"] == "online" for d in left for b in blocks_of[d]),
         "the other DIMMs' blocks are all online", lambda: repr(now))
    t.ok(all(now[b]["state"] == "online" for b in boot if b not in sum(blocks_of.values(), [])),
         "no boot memory block changed state")
    other = [d for d in ("d1", "d2") if d != gone][0]

    # --- every DIMM pinned: exit 1, nothing lost -----------------------------------
    po, bo, text = start_pinner(vm, other, "pino")
    if not t.ok(bo in blocks_of[other], "pinner pins a page in %s too (block %s)" % (other, bo), text):
        return
    since = len(vm.events)
    t0 = time.monotonic()
    rc, text = vm.run("memoffctl release 512M --attempt-timeout 2s --deadline 90s --max-tries 2 "
                      "> /tmp/rel.out 2> /tmp/rel.err; echo rc=$?; cat /tmp/rel.err", timeout=180)
    t.diag("release with every DIMM pinned: %.1f s" % (time.monotonic() - t0))
    t.match(r"^rc=1$", text, "release 512M with every DIMM pinned exits 1")
    t.match(r"^memoffctl: release 512M: released 0B of 512M: no device could be freed$", text,
            "... saying no device could be freed")
    t.ok(len(re.findall(r"^memoffctl: PNP0C80:\w+: busy: block (\d+): ", text, re.M)) == 2 and
         all(re.search(r"^memoffctl: PNP0C80:\w+: busy: block %d: " % b, text, re.M) for b in (b3, bo)),
         "... naming the pinned block of each DIMM", text)
    reasons = re.findall(r"^memoffctl: PNP0C80:\w+: busy: block \d+: (.*)$", text, re.M)
    t.ok(reasons and not any("timed out" in r for r in reasons),
         "... whose attempts stalled (stall detection in-process) rather than running to --attempt-timeout",
         "\n".join(reasons))
    # --stall-grace 0: no stall detection, so the attempts run to --attempt-timeout
    rc, text = vm.run("memoffctl release 512M --stall-grace 0 --attempt-timeout 1s --deadline 60s --max-tries 1 "
                      "> /tmp/rel.out 2> /tmp/rel.err; echo rc=$?; cat /tmp/rel.err", timeout=180)
    t.match(r"^rc=1$", text, "release 512M --stall-grace 0 with every DIMM pinned exits 1")
    reasons = re.findall(r"^memoffctl: PNP0C80:\w+: busy: block \d+: (.*)$", text, re.M)
    t.ok(len(reasons) == 2 and all("timed out" in r for r in reasons),
         "... and with stall detection off, both DIMMs' attempts ran to --attempt-timeout", "\n".join(reasons))
    now = vm.blocks()
    t.ok(all(now.get(b, {}).get("state") == "online" and now[b]["zones"] == "Movable"
             for d in left for b in blocks_of[d]),
         "every block of both DIMMs is online (Movable) again", lambda: repr(now))
    time.sleep(2)
    t.eq(S.deleted_since(vm, since), [], "QEMU deleted no DIMM")
    t.eq(sorted(vm.dimms_info()), sorted(left), "query-memory-devices still lists both")

    # --- one pin gone: 1G releases what it can, exit 64 ------------------------------
    vm.kill(po)
    time.sleep(1)
    since = len(vm.events)
    rc, res, out, err, _ = S.ctl_json(vm, "release 1G --attempt-timeout 2s --deadline 60s --max-tries 1", timeout=240)
    t.eq(rc, 64, "release 1G with one of the two DIMMs pinned exits 64 (partly done)")
    got = [dimm_of(d, dimms) for d in (res or {}).get("devices", []) if d["outcome"] == "released"]
    t.eq(got, [other], "%s (no longer pinned) was released, d3 was not" % other)
    t.eq(((res or {}).get("totals") or {}).get("released_bytes"), 512 * MIB, "-J: 512M released of 1G")
    S.event_seen(vm, "DEVICE_DELETED", 30, since, {"device": other})
    t.eq(S.deleted_since(vm, since), [other], "the host sees DEVICE_DELETED for %s only" % other)
    now = vm.blocks()
    t.ok(all(now.get(b, {}).get("state") == "online" for b in blocks_of["d3"]),
         "d3's blocks are all online", lambda: repr(now))

    # --- through memoffd ---------------------------------------------------------------
    if "memoffd" not in t.binaries:
        t.skip("release through memoffd", "memoffd is not in the image")
        vm.kill(p3)
        return
    dpid = vm.spawn("memoffd -v", "memoffd")
    vm.wait_output("/tmp/memoffd.out", r"Ready:", timeout=60)
    # d3 still pinned: the job's attempts stall, unless --stall-grace 0 turns that off
    for grace, timed_out, how in (("", False, "stalled (memoffd's StallGrace=), not timed out"),
                                  ("--stall-grace 0 ", True, "ran to --attempt-timeout (--stall-grace 0)")):
        rc, text = vm.run("memoffctl release 512M %s--attempt-timeout 2s --deadline 60s --max-tries 1 "
                          "> /tmp/rel.out 2> /tmp/rel.err; echo rc=$?; cat /tmp/rel.err" % grace, timeout=180)
        reasons = re.findall(r"^memoffctl: PNP0C80:\w+: busy: block \d+: (.*)$", text, re.M)
        t.ok(re.search(r"^rc=1$", text, re.M) and len(reasons) == 1 and ("timed out" in reasons[0]) == timed_out,
             "through memoffd, release 512M %swith d3 pinned exits 1, its attempt %s" % (grace, how), text)
    vm.kill(p3)
    time.sleep(1)
    since = len(vm.events)
    rc, text = vm.run("memoffctl release 512M --deadline 90s", timeout=180)
    t.eq(rc, 0, "memoffctl release 512M through the daemon exits 0")
    t.match(r"memoffctl: memoffd job \d+\n(.*\n)*PNP0C80:\w+ .* released .*\n(.*\n)*Released 512M of 512M \(1 device\)",
            text, "... as a job of memoffd, reported as --direct reports a release")
    t.ok(S.event_seen(vm, "DEVICE_DELETED", 30, since, {"device": "d3"}), "the host sees DEVICE_DELETED for d3")
    rc, jobs = vm.run("memoffctl jobs", timeout=30)
    t.match(r"release.*done", jobs, "memoffctl jobs lists the release job done")
    t.eq(vm.dimms_info(), {}, "no DIMM is left")
    vm.kill(dpid)
