# SPDX-License-Identifier: LGPL-2.1-or-later
"""memoff's real-kernel VM driver (python3 standard library only).

Boots Debian's kernel under ``qemu-system-x86_64 -accel tcg`` with an
initramfs built by mkinitramfs.sh, optionally with pc-dimms, and drives it:

* a command channel on the guest's second serial port (ttyS1), which the
  kernel never writes to, so kernel messages cannot interleave with it:
  ``run(cmd, timeout) -> (rc, output)``;
* QMP on a unix socket: ``qmp(cmd, **args)``, ``wait_event(name, timeout)``;
* the kernel console (ttyS0) kept in ``console.log`` in the work directory.

Every wait is bounded and QEMU is always killed on close(), on interpreter
exit, and (PR_SET_PDEATHSIG) when the driving process dies. See README.md
beside this file for the API and an example.
"""

import atexit
import base64
import ctypes
import io
import itertools
import json
import os
import re
import select
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tarfile
import tempfile
import threading
import time

__all__ = ["VM", "VMError", "GuestTimeout", "QMPError", "parse_size"]

_SIZES = {"": 1, "B": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}


def parse_size(s):
    """'512M' / '1G' / '134217728' / 0x8000000 -> bytes."""
    if isinstance(s, int):
        return s
    m = re.fullmatch(r"\s*(0x[0-9a-fA-F]+|\d+)\s*([KMGT]?)(?:i?B)?\s*", str(s))
    if not m:
        raise ValueError("bad size %r" % (s,))
    return int(m.group(1), 0) * _SIZES[m.group(2).upper()]


class VMError(Exception):
    """The VM died, did not boot, or the channel broke."""


class GuestTimeout(VMError):
    """A guest command ran past its timeout (the guest killed it with SIGKILL,
    or the guest stopped answering). ``output`` holds what it printed so far
    when the guest could report it, ``channel_lost`` tells whether the VM is
    still usable."""

    def __init__(self, msg, output="", channel_lost=False):
        super().__init__(msg)
        self.output = output
        self.channel_lost = channel_lost


class QMPError(VMError):
    """QMP answered with an error: ``klass`` and ``desc`` are QEMU's."""

    def __init__(self, cmd, err):
        self.klass = err.get("class", "")
        self.desc = err.get("desc", "")
        super().__init__("QMP %s failed: %s: %s" % (cmd, self.klass, self.desc))


def _set_pdeathsig():
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG
    except Exception:
        pass


_live = set()


@atexit.register
def _kill_all():
    for vm in list(_live):
        vm.close()


