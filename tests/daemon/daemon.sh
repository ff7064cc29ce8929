#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# memoffd against a copy of a captured sysfs tree (writes go to the copy,
# never to the host: make check exports MEMOFF_FORBID_HOST_WRITES=1), with
# its private socket and a private dbus-daemon in a temporary directory.
# Every method of the API is called through busctl; the LD_PRELOAD shim
# stuck-write.so makes offline writes to chosen blocks spin until a signal,
# as the kernel does for a block with a pinned page.
#
# Needs: busctl (systemd), dbus-daemon (package dbus-daemon or dbus),
# setpriv (util-linux), root (to test a non-root caller).
set -u

top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
SHIM=$top_builddir/tests/daemon/stuck-write.so

. "$top_srcdir/tests/lib/daemon.sh"

daemon_requires
[ -f "$SHIM" ] || skip_all "tests/daemon/stuck-write.so was not built"

daemon_scratch daemon
daemon_copy_tree "$T"
# Pages for the forensics (GetPins, a job's BlockedPages), written as the
# kernel shows them: /proc/kpageflags (8 bytes a PFN; blocks are 0x8000 PFNs),
# a process "pinner" (pid 4242) whose pagemap maps two of them, and a kernel
# log (dev/kmsg, read as a file) saying that one failed to migrate.
#   block 2: 0x10010-0x10012 slab (unmovable)
#   block 3: 0x18040 anonymous, mapped by no process (unmapped: a pipe buffer);
#            0x18041 anonymous, mapped by pinner at 0x10000000, logged by the kernel
#   block 13 (its writes spin): 0x68020 anonymous, mapped by pinner at 0x10001000
python3 - "$T" "$top_srcdir/tests/lib" <<'PY'
import os, sys
t = sys.argv[1]
sys.path.insert(0, sys.argv[2])
from fakeproc import KPF, migration_failure, put
kpf = t + "/proc/kpageflags"
for pfn in range(0x10010, 0x10013):
    put(kpf, pfn, KPF["slab"])
put(kpf, 0x18040, KPF["anon"] | KPF["lru"] | KPF["uptodate"])
put(kpf, 0x18041, KPF["anon"] | KPF["lru"] | KPF["uptodate"] | KPF["mmap"])
put(kpf, 0x68020, KPF["anon"] | KPF["lru"] | KPF["uptodate"] | KPF["mmap"])
with open(kpf, "r+b") as f:
    f.truncate(0x78000 * 8)
pid = t + "/proc/4242"
os.makedirs(pid)
open(pid + "/comm", "w").write("pinner\n")
open(pid + "/cgroup", "w").write("0::/user.slice/pin.scope\n")
open(pid + "/maps", "w").write("10000000-10002000 rw-p 00000000 00:00 0 \n")
put(pid + "/pagemap", 0x10000, (1 << 63) | 0x18041)
put(pid + "/pagemap", 0x10001, (1 << 63) | 0x68020)
migration_failure(t, 0x18041)
PY
MEM=$T/sys/devices/system/memory
CONF=$T/memoffd.conf
printf '[Offline]\nAttemptTimeout=500ms\nBackoffInitial=200ms\nBackoffCap=500ms\n' > "$CONF"

# A private message bus standing in for the system bus, with our policy.
command -v dbus-daemon >/dev/null && bus_start '<policy user="root">
    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus.Monitoring"/>
  </policy>'

start_daemon() {  # [extra env...]
	MEMOFFD_ENV="$* DBUS_SYSTEM_BUS_ADDRESS=unix:path=$T/bus LD_PRELOAD=$SHIM" memoffd_start "$T" "$CONF" -v
}
stop_daemon() { memoffd_stop "$1"; }

# ---- start, introspection ----
check "memoffd starts and answers on the private socket" start_daemon MEMOFF_TEST_STUCK_BLOCKS=13
intro=$(busctl $PRIV introspect org.memoff.Manager1 /org/memoff/Manager1 --xml-interface 2>/dev/null)
missing=
for m in ListBlocks ListJobs GetJob Offline Online Release GetPins CancelJob ApplyHotplugPolicy Reload \
	 JobNew JobRemoved Version State CurrentJob BlockSize AutoOnlineBlocks HotplugPolicy; do
	echo "$intro" | grep -q "name=\"$m\"" || missing="$missing $m"
	grep -q "^### $m\b\|^\*\*$m\*\*\|\`$m\`" "$top_srcdir/doc/org.memoff.Manager1.md" || missing="$missing doc:$m"
