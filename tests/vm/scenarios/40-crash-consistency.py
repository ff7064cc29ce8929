# SPDX-License-Identifier: LGPL-2.1-or-later
"""Crash consistency: kill -9 of memoffd at random points of offline jobs, 20 times.

Each round starts memoffd, hands it an offline job over the DIMM's blocks
(one of them pinned, so the job spins, times out, backs off and retries
while the others go offline), kills the daemon with SIGKILL after a random
delay measured in the guest, and restarts it. What an operator must be able
to rely on afterwards:

  - no block is left going-offline (the kernel rolls an interrupted offline
    back; nothing in memoffd may leave a block half way);
  - every job the daemon ever listed is still listed (but for the oldest
    beyond the 32 it keeps), and finished: none is left queued or running
    after the restart;
  - for the job that was running, each block's recorded outcome agrees with
    sysfs ("done" = offline; "interrupted" names the state read back, which
    is the real one; any failure = still online).

Then the round puts the blocks back online through the daemon. The delays
come from a seeded generator: MEMOFF_VM_SEED=N repeats a run; the seed is
printed.
"""

import json
import os
import random
import re
import time

REQUIRES = ["memoffd", "memoffctl", "pinner"]
DIMMS = ["512M"]
TIMEOUT = 1200
ROUNDS = int(os.environ.get("MEMOFF_VM_CRASH_ROUNDS", "20"))

MEM = "/sys/devices/system/memory"
KEEP_FINISHED = 32


def states(vm, blocks):
    out = vm.sh("for b in %s; do echo $b $(cat %s/memory$b/state); done"
                % (" ".join(map(str, blocks)), MEM))
    return {int(a): b for a, b in (l.split() for l in out.splitlines() if l.strip())}


def start_daemon(vm, name):
    pid = vm.spawn("memoffd", name)
    vm.wait_output("/tmp/%s.out" % name, r"Ready:", timeout=90)
    return pid


def jobs(vm):
    rc, out = vm.run("memoffctl jobs -J", timeout=60)
    try:
        return json.loads(out)["jobs"]
    except (ValueError, KeyError, TypeError):
        return None


def watch(vm, job_id):
    rc, out = vm.run("memoffctl watch %d -J 2>/dev/null" % job_id, timeout=60)
    try:
        return json.loads(out)
    except ValueError:
        return None


