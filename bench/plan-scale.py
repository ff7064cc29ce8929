#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""How the plan of a size request scales with the machine's memory.

    bench/plan-scale.py [--rounds N] [--size SIZE] [--keep DIR] [--layout free-top|spread|busy]

Builds two synthetic machines in a scratch directory, a sysfs memory-block
tree and a procfs with /proc/kpageflags (a sparse file), /proc/kpagecount,
/proc/meminfo, /proc/iomem and /proc/zoneinfo:

    small  24 GiB:  192 blocks of 128 MiB (the development host's shape)
    large   4 TiB:  32768 blocks of 128 MiB

Both have the same layout: the first eighth of the blocks is boot memory in
ZONE_NORMAL, the rest ZONE_MOVABLE. In the movable part, with --layout
  spread (default)  every fourth block is free (nothing in use), the others
                    hold 1024 anonymous pages and a THP;
  free-top          the highest movable blocks are free, the others busy;
  busy              no block is free: a plan that cannot stop early (the
                    worst case, for information).
Then it runs `memoffctl offline --direct --dry-run -J SIZE` (default 1G)
against each tree, alternating, --rounds times (default 7), and prints the
medians of the wall time, the blocks each plan examined, and the ratio
large / small. Target: <= 2x.

Runs only memoffctl against files it made; nothing on the host is read
beyond the binary. Needs $top_builddir/src/memoffctl/memoffctl.
"""

import argparse
import json
import os
import shutil
import statistics
import struct
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SRCDIR = os.environ.get("top_srcdir") or os.path.dirname(HERE)
BUILDDIR = os.environ.get("top_builddir") or SRCDIR

BLOCK = 128 << 20
PAGE = 4096
PFNS = BLOCK // PAGE
# kpageflags bits (include/uapi/linux/kernel-page-flags.h)
KPF = {"LRU": 5, "UPTODATE": 3, "DIRTY": 4, "MMAP": 11, "ANON": 12, "BUDDY": 10,
       "COMPOUND_HEAD": 15, "COMPOUND_TAIL": 16, "THP": 22}


def bits(*names):
    v = 0
    for n in names:
        v |= 1 << KPF[n]
    return v


BUDDY = struct.pack("<Q", bits("BUDDY"))
ANON = struct.pack("<Q", bits("ANON", "LRU", "MMAP", "UPTODATE", "DIRTY"))
THP_HEAD = struct.pack("<Q", bits("ANON", "LRU", "MMAP", "UPTODATE", "COMPOUND_HEAD", "THP"))
THP_TAIL = struct.pack("<Q", bits("ANON", "MMAP", "COMPOUND_TAIL", "THP"))


def write(path, text):
    with open(path, "w") as f:
        f.write(text)


def block_state(i, n_blocks, layout):
    """'normal' (boot memory, in use), 'free' or 'busy' (movable)."""
    first_movable = n_blocks // 8
    if i < first_movable:
        return "normal"
    if layout == "busy":
        return "busy"
    if layout == "free-top":
        return "free" if i >= n_blocks - 16 else "busy"
    return "free" if (i - first_movable) % 4 == 3 else "busy"


def build(dest, mem_bytes, layout):
    n_blocks = mem_bytes // BLOCK
    sysmem = os.path.join(dest, "sys", "devices", "system", "memory")
    node0 = os.path.join(dest, "sys", "devices", "system", "node", "node0")
    proc = os.path.join(dest, "proc")
    os.makedirs(sysmem)
    os.makedirs(node0)
    os.makedirs(proc)
    write(os.path.join(sysmem, "block_size_bytes"), "%x\n" % BLOCK)
    write(os.path.join(sysmem, "auto_online_blocks"), "online_movable\n")
    for i in range(n_blocks):
        d = os.path.join(sysmem, "memory%d" % i)
        os.mkdir(d)
        normal = block_state(i, n_blocks, layout) == "normal"
        write(os.path.join(d, "state"), "online\n")
        write(os.path.join(d, "online"), "1\n")
        write(os.path.join(d, "phys_index"), "%08x\n" % i)
        write(os.path.join(d, "phys_device"), "0\n")
        write(os.path.join(d, "removable"), "1\n")
        write(os.path.join(d, "valid_zones"), "Normal\n" if normal else "Movable\n")
        os.symlink("../../node/node0", os.path.join(d, "node0"))
    kb = mem_bytes // 1024
    write(os.path.join(node0, "meminfo"),
          "Node 0 MemTotal:       %d kB\nNode 0 MemFree:        %d kB\n"
          "Node 0 Inactive(file): 0 kB\nNode 0 SReclaimable:   0 kB\n" % (kb, kb // 2))
    write(os.path.join(proc, "meminfo"),
          "MemTotal:       %d kB\nMemFree:        %d kB\nMemAvailable:   %d kB\n" % (kb, kb // 2, kb // 2))
    write(os.path.join(proc, "iomem"),
          "00000000-%08x : System RAM\n" % (mem_bytes - 1))
    first_movable = n_blocks // 8
    write(os.path.join(proc, "zoneinfo"),
          "Node 0, zone   Normal\n  pages free     0\n        spanned  %d\n        present  %d\n"
          "  start_pfn:           0\n"
          "Node 0, zone  Movable\n  pages free     0\n        spanned  %d\n        present  %d\n"
          "  start_pfn:           %d\n"
          % (first_movable * PFNS, first_movable * PFNS, (n_blocks - first_movable) * PFNS,
             (n_blocks - first_movable) * PFNS, first_movable * PFNS))
    # kpageflags: a sparse file; holes read 0 (no flags: free in practice in
    # ZONE_MOVABLE, as most free pages read on recent kernels). Busy blocks
    # start with 1024 anonymous pages and one THP, free blocks with 512 free
    # (BUDDY) pages; Normal blocks are holes (a Movable request never
    # counts them). About 12 KiB of data per block.
    free_block = BUDDY * 512
    busy_block = ANON * 1024 + THP_HEAD + THP_TAIL * 511
    with open(os.path.join(proc, "kpageflags"), "wb") as f:
        f.truncate(n_blocks * PFNS * 8)
        for i in range(n_blocks):
            st = block_state(i, n_blocks, layout)
            if st == "normal":
                continue
            f.seek(i * PFNS * 8)
            f.write(free_block if st == "free" else busy_block)
    with open(os.path.join(proc, "kpagecount"), "wb") as f:
        f.truncate(n_blocks * PFNS * 8)
    return n_blocks


def run(memoffctl, tree, size):
    argv = [memoffctl, "offline", "--direct", "--dry-run", "-J", "--sysroot", tree, size]
    t0 = time.monotonic()
    p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    dt = time.monotonic() - t0
    if p.returncode != 0:
        sys.exit("plan-scale: %s exited %d: %s" % (" ".join(argv), p.returncode, p.stderr.strip()))
    doc = json.loads(p.stdout)
    return dt, doc


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--size", default="1G")
    ap.add_argument("--layout", choices=("spread", "free-top", "busy"), default="spread")
    ap.add_argument("--keep", help="build the trees here (reused when they exist) and keep them")
    a = ap.parse_args()

    memoffctl = os.path.join(BUILDDIR, "src", "memoffctl", "memoffctl")
    if not os.access(memoffctl, os.X_OK):
        print("plan-scale: SKIP: %s is not built" % memoffctl)
        return 0
    scratch = a.keep or tempfile.mkdtemp(prefix="memoff-plan-scale.")
    machines = (("24 GiB", 24 << 30), ("4 TiB", 4 << 40))
    trees = []
    try:
        for name, size in machines:
            tree = os.path.join(scratch, "%s-%s" % (name.replace(" ", ""), a.layout))
            if not os.path.exists(os.path.join(tree, "proc", "kpageflags")):
                shutil.rmtree(tree, ignore_errors=True)
                t0 = time.monotonic()
                n = build(tree, size, a.layout)
                print("plan-scale: built %s (%d blocks) in %.1f s" % (name, n, time.monotonic() - t0))
            trees.append((name, tree))

        times = {name: [] for name, _ in trees}
        docs = {}
        for _ in range(a.rounds):
            for name, tree in trees:
                dt, doc = run(memoffctl, tree, a.size)
                times[name].append(dt)
                docs[name] = doc
        print("plan-scale: offline --dry-run %s, layout %s, %d rounds (median [all], seconds)"
              % (a.size, a.layout, a.rounds))
        med = {}
        for name, _ in trees:
            med[name] = statistics.median(times[name])
            doc = docs[name]
            print("  %-7s %.3f s [%s]  eligible %s, examined %s, planned %s MiB" % (
                name, med[name], " ".join("%.3f" % t for t in times[name]),
                doc["totals"].get("eligible_blocks"), doc["totals"].get("examined_blocks", "?"),
                doc["totals"]["done_bytes"] >> 20))
        ratio = med[trees[1][0]] / med[trees[0][0]]
        print("plan-scale: ratio 4 TiB / 24 GiB = %.2fx (target <= 2x)" % ratio)
    finally:
        if not a.keep:
            shutil.rmtree(scratch, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
