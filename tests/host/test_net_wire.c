/*
 * The wire parsers and builders (lib/net/wire.c, lib/net/dhcp.c) on valid
 * and hostile input: every parser gets truncations at every length, bad
 * length fields, bad checksums and absurd options, always from an exactly
 * sized heap copy so ASan flags any read past the end.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "net/dhcp.h"
#include "net/wire.h"

#define A 0x0a000001u
#define B 0x0a000002u

/* Exactly sized copy: the parser sees len bytes and nothing after them. */
static uint8_t *dup_exact(const uint8_t *p, size_t len)
{
    uint8_t *c = malloc(len ? len : 1);
    memcpy(c, p, len);
    return c;
}

/* ---- Checksum ---- */

Test(csum, rfc1071_example)
{
    /* RFC 1071 section 3: the sum of these words is ddf2. */
    const uint8_t d[] = {0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7};
    cr_assert_eq(csum_fold(csum_add(0, d, sizeof(d))), (uint16_t)~0xddf2);
    const uint8_t odd[] = {0x12, 0x34, 0x56};
    cr_assert_eq(csum_fold(csum_add(0, odd, 3)), (uint16_t) ~(0x1234 + 0x5600));
}

/* The checksum by byte pairs, as RFC 1071 writes it. */
static uint32_t csum_pairs(uint32_t sum, const uint8_t *p, size_t len)
{
    uint64_t s = sum;
    for (size_t i = 0; i + 1 < len; i += 2)
        s += (uint32_t)p[i] << 8 | p[i + 1];
    if (len % 2)
        s += (uint32_t)p[len - 1] << 8;
    while (s >> 16)
        s = (s & 0xffff) + (s >> 16);
    return (uint32_t)s;
}

/* The word-at-a-time sum equals the pairs' for every length, alignment and
 * running sum, and in chains of even lengths; all-zero and all-0xff data
 * (the 0 / 0xffff edge of one's complement) included. */
Test(csum, words_equal_pairs)
{
    uint8_t buf[600];
    uint32_t seed = 12345;
    for (size_t i = 0; i < sizeof(buf); i++) {
        seed = seed * 1103515245u + 12345u;
        buf[i] = (uint8_t)(seed >> 16);
    }
    static const uint32_t sums[] = {0, 1, 0xffff, 0x1fffe, 0xfffffffeu, 0x12345678u};
    for (int fill = 0; fill < 3; fill++) {
        uint8_t *d = buf;
        uint8_t flat[600];
        if (fill) {
            memset(flat, fill == 1 ? 0 : 0xff, sizeof(flat));
            d = flat;
        }
        for (size_t off = 0; off < 8; off++)
            for (size_t len = 0; len + off <= 560; len++)
                for (size_t k = 0; k < sizeof(sums) / sizeof(sums[0]); k++) {
                    uint16_t want = csum_fold(csum_pairs(sums[k], d + off, len));
                    cr_assert_eq(csum_fold(csum_add(sums[k], d + off, len)), want,
                                 "fill %d offset %zu length %zu sum %x", fill, off, len, sums[k]);
                }
        for (size_t cut = 0; cut <= 200; cut += 2) {
            uint32_t chained = csum_add(csum_add(7, d + 1, cut), d + 1 + cut, 301 - cut);
            cr_assert_eq(csum_fold(chained), csum_fold(csum_pairs(7, d + 1, 301)), "chain at %zu",
                         cut);
        }
    }
}

/* ---- Ethernet ---- */

Test(eth, roundtrip_and_truncation)
{
    uint8_t f[20];
    const uint8_t d[6] = {1, 2, 3, 4, 5, 6}, s[6] = {7, 8, 9, 10, 11, 12};
    cr_assert_eq(eth_build(f, sizeof(f), d, s, ETHERTYPE_ARP), ETH_HDR_LEN);
    cr_assert_eq(eth_build(f, 13, d, s, ETHERTYPE_ARP), 0);
    struct eth_hdr h;
    cr_assert_eq(eth_parse(f, 20, &h), NET_OK);
    cr_assert_arr_eq(h.dst, d, 6);
    cr_assert_arr_eq(h.src, s, 6);
    cr_assert_eq(h.type, ETHERTYPE_ARP);
    cr_assert_eq(h.payload_len, 6);
    for (size_t n = 0; n < ETH_HDR_LEN; n++) {
        uint8_t *c = dup_exact(f, n);
        cr_assert_eq(eth_parse(c, n, &h), NET_E_SHORT);
        free(c);
    }
    f[12] = 0x05; /* 802.3 length field */
    f[13] = 0xdc;
    cr_assert_eq(eth_parse(f, 20, &h), NET_E_PROTO);
}

