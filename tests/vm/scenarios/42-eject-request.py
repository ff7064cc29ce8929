# SPDX-License-Identifier: LGPL-2.1-or-later
"""A host's plain device_del made safe: memoffd answers eject requests ([Cloud] HandleEjectRequests=yes).

Two 512 MiB pc-dimms, online in ZONE_MOVABLE. memoffd starts with
HandleEjectRequests=yes and sets /sys/firmware/acpi/hotplug/memory/enabled
to 0, saving the 1 it found in its state directory. A host device_del of d1
(nothing pinned): the kernel refuses it at once (ACPI_DEVICE_OST status 128),
memoffd reads "Eject disabled" from /dev/kmsg, offlines and ejects exactly
that DIMM, and QEMU emits DEVICE_DELETED for d1 and nothing else. With a page
of d2 pinned, a device_del of d2 gets the prompt refusal, the release job
gives up by its deadline, d2's blocks are all online, the guest keeps running
and memoffd's log names the pinner; once the pin is gone a second device_del
succeeds. The DeviceHook= program runs for the device released and the one
given up on. SIGTERM puts the knob back to 1; after a SIGKILL the knob stays 0
until the next start (with the feature off) puts it back.

These are the commands doc/cloud.md gives a host-side controller.
"""

import os
import re
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import scenlib as S  # noqa: E402

REQUIRES = ["memoffd", "memoffctl", "pinner"]
DIMMS = ["512M", "512M"]
TIMEOUT = 600

KNOB = "/sys/firmware/acpi/hotplug/memory/enabled"
CONF = """[Offline]
AttemptTimeout=2s
AttemptsPerBlock=3
BackoffInitial=1s
Deadline=30s

[Cloud]
HandleEjectRequests=yes
DeviceHook=/etc/memoff/hook.sh
"""
HOOK = """#!/bin/sh
echo "$* reason=$MEMOFF_REASON" >> /tmp/hook.log
"""


def knob(vm):
    return vm.sh("cat %s" % KNOB).strip()


def start_daemon(vm, name, conf="/etc/memoff/cloud.conf"):
    return S.start_daemon(vm, name, "-v -c %s --state-dir /var/lib/memoff" % conf)


def ost_status(vm, dimm, since):
    """The status of the ACPI_DEVICE_OST event QEMU sent for `dimm` since `since`, or None."""
    ev = S.event_seen(vm, "ACPI_DEVICE_OST", 30, since,
                      lambda data: (data.get("info") or {}).get("device") == dimm)
    return ((ev or {}).get("data", {}).get("info") or {}).get("status")


