#!/bin/sh
# make check's entry for the full-system tier of the VM suite (TAP): memoff's
# .deb on a Debian 12 guest booted with systemd. See run-system.py.
. "$(dirname "$0")/../tier.sh"
vm_tier_exec "$(dirname "$0")/run-system.py" "$@"
