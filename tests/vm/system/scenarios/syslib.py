# SPDX-License-Identifier: LGPL-2.1-or-later
"""Helpers of the full-system scenarios (not a scenario: the runner loads
only NN-name.py). Everything drives a booted vm.VM running systemd."""

import re
import shlex
import time

# Every VM of this tier: systemd needs more memory and time than busybox.
VM_ARGS = {"mem": "1G", "boot_timeout": 300}
UNIT = "memoffd.service"
MANAGER = "org.memoff.Manager1 /org/memoff/Manager1 org.memoff.Manager1"


def boot(t, vm, timeout=240):
    """Wait until systemd says the boot is over; report how long it took and
    which units failed (a degraded system fails this point)."""
    rc, state = vm.run("systemctl is-system-running --wait", timeout=timeout)
    rc2, up = vm.run("cut -d' ' -f1 /proc/uptime")
    t.diag("systemd: %s after %s s of guest uptime (channel up after %.1f s on the host)"
           % (state.strip(), up.strip(), vm.boot_seconds))
    t.ok(state.strip() == "running", "systemd boots to 'running' (nothing failed)",
         lambda: vm.run("systemctl --failed --no-pager; journalctl -b -p warning --no-pager | tail -40")[1])


def install(t, vm, name="the package installs with apt"):
    """apt-get install the .deb the image carries in /root; returns its path."""
    deb = vm.sh("ls /root/memoff_*.deb").split()[-1]
    t0 = time.monotonic()
    # apt takes a local file named with a ./ or / path (relative is safest).
    rc, out = vm.run("cd /root && DEBIAN_FRONTEND=noninteractive apt-get install -y ./%s"
                     % deb.rsplit("/", 1)[-1], timeout=300)
    t.ok(rc == 0, name, out)
    t.diag("apt-get install took %.1f s" % (time.monotonic() - t0))
    return deb


def journal(vm, args, timeout=60):
    return vm.run("journalctl --no-pager %s" % args, timeout=timeout)[1]


def show(vm, props, unit=UNIT):
    """systemctl show -p ... as a dict."""
    out = vm.sh("systemctl show %s -p %s" % (unit, ",".join(props)))
    return dict(line.split("=", 1) for line in out.splitlines() if "=" in line)


def wait_active(vm, unit=UNIT, timeout=60):
    """Wait until the unit is active; returns the last `is-active` answer."""
    deadline = time.monotonic() + timeout
    state = ""
    while time.monotonic() < deadline:
        state = vm.run("systemctl is-active %s" % unit)[1].strip()
        if state in ("active", "failed"):
            break
        time.sleep(0.5)
    return state


def busctl(vm, args, user=None, timeout=60):
    """busctl on the system bus, as root or as `user` (runuser)."""
    cmd = "busctl --system %s" % args
    if user:
        cmd = "runuser -u %s -- %s" % (user, cmd)
    return vm.run(cmd, timeout=timeout)


def q(s):
    return shlex.quote(s)


def blocks_in(vm, dimm):
    return vm.dimm_blocks(dimm)


def zone_of(vm, block):
    return vm.sh("cat /sys/devices/system/memory/memory%d/valid_zones" % block).strip()


def security_score(text):
    m = re.search(r"Overall exposure level for \S+: ([0-9.]+)", text)
    return float(m.group(1)) if m else None
