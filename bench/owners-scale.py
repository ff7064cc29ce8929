#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Owner resolution with and without a big idle process beside the pinner, in the QEMU guest.

    bench/owners-scale.py [--rounds N] [--idle-mib MIB] [--reps K]

Boots the VM suite's guest (Debian's 6.1 kernel under TCG) with 6 GiB of
boot memory and a 512 MiB Movable DIMM, cgroup2 with the memory controller
on, as a systemd host has it. An idle process holding IDLE_MIB (default
4096) of anonymous memory starts first, in its own cgroup (/idle), so that
its pid comes before the pinner's and an unpruned scan reads it first; then
pinner pins 4 pages of a DIMM block from its own cgroup (/pin) (the idle
process waits with its allocation until the pinner has its pages). One offline
attempt on that block (1 s) leaves the kernel's dump_page() records; then
`memoffctl pins -b BLOCK` (census of the block, the kernel log, and the
owners of the pages the kernel failed to migrate) is timed, K runs in a
row per sample (the guest clock has 10 ms steps), --rounds samples each:

  with      the idle process beside the pinner, in another cgroup
  same-cg   (for information) the idle process moved into the pinner's
            cgroup: nothing to prune it by, its pagemap is read
  without   the idle process killed

and prints the medians and the ratio with/without. Target: <= 1.5x.
Runs only QEMU on the host (about 7 GiB of it while the idle process lives).
"""

import argparse
import os
import re
import statistics
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import vmbench  # noqa: E402
import vm as vmmod  # noqa: E402
import scenlib as S  # noqa: E402


def spawn_in_cgroup(vm, cg, args, name, go=None):
    """pinner ARGS started inside cgroup /CG (its pages are charged there);
    with GO, it waits for that file to exist before it allocates anything."""
    wait = "while [ ! -e %s ]; do sleep 0.2; done; " % go if go else ""
    return vm.spawn("echo $$ > /sys/fs/cgroup/%s/cgroup.procs && %sexec pinner %s" % (cg, wait, args), name)


def ready(vm, name, timeout):
    text = vm.wait_output("/tmp/%s.out" % name, r"^(READY|NOTFOUND)", timeout=timeout, interval=2)
    if "READY" not in text:
        raise vmmod.VMError("pinner (%s) did not get ready: %s" % (name, text[-1000:]))
    return text


def sample(vm, block, reps):
    """Seconds per `memoffctl pins -b BLOCK` (the mean of REPS runs in a row)."""
    rc, out, err, secs = S.timed(
        vm, "i=0; while [ $i -lt %d ]; do memoffctl pins -b %d > /tmp/pins.txt || exit 1; i=$((i + 1)); done"
        % (reps, block), timeout=600)
    if rc != 0:
        raise vmmod.VMError("memoffctl pins -b %d failed: %s %s" % (block, out, err))
    return secs / reps


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--idle-mib", type=int, default=4096)
    a = ap.parse_args()

    kernel, initrd, _ = vmbench.prepare("owners-scale", "initramfs-owners.gz")
    mem = "%dM" % (a.idle_mib + 2048)
    with vmmod.VM(kernel, initrd, mem=mem, maxmem="16G", dimms=["512M"], boot_timeout=300) as vm:
        block = vm.dimm_blocks("d1")[-1]
        vm.sh("echo +memory > /sys/fs/cgroup/cgroup.subtree_control && "
              "mkdir -p /sys/fs/cgroup/idle /sys/fs/cgroup/pin")
        # the idle process gets the lower pid, the pinner the DIMM's pages
        idle = spawn_in_cgroup(vm, "idle", "--mib %d --hold" % a.idle_mib, "idle", go="/tmp/go")
        pin = spawn_in_cgroup(vm, "pin", "--pin-block %d --count 4" % block, "pin")
        text = ready(vm, "pin", 600)
        vm.sh("touch /tmp/go")
        ready(vm, "idle", 1800)
        pins = re.findall(r"^PIN pid=\d+ vaddr=0x[0-9a-f]+ pfn=(0x[0-9a-f]+)", text, re.M)
        rss = vm.sh("grep VmRSS /proc/%d/status" % idle).split()[1]
        print("owners-scale: guest %s, idle process %d (%s kB resident, cgroup /idle), "
              "pinner %d (4 pages of block %d: %s, cgroup /pin)"
              % (mem, idle, rss, pin, block, " ".join(pins)))
        # the kernel's account of the pinned pages: dump_page() records in its log
        vm.run("memoffctl offline -b %d --attempt-timeout 1s --deadline 2s > /dev/null 2>&1" % block,
               timeout=60)
        out = vm.sh("memoffctl pins -b %d" % block)
        if not re.search(r"\b%d +pinner\b" % pin, out):
            raise vmmod.VMError("memoffctl pins -b %d does not name the pinner:\n%s" % (block, out))
        print("owners-scale: memoffctl pins -b %d:\n%s" % (block, out.rstrip()))

        times = {"with": [], "same-cg": [], "without": []}
        for _ in range(a.rounds):
            times["with"].append(sample(vm, block, a.reps))
        vm.sh("echo %d > /sys/fs/cgroup/pin/cgroup.procs" % idle)
        for _ in range(a.rounds):
            times["same-cg"].append(sample(vm, block, a.reps))
        vm.kill(idle, "KILL")
        vm.sh("while [ -d /proc/%d ]; do sleep 0.1; done" % idle)
        for _ in range(a.rounds):
            times["without"].append(sample(vm, block, a.reps))

    med = {k: statistics.median(v) for k, v in times.items()}
    print("owners-scale: memoffctl pins -b %d, median of %d samples of %d runs (seconds per run)"
          % (block, a.rounds, a.reps))
    for k in ("without", "with", "same-cg"):
        print("  %-8s %.3f s  [%s]" % (k, med[k], " ".join("%.3f" % t for t in times[k])))
    print("owners-scale: ratio with/without a %d MiB idle process in another cgroup = %.2fx (target <= 1.5x)"
          % (a.idle_mib, med["with"] / med["without"]))
    print("owners-scale: for information, in the pinner's cgroup (nothing to prune by) = %.2fx"
          % (med["same-cg"] / med["without"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
