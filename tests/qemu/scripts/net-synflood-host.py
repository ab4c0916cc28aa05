#!/usr/bin/env python3
"""Host side of the net-synflood QEMU test, run in the network namespace
that tools/qemu-test.sh makes (NETNS=10.99.2: this side is 10.99.2.1 on
captap0, the guest 10.99.2.2 by its manifest's static configuration).

net-synflood-host.py GUEST PORT COUNT TIMEOUT

1. ICMP echo to GUEST until it answers (the host side of the issue's
   ping check).
2. COUNT SYNs to GUEST:PORT from spoofed addresses of the namespace's
   subnet that nobody owns (10.99.2.100-199), never completed: the
   guest's SYN-ACKs and ARP requests for them go unanswered, so each
   would stay half-open for a minute of retries.
3. Meanwhile, a real client connects to GUEST:PORT (tcp-echo) within
   10 s, sends 64 KiB and must get the same bytes back.
4. ICMP echo again, then the datagram "done" from port 9999 to GUEST
   port 9 (net-flood's UdpSocket), which ends the guest's test.
Only the namespace's addresses are ever used. Exits 0 only if the guest
answered both pings and echoed the real client's bytes.
"""
import os
import socket
import struct
import sys
import threading
import time

HOST = "10.99.2.1"


def checksum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    s = (s >> 16) + (s & 0xFFFF)
    s += s >> 16
    return ~s & 0xFFFF


def ping(dst, ident, seq, timeout):
    """One ICMP echo; the round trip in ms, or None."""
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
    s.settimeout(timeout)
    payload = b"capOS net-synflood host ping"
    hdr = struct.pack("!BBHHH", 8, 0, 0, ident, seq)
    pkt = struct.pack("!BBHHH", 8, 0, checksum(hdr + payload), ident, seq) + payload
    t0 = time.time()
    s.sendto(pkt, (dst, 0))
    try:
        while True:
            data, addr = s.recvfrom(2048)
            ihl = (data[0] & 15) * 4
            typ, _, _, rid, rseq = struct.unpack("!BBHHH", data[ihl:ihl + 8])
            if addr[0] == dst and typ == 0 and rid == ident and rseq == seq:
                return (time.time() - t0) * 1000
    except socket.timeout:
        return None
    finally:
        s.close()


def syn(src, sport, dst, dport):
    """An IPv4 + TCP SYN from src:sport, checksums filled in."""
    seq = int.from_bytes(os.urandom(4), "big")
    tcp = struct.pack("!HHIIBBHHH", sport, dport, seq, 0, 5 << 4, 0x02, 65535, 0, 0)
    pseudo = socket.inet_aton(src) + socket.inet_aton(dst) + struct.pack("!BBH", 0, 6, len(tcp))
    tcp = tcp[:16] + struct.pack("!H", checksum(pseudo + tcp)) + tcp[18:]
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), 0, 0x4000, 64, 6, 0,
                     socket.inet_aton(src), socket.inet_aton(dst))
    ip = ip[:10] + struct.pack("!H", checksum(ip)) + ip[12:]
    return ip + tcp


def flood(dst, dport, count, result):
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
    sent = 0
    for i in range(count):
        src = "10.99.2.%d" % (100 + i % 100)
        s.sendto(syn(src, 20000 + i, dst, dport), (dst, 0))
        sent += 1
        time.sleep(0.002)
    s.close()
    result["sent"] = sent


def real_client(dst, port, result, deadline):
    data = os.urandom(65536)
    t0 = time.time()
    try:
        c = socket.create_connection((dst, port), timeout=max(1, deadline - time.time()))
        result["connect_s"] = time.time() - t0
        c.settimeout(max(1, deadline - time.time()))
        c.sendall(data)
        got = bytearray()
        while len(got) < len(data):
            b = c.recv(65536)
            if not b:
                break
            got += b
        c.close()
        result["equal"] = bytes(got) == data
        result["bytes"] = len(got)
    except OSError as e:
        result["error"] = str(e)


def main():
    dst, port, count, timeout = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    deadline = time.time() + timeout - 5
    rtt = None
    seq = 0
    while rtt is None and time.time() < deadline:
        seq += 1
        rtt = ping(dst, 0x4321, seq, 1.0)
    print("host: ping %s: %s" % (dst, "reply in %.1f ms" % rtt if rtt is not None else "NO reply"),
          flush=True)
    if rtt is None:
        return 1
    fres, cres = {}, {}
    f = threading.Thread(target=flood, args=(dst, port, count, fres))
    f.start()
    time.sleep(0.5)  # the flood is under way
    real_client(dst, port, cres, min(deadline, time.time() + 90))
    f.join()
    print("host: flood: %d SYNs to %s:%d from 100 spoofed addresses" % (fres.get("sent", 0), dst,
                                                                         port), flush=True)
    # Within 10 s: a backlog kept full of half-open children would hold
    # the real client off for their minute of SYN-ACK retries.
    ok = cres.get("equal", False) and cres["connect_s"] < 10
    print("host: real client during the flood: %s" % (
        "connected in %.1f s, %d bytes echoed, equal" % (cres["connect_s"], cres["bytes"])
        if ok else "FAILED (%s)" % cres), flush=True)
    rtt2 = ping(dst, 0x4321, seq + 1, 3.0)
    print("host: ping after the flood: %s" % ("reply" if rtt2 is not None else "NO reply"),
          flush=True)
    time.sleep(2)  # tcp-echo closes its socket
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u.bind((HOST, 9999))
    u.sendto(b"done", (dst, 9))
    u.close()
    return 0 if ok and rtt2 is not None and fres.get("sent") == count else 1


if __name__ == "__main__":
    sys.exit(main())
