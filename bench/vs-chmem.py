#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""memoffctl offline against chmem -d, side by side, in the QEMU guest.

    bench/vs-chmem.py [--case a|b|all] [--rounds N] [--size SIZE] [--timeout SECS]

Boots Debian's kernel under QEMU (the real-kernel suite's driver, tests/vm/)
with 1 GiB of boot memory and two 512 MiB DIMMs in ZONE_MOVABLE, the same VM
for each tool, starts the same workload, and runs the same request:
`chmem -d SIZE` (under busybox timeout: it does not stop by itself) and
`memoffctl offline SIZE`. For each it prints the wall time (in the guest),
the MiB offlined, the pages migrated (pgmigrate_success delta), the OOM kills
(oom_kill delta) and whether it finished; then the ratios.

(a) an unpinned workload, two ways; --rounds fresh VMs per tool each, the
    medians are compared. Target: memoff wall <= 1.1x chmem's, and no more
    pages migrated than chmem.
    fresh: pinner holds 640 MiB of anonymous memory, which the kernel hands
      out from the lowest Movable blocks up: the blocks chmem takes from the
      top are the free ones, so both tools do the same kernel work and the
      comparison measures memoff's own overhead (its worst case).
    aged: a 512 MiB process and then a 384 MiB one start, and the first
      exits: free blocks below busy ones, as on a machine that has run a
      while. chmem still takes the top blocks, busy now; memoff picks by
      census.
