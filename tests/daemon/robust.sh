#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Issue 12's reproductions about records and configuration, each as a user
# would meet it: memoffd on a copy of a captured tree (its private socket
# only), with a configuration mistake, hostile files where its state lives,
# a job that cannot be recorded, a history that overflows, a stop in the
# middle of a job, a deadline of "infinity". Every check names the issue's
# symptom it guards against.
#
# Needs: busctl (systemd). Runs as any user; make check sets the write guard.
set -u

. "$(dirname "$0")/memoffd-env.sh"
[ -f "$SHIM" ] || skip_all "tests/daemon/stuck-write.so was not built"

memoffd_tree
base_conf() { printf '[Offline]\nAttemptTimeout=300ms\nBackoffInitial=100ms\nBackoffCap=200ms\n' > "$CONF"; }
# offline writes to memory13 spin until a signal (the shim), as the kernel's do for a block with a pinned page
MEMOFFD_ENV="MEMOFF_TEST_STUCK_BLOCKS=13 LD_PRELOAD=$SHIM"

# ---- configuration: degrade, never fail; --check-config stays strict ----
base_conf
out=$("$MEMOFFD" --check-config -c "$CONF" 2>&1)
check "--check-config passes a clean file ($out)" test $? = 0
out=$("$MEMOFFD" --check-config -c "$T/nonexistent.conf" 2>&1)
rc=$?
check "--check-config -c /nonexistent fails, naming the file (exit $rc: $out)" \
	eval '[ $rc != 0 ] && echo "$out" | grep -q "nonexistent.conf: no such file"'
mkdir -p "$CONF.d"
printf '[Offline]\nFromANewerGuide=1\nAttemptTimeout=soon\n[Hotplug]\nPolicy=online_movable\n' > "$CONF.d/50-new.conf"
out=$("$MEMOFFD" --check-config -c "$CONF" 2>&1)
rc=$?
check "--check-config fails on an unknown key and names FILE:LINE (exit $rc)" \
	eval '[ $rc != 0 ] && echo "$out" | grep -q "50-new.conf:2: unknown key .FromANewerGuide."'
check "... and on a bad value, FILE:LINE" eval 'echo "$out" | grep -q "50-new.conf:3: AttemptTimeout=: invalid duration"'

# the udev rule's fallback: the policy applies although the file has problems
echo offline > "$MEM/memory14/state"
out=$("$MEMOFFCTL" --direct --sysroot "$T" hotplug -c "$CONF" 14 2>&1)
rc=$?
check "memoffctl hotplug with an unknown key in a drop-in still onlines memory14 (exit $rc: $(echo "$out" | tail -1))" \
	eval '[ $rc = 0 ] && [ "$(state 14)" = online_movable ]'
check "... and warns about the key" eval 'echo "$out" | grep -q "unknown key .FromANewerGuide."'

check "memoffd starts although a drop-in has an unknown key and a bad value" start_daemon
check "... with the rest of the drop-in in force (HotplugPolicy online_movable)" \
	test "$(busctl $PRIV get-property $DEST HotplugPolicy)" = 's "online_movable"'
check "... and the problems in its log, FILE:LINE" grep -q "50-new.conf:2: unknown key" "$T/daemon.log"

printf '[Hotplug]\nPolicy=off\n' >> "$CONF"
rm -f "$CONF.d/50-new.conf"
call Reload >/dev/null
check "Reload applies the file (HotplugPolicy off)" test "$(busctl $PRIV get-property $DEST HotplugPolicy)" = 's "off"'
printf '[Hotplug]\nPolicy=sometimes\n' > "$CONF.d/60-bad.conf"
check "Reload with a bad value succeeds ..." call Reload
check "... and keeps the value in force, not the default (HotplugPolicy off)" \
	test "$(busctl $PRIV get-property $DEST HotplugPolicy)" = 's "off"'
rm -f "$CONF.d/60-bad.conf"
mv "$CONF" "$CONF.away"
out=$(call Reload 2>&1)
rc=$?
check "Reload after the file was deleted fails and says so ($out)" eval '[ $rc != 0 ] && echo "$out" | grep -q "no such file"'
check "... keeping the configuration in force (HotplugPolicy off)" \
	test "$(busctl $PRIV get-property $DEST HotplugPolicy)" = 's "off"'
mv "$CONF.away" "$CONF"

# ---- every job records who asked; infinity is no deadline ----
p=$(call Offline 'ssa{sv}' blocks 9 1 deadline t 18446744073709551615 | path_of)
wait_job "$p" > /dev/null
check "deadline t 18446744073709551615 (infinity) runs the job: Result done ($(jobprop "$p" Result), $(jobprop "$p" Message))" \
	test "$(jobprop "$p" Result)" = 's "done"'
