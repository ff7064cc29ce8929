# SPDX-License-Identifier: LGPL-2.1-or-later
"""Pinned pages: memoff names the process that pins a block, its pages and
their addresses, in the log records and in `memoffctl pins -J`, and calls a
reference held across attempts for longer than the threshold long-lived.

pinner vmsplices three pages of a DIMM block into a pipe nobody reads. An
offline of that block times out attempt after attempt; memoffctl's records
(the journal's fields, on stderr at debug level), its -J output and a later
read-only `memoffctl pins -J` must all name pinner's pid and comm and the
very virtual addresses pinner printed.

The three pages are whichever of pinner's the kernel placed in the block:
usually contiguous, but not always (seen: PFNs 0x108000, 0x108001 and
0x108003). Blocked pages are grouped in contiguous runs (blocked.h), so they
make one to three groups; every check is made of each of pinner's groups,
and their pages together must be the three.
"""

import json
import re

REQUIRES = ["memoffctl", "pinner"]
DIMMS = ["512M"]
TIMEOUT = 420


def pins_of(text):
    """pinner's PIN lines: {pfn: (pid, vaddr)}."""
    return {int(m.group(3), 16): (int(m.group(1)), int(m.group(2), 16))
            for m in re.finditer(r"^PIN pid=(\d+) vaddr=0x([0-9a-f]+) pfn=0x([0-9a-f]+) block=\d+$", text, re.M)}


def run_split(vm, cmd, timeout):
    """Run cmd with stdout and stderr in guest files; (rc, stdout, stderr)."""
    rc, _ = vm.run("(%s) > /tmp/o.txt 2> /tmp/e.txt" % cmd, timeout=timeout)
    return rc, vm.read_file("/tmp/o.txt").decode(), vm.read_file("/tmp/e.txt").decode()


def records(stderr):
    """The log lines memoffctl wrote with their fields (MEMOFF_LOG_LEVEL=debug)."""
    out = []
    for line in stderr.splitlines():
        m = re.search(r"\[(MEMOFF_[A-Z_]+=.*)\]$", line)
        if m:
            out.append(dict(f.split("=", 1) for f in m.group(1).split(" MEMOFF_") if "=" in f))
    # the first field keeps its MEMOFF_ prefix, the others lost it in the split
    return [{(k if k.startswith("MEMOFF_") else "MEMOFF_" + k): v for k, v in r.items()} for r in out]


def page_list(group):
    """{pfn: (pid, comm, vaddr)} of a JSON group's pages with an owner."""
    res = {}
    for p in group["page_list"]:
        if p["owners"]:
            w = p["owners"][0]
            res[int(p["pfn"], 16)] = (w["pid"], w["comm"], int(w["vaddr"], 16))
    return res


def run(t, vm):
    blk = vm.dimm_blocks("d1")[1]
    vm.spawn("pinner --pin-block %d --count 3" % blk, "pin")
    text = vm.wait_output("/tmp/pin.out", r"^(READY|NOTFOUND)", timeout=180)
    pins = pins_of(text)
    t.ok(len(pins) == 3 and "READY" in text, "pinner pins 3 pages of block %d" % blk, text)
    if len(pins) != 3:
        return
    pid = next(iter(pins.values()))[0]
    want = {pfn: (pid, "pinner", vaddr) for pfn, (pid, vaddr) in pins.items()}

    rc, out, err = run_split(vm, "MEMOFF_LOG_LEVEL=debug memoffctl offline -b %d --stall-grace 0 --attempt-timeout 1s "
                                 "--deadline 7s --long-lived 3s -J" % blk, timeout=120)
    t.eq(rc, 1, "offline of the pinned block fails (exit 1)")
    try:
        res = json.loads(out)
    except ValueError:
        res = None
    t.ok(res is not None, "offline -J is JSON", out)
    if not res:
        return
    b = res["blocks"][0]
    t.eq(b["outcome"], "timed-out", "every attempt timed out")
    t.diag("measured: %d attempts in %.1f s" % (b["attempts"], b["seconds"]))
    bp = b.get("blocked_pages")
    groups = bp["groups"] if bp else []
    t.ok(len(groups) >= 1, "offline -J reports the blocked pages of the block it gave up on", out)
    if not groups:
        return
    mine = [g for g in groups if g["owner"] and g["owner"]["pid"] == pid]
    t.diag("pinner's pages make %d group(s): %s" % (len(mine), ", ".join(
        "%s-%s" % (g["first_pfn"], g["last_pfn"]) for g in mine)))
    t.ok(len(mine) >= 1 and all(g["owner"]["comm"] == "pinner" for g in mine),
         "offline -J names the pinning process", out)
    got = {}
    for g in mine:
        got.update(page_list(g))
    t.eq(got, want, "offline -J lists pinner's pages with the virtual addresses it printed")
    t.ok(all("attempt" in g["evidence"] for g in mine), "the pages stayed in use through the attempts",
         repr([g["evidence"] for g in mine]))
    t.eq([g["class"] for g in mine], ["long-lived"] * len(mine),
         "held across attempts for longer than 3 s: long-lived")
    kls = [g.get("kernel_log") or {} for g in mine]
    t.eq([(kl.get("refcount"), kl.get("mapcount"), kl.get("extra_refs")) for kl in kls], [(3, 1, 1)] * len(mine),
         "the kernel log's dump_page: refcount 3, mapcount 1, one extra reference (the pipe)")

    # a record per group: when it first blocks and when it turns long-lived, not one per attempt
    recs = records(err)
    firsts = sorted(int(g["first_pfn"], 16) for g in mine)
    for event in ("new", "long-lived"):
        rs = sorted((r for r in recs if r.get("MEMOFF_EVENT") == event),
                    key=lambda r: int(r.get("MEMOFF_PFN", "0"), 16))
        t.ok(len(rs) == len(mine), "one %s record for each of pinner's %d group(s), not one per attempt"
             % (event, len(mine)), err)
        t.eq([(r.get("MEMOFF_BLOCK"), r.get("MEMOFF_PID"), r.get("MEMOFF_COMM"), r.get("MEMOFF_PFN"),
               r.get("MEMOFF_VADDR")) for r in rs],
             [(str(blk), str(pid), "pinner", "0x%x" % f, "0x%x" % pins[f][1]) for f in firsts],
             "the %s records name block, pid, comm, the group's first PFN and its address" % event)
        if event == "long-lived":
            t.eq([r.get("MEMOFF_CLASS") for r in rs], ["long-lived"] * len(mine), "and classify it long-lived")

    # read-only afterwards: the kernel log of those attempts still names the pages
    rc, out, err = run_split(vm, "memoffctl pins -b %d -J" % blk, timeout=60)
    t.eq(rc, 0, "pins -b %d exits 0" % blk)
    try:
        res = json.loads(out)
        groups = res["blocks"][0]["groups"]
    except (ValueError, KeyError, IndexError):
        groups = []
    got = {}
    for g in groups:
        if "kmsg" in g["evidence"]:
            got.update(page_list(g))
    t.eq(got, want, "pins -J names pinner and its addresses from the kernel log")
