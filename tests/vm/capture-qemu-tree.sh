#!/bin/sh
# Capture a real guest's memory-block sysfs tree for the list tests.
#
#   capture-qemu-tree.sh [DEST]
#
# Boots Debian's kernel under QEMU (tests/vm/vm.py) with 1 GiB of boot memory
# and two 512 MiB pc-dimms (memhp_default_state=online_movable), offlines the
# last block of the second DIMM with a plain `echo offline > .../state`, runs
# tests/sysfs-trees/capture.sh in the guest and copies the tree out to DEST
# (default tests/sysfs-trees/qemu-2dimm in the source tree), symlinks kept.
# Beside it: DEST/lsmem/*.out, the guest lsmem's own outputs, and
# DEST/README.md, which says how it was made and keeps the guest's
# /proc/iomem and its ACPI memory devices (PNP0C80) for reference.
#
# Nothing here touches this machine's memory: all of it happens in the guest.
# $MEMOFF_VM_CACHE is where the kernel is cached (default tests/vm/cache).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
srcdir=$(cd "$here/../.." && pwd)
dest=${1:-$srcdir/tests/sysfs-trees/qemu-2dimm}

kernel=$(sh "$here/fetch-kernel.sh" "${MEMOFF_VM_CACHE:-$here/cache}") || exit $?
work=$(mktemp -d "${TMPDIR:-/tmp}/memoff-capture.XXXXXX")
trap 'rm -rf "$work"' EXIT INT TERM
sh "$here/mkinitramfs.sh" "$work/initramfs.gz" \
	--add "$srcdir/tests/sysfs-trees/capture.sh:/usr/share/memoff/capture.sh"
kver=$(cat "$(dirname "$kernel")/kernel-version" 2>/dev/null || echo "unknown kernel")
qver=$(${MEMOFF_VM_QEMU:-qemu-system-x86_64} --version | head -n 1)

rm -rf "$work/out"
VMDIR=$here PYTHONDONTWRITEBYTECODE=1 python3 - "$kernel" "$work/initramfs.gz" "$work/out" \
	"$kver" "$qver" <<'EOF'
import os
import sys

sys.path.insert(0, os.environ["VMDIR"])
from vm import VM  # noqa: E402

kernel, initrd, out, kver, qver = sys.argv[1:6]
kv = kver.split()
kver_text = "%s, version %s" % (kv[0], kv[1]) if len(kv) >= 2 else kver
MEM = "/sys/devices/system/memory"
with VM(kernel, initrd, dimms=["512M", "512M"], log=sys.stderr) as vm:
    blocks = vm.dimm_blocks("d2")
    victim = blocks[-1]
    # The kernel's raw behaviour, no memoff: a free DIMM block offlines at once.
    vm.sh("echo offline > %s/memory%d/state" % (MEM, victim), timeout=120)
    state = vm.sh("cat %s/memory%d/state" % (MEM, victim)).strip()
    if state != "offline":
        sys.exit("memory%d is %s after echo offline" % (victim, state))
    vm.sh("rm -rf /tmp/tree && sh /usr/share/memoff/capture.sh /tmp/tree")
    vm.copy_tree_out("/tmp/tree", out)
    cols = "RANGE,SIZE,STATE,REMOVABLE,BLOCK,NODE,ZONES"
    os.makedirs(os.path.join(out, "lsmem"))
    for name, args in (("default", ""), ("all", "-a -o " + cols), ("json", "-J"),
                       ("json-all", "-J -a -o " + cols)):
        text = vm.sh("LC_ALL=C lsmem %s" % args)
        with open(os.path.join(out, "lsmem", name + ".out"), "w") as f:
            f.write(text)
    iomem = vm.sh("cat /proc/iomem")
    acpi = vm.sh("cd /sys/bus/acpi/devices && for d in PNP0C80:*; do "
                 "echo \"$d:\"; ls -l $d/ | sed 's/^.*[0-9] [0-9][0-9]:[0-9][0-9] //'; done")
    lsmem_version = vm.sh("lsmem --version").strip()
    uname = vm.sh("uname -r").strip()
    cmdline = vm.sh("cat /proc/cmdline").strip()
    dimms = vm.dimms_info()
    bs = vm.block_size()

lines = ["# qemu-2dimm: a real guest's memory blocks",
         "",
         "Captured by `tests/vm/capture-qemu-tree.sh` (run it again to redo this",
         "directory). Nothing here was written by hand.",
         "",
         "- kernel: Debian's %s (`uname -r` %s)," % (kver_text, uname),
         "  booted under %s with `-accel tcg -m 1G,slots=4,maxmem=8G` and two" % qver,
         "  512 MiB pc-dimms present at boot (`-object memory-backend-ram,id=mN,size=512M",
         "  -device pc-dimm,id=dN,memdev=mN`).",
         "- kernel command line: `%s`" % cmdline,
         "- block size %d MiB; DIMMs (QMP query-memory-devices): %s"
         % (bs >> 20, ", ".join("%s at %#x, %d MiB, blocks %d-%d" % (
             k, v["addr"], v["size"] >> 20, v["addr"] // bs, (v["addr"] + v["size"]) // bs - 1)
             for k, v in sorted(dimms.items()))),
         "- then, in the guest: `echo offline > /sys/devices/system/memory/memory%d/state`" % victim,
         "  (the last block of d2, free, offlined at once), and",
         "  `tests/sysfs-trees/capture.sh` into `sys/`.",
         "- `lsmem/` holds the guest's own util-linux lsmem (%s) outputs, LC_ALL=C:" % lsmem_version,
         "  `default.out` (`lsmem`), `all.out` (`lsmem -a -o %s`)," % cols,
         "  `json.out` (`lsmem -J`), `json-all.out` (`lsmem -J -a -o %s`)." % cols,
         "",
         "Boot memory (blocks 0-7) is not ACPI-hotpluggable: no `firmware_node`;",
         "block 0 spans ZONE_DMA and ZONE_DMA32, so its valid_zones reads `none`.",
         "Each DIMM block links `firmware_node` to its PNP0C80 device.",
         "",
         "## The guest's /proc/iomem",
         "",
         "```",
         iomem.rstrip(),
         "```",
         "",
         "## The guest's ACPI memory devices",
         "",
         "`ls -l /sys/bus/acpi/devices/PNP0C80:*/`, modes and dates cut off. The",
         "four slots of `-m ...,slots=4` show as four devices; the empty ones have",
         "no physical_node links.",
         "",
         "```",
         acpi.rstrip(),
         "```",
         ""]
with open(os.path.join(out, "README.md"), "w") as f:
    f.write("\n".join(lines))
EOF

# Replace DEST's capture, but nothing else there (expected/ belongs to the
# list tests: tests/sysfs-trees/regen.sh).
mkdir -p "$dest"
rm -rf "$dest/sys" "$dest/lsmem" "$dest/README.md"
cp -a "$work/out/sys" "$work/out/lsmem" "$work/out/README.md" "$dest/"
echo "capture-qemu-tree: wrote $dest" >&2
echo "capture-qemu-tree: now refresh $dest/expected with tests/sysfs-trees/regen.sh" >&2
