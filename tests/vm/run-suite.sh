#!/bin/sh
# make check's entry for the real-kernel VM suite (TAP). See run-suite.py.
. "$(dirname "$0")/tier.sh"
vm_tier_exec "$(dirname "$0")/run-suite.py" "$@"