/* ---- ARP ---- */

static size_t arp_sample(uint8_t *out)
{
    struct arp_pkt a = {ARP_OP_REQUEST, {2, 0, 0, 0, 0, 1}, A, {0}, B};
    return arp_build(out, ARP_LEN, &a);
}

Test(arp, roundtrip)
{
    uint8_t p[ARP_LEN];
    cr_assert_eq(arp_sample(p), ARP_LEN);
    struct arp_pkt a;
    cr_assert_eq(arp_parse(p, ARP_LEN, &a), NET_OK);
    cr_assert_eq(a.op, ARP_OP_REQUEST);
    cr_assert_eq(a.spa, A);
    cr_assert_eq(a.tpa, B);
    cr_assert_eq(a.sha[5], 1);
    cr_assert_eq(arp_build(p, ARP_LEN - 1, &a), 0);
}

Test(arp, hostile)
{
    uint8_t p[ARP_LEN];
    struct arp_pkt a;
    arp_sample(p);
    for (size_t n = 0; n < ARP_LEN; n++) {
        uint8_t *c = dup_exact(p, n);
        cr_assert_eq(arp_parse(c, n, &a), NET_E_SHORT);
        free(c);
    }
    /* Hardware type, protocol, address lengths, opcode. */
    const struct {
        size_t off;
        uint8_t v;
        enum net_err e;
    } bad[] = {{1, 6, NET_E_PROTO},  {2, 0x86, NET_E_PROTO}, {4, 8, NET_E_PROTO},
               {5, 16, NET_E_PROTO}, {7, 3, NET_E_TYPE},     {7, 0, NET_E_TYPE}};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        arp_sample(p);
        p[bad[i].off] = bad[i].v;
        cr_assert_eq(arp_parse(p, ARP_LEN, &a), bad[i].e, "case %zu", i);
    }
}

/* ---- IPv4 ---- */

static size_t ip_sample(uint8_t *out, size_t payload)
{
    size_t n = ipv4_build(out, 64, A, B, IP_PROTO_UDP, 0x1234, 64, payload);
    memset(out + n, 0xab, payload);
    return n + payload;
}

Test(ipv4, roundtrip_sets_df)
{
    uint8_t p[64];
    size_t n = ip_sample(p, 10);
    struct ipv4_hdr h;
    cr_assert_eq(ipv4_parse(p, n, &h), NET_OK);
    cr_assert_eq(h.src, A);
    cr_assert_eq(h.dst, B);
    cr_assert_eq(h.proto, IP_PROTO_UDP);
    cr_assert_eq(h.ttl, 64);
    cr_assert_eq(h.id, 0x1234);
    cr_assert(h.frag & IPV4_DF);
    cr_assert_eq(h.payload_len, 10);
    /* Link padding after total_len is cut off. */
    cr_assert_eq(ipv4_parse(p, n + 5 > 64 ? 64 : n + 5, &h), NET_OK);
    cr_assert_eq(h.payload_len, 10);
}

static void refix_csum(uint8_t *p)
{
    size_t ihl = (size_t)(p[0] & 0xf) * 4;
    st16(p + 10, 0);
    st16(p + 10, csum_fold(csum_add(0, p, ihl)));
}

