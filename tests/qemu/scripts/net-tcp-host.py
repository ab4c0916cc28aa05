#!/usr/bin/env python3
"""Host side of the net-tcp QEMU test (tools/qemu-test.sh HOST_SCRIPT).

net-tcp-host.py FWD_PORT LISTEN_PORT BYTES TIMEOUT

1. Echo: connect to 127.0.0.1:FWD_PORT (QEMU forwards it to the guest's
   port 7, tcp-echo), send BYTES random bytes while reading the echo, then
   FIN; the SHA-256 of what came back must equal what was sent. Until the
   guest listens, slirp accepts and then drops the connection: retried.
2. Client: accept the guest's connection on 127.0.0.1:LISTEN_PORT (the
   guest dials 10.0.2.2), read its BYTES of pattern to its FIN and check
   every byte, then send BYTES of another pattern and close.
Traffic stays on 127.0.0.1. Exits 0 only if both worked.
"""
import hashlib
import os
import socket
import sys
import threading
import time


def out_pattern(n):  # what the guest sends (user/tests/net-tcp.c)
    return bytes(((i * 7 + (i >> 8)) & 255) for i in range(n))


def in_pattern(n):  # what the guest expects
    return bytes(((i * 13 + (i >> 10) + 1) & 255) for i in range(n))


def echo_once(port, data, deadline):
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    s.settimeout(max(1.0, deadline - time.time()))
    err = []

    def sender():
        try:
            s.sendall(data)
            s.shutdown(socket.SHUT_WR)
        except OSError as e:
            err.append(e)

    t = threading.Thread(target=sender, daemon=True)
    t.start()
    got = bytearray()
    first = None
    try:
        while True:
            b = s.recv(65536)
            if not b:
                break
            if first is None:
                first = time.time()
            got += b
    except OSError as e:
        err.append(e)
    t.join(timeout=5)
    s.close()
    return bytes(got), err, (time.time() - first) if first else 0.0


def main():
    fwd, lport, nbytes, timeout = (int(a) for a in sys.argv[1:5])
    deadline = time.time() + timeout
    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", lport))
    srv.listen(1)

    data = os.urandom(nbytes)
    want = hashlib.sha256(data).hexdigest()
    while True:
        try:
            got, err, dt = echo_once(fwd, data, deadline)
        except OSError as e:
            got, err, dt = b"", [e], 0.0
        if got or time.time() > deadline:
            break
        time.sleep(1)  # the guest is not listening yet
    have = hashlib.sha256(got).hexdigest()
    ok = have == want and len(got) == nbytes
    print("host: echo: sent %d bytes, got %d back, sha256 %s (%s) in %.1f s from the first byte back, %.2f MB/s each way"
          % (nbytes, len(got), "equal" if ok else "DIFFERENT", have[:16], dt,
             nbytes / dt / 1e6 if dt > 0 else 0), flush=True)
    if err:
        print("host: echo: errors: %s" % err, flush=True)

    srv.settimeout(max(1.0, deadline - time.time()))
    try:
        c, peer = srv.accept()
        c.settimeout(max(1.0, deadline - time.time()))
        t0 = time.time()
        got = bytearray()
        while True:
            b = c.recv(65536)
            if not b:
                break
            got += b
        trecv = time.time() - t0
        expect = out_pattern(nbytes)
        cok = bytes(got) == expect
        c.sendall(in_pattern(nbytes))
        c.close()
        dt = time.time() - t0
        print("host: client: received %d bytes from the guest, pattern %s (%.2f MB/s); sent %d "
              "back (%.1f s in all)" % (len(got), "equal" if cok else "DIFFERENT",
                                        len(got) / trecv / 1e6 if trecv > 0 else 0, nbytes, dt),
              flush=True)
    except OSError as e:
        print("host: client: %s" % e, flush=True)
        cok = False
    return 0 if ok and cok else 1


if __name__ == "__main__":
    sys.exit(main())