done
check "introspection of /org/memoff/Manager1 shows the documented API${missing:+ (missing:$missing)}" test -z "$missing"
check "Version property is the package version" \
	test "$(busctl $PRIV get-property $DEST Version)" = "s \"$("$MEMOFFD" --version | cut -d' ' -f2)\""
check "the control socket is world-connectable (the uid check guards mutations)" \
	test "$(stat -c %a "$T/run/control")" = 666

# ---- read-only methods ----
blocks=$(call ListBlocks)
check "ListBlocks lists every block of the tree ($(ls -d "$MEM"/memory[0-9]* | wc -l))" \
	test "$(echo "$blocks" | awk '{print $2}')" = "$(ls -d "$MEM"/memory[0-9]* | wc -l)"
check "ListBlocks shows state, zones, node and device of a block" \
	grep -q '9 1207959552 134217728 "online" "Movable" 1 "PNP0C80:01"' <<<"$blocks"

# ---- jobs ----
p=$(call Offline 'ssa{sv}' blocks 9 0 | path_of)
check "Offline blocks 9 returns a job path ($p)" test -n "$p"
check "the job finishes done" test "$(wait_job "$p")" = 's "done"'
check "memory9 is offline in the copied tree" test "$(state 9)" = offline
check "the job reports its per-block result" \
	grep -q '9 "done" 1' <<<"$(jobprop "$p" Results)"
check "the host's own sysfs was not touched (the job wrote the copy)" test -d "$MEM/memory9"

p=$(call Online 'ssa{sv}' blocks 9 1 zone s Movable | path_of)
check "Online blocks 9 zone=Movable finishes done" test "$(wait_job "$p")" = 's "done"'
check "memory9 got online_movable" test "$(state 9)" = online_movable
echo online > "$MEM/memory9/state"

p=$(call Offline 'ssa{sv}' size 128M 1 deadline s 10s | path_of)
check "Offline size 128M picks a Movable block and finishes done" test "$(wait_job "$p")" = 's "done"'
check "the job's Request names what was asked" \
	test "$(jobprop "$p" Request)" = 's "offline 128M deadline=10s"'
echo online > "$MEM/memory11/state"; echo online > "$MEM/memory9/state"

p=$(call Offline 'ssa{sv}' blocks 9 1 dry-run b true | path_of)
check "a dry run changes nothing" test "$(wait_job "$p")" = 's "done"' -a "$(state 9)" = online

# ---- bad arguments ----
expect_error org.memoff.Error.InvalidArgument "a malformed size is refused" busctl $PRIV call $DEST Offline 'ssa{sv}' size 5X 0
expect_error org.memoff.Error.InvalidArgument "a size that is not whole blocks is refused" busctl $PRIV call $DEST Offline 'ssa{sv}' size 100M 0
expect_error org.memoff.Error.InvalidArgument "an unaligned range is refused" busctl $PRIV call $DEST Offline 'ssa{sv}' range 0x1000-0x8000000 0
expect_error org.memoff.Error.NoSuchBlock "a block that does not exist is named" busctl $PRIV call $DEST Offline 'ssa{sv}' blocks 7 0
expect_error org.memoff.Error.InvalidArgument "an unknown request type is refused" busctl $PRIV call $DEST Online 'ssa{sv}' pages 1 0
expect_error org.memoff.Error.InvalidArgument "Offline of a device is refused (a device is released)" busctl $PRIV call $DEST Offline 'ssa{sv}' device PNP0C80:00 0
expect_error org.memoff.Error.InvalidArgument "Online of a device is refused" busctl $PRIV call $DEST Online 'ssa{sv}' device PNP0C80:00 0
expect_error org.memoff.Error.InvalidArgument "an unknown option is refused" busctl $PRIV call $DEST Offline 'ssa{sv}' blocks 9 1 colour s red
expect_error org.memoff.Error.InvalidArgument "an option of the wrong type is refused" busctl $PRIV call $DEST Offline 'ssa{sv}' blocks 9 1 deadline b true
expect_error org.memoff.Error.InvalidArgument "an unknown zone is refused" busctl $PRIV call $DEST Online 'ssa{sv}' blocks 9 1 zone s Moveable
expect_error org.memoff.Error.NoSuchJob "GetJob of an unknown id" busctl $PRIV call $DEST GetJob u 999
expect_error org.memoff.Error.InvalidArgument "long-lived is refused for an online request" busctl $PRIV call $DEST Online 'ssa{sv}' blocks 9 1 long-lived s 5s
expect_error org.memoff.Error.InvalidArgument "a long-lived threshold of zero is refused" busctl $PRIV call $DEST Offline 'ssa{sv}' blocks 9 1 long-lived t 0
p=$(call Offline 'ssa{sv}' blocks 9 2 long-lived s 5s dry-run b true | path_of)
check "an offline request takes a long-lived threshold (its Request says long-lived=5s)" \
	grep -q 'long-lived=5s' <<<"$(jobprop "$p" Request)"