Test(ipv4, hostile)
{
    uint8_t p[64];
    struct ipv4_hdr h;
    size_t n = ip_sample(p, 10);
    for (size_t k = 0; k < n; k++) {
        uint8_t *c = dup_exact(p, k);
        cr_assert_neq(ipv4_parse(c, k, &h), NET_OK, "truncated to %zu", k);
        free(c);
    }
    p[0] = 0x65; /* version 6 */
    cr_assert_eq(ipv4_parse(p, n, &h), NET_E_VERSION);
    for (uint8_t ihl = 0; ihl < 5; ihl++) {
        ip_sample(p, 10);
        p[0] = (uint8_t)(0x40 | ihl);
        cr_assert_eq(ipv4_parse(p, n, &h), NET_E_HDRLEN);
    }
    ip_sample(p, 10);
    p[0] = 0x4f; /* 60-byte header in a 30-byte packet */
    cr_assert_eq(ipv4_parse(p, n, &h), NET_E_SHORT);
    ip_sample(p, 10);
    st16(p + 2, 31); /* total length past the bytes */
    refix_csum(p);
    cr_assert_eq(ipv4_parse(p, n, &h), NET_E_LEN);
    st16(p + 2, 19); /* shorter than the header */
    refix_csum(p);
    cr_assert_eq(ipv4_parse(p, n, &h), NET_E_LEN);
    ip_sample(p, 10);
    p[10] ^= 1;
    cr_assert_eq(ipv4_parse(p, n, &h), NET_E_CSUM);
    ip_sample(p, 10);
    p[8] = 0;
    refix_csum(p);
    cr_assert_eq(ipv4_parse(p, n, &h), NET_E_TTL);
    /* Fragments: more-fragments, or any offset. */
    ip_sample(p, 10);
    st16(p + 6, IPV4_MF);
    refix_csum(p);
    cr_assert_eq(ipv4_parse(p, n, &h), NET_E_FRAGMENT);
    st16(p + 6, 1);
    refix_csum(p);
    cr_assert_eq(ipv4_parse(p, n, &h), NET_E_FRAGMENT);
}

Test(ipv4, options_are_skipped)
{
    uint8_t p[64];
    memset(p, 0, sizeof(p));
    ipv4_build(p, 64, A, B, IP_PROTO_UDP, 1, 64, 0);
    p[0] = 0x46; /* one word of options */
    st16(p + 2, 24 + 4);
    p[20] = 1; /* NOPs */
    memcpy(p + 24, "data", 4);
    refix_csum(p);
    struct ipv4_hdr h;
    cr_assert_eq(ipv4_parse(p, 28, &h), NET_OK);
    cr_assert_eq(h.payload_len, 4);
    cr_assert_arr_eq(h.payload, "data", 4);
}

/* ---- ICMP ---- */

Test(icmp, roundtrip_and_hostile)
{
    uint8_t p[64];
    struct icmp_echo e = {ICMP_ECHO_REQ, 7, 9, (const uint8_t *)"ping", 4}, r;
    size_t n = icmp_echo_build(p, sizeof(p), &e);
    cr_assert_eq(n, 12);
    cr_assert_eq(icmp_echo_parse(p, n, &r), NET_OK);
    cr_assert_eq(r.id, 7);
    cr_assert_eq(r.seq, 9);
    cr_assert_eq(r.data_len, 4);
    for (size_t k = 0; k < ICMP_HDR_LEN; k++) {
        uint8_t *c = dup_exact(p, k);
        cr_assert_eq(icmp_echo_parse(c, k, &r), NET_E_SHORT);
        free(c);
    }
    /* Truncating the data breaks the checksum. */
    cr_assert_eq(icmp_echo_parse(p, n - 1, &r), NET_E_CSUM);
    p[3] ^= 0x10;
    cr_assert_eq(icmp_echo_parse(p, n, &r), NET_E_CSUM);
    /* Destination unreachable (type 3), with a valid checksum. */
    icmp_echo_build(p, sizeof(p), &e);
    p[0] = 3;
    st16(p + 2, 0);
    st16(p + 2, csum_fold(csum_add(0, p, n)));
    cr_assert_eq(icmp_echo_parse(p, n, &r), NET_E_TYPE);
    cr_assert_eq(icmp_echo_build(p, 11, &e), 0);
}

/* ---- UDP ---- */

