#!/usr/bin/env python3
"""bench-net-host.py PORT CONNECTIONS TIMEOUT

The host peer of the TCP benchmarks (tools/bench-net.sh for capOS's
net-bench, bench/linux-net/run.sh for Linux): listens on 127.0.0.1:PORT,
which a guest on QEMU's user network reaches as 10.0.2.2:PORT, and serves
CONNECTIONS connections one after the other. Each starts with a 16-byte
header from the guest, 4 bytes of direction and a little-endian 64-bit
count:

  SEND  the guest sends COUNT bytes; we read them all and answer with the
        count we received (8 bytes, little-endian), then wait for the
        guest's end of stream and close.
  RECV  we send COUNT bytes and end the stream, then wait for the guest's.

Prints one line per connection, with its rate: the payload's bytes over
the wall-clock time from the header to the end of the transfer (SEND: the
last byte read; RECV: the guest's end of stream, after our last byte), in
MB/s (10^6 bytes). Exits 1 if a connection went wrong or fewer than
CONNECTIONS came within TIMEOUT seconds.
"""
import socket
import struct
import sys
import time


def read_exact(conn, n):
    data = b""
    while len(data) < n:
        chunk = conn.recv(n - len(data))
        if not chunk:
            break
        data += chunk
    return data


def drain(conn):
    """End our stream and wait for the guest's end (a guest that powers off
    at once may leave QEMU to reset it: the transfer was complete anyway)."""
    try:
        conn.shutdown(socket.SHUT_WR)
        while conn.recv(65536):
            pass
    except OSError:
        pass


def serve(conn):
    head = read_exact(conn, 16)
    if len(head) != 16:
        return "short header (%d bytes)" % len(head), None
    what, count = head[:4], struct.unpack("<Q", head[4:12])[0]
    t0 = time.monotonic()
    rate = lambda n: "in %.3f s (%.2f MB/s)" % (time.monotonic() - t0,
                                              n / 1e6 / max(time.monotonic() - t0, 1e-9))
    if what == b"SEND":
        got = 0
        while got < count:
            chunk = conn.recv(min(1 << 20, count - got))
            if not chunk:
                break
            got += len(chunk)
        took = rate(got)
        conn.sendall(struct.pack("<Q", got))
        drain(conn)
        err = "received %d of %d bytes" % (got, count) if got != count else None
        return err, "host: received %d bytes from the guest %s" % (got, took)
    if what == b"RECV":
        block = bytes(range(256)) * 256
        sent = 0
        while sent < count:
            n = min(len(block), count - sent)
            conn.sendall(block[:n])
            sent += n
        drain(conn)
        return None, "host: sent %d bytes to the guest %s" % (sent, rate(sent))
    return "unknown direction %r" % what, None


def main():
    port, connections, timeout = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
    deadline = time.monotonic() + timeout
    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", port))
    srv.listen(4)
    for i in range(connections):
        srv.settimeout(max(1.0, deadline - time.monotonic()))
        try:
            conn, _ = srv.accept()
        except socket.timeout:
            print("host: FAILED: %d of %d connections came within %.0f s"
                  % (i, connections, timeout), flush=True)
            return 1
        conn.settimeout(max(1.0, deadline - time.monotonic()))
        try:
            result = serve(conn)
        except OSError as e:
            result = "connection %d: %s" % (i + 1, e), None
        finally:
            conn.close()
        err, line = result
        if err:
            print("host: FAILED: %s" % err, flush=True)
            return 1
        print(line, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