wait_job "$p" >/dev/null

# ---- GetPins ----
# GetPins and BlockedPages hold one JSON document (a string): pinsdoc takes
# it out of busctl's JSON output, pyjson checks it (d) with a Python expression.
pinsdoc() { python3 -c 'import json,sys; d=json.load(sys.stdin)["data"]; sys.stdout.write(d[0] if isinstance(d, list) else d)'; }
pyjson() { python3 -c "import json,sys; d=json.load(sys.stdin); sys.exit(0 if ($1) else 1)"; }
getpins() { busctl $PRIV --json=short call $DEST GetPins 'ssa{sv}' "$@" | pinsdoc; }
pins=$(getpins blocks 2-3 0)
check "GetPins blocks 2-3: a document of version 1, one report per block" \
	pyjson 'd["version"] == 1 and [b["block"] for b in d["blocks"]] == [2, 3]' <<<"$pins"
check "... block 2: 3 slab pages, unmovable" \
	pyjson 'any(b["block"] == 2 and (b["first_pfn"], b["last_pfn"], b["blocked_pages"]) == ("0x10000", "0x17fff", 3) and
		    (g["first_pfn"], g["last_pfn"], g["pages"], g["kpageflags"], g["evidence"]) ==
		    ("0x10010", "0x10012", 3, "0x80", ["unmovable"]) for b in d["blocks"] for g in b["groups"])' <<<"$pins"
check "... block 3: the page in a pipe (unmapped) and pinner's page the kernel logged (kmsg)" \
	pyjson 'any("unmapped" in g["evidence"] for b in d["blocks"] if b["block"] == 3 for g in b["groups"]) and
		any((w["pid"], w["comm"], w["vaddr"], w["kind"], w["mapping"]) == (4242, "pinner", "0x10000000", "anon", "[anon]")
		    for b in d["blocks"] for g in b["groups"] if "kmsg" in g["evidence"] and g["owner_pid"] == 4242
		    for p in g["page_list"] for w in p["owners"])' <<<"$pins"
check "... the kernel's account of it: refcount 3, mapcount 1, migration failure" \
	pyjson 'any(k and (k["pfn"], k["kmsg_seq"], k["kmsg_time"], k["refcount"], k["mapcount"], k["reason"], k["kind"]) ==
		    ("0x18041", 101, 5.0, 3, 1, "migration failure", "anon")
		    for b in d["blocks"] for g in b["groups"] for k in [g["kernel_log"]])' <<<"$pins"
pins=$(getpins range 0x10000000-0x17ffffff 1 kmsg b false)
check "GetPins by range, kmsg=false: the kernel log is not read" \
	pyjson 'd["blocks"] and not any("kmsg" in g["evidence"] or g["kernel_log"] for b in d["blocks"] for g in b["groups"])' <<<"$pins"
check "GetPins leaves offline blocks out (block 14 is offline)" \
	pyjson '[b["block"] for b in d["blocks"]] == [13]' <<<"$(getpins blocks 13-14 0)"
