# SPDX-License-Identifier: LGPL-2.1-or-later
"""memoffd under valgrind (memcheck) on the real kernel: no error, no leak.

17-valgrind runs memoffctl under memcheck; this one runs the daemon. Its
image is the suite's plus valgrind (launcher, memcheck, preload objects,
suppressions) and the dynamic loader's debug symbols from libc6-dbg,
without which memcheck cannot start. memoffd, under memcheck, serves
memoffctl: status, an offline and an online job, an offline that spins on a
pinned page until the worker's attempt timer fires, a job cancelled while
it spins, a reload on SIGHUP; then it stops on SIGTERM. memcheck must report
no error and no definitely or indirectly lost block.
"""

import os
import re
import shutil
import subprocess
import time

REQUIRES = ["memoffd", "memoffctl", "pinner"]
DIMMS = ["512M"]
TIMEOUT = 1200

LIBEXEC = "/usr/libexec/valgrind"
VG = ("valgrind --error-exitcode=99 --leak-check=full --show-leak-kinds=definite,indirect "
      "--errors-for-leak-kinds=definite,indirect --track-origins=yes --log-file=/tmp/vg-%s.log ")


def ld_so_debug():
    """The detached debug file of the dynamic loader (libc6-dbg), by build id."""
    for ld in ("/lib64/ld-linux-x86-64.so.2", "/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2"):
        if not os.path.exists(ld):
            continue
        r = subprocess.run(["readelf", "-n", ld], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                           text=True)
        m = re.search(r"Build ID: ([0-9a-f]{2})([0-9a-f]+)", r.stdout)
        if m:
            p = "/usr/lib/debug/.build-id/%s/%s.debug" % (m.group(1), m.group(2))
            return p if os.path.exists(p) else None
    return None


def build_image(t):
    """An initramfs like the suite's, plus valgrind. Returns its path or None."""
    vg = shutil.which("valgrind")
    # Debian's valgrind is a shell wrapper around valgrind.bin.
    vgbin = vg + ".bin" if vg and os.path.exists(vg + ".bin") else vg
    dbg = ld_so_debug()
    files = [os.path.join(LIBEXEC, f) for f in
             ("memcheck-amd64-linux", "vgpreload_core-amd64-linux.so",
              "vgpreload_memcheck-amd64-linux.so", "default.supp")]
    if not vg or not dbg or not all(os.path.exists(f) for f in files):
        return None
    out = os.path.join(t.outdir, "initramfs-valgrind.gz")
    args = ["sh", os.path.join(t.srcdir, "tests", "vm", "mkinitramfs.sh"), out]
    for f in files + [dbg] + ([vg] if vgbin != vg else []):
        args += ["--add", "%s:%s" % (f, f)]
    args += [vgbin] + list(t.binaries.values())
    r = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=300)
    if r.returncode != 0:
        t.diag("mkinitramfs.sh failed:\n" + r.stdout)
        return None
    return out


def clean(vm, name):
    """(clean?, summary) from the valgrind log of run NAME."""
    rc, log = vm.run("cat /tmp/vg-%s.log" % name, timeout=60)
    errors = re.search(r"ERROR SUMMARY: (\d+) errors", log)
    lost = [int(x.replace(",", "")) for x in
            re.findall(r"(?:definitely|indirectly) lost: ([\d,]+) bytes", log)]
    ok = errors is not None and errors.group(1) == "0" and not any(lost)
    return ok, log


def run(t, vm):
    if not shutil.which("valgrind"):
        t.skip("all", "valgrind is not installed on the host (apt-get install valgrind libc6-dbg)")
        return
    initrd = build_image(t)
    if not initrd:
        t.skip("all", "cannot put valgrind in the guest image (needs libc6-dbg for ld.so's symbols)")
        return
    vm.close()
    vm = t.new_vm(initrd=initrd)
    rc, out = vm.run("valgrind --version", timeout=60)
    if not t.ok(rc == 0, "valgrind runs in the guest (%s)" % out.strip()[-200:]):
        return

    bs = vm.block_size()
    info = vm.dimms_info()["d1"]
    dimm = list(range(info["addr"] // bs, (info["addr"] + info["size"]) // bs))
    free_blk, pinned = dimm[0], dimm[2]
    have_offline = vm.run("memoffctl offline --help", timeout=30)[0] == 0

    # memoffd under valgrind, serving the CLI
    pid = vm.spawn(VG % "memoffd" + "memoffd", "memoffd")
    vm.wait_output("/tmp/memoffd.out", r"Ready:", timeout=300)
    rc, out = vm.run("memoffctl status", timeout=120)
    t.eq(rc, 0, "memoffd under valgrind answers memoffctl status")
    if have_offline:
        rc, out = vm.run("memoffctl offline -b %d && memoffctl online -b %d" % (free_blk, free_blk),
                         timeout=600)
        t.eq(rc, 0, "an offline and an online job through memoffd under valgrind")
        ppid = vm.spawn("pinner --pin-block %d" % pinned, "pin")
        text = vm.wait_output("/tmp/pin.out", r"^(READY|NOTFOUND)", timeout=240)
        t.match(r"^PIN .* block=%d$" % pinned, text, "pinner pinned a page in block %d" % pinned)
        rc, out = vm.run("memoffctl offline -b %d --attempt-timeout 2s --deadline 8s" % pinned, timeout=600)
        t.eq(rc, 1, "an offline of the pinned block fails when its deadline passes (attempt timer in the worker)")
        t.eq(vm.sh("cat /sys/devices/system/memory/memory%d/state" % pinned).strip(), "online",
             "... and the block stayed online")
        cpid = vm.spawn("memoffctl offline -b %d --attempt-timeout 30s --deadline 5min" % pinned, "spin")
        vm.wait_until(lambda: "running" in vm.run("memoffctl jobs", timeout=60)[1], 120,
                      what="the spinning job running")
        time.sleep(2)
        rc, out = vm.run("memoffctl jobs | awk '$3 == \"running\" { print $1 }' | "
                         "while read id; do memoffctl cancel $id; done", timeout=300)
        vm.wait_until(lambda: "running" not in vm.run("memoffctl jobs", timeout=60)[1], 300,
                      what="the cancelled job finished")
        t.match(r"\bcancelled\b", vm.run("memoffctl jobs", timeout=60)[1],
                "a job cancelled while its write spins ends cancelled")
        vm.kill(cpid)
        vm.kill(ppid)
    else:
        t.skip("jobs through memoffd under valgrind", "memoffctl has no offline verb in this build")
    vm.kill(pid, "HUP")
    rc, out = vm.run("sleep 2; memoffctl status", timeout=120)
    t.eq(rc, 0, "memoffd under valgrind reloads on SIGHUP and still answers")
    vm.kill(pid, "TERM")
    vm.wait_until(lambda: vm.run("kill -0 %d" % pid, timeout=10)[0] != 0, 300,
                  what="memoffd under valgrind stopped")
    ok, log = clean(vm, "memoffd")
    t.ok(ok, "memoffd: no memcheck error, no leak, after SIGTERM", lambda: log[-6000:])