Test(udp, roundtrip_and_hostile)
{
    uint8_t p[64];
    size_t n = udp_build(p, sizeof(p), A, B, 1000, 2000, (const uint8_t *)"hello", 5);
    cr_assert_eq(n, 13);
    struct udp_hdr u;
    cr_assert_eq(udp_parse(p, n, A, B, &u), NET_OK);
    cr_assert_eq(u.sport, 1000);
    cr_assert_eq(u.dport, 2000);
    cr_assert_eq(u.payload_len, 5);
    cr_assert_arr_eq(u.payload, "hello", 5);
    /* The pseudo-header is covered: another address fails. */
    cr_assert_eq(udp_parse(p, n, A, B + 1, &u), NET_E_CSUM);
    for (size_t k = 0; k < UDP_HDR_LEN; k++) {
        uint8_t *c = dup_exact(p, k);
        cr_assert_eq(udp_parse(c, k, A, B, &u), NET_E_SHORT);
        free(c);
    }
    cr_assert_eq(udp_parse(p, n - 1, A, B, &u), NET_E_LEN, "length field past the bytes");
    st16(p + 4, 7);
    cr_assert_eq(udp_parse(p, n, A, B, &u), NET_E_LEN, "length below the header");
    /* No checksum (zero) is accepted; trailing bytes beyond the length
     * field are ignored. */
    n = udp_build(p, sizeof(p), A, B, 1, 2, (const uint8_t *)"x", 1);
    st16(p + 6, 0);
    cr_assert_eq(udp_parse(p, n + 3, A, B, &u), NET_OK);
    cr_assert_eq(u.payload_len, 1);
    cr_assert_eq(udp_build(p, 8, A, B, 1, 2, (const uint8_t *)"x", 1), 0);
}

/* ---- TCP ---- */

static size_t tcp_with_options(uint8_t *p, const uint8_t *opt, size_t optlen)
{
    memset(p, 0, 80);
    st16(p, 1);
    st16(p + 2, 2);
    st32(p + 4, 100);
    p[12] = (uint8_t)(((TCP_HDR_LEN + optlen) / 4) << 4);
    p[13] = TCP_SYN;
    memcpy(p + TCP_HDR_LEN, opt, optlen);
    size_t n = TCP_HDR_LEN + optlen;
    st16(p + 16, csum_fold(csum_add(csum_pseudo(A, B, IP_PROTO_TCP, (uint16_t)n), p, n)));
    return n;
}

Test(tcp_wire, roundtrip_with_options)
{
    uint8_t p[80];
    struct tcp_out o = {.sport = 10,
                        .dport = 20,
                        .seq = 1000,
                        .ack = 2000,
                        .flags = TCP_SYN | TCP_ACK,
                        .wnd = 4096,
                        .mss = 1460,
                        .ws_opt = true,
                        .ws = 7};
    size_t n = tcp_build(p, sizeof(p), A, B, &o, (const uint8_t *)"abc", 3);
    cr_assert_eq(n, 31);
    struct tcp_hdr t;
    cr_assert_eq(tcp_parse(p, n, A, B, &t), NET_OK);
    cr_assert_eq(t.sport, 10);
    cr_assert_eq(t.dport, 20);
    cr_assert_eq(t.seq, 1000);
    cr_assert_eq(t.ack, 2000);
    cr_assert_eq(t.flags, TCP_SYN | TCP_ACK);
    cr_assert_eq(t.wnd, 4096);
    cr_assert(t.has_mss && t.mss == 1460);
    cr_assert(t.has_ws && t.ws == 7);
    cr_assert_eq(t.payload_len, 3);
    cr_assert_eq(tcp_parse(p, n, B, A + 5, &t), NET_E_CSUM);
    cr_assert_eq(tcp_build(p, 30, A, B, &o, (const uint8_t *)"abc", 3), 0);
}

