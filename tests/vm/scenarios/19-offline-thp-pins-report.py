# SPDX-License-Identifier: LGPL-2.1-or-later
"""Pins in many THPs across several blocks: the offline report is a few lines, naming the pinner.

The issue's setup: a 2 GiB Movable DIMM (16 blocks) beside 2 GiB of boot
memory, THP on, a process whose anonymous memory fills the DIMM and that
pins (vmsplice) every 512th page of the top 8 blocks (at least 48 of the 64
in each), so that their THPs are held. `memoffctl offline 512M`
must succeed around the pinned blocks (exit 0), and its report of the blocks
it gave up on must be short (one line per block and owner, not one per page
or per head and tails: at most 20 lines), name the pinner's pid and comm on
every line, count THPs as THPs, and never call pages the pinner maps "mapped
by no process". Nothing it reports is repeated on stderr.
"""

import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import scenlib as S  # noqa: E402

REQUIRES = ["memoffctl", "pinner"]
DIMMS = ["2G"]
VM_ARGS = {"mem": "2G"}
TIMEOUT = 900
REPORT_MAX_LINES = 20


def run(t, vm):
    movable = vm.dimm_blocks("d1")
    top = movable[-8:]
    vm.sh("echo always > /sys/kernel/mm/transparent_hugepage/enabled")
    pid, pins, _, text = S.start_pinner(
        vm, "--thp --hold --stride 512 --count 48 --mib 64 --chunk-mib 64 --max-mib 2560 "
        + " ".join("--pin-block %d" % b for b in top), "pin", timeout=300)
    pinned = sorted({b for _, b in pins})
    t.diag("pinner %d pinned %d pages in blocks %s" % (pid, len(pins), pinned))
    if not t.eq(pinned, top, "pinner pins pages in each of the top 8 blocks %s" % top):
        t.diag(text[-2000:])
        return
    thp = vm.sh("grep AnonHugePages /proc/meminfo").strip()
    t.diag("guest: %s" % thp)

    rc, out, err, secs = S.ctl(vm, "offline 512M --attempt-timeout 2s --deadline 240s", timeout=400)
    lines = out.splitlines()
    t.diag("measured: offline 512M in %.2f s, %d lines on stdout, %d on stderr" % (
        secs, len(lines), len(err.splitlines())))
    t.diag("stdout:\n" + out)
    if err.strip():
        t.diag("stderr:\n" + err[-3000:])
    t.eq(rc, 0, "offline 512M exits 0 (it goes around the pinned blocks)")
    # a table row per block tried (8 pinned and 4 offlined at most), 2 summary
    # lines, the blocked pages' heading and 2 lines for each pinned block tried
    t.ok(len(lines) <= 32, "the whole report is at most 32 lines (908 on stdout before)", "%d lines" % len(lines))
    t.ok(len(err.splitlines()) <= 1, "at most a line on stderr (887 before)", err[-2000:])

    try:
        start = lines.index("Blocked pages:")
    except ValueError:
        start = None
    t.ok(start is not None, "the report has a blocked-pages section")
    if start is None:
        return
    report = [ln for ln in lines[start + 1:] if ln.startswith("  block ")]
    gave_up = sorted({int(m.group(1)) for m in (re.match(r"  block (\d+):", ln) for ln in report) if m})
    t.diag("blocked-page lines: %d, blocks %s" % (len(report), gave_up))
    t.ok(0 < len(report) + 1 <= REPORT_MAX_LINES,
         "the blocked-page report is at most %d lines (was 908 lines before)" % REPORT_MAX_LINES,
         "%d lines" % (len(report) + 1))
    t.ok(gave_up and set(gave_up) <= set(top), "it reports only pinned blocks", repr(gave_up))
    # one line per block and kind of page: its THPs, and the odd small page
    # pinned at a chunk's edge where pinner's memory was not a THP
    t.ok(all(sum(1 for ln in report if ln.startswith("  block %d:" % b)) <= 2 for b in gave_up),
         "at most two lines per block given up on (one owner; THPs and small pages)", "\n".join(report))
    named = "pinner[%d]" % pid
    t.ok(all(named in ln for ln in report), "every line names the pinner, %s" % named,
         "\n".join(ln for ln in report if named not in ln))
    t.ok(not any("mapped by no process" in ln for ln in report),
         "no line calls the pinner's pages mapped by no process",
         "\n".join(ln for ln in report if "mapped by no process" in ln))
    thp_lines = [ln for ln in report if re.search(r": \d+ THPs? \(\d+ pages\) of anonymous \(THP\)", ln)]
    t.ok(all(any(ln.startswith("  block %d:" % b) for ln in thp_lines) for b in gave_up),
         "each block's THPs are one line that counts them as THPs, head and tails together",
         "\n".join(report))
    t.ok(all(ln in thp_lines or re.search(r": \d+ pages? of anonymous,", ln) for ln in report),
         "the other lines are small pages", "\n".join(report))
    t.ok(not any(re.search(r"\b511 pages\b", ln) for ln in report), "no THP is split into head and tails")
    t.ok("pinner[%d]" % pid not in err and "blocked by" not in err,
         "stderr does not repeat the report")
    t.ok(S.alive(vm, pid), "the workload is still running")
    t.eq(S.oom_kills(vm), 0, "nothing was OOM-killed")
    vm.kill(pid)
