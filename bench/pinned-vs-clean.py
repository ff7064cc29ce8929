#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""The same offline through memoffd, with and without pinned pages, in the QEMU guest.

    bench/pinned-vs-clean.py [--grace DUR]... [--rounds N] [--trace]

Boots Debian's kernel under QEMU (the real-kernel suite's driver, tests/vm/)
with 1 GiB of boot memory and a 2 GiB DIMM in ZONE_MOVABLE (16 blocks), THP
on, and sets up the layout of issue 9: pinner's anonymous memory (huge pages)
fills the top 8 Movable blocks and 768 MiB below them; in the pinned case
every huge page of the top 8 blocks (half the Movable blocks) has a page
pinned with vmsplice, in the clean case the same pinner lets go of its pins
right away (--release-after 0: the same layout, nothing pinned). memoffd
starts fresh (no remembered pins) and, through it:

  first contact:   memoffctl offline 512M -z Movable
  second request:  memoffctl offline 256M -z Movable (the same daemon)

The census cannot tell the pinned blocks from the others, so on first
contact they rank with them; every attempt on one stalls (StallGrace) and
memoffd remembers it, and the second request goes around them. The work
migrated is the same in both cases (two free blocks and two full ones, then
two full ones): the ratios are what the pins cost.

Targets: first contact <= 1.5x the clean time, second request <= 1.1x.
Also printed: the attempts that stalled and those that ran to the attempt
timeout (10 s), from memoffd's log. --grace (repeatable) runs the pinned
case with memoffctl --stall-grace DUR besides memoffd's default. --trace
runs memoffd -v and prints, per request, where each attempt's time went
(its debug records: the write, when the first failure showed, when it
stalled, the censuses taken, the work after the write). Prints a
SKIP line and exits 0 when the VM cannot be had; nothing runs on the host
but QEMU.
"""

import argparse
import json
import os
import re
import statistics
import sys
import time

sys.dont_write_bytecode = True
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import importlib  # noqa: E402

vc = importlib.import_module("vs-chmem")
vmmod, S = vc.vmmod, vc.S

DIMMS = ["2G"]
PINNED = 8
PINS_PER_BLOCK = 64
WORKLOAD_MIB = 768
RESERVE = "128M"


def duration(text):
    """Seconds of a duration as memoffd prints it: 538ms, 1.032s."""
    m = re.match(r"^([0-9.]+)(ms|s)$", text)
    return float(m.group(1)) / (1000 if m.group(2) == "ms" else 1) if m else 0.0


def one_run(kernel, initrd, pinned, grace, trace=False):
    """Boot, set up the layout, start memoffd, run both requests; returns a dict."""
    with vmmod.VM(kernel, initrd, dimms=DIMMS) as vm:
        vm.sh("echo always > /sys/kernel/mm/transparent_hugepage/enabled")
        movable = vm.dimm_blocks("d1")
        top = movable[-PINNED:]
        args = ("--thp --mib %d --chunk-mib 4 --max-mib 2300 --stride 512 --count %d %s%s"
                % (WORKLOAD_MIB, PINS_PER_BLOCK, " ".join("--pin-block %d" % b for b in top),
                   "" if pinned else " --release-after 0"))
        work, pins, _, text = S.start_pinner(vm, args, "work", timeout=400)
        if "READY" not in text:
            raise vmmod.VMError("the workload did not start: %s" % text[-1000:])
        if not pinned:
            vm.wait_output("/tmp/work.out", r"^RELEASED", timeout=60)
        n_pins = len(pins)
        vm.sh("sync; echo 1 > /proc/sys/vm/drop_caches; dmesg -c > /dev/null")
        vm.spawn("memoffd -v" if trace else "memoffd", "memoffd")
        vm.wait_output("/tmp/memoffd.out", r"Ready:", timeout=60)
        opt = " --reserve %s%s" % (RESERVE, " --stall-grace %s" % grace if grace else "")
        res = {"pins": n_pins}
        print("  (%s: %d pages pinned%s)" % ("pinned" if pinned else "clean", n_pins,
                                              "" if pinned else ", then released"))
        for name, size in (("first", "512M"), ("second", "256M")):
            log0 = len(vm.sh("cat /tmp/memoffd.out"))
            v0 = S.vmstat(vm)
            t_start = vm.sh("cat /proc/uptime").split()[0] if trace else ""
            rc, out, err, secs = S.timed(vm, "memoffctl offline %s -z Movable%s -J" % (size, opt), timeout=600)
            try:
                obj = json.loads(out)
            except ValueError:
                obj = None
            v1 = S.vmstat(vm)
            log = vm.sh("cat /tmp/memoffd.out")[log0:]
            tried = [(b["block"], b["outcome"], b["attempts"]) for b in (obj or {}).get("blocks", [])
                     if b.get("attempts")]
            res[name] = {
                "rc": rc, "secs": secs, "done": ((obj or {}).get("totals") or {}).get("done_bytes", 0) // S.MIB,
                "tried": tried, "pinned_tried": sum(1 for b, _, _ in tried if b in top),
                "stalled": len(re.findall(r"attempt \d+ stalled after", log)),
                "stall_secs": sum(duration(d) for d in re.findall(r"attempt \d+ stalled after (\S+):", log)),
                "timed_out": len(re.findall(r"attempt \d+ timed out after", log)),
                "migrated": v1.get("pgmigrate_success", 0) - v0.get("pgmigrate_success", 0),
                "err": err.strip()[-300:],
            }
            if trace:
                print("  [%s %s] %.2f s (from uptime %s), -J output %d bytes:"
                      % ("pinned" if pinned else "clean", name, secs, t_start, len(out)))
                print("    blocks (outcome, pinned, stall): %s"
                      % [(b["block"], b["outcome"], b.get("pinned"), bool(b.get("stall")))
                         for b in (obj or {}).get("blocks", [])])
                for line in log.splitlines():
                    if re.search(r"ms[:;]|took|stalled after|timed out after|offlined|Job", line):
                        print("    " + line[:200])
        res["oom"] = S.oom_kills(vm)
        return res


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--grace", action="append", default=[],
                    help="also run the pinned case with memoffctl --stall-grace DUR (repeatable)")
    ap.add_argument("--rounds", type=int, default=1, help="fresh VMs per case; medians compared")
    ap.add_argument("--trace", action="store_true",
                    help="run memoffd -v and print its timing trace (debug) of each request")
    a = ap.parse_args()

    kernel, initrd, version = vc.prepare(["src/memoffctl/memoffctl", "src/memoffd/memoffd",
                                               "tests/vm/pinner"])
    print("pinned vs clean: memoffd offline 512M, then 256M, in a QEMU guest (Debian kernel %s, TCG, "
          "1 CPU, 1 GiB boot memory + a 2 GiB DIMM in ZONE_MOVABLE, THP on)" % (version or "?"))
    print("layout: %d MiB of huge pages in the lower Movable blocks, up to %d huge pages in each of the top %d; "
          "pinned: every 512th page of those blocks vmspliced; clean: the same, pins released"
          % (WORKLOAD_MIB, PINS_PER_BLOCK, PINNED))
    t0 = time.monotonic()
    cases = [("clean", False, None), ("pinned", True, None)] + [("pinned, grace %s" % g, True, g)
                                                               for g in a.grace]
    runs = {name: [one_run(kernel, initrd, pinned, grace, a.trace) for _ in range(a.rounds)]
            for name, pinned, grace in cases}

    def med(name, req, key):
        return statistics.median(r[req][key] for r in runs[name])

    print()
    print("  %-22s %-8s %-10s %-6s %-9s %-17s %-10s %s" % ("case", "request", "wall", "MiB", "migrated",
                                                           "stalled (time)", "timed-out", "tried (pinned)"))
    for name, _, _ in cases:
        for req in ("first", "second"):
            r = runs[name][0][req]
            print("  %-22s %-8s %-10s %-6d %-9d %-17s %-10d %d (%d)"
                  % (name, req, "%.2f s" % med(name, req, "secs"), r["done"], med(name, req, "migrated"),
                     "%d (%.2f s)" % (r["stalled"], r["stall_secs"]), r["timed_out"], len(r["tried"]),
                     r["pinned_tried"]))
    verdicts = []
    for name, _, _ in cases[1:]:
        r1 = med(name, "first", "secs") / med("clean", "first", "secs")
        r2 = med(name, "second", "secs") / med("clean", "second", "secs")
        ok1, ok2 = r1 <= 1.5, r2 <= 1.1
        full = sum(r[q]["timed_out"] for r in runs[name] for q in ("first", "second"))
        print("  ratio %-16s first contact %.2fx (target <= 1.5x: %s), second request %.2fx "
              "(target <= 1.1x: %s); attempts run to the timeout: %d"
              % (name + ":", r1, "met" if ok1 else "MISSED", r2, "met" if ok2 else "MISSED", full))
        verdicts += [ok1, ok2]
    bad = [(n, r) for n, rs in runs.items() for r in rs
           if r["first"]["rc"] != 0 or r["second"]["rc"] != 0 or r["oom"]]
    for n, r in bad:
        print("  %s: exit %d/%d, %d OOM kills: %s" % (n, r["first"]["rc"], r["second"]["rc"], r["oom"],
                                                      r["first"]["err"] or r["second"]["err"]))
    print("\npinned-vs-clean: %d of %d targets met in %.0f s" % (sum(verdicts), len(verdicts),
                                                               time.monotonic() - t0))
    return 0


if __name__ == "__main__":
    sys.exit(main())
