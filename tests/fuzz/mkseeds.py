#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Turn real captures into seed inputs for the fuzzers (tests/fuzz/corpus/).

    mkseeds.py block TREE OUT [FIRST [COUNT]]
        memory blocks FIRST.. (at most COUNT, default 8) of TREE/sys in
        fuzz-block's input format (see fuzz-block.c and fuzz-tree.h)
    mkseeds.py text KIND FILE OUT
        a text capture (meminfo, iomem, kmsg, maps, config) behind its
        target's kind byte, for the fuzzers that take text

Writes OUT only. The seeds are committed; rerun this only to add new ones.
"""
import os
import sys

SEP = b"\0"


def attr(path):
    """One attribute field: 'f' + content, 'L'/'l' + link target, or absent."""
    if os.path.islink(path):
        target = os.readlink(path)
        if target.startswith("../../../"):
            return b"L" + target[len("../../../"):].encode()
        return b"l" + target.encode()
    if os.path.isfile(path):
        with open(path, "rb") as f:
            return b"f" + f.read()
    return b""


def block(tree, out, first=0, count=8):
    mem = os.path.join(tree, "sys/devices/system/memory")
    names = sorted((int(n[6:]) for n in os.listdir(mem)
                    if n.startswith("memory") and n[6:].isdigit()))
    names = [n for n in names if n >= first][:count]
    fields = [attr(os.path.join(mem, "block_size_bytes")),
              attr(os.path.join(mem, "auto_online_blocks"))]
    for n in names:
        d = os.path.join(mem, "memory%d" % n)
        fields.append(str(n).encode())
        for a in ("state", "phys_index", "removable", "valid_zones"):
            fields.append(attr(os.path.join(d, a)))
        nodes = [e for e in os.listdir(d) if e.startswith("node")]
        fields.append(nodes[0].encode() if nodes else b"")
        fields.append(attr(os.path.join(d, "firmware_node")))
    with open(out, "wb") as f:
        f.write(SEP.join(fields))


def text(kind, path, out):
    with open(path, "rb") as f:
        data = f.read()
    with open(out, "wb") as f:
        f.write(kind.encode() + data)


def main(argv):
    if len(argv) >= 3 and argv[0] == "block":
        block(argv[1], argv[2], *(int(a) for a in argv[3:5]))
    elif len(argv) == 4 and argv[0] == "text":
        text(argv[1], argv[2], argv[3])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv[1:])