(b) the same workload, plus a page pinned (vmsplice) in each of the two
    blocks chmem -d takes first: util-linux's chmem walks the blocks from
    the highest number down (sys-utils/chmem.c, chmem_size()), so the top
    two. chmem spins on the first for ever; memoffctl must reach the size
    by its deadline (--deadline = chmem's timeout) around them.

Needs what the VM suite needs (qemu-system-x86_64, busybox, a kernel from
tests/vm/fetch-kernel.sh) and a build: src/memoffctl/memoffctl and
tests/vm/pinner under $top_builddir. Prints a SKIP line and exits 0 when the
VM cannot be had. Nothing runs on the host but QEMU.
"""

import argparse
import os
import re
import statistics
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import vmbench  # noqa: E402
import vm as vmmod  # noqa: E402
import scenlib as S  # noqa: E402

DIMMS = ["512M", "512M"]
WORKLOAD_MIB = 640
CASES = {
    "fresh": "(a) unpinned workload, fresh: 640 MiB in the low blocks",
    "aged": "(a) unpinned workload, aged: 384 MiB above 512 MiB that was freed",
    "b": "(b) the fresh workload + a pinned page in blocks %s (the ones chmem -d takes first); "
         "memoffctl --attempt-timeout %s",
}


def skip(why):
    vmbench.skip("vs-chmem", why)


def prepare(rel_bins=("src/memoffctl/memoffctl", "tests/vm/pinner")):
    """The kernel, a guest image holding `rel_bins` (under $top_builddir) and
    the kernel's version; SKIPs (exit 0) when the VM cannot be had."""
    return vmbench.prepare("vs-chmem", rel_bins=rel_bins)


def one_run(kernel, initrd, tool, case, size, timeout, attempt_timeout):
    """Boot, set up the workload of `case`, run `tool`; returns a dict."""
    with vmmod.VM(kernel, initrd, dimms=DIMMS) as vm:
        if vm.sh("command -v chmem || true").strip() == "":
            raise vmmod.VMError("the guest image has no chmem (util-linux on this machine?)")
        bs = vm.block_size()
        movable = vm.dimm_blocks("d1") + vm.dimm_blocks("d2")
        if case == "aged":
            old, _, _, text = S.start_pinner(vm, "--mib 512 --hold", "old", timeout=240)
            work, _, _, text = S.start_pinner(vm, "--mib 384 --hold", "work", timeout=240)
            vm.kill(old)
            vm.sh("while [ -d /proc/%d ]; do sleep 0.1; done" % old)
        else:
            work, _, _, text = S.start_pinner(vm, "--mib %d --hold" % WORKLOAD_MIB, "work",
                                              timeout=240)
        if "READY" not in text:
            raise vmmod.VMError("the workload did not start: %s" % text)
        pinned = []
        if case == "b":
            # chmem -d takes the highest-numbered online blocks first.
            first = sorted(movable)[-2:]
            _, pins, _, text = S.start_pinner(vm, " ".join("--pin-block %d" % b for b in first),
                                              "pin", timeout=240)
            pinned = sorted({b for _, b in pins})
            if pinned != first:
                raise vmmod.VMError("pinner could not pin blocks %s: %s" % (first, text))
        vm.sh("sync; echo 1 > /proc/sys/vm/drop_caches; dmesg -c > /dev/null")
        before = S.states(vm)
        v0 = S.vmstat(vm)
        if tool == "chmem":
            cmd = "timeout %d chmem -d %s" % (timeout, size)
        else:
            cmd = "memoffctl offline %s --deadline %ds" % (size, timeout)
            if attempt_timeout:
                cmd += " --attempt-timeout %s" % attempt_timeout
        rc, out, err, secs = S.timed(vm, cmd, timeout=timeout + 120)
        v1 = S.vmstat(vm)
        after = S.states(vm)
        gone = sorted(b for b in after if before.get(b) == "online" and after[b] == "offline")
        return {
            "tool": tool, "cmd": cmd, "rc": rc, "secs": secs,
            "finished": rc == 0,
            "timed_out": tool == "chmem" and secs >= timeout - 0.5,
            "mib": len(gone) * bs // S.MIB, "blocks": gone,
            "migrated": v1.get("pgmigrate_success", 0) - v0.get("pgmigrate_success", 0),
            "oom": v1.get("oom_kill", 0) - v0.get("oom_kill", 0),
            "alive": S.alive(vm, work), "pinned": pinned,
            "stderr": err.strip(), "boot": vm.boot_seconds,
        }


def ranges(blocks):
    out, i = [], 0
    while i < len(blocks):
        j = i
        while j + 1 < len(blocks) and blocks[j + 1] == blocks[j] + 1:
            j += 1
        out.append(str(blocks[i]) if i == j else "%d-%d" % (blocks[i], blocks[j]))
        i = j + 1
    return ",".join(out) or "-"


def show(title, runs, size, timeout):
    """Print one case side by side; returns the medians (chmem, memoff)."""
    print()
    print(title)
    cols = ("chmem -d %s" % size, "memoffctl offline %s" % size)
    print("  %-22s %-28s %-28s" % ("", cols[0], cols[1]))
    med = {}
    for tool in ("chmem", "memoffctl"):
        rs = runs[tool]
        med[tool] = {
            "secs": statistics.median(r["secs"] for r in rs),
            "best": min(r["secs"] for r in rs),
            "migrated": statistics.median(r["migrated"] for r in rs),
            "mib": statistics.median(r["mib"] for r in rs),
        }

    def row(name, fn):
        print("  %-22s %-28s %-28s" % (name, fn(runs["chmem"]), fn(runs["memoffctl"])))

    def fin(rs):
        r = rs[0]
        if r["timed_out"]:
            return "NO: did not finish in %d s" % timeout
        return ("yes" if r["finished"] else "no") + " (exit %d)" % r["rc"]
    row("finished", fin)
    n = len(runs["chmem"])
    row("wall time" + (" (median of %d)" % n if n > 1 else ""),
        lambda rs: "%.2f s" % statistics.median(r["secs"] for r in rs)
        + ("  [%s]" % " ".join("%.2f" % r["secs"] for r in rs) if len(rs) > 1 else ""))
    if n > 1:
        row("wall time (best of %d)" % n, lambda rs: "%.2f s" % min(r["secs"] for r in rs))
    row("MiB offlined", lambda rs: "%d" % statistics.median(r["mib"] for r in rs))
    row("blocks offlined", lambda rs: ranges(rs[0]["blocks"]))
    row("pages migrated", lambda rs: "%d" % statistics.median(r["migrated"] for r in rs)
        + ("  [%s]" % " ".join(str(r["migrated"]) for r in rs) if len(rs) > 1 else ""))
    row("OOM kills", lambda rs: "%d" % sum(r["oom"] for r in rs))
    row("workload alive", lambda rs: "yes" if all(r["alive"] for r in rs) else "NO")
    return med["chmem"], med["memoffctl"]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--case", choices=("a", "fresh", "aged", "b", "all"), default="all",
                    help="a = fresh and aged")
    ap.add_argument("--rounds", type=int, default=3, help="fresh VMs per tool in case (a)")
    ap.add_argument("--size", default="512M")
    ap.add_argument("--timeout", type=int, default=60,
                    help="chmem's timeout and memoffctl's --deadline, seconds")
    ap.add_argument("--attempt-timeout", default="5s",
                    help="memoffctl --attempt-timeout in case (b)")
    a = ap.parse_args()

    kernel, initrd, version = prepare()
    print("memoff vs chmem: offline %s in a QEMU guest (Debian kernel %s, TCG, 1 CPU, 1 GiB boot "
          "memory + 2 x 512 MiB DIMMs in ZONE_MOVABLE)" % (a.size, version or "?"))
    print("workloads: pinner --hold (anonymous memory, THP off); chmem under `timeout %d`, "
          "memoffctl with --deadline %ds; every run in a fresh VM" % (a.timeout, a.timeout))
    t0 = time.monotonic()
    verdicts = []
    for case in ("fresh", "aged"):
        if a.case not in (case, "a", "all"):
            continue
        runs = {"chmem": [], "memoffctl": []}
        for i in range(a.rounds):
            for tool in ("chmem", "memoffctl"):
                runs[tool].append(one_run(kernel, initrd, tool, case, a.size, a.timeout, None))
        c, m = show(CASES[case], runs, a.size, a.timeout)
        wr = m["secs"] / c["secs"] if c["secs"] else float("inf")
        wb = m["best"] / c["best"] if c["best"] else float("inf")
        pr = m["migrated"] / c["migrated"] if c["migrated"] else (1.0 if not m["migrated"] else float("inf"))
        ok_w, ok_p = wr <= 1.1, m["migrated"] <= c["migrated"]
        print("  ratio memoff/chmem:    wall %.2fx median%s (target <= 1.10x: %s), pages migrated %.3fx "
              "(target <= 1.00x: %s)" % (wr, ", %.2fx best" % wb if a.rounds > 1 else "",
                                         "met" if ok_w else "MISSED", pr, "met" if ok_p else "MISSED"))
        verdicts += [ok_w, ok_p]
    if a.case in ("b", "all"):
        runs = {tool: [one_run(kernel, initrd, tool, "b", a.size, a.timeout, a.attempt_timeout)]
                for tool in ("chmem", "memoffctl")}
        pinned = runs["memoffctl"][0]["pinned"]
        c, m = show(CASES["b"] % (ranges(pinned), a.attempt_timeout), runs, a.size, a.timeout)
        cr, mr = runs["chmem"][0], runs["memoffctl"][0]
        ok_b = mr["finished"] and mr["secs"] <= a.timeout + 2 and not cr["finished"]
        print("  verdict:               memoffctl %s; chmem %s (target: memoff finishes, chmem does not: %s)"
              % ("offlined %d MiB in %.2f s" % (mr["mib"], mr["secs"]) if mr["finished"]
                 else "did NOT finish (exit %d)" % mr["rc"],
                 "did not finish in %d s (%d MiB offlined)" % (a.timeout, cr["mib"]) if cr["timed_out"]
                 else "exit %d after %.2f s" % (cr["rc"], cr["secs"]),
                 "met" if ok_b else "MISSED"))
        if m["secs"] and cr["timed_out"]:
            print("  ratio memoff/chmem:    wall %.2fx (chmem stopped by its timeout)"
                  % (m["secs"] / c["secs"]))
        verdicts.append(ok_b)
    print("\nvs-chmem: %d of %d targets met in %.0f s" % (sum(verdicts), len(verdicts),
                                                         time.monotonic() - t0))
    return 0


if __name__ == "__main__":
    sys.exit(main())
