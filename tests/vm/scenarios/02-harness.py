# SPDX-License-Identifier: LGPL-2.1-or-later
"""Harness: the command channel, file transfer and pinner's edge cases.

What later scenarios lean on: output comes back byte for byte (also large and
binary), a command past its timeout is killed and the channel stays usable,
files go in and out, and pinner says clearly when it cannot pin.
"""

import hashlib
import os
import re

import vm as vmmod

REQUIRES = ["pinner"]
DIMMS = ["512M"]
TIMEOUT = 300


def run(t, vm):
    rc, out = vm.run("echo out; echo err >&2; exit 7")
    t.eq((rc, sorted(out.split())), (7, ["err", "out"]),
         "run() returns the exit status and stdout+stderr")

    want = vm.sh("head -c 262144 /dev/urandom > /tmp/rand && md5sum /tmp/rand").split()[0]
    rc, out = vm.run_bytes("cat /tmp/rand", timeout=120)
    t.ok(rc == 0 and len(out) == 262144 and hashlib.md5(out).hexdigest() == want,
         "256 KiB of binary output comes back intact", "rc=%d len=%d" % (rc, len(out)))

    data = os.urandom(60000)
    vm.write_file("/tmp/in.bin", data, mode=0o600)
    t.eq(vm.sh("md5sum < /tmp/in.bin").split()[0], hashlib.md5(data).hexdigest(),
         "write_file() puts 60 kB (two chunks) into the guest intact")
    t.eq(vm.read_file("/tmp/in.bin"), data, "read_file() brings it back")
    t.eq(vm.sh("stat -c %a /tmp/in.bin").strip(), "600", "write_file() sets the mode")

    vm.sh("mkdir -p /tmp/tree/a && echo x > /tmp/tree/a/f && ln -s ../a/f /tmp/tree/link")
    dest = os.path.join(t.outdir, "tree")
    vm.copy_tree_out("/tmp/tree", dest)
    t.ok(os.path.islink(os.path.join(dest, "link"))
         and os.readlink(os.path.join(dest, "link")) == "../a/f",
         "copy_tree_out() keeps symlinks as they are")

    try:
        vm.run("echo started; sleep 30", timeout=2)
        t.ok(False, "a command past its timeout raises GuestTimeout")
    except vmmod.GuestTimeout as e:
        t.ok(not e.channel_lost and "started" in e.output,
             "a command past its timeout raises GuestTimeout with its output so far", repr(e))
    t.eq(vm.run("echo still here"), (0, "still here\n"), "the channel works after a timeout")

    # --- pinner ------------------------------------------------------------
    rc, out = vm.run("pinner --bogus", timeout=30)
    t.eq(rc, 2, "pinner refuses an unknown option (exit 2)")

    dimm = vm.dimm_blocks("d1")
    blk = dimm[-1]
    vm.sh("echo offline > /sys/devices/system/memory/memory%d/state" % blk, timeout=120)
    rc, out = vm.run("pinner --mib 8 --max-mib 64 --pin-block %d" % blk, timeout=120)
    t.eq(rc, 3, "pinner exits 3 when it cannot find a page of an offline block")
    t.match(r"^NOTFOUND target=block:%d allocated_mib=64$" % blk, out,
            "and prints NOTFOUND with what it allocated")
    t.ok("READY" not in out, "and never READY")

    pid = vm.spawn("pinner --mib 16 --pin-block %d --count 4" % dimm[0], "four")
    text = vm.wait_output("/tmp/four.out", r"^(READY|NOTFOUND)", 120)
    pins = re.findall(r"^PIN pid=%d vaddr=0x[0-9a-f]+ pfn=0x([0-9a-f]+) block=%d$" % (pid, dimm[0]),
                      text, re.M)
    t.eq(len(set(pins)), 4, "--count 4 pins four distinct pages of the block")
    vm.kill(pid)

    vm.sh("head -c 65536 /dev/urandom > /tmp/file.bin")
    pid = vm.spawn("pinner --mib 0 --file /tmp/file.bin", "file")
    text = vm.wait_output("/tmp/file.out", r"^(READY|NOTFOUND)", 120)
    files = re.findall(r"^FILE pid=\d+ vaddr=0x[0-9a-f]+ pfn=0x[0-9a-f]+ block=\d+$", text, re.M)
    t.eq(len(files), 16, "--file maps and reports every page of a 64 KiB file")
    vm.kill(pid)

    pid = vm.spawn("pinner --mib 32 --hold", "hold")
    text = vm.wait_output("/tmp/hold.out", r"^READY", 120)
    rss = vm.sh("grep VmRSS /proc/%d/status" % pid)
    m = re.search(r"(\d+) kB", rss)
    t.ok(m and int(m.group(1)) >= 32 * 1024, "--hold keeps its memory resident", rss)
    vm.kill(pid)
