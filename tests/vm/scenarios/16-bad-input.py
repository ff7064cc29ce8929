# SPDX-License-Identifier: LGPL-2.1-or-later
"""Malformed requests: memoffctl offline/online exit 2 (or 1) naming the bad text, and change nothing.

On a real kernel with offlinable Movable memory: every bad size, misaligned
size, reversed or misaligned range, unknown block, bad duration, unknown
option and unknown zone ends with a usage error (exit 2; 1 for a block that
does not exist, which is a well-formed request about the wrong machine) and
a message that quotes what was wrong, and no block changes state.
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import scenlib as S  # noqa: E402

REQUIRES = ["memoffctl"]
DIMMS = ["512M"]
TIMEOUT = 180


def run(t, vm):
    dimm = vm.dimm_blocks("d1")
    bs = vm.block_size()
    lo = dimm[0] * bs
    blk = dimm[-1]
    # (arguments, exit status, the text the message must name)
    cases = [
        ("offline 12Q", 2, "12Q"),                                        # bad size
        ("offline -- -128M", 2, "-128M"),                                 # negative size
        ("offline 100M", 2, "100M"),                                      # not a block multiple
        ("offline 0", 2, "'0'"),                                          # nothing
        ("offline %#x-%#x" % (lo + bs, lo + bs - 1 - bs), 2, "%#x" % (lo + bs)),  # reversed
        ("offline %#x-%#x" % (lo, lo + bs // 2 - 1), 2, "%#x" % lo),        # misaligned end
        ("offline %#x-%#x" % (lo + 4096, lo + bs - 1), 2, "%#x" % (lo + 4096)),  # misaligned start
        ("offline 0xzz-0x10", 2, "0xzz"),                                 # not a number
        ("offline -b %d-%d" % (blk, blk - 1), 2, "%d-%d" % (blk, blk - 1)),  # reversed blocks
        ("offline -b x7", 2, "x7"),                                       # not a block number
        ("offline -b 9999", 1, "9999"),                                   # unknown block
        ("online -b 9999", 1, "9999"),
        ("offline -b %d --deadline 5parsecs" % blk, 2, "5parsecs"),       # bad duration
        ("offline -b %d --attempt-timeout -1s" % blk, 2, "-1s"),
        ("offline -b %d --deadline 0" % blk, 2, "'0'"),
        ("offline --frobnicate 128M", 2, "frobnicate"),                   # unknown option
        ("online --force -b %d" % blk, 2, "force"),                       # offline-only option
        ("offline -z Moveable 128M", 2, "Moveable"),                      # unknown zone
        ("online -z Device -b %d" % blk, 2, "Device"),                    # no such online zone
        ("offline -n x 128M", 2, "'x'"),                                  # bad node
        ("offline --reserve lots 128M", 2, "lots"),                       # bad reserve
        ("offline 128M 256M", 2, "256M"),                                 # one request at a time
        ("offline", 2, "no size"),                                        # nothing asked
    ]
    before = S.list_all(vm)
    for args, want, text in cases:
        rc, out, err, _ = S.ctl(vm, args, timeout=60)
        t.ok(rc == want and text in err and err.startswith("memoffctl"),
             "memoffctl %s: exit %d, a message naming %s" % (args, want, text),
             "exit %d\nstdout: %s\nstderr: %s" % (rc, out, err))
        if want == 2:
            t.ok(out == "", "memoffctl %s: nothing on stdout" % args, out)
    t.eq(S.list_all(vm), before, "no block changed state")
    t.ok(all(v == "online" for v in S.states(vm).values()), "every block is still online")
