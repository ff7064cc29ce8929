#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# The guest's end of vm.py's command channel, on the serial port given as
# the argument (ttyS1: the kernel never writes there). Run by the busybox
# image's /init and by the full-system tier's memoff-test-channel.service.
#
#   guest-loop.sh /dev/ttyS1
ch=$1
# Scratch in /run: systemd may mount a tmpfs on /tmp while a command runs.
stty -F "$ch" raw -echo -ixon -ixoff 2>/dev/null
mkdir -p /run/.mo

# The command loop (tests/vm/vm.py speaks the other end):
#   in:  "MO <id> <timeout-s> <length of the base64> <base64 of a sh script>"
#   out: "@@MO-ACK <id>@@" as soon as the line is read, then
#        "@@MO-BEGIN <id>@@", base64 of the script's stdout+stderr,
#        "@@MO-END <id> rc=<status> to=<1 if killed by the timeout>@@"
# Anything outside the markers is noise the host ignores.
run_loop() {
	printf '\n@@MO-READY@@\n'
	last=0
	set -f
	while IFS= read -r line; do
		set -- $line
		# A line that lost bytes on the way is dropped (the host resends).
		[ "$1" = MO ] && [ $# -eq 5 ] && [ "${#5}" = "$4" ] || continue
		id=$2 t=$3
		printf '@@MO-ACK %s@@\n' "$id"
		# A resent line whose first copy did arrive runs only once.
		[ "$id" -gt "$last" ] || continue
		last=$id
		printf '%s' "$5" | base64 -d > /run/.mo/cmd.$id 2>/dev/null
		start=$(cut -d. -f1 /proc/uptime)
		(cd / && exec timeout -s KILL "$t" sh /run/.mo/cmd.$id) \
			< /dev/null > /run/.mo/out.$id 2>&1
		rc=$?
		end=$(cut -d. -f1 /proc/uptime)
		to=0
		[ $rc -eq 137 ] && [ $((end - start)) -ge "$t" ] && to=1
		printf '\n@@MO-BEGIN %s@@\n' "$id"
		base64 < /run/.mo/out.$id
		printf '@@MO-END %s rc=%s to=%s@@\n' "$id" "$rc" "$to"
		rm -f /run/.mo/cmd.$id /run/.mo/out.$id
	done
}
while :; do
	run_loop < "$ch" > "$ch" 2>/dev/null
	sleep 1
done