Test(tcp_wire, option_edge_cases)
{
    uint8_t p[80];
    struct tcp_hdr t;
    const struct {
        uint8_t opt[12];
        size_t len;
        enum net_err e;
    } cases[] = {
        {{2, 4, 0x05, 0xb4}, 4, NET_OK},                     /* MSS */
        {{1, 1, 1, 0}, 4, NET_OK},                           /* NOPs, EOL */
        {{0, 2, 0, 0}, 4, NET_OK},                           /* EOL: the rest ignored */
        {{3, 3, 200, 0}, 4, NET_OK},                         /* WS above 14: clamped */
        {{8, 10, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0}, 12, NET_OK}, /* timestamps: skipped */
        {{2, 0, 0, 0}, 4, NET_E_OPTION},                     /* length 0 */
        {{2, 1, 0, 0}, 4, NET_E_OPTION},                     /* length 1 */
        {{2, 3, 0, 0}, 4, NET_E_OPTION},                     /* MSS of wrong length */
        {{3, 4, 1, 0}, 4, NET_E_OPTION},                     /* WS of wrong length */
        {{99, 40, 0, 0}, 4, NET_E_OPTION},                   /* runs past the header */
        {{1, 1, 1, 2}, 4, NET_E_OPTION},                     /* kind without its length */
        {{99, 255, 0, 0}, 4, NET_E_OPTION},                  /* absurd length */
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        size_t n = tcp_with_options(p, cases[i].opt, cases[i].len);
        uint8_t *c = dup_exact(p, n);
        cr_assert_eq(tcp_parse(c, n, A, B, &t), cases[i].e, "case %zu", i);
        free(c);
    }
    size_t n = tcp_with_options(p, cases[3].opt, 4);
    tcp_parse(p, n, A, B, &t);
    cr_assert_eq(t.ws, TCP_WSCALE_MAX);
}

Test(tcp_wire, sack_options)
{
    uint8_t p[80];
    struct tcp_out o = {.sport = 1, .dport = 2, .flags = TCP_ACK, .sack_ok = true, .nsack = 3};
    for (int b = 0; b < 3; b++) {
        o.sack[b][0] = 1000u * (uint32_t)b;
        o.sack[b][1] = 1000u * (uint32_t)b + 500;
    }
    size_t n = tcp_build(p, sizeof(p), A, B, &o, NULL, 0);
    cr_assert_eq(n, TCP_HDR_LEN + 4 + 4 + 24);
    struct tcp_hdr t;
    cr_assert_eq(tcp_parse(p, n, A, B, &t), NET_OK);
    cr_assert(t.sack_ok);
    cr_assert_eq(t.nsack, 3);
    cr_assert_eq(t.sack[2][0], 2000);
    cr_assert_eq(t.sack[2][1], 2500);
    const uint8_t bad_ok[] = {4, 3, 0, 1};               /* SACK-permitted of length 3 */
    const uint8_t bad_sack[] = {5, 6, 0, 0, 0, 0, 1, 1}; /* not 2 + 8n */
    const uint8_t short_sack[] = {5, 2, 1, 1};           /* no block at all */
    n = tcp_with_options(p, bad_ok, sizeof(bad_ok));
    cr_assert_eq(tcp_parse(p, n, A, B, &t), NET_E_OPTION);
    n = tcp_with_options(p, bad_sack, sizeof(bad_sack));
    cr_assert_eq(tcp_parse(p, n, A, B, &t), NET_E_OPTION);
    n = tcp_with_options(p, short_sack, sizeof(short_sack));
    cr_assert_eq(tcp_parse(p, n, A, B, &t), NET_E_OPTION);
}

Test(tcp_wire, hostile_offsets)
{
    uint8_t p[80];
    struct tcp_hdr t;
    size_t n = tcp_with_options(p, (const uint8_t *)"\x01\x01\x01\x01", 4);
    for (size_t k = 0; k < n; k++) {
        uint8_t *c = dup_exact(p, k);
        cr_assert_neq(tcp_parse(c, k, A, B, &t), NET_OK, "truncated to %zu", k);
        free(c);
    }
    for (uint8_t off = 0; off < 5; off++) {
        tcp_with_options(p, (const uint8_t *)"\x01\x01\x01\x01", 4);
        p[12] = (uint8_t)(off << 4);
        cr_assert_eq(tcp_parse(p, n, A, B, &t), NET_E_HDRLEN);
    }
    p[12] = 0xf0; /* 60-byte header in 24 bytes */
    cr_assert_eq(tcp_parse(p, n, A, B, &t), NET_E_HDRLEN);
}

/* ---- DHCP messages ---- */

static size_t dhcp_reply(uint8_t *p, uint8_t type, const uint8_t *opts, size_t optlen)
{
    memset(p, 0, 600);
    p[0] = 2;
    p[1] = 1;
    p[2] = 6;
    st32(p + 4, 0xabcd);
    st32(p + 16, 0x0a00020f);
    p[28] = 0x52;
    st32(p + 236, 0x63825363);
    size_t i = 240;
    p[i++] = 53;
    p[i++] = 1;
    p[i++] = type;
    if (optlen)
        memcpy(p + i, opts, optlen);
    i += optlen;
    p[i++] = 255;
    return i;
}