id=${p##*/}
check "the state file records the requesting uid (uid $id $(id -u))" grep -qx "uid $id $(id -u)" "$STATE"
echo online > "$MEM/memory9/state"

# ---- --reserve 0 through the daemon is honoured (it was dropped: the default reserve applied) ----
# 300 MB available of 16 GB: the default reserve (5%, 800 MB) refuses memory9's 128M, none lets it go
cp "$T/proc/meminfo" "$T/meminfo.saved"
printf 'MemTotal: 16384000 kB\nMemFree: 300000 kB\nMemAvailable: 300000 kB\n' > "$T/proc/meminfo"
out=$(MEMOFF_SOCKET="$T/run/control" "$MEMOFFCTL" --sysroot "$T" offline -b 9 --reserve 0 2>&1)
rc=$?
check "memoffctl offline --reserve 0 through the daemon offlines memory9 (exit $rc: $(echo "$out" | tail -1))" \
	eval '[ $rc = 0 ] && [ "$(state 9)" = offline ]'
echo online > "$MEM/memory9/state"
out=$(MEMOFF_SOCKET="$T/run/control" "$MEMOFFCTL" --sysroot "$T" offline -b 9 2>&1)
rc=$?
check "... while without it the default reserve refuses (exit $rc)" eval '[ $rc != 0 ] && [ "$(state 9)" = online ]'
cp "$T/meminfo.saved" "$T/proc/meminfo"

# ---- a planted symlink is never followed; a job that cannot be recorded does not run ----
echo "precious" > "$T/victim"
ln -s "$T/victim" "$STATE.tmp"
p=$(call Offline 'ssa{sv}' blocks 9 1 dry-run b true | path_of)
wait_job "$p" > /dev/null
check "a symlink planted at jobs.tmp: its target is not written" test "$(cat "$T/victim")" = precious
check "... and the state file is still written" grep -q "^job ${p##*/} " "$STATE"
rm -f "$STATE.tmp"; mkdir "$STATE.tmp"
before=$(call ListJobs)
out=$(call Offline 'ssa{sv}' blocks 9 0 2>&1)
rc=$?
check "a job that cannot be recorded is refused ($out)" eval '[ $rc != 0 ] && echo "$out" | grep -q "cannot be recorded"'
check "... nothing ran (memory9 online) and no job appeared" \
	eval '[ "$(state 9)" = online ] && [ "$(call ListJobs)" = "$before" ]'
rmdir "$STATE.tmp"

# ---- the history keeps the jobs that finished last ----
stuck=$(call Offline 'ssa{sv}' blocks 13 1 deadline s 1h | path_of)
ids=
for _ in $(seq 40); do
	q=$(call Offline 'ssa{sv}' blocks 9 1 dry-run b true | path_of)
	ids="$ids ${q##*/}"
	call CancelJob u "${q##*/}" >/dev/null
done
call CancelJob u "${stuck##*/}" >/dev/null
wait_job "$stuck" > /dev/null
check "after 40 cancelled jobs, the job that finished last (${stuck##*/}, the lowest id) is still known" \
	call GetJob u "${stuck##*/}"
first=$(echo $ids | cut -d' ' -f1)
check "... and the first of them to finish (job $first) was forgotten instead" eval '! call GetJob u '"$first"

# ---- a stop keeps the job it cancelled ----
stuck=$(call Offline 'ssa{sv}' blocks 13 1 deadline s 1h | path_of)
sleep 0.5
check "SIGTERM with a job running: memoffd ends" stop_daemon
check "the state file keeps the cancelled job ${stuck##*/}" grep -q "^job ${stuck##*/} offline finished cancelled " "$STATE"

# ---- hostile state files ----
# ids: job 1 and job 4294967295 are known; the next id must be neither
{
	echo "memoffd-jobs 1"
	echo "next 4294967295"
	echo "job 1 offline finished done 1 2 3 1 1 128 128 offline%20blocks%209 ok"
	echo "job 4294967295 offline finished done 1 2 3 1 1 128 128 offline%20blocks%209 ok"
	printf 'job 7 offline finished done 1 2 3 1 1 128 128 has\0nul ok\n'
	echo "job 8 offline finished done 1 2 3 1 1 128 128 after%20the%20nul ok"
} > "$STATE"
check "memoffd starts on a state file with job 4294967295 and a NUL byte" start_daemon
check "the record after the NUL byte survives (job 8)" call GetJob u 8
p=$(call Offline 'ssa{sv}' blocks 9 1 dry-run b true | path_of)
id=${p##*/}
check "the next id wraps past 4294967295 onto no known job (got $id)" \
	eval '[ -n "$id" ] && [ "$id" != 1 ] && [ "$id" != 4294967295 ] && [ "$(grep -c "^job $id " "$STATE")" = 1 ]'
check "... and job 1 is still the one it was" eval 'call GetJob u 1 && grep -q "^job 1 offline finished done 1 2 3 " "$STATE"'
stop_daemon >/dev/null

rm -f "$STATE"; mkfifo "$STATE"
check "a FIFO as the state file does not hang start-up" start_daemon
check "... and SIGTERM ends memoffd" stop_daemon
rm -f "$STATE"
mkfifo "$CONF.d/70-fifo.conf"
check "a FIFO as a drop-in does not hang start-up" start_daemon
check "... nor Reload" timeout 10 busctl $PRIV call $DEST Reload
check "... and SIGTERM ends memoffd" stop_daemon

plan_done
