#!/bin/sh
# memoff's demo: sudo tools/demo.sh
#
# 1. installs the Debian packages (tools/install-deps.sh),
# 2. builds in ./build (like tools/check.sh),
# 3. on this machine, only reads: memoffctl list, and memoffctl offline
#    --dry-run 1G (the plan: which blocks, what they cost, the headroom),
# 4. boots Debian's kernel in a QEMU guest with two hot-pluggable DIMMs, pins
#    a page in the block chmem takes first, and shows chmem hanging on it
#    (stopped by a timeout) while memoffctl takes the same amount of memory
#    offline around it, and says who holds the page.
#
# Safe anywhere: nothing here writes to this machine's memory state. Memory
# goes offline only inside the guest, and MEMOFF_FORBID_HOST_WRITES=1 makes
# memoffctl refuse any write to the host's /sys besides.
#
# MEMOFF_DEMO_NO_DEPS=1   skip tools/install-deps.sh
# MEMOFF_DEMO_TIMEOUT=20  seconds chmem gets (and memoffctl's --deadline)
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
build=$top/build
timeout=${MEMOFF_DEMO_TIMEOUT:-20}
MEMOFF_FORBID_HOST_WRITES=1
export MEMOFF_FORBID_HOST_WRITES

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
say() { printf '   %s\n' "$*"; }
run() { printf '\n   $ %s\n' "$*"; "$@" 2>&1 | sed 's/^/   /'; }

if [ "$(id -u)" -ne 0 ]; then
	echo "demo.sh: run it as root (sudo tools/demo.sh): it installs packages, and reading" >&2
	echo "/proc/kpageflags for the dry run needs root. It never changes this machine's memory." >&2
	exit 1
fi

# --- 1. packages ----------------------------------------------------------------
step "1/4 Debian packages (tools/install-deps.sh)"
if [ "${MEMOFF_DEMO_NO_DEPS:-0}" = 1 ]; then
	say "skipped (MEMOFF_DEMO_NO_DEPS=1)"
else
	mkdir -p "$build"
	"$top/tools/install-deps.sh" > "$build/install-deps.log" 2>&1 ||
		{ tail -20 "$build/install-deps.log"; echo "demo.sh: install-deps.sh failed" >&2; exit 1; }
	say "done (log: build/install-deps.log)"
fi

# --- 2. build -----------------------------------------------------------------------
step "2/4 Building in build/"
cd "$top"
[ -x configure ] || ./autogen.sh > /dev/null 2>&1 || { echo "demo.sh: autogen.sh failed" >&2; exit 1; }
mkdir -p "$build"
cd "$build"
if [ ! -f Makefile ]; then
	../configure > configure.out 2>&1 || { tail -20 configure.out; echo "demo.sh: configure failed" >&2; exit 1; }
fi
jobs=$(nproc 2>/dev/null || echo 2)
# pinner is a test helper (check_PROGRAMS): the guest needs it.
make -j"$jobs" all tests/vm/pinner > make.out 2>&1 || { tail -30 make.out; echo "demo.sh: make failed" >&2; exit 1; }
memoffctl=$build/src/memoffctl/memoffctl
say "built $memoffctl"

# --- 3. this machine: read only ------------------------------------------------------
step "3/4 This machine, read-only"
say "memoffctl list is lsmem's table (and columns of its own). Nothing is written."
run "$memoffctl" list --direct
say "A dry run of taking 1G offline: which blocks memoffctl would take (Movable ones,"
say "cheapest first), what each costs to migrate, and whether the headroom guard allows it."
say "It changes nothing (and MEMOFF_FORBID_HOST_WRITES=1 would stop any write)."
printf '\n   $ %s\n' "$memoffctl offline --direct --dry-run 1G"
rc=0
"$memoffctl" offline --direct --dry-run 1G > "$build/demo-dry-run.out" 2>&1 || rc=$?
sed 's/^/   /' "$build/demo-dry-run.out"
case $rc in
0) say "(exit 0: the plan would take all of it)" ;;
1) say "(exit 1: the plan takes nothing: this machine has no block that may go, which is common:"
   say " only memory in ZONE_MOVABLE can be taken away reliably)" ;;
64) say "(exit 64: the plan would take only part of it)" ;;
*) say "(exit $rc)" ;;
esac

# --- 4. the guest ------------------------------------------------------------------------
step "4/4 A QEMU guest: chmem and memoffctl on a pinned page"
if ! command -v qemu-system-x86_64 > /dev/null 2>&1; then
	say "qemu-system-x86_64 is not installed: no guest, the demo ends here."
	exit 0
fi
say "Fetching Debian's kernel package (cached in build/tests/vm/cache) and building the guest image..."
kernel=$(sh "$top/tests/vm/fetch-kernel.sh" "$build/tests/vm/cache" 2> "$build/demo-kernel.log" | tail -n 1) ||
	kernel=
if [ -z "$kernel" ] || [ ! -f "$kernel" ]; then
	sed 's/^/   /' "$build/demo-kernel.log"
	say "no kernel for the guest: the demo ends here."
	exit 0
