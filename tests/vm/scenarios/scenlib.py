# SPDX-License-Identifier: LGPL-2.1-or-later
"""Helpers shared by the memoffctl scenarios (and bench/vs-chmem.py).

Not a scenario itself (the runner only loads NN-name.py). Everything here
drives a booted vm.VM; nothing touches the host.
"""

import json
import re
import shlex

from vm import VMError as vm_error

MEM = "/sys/devices/system/memory"
MIB = 1 << 20

_SPLIT = "@@MO-STDERR@@"
_TIMES = re.compile(r"^@@MO-T ([0-9.]+) ([0-9.]+)@@$", re.M)


def timed(vm, cmd, timeout=120):
    """Run `cmd` (a shell command line) in the guest with stdout and stderr
    kept apart and its wall time measured in the guest (/proc/uptime, 10 ms).
    Returns (rc, stdout, stderr, seconds)."""
    script = ("s=$(cut -d' ' -f1 /proc/uptime); (%s) > /tmp/.mo-o 2> /tmp/.mo-e; rc=$?; "
              "e=$(cut -d' ' -f1 /proc/uptime); cat /tmp/.mo-o; echo; echo '%s'; cat /tmp/.mo-e; "
              "echo; echo \"@@MO-T $s $e@@\"; exit $rc" % (cmd, _SPLIT))
    rc, text = vm.run(script, timeout=timeout)
    out, _, rest = text.partition("\n" + _SPLIT + "\n")
    m = _TIMES.search(rest)
    err = rest[:m.start()] if m else rest
    secs = float(m.group(2)) - float(m.group(1)) if m else float("nan")
    return rc, out[:-1] if out.endswith("\n") else out, err.rstrip("\n") + ("\n" if err.strip() else ""), secs


def ctl(vm, args, timeout=120):
    """memoffctl ARGS: (rc, stdout, stderr, seconds)."""
    return timed(vm, "memoffctl " + args, timeout)


def ctl_json(vm, args, timeout=120):
    """memoffctl ARGS -J: (rc, parsed JSON or None, stdout, stderr, seconds)."""
    rc, out, err, secs = ctl(vm, args + " -J", timeout)
    try:
        obj = json.loads(out)
    except ValueError:
        obj = None
    return rc, obj, out, err, secs


def states(vm):
    """{block: state} straight from sysfs."""
    return {n: b["state"] for n, b in vm.blocks().items()}


def state(vm, block):
    return vm.sh("cat %s/memory%d/state" % (MEM, block)).strip()


def zones(vm, block):
    return vm.sh("cat %s/memory%d/valid_zones" % (MEM, block)).strip()


def list_all(vm):
    """`memoffctl list -J -a`, parsed: what a user compares before and after."""
    return json.loads(vm.sh("memoffctl list -J -a", timeout=60))


def vmstat(vm):
    out = vm.sh("cat /proc/vmstat")
    return {k: int(v) for k, v in (l.split() for l in out.splitlines() if len(l.split()) == 2)}


def oom_kills(vm):
    """How many processes the kernel OOM-killed: "Out of memory: Killed" lines
    in the kernel log (vmstat's oom_kill says the same)."""
    return len(re.findall(r"Out of memory: Killed process", vm.sh("dmesg")))


def alive(vm, pid):
    rc, out = vm.run("test -d /proc/%d && ! grep -q '^State:.*Z' /proc/%d/status" % (pid, pid))
    return rc == 0


def start_pinner(vm, args, name, timeout=180):
    """Start pinner (tests/vm/pinner.c) in the background and wait for READY.
    Returns (pid, [(pfn, block)] pinned, {block: file pages}, its output
    without the FILE lines, which are counted in the guest: a big --file
    would be slow to bring over the serial line)."""
    pid = vm.spawn("pinner " + args, name)
    path = "/tmp/%s.out" % name
    rc, _ = vm.run("i=0; while ! grep -qE '^(READY|NOTFOUND)' %s; do "
                   "[ $i -ge %d ] && exit 1; i=$((i + 1)); sleep 0.25; done" % (path, timeout * 4),
                   timeout=timeout + 30)
    text = vm.sh("grep -v '^FILE ' %s; true" % path)
    if rc != 0:
        raise vm_error("pinner did not get ready in %d s:\n%s" % (timeout, text[-2000:]))
    pins = [(int(m.group(1), 16), int(m.group(2)))
            for m in re.finditer(r"^PIN pid=\d+ vaddr=0x[0-9a-f]+ pfn=0x([0-9a-f]+) block=(\d+)$",
                                 text, re.M)]
    files = {}
    counts = vm.sh("awk '/^FILE /{ sub(/^block=/, \"\", $5); n[$5]++ } "
                   "END { for (b in n) print b, n[b] }' %s" % path)
    for line in counts.splitlines():
        f = line.split()
        if len(f) == 2 and f[0].isdigit():
            files[int(f[0])] = int(f[1])
    return pid, pins, files, text


def spin_offline(vm, block, seconds, name):
    """A plain `echo offline` on a block in the background, bounded by busybox
    timeout; returns its pid (the timeout's)."""
    return vm.spawn("timeout %d sh -c 'echo offline > %s/memory%d/state'" % (seconds, MEM, block),
                    name)


def wait_state(vm, block, want, timeout=30):
    """Poll a block's state until it reads `want`; returns whether it did."""
    try:
        vm.wait_until(lambda: state(vm, block) == want, timeout, interval=0.2,
                      what="memory%d to read %s" % (block, want))
        return True
    except Exception:
        return False


def json_blocks(obj):
    """{block: its record} of a memoffctl offline/online -J result."""
    return {b["block"]: b for b in (obj or {}).get("blocks", [])}


def q(s):
    return shlex.quote(s)


def start_daemon(vm, name, args="-v"):
    """Start memoffd ARGS in the background (output in /tmp/NAME.out) and wait
    for its Ready line; returns its pid."""
    pid = vm.spawn("memoffd " + args, name)
    vm.wait_output("/tmp/%s.out" % name, r"Ready:", timeout=60)
    return pid


def stop_daemon(vm, pid, sig="TERM", timeout=60):
    """Send memoffd `sig` and wait until it is gone."""
    vm.kill(pid, sig)
    vm.wait_until(lambda: not alive(vm, pid), timeout, what="memoffd gone")


def event_seen(vm, name, timeout, since, match=None):
    """The QMP event `name` (matching, see VM.wait_event) among those since
    index `since`, waited for up to `timeout` s; None when it did not come."""
    try:
        return vm.wait_event(name, timeout, since=since, match=match)
    except vm_error:
        return None


def deleted_since(vm, since):
    """The DIMM ids QEMU reported DEVICE_DELETED for since event index `since`, sorted."""
    return sorted(e["data"]["device"] for e in vm.events[since:]
                  if e.get("event") == "DEVICE_DELETED" and "device" in e.get("data", {}))