expect_error org.memoff.Error.InvalidArgument "GetPins of a size is refused" busctl $PRIV call $DEST GetPins 'ssa{sv}' size 128M 0
expect_error org.memoff.Error.InvalidArgument "GetPins of malformed blocks is refused" busctl $PRIV call $DEST GetPins 'ssa{sv}' blocks 2-x 0
expect_error org.memoff.Error.InvalidArgument "GetPins of an unaligned range is refused" busctl $PRIV call $DEST GetPins 'ssa{sv}' range 0x1000-0x8000000 0
expect_error org.memoff.Error.NoSuchBlock "GetPins of a block that does not exist" busctl $PRIV call $DEST GetPins 'ssa{sv}' blocks 7 0
expect_error org.memoff.Error.InvalidArgument "GetPins with an unknown option" busctl $PRIV call $DEST GetPins 'ssa{sv}' blocks 2 1 colour s red
expect_error org.memoff.Error.InvalidArgument "GetPins with kmsg of the wrong type" busctl $PRIV call $DEST GetPins 'ssa{sv}' blocks 2 1 kmsg s no
# ---- options: every method's a{sv} is read by one reader, refused with one message ----
# bad_option METHOD SIGNATURE ARGS... KEY TYPE VALUE MESSAGE: the call with
# the one option KEY (of TYPE) is refused as InvalidArgument with MESSAGE.
bad_option() {
	local n=$# out
	local args=("${@:1:n-4}") key=${@:n-3:1} type=${@:n-2:1} value=${@:n-1:1} msg=${@:n:1}
	out=$(SYSTEMD_LOG_LEVEL=debug busctl $PRIV -- call $DEST "${args[@]}" 1 "$key" "$type" "$value" 2>&1 </dev/null)
	if grep -q "error-name=org.memoff.Error.InvalidArgument" <<<"$out" && grep -qF -- "$msg" <<<"$out"; then
		ok "${args[0]} $key ($type): $msg"
	else
		not_ok "${args[0]} $key ($type): $msg"
		grep -E "error-name|Call failed" <<<"$out" | sed 's/^/# /'
	fi
}
njobs() { busctl $PRIV call $DEST ListJobs | cut -d' ' -f2; }
jobs_before=$(njobs)
for call in "Offline ssa{sv} blocks 9" "Online ssa{sv} blocks 9" "Release sa{sv} 128M" "GetPins ssa{sv} blocks 2" \
	    "SetReleaseTarget ta{sv} 0"; do
	# shellcheck disable=SC2086 # the words of $call are the method, its signature, its arguments
	bad_option $call colour s red "unknown option 'colour' (known: "
done
bad_option Offline 'ssa{sv}' blocks 9 deadline b true \
	"option 'deadline' must be microseconds (t) or a duration (s), not of type 'b'"
bad_option Online 'ssa{sv}' blocks 9 zone i 4 "option 'zone' must be a string (s), not of type 'i'"
bad_option Release 'sa{sv}' 128M max-attempts s 3 "option 'max-attempts' must be a uint32 (u), not of type 's'"
bad_option GetPins 'ssa{sv}' blocks 2 kmsg s no "option 'kmsg' must be a boolean (b), not of type 's'"
bad_option SetReleaseTarget 'ta{sv}' 0 deadline b true \
	"option 'deadline' must be microseconds (t) or a duration (s), not of type 'b'"
bad_option SetReleaseTarget 'ta{sv}' 0 deadline t 0 "invalid deadline: zero"
bad_option Offline 'ssa{sv}' blocks 9 stall-grace t 18446744073709551615 "invalid stall-grace: infinite"
bad_option Offline 'ssa{sv}' size 128M node i -2 "invalid node -2"
bad_option Offline 'ssa{sv}' blocks 9 max-attempts u 1000001 "invalid max-attempts 1000001"
bad_option Offline 'ssa{sv}' blocks 9 reserve s 1Q "invalid reserve '1Q': "
check "... and no refused call started a job" test "$(njobs)" = "$jobs_before"
if command -v setpriv >/dev/null && [ "$(id -u)" = 0 ]; then
	expect_error org.memoff.Error.AccessDenied "GetPins as a non-root caller" \
		as_nobody busctl $PRIV call $DEST GetPins 'ssa{sv}' blocks 2 0
else
	ok "# SKIP needs root and setpriv"
fi

# ---- a job's blocked pages, tracked across its attempts ----
p=$(call Offline 'ssa{sv}' blocks 13 3 attempt-timeout s 500ms deadline s 3s long-lived s 1s | path_of)
check "an offline of a block whose page stays in use fails" test "$(wait_job "$p")" = 's "failed"'
bp=$(busctl $PRIV --json=short get-property org.memoff.Manager1 "$p" org.memoff.Job1 BlockedPages | pinsdoc)
check "its BlockedPages name the page (0x68020), its owner pinner, evidence attempt" \
	pyjson 'any((b["block"], b["first_pfn"], g["first_pfn"], g["pages"], g["owner_pid"]) == (13, "0x68000", "0x68020", 1, 4242) and
		    "attempt" in g["evidence"] and g["class"] for b in d["blocks"] for g in b["groups"])' <<<"$bp"
