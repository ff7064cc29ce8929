#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# A D-Bus peer written by hand, for what no well-behaved client does: ask for
# file-descriptor passing, pipeline thousands of calls without reading a
# reply, hold connections past the caps. Used by tests/daemon/hostile.sh.
#
#   dbus-raw.py SOCKET negotiate-fds    prints the server's answer
#   dbus-raw.py SOCKET pipeline N       prints "closed" or "still open"
#   dbus-raw.py SOCKET hold N           prints how many were accepted, holds them until stdin ends
#   dbus-raw.py SOCKET incomplete N MB  N connections each send all but the last byte of a MB MiB
#                                       call, print how many got that far, hold until stdin ends
#   dbus-raw.py SOCKET silent           starts the handshake and never ends it: prints "closed after
#                                       N s" when memoffd closes the connection (waits 120 s at most)
#   dbus-raw.py SOCKET big KIB          one whole call of KIB KiB: prints "answered" when a reply
#                                       (or an error) comes back, else how it ended
import os, socket, struct, sys, time

def pad(b, n):
    return b + b"\0" * ((-len(b)) % n)

def field(buf, code, sig, val):
    buf = pad(buf, 8)
    buf += struct.pack("<B", code) + struct.pack("<B", len(sig)) + sig.encode() + b"\0"
    if sig in ("s", "o"):
        buf = pad(buf, 4)
        v = val.encode()
        buf += struct.pack("<I", len(v)) + v + b"\0"
    elif sig == "g":
        v = val.encode()
        buf += struct.pack("<B", len(v)) + v + b"\0"
    return buf

def call(serial, member, path="/org/memoff/Manager1", iface="org.memoff.Manager1", dest="org.memoff.Manager1"):
    fields = b""
    # offsets are relative to the message start: the fixed header is 16 bytes (8-aligned), so alignment holds
    fields = field(fields, 1, "o", path)
    fields = field(fields, 2, "s", iface)
    fields = field(fields, 3, "s", member)
    fields = field(fields, 6, "s", dest)
    hdr = struct.pack("<cBBBII", b"l", 1, 0, 1, 0, serial) + struct.pack("<I", len(fields)) + fields
    return pad(hdr, 8)

def bytes_call(serial, size):
    """The header and the array length of a ListBlocks call whose body is an
    "ay" of SIZE bytes in all: the caller sends the SIZE - 4 array bytes."""
    fields = field(b"", 1, "o", "/org/memoff/Manager1")
    fields = field(fields, 2, "s", "org.memoff.Manager1")
    fields = field(fields, 3, "s", "ListBlocks")
    fields = field(fields, 8, "g", "ay")
    hdr = pad(struct.pack("<cBBBII", b"l", 1, 0, 1, size, serial) +
              struct.pack("<I", len(fields)) + fields, 8)
    return hdr + struct.pack("<I", size - 4)

def connect(path, negotiate_fds=False, timeout=None):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout)
    s.connect(path)
    s.sendall(b"\0AUTH EXTERNAL " + str(os.geteuid()).encode().hex().encode() + b"\r\n")
    line = s.recv(4096)
    if not line.startswith(b"OK"):
        raise SystemExit("auth: %r" % line)
    if negotiate_fds:
        s.sendall(b"NEGOTIATE_UNIX_FD\r\n")
        line = s.recv(4096)
        print(line.decode().strip())
        return s
    s.sendall(b"BEGIN\r\n")
    return s

def main():
    path, what = sys.argv[1], sys.argv[2]
    if what == "negotiate-fds":
        connect(path, negotiate_fds=True)
        return
    if what == "pipeline":
        # N calls sent, no reply read: what memoffd holds for us grows until it closes the connection
        s = connect(path)
        try:
            for i in range(int(sys.argv[3])):
                s.sendall(call(i + 1, "ListBlocks"))
        except (BrokenPipeError, ConnectionResetError):
            print("closed")
            return
        s.settimeout(30)
        try:
            while s.recv(1 << 16):
                pass
            print("closed")
        except (ConnectionResetError, socket.timeout) as e:
            print("closed" if isinstance(e, ConnectionResetError) else "still open")
        return
    if what == "hold":
        # N connections held open (past the caps) until stdin closes
        held = []
        for _ in range(int(sys.argv[3])):
            try:
                held.append(connect(path, timeout=0.3))
            except (OSError, SystemExit):
                pass
        print(len(held), flush=True)
        sys.stdin.read()
        return
    if what == "silent":
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(path)
        s.sendall(b"\0AUTH EXTERNAL")   # and no end of line, ever
        s.settimeout(120)
        start = time.monotonic()
        try:
            while s.recv(4096):
                pass
        except socket.timeout:
            print("still open")
            return
        except ConnectionResetError:
            pass
        print("closed after %d s" % (time.monotonic() - start))
        return
    if what == "big":
        s = connect(path, timeout=30)
        size = int(sys.argv[3]) << 10
        s.sendall(bytes_call(1, size))
        s.sendall(b"\x01" * (size - 4))
        try:
            hdr = s.recv(16, socket.MSG_WAITALL)
        except OSError as e:
            print(type(e).__name__)
            return
        print("answered" if len(hdr) == 16 and hdr[1] in (2, 3) else "closed")
        return
    if what == "incomplete":
        # a message that never finishes arriving: memoffd holds what came of it
        held = []
        size = int(float(sys.argv[4]) * (1 << 20))
        chunk = b"\x01" * (1 << 20)
        for i in range(int(sys.argv[3])):
            try:
                s = connect(path, timeout=10)
                s.sendall(bytes_call(i + 1, size))
                left = size - 5
                while left > 0:
                    n = min(left, len(chunk))
                    s.sendall(chunk[:n])
                    left -= n
                held.append(s)
            except OSError:
                pass
        print(len(held), flush=True)
        sys.stdin.read()
        return
    raise SystemExit("unknown verb " + what)

if __name__ == "__main__":
    main()
