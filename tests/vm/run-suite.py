#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""The real-kernel VM suite's TAP runner.

    run-suite.py [PATTERN]...

Runs every tests/vm/scenarios/NN-name.py (or those whose name contains one of
the PATTERNs, or matches $MEMOFF_VM_SCENARIOS, a comma-separated list), each
in a fresh VM, and prints TAP: one test point per assertion, the plan at the
end. Prints `1..0 # SKIP reason` and exits 0 when QEMU or the kernel cannot be
had, or when $MEMOFF_VM_SUITE=0.

The guest image holds the project's binaries found under $top_builddir
(src/memoffctl/memoffctl, src/memoffd/memoffd, tests/vm/pinner), lsmem and
chmem from this machine, and tests/sysfs-trees/capture.sh as
/usr/share/memoff/capture.sh. $MEMOFF_VM_CACHE is where the kernel is cached
(default $top_builddir/tests/vm/cache). $MEMOFF_VM_KEEP=1 keeps each VM's
work directory (console.log, qemu.log). $MEMOFF_VM_JOBS is how many
scenarios (VMs) run at once (default: 2 on a machine with 2 or more CPUs, a
TCG guest keeps one busy); their TAP is printed in scenario order. See README.md.
"""

import glob
import importlib.util
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import traceback

# Leave no __pycache__ in the source tree (it may be read-only, too).
sys.dont_write_bytecode = True
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import vm as vmmod  # noqa: E402

TOP_SRCDIR = os.environ.get("top_srcdir") or os.path.dirname(os.path.dirname(HERE))
TOP_BUILDDIR = os.environ.get("top_builddir") or TOP_SRCDIR

# name in the guest -> path under $top_builddir
BINARIES = {
    "memoffctl": "src/memoffctl/memoffctl",
    "memoffd": "src/memoffd/memoffd",
    "pinner": "tests/vm/pinner",
}


class ScenarioTimeout(Exception):
    pass


class Tap:
    """What a scenario asserts with. Every assertion is one TAP point,
    named "<scenario>: <name>"."""

    def __init__(self, out=sys.stdout):
        self.out = out
        self.n = 0
        self.failed = 0
        self.skipped = 0
        self.prefix = ""
        # Set per scenario by the runner:
        self.binaries = {}          # guest name -> host path, what the image holds
        self.srcdir = TOP_SRCDIR
        self.builddir = TOP_BUILDDIR
        self.outdir = None          # a host directory for this scenario's artifacts
        self._vms = []
        self._vm_args = None

    def _emit(self, s):
        self.out.write(s + "\n")
        self.out.flush()

    def diag(self, msg):
        """A comment line (or several) in the TAP stream."""
        for line in str(msg).splitlines() or [""]:
            self._emit("# " + line)

    def ok(self, cond, name, diag=None, todo=None):
        """One test point: passes when cond is true. On failure `diag` (a
        string, or a callable returning one) is printed below it. `todo`
        (a reason: a known bug, named where it is tracked) makes it a TAP
        TODO point: a failure is expected and not counted, a pass is an
        unexpected pass (XPASS, which make check reports as an error)."""
        self.n += 1
        name = (self.prefix + name).replace("#", "\\#")
        if todo:
            self._emit("%s %d - %s # TODO %s" % ("ok" if cond else "not ok", self.n, name, todo))
            if not cond and diag is not None:
                self.diag(diag() if callable(diag) else diag)
            return bool(cond)
        if cond:
            self._emit("ok %d - %s" % (self.n, name))
        else:
            self.failed += 1
            self._emit("not ok %d - %s" % (self.n, name))
            if diag is not None:
                self.diag(diag() if callable(diag) else diag)
        return bool(cond)

    def eq(self, got, want, name):
        return self.ok(got == want, name, lambda: "got:  %r\nwant: %r" % (got, want))

    def match(self, pattern, text, name):
        """Passes when the regex `pattern` matches somewhere in `text`
        (multiline); returns the match object."""
        m = re.search(pattern, text, re.M)
        self.ok(m is not None, name, lambda: "no match for %r in:\n%s" % (pattern, text[-3000:]))
        return m

    def skip(self, name, reason):
        self.n += 1
        self.skipped += 1
        self._emit("ok %d - %s%s # SKIP %s" % (self.n, self.prefix, name.replace("#", "\\#"), reason))

    def new_vm(self, **kw):
        """Boot another VM with the suite's kernel and image (VM() keyword
        arguments override); it is closed when the scenario ends."""
        args = dict(self._vm_args)
        args.update(kw)
        v = vmmod.VM(**args)
        self._vms.append(v)
        return v.start()

    def _close_vms(self):
        for v in self._vms:
            v.close()
        self._vms = []


def skip_all(reason):
    print("1..0 # SKIP %s" % reason)
    sys.stdout.flush()
    sys.exit(0)


def fetch_kernel(cache):
    r = subprocess.run(["sh", os.path.join(HERE, "fetch-kernel.sh"), cache],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=600)
    for line in r.stderr.splitlines():
        print("# " + line)
    if r.returncode != 0:
        why = [l for l in r.stderr.splitlines() if "SKIP" in l or l.strip()]
        skip_all("no kernel for the VM suite (%s)" % (why[-1] if why else "fetch-kernel.sh failed"))
    return r.stdout.strip().splitlines()[-1]


def build_initramfs(out, binaries):
    args = ["sh", os.path.join(HERE, "mkinitramfs.sh"), out]
    capture = os.path.join(TOP_SRCDIR, "tests", "sysfs-trees", "capture.sh")
    if os.path.exists(capture):
        args += ["--add", capture + ":/usr/share/memoff/capture.sh"]
    args += list(binaries.values())
    r = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                       timeout=300)
    for line in r.stdout.splitlines():
        print("# " + line)
    if r.returncode == 77:
        skip_all("cannot build the guest image (%s)" % r.stdout.strip().splitlines()[-1])
    if r.returncode != 0:
        print("Bail out! mkinitramfs.sh failed")
        sys.exit(1)


def load_scenario(path):
    name = os.path.splitext(os.path.basename(path))[0]
    spec = importlib.util.spec_from_file_location("scenario_" + re.sub(r"\W", "_", name), path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return name, mod


def on_alarm(signum, frame):
    raise ScenarioTimeout("scenario ran past its TIMEOUT")


def main():
    if os.environ.get("MEMOFF_VM_SUITE", "1") == "0":
        skip_all("MEMOFF_VM_SUITE=0")
    qemu = os.environ.get("MEMOFF_VM_QEMU") or "qemu-system-x86_64"
    if shutil.which(qemu) is None:
        skip_all("%s not found (apt-get install qemu-system-x86)" % qemu)

    scenarios = select_scenarios(os.path.join(HERE, "scenarios"))
    cache, work = cache_and_work()
    kernel = fetch_kernel(cache)

    binaries = guest_binaries()
    print("# guest binaries: %s" % (", ".join(sorted(binaries)) or "none"))
    initrd = os.path.join(work, "initramfs.gz")
    build_initramfs(initrd, binaries)

    return run_all("VM suite", scenarios, kernel, initrd, qemu, work)


def select_scenarios(directory):
    """The NN-name.py files of `directory` that the command line's patterns
    and $MEMOFF_VM_SCENARIOS select (all without either); skips all when
    none is."""
    patterns = sys.argv[1:]
    if os.environ.get("MEMOFF_VM_SCENARIOS"):
        patterns += [p for p in os.environ["MEMOFF_VM_SCENARIOS"].split(",") if p]
    scenarios = sorted(glob.glob(os.path.join(directory, "[0-9][0-9]-*.py")))
    if patterns:
        scenarios = [s for s in scenarios if any(p in os.path.basename(s) for p in patterns)]
    if not scenarios:
        skip_all("no scenario selected")
    return scenarios


def cache_and_work():
    """($MEMOFF_VM_CACHE or the build tree's cache, the work directory)."""
    cache = os.environ.get("MEMOFF_VM_CACHE") or os.path.join(TOP_BUILDDIR, "tests", "vm", "cache")
    work = os.path.join(TOP_BUILDDIR, "tests", "vm", "work")
    os.makedirs(work, exist_ok=True)
    return cache, work


def run_all(label, scenarios, kernel, initrd, qemu, work):
    """Run the scenarios ($MEMOFF_VM_JOBS at once), print the plan and a
    summary line; returns the exit status."""
    jobs = int(os.environ.get("MEMOFF_VM_JOBS") or (2 if (os.cpu_count() or 1) >= 2 else 1))
    suite_start = time.monotonic()
    if jobs > 1 and len(scenarios) > 1:
        n, failed, skipped = run_parallel(scenarios, jobs, kernel, initrd, work)
    else:
        t = Tap()
        t.binaries = guest_binaries()
        run_scenarios(t, scenarios, kernel, initrd, qemu, work)
        n, failed, skipped = t.n, t.failed, t.skipped
    print("1..%d" % n)
    print("# %s: %d points, %d failed, %d skipped, %.1f s, %d at once"
          % (label, n, failed, skipped, time.monotonic() - suite_start, max(1, jobs)))
    return 1 if failed else 0


def guest_binaries():
    binaries = {}
    for name, rel in BINARIES.items():
        p = os.path.join(TOP_BUILDDIR, rel)
        if os.path.isfile(p) and os.access(p, os.X_OK):
            binaries[name] = p
    return binaries


TAP_POINT = re.compile(r"^(not ok|ok) \d+(.*)$")


def run_parallel(scenarios, jobs, kernel, initrd, work):
    """Run each scenario in a child runner (`--one`), `jobs` at a time, and
    print their TAP in scenario order, renumbered. Returns (points, failed,
    skipped)."""
    pending = list(scenarios)
    running = []   # (path, Popen, out path, deadline)
    done = {}

    def stop_children(signum=None, frame=None):
        for _, p, _, _ in running:
            try:
                os.killpg(p.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        if signum is not None:
            sys.exit(128 + signum)

    signal.signal(signal.SIGTERM, stop_children)
    try:
        _run_parallel_loop(pending, running, done, jobs, kernel, initrd, work)
    finally:
        stop_children()
    return _print_parallel(scenarios, done)


def _run_parallel_loop(pending, running, done, jobs, kernel, initrd, work):
    while pending or running:
        while pending and len(running) < jobs:
            path = pending.pop(0)
            name = os.path.splitext(os.path.basename(path))[0]
            out = os.path.join(work, name + ".tap")
            f = open(out, "w")
            env = dict(os.environ, MEMOFF_VM_KERNEL=kernel, MEMOFF_VM_INITRD=initrd)
            p = subprocess.Popen([sys.executable, os.path.abspath(__file__), "--one", path],
                                 stdout=f, stderr=subprocess.STDOUT, env=env,
                                 start_new_session=True)
            f.close()
            mod = None
            try:
                _, mod = load_scenario(path)
            except Exception:
                pass  # the child reports it
            limit = int(getattr(mod, "TIMEOUT", 300)) + 120
            running.append((path, p, out, time.monotonic() + limit))
        time.sleep(0.5)
        for item in list(running):
            path, p, out, deadline = item
            if p.poll() is None and time.monotonic() > deadline:
                # The child's own alarm did not end it: kill its whole group.
                try:
                    os.killpg(p.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                p.wait()
                with open(out, "a") as f:
                    f.write("not ok 1 - %s: the scenario's runner was killed past its TIMEOUT\n"
                            % os.path.basename(path))
            if p.poll() is not None:
                running.remove(item)
                done[path] = out


def _print_parallel(scenarios, done):
    n = failed = skipped = 0
    for path in scenarios:
        with open(done[path]) as f:
            lines = f.read().splitlines()
        points = 0
        for line in lines:
            m = TAP_POINT.match(line)
            if m:
                n += 1
                points += 1
                if m.group(1) == "not ok" and "# TODO" not in m.group(2):
                    failed += 1
                elif "# SKIP" in m.group(2):
                    skipped += 1
                print("%s %d%s" % (m.group(1), n, m.group(2)))
            elif line.startswith("1.."):
                continue
            elif line.startswith("#"):
                print(line)
            elif line.strip():
                print("# " + line)
        if points == 0:
            n += 1
            failed += 1
            print("not ok %d - %s: ran and reported" % (n, os.path.basename(path)))
        sys.stdout.flush()
    return n, failed, skipped


def run_one(path):
    """Child mode: one scenario with the kernel and image the parent made."""
    qemu = os.environ.get("MEMOFF_VM_QEMU") or "qemu-system-x86_64"
    work = os.path.join(TOP_BUILDDIR, "tests", "vm", "work")
    t = Tap()
    t.binaries = guest_binaries()
    run_scenarios(t, [path], os.environ["MEMOFF_VM_KERNEL"], os.environ["MEMOFF_VM_INITRD"],
                  qemu, work)
    print("1..%d" % t.n)
    return 1 if t.failed else 0


def run_scenarios(t, scenarios, kernel, initrd, qemu, work):
    signal.signal(signal.SIGALRM, on_alarm)
    for path in scenarios:
        try:
            name, mod = load_scenario(path)
        except Exception:
            name = os.path.basename(path)
            t.prefix = ""
            t.ok(False, "%s: loads" % name, traceback.format_exc())
            continue
        t.prefix = name + ": "
        t.outdir = os.path.join(work, name)
        shutil.rmtree(t.outdir, ignore_errors=True)
        os.makedirs(t.outdir)
        missing = [b for b in getattr(mod, "REQUIRES", ()) if b not in t.binaries]
        if missing:
            t.skip("all", "not built: %s" % ", ".join(missing))
            continue
        t._vm_args = dict(kernel=kernel, initrd=initrd, qemu=qemu,
                          dimms=getattr(mod, "DIMMS", ()), smp=getattr(mod, "SMP", 1),
                          append=getattr(mod, "APPEND", ""), log=sys.stdout)
        t._vm_args.update(getattr(mod, "VM_ARGS", {}))
        t.diag("scenario %s: %s" % (name, (mod.__doc__ or "").strip().splitlines()[0]
                                    if mod.__doc__ else ""))
        start = time.monotonic()
        signal.alarm(int(getattr(mod, "TIMEOUT", 300)))
        v = None
        try:
            v = vmmod.VM(**t._vm_args)
            t._vms.append(v)
            v.start()
            t.diag("boot took %.1f s" % v.boot_seconds)
            mod.run(t, v)
        except BaseException as e:
            signal.alarm(0)
            if isinstance(e, KeyboardInterrupt):
                t._close_vms()
                raise
            tail = ""
            if v is not None and v._console is not None:
                tail = "\n--- console tail:\n" + v.console_text()[-2000:]
            t.ok(False, "runs to the end", "%s%s" % (traceback.format_exc(), tail))
        finally:
            signal.alarm(0)
            t._close_vms()
        t.diag("scenario %s took %.1f s" % (name, time.monotonic() - start))
    t.prefix = ""


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--one":
        sys.exit(run_one(sys.argv[2]))
    sys.exit(main())
