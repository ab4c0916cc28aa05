/*
 * Shared by the lib/net fuzz targets: an invariant checker for a stack's
 * connections, a validator for every frame a stack emits (it must parse
 * cleanly with our own parsers: checksums right, DF set), and a checksum
 * fixer that lets mutated frames get past the checksums into the logic.
 */
#ifndef FUZZ_NET_COMMON_H
#define FUZZ_NET_COMMON_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net/net_internal.h"

#define CHECK(c)                                                                                   \
    do {                                                                                           \
        if (!(c)) {                                                                                \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #c);                  \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

static inline bool in_buf(const uint8_t *buf, size_t len, const uint8_t *p, size_t n)
{
    return p >= buf && p <= buf + len && n <= (size_t)(buf + len - p);
}

/* Everything a stack sends must be a well-formed frame. */
static inline void check_frame(const uint8_t *f, size_t len)
{
    struct eth_hdr e;
    CHECK(len <= ETH_FRAME_MAX);
    CHECK(eth_parse(f, len, &e) == NET_OK);
    if (e.type == ETHERTYPE_ARP) {
        struct arp_pkt a;
        CHECK(arp_parse(e.payload, e.payload_len, &a) == NET_OK);
        return;
    }
    CHECK(e.type == ETHERTYPE_IPV4);
    struct ipv4_hdr ip;
    CHECK(ipv4_parse(e.payload, e.payload_len, &ip) == NET_OK);
    CHECK(ip.frag & IPV4_DF);
    CHECK(ip.payload_len == e.payload_len - IPV4_HDR_LEN);
    if (ip.proto == IP_PROTO_TCP) {
        struct tcp_hdr t;
        CHECK(tcp_parse(ip.payload, ip.payload_len, ip.src, ip.dst, &t) == NET_OK);
        CHECK(t.payload_len <= ETH_MTU - IPV4_HDR_LEN - TCP_HDR_LEN);
        /* Never SYN with RST or FIN. */
        CHECK(!((t.flags & TCP_SYN) && (t.flags & (TCP_RST | TCP_FIN))));
    } else if (ip.proto == IP_PROTO_UDP) {
        struct udp_hdr u;
        CHECK(udp_parse(ip.payload, ip.payload_len, ip.src, ip.dst, &u) == NET_OK);
    } else {
        struct icmp_echo ic;
        CHECK(ip.proto == IP_PROTO_ICMP);
        CHECK(icmp_echo_parse(ip.payload, ip.payload_len, &ic) == NET_OK);
    }
}

static inline void check_conn(const struct tcp_conn *c)
{
    CHECK(c->state <= TCP_TIME_WAIT);
    CHECK(c->snd.len <= c->snd.cap && c->rcv.len <= c->rcv.cap);
    CHECK(c->snd.head < c->snd.cap || c->snd.cap == 0);
    CHECK(c->ooo_n <= TCP_OOO_MAX);
    if (c->state == TCP_CLOSED || c->state == TCP_LISTEN)
        return;
    CHECK(SEQ_LEQ(c->snd_una, c->snd_nxt));
    CHECK(SEQ_LEQ(c->snd_nxt, c->snd_max));
    /* Everything outstanding is in the buffer (plus SYN and FIN). */
    CHECK(c->snd_max - c->snd_una <= c->snd.len + 2);
    CHECK(c->rcv_ws <= TCP_WSCALE_MAX && c->snd_ws <= TCP_WSCALE_MAX);
    CHECK(c->smss >= 64 && c->smss <= 1460);
    CHECK(c->rto >= 1 && c->rto <= 60000);
    if (c->state >= TCP_ESTABLISHED) {
        CHECK(c->cwnd >= c->smss);
        CHECK(SEQ_GEQ(c->rcv_adv, c->rcv_nxt) || c->rcv_fin);
    }
    for (int i = 0; i < c->ooo_n; i++) {
        CHECK(SEQ_LT(c->ooo[i].start, c->ooo[i].end));
        CHECK(SEQ_GT(c->ooo[i].start, c->rcv_nxt));
        /* Held data lies within the ring, after the readable bytes. */
        CHECK(c->rcv.len + (c->ooo[i].end - c->rcv_nxt) <= c->rcv.cap);
    }
}

static inline void check_stack(const struct net_stack *s)
{
    for (size_t i = 0; i < s->nconns; i++)
        check_conn(&s->conns[i]);
    int pend = 0;
    for (int i = 0; i < NET_ARP_PENDING; i++)
        pend += s->pend[i].len != 0;
    CHECK(pend <= NET_ARP_PENDING);
}

/* Recomputes the IPv4 header checksum and the transport checksum of a
 * frame whose lengths are plausible; leaves anything else alone. */
static inline void fix_checksums(uint8_t *f, size_t len)
{
    if (len < ETH_HDR_LEN + IPV4_HDR_LEN || ld16(f + 12) != ETHERTYPE_IPV4)
        return;
    uint8_t *ip = f + ETH_HDR_LEN;
    size_t avail = len - ETH_HDR_LEN;
    size_t ihl = (size_t)(ip[0] & 0xf) * 4;
    size_t total = ld16(ip + 2);
    if (ihl < IPV4_HDR_LEN || ihl > avail || total < ihl || total > avail)
        return;
    st16(ip + 10, 0);
    st16(ip + 10, csum_fold(csum_add(0, ip, ihl)));
    uint8_t *p = ip + ihl;
    size_t plen = total - ihl;
    uint32_t src = ld32(ip + 12), dst = ld32(ip + 16);
    if (ip[9] == IP_PROTO_TCP && plen >= TCP_HDR_LEN) {
        st16(p + 16, 0);
        st16(p + 16, csum_fold(csum_add(csum_pseudo(src, dst, 6, (uint16_t)plen), p, plen)));
    } else if (ip[9] == IP_PROTO_UDP && plen >= UDP_HDR_LEN) {
        size_t ul = ld16(p + 4);
        if (ul < UDP_HDR_LEN || ul > plen)
            return;
        st16(p + 6, 0);
        st16(p + 6, csum_fold(csum_add(csum_pseudo(src, dst, 17, (uint16_t)ul), p, ul)));
    } else if (ip[9] == IP_PROTO_ICMP && plen >= ICMP_HDR_LEN) {
        st16(p + 2, 0);
        st16(p + 2, csum_fold(csum_add(0, p, plen)));
    }
}

#endif