check "... long-lived: held across attempts for longer than long-lived=1s" \
	pyjson 'any(g["class"] == "long-lived" and g["blocked_usec"] >= 1000000 for b in d["blocks"] for g in b["groups"])' <<<"$bp"
check "memoffd logged it: PAGES_BLOCKED, then LONG_LIVED_PIN, naming pinner (MEMOFF_PID=4242)" \
	sh -c "grep -q '^memoffd: block 13: offlining blocked by .*MEMOFF_PID=4242 MEMOFF_COMM=pinner .*MEMOFF_EVENT=new' '$T/daemon.log' &&
	       grep -q '^memoffd: block 13: long-lived reference, .*MEMOFF_PID=4242 .*MEMOFF_EVENT=long-lived MEMOFF_JOB=${p##*/}\]' '$T/daemon.log'"
if command -v setpriv >/dev/null && [ "$(id -u)" = 0 ]; then
	bp=$(as_nobody busctl $PRIV --json=short get-property org.memoff.Manager1 "$p" org.memoff.Job1 BlockedPages | pinsdoc)
	check "... a non-root reader gets BlockedPages without owners (owners_errno EACCES)" \
		pyjson '[(b["block"], b["owners_errno"]) for b in d["blocks"]] == [(13, "EACCES")] and "pinner" not in json.dumps(d) and
			all(g["owner_pid"] == 0 for b in d["blocks"] for g in b["groups"])' <<<"$bp"
else
	ok "# SKIP needs root and setpriv"
fi
p=$(call Offline 'ssa{sv}' blocks 9 1 dry-run b true | path_of)
check "a job that went well has no BlockedPages" \
	pyjson 'd == {"version": 1, "blocks": []}' <<<"$(busctl $PRIV --json=short get-property org.memoff.Manager1 "$p" org.memoff.Job1 BlockedPages | pinsdoc)"

# ---- a job that spins: overlap, progress, cancel ----
p=$(call Offline 'ssa{sv}' blocks 12-13 2 attempt-timeout s 500ms deadline s 2min | path_of)
for _ in $(seq 50); do [ "$(state 12)" = offline ] && break; sleep 0.1; done
check "a job whose block spins keeps running (State running)" test "$(jobprop "$p" State)" = 's "running"'
check "Manager State is running and CurrentJob is the job" \
	test "$(busctl $PRIV get-property $DEST State CurrentJob | tr '\n' ' ')" = "s \"running\" o \"$p\" "
expect_error org.memoff.Error.Overlap "an overlapping request is refused" busctl $PRIV call $DEST Online 'ssa{sv}' blocks 13 0
check "the loop stays responsive while the worker is stuck in a write" call ListJobs
busctl $PRIV call org.memoff.Manager1 "$p" org.memoff.Job1 Cancel
check "Cancel ends the job as cancelled" test "$(wait_job "$p")" = 's "cancelled"'
check "the spinning block stayed online, the other one went offline" \
	test "$(state 13)" = online -a "$(state 12)" = offline
echo online > "$MEM/memory12/state"
expect_error org.memoff.Error.JobFinished "cancelling a finished job" busctl $PRIV call $DEST CancelJob u "${p##*/}"

# ---- access ----
if command -v setpriv >/dev/null && [ "$(id -u)" = 0 ]; then
	check "a non-root caller may list blocks" as_nobody busctl $PRIV call $DEST ListBlocks
	expect_error org.memoff.Error.AccessDenied "a non-root caller may not offline" \
		as_nobody busctl $PRIV call $DEST Offline 'ssa{sv}' blocks 9 0
	expect_error org.memoff.Error.AccessDenied "a non-root caller may not cancel" \
		as_nobody busctl $PRIV call $DEST CancelJob u 1
	check "... and nothing changed" test "$(state 9)" = online
	printf '[Access]\nAllowedGroup=nogroup\n' >> "$CONF"
	call Reload
	p=$(as_nobody busctl $PRIV call $DEST Offline 'ssa{sv}' blocks 9 1 dry-run b true 2>/dev/null | path_of)
	check "with AllowedGroup=nogroup, a member may start a job" test -n "$p"
else
	for _ in 1 2 3 4 5; do ok "# SKIP needs root and setpriv"; done
fi