Test(dhcp_wire, parse_options)
{
    uint8_t p[600];
    const uint8_t opts[] = {1,  4, 255, 255, 255, 0, 3, 8, 10, 0, 2,   2,   10, 0,
                            2,  9, 6,   4,   10,  0, 2, 3, 51, 4, 0,   0,   0,  60,
                            54, 4, 10,  0,   2,   2, 0, 0, 12, 3, 'a', 'b', 'c'};
    size_t n = dhcp_reply(p, DHCP_OFFER, opts, sizeof(opts));
    struct dhcp_msg m;
    uint8_t *c = dup_exact(p, n);
    cr_assert_eq(dhcp_parse(c, n, &m), NET_OK);
    free(c);
    cr_assert_eq(m.type, DHCP_OFFER);
    cr_assert_eq(m.xid, 0xabcd);
    cr_assert_eq(m.yiaddr, 0x0a00020f);
    cr_assert_eq(m.netmask, 0xffffff00);
    cr_assert_eq(m.router, 0x0a000202, "first router of a list");
    cr_assert_eq(m.dns, 0x0a000203);
    cr_assert_eq(m.lease_s, 60);
    cr_assert_eq(m.server_id, 0x0a000202);
}

Test(dhcp_wire, hostile)
{
    uint8_t p[600];
    struct dhcp_msg m;
    size_t n = dhcp_reply(p, DHCP_ACK, NULL, 0);
    /* Every cut refuses, except just before the end option: a missing end
     * option is tolerated when every option before it is whole. */
    for (size_t k = 0; k < n - 1; k++) {
        uint8_t *c = dup_exact(p, k);
        cr_assert_neq(dhcp_parse(c, k, &m), NET_OK, "truncated to %zu", k);
        free(c);
    }
    const struct {
        uint8_t opts[8];
        size_t len;
    } bad[] = {
        {{51, 200, 0, 0}, 4},          /* runs past the end */
        {{51, 3, 0, 0, 0}, 5},         /* lease of 3 bytes */
        {{3, 6, 1, 2, 3, 4, 5, 6}, 8}, /* router list not a multiple of 4 */
        {{3, 0}, 2},                   /* empty router list */
        {{53, 2, 5, 5}, 4},            /* a second, malformed message type */
        {{61}, 1},                     /* kind, then the end option as its length */
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        n = dhcp_reply(p, DHCP_ACK, bad[i].opts, bad[i].len);
        uint8_t *c = dup_exact(p, n - 1); /* without the end option */
        cr_assert_eq(dhcp_parse(c, n - 1, &m), NET_E_OPTION, "case %zu", i);
        free(c);
    }
    n = dhcp_reply(p, DHCP_ACK, NULL, 0);
    p[236] ^= 1;
    cr_assert_eq(dhcp_parse(p, n, &m), NET_E_PROTO, "magic cookie");
    n = dhcp_reply(p, DHCP_ACK, NULL, 0);
    p[2] = 16;
    cr_assert_eq(dhcp_parse(p, n, &m), NET_E_PROTO, "not Ethernet");
    n = dhcp_reply(p, 9, NULL, 0);
    cr_assert_eq(dhcp_parse(p, n, &m), NET_E_TYPE);
    /* No message type at all. */
    n = dhcp_reply(p, DHCP_ACK, NULL, 0);
    p[240] = 0;
    p[241] = 0;
    p[242] = 0;
    cr_assert_eq(dhcp_parse(p, n, &m), NET_E_TYPE);
}

Test(dhcp_wire, build_request)
{
    uint8_t p[DHCP_MSG_LEN];
    struct dhcp_msg m;
    memset(&m, 0, sizeof(m));
    m.type = DHCP_REQUEST;
    m.xid = 77;
    m.requested_ip = 0x0a00020f;
    m.server_id = 0x0a000202;
    m.chaddr[0] = 2;
    cr_assert_eq(dhcp_build(p, sizeof(p), &m), DHCP_MSG_LEN);
    cr_assert_eq(dhcp_build(p, sizeof(p) - 1, &m), 0);
    struct dhcp_msg r;
    cr_assert_eq(dhcp_parse(p, DHCP_MSG_LEN, &r), NET_OK);
    cr_assert_eq(r.op, 1);
    cr_assert_eq(r.type, DHCP_REQUEST);
    cr_assert_eq(r.xid, 77);
    cr_assert_eq(r.requested_ip, 0x0a00020f);
    cr_assert_eq(r.server_id, 0x0a000202);
    cr_assert_eq(ld16(p + 10), 0x8000, "broadcast flag");
}

