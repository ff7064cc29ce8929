# SPDX-License-Identifier: LGPL-2.1-or-later
"""The release target through qemu-guest-agent: the host's guest-exec of `memoffctl target 512M --wait -J`.

QEMU gets a virtio-serial port named org.qemu.guest_agent.0 on a unix
socket (the options doc/cloud.md gives). In the guest the virtio modules
are loaded (Debian builds them as modules; run-system.py adds them) and
qemu-guest-agent runs as Debian ships it. The host speaks the agent's
protocol on the socket, the exchanges doc/cloud.md shows: guest-sync-delimited,
guest-exec with capture-output, guest-exec-status until it has exited, the
output base64-decoded. The JSON must say the target was reached, and QMP
must report DEVICE_DELETED for the DIMM(s) it names.
"""
import base64
import json
import os
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import syslib  # noqa: E402

DIMMS = ["512M", "512M"]
TIMEOUT = 900
MIB = 1 << 20
# doc/cloud.md, "Through qemu-guest-agent": the port QEMU gets.
QGA_ARGS = ["-device", "virtio-serial",
            "-chardev", "socket,path={workdir}/qga.sock,server=on,wait=off,id=qga0",
            "-device", "virtserialport,chardev=qga0,name=org.qemu.guest_agent.0"]
VM_ARGS = dict(syslib.VM_ARGS, extra_args=QGA_ARGS)
# doc/cloud.md: the command the host runs in the guest.
COMMAND = {"path": "/usr/bin/memoffctl", "arg": ["target", "512M", "--wait", "-J"], "capture-output": True}


class Agent:
    """The host side of the QEMU guest agent protocol: one JSON command, one
    JSON answer; guest-sync-delimited puts 0xff before its answer so that
    what an earlier, abandoned command left in the channel can be skipped."""

    def __init__(self, path):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.connect(path)
        self.buf = b""

    def close(self):
        self.sock.close()

    def send(self, cmd, **args):
        msg = {"execute": cmd}
        if args:
            msg["arguments"] = args
        self.sock.sendall(json.dumps(msg).encode() + b"\n")

    def _line(self, deadline):
        while b"\n" not in self.buf:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("no answer from the guest agent")
            self.sock.settimeout(left)
            try:
                data = self.sock.recv(65536)
            except socket.timeout:
                raise TimeoutError("no answer from the guest agent")
            if not data:
                raise ConnectionError("the guest agent's socket closed")
            self.buf += data
        line, self.buf = self.buf.split(b"\n", 1)
        return line

    def sync(self, timeout):
        """guest-sync-delimited until the agent answers with our id (it may
        not be listening yet: each try has its own id)."""
        deadline = time.monotonic() + timeout
        n = int(time.time()) & 0xffffff
        while True:
            n += 1
            self.send("guest-sync-delimited", id=n)
            try:
                end = min(deadline, time.monotonic() + 5)
                while True:
                    line = self._line(end)
                    line = line[line.rfind(b"\xff") + 1:]
                    if line.strip() and json.loads(line).get("return") == n:
                        return n
            except TimeoutError:
                if time.monotonic() >= deadline:
                    raise

    def call(self, cmd, timeout=30, **args):
        self.send(cmd, **args)
        reply = json.loads(self._line(time.monotonic() + timeout))
        if "error" in reply:
            raise RuntimeError("%s: %s" % (cmd, reply["error"]))
        return reply["return"]


def run(t, vm):
    syslib.boot(t, vm)
    syslib.install(t, vm)
    t.eq(syslib.wait_active(vm), "active", "memoffd runs")

    # The virtio port: the modules, then the agent as Debian ships it (the
    # tier masks it for the other scenarios).
    rc, out = vm.run("depmod -a && modprobe -a virtio_pci virtio_console && udevadm settle && "
                     "ls -l /dev/virtio-ports/", timeout=120)
    t.ok(rc == 0 and "org.qemu.guest_agent.0" in out,
         "modprobe virtio_pci virtio_console: /dev/virtio-ports/org.qemu.guest_agent.0 appears", out)
    rc, out = vm.run("systemctl unmask qemu-guest-agent.service && systemctl start qemu-guest-agent.service "
                     "&& systemctl is-active qemu-guest-agent.service", timeout=120)
    t.ok(rc == 0 and out.split()[-1:] == ["active"], "qemu-guest-agent.service runs", out)

    agent = Agent(os.path.join(vm.workdir, "qga.sock"))
    try:
        agent.sync(120)
        t.ok(True, "the host's guest-sync-delimited is answered with its id")
        info = agent.call("guest-info")
        t.diag("qemu-guest-agent %s" % info.get("version"))

        dimms = set(vm.dimms_info())
        since = len(vm.events)
        t0 = time.monotonic()
        pid = agent.call("guest-exec", **COMMAND)["pid"]
        status = {}
        while time.monotonic() - t0 < 600:
            status = agent.call("guest-exec-status", pid=pid)
            if status.get("exited"):
                break
            time.sleep(1)
        t.diag("guest-exec of memoffctl target 512M --wait -J: %.1f s" % (time.monotonic() - t0))
        out = base64.b64decode(status.get("out-data", "")).decode(errors="replace")
        err = base64.b64decode(status.get("err-data", "")).decode(errors="replace")
        t.ok(status.get("exited") and status.get("exitcode") == 0,
             "guest-exec-status: memoffctl exited 0", lambda: repr(status) + "\n" + out + err)
        try:
            obj = json.loads(out)
        except ValueError:
            obj = {}
        t.ok(obj.get("reached") is True and obj.get("state") == "reached",
             "out-data is JSON saying the target was reached", out + err)
        t.ok(obj.get("target") == 512 * MIB and obj.get("released", 0) >= 512 * MIB,
             "... target 512M, at least 512M released", out)
        devices = obj.get("devices") or []
        t.ok(len(devices) >= 1 and all(d.get("bytes") == 512 * MIB for d in devices),
             "... and it names the released DIMM(s) (%s)" % ", ".join(d.get("device", "?") for d in devices), out)

        deleted = []
        try:
            for _ in devices:
                ev = vm.wait_event("DEVICE_DELETED", 60,
                                   match=lambda d: d.get("device") in dimms and d.get("device") not in deleted,
                                   since=since)
                deleted.append(ev["data"]["device"])
        except Exception as e:
            t.diag(str(e))
        t.ok(devices and len(deleted) == len(devices),
             "QMP: DEVICE_DELETED for each DIMM released (%s)" % ", ".join(deleted),
             lambda: repr(vm.events[since:]))
        t.eq(sorted(dimms - set(vm.dimms_info())), sorted(deleted),
             "query-memory-devices: exactly those DIMMs are gone")
    finally:
        agent.close()
