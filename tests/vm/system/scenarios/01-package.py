# SPDX-License-Identifier: LGPL-2.1-or-later
"""memoff's .deb on Debian 12 with systemd: install, the service, the system bus, the journal, upgrade and purge."""
import os
import re
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import syslib  # noqa: E402
from syslib import MANAGER, busctl, journal  # noqa: E402

VM_ARGS = syslib.VM_ARGS
DIMMS = ["512M"]
TIMEOUT = 900

MUTATING = [  # (method, dbus-send arguments): each must be refused to a user
    ("Offline", "string:blocks string:40 array:string:"),
    ("Online", "string:blocks string:40 array:string:"),
    ("Release", "string:128M"),
    ("GetPins", "string:blocks string:40"),
    ("CancelJob", "uint32:1"),
    ("ApplyHotplugPolicy", "uint64:40"),
    ("Reload", ""),
]


def ops_allowed_on_socket(vm):
    """User ops (in group memops) asks memoffd to apply the hotplug policy to
    a block that does not exist: allowed means the daemon got to the block."""
    rc, out = vm.run("runuser -u ops -- memoffctl hotplug 99999")
    return re.search(r"(?i)does not exist", out) is not None and not re.search(r"(?i)access denied", out)


def run(t, vm):
    syslib.boot(t, vm)
    deb = syslib.install(t, vm)

    # --- the service as systemctl shows it
    t.eq(vm.run("systemctl is-enabled memoffd.service")[1].strip(), "enabled",
         "installing enables memoffd.service")
    t.eq(syslib.wait_active(vm), "active", "installing starts memoffd.service")
    rc, status = vm.run("systemctl status --no-pager --full memoffd.service")
    t.diag(status)
    t.match(r"Active: active \(running\)", status,
            "systemctl status: active (running), which a Type=notify unit is only after READY=1")
    t.match(r'Status: "Idle\."', status, "systemctl status: the daemon's STATUS= text")
    p = syslib.show(vm, ["Type", "NotifyAccess", "WatchdogUSec", "StatusText"])
    t.eq((p.get("Type"), p.get("WatchdogUSec")), ("notify", "1min"), "Type=notify with a 1 min watchdog")

    # The watchdog: with WatchdogSec=3s the daemon must ping every 1.5 s or be killed.
    vm.sh("mkdir -p /run/systemd/system/memoffd.service.d && printf '[Service]\\nWatchdogSec=3s\\n' "
          "> /run/systemd/system/memoffd.service.d/watchdog.conf && systemctl daemon-reload && "
          "systemctl restart memoffd.service")
    w1 = syslib.show(vm, ["WatchdogTimestampMonotonic"])["WatchdogTimestampMonotonic"]
    time.sleep(8)
    p = syslib.show(vm, ["WatchdogTimestampMonotonic", "ActiveState", "NRestarts"])
    t.ok(int(p["WatchdogTimestampMonotonic"]) > int(w1) and p["ActiveState"] == "active"
         and p["NRestarts"] == "0", "the watchdog is pinged (WatchdogSec=3s: 8 s later still up, "
         "WatchdogTimestamp moved)", repr((w1, p)))
    vm.sh("rm -r /run/systemd/system/memoffd.service.d && systemctl daemon-reload && "
          "systemctl restart memoffd.service")

    # --- the sandbox: systemd-analyze security, printed, and at most 2.5
    rc, sec = vm.run("systemd-analyze security --no-pager memoffd.service", timeout=120)
    t.diag(sec)
    score = syslib.security_score(sec)
    t.ok(score is not None and score <= 2.5, "systemd-analyze security memoffd.service: %s <= 2.5" % score)

    # --- every write path inside the sandbox: state files, sysfs state, the job file
    blk = vm.dimm_blocks("d1")[1]
    rc, out = vm.run("memoffctl offline -b %d" % blk, timeout=120)
    t.ok(rc == 0 and vm.blocks()[blk]["state"] == "offline",
         "memoffctl offline -b %d through memoffd (sandboxed): done" % blk, out)
    rc, out = vm.run("memoffctl online -b %d" % blk, timeout=120)
    t.ok(rc == 0 and vm.blocks()[blk]["state"] == "online", "memoffctl online -b %d: done" % blk, out)
    rc, jobs = vm.run("memoffctl jobs")
    t.match(r"^\s*1\s+offline\s+finished\s+done", jobs, "memoffctl jobs (as root) lists the finished job")
    t.ok(vm.run("test -s /var/lib/memoff/jobs")[0] == 0, "the job state file is written in /var/lib/memoff")
    rc, out = vm.run("runuser -u nobody -- memoffctl jobs")
    t.ok(rc == 0 and re.search(r"^\s*1\s+offline", out, re.M), "memoffctl jobs as an unprivileged user", out)

    # --- journald: fields, catalog, MESSAGE_ID
    rc, rec = vm.run("journalctl --no-pager -o verbose -u memoffd MESSAGE_ID=29b98dc60143438da0ee87fd1df574c3")
    t.match(r"MEMOFF_BLOCK=%d\b" % blk, rec, "the 'block offlined' record, found by MESSAGE_ID, has MEMOFF_BLOCK")
    t.match(r"MEMOFF_JOB=1\b", rec, "... and MEMOFF_JOB")
    x = journal(vm, "-x -u memoffd")
    t.match(r"Defined-By: memoff", x, "journalctl -x shows memoff's catalog text (dpkg's trigger "
            "updated the catalog)")
    t.match(r"Subject: Memory block %d offlined" % blk, x, "... with the block in its subject")

    # --- the system bus
    rc, intro = busctl(vm, "introspect org.memoff.Manager1 /org/memoff/Manager1")
    t.match(r"^\.Offline\s+method\s+ssa\{sv\}\s+o", intro, "busctl introspect on the system bus shows the API")
    rc, out = busctl(vm, "introspect org.memoff.Manager1 /org/memoff/Manager1", user="nobody")
    t.ok(rc == 0 and ".ListJobs" in out, "... and an unprivileged user may introspect", out)
    rc, out = busctl(vm, "call %s ListJobs" % MANAGER, user="nobody")
    t.ok(rc == 0 and out.startswith("a(ussso)"), "an unprivileged user may call ListJobs", out)
    refused = []
    for method, args in MUTATING:
        rc, out = vm.run("runuser -u nobody -- dbus-send --system --print-reply "
                         "--dest=org.memoff.Manager1 /org/memoff/Manager1 org.memoff.Manager1.%s %s"
                         % (method, args))
        if rc == 0 or "org.freedesktop.DBus.Error.AccessDenied" not in out:
            refused.append("%s: rc=%d %s" % (method, rc, out.strip()))
    t.ok(not refused, "an unprivileged user is refused every mutating method by the bus policy "
         "(%s)" % ", ".join(m for m, _ in MUTATING), "\n".join(refused))

    # A member of AllowedGroup=: the bus lets the group through (a policy
    # drop-in), the daemon decides.
    vm.sh("groupadd memops && useradd -M -G memops ops && mkdir -p /etc/memoff/memoffd.conf.d && "
          "cat > /etc/dbus-1/system.d/memops.conf <<'EOF'\n"
          "<!DOCTYPE busconfig PUBLIC \"-//freedesktop//DTD D-BUS Bus Configuration 1.0//EN\"\n"
          " \"http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd\">\n"
          "<busconfig><policy group=\"memops\"><allow send_destination=\"org.memoff.Manager1\"/>"
          "</policy></busconfig>\nEOF\n"
          "busctl call org.freedesktop.DBus /org/freedesktop/DBus org.freedesktop.DBus ReloadConfig")
    rc, out = busctl(vm, "call %s ApplyHotplugPolicy t 99999" % MANAGER, user="ops")
    t.match(r"(?i)access denied", out,
            "a group the bus lets through but memoffd.conf does not name: memoffd refuses")
    vm.sh("printf '[Access]\\nAllowedGroup=memops\\n' > /etc/memoff/memoffd.conf.d/50-ops.conf && "
          "systemctl reload memoffd.service")
    allowed_sock = ops_allowed_on_socket(vm)
    t.ok(allowed_sock, "a member of AllowedGroup= may change memory through the control socket "
         "(memoffctl hotplug: 'block 99999 does not exist', not 'access denied')",
         lambda: vm.run("runuser -u ops -- memoffctl hotplug 99999")[1])
    rc, out = busctl(vm, "call %s ApplyHotplugPolicy t 99999" % MANAGER, user="ops")
    # dbus-daemon gives no supplementary groups: memoffd asks the user
    # database, as the bus's own policy group= does.
    t.ok(re.search(r"(?i)block 99999 does not exist", out),
         "a member of AllowedGroup= (a supplementary group) may call a mutating method on the system bus",
         out)

    # --- systemctl reload with a bad drop-in: the old configuration stays
    vm.sh("printf '[Offline]\\nAttemptTimeout=banana\\n' > /etc/memoff/memoffd.conf.d/90-bad.conf")
    since = vm.sh("date '+%Y-%m-%d %H:%M:%S'").strip()
    rc, out = vm.run("systemctl reload memoffd.service")
    time.sleep(1)
    log = journal(vm, "-u memoffd --since '%s'" % since)
    t.match(r"90-bad\.conf:2", log, "a bad drop-in: its FILE:LINE in the journal")
    rc, status = vm.run("systemctl status --no-pager --full -n 20 memoffd.service")
    t.match(r"90-bad\.conf:2", status, "... and in systemctl status")
    t.eq(syslib.wait_active(vm), "active", "... and memoffd keeps running")
    t.ok(ops_allowed_on_socket(vm), "... with the old configuration (AllowedGroup= still applies)")
    vm.sh("rm /etc/memoff/memoffd.conf.d/90-bad.conf")

    # --- D-Bus activation
    vm.sh("systemctl stop memoffd.service")
    rc, out = busctl(vm, "call %s ListJobs" % MANAGER, timeout=90)
    t.ok(rc == 0 and syslib.wait_active(vm) == "active",
         "D-Bus activation: a call on the system bus starts the stopped memoffd", out)
    rc, jobs = vm.run("memoffctl jobs")
    t.match(r"^\s*1\s+offline\s+finished\s+done", jobs, "the restarted daemon kept the job history")

    # --- upgrade: a changed conffile and the job history stay
    vm.sh("sed -i 's/^#AttemptTimeout=.*/AttemptTimeout=12s/' /etc/memoff/memoffd.conf")
    vm.sh("rm -rf /tmp/up && dpkg-deb -R %s /tmp/up && "
          "sed -i 's/^Version: .*/&+up1/' /tmp/up/DEBIAN/control && dpkg-deb -b /tmp/up /tmp/memoff-up.deb"
          % deb, timeout=120)
    rc, out = vm.run("cd /tmp && DEBIAN_FRONTEND=noninteractive apt-get install -y "
                     "./memoff-up.deb", timeout=300)
    t.ok(rc == 0 and "+up1" in vm.run("dpkg-query -W -f '${Version}' memoff")[1],
         "upgrade to a newer version of the package", out)
    t.ok(vm.run("grep -qx 'AttemptTimeout=12s' /etc/memoff/memoffd.conf")[0] == 0,
         "the upgrade keeps the changed conffile /etc/memoff/memoffd.conf")
    t.eq(syslib.wait_active(vm), "active", "memoffd runs again after the upgrade")
    rc, jobs = vm.run("memoffctl jobs")
    t.match(r"^\s*1\s+offline\s+finished\s+done", jobs, "the upgrade keeps the job history")

    # --- purge removes what the package and the daemon created (the drop-ins
    # this test wrote are the administrator's: dpkg rightly keeps those)
    vm.sh("rm -r /etc/memoff/memoffd.conf.d /etc/dbus-1/system.d/memops.conf")
    rc, out = vm.run("DEBIAN_FRONTEND=noninteractive apt-get purge -y memoff", timeout=300)
    t.ok(rc == 0, "apt-get purge memoff", out)
    rc, out = vm.run("ls -d /var/lib/memoff /run/memoff /etc/memoff /usr/bin/memoffctl "
                     "/etc/systemd/system/multi-user.target.wants/memoffd.service "
                     "/etc/systemd/system/dbus-org.memoff.Manager1.service 2>/dev/null; "
                     "systemctl is-active memoffd.service")
    t.ok(out.split() == ["inactive"], "purge leaves no state dir, runtime dir, configuration, program "
         "or enablement link, and memoffd stopped", out)