/* ---- DHCP client timers ---- */

static size_t server_msg(uint8_t *p, uint8_t type, uint32_t xid, uint32_t lease, uint32_t t1,
                         uint32_t t2)
{
    uint8_t opts[32];
    size_t n = 0;
    const uint8_t sid[] = {54, 4, 10, 0, 2, 2};
    memcpy(opts, sid, sizeof(sid));
    n += sizeof(sid);
    const uint32_t v[3] = {lease, t1, t2};
    const uint8_t kinds[3] = {51, 58, 59};
    for (int i = 0; i < 3; i++) {
        if (!v[i])
            continue;
        opts[n++] = kinds[i];
        opts[n++] = 4;
        st32(opts + n, v[i]);
        n += 4;
    }
    size_t len = dhcp_reply(p, type, opts, n);
    st32(p + 4, xid);
    return len;
}

Test(dhcp_client, inconsistent_timers_fall_back_to_defaults)
{
    struct dhcp_client c;
    const uint8_t mac[6] = {0x52, 0, 0, 0, 0, 0};
    struct dhcp_lease fb = {1, 2, 3, 4, 0};
    uint8_t out[DHCP_MSG_LEN], p[600];
    dhcp_start(&c, mac, 9, &fb, 0);
    struct dhcp_tx tx = dhcp_poll(&c, 0, out, sizeof(out));
    cr_assert_eq(tx.len, DHCP_MSG_LEN);
    size_t n = server_msg(p, DHCP_OFFER, c.xid, 1000, 0, 0);
    tx = dhcp_input(&c, p, n, 0, out, sizeof(out));
    cr_assert_eq(tx.len, DHCP_MSG_LEN, "REQUEST");
    /* T1 after T2: T1 falls back to its default (lease / 2); T2 is
     * consistent and kept. */
    n = server_msg(p, DHCP_ACK, c.xid, 1000, 900, 800);
    dhcp_input(&c, p, n, 0, out, sizeof(out));
    cr_assert_eq(c.state, DHCP_BOUND);
    cr_assert_eq(c.t1, 500000);
    cr_assert_eq(c.t2, 800000);
    cr_assert_eq(c.expiry, 1000000);
    /* T2 beyond the lease: T2 falls back to 7/8 of it. */
    dhcp_start(&c, mac, 9, &fb, 0);
    dhcp_poll(&c, 0, out, sizeof(out));
    n = server_msg(p, DHCP_OFFER, c.xid, 1000, 0, 0);
    dhcp_input(&c, p, n, 0, out, sizeof(out));
    n = server_msg(p, DHCP_ACK, c.xid, 1000, 100, 2000);
    dhcp_input(&c, p, n, 0, out, sizeof(out));
    cr_assert_eq(c.t1, 100000);
    cr_assert_eq(c.t2, 875000);
    cr_assert_eq(dhcp_config(&c)->ip, 0x0a00020f);
}

Test(dhcp_client, infinite_lease_never_renews)
{
    struct dhcp_client c;
    const uint8_t mac[6] = {0x52, 0, 0, 0, 0, 0};
    struct dhcp_lease fb = {1, 2, 3, 4, 0};
    uint8_t out[DHCP_MSG_LEN], p[600];
    dhcp_start(&c, mac, 9, &fb, 0);
    dhcp_poll(&c, 0, out, sizeof(out));
    size_t n = server_msg(p, DHCP_OFFER, c.xid, 0xffffffffu, 0, 0);
    dhcp_input(&c, p, n, 0, out, sizeof(out));
    n = server_msg(p, DHCP_ACK, c.xid, 0xffffffffu, 0, 0);
    dhcp_input(&c, p, n, 0, out, sizeof(out));
    cr_assert_eq(c.state, DHCP_BOUND);
    cr_assert_eq(dhcp_deadline(&c), UINT64_MAX);
}