class VM:
    """One QEMU guest.

    kernel, initrd: paths (fetch-kernel.sh, mkinitramfs.sh).
    mem, slots, maxmem: boot memory and hotplug room (-m MEM,slots=,maxmem=).
    dimms: pc-dimms present at boot: sizes ('512M') or (id, size) pairs;
           ids default to d1, d2, ...; their backends are m1, m2, ...
    smp: guest CPUs. append: extra kernel command line.
    memhp: memhp_default_state= value (None leaves it out).
    extra_args: more qemu arguments ("{workdir}" in one is replaced by
    the work directory, for sockets). workdir: where sockets and logs go
    (a fresh temp dir by default, removed by close() unless keep=True or
    $MEMOFF_VM_KEEP is set). log: a file object for progress lines (or None).
    """

    GRACE = 30  # seconds the host waits past a guest-side timeout
    ACK_WAIT = 10  # seconds before a command line is sent again (until the command's deadline)

    def __init__(self, kernel, initrd, mem="1G", slots=4, maxmem="8G", dimms=(),
                 smp=1, append="", memhp="online_movable", qemu=None,
                 extra_args=(), workdir=None, boot_timeout=180, keep=None, log=None):
        self.kernel = kernel
        self.initrd = initrd
        self.mem = mem
        self.slots = slots
        self.maxmem = maxmem
        self.smp = smp
        self.append = append
        self.memhp = memhp
        self.qemu = qemu or os.environ.get("MEMOFF_VM_QEMU") or "qemu-system-x86_64"
        self.extra_args = list(extra_args)
        self.boot_timeout = boot_timeout
        self.keep = bool(os.environ.get("MEMOFF_VM_KEEP")) if keep is None else keep
        self.log = log
        self.dimms = []
        for i, d in enumerate(dimms, 1):
            if isinstance(d, (tuple, list)):
                self.dimms.append((d[0], d[1]))
            else:
                self.dimms.append(("d%d" % i, d))
        self._own_workdir = workdir is None
        self.workdir = workdir or tempfile.mkdtemp(prefix="memoff-vm-")
        os.makedirs(self.workdir, exist_ok=True)
        self.console_log = os.path.join(self.workdir, "console.log")
        self.qemu_log = os.path.join(self.workdir, "qemu.log")
        self.proc = None
        self.boot_seconds = None
        self.events = []  # every QMP event seen, in order
        self._cmd = None
        self._cmd_buf = b""
        self._seq = 0
        self._channel_lost = False
        self.resends = 0  # command lines the guest did not acknowledge
        self._qmp = None
        self._qmp_id = 0
        self._qmp_lock = threading.Lock()
        self._qmp_cv = threading.Condition()
        self._qmp_replies = {}
        self._console = None
        self._console_buf = io.BytesIO()
        self._console_lock = threading.Lock()
        self._threads = []
        self._closed = False

    # ----------------------------------------------------------------- life
    def _say(self, msg):
        if self.log:
            self.log.write("# vm: %s\n" % msg)
            self.log.flush()

    @staticmethod
    def _backend_id(dimm_id):
        m = re.fullmatch(r"d(\d+)", dimm_id)
        return "m" + m.group(1) if m else dimm_id + "-mem"

    def cmdline(self):
        parts = ["console=ttyS0"]
        if self.memhp:
            parts.append("memhp_default_state=" + self.memhp)
        parts += ["quiet", "panic=-1", "sysrq_always_enabled"]
        if self.append:
            parts.append(self.append)
        return " ".join(parts)

    def qemu_args(self):
        """The full qemu command line (without the sockets' listening side)."""
        w = self.workdir
        args = [self.qemu, "-accel", "tcg", "-nodefaults", "-nographic", "-no-reboot",
                "-machine", "pc", "-smp", str(self.smp),
                "-m", "%s,slots=%d,maxmem=%s" % (self.mem, self.slots, self.maxmem),
                "-kernel", self.kernel, "-initrd", self.initrd, "-append", self.cmdline(),
                "-chardev", "socket,id=con,path=%s" % os.path.join(w, "con.sock"),
                "-serial", "chardev:con",
                "-chardev", "socket,id=cmd,path=%s" % os.path.join(w, "cmd.sock"),
                "-serial", "chardev:cmd",
                "-chardev", "socket,id=qmp,path=%s" % os.path.join(w, "qmp.sock"),
                "-mon", "chardev=qmp,mode=control"]
        for dimm_id, size in self.dimms:
            mid = self._backend_id(dimm_id)
            args += ["-object", "memory-backend-ram,id=%s,size=%s" % (mid, size),
                     "-device", "pc-dimm,id=%s,memdev=%s" % (dimm_id, mid)]
        return args + [a.replace("{workdir}", w) for a in self.extra_args]

    def start(self):
        """Boot and wait for the guest's command loop. Returns self."""
        if shutil.which(self.qemu) is None:
            raise VMError("%s not found" % self.qemu)
        listeners = {}
        for name in ("con", "cmd", "qmp"):
            path = os.path.join(self.workdir, name + ".sock")
            if os.path.exists(path):
                os.unlink(path)
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.bind(path)
            s.listen(1)
            listeners[name] = s
        t0 = time.monotonic()
        self._say("starting: " + " ".join(shlex.quote(a) for a in self.qemu_args()))
        with open(self.qemu_log, "wb") as qlog:
            self.proc = subprocess.Popen(self.qemu_args(), stdin=subprocess.DEVNULL,
                                         stdout=qlog, stderr=subprocess.STDOUT,
                                         preexec_fn=_set_pdeathsig)
        _live.add(self)
        try:
            conns = {}
            deadline = t0 + 30
            while len(conns) < 3:
                self._check_alive()
                left = deadline - time.monotonic()
                if left <= 0:
                    raise VMError("qemu did not connect its sockets")
                ready, _, _ = select.select([s for n, s in listeners.items() if n not in conns],
                                            [], [], min(left, 0.5))
                for s in ready:
                    name = [n for n, l in listeners.items() if l is s][0]
                    conns[name] = s.accept()[0]
            for s in listeners.values():
                s.close()
            self._console = conns["con"]
            self._cmd = conns["cmd"]
            self._qmp = conns["qmp"]
            self._start_thread(self._console_reader)
            self._qmp_file = self._qmp.makefile("rb")
            self._qmp_greeting = None
            self._start_thread(self._qmp_reader)
            self.qmp("qmp_capabilities")
            self._wait_cmd_marker(b"@@MO-READY@@", t0 + self.boot_timeout, "boot")
        except BaseException:
            self.close()
            raise
        self.boot_seconds = time.monotonic() - t0
        self._say("booted in %.1f s" % self.boot_seconds)
        return self

    def _start_thread(self, fn):
        t = threading.Thread(target=fn, daemon=True)
        t.start()
        self._threads.append(t)

    def _console_reader(self):
        with open(self.console_log, "ab") as f:
            while True:
                try:
                    data = self._console.recv(65536)
                except OSError:
                    return
                if not data:
                    return
                f.write(data)
                f.flush()
                with self._console_lock:
                    self._console_buf.write(data)

    def console_text(self):
        """Everything the kernel console (ttyS0) printed so far."""
        with self._console_lock:
            return self._console_buf.getvalue().decode("utf-8", "replace")

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def _check_alive(self):
        if self.proc is None or self.proc.poll() is not None:
            tail = self.console_text()[-3000:] if self._console else ""
            try:
                with open(self.qemu_log, "r", errors="replace") as f:
                    qtail = f.read()[-2000:]
            except OSError:
                qtail = ""
            raise VMError("qemu is not running (exit %s)\n--- qemu:\n%s\n--- console tail:\n%s"
                          % (self.proc.returncode if self.proc else None, qtail, tail))

    def close(self):
        """Kill QEMU (if running) and clean up. Safe to call twice."""
        if self._closed:
            return
        self._closed = True
        _live.discard(self)
        if self.proc is not None and self.proc.poll() is None:
            try:
                self.proc.kill()
            except OSError:
                pass
        if self.proc is not None:
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass
        for s in (self._cmd, self._qmp, self._console):
            if s is not None:
                try:
                    s.close()
                except OSError:
                    pass
        for t in self._threads:
            t.join(timeout=2)
        if self._own_workdir and not self.keep:
            shutil.rmtree(self.workdir, ignore_errors=True)
        elif self.keep:
            self._say("kept %s" % self.workdir)

    def __enter__(self):
        if self.proc is None:
            self.start()
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    # ------------------------------------------------------ command channel
    def _wait_cmd_marker(self, marker, deadline, what):
        while True:
            i = self._cmd_buf.find(marker)
            if i >= 0:
                self._cmd_buf = self._cmd_buf[i + len(marker):]
                return
            self._recv_cmd(deadline, what)

    def _recv_cmd(self, deadline, what):
        left = deadline - time.monotonic()
        if left <= 0:
            raise GuestTimeout("timed out waiting for %s" % what, channel_lost=True)
        ready, _, _ = select.select([self._cmd], [], [], min(left, 0.5))
        if not ready:
            self._check_alive()
            return
        data = self._cmd.recv(65536)
        if not data:
            self._check_alive()
            raise VMError("command channel closed")
        self._cmd_buf += data

    def run_bytes(self, cmd, timeout=60):
        """Like run(), output as bytes."""
        if self._channel_lost:
            raise VMError("command channel lost after an earlier timeout")
        self._check_alive()
        self._seq += 1
        cid = "%d" % self._seq
        script = cmd if isinstance(cmd, bytes) else cmd.encode()
        t = max(1, int(timeout + 0.999))
        b64 = base64.b64encode(script)
        line = b"MO %s %d %d %s\n" % (cid.encode(), t, len(b64), b64)
        deadline = time.monotonic() + t + self.GRACE
        ack = b"@@MO-ACK " + cid.encode() + b"@@"
        begin = b"@@MO-BEGIN " + cid.encode() + b"@@\n"
        end_re = re.compile(rb"@@MO-END " + cid.encode() + rb" rc=(\d+) to=(\d)@@")
        try:
            # The guest acknowledges a line as soon as it has read it whole;
            # a line that lost bytes is dropped there and sent again here
            # (the guest runs an id only once). A guest that is only slow
            # (TCG on a loaded host) gets until the command's deadline.
            sent_at = time.monotonic()
            for attempt in itertools.count():
                self._cmd.sendall((b"\n" if attempt else b"") + line)
                try:
                    self._wait_cmd_marker(ack, min(deadline, time.monotonic() + self.ACK_WAIT),
                                          "the guest to read command %s" % cid)
                    break
                except GuestTimeout:
                    if time.monotonic() >= deadline:
                        raise GuestTimeout("guest never acknowledged command %s" % cid) from None
                    self.resends += 1
                    self._say("command %s not acknowledged after %.0f s, sending it again"
                              % (cid, time.monotonic() - sent_at))
            self._wait_cmd_marker(begin, deadline, "command %s" % cid)
            while True:
                m = end_re.search(self._cmd_buf)
                if m:
                    break
                self._recv_cmd(deadline, "command %s" % cid)
        except GuestTimeout as e:
            self._channel_lost = True
            raise GuestTimeout("guest did not answer %r within %ds (+%ds)\n%s"
                               % (_short(cmd), t, self.GRACE, self._stuck_report()),
                               channel_lost=True) from e
        body = self._cmd_buf[:m.start()]
        self._cmd_buf = self._cmd_buf[m.end():]
        out = base64.b64decode(b"".join(body.split()))
        rc, to = int(m.group(1)), m.group(2) == b"1"
        if to:
            raise GuestTimeout("guest command timed out after %ds: %r" % (t, _short(cmd)),
                               output=out.decode("utf-8", "replace"))
        return rc, out

    def _stuck_report(self):
        """What can be learnt of a guest that stopped answering: its
        blocked tasks and the running CPU's backtrace (SysRq-w and -l on the
        PS/2 keyboard; the kernel runs with sysrq_always_enabled), in the
        console's tail."""
        try:
            for what in ("w", "l"):   # blocked tasks, then what the CPU is running
                self.execute("send-key", {"keys": [{"type": "qcode", "data": k}
                                                   for k in ("alt", "sysrq", what)]}, timeout=5)
                time.sleep(3)
        except Exception as e:  # the diagnosis must not hide the timeout
            return "(no SysRq: %s)" % e
        return "--- console tail:\n" + self.console_text()[-6000:]

    def run(self, cmd, timeout=60):
        """Run a busybox sh script in the guest as root, in /, stdin from
        /dev/null; wait at most `timeout` s. Returns (exit status, stdout and
        stderr merged as text). Each call is a fresh shell (no state carries
        over). On timeout the guest SIGKILLs the script and GuestTimeout is
        raised. Background jobs must redirect their own output."""
        rc, out = self.run_bytes(cmd, timeout)
        return rc, out.decode("utf-8", "replace")

    def sh(self, cmd, timeout=60):
        """run(), raising VMError unless the status is 0; returns the output."""
        rc, out = self.run(cmd, timeout)
        if rc != 0:
            raise VMError("guest command failed (rc=%d): %r\n%s" % (rc, _short(cmd), out))
        return out

    def spawn(self, cmd, name):
        """Start `cmd` in the background in the guest (its own session), its
        output in /tmp/NAME.out. Returns its pid. Kill it with kill(pid)."""
        out = self.sh("setsid sh -c %s > /tmp/%s.out 2>&1 < /dev/null & echo $!"
                      % (shlex.quote(cmd), name), timeout=30)
        return int(out.strip().splitlines()[-1])

    def wait_output(self, path, pattern, timeout=60, interval=0.5):
        """Poll a guest file until a line matches `pattern` (a regex);
        returns the whole file's text. Raises GuestTimeout."""
        rx = re.compile(pattern, re.M)
        deadline = time.monotonic() + timeout
        text = ""
        while time.monotonic() < deadline:
            rc, text = self.run("cat %s 2>/dev/null" % shlex.quote(path), timeout=30)
            if rx.search(text):
                return text
            time.sleep(interval)
        raise GuestTimeout("%s never matched %r" % (path, pattern), output=text)

    def kill(self, pid, sig="TERM"):
        self.run("kill -%s %d 2>/dev/null" % (sig, pid), timeout=30)

    def read_file(self, path, timeout=60):
        """The bytes of a guest file (raises VMError when unreadable)."""
        rc, out = self.run_bytes("cat %s" % shlex.quote(path), timeout)
        if rc != 0:
            raise VMError("cannot read %s in the guest: %s" % (path, out.decode(errors="replace")))
        return out

    def write_file(self, path, data, mode=0o644, timeout=60):
        """Create or replace a guest file with `data` (bytes or str)."""
        if isinstance(data, str):
            data = data.encode()
        q = shlex.quote(path)
        tmp = shlex.quote(path + ".part")
        self.sh(": > %s" % tmp, timeout)
        chunk = 48 * 1024
        for i in range(0, len(data), chunk):
            b64 = base64.b64encode(data[i:i + chunk]).decode()
            self.sh("printf %%s %s | base64 -d >> %s" % (b64, tmp), timeout)
        self.sh("chmod %o %s && mv %s %s" % (mode, tmp, tmp, q), timeout)

    def copy_tree_out(self, guest_dir, host_dir, timeout=120):
        """Copy a guest directory tree (symlinks kept as symlinks) into
        host_dir, which is created."""
        rc, out = self.run_bytes("tar -C %s -cf - ." % shlex.quote(guest_dir), timeout)
        if rc != 0:
            raise VMError("tar of %s failed in the guest: %s" % (guest_dir, out[-500:]))
        os.makedirs(host_dir, exist_ok=True)
        with tarfile.open(fileobj=io.BytesIO(out)) as tf:
            if hasattr(tarfile, "tar_filter"):
                tf.extractall(host_dir, filter="tar")
            else:
                tf.extractall(host_dir)

    # ----------------------------------------------------------------- QMP
    def _qmp_reader(self):
        while True:
            try:
                line = self._qmp_file.readline()
            except (OSError, ValueError):
                break  # QEMU went away, or close() closed the socket
            if not line:
                break
            try:
                msg = json.loads(line)
            except ValueError:
                continue
            with self._qmp_cv:
                if "QMP" in msg:
                    self._qmp_greeting = msg
                elif "event" in msg:
                    self.events.append(msg)
                elif "id" in msg:
                    self._qmp_replies[msg["id"]] = msg
                self._qmp_cv.notify_all()
        with self._qmp_cv:
            self._qmp_cv.notify_all()

    def execute(self, cmd, args=None, timeout=30):
        """Send one QMP command; returns its "return" value, raises QMPError."""
        with self._qmp_lock:
            self._qmp_id += 1
            qid = self._qmp_id
            msg = {"execute": cmd, "id": qid}
            if args:
                msg["arguments"] = args
            self._qmp.sendall(json.dumps(msg).encode() + b"\n")
        deadline = time.monotonic() + timeout
        with self._qmp_cv:
            while qid not in self._qmp_replies:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise VMError("QMP %s: no answer in %ds" % (cmd, timeout))
                if not self.alive():
                    self._check_alive()
                self._qmp_cv.wait(min(left, 0.5))
            reply = self._qmp_replies.pop(qid)
        if "error" in reply:
            raise QMPError(cmd, reply["error"])
        return reply.get("return")

    def qmp(self, cmd, **args):
        """execute() with keyword arguments ('-' for '_' in names)."""
        return self.execute(cmd, {k.replace("_", "-"): v for k, v in args.items()} or None)

    def wait_event(self, name, timeout, match=None, since=0):
        """Wait for a QMP event called `name` among events[since:] whose
        "data" contains every key/value of `match` (a dict), or for which
        `match(data)` is true (a callable). Returns the event; raises
        VMError after `timeout` seconds."""
        deadline = time.monotonic() + timeout
        with self._qmp_cv:
            while True:
                for ev in self.events[since:]:
                    if ev.get("event") != name:
                        continue
                    data = ev.get("data", {})
                    if callable(match):
                        if match(data):
                            return ev
                    elif all(data.get(k) == v for k, v in (match or {}).items()):
                        return ev
                left = deadline - time.monotonic()
                if left <= 0:
                    raise VMError("no QMP event %s %s within %ss" % (name, match or "", timeout))
                self._qmp_cv.wait(min(left, 0.5))

    # ------------------------------------------------------------- memory
    def hotplug_dimm(self, dimm_id, size, node=None):
        """object-add a RAM backend and device_add a pc-dimm on it."""
        mid = self._backend_id(dimm_id)
        self.execute("object-add", {"qom-type": "memory-backend-ram", "id": mid,
                                    "size": parse_size(size)})
        dev = {"driver": "pc-dimm", "id": dimm_id, "memdev": mid}
        if node is not None:
            dev["node"] = node
        self.execute("device_add", dev)

    def unplug_dimm(self, dimm_id):
        """device_del a pc-dimm (asynchronous: wait_event('DEVICE_DELETED',
        match={'device': dimm_id}) tells when the guest let go of it).
        Returns the index into self.events to pass as `since`."""
        since = len(self.events)
        self.execute("device_del", {"id": dimm_id})
        return since

    def dimms_info(self):
        """{dimm id: {'addr': int, 'size': int, 'slot': int, 'node': int}}
        from QMP query-memory-devices."""
        out = {}
        for d in self.execute("query-memory-devices"):
            data = d.get("data", {})
            if d.get("type") == "dimm" and "id" in data:
                out[data["id"]] = {"addr": data["addr"], "size": data["size"],
                                   "slot": data.get("slot"), "node": data.get("node")}
        return out

    def block_size(self):
        """The guest's memory block size in bytes."""
        return int(self.sh("cat /sys/devices/system/memory/block_size_bytes").strip(), 16)

    def dimm_blocks(self, dimm_id):
        """The memory block numbers a DIMM spans (from its QMP address)."""
        d = self.dimms_info()[dimm_id]
        bs = self.block_size()
        return list(range(d["addr"] // bs, (d["addr"] + d["size"]) // bs))

    def blocks(self):
        """{block number: {'state': 'online'|'offline'|..., 'zones': valid_zones}}."""
        out = self.sh("cd /sys/devices/system/memory && for d in memory[0-9]*; do "
                      "echo \"${d#memory} $(cat $d/state) $(cat $d/valid_zones 2>/dev/null)\"; "
                      "done")
        res = {}
        for line in out.splitlines():
            f = line.split(None, 2)
            if len(f) >= 2 and f[0].isdigit():
                res[int(f[0])] = {"state": f[1], "zones": f[2] if len(f) > 2 else ""}
        return res

    def diagnose(self, wait=5):
        """Ask the guest kernel for its blocked tasks and every task's stack
        (SysRq w and t, through the emulated keyboard, so it works while the
        command channel is stuck); returns the console text that followed."""
        start = len(self.console_text())
        for key in ("w", "t"):
            try:
                self.execute("human-monitor-command",
                             {"command-line": "sendkey alt-sysrq-" + key}, timeout=10)
            except VMError:
                pass
        time.sleep(wait)
        return self.console_text()[start:]

    def wait_until(self, fn, timeout, interval=0.5, what="condition"):
        """Poll fn() (host side) until it returns a true value; return it.
        Raises VMError after `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while True:
            v = fn()
            if v:
                return v
            if time.monotonic() >= deadline:
                raise VMError("timed out after %ss waiting for %s" % (timeout, what))
            time.sleep(interval)


def _short(cmd, n=120):
    s = cmd.decode(errors="replace") if isinstance(cmd, bytes) else cmd
    s = " ".join(s.split())
    return s if len(s) <= n else s[:n] + "..."


def main(argv=None):
    """vm.py --kernel K --initrd I [--dimm SIZE]... [--append X] [CMD]...:
    boot, run each CMD in the guest printing its output, exit with the last
    status. For poking at the guest by hand."""
    import argparse
    ap = argparse.ArgumentParser(description=main.__doc__)
    ap.add_argument("--kernel", required=True)
    ap.add_argument("--initrd", required=True)
    ap.add_argument("--dimm", action="append", default=[])
    ap.add_argument("--smp", type=int, default=1)
    ap.add_argument("--append", default="")
    ap.add_argument("--timeout", type=int, default=120)
    ap.add_argument("cmds", nargs="*")
    a = ap.parse_args(argv)
    rc = 0
    with VM(a.kernel, a.initrd, dimms=a.dimm, smp=a.smp, append=a.append, log=sys.stderr) as vm:
        for c in a.cmds:
            rc, out = vm.run(c, timeout=a.timeout)
            sys.stdout.write(out)
            sys.stdout.flush()
    return rc


if __name__ == "__main__":
    sys.exit(main())
