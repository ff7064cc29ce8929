# SPDX-License-Identifier: LGPL-2.1-or-later
"""proc/ files of a captured tree as the kernel shows them, for the tests'
Python fixtures (tests/daemon/daemon.sh, untrusted-input.sh):
put(path, index, value) writes one little-endian 64-bit word at @index, as
/proc/kpageflags and /proc/PID/pagemap hold one a page; KPF names the
kpageflags bits the fixtures use."""

import os
import struct

KPF = {"uptodate": 1 << 3, "lru": 1 << 5, "slab": 1 << 7, "mmap": 1 << 11, "anon": 1 << 12}


def put(path, index, value):
    with open(path, "r+b" if os.path.exists(path) else "w+b") as f:
        f.seek(index * 8)
        f.write(struct.pack("<Q", value))