# ---- ExcludedRanges= (memoffd.conf(5)): never offlined ----
# Block 11 (0x58000000-0x5fffffff) is the one a size picks first (free, Movable).
printf '[Offline]\nExcludedRanges=0x5c000000-0x5c000fff\n' >> "$CONF"
call Reload >/dev/null
p=$(call Offline 'ssa{sv}' size 128M 1 deadline s 10s | path_of)
check "with part of block 11 in ExcludedRanges=, Offline size 128M is done without it" \
	test "$(wait_job "$p")" = 's "done"' -a "$(state 11)" = online -a "$(state 9)" = offline
check "... its report counts block 11 as left out: excluded" \
	python3 -c 'import json,sys; d=json.loads(json.load(sys.stdin)["data"]); sys.exit(d["totals"]["left_out"]["excluded"] != 1)' \
	<<<"$(busctl $PRIV --json=short get-property org.memoff.Manager1 "$p" org.memoff.Job1 Report)"
echo online > "$MEM/memory9/state"
out=$(SYSTEMD_LOG_LEVEL=debug busctl $PRIV call $DEST Offline 'ssa{sv}' blocks 10-11 0 2>&1)
check "Offline of named blocks in ExcludedRanges= is refused, naming the block and the range" \
	grep -qF "block 11 (0x58000000-0x5fffffff) is in ExcludedRanges=0x5c000000-0x5c000fff" <<<"$out"
check "... as InvalidArgument, and block 10 stayed online" \
	sh -c 'grep -q error-name=org.memoff.Error.InvalidArgument && test "$(cat "$0")" = online' \
	"$MEM/memory10/state" <<<"$out"
p=$(call Online 'ssa{sv}' blocks 11 1 dry-run b true | path_of)
check "... Online of it is not" test "$(wait_job "$p")" = 's "done"'
sed -i '/^ExcludedRanges=/d' "$CONF"
call Reload >/dev/null

# ---- config reload ----
# A call that expects no reply, from a client that exits as soon as it has
# sent it, is carried out: memoffd reads what a peer sent before its end.
reloads() { grep -c "Configuration reloaded from" "$T/daemon.log"; }
n0=$(reloads)
for _ in $(seq 30); do
	busctl $PRIV --expect-reply=no call $DEST Reload
done
for _ in $(seq 100); do [ $(( $(reloads) - n0 )) -ge 30 ] && break; sleep 0.1; done
check "30 Reload calls sent with no reply expected, each by a busctl that exits at once, are all carried out ($(( $(reloads) - n0 )))" \
	test $(( $(reloads) - n0 )) = 30
echo "Bogus=1" >> "$CONF"
check "Reload with an unknown key reloads the rest (the key is ignored)" call Reload
sed -i '/^Bogus=1$/d' "$CONF"
printf '[Hotplug]\nPolicy=off\n' >> "$CONF"
kill -HUP "$DAEMON_PID"; sleep 0.5
check "SIGHUP reloads the configuration (HotplugPolicy off)" \
	test "$(busctl $PRIV get-property $DEST HotplugPolicy)" = 's "off"'

# ---- hotplug policy ----
out=$(call ApplyHotplugPolicy t 14)
check "ApplyHotplugPolicy with Policy=off leaves memory14 offline ($out)" test "$(state 14)" = offline
sed -i 's/^Policy=off$/Policy=auto/' "$CONF"; call Reload
out=$(call ApplyHotplugPolicy t 14)
check "ApplyHotplugPolicy with Policy=auto onlines memory14 movable ($out)" test "$(state 14)" = online_movable

# ---- the system bus (private dbus-daemon) ----
if [ -n "$BUS_PID" ]; then
	BUS="--address=unix:path=$T/bus"
	check "memoffd owns org.memoff.Manager1 on the bus" \
		busctl $BUS call org.memoff.Manager1 /org/memoff/Manager1 org.memoff.Manager1 ListJobs
	if command -v setpriv >/dev/null && [ "$(id -u)" = 0 ]; then
		check "the bus policy lets a non-root caller read" \
			as_nobody busctl $BUS call org.memoff.Manager1 /org/memoff/Manager1 org.memoff.Manager1 ListBlocks
		expect_error org.freedesktop.DBus.Error.AccessDenied "the bus policy keeps a non-root caller from Offline" \
			as_nobody busctl $BUS call org.memoff.Manager1 /org/memoff/Manager1 org.memoff.Manager1 \
			Offline 'ssa{sv}' blocks 9 0
	else
		ok "# SKIP needs root and setpriv"
		ok "# SKIP needs root and setpriv"
	fi
