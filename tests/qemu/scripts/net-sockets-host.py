#!/usr/bin/env python3
"""Host side of the net-sockets QEMU test (tools/qemu-test.sh HOST_SCRIPT).

net-sockets-host.py LISTEN_PORT UDP_PORT HOG_PORT TIMEOUT

Listens on 127.0.0.1:LISTEN_PORT (10.0.2.2 from the guest) and serves each
connection on its own thread: the first byte names it (A, B or V: see
user/tests/net-sockets.c); A's and B's bytes are echoed, V's only counted.
Every arrival and every end of stream is logged in one ordered list. The
guest ends A (by releasing its socket twice) and V (by dying mid-transfer)
while B stays open, so their ends must come before the B traffic that
follows them; had netstack not closed them, they would end only when QEMU
exits, after everything.

net-hog's connections to 127.0.0.1:HOG_PORT are accepted and held.

UDP on 127.0.0.1:UDP_PORT: each datagram is echoed to its sender, but
"flood" is answered with FLOOD datagrams "flood 00", "flood 01", ... 5 ms
apart (the guest's queue keeps 16 of them) and "after" with "last".
An "S" connection is never read after its first bytes (back-pressure for
the guest's writer). Traffic stays on 127.0.0.1. Exits 0 only if the order
is right.
"""
import select
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
                if tag == "S":  # net-victim's stalled run: never read again
                    c.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
                    log("data", tag, "")
                    while index("end", "B") is None:
                        time.sleep(0.2)
                    break
            total += len(b)
            if tag != "V":
                log("data", tag, b.decode("latin-1"))
                c.sendall(b)
    except OSError as e:
        how = "reset (%s)" % e.__class__.__name__
    log("end", tag, "%s after %d bytes" % (how, total))
    c.close()


FLOOD = 24
udp_stats = {"echoed": 0, "flooded": 0}


def udp_serve(u):
    while True:
        try:
            data, peer = u.recvfrom(2048)
        except OSError:
            return
        if data == b"flood":
            for i in range(FLOOD):
                u.sendto(b"flood %02d" % i, peer)
                udp_stats["flooded"] += 1
                time.sleep(0.005)
        elif data == b"after":
            u.sendto(b"last", peer)
        else:
            u.sendto(data, peer)
            udp_stats["echoed"] += 1


def index(kind, tag, text=None):
    with lock:
        for i, (k, t, d) in enumerate(events):
            if k == kind and t == tag and (text is None or text in d):
                return i
    return None


def main():
    port, uport, hport, timeout = (int(a) for a in sys.argv[1:5])
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u.bind(("127.0.0.1", uport))
    threading.Thread(target=udp_serve, args=(u,), daemon=True).start()
    deadline = time.time() + timeout
    servers = []
    for p in (port, hport):
        srv = socket.socket()
        srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        srv.bind(("127.0.0.1", p))
        srv.listen(32)
        servers.append(srv)
    threads = []
    while time.time() < deadline and index("end", "B") is None:
        ready, _, _ = select.select(servers, [], [], 1.0)
        for srv in ready:
            c, _ = srv.accept()
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
    print("host: udp: echoed %d datagrams, flooded %d"
          % (udp_stats["echoed"], udp_stats["flooded"]), flush=True)
    b = index("end", "B")
    print("host: B ended: %s" % (events[b][2] if b is not None else "never"), flush=True)
    return 0 if ok and b is not None else 1


if __name__ == "__main__":
    sys.exit(main())
