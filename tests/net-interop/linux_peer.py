#!/usr/bin/env python3
"""The Linux side of the interop test (run inside the test's namespace).

    linux_peer.py server|client SIZE TIMEOUT_S

server: listen on 10.99.0.1:5001, take one connection;
client: connect to the capOS stack at 10.99.0.2:5002 (retrying while it
        is not up yet).
Either way: send SIZE bytes of stream s2c-1 (server) or c2s-2 (client)
while receiving the other direction, close, and print
RESULT <role> sent=N sha=HEX received=N sha=HEX expected=HEX.
Streams: a pattern of PATTERN bytes repeated, whose block i is
SHA-256(tag || i as 8 bytes little-endian).
"""
import hashlib
import socket
import struct
import sys
import threading
import time


PATTERN = 1000003


def stream(tag, size):
    t = tag.encode()
    pat = b"".join(hashlib.sha256(t + struct.pack("<Q", i)).digest()
                   for i in range((PATTERN + 31) // 32))[:PATTERN]
    return (pat * (size // PATTERN + 1))[:size]


def main():
    role, size, timeout = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
    send_tag, recv_tag = ("s2c-1", "c2s-1") if role == "server" else ("c2s-2", "s2c-2")
    data = stream(send_tag, size)
    expected = hashlib.sha256(stream(recv_tag, size)).hexdigest()
    end = time.monotonic() + timeout
    if role == "server":
        ls = socket.socket()
        ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        ls.bind(("10.99.0.1", 5001))
        ls.listen(1)
        ls.settimeout(timeout)
        s, _ = ls.accept()
    else:
        while True:
            s = socket.socket()
            s.settimeout(2)
            try:
                s.connect(("10.99.0.2", 5002))
                break
            except OSError:
                s.close()
                if time.monotonic() > end:
                    raise
                time.sleep(0.2)
    s.settimeout(max(1.0, end - time.monotonic()))

    errors = []

    def sender():
        try:
            s.sendall(data)
            s.shutdown(socket.SHUT_WR)
        except OSError as e:
            errors.append(e)

    t = threading.Thread(target=sender)
    t.start()
    h = hashlib.sha256()
    n = 0
    while True:
        b = s.recv(65536)
        if not b:
            break
        h.update(b)
        n += len(b)
    t.join(max(1.0, end - time.monotonic()))
    s.close()
    print("RESULT %s sent=%d sha=%s received=%d sha=%s expected=%s" % (
        role, size, hashlib.sha256(data).hexdigest(), n, h.hexdigest(), expected), flush=True)
    for e in errors:
        print("send failed: %r" % e, flush=True)
    ok = n == size and h.hexdigest() == expected and not t.is_alive() and not errors
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