else
	for _ in 1 2 3; do ok "# SKIP dbus-daemon is not installed (package dbus-daemon)"; done
fi

# ---- memoffctl through the daemon ----
CTL=$top_builddir/src/memoffctl/memoffctl
if [ -x "$CTL" ] && "$CTL" offline --help >/dev/null 2>&1; then
	export MEMOFF_SOCKET=$T/run/control
	out=$("$CTL" --sysroot "$T" offline -b 9 2>&1); rc=$?
	check "memoffctl offline -b 9 runs through the daemon (exit $rc: $(echo "$out" | tail -1))" \
		test $rc = 0 -a "$(state 9)" = offline
	check "... and the job is in memoffctl jobs" grep -q "offline blocks 9" <<<"$("$CTL" jobs)"
	check "memoffd logged the block offlined, with its range (BLOCK_OFFLINED)" \
		grep -q "^memoffd: block 9 offlined (attempt 1, .*MEMOFF_RANGE=0x0000000048000000-0x000000004fffffff" \
		"$T/daemon.log"
	out=$("$CTL" --sysroot "$T" online -b 9 -J 2>&1); rc=$?
	check "memoffctl online -b 9 -J through the daemon: exit 0 and a JSON report" \
		test $rc = 0 -a "$(state 9)" = online_movable
	echo online > "$MEM/memory9/state"
	out=$("$CTL" --sysroot "$T" offline -b 13 --attempt-timeout 300ms --deadline 1s 2>&1)
	check "a block that does not go offline by the deadline: exit 1, as with --direct" test $? = 1
	jid=$(sed -n 's/^memoffctl: memoffd job \([0-9]*\)$/\1/p' <<<"$out")
	check "memoffd logged the timed-out attempts of job ${jid:-?} (ATTEMPT_TIMED_OUT, MEMOFF_JOB=${jid:-?})" \
		grep -q "^memoffd: block 13: attempt 1 timed out after .*MEMOFF_BLOCK=13 .*MEMOFF_JOB=$jid\b" "$T/daemon.log"
	check "... that it gave up on block 13 (BLOCK_GAVE_UP)" \
		grep -q "^memoffd: block 13: gave up after [0-9]* attempts\?: .*MEMOFF_JOB=$jid .*MEMOFF_OUTCOME=timed-out\]" \
		"$T/daemon.log"
	check "... and that the job failed (JOB_FINISHED)" \
		grep -q "^memoffd: Job $jid (offline blocks 13 .*) failed: .*MEMOFF_RESULT=failed\]" "$T/daemon.log"
	check "memoffctl offline through the daemon names what blocked block 13 (pinner[4242])" \
		grep -A1 -q "^Blocked pages:" <<<"$out"
	check "... naming the process" grep -q "^  block 13: .*, mapped by pinner\[4242\] (at 0x10001000" <<<"$out"
	out=$("$CTL" --sysroot "$T" watch "$jid" -J 2>/dev/null)
	check "... and its -J has them in blocked_pages, as --direct does" \
		python3 -c 'import json,sys; d=json.load(sys.stdin); g=d["blocks"][0]["blocked_pages"]["groups"][0]; assert g["owner"]["comm"] == "pinner" and g["class"] == "pending", g' <<<"$out"
	# --procroot nowhere: only the daemon (its own root) can find the pages
	via=$("$CTL" --sysroot "$T" --procroot "$T/nowhere" pins -b 2-3 -J 2>&1)
	direct=$("$CTL" --direct --sysroot "$T" pins -b 2-3 -J 2>&1)
	check "memoffctl pins -J through the daemon (GetPins) prints what --direct prints" \
		test -n "$via" -a "$via" = "$direct"
	check "... pinner's page with its owner and the kernel log's +1 extra reference" \
		python3 -c 'import json,sys; d=json.load(sys.stdin); g=[g for b in d["blocks"] for g in b["groups"] if g["owner"]]; assert g[0]["owner"]["pid"] == 4242 and g[0]["kernel_log"]["extra_refs"] == 1, g' <<<"$via"
	via=$("$CTL" --sysroot "$T" --procroot "$T/nowhere" pins -b 2-3 2>&1)
	direct=$("$CTL" --direct --sysroot "$T" pins -b 2-3 2>&1)
	check "memoffctl pins (table) through the daemon prints what --direct prints" test -n "$via" -a "$via" = "$direct"
	"$CTL" --sysroot "$T" pins -b 7 >/dev/null 2>&1
	check "memoffctl pins of a block that does not exist, through the daemon: exit 1" test $? = 1
	"$CTL" --sysroot "$T" pins -b 2-x >/dev/null 2>&1
	check "memoffctl pins of a malformed block range: exit 2" test $? = 2
	if command -v setpriv >/dev/null && [ "$(id -u)" = 0 ]; then
		out=$(as_nobody env MEMOFF_SOCKET="$MEMOFF_SOCKET" "$CTL" --sysroot "$T" pins -b 2-3 2>&1); rc=$?
		check "memoffctl pins as a user memoffd does not serve runs in-process (exit $rc)" \
			bash -c "test $rc = 0 && grep -q 'pages in 2 blocks would block' <<<'$out'"
	else
		ok "# SKIP needs root and setpriv"
	fi
	"$CTL" --sysroot "$T" offline 5X >/dev/null 2>&1
	check "a malformed size through the daemon: usage error, exit 2" test $? = 2
	p=$(call Offline 'ssa{sv}' blocks 12-13 2 attempt-timeout s 500ms deadline s 2min | path_of)
	for _ in $(seq 50); do [ "$(state 12)" = offline ] && break; sleep 0.1; done
	"$CTL" cancel "${p##*/}" >/dev/null 2>&1
	check "memoffctl cancel JOB waits for the end: exit 64 (one of two blocks done)" test $? = 64
	echo online > "$MEM/memory12/state"
	check "memoffctl status answers" grep -q "^memoffd .*: idle" <<<"$("$CTL" status)"
	check "memoffctl jobs -J is JSON with the jobs" \
		python3 -c 'import json,sys; d=json.load(sys.stdin); assert len(d["jobs"]) >= 3' <<<"$("$CTL" jobs -J)"
	echo offline > "$MEM/memory14/state"
	check "memoffctl hotplug memory14 applies the daemon's policy" \
		grep -q "memory14: online_movable" <<<"$("$CTL" --sysroot "$T" hotplug memory14)"
	echo offline > "$MEM/memory14/state"
	out=$(MEMOFF_SOCKET=$T/none "$CTL" --sysroot "$T" hotplug -c "$CONF" memory14 2>&1)
	check "without a daemon, memoffctl hotplug applies the policy itself ($out)" test "$(state 14)" = online_movable
	out=$(MEMOFF_SOCKET=$T/none "$CTL" --sysroot "$T" offline -b 9 2>&1); rc=$?
	check "without a daemon, memoffctl offline falls back to the engine in-process (exit $rc)" \
		test $rc = 0 -a "$(state 9)" = offline
	echo online > "$MEM/memory9/state"
	unset MEMOFF_SOCKET
