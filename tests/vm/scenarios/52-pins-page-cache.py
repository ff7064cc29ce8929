# SPDX-License-Identifier: LGPL-2.1-or-later
"""A pinned page-cache page: pinner maps a file (on tmpfs) and vmsplices one
of its pages; memoff reports the page with the file's path, from the
process's mapping and from the kernel log's dump_page."""

import json
import re

REQUIRES = ["memoffctl", "pinner"]
DIMMS = ["512M"]
TIMEOUT = 420

PATH = "/mnt/t/data"


def run(t, vm):
    dimm = set(vm.dimm_blocks("d1"))
    vm.sh("mkdir -p /mnt/t && mount -t tmpfs none /mnt/t && dd if=/dev/urandom of=%s bs=1M count=32 "
          "2>/dev/null" % PATH, timeout=120)
    # where its pages live: pinner without a target only maps and reports them
    pid = vm.spawn("pinner --mib 1 --max-mib 1 --file %s" % PATH, "scan")
    text = vm.wait_output("/tmp/scan.out", r"^READY", timeout=180)
    vm.kill(pid)
    pages = [(int(m.group(1), 16), int(m.group(2), 16), int(m.group(3)))
             for m in re.finditer(r"^FILE pid=\d+ vaddr=0x([0-9a-f]+) pfn=0x([0-9a-f]+) block=(\d+)$", text, re.M)]
    in_dimm = [p for p in pages if p[2] in dimm]
    t.ok(len(in_dimm) > 0, "the file has page-cache pages in the DIMM", "%d pages, none in %s" % (len(pages), dimm))
    if not in_dimm:
        return
    _, pfn, blk = in_dimm[len(in_dimm) // 2]
    start = pfn * 4096
    vm.spawn("pinner --mib 1 --max-mib 1 --file %s --pin-range 0x%x-0x%x" % (PATH, start, start + 4095), "pin")
    text = vm.wait_output("/tmp/pin.out", r"^(READY|NOTFOUND)", timeout=180)
    m = re.search(r"^PIN pid=(\d+) vaddr=0x([0-9a-f]+) pfn=0x%x " % pfn, text, re.M)
    t.ok(m is not None, "pinner pins page-cache page 0x%x of block %d" % (pfn, blk), text)
    if not m:
        return
    pid, vaddr = int(m.group(1)), int(m.group(2), 16)

    rc, _ = vm.run("memoffctl offline -b %d --attempt-timeout 1s --deadline 4s -J > /tmp/o.txt 2>/tmp/e.txt"
                   % blk, timeout=120)
    out = vm.read_file("/tmp/o.txt").decode()
    t.eq(rc, 1, "offline of the block fails")
    try:
        groups = json.loads(out)["blocks"][0]["blocked_pages"]["groups"]
    except (ValueError, KeyError, IndexError, TypeError):
        groups = []
    g = next((g for g in groups if int(g["first_pfn"], 16) <= pfn <= int(g["last_pfn"], 16)), None)
    t.ok(g is not None, "the pinned page-cache page is reported", out)
    if not g:
        return
    w = g["owner"] or {}
    t.eq((w.get("pid"), w.get("comm"), w.get("mapping"), w.get("kind")), (pid, "pinner", PATH, "file"),
         "owned by pinner through a mapping of %s" % PATH)
    page = next((p for p in g["page_list"] if int(p["pfn"], 16) == pfn), None)
    t.eq(int(page["owners"][0]["vaddr"], 16) if page and page["owners"] else None, vaddr,
         "at the address pinner printed")
    kl = g.get("kernel_log") or {}
    t.eq((kl.get("kind"), kl.get("file")), ("file", "data"),
         "the kernel log's dump_page names the file (dentry) of the page-cache page")
    t.diag("kernel log: %s" % json.dumps(kl))