fi
mkdir -p "$build/tests/vm/work"
initrd=$build/tests/vm/work/demo-initramfs.gz
sh "$top/tests/vm/mkinitramfs.sh" "$initrd" "$memoffctl" "$build/tests/vm/pinner" > "$build/demo-image.log" 2>&1 ||
	{ cat "$build/demo-image.log"; echo "demo.sh: cannot build the guest image" >&2; exit 1; }

MEMOFF_DEMO_KERNEL=$kernel MEMOFF_DEMO_INITRD=$initrd MEMOFF_DEMO_TIMEOUT=$timeout \
MEMOFF_DEMO_VMDIR=$top/tests/vm exec python3 - <<'PY'
import os
import re
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.environ["MEMOFF_DEMO_VMDIR"])
import vm as vmmod  # noqa: E402

T = int(os.environ["MEMOFF_DEMO_TIMEOUT"])


def say(*lines):
    for line in lines:
        print("   " + line)
    sys.stdout.flush()


def show(vm, cmd, timeout=120):
    """Run a guest command, print it and its output, return (rc, output, seconds)."""
    print("\n   guest# " + cmd)
    t0 = time.monotonic()
    rc, out = vm.run(cmd, timeout=timeout)
    secs = time.monotonic() - t0
    for line in out.rstrip("\n").splitlines():
        print("   " + line)
    sys.stdout.flush()
    return rc, out, secs


say("Booting the guest: 1 GiB of boot memory and two 512 MiB DIMMs, which come up")
say("in ZONE_MOVABLE (memhp_default_state=online_movable). QEMU emulates the CPU,")
say("so everything in there is slow; on real hardware it is far faster.")
with vmmod.VM(os.environ["MEMOFF_DEMO_KERNEL"], os.environ["MEMOFF_DEMO_INITRD"],
              dimms=["512M", "512M"]) as vm:
    say("booted in %.0f s." % vm.boot_seconds)
    show(vm, "memoffctl list -o RANGE,SIZE,STATE,ZONES,BLOCK")
    bs = vm.block_size()
    info = vm.dimms_info()["d2"]
    top = (info["addr"] + info["size"]) // bs - 1

    print()
    say("chmem -d SIZE takes blocks from the highest number down, so block %d is the" % top,
        "first it tries. A process now pins one page of it: it vmsplice()s the page into",
        "a pipe nobody reads, which holds a reference the kernel cannot migrate (as",
        "O_DIRECT I/O in flight, a guest's memory under KVM, or RDMA can). pinner",
        "allocates memory until it gets a page of that block, which takes a while here...")
    pid = vm.spawn("pinner --pin-block %d" % top, "pin")
    text = vm.wait_output("/tmp/pin.out", r"^(READY|NOTFOUND)", timeout=300)
    m = re.search(r"^PIN pid=(\d+) vaddr=(0x[0-9a-f]+) pfn=(0x[0-9a-f]+) block=(\d+)$", text, re.M)
    if not m:
        say("pinner could not pin a page of block %d:" % top, *text.splitlines())
        sys.exit(1)
    say("pinned: pid %s, pfn %s (block %s)." % (m.group(1), m.group(3), m.group(4)))

    print()
    say("chmem -d 256M, given %d s (busybox timeout): the kernel's offline_pages() retries" % T,
        "the pinned page for ever, and chmem waits in write() with it.")
    vm.sh("dmesg -c > /dev/null")
    rc, out, secs = show(vm, "timeout %d chmem -d 256M; echo \"exit status $?\"" % T, timeout=T + 60)
    offline = [n for n, b in vm.blocks().items() if b["state"] == "offline"]
    if secs >= T - 1:
        say("=> chmem did not finish in %d s (%d MiB offlined); the timeout killed it and the"
            % (T, len(offline) * bs >> 20),
            "   kernel rolled block %d back to online. Meanwhile the kernel log filled with:" % top)
        for line in vm.sh("dmesg | grep -E 'migrating pfn|page dumped' | head -3").splitlines():
            say("     " + line)
    else:
        say("=> chmem returned after %.0f s (exit status above)." % secs)

    print()
    say("memoffctl offline 256M with the same %d s as its deadline: it ranks the Movable" % T,
        "blocks by a census of their pages, bounds every attempt with a timer, retries",
        "with backoff, and never waits past the deadline.")
    rc, out, secs = show(vm, "memoffctl offline 256M --deadline %ds; echo \"exit status $?\"" % T,
                         timeout=T + 60)
    offline = sorted(n for n, b in vm.blocks().items() if b["state"] == "offline")
    say("=> memoffctl offlined %d MiB (blocks %s) in %.1f s, around the pinned block."
        % (len(offline) * bs >> 20, ", ".join(map(str, offline)) or "none", secs))

    print()
    say("Asked for exactly the pinned block, memoffctl gives up by its deadline, leaves the",
        "block online, and names the page and the process that holds it:")
    show(vm, "memoffctl offline -b %d --attempt-timeout 2s --deadline 5s; echo \"exit status $?\"" % top,
         timeout=60)
    show(vm, "memoffctl list -o RANGE,SIZE,STATE,ZONES,BLOCK")
    vm.kill(pid)
print()
say("The guest is gone. On this machine memoff only read /sys and /proc.")
PY