else
	for _ in $(seq 25); do ok "# SKIP memoffctl offline/online are not built"; done
fi

# ---- stop and restart ----
p=$(call Offline 'ssa{sv}' blocks 13 1 attempt-timeout s 500ms | path_of)
sleep 0.5
stop_daemon TERM
check "SIGTERM during a job: memoffd exits cleanly (exit 0)" test $? = 0
check "... and the state file records the job as cancelled" grep -q "^job ${p##*/} offline finished cancelled" "$T/state/jobs"

start_daemon MEMOFF_TEST_STUCK_BLOCKS=13
p=$(call Offline 'ssa{sv}' blocks 13 1 attempt-timeout s 500ms | path_of)
sleep 0.5
stop_daemon KILL
# A write ended by a fatal signal is rolled back by the kernel; the copy's
# state file was only truncated by the open, so do what the kernel does.
[ -s "$MEM/memory13/state" ] || echo online > "$MEM/memory13/state"
start_daemon
check "after kill -9 mid-job and a restart, the job is reported interrupted" \
	test "$(wait_job "$p")" = 's "interrupted"'
check "... with its block's real state read back from sysfs" \
	grep -q '13 "interrupted" 0 0 "after the restart the block is online"' <<<"$(jobprop "$p" Results)"
stop_daemon TERM

plan_done
if [ "$tap_failed" != 0 ]; then
	echo "# daemon log:"
	sed 's/^/#   /' "$T/daemon.log"
fi
exit 0