def run(t, vm):
    dimms = vm.dimms_info()
    bs = vm.block_size()
    blocks_of = {d: list(range(i["addr"] // bs, (i["addr"] + i["size"]) // bs)) for d, i in dimms.items()}
    t.eq(knob(vm), "1", "the guest boots with ACPI memory hotplug enabled")
    vm.sh("mkdir -p /etc/memoff")
    vm.write_file("/etc/memoff/cloud.conf", CONF)
    vm.write_file("/etc/memoff/plain.conf", "")
    vm.write_file("/etc/memoff/hook.sh", HOOK, mode=0o755)

    pid = start_daemon(vm, "memoffd")
    log = vm.sh("cat /tmp/memoffd.out")
    t.match(r"Handling eject requests of memory devices: %s is 0 \(it was 1\)" % re.escape(KNOB[5:]), log,
            "memoffd takes the knob (it logs the value it found)")
    t.eq(knob(vm), "0", "... which now reads 0")
    t.match(r"^enabled=1\nboot=", vm.sh("cat /var/lib/memoff/hotplug-knob"),
            "... and the value found is saved in the state directory")

    # --- device_del of a DIMM without pins: DEVICE_DELETED --------------------------
    t0 = time.monotonic()
    since = vm.unplug_dimm("d1")
    t.eq(ost_status(vm, "d1", since), 128, "the kernel refuses the request at once: ACPI_DEVICE_OST status 128")
    t.diag("measured: device_del d1 to ACPI_DEVICE_OST %.1f s" % (time.monotonic() - t0))
    t.ok(S.event_seen(vm, "DEVICE_DELETED", 120, since, {"device": "d1"}),
         "memoffd frees d1 and QEMU emits DEVICE_DELETED for it",
         lambda: vm.sh("cat /tmp/memoffd.out; dmesg | tail -20"))
    t.diag("measured: device_del d1 to DEVICE_DELETED %.1f s" % (time.monotonic() - t0))
    t.eq(S.deleted_since(vm, since), ["d1"], "... and for no other DIMM")
    log = vm.sh("cat /tmp/memoffd.out")
    t.match(r"PNP0C80:\w+: eject requested by the firmware .*: job \d+ \(release device PNP0C80:\w+\)", log,
            "memoffd logs the request and the job answering it")
    t.match(r"Job \d+ \(release device PNP0C80:\w+\) done: released 512M of 512M", log,
            "... a release job of exactly that device, done")
    now = vm.blocks()
    t.ok(not any(b in now for b in blocks_of["d1"]), "d1's blocks are gone from the guest")
    t.ok(all(now[b]["state"] == "online" for b in blocks_of["d2"]), "d2's blocks are all online")
    t.eq(knob(vm), "0", "the knob is 0 again after the eject")
    vm.wait_until(lambda: vm.run("test -s /tmp/hook.log", timeout=10)[0] == 0, 30, what="the hook ran")
    t.match(r"^released PNP0C80:\w+ 536870912 reason=$", vm.sh("cat /tmp/hook.log"),
            "DeviceHook= ran: released DEVICE BYTES")

    # --- device_del of a DIMM with a pinned page: prompt refusal, nothing spins -------
    ppid = vm.spawn("pinner --pin-block %d" % blocks_of["d2"][1], "pin")
    text = vm.wait_output("/tmp/pin.out", r"^(READY|NOTFOUND)", timeout=180)
    m = re.search(r"^PIN pid=(\d+) .* block=(\d+)$", text, re.M)
    if not t.ok(m and int(m.group(2)) in blocks_of["d2"], "pinner pins a page in d2", text):
        return
    pin_pid = m.group(1)
    t0 = time.monotonic()
    since = vm.unplug_dimm("d2")
    t.eq(ost_status(vm, "d2", since), 128, "device_del of the pinned DIMM: prompt ACPI_DEVICE_OST status 128")
    t.diag("measured: device_del d2 (pinned) to ACPI_DEVICE_OST %.1f s" % (time.monotonic() - t0))
    try:
        vm.wait_until(lambda: re.search(r"Job \d+ \(release device PNP0C80:\w+\) failed",
                                        vm.sh("cat /tmp/memoffd.out")), 120, what="the release job failed")
        gave_up = True
    except Exception:
        gave_up = False
    t.ok(gave_up, "the release job gives up (3 tries, AttemptsPerBlock=3)", lambda: vm.sh("tail -30 /tmp/memoffd.out"))
    t.diag("measured: device_del d2 (pinned) to the job giving up %.1f s" % (time.monotonic() - t0))
    rc, out = vm.run("echo alive", timeout=30)
    t.ok(rc == 0 and "alive" in out, "the guest keeps running (no spinning hotplug worker)")
    now = vm.blocks()
    t.ok(all(now.get(b, {}).get("state") == "online" for b in blocks_of["d2"]),
         "every block of d2 is online again", lambda: repr(now))
    t.eq(S.deleted_since(vm, since), [], "QEMU deleted nothing")
    t.ok("d2" in vm.dimms_info(), "query-memory-devices still lists d2")
    log = vm.sh("cat /tmp/memoffd.out")
    t.match(r"block %s: offlining blocked by .*MEMOFF_PID=%s MEMOFF_COMM=pinner " % (m.group(2), pin_pid), log,
            "memoffd's log names the pinner (pid %s)" % pin_pid)
    t.match(r"PNP0C80:\w+: eject request not carried out, the device stays online \(512M\): block %s: .*pinner\[%s\]"
            % (m.group(2), pin_pid), log, "... and that the device stays online, with the pinner")
    vm.wait_until(lambda: "given-up" in vm.sh("cat /tmp/hook.log"), 30, what="the hook ran again")
    t.match(r"^given-up PNP0C80:\w+ 536870912 reason=block %s: .*pinner\[%s\]" % (m.group(2), pin_pid),
            vm.sh("cat /tmp/hook.log"), "DeviceHook= ran: given-up DEVICE BYTES, the reason naming the pinner")
    rc, jobs = vm.run("memoffctl jobs", timeout=30)
    t.match(r"release\s+finished\s+failed\s+\S+ release device PNP0C80:\w+", jobs,
            "memoffctl jobs lists the failed release")

    # --- the pin is gone: a second device_del succeeds --------------------------------
    vm.kill(ppid)
    time.sleep(1)
    t0 = time.monotonic()
    since = vm.unplug_dimm("d2")
    t.ok(S.event_seen(vm, "DEVICE_DELETED", 120, since, {"device": "d2"}),
         "with the pin gone a second device_del of d2 ends in DEVICE_DELETED",
         lambda: vm.sh("tail -30 /tmp/memoffd.out"))
    t.diag("measured: second device_del d2 to DEVICE_DELETED %.1f s" % (time.monotonic() - t0))
    t.eq(vm.dimms_info(), {}, "no DIMM is left")

    # --- memoffd stops: the knob is put back ---------------------------------------
    S.stop_daemon(vm, pid)
    t.eq(knob(vm), "1", "SIGTERM: memoffd puts the knob back to 1, as found")
    t.eq(vm.run("test -e /var/lib/memoff/hotplug-knob", timeout=10)[0], 1, "... and removes its save file")

    # --- a crash: the next start puts it back ---------------------------------------
    pid = start_daemon(vm, "memoffd2")
    t.eq(knob(vm), "0", "a new memoffd takes the knob again")
    S.stop_daemon(vm, pid, "KILL")
    t.eq(knob(vm), "0", "after SIGKILL the knob is still 0 ...")
    pid = start_daemon(vm, "memoffd3", conf="/etc/memoff/plain.conf")
    t.eq(knob(vm), "1", "... and the next start, without HandleEjectRequests, puts it back to 1")
    t.match(r"Put .*hotplug/memory/enabled back to 1, as found", vm.sh("cat /tmp/memoffd3.out"),
            "... saying so")
    S.stop_daemon(vm, pid)
