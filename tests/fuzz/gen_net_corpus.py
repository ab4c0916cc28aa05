#!/usr/bin/env python3
"""Generate the seed corpora of the lib/net fuzz targets.

    python3 tests/fuzz/gen_net_corpus.py [CORPUS_ROOT]

CORPUS_ROOT defaults to tests/fuzz/corpus next to this script; the seeds go
to net_frame/, net_tcp/ and net_dhcp/ under it. The output is deterministic.
Input formats are described at the top of each fuzz_net_*.c.
"""
import os
import struct
import sys

US, PEER = bytes([10, 0, 0, 1]), bytes([10, 0, 0, 2])
US_MAC, PEER_MAC = bytes([2, 0, 0, 0, 0, 1]), bytes([2, 0, 0, 0, 0, 2])
BCAST = b"\xff" * 6


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def eth(dst, typ, payload):
    return dst + PEER_MAC + struct.pack("!H", typ) + payload


def arp(op, spa, tpa, sha=PEER_MAC, tha=b"\0" * 6):
    return struct.pack("!HHBBH", 1, 0x0800, 6, 4, op) + sha + spa + tha + tpa


def ipv4(proto, payload, src=PEER, dst=US):
    h = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), 1, 0x4000, 64, proto, 0,
                    src, dst)
    return h[:10] + struct.pack("!H", csum(h)) + h[12:] + payload


def pseudo(proto, n, src=PEER, dst=US):
    return src + dst + struct.pack("!BBH", 0, proto, n)


def tcp(sport, dport, seq, ack, flags, wnd, opts=b"", data=b""):
    off = (20 + len(opts)) // 4
    h = struct.pack("!HHIIBBHHH", sport, dport, seq, ack, off << 4, flags, wnd, 0, 0)
    seg = h + opts + data
    c = csum(pseudo(6, len(seg)) + seg)
    return seg[:16] + struct.pack("!H", c) + seg[18:]


def udp(sport, dport, data, src=PEER, dst=US):
    h = struct.pack("!HHHH", sport, dport, 8 + len(data), 0)
    c = csum(pseudo(17, 8 + len(data), src, dst) + h + data) or 0xFFFF
    return h[:6] + struct.pack("!H", c) + data


def icmp_echo(typ, ident, seq, data):
    h = struct.pack("!BBHHH", typ, 0, 0, ident, seq)
    c = csum(h + data)
    return h[:2] + struct.pack("!H", c) + h[4:] + data


def record(frame, flags=1):
    return struct.pack("!HB", len(frame), flags) + frame


MSS_WS = bytes([2, 4, 5, 0xB4, 1, 3, 3, 2])


def frame_seeds():
    syn = tcp(5000, 80, 1000, 0, 0x02, 65535, MSS_WS)
    seeds = {
        "eth": bytes([0]) + eth(US_MAC, 0x0800, b"payload"),
        "arp": bytes([1]) + arp(1, PEER, US),
        "ipv4": bytes([2]) + ipv4(17, b"x" * 12),
        "icmp": bytes([3]) + icmp_echo(8, 7, 1, b"ping data"),
        "udp": bytes([4]) + udp_for_parser(),
        "tcp": bytes([5]) + tcp_for_parser(),
    }
    stack = [
        record(eth(US_MAC, 0x0806, arp(2, PEER, US, PEER_MAC, US_MAC))),
        record(eth(US_MAC, 0x0800, ipv4(6, syn))),
        record(eth(US_MAC, 0x0800, ipv4(1, icmp_echo(8, 9, 2, b"abcdefgh"))), 0x02),
        record(eth(US_MAC, 0x0800, ipv4(17, udp(999, 7, b"datagram"))), 0x10),
        record(eth(BCAST, 0x0806, arp(1, PEER, US)), 0x0a),
    ]
    seeds["stack_mixed"] = bytes([6]) + b"".join(stack)
    seeds["stack_syn"] = bytes([6]) + record(eth(US_MAC, 0x0800, ipv4(6, syn)), 0x11)
    return seeds


def udp_for_parser():
    # udp_parse in the target checks against src 10.0.0.1, dst 10.0.0.2.
    return udp(1000, 2000, b"hello", US, PEER)


def tcp_for_parser():
    seg = tcp(1, 2, 3, 4, 0x12, 100, MSS_WS, b"data")
    # Recompute for the target's (10.0.0.1 -> 10.0.0.2) pseudo-header.
    seg = seg[:16] + b"\0\0" + seg[18:]
    c = csum(pseudo(6, len(seg), US, PEER) + seg)
    return seg[:16] + struct.pack("!H", c) + seg[18:]


def tcp_seeds():
    def op(*b):
        return bytes(b) + b"\0" * (8 - len(b))
    script = [
        op(4, 1, 100),            # write 800 bytes
        op(3, 0, 50, 0xFF),       # in-order data from the peer
        op(9, 0xFF, 0xFF),        # ACK all, big window
        op(5, 0, 200),            # read
        op(0, 0x10, 0, 5, 0, 0, 0xFF, 10),  # out-of-order data
        op(0, 0x04, 0, 1, 0, 0, 0, 0),      # RST in window
        op(0, 0x02, 0, 0, 0, 0, 0, 0),      # SYN
        op(8),                    # next timer
        op(9, 0, 0),              # zero window
        op(7, 10, 100),           # time passes
        op(6, 0),                 # shutdown
        op(3, 1, 0, 0xFF),        # peer FIN
        op(6, 1),                 # close
    ]
    # 0-10: enum tcp_state; 11: SYN_RECEIVED by simultaneous open.
    return {"state_%d" % s: bytes([s]) + b"".join(script) for s in range(12)}


def dhcp_reply(typ, lease=3600, server=True):
    b = bytearray(240)
    b[0], b[1], b[2] = 2, 1, 6
    b[16:20] = bytes([10, 0, 2, 15])
    b[236:240] = bytes([99, 130, 83, 99])
    o = bytes([53, 1, typ])
    if server:
        o += bytes([54, 4, 10, 0, 2, 2])
    o += bytes([51, 4]) + struct.pack("!I", lease)
    o += bytes([1, 4, 255, 255, 255, 0, 3, 4, 10, 0, 2, 2, 6, 4, 10, 0, 2, 3, 255])
    return bytes(b) + o


def dhcp_op(kind, step, msg):
    return struct.pack("!BBH", kind, step, len(msg)) + msg


def dhcp_seeds():
    return {
        "offer_ack": dhcp_op(7, 1, dhcp_reply(2)) + dhcp_op(7, 200, dhcp_reply(5, 60))
        + dhcp_op(0, 255, b"") + dhcp_op(7, 0, dhcp_reply(5, 60)),
        "offer_nak": dhcp_op(7, 1, dhcp_reply(2)) + dhcp_op(7, 1, dhcp_reply(6)),
        "timeouts": dhcp_op(0, 100, b"") * 4,
    }


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "corpus")
    for name, seeds in (("net_frame", frame_seeds()), ("net_tcp", tcp_seeds()),
                        ("net_dhcp", dhcp_seeds())):
        d = os.path.join(root, name)
        os.makedirs(d, exist_ok=True)
        for k, v in seeds.items():
            with open(os.path.join(d, k + ".bin"), "wb") as f:
                f.write(v)


if __name__ == "__main__":
    main()
