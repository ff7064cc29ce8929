# SPDX-License-Identifier: LGPL-2.1-or-later
"""What the benchmarks that run in the QEMU guest share: the kernel and the
guest image of the VM suite (tests/vm/), or a SKIP line when they cannot be
had."""

import os
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
SRCDIR = os.environ.get("top_srcdir") or os.path.dirname(HERE)
BUILDDIR = os.environ.get("top_builddir") or SRCDIR
VMDIR = os.path.join(SRCDIR, "tests", "vm")
sys.path.insert(0, VMDIR)
sys.path.insert(0, os.path.join(VMDIR, "scenarios"))


def skip(name, why):
    print("%s: SKIP: %s" % (name, why))
    sys.exit(0)


def prepare(name, initrd_name="initramfs.gz", rel_bins=("src/memoffctl/memoffctl", "tests/vm/pinner")):
    """The kernel, a guest image holding `rel_bins` (under $top_builddir), and
    the kernel's version (or ""); prints SKIP and exits 0 when any is missing."""
    qemu = os.environ.get("MEMOFF_VM_QEMU") or "qemu-system-x86_64"
    if shutil.which(qemu) is None:
        skip(name, "%s not found" % qemu)
    bins = [os.path.join(BUILDDIR, p) for p in rel_bins]
    for b in bins:
        if not os.access(b, os.X_OK):
            skip(name, "%s is not built (make, make tests/vm/pinner)" % b)
    kernel = os.environ.get("MEMOFF_VM_KERNEL")
    if not kernel:
        cache = os.environ.get("MEMOFF_VM_CACHE") or os.path.join(BUILDDIR, "tests", "vm", "cache")
        r = subprocess.run(["sh", os.path.join(VMDIR, "fetch-kernel.sh"), cache],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=600)
        if r.returncode != 0:
            skip(name, "no kernel: %s" % (r.stderr.strip().splitlines() or ["fetch-kernel.sh failed"])[-1])
        kernel = r.stdout.strip().splitlines()[-1]
    work = os.path.join(BUILDDIR, "bench", "work")
    os.makedirs(work, exist_ok=True)
    initrd = os.path.join(work, initrd_name)
    r = subprocess.run(["sh", os.path.join(VMDIR, "mkinitramfs.sh"), initrd] + bins,
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=300)
    if r.returncode != 0:
        skip(name, "cannot build the guest image: %s" % r.stdout.strip()[-300:])
    version = ""
    vf = os.path.join(os.path.dirname(kernel), "kernel-version")
    if os.path.exists(vf):
        words = open(vf).read().split()
        version = words[1] if len(words) > 1 else ""
    return kernel, initrd, version
