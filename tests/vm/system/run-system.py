#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""The full-system tier of the VM suite: memoff's own Debian package on a
Debian 12 system booted with systemd as PID 1 (udevd, dbus, journald).

    run-system.py [PATTERN]...

The guest's initramfs is cpio archives one after the other: the cached
root file system of mkrootfs.sh (mmdebstrap, no memoff in it), the kernel's
virtio modules (fetch-modules.sh, cached) and a small one made here with the .deb ($MEMOFF_SYSTEM_DEB, built by tools/build-deb.sh),
the test helpers (pinner) and the unit that runs vm.py's command channel on
ttyS1. The scenarios (scenarios/NN-name.py beside this file) install the
.deb with apt in the booted guest and check what an operator would check.
They run through run-suite.py (same TAP, same `t` and `vm`); see
tests/vm/README.md, "The full-system tier".

Prints `1..0 # SKIP reason` and exits 0 when $MEMOFF_VM_SUITE=0 or
$MEMOFF_SYSTEM_TIER=0, without QEMU, a kernel, a root file system (it needs
root and mmdebstrap to build one) or the .deb.
"""

import glob
import gzip
import importlib.util
import os
import shutil
import subprocess
import sys
import tempfile
import time

sys.dont_write_bytecode = True
HERE = os.path.dirname(os.path.abspath(__file__))
VMDIR = os.path.dirname(HERE)
sys.path.insert(0, VMDIR)

_spec = importlib.util.spec_from_file_location("run_suite", os.path.join(VMDIR, "run-suite.py"))
suite = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(suite)

# The command channel: vm.py's guest loop as a service, started as early as
# systemd can (the scenarios wait for the boot to finish themselves).
CHANNEL_UNIT = """\
[Unit]
Description=memoff test: vm.py's command channel on ttyS1
DefaultDependencies=no
After=systemd-journald.socket

[Service]
ExecStart=/bin/sh /usr/lib/memoff-test/guest-loop.sh /dev/ttyS1
Restart=always
"""

# Units a test guest does not need (no logins, no apt timers): a shorter boot.
MASKED = ["getty.target", "serial-getty@ttyS0.service", "apt-daily.timer",
          "apt-daily-upgrade.timer", "e2scrub_all.timer", "fstrim.timer",
          "systemd-hwdb-update.service", "qemu-guest-agent.service"]


def build_overlay(out, deb):
    """The second cpio: the .deb in /root, pinner, the channel's unit."""
    with tempfile.TemporaryDirectory(prefix="memoff-overlay-") as root:
        def put(src, dest, mode=0o644):
            path = root + dest
            os.makedirs(os.path.dirname(path), exist_ok=True)
            shutil.copyfile(src, path)
            os.chmod(path, mode)

        def write(dest, text):
            path = root + dest
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "w") as f:
                f.write(text)

        put(deb, "/root/" + os.path.basename(deb))
        put(os.path.join(VMDIR, "guest-loop.sh"), "/usr/lib/memoff-test/guest-loop.sh", 0o755)
        pinner = os.path.join(suite.TOP_BUILDDIR, "tests", "vm", "pinner")
        if os.path.exists(pinner):
            put(pinner, "/usr/bin/pinner", 0o755)
        unitdir = "/etc/systemd/system"
        write(unitdir + "/memoff-test-channel.service", CHANNEL_UNIT)
        os.makedirs(root + unitdir + "/sysinit.target.wants", exist_ok=True)
        os.symlink("../memoff-test-channel.service",
                   root + unitdir + "/sysinit.target.wants/memoff-test-channel.service")
        for u in MASKED:
            os.symlink("/dev/null", root + unitdir + "/" + u)
        # Directories as the root file system has them (the temporary
        # directory is 0700); "." is left out so that / keeps its mode.
        for d, _, _ in os.walk(root):
            os.chmod(d, 0o755)
        listing = subprocess.run("cd %s && find . -mindepth 1 | LC_ALL=C sort" % root, shell=True,
                                 stdout=subprocess.PIPE, check=True).stdout
        cpio = subprocess.run(["cpio", "--quiet", "-o", "-H", "newc", "-R", "0:0", "-D", root],
                              input=listing, stdout=subprocess.PIPE, check=True).stdout
    # Gzip'd like the first one: the kernel takes several archives one after
    # the other, but not an uncompressed one behind a compressed one.
    with gzip.open(out, "wb", compresslevel=1) as f:
        f.write(cpio)


def main():
    if os.environ.get("MEMOFF_VM_SUITE", "1") == "0" or os.environ.get("MEMOFF_SYSTEM_TIER", "1") == "0":
        suite.skip_all("MEMOFF_VM_SUITE=0 or MEMOFF_SYSTEM_TIER=0")
    qemu = os.environ.get("MEMOFF_VM_QEMU") or "qemu-system-x86_64"
    if shutil.which(qemu) is None:
        suite.skip_all("%s not found (apt-get install qemu-system-x86)" % qemu)
    deb = os.environ.get("MEMOFF_SYSTEM_DEB", "")
    if not deb:
        found = sorted(glob.glob(os.path.join(suite.TOP_BUILDDIR, "deb", "memoff_*.deb")))
        deb = found[-1] if found else ""
    if not deb or not os.path.isfile(deb):
        suite.skip_all("no memoff .deb (tools/build-deb.sh builds one into $top_builddir/deb, "
                       "or set MEMOFF_SYSTEM_DEB)")

    scenarios = suite.select_scenarios(os.path.join(HERE, "scenarios"))
    cache, work = suite.cache_and_work()
    kernel = suite.fetch_kernel(cache)

    t0 = time.monotonic()
    r = subprocess.run(["sh", os.path.join(HERE, "mkrootfs.sh"), cache], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True, timeout=900)
    for line in r.stderr.splitlines():
        print("# " + line)
    if r.returncode == 77:
        suite.skip_all("no root file system for the system tier (%s)"
                       % (r.stderr.strip().splitlines() or ["mkrootfs.sh"])[-1])
    if r.returncode != 0:
        print("Bail out! mkrootfs.sh failed")
        return 1
    rootfs = r.stdout.strip().splitlines()[-1]
    print("# root file system: %s (%.1f s)" % (os.path.basename(rootfs), time.monotonic() - t0))
    print("# package: %s" % os.path.basename(deb))

    # The virtio modules (virtio-pci, virtio-console) for qemu-guest-agent's
    # port: Debian builds them as modules. Without them the scenarios that
    # need them say so.
    parts = [rootfs]
    r = subprocess.run(["sh", os.path.join(HERE, "fetch-modules.sh"), cache], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True, timeout=600)
    for line in r.stderr.splitlines():
        print("# " + line)
    if r.returncode == 0:
        parts.append(r.stdout.strip().splitlines()[-1])
        print("# kernel modules: %s" % os.path.basename(parts[-1]))

    initrd = os.path.join(work, "system-initrd")
    overlay = initrd + ".overlay"
    build_overlay(overlay, deb)
    with open(initrd + ".tmp", "wb") as out:
        for part in parts + [overlay]:
            with open(part, "rb") as f:
                shutil.copyfileobj(f, out, 1 << 20)
    os.replace(initrd + ".tmp", initrd)
    os.unlink(overlay)

    return suite.run_all("system tier", scenarios, kernel, initrd, qemu, work)


if __name__ == "__main__":
    sys.exit(main())
