#!/bin/sh
# make check's entry for the full-system tier of the VM suite (TAP): memoff's
# .deb on a Debian 12 guest booted with systemd. See run-system.py.
if ! command -v python3 >/dev/null 2>&1; then
	echo "1..0 # SKIP python3 not found"
	exit 0
fi
exec python3 "$(dirname "$0")/run-system.py" "$@"