def run(t, vm):
    rc, _ = vm.run("memoffctl offline --help", timeout=30)
    if rc != 0:
        t.skip("all", "memoffctl has no offline verb in this build")
        return
    seed = int(os.environ.get("MEMOFF_VM_SEED", "0")) or random.randrange(1, 1 << 30)
    rng = random.Random(seed)
    t.diag("seed %d (MEMOFF_VM_SEED=%d repeats these kill points), %d rounds" % (seed, seed, ROUNDS))

    bs = vm.block_size()
    info = vm.dimms_info()["d1"]
    dimm = list(range(info["addr"] // bs, (info["addr"] + info["size"]) // bs))
    pinned = dimm[len(dimm) // 2]
    ppid = vm.spawn("pinner --pin-block %d" % pinned, "pin")
    text = vm.wait_output("/tmp/pin.out", r"^(READY|NOTFOUND)", timeout=240)
    t.match(r"^PIN .* block=%d$" % pinned, text, "pinner pinned a page in block %d" % pinned)
    t.diag("DIMM blocks %s, block %d pinned" % (dimm, pinned))

    acknowledged = set()     # job ids the client was told about
    seen = set()             # job ids listed after the previous restart
    client_rc, stuck_clients = {}, []
    taken = 0                # rounds whose request the daemon had taken before the kill
    failures = {"going-offline": [], "lost": [], "unfinished": [], "mismatch": [], "restart": [],
                "reset": []}
    kill_points = []
    for rnd in range(1, ROUNDS + 1):
        name = "memoffd-%d" % rnd
        try:
            pid = start_daemon(vm, name)
        except Exception as e:
            failures["restart"].append("round %d: %s" % (rnd, e))
            break
        # Kill the daemon D µs after the request, timed in the guest; then
        # wait for the client (which loses its connection) to exit.
        delay_us = rng.randrange(0, 4000000)
        kill_points.append(delay_us / 1e6)
        rc, out = vm.run(
            "memoffctl offline -b %d-%d --attempt-timeout 1s --deadline 20s > /tmp/off-%d.out 2>&1 & c=$!; "
            "usleep %d; kill -9 %d; while kill -0 %d 2>/dev/null; do usleep 10000; done; "
            "i=0; while kill -0 $c 2>/dev/null && [ $i -lt 100 ]; do usleep 100000; i=$((i+1)); done; "
            "if kill -0 $c 2>/dev/null; then echo CLIENT-STILL-RUNNING; kill -9 $c; fi; "
            "wait $c; echo CLIENT-RC=$?"
            % (dimm[0], dimm[-1], rnd, delay_us, pid, pid), timeout=120)
        m = re.search(r"CLIENT-RC=(\d+)", out)
        client_rc[int(m.group(1)) if m else -1] = client_rc.get(int(m.group(1)) if m else -1, 0) + 1
        if "CLIENT-STILL-RUNNING" in out:
            stuck_clients.append(rnd)

        # 1. nothing half way, right after the kill
        st = states(vm, dimm)
        bad = [b for b, s in st.items() if s not in ("online", "offline")]
        if bad:
            failures["going-offline"].append("round %d (kill after %.2f s): %s"
                                              % (rnd, delay_us / 1e6, {b: st[b] for b in bad}))

        # 2. restart: every job listed before is still there, all finished
        try:
            pid = start_daemon(vm, name + "-restart")
        except Exception as e:
            failures["restart"].append("round %d: %s" % (rnd, e))
            break
        out = vm.run("cat /tmp/off-%d.out" % rnd, timeout=30)[1]
        for m in re.finditer(r"/org/memoff/job/(\d+)|\bjob (\d+)\b", out):
            acknowledged.add(int(m.group(1) or m.group(2)))
        listed = jobs(vm)
        if listed is None:
            failures["restart"].append("round %d: memoffctl jobs -J gave no JSON" % rnd)
            break
        ids = {j["id"] for j in listed}
        before = set(seen)
        # memoffd forgets the oldest finished jobs beyond the last 32
        # (KEEP_FINISHED in src/memoffd/jobs.c): only those may go.
        floor = min(ids) if len(ids) >= KEEP_FINISHED else 0
        lost = sorted(i for i in (acknowledged | seen) - ids if i >= floor)
        if lost:
            failures["lost"].append("round %d: jobs %s listed or acknowledged before, gone now; listed: %s\n%s"
                                    % (rnd, lost, sorted(ids),
                                       vm.run("tail -5 /tmp/%s-restart.out; head -3 /var/lib/memoff/jobs"
                                              % name, timeout=30)[1]))
        seen |= ids
        for j in listed:
            if j["state"] != "finished":
                failures["unfinished"].append("round %d: job %d is %s after the restart"
                                              % (rnd, j["id"], j["state"]))

        # 3. this round's offline job (none when the kill came before the
        # daemon took the request): its outcomes agree with sysfs
        offs = [j for j in listed if j["kind"] == "offline" and j["id"] not in before]
        st = states(vm, dimm)
        if offs:
            taken += 1
            last = max(offs, key=lambda j: j["id"])
            w = watch(vm, last["id"]) or {}
            for b in w.get("blocks", []):
                blk, outcome, reason = b.get("block"), b.get("outcome"), b.get("reason", "")
                real = st.get(blk)
                if real is None:
                    continue
                if outcome == "done":
                    ok = real == "offline"
                elif outcome == "interrupted":
                    m = re.search(r"the block is (\S+)", reason or "")
                    ok = m is not None and m.group(1).rstrip(".,;") == real
                else:
                    ok = real == "online"
                if not ok:
                    failures["mismatch"].append("round %d: job %d block %d outcome %s (%s), sysfs %s"
                                                % (rnd, last["id"], blk, outcome, reason, real))

        # 4. back online for the next round, through the daemon
        off = [b for b, s in st.items() if s == "offline"]
        for b in off:
            vm.run("memoffctl online -b %d" % b, timeout=120)
        st = states(vm, dimm)
        if any(s != "online" for s in st.values()):
            failures["reset"].append("round %d: %s" % (rnd, st))
            vm.run("for b in %s; do echo online_movable > %s/memory$b/state; done"
                   % (" ".join(map(str, dimm)), MEM), timeout=60)
        vm.kill(pid, "TERM")
        vm.wait_until(lambda: vm.run("kill -0 %d" % pid, timeout=10)[0] != 0, 60,
                      what="memoffd stopped")

    t.diag("kill points (s after the request): %s"
           % ", ".join("%.2f" % k for k in kill_points))
    t.diag("jobs listed at the end: %d; rounds whose offline job existed at the kill: %d of %d"
           % (len(seen), taken, len(kill_points)))
    t.diag("memoffctl exit codes after the kill: %s; still running 10 s later (killed): rounds %s"
           % (client_rc, stuck_clients or "none"))
    t.ok(not failures["restart"], "memoffd restarted after every kill -9 (%d rounds)" % ROUNDS,
         lambda: "\n".join(failures["restart"]))
    t.ok(not failures["going-offline"], "no block was ever left going-offline",
         lambda: "\n".join(failures["going-offline"]))
    t.ok(not failures["lost"], "every job listed before was still listed after each restart (but the oldest beyond 32)",
         lambda: "\n".join(failures["lost"]))
    t.ok(not failures["unfinished"], "no job was left queued or running after a restart",
         lambda: "\n".join(failures["unfinished"]))
    t.ok(not failures["mismatch"], "each block's recorded outcome agreed with sysfs",
         lambda: "\n".join(failures["mismatch"]))
    t.ok(not failures["reset"], "the blocks went back online through the daemon every round",
         lambda: "\n".join(failures["reset"]))
    vm.kill(ppid)
