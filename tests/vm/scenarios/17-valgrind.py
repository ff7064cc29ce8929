# SPDX-License-Identifier: LGPL-2.1-or-later
"""memoffctl under valgrind (memcheck) on the real kernel: no error, no leak.

This scenario boots its own image: the suite's, plus valgrind's launcher and
memcheck from this machine (about 3 MiB) and ld.so's debug symbols (from
libc6-dbg; memcheck cannot start without them). memoffctl list, an offline
of a SIZE, an online, an offline that times out on a pinned page (the timer
signal interrupting the write), one ended by SIGINT and a usage error each
run under memcheck with full leak checking: each must exit as it does
without valgrind, and memcheck must report no error and no
definitely, indirectly or possibly lost memory. Skips without valgrind or
libc6-dbg on this machine.
"""

import os
import re
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import scenlib as S  # noqa: E402

REQUIRES = ["memoffctl", "pinner"]
DIMMS = ["512M"]
TIMEOUT = 420

VG_LIB = "/usr/libexec/valgrind"
VG_FILES = ["memcheck-amd64-linux", "vgpreload_core-amd64-linux.so",
            "vgpreload_memcheck-amd64-linux.so", "default.supp"]
VG = ("valgrind -q --tool=memcheck --leak-check=full --show-leak-kinds=definite,indirect,possible "
      "--errors-for-leak-kinds=definite,indirect,possible --error-exitcode=99 "
      "--log-file=/tmp/vg.%s.log ")


# What memcheck prints (with -q only errors and leaks are printed at all).
BAD = re.compile(r"ERROR SUMMARY: [1-9]|lost: [1-9]|Invalid|uninitialised|Fatal error|Sorry")


def debug_file(lib):
    """The detached debug symbols of a library (libc6-dbg), by build id."""
    try:
        note = subprocess.run(["readelf", "-n", os.path.realpath(lib)], stdout=subprocess.PIPE,
                              stderr=subprocess.DEVNULL, text=True, timeout=30).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    m = re.search(r"Build ID: ([0-9a-f]{2})([0-9a-f]+)", note)
    if not m:
        return None
    p = "/usr/lib/debug/.build-id/%s/%s.debug" % (m.group(1), m.group(2))
    return p if os.path.exists(p) else None


def valgrind_image(t):
    """Build the suite's image plus valgrind; returns (its path, None) or
    (None, why not)."""
    vgbin = shutil.which("valgrind.bin") or "/usr/bin/valgrind.bin"
    if not os.path.exists(vgbin):
        vgbin = shutil.which("valgrind")
        # A wrapper script (Debian's) is no use without its .bin.
        if vgbin and open(vgbin, "rb").read(2) == b"#!":
            vgbin = None
    if not vgbin or not all(os.path.exists(os.path.join(VG_LIB, f)) for f in VG_FILES):
        return None, "valgrind (memcheck) is not installed on this machine"
    # memcheck must redirect strlen in ld.so: it needs ld.so's symbols, which
    # Debian ships apart (libc6-dbg), found by build id.
    # (libc's symbols are left out: reading them costs 2 s a run under TCG.)
    ldso = debug_file("/lib64/ld-linux-x86-64.so.2")
    if not ldso:
        return None, "no debug symbols for ld.so (apt-get install libc6-dbg): memcheck cannot start"
    out = os.path.join(t.outdir, "initramfs-valgrind.gz")
    args = ["sh", os.path.join(t.srcdir, "tests", "vm", "mkinitramfs.sh"), out,
            "--add", "%s:/usr/bin/valgrind" % vgbin]
    for f in VG_FILES:
        args += ["--add", "%s/%s:%s/%s" % (VG_LIB, f, VG_LIB, f)]
    args += ["--add", "%s:%s" % (ldso, ldso)]
    capture = os.path.join(t.srcdir, "tests", "sysfs-trees", "capture.sh")
    if os.path.exists(capture):
        args += ["--add", capture + ":/usr/share/memoff/capture.sh"]
    args += list(t.binaries.values())
    r = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=300)
    t.diag(r.stdout.strip())
    return (out, None) if r.returncode == 0 else (None, "mkinitramfs.sh failed")


def run(t, vm):
    vm.close()  # the suite's image has no valgrind: boot one that has
    image, why = valgrind_image(t)
    if image is None:
        t.skip("memoffctl under valgrind", why)
        return
    vm = t.new_vm(initrd=image)
    t.diag("boot with valgrind took %.1f s" % vm.boot_seconds)
    rc, out = vm.run("valgrind --version")
    if not t.ok(rc == 0, "valgrind runs in the guest", out):
        return
    t.diag(out.strip())

    dimm = vm.dimm_blocks("d1")
    pinned = dimm[1]
    pid, pins, _, text = S.start_pinner(vm, "--pin-block %d" % pinned, "pin")
    have_pin = [b for _, b in pins] == [pinned]
    t.ok(have_pin, "pinner pins a page in block %d" % pinned, text)

    # (name, memoffctl arguments, expected exit status)
    cases = [
        ("list", "list -a -o +ZONES,PINNED", 0),
        ("offline-size", "offline 256M -v", 0),
        ("online", "online -b %d-%d -J" % (dimm[-2], dimm[-1]), 0),
        ("usage", "offline 12Q", 2),
    ]
    if have_pin:
        cases.append(("timed-out", "offline -b %d --attempt-timeout 2s --deadline 5s -v -J" % pinned, 1))
    for name, args, want in cases:
        t0 = time.monotonic()
        rc, out, err, secs = S.timed(vm, (VG % name) + "memoffctl " + args, timeout=240)
        log = vm.run("cat /tmp/vg.%s.log" % name)[1]
        t.diag("measured: valgrind memoffctl %s: %.1f s (%.1f s in the guest)"
               % (args, time.monotonic() - t0, secs))
        t.eq(rc, want, "valgrind memoffctl %s: exit %d as without valgrind" % (args, want))
        clean = rc != 99 and "valgrind:" not in err and not BAD.search(log)
        t.ok(clean, "valgrind memoffctl %s: memcheck reports nothing" % args,
             "exit %d\n%s\n--- stderr:\n%s" % (rc, log[-4000:], err[-1000:]))

    # SIGINT while an attempt spins, under valgrind.
    if have_pin:
        vm.spawn("%smemoffctl offline -b %d --stall-grace 0 --attempt-timeout 60s --deadline 120s -J > /tmp/int.json & "
                 "echo $! > /tmp/int.pid; wait $!; echo $? > /tmp/int.rc" % (VG % "sigint", pinned),
                 "int")
        spun = S.wait_state(vm, pinned, "going-offline", 120)
        if not t.ok(spun, "under valgrind the attempt spins (going-offline)",
                    lambda: vm.run("cat /tmp/int.out /tmp/vg.sigint.log")[1]):
            vm.sh("kill -KILL $(cat /tmp/int.pid) 2> /dev/null; true")
            return
        vm.sh("kill -INT $(cat /tmp/int.pid)")
        vm.sh("i=0; while [ ! -s /tmp/int.rc ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i + 1)); done",
              timeout=90)
        rc = vm.run("cat /tmp/int.rc")[1].strip()
        log = vm.run("cat /tmp/vg.sigint.log")[1]
        t.eq(rc, "1", "valgrind memoffctl offline, SIGINT during the attempt: exit 1")
        t.ok(not BAD.search(log), "valgrind memoffctl offline ended by SIGINT: memcheck reports nothing",
             log[-4000:])
        t.eq(S.state(vm, pinned), "online", "the pinned block is online afterwards")
        vm.kill(pid)
