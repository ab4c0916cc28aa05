#!/usr/bin/env python3
"""Host side of the net-sockets QEMU test (tools/qemu-test.sh HOST_SCRIPT).

net-sockets-host.py LISTEN_PORT TIMEOUT

Listens on 127.0.0.1:LISTEN_PORT (10.0.2.2 from the guest) and serves each
connection on its own thread: the first byte names it (A, B or V: see
user/tests/net-sockets.c); A's and B's bytes are echoed, V's only counted.
Every arrival and every end of stream is logged in one ordered list. The
guest ends A (by releasing its socket twice) and V (by dying mid-transfer)
while B stays open, so their ends must come before the B traffic that
follows them; had netstack not closed them, they would end only when QEMU
exits, after everything. Traffic stays on 127.0.0.1. Exits 0 only if the
order is right.
"""
import socket
import sys
import threading
import time

events = []  # (kind, tag, detail) in the order they happened
lock = threading.Lock()


def log(kind, tag, detail):
    with lock:
        events.append((kind, tag, detail))


def serve(c):
    tag = None
    total = 0
    how = "end of stream"
    try:
        while True:
            b = c.recv(65536)
            if not b:
                break
            if tag is None:
                tag = chr(b[0])
            total += len(b)
            if tag != "V":
                log("data", tag, b.decode("latin-1"))
                c.sendall(b)
    except OSError as e:
        how = "reset (%s)" % e.__class__.__name__
    log("end", tag, "%s after %d bytes" % (how, total))
    c.close()


def index(kind, tag, text=None):
    with lock:
        for i, (k, t, d) in enumerate(events):
            if k == kind and t == tag and (text is None or text in d):
                return i
    return None


def main():
    port, timeout = int(sys.argv[1]), int(sys.argv[2])
    deadline = time.time() + timeout
    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", port))
    srv.listen(8)
    srv.settimeout(1.0)
    threads = []
    while time.time() < deadline and index("end", "B") is None:
        try:
            c, _ = srv.accept()
        except socket.timeout:
            continue
        t = threading.Thread(target=serve, args=(c,), daemon=True)
        t.start()
        threads.append(t)
    for t in threads:
        t.join(timeout=2)
    ok = True
    for tag, before in (("A", "still B"), ("V", "B again")):
        end, later = index("end", tag), index("data", "B", before)
        good = end is not None and later is not None and end < later
        detail = events[end][2] if end is not None else "never ended"
        print("host: %s ended before B's \"%s\": %s (%s)"
              % (tag, before, "yes" if good else "NO", detail), flush=True)
        ok &= good
    b = index("end", "B")
    print("host: B ended: %s" % (events[b][2] if b is not None else "never"), flush=True)
    return 0 if ok and b is not None else 1


if __name__ == "__main__":
    sys.exit(main())
