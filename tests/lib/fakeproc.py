# SPDX-License-Identifier: LGPL-2.1-or-later
"""proc/ files of a captured tree as the kernel shows them, for the tests'
Python fixtures (tests/daemon/daemon.sh, untrusted-input.sh, hostile.sh):
put(path, index, value) writes one little-endian 64-bit word at @index, as
/proc/kpageflags and /proc/PID/pagemap hold one a page; KPF names the
kpageflags bits the fixtures use; migration_failure(root, pfn) writes the
kernel log of one page that failed to migrate (what sends GetPins looking
for its owners)."""

import os
import struct

KPF = {"uptodate": 1 << 3, "lru": 1 << 5, "slab": 1 << 7, "mmap": 1 << 11, "anon": 1 << 12}


def put(path, index, value):
    with open(path, "r+b" if os.path.exists(path) else "w+b") as f:
        f.seek(index * 8)
        f.write(struct.pack("<Q", value))


def migration_failure(root, pfn):
    """@root/dev/kmsg: the kernel's records of page @pfn failing to migrate
    (an anonymous page with one mapping and two extra references)."""
    os.makedirs(root + "/dev", exist_ok=True)
    with open(root + "/dev/kmsg", "w") as f:
        f.write("4,100,5000000,-;migrating pfn %x failed ret:1\n"
                "4,101,5000010,-;page:(____ptrval____) refcount:3 mapcount:1 mapping:0000000000000000 "
                "index:0x10000 pfn:0x%x\n"
                "4,102,5000020,-;anon flags: 0x1fffffc0080014(uptodate|lru|swapbacked|node=0|zone=3)\n"
                "4,103,5000030,-;page dumped because: migration failure\n" % (pfn, pfn))
