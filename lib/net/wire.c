/*
 * Parsers and builders for Ethernet, ARP, IPv4, ICMP echo, UDP and TCP
 * headers. See wire.h for the contract. Each parser checks a length before
 * every read, so none can read past len whatever the input says.
 */
#include "net/wire.h"

#include "string.h"

static inline uint64_t ld64_host(const uint8_t *p)
{
    uint64_t v;
    __builtin_memcpy(&v, p, 8);
    return v;
}

uint32_t csum_add(uint32_t sum, const uint8_t *p, size_t len)
{
    /* RFC 1071 1.2: the one's-complement sum does not depend on byte
     * order, so whole 8-byte words are added in the machine's order, 64
     * bytes a step, each add's carry counted apart (GCC makes the pair an
     * add and an add-with-carry); then folded to 16 bits and put in
     * network order; the tail goes in as big-endian pairs. Adding the
     * carries back in is the end-around carry: 2^64 is 1 modulo 2^16 - 1,
     * so every fold keeps the sum. Byte pairs cost eight times the
     * instructions, 4-byte words twice: the checksum was a quarter of
     * netstack's work per byte moved (docs/benchmarks.md, "TCP through the
     * netstack service"). */
    uint64_t s64 = 0, carries = 0;
    size_t i = 0;
    for (; i + 64 <= len; i += 64)
#pragma GCC unroll 8
        for (size_t k = 0; k < 64; k += 8) {
            uint64_t w = ld64_host(p + i + k);
            s64 += w;
            carries += s64 < w;
        }
    for (; i + 8 <= len; i += 8) {
        uint64_t w = ld64_host(p + i);
        s64 += w;
        carries += s64 < w;
    }
    s64 += carries;
    s64 += s64 < carries;
    uint64_t w64 = (s64 & 0xffffffffu) + (s64 >> 32);
    while (w64 >> 16)
        w64 = (w64 & 0xffff) + (w64 >> 16);
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    w64 = (w64 >> 8 | w64 << 8) & 0xffff;
#endif
    uint64_t s = (uint64_t)sum + w64;
    for (; i + 1 < len; i += 2)
        s += ld16(p + i);
    if (i < len)
        s += (uint32_t)p[i] << 8;
    while (s >> 32)
        s = (s & 0xffffffffu) + (s >> 32);
    return (uint32_t)s;
}

uint16_t csum_fold(uint32_t sum)
{
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t)~sum;
}

uint32_t csum_pseudo(uint32_t src, uint32_t dst, uint8_t proto, uint16_t len)
{
    uint64_t s = (src >> 16) + (src & 0xffff) + (dst >> 16) + (dst & 0xffff);
    s += proto;
    s += len;
    return (uint32_t)s;
}

/* ---- Ethernet ---- */

enum net_err eth_parse(const uint8_t *p, size_t len, struct eth_hdr *h)
{
    if (len < ETH_HDR_LEN)
        return NET_E_SHORT;
    memcpy(h->dst, p, ETH_ALEN);
    memcpy(h->src, p + 6, ETH_ALEN);
    h->type = ld16(p + 12);
    /* Values below 0x600 are 802.3 lengths, not Ethernet II types. */
    if (h->type < 0x600)
        return NET_E_PROTO;
    h->payload = p + ETH_HDR_LEN;
    h->payload_len = len - ETH_HDR_LEN;
    return NET_OK;
}

size_t eth_build(uint8_t *out, size_t cap, const uint8_t dst[ETH_ALEN], const uint8_t src[ETH_ALEN],
                 uint16_t type)
{
    if (cap < ETH_HDR_LEN)
        return 0;
    memcpy(out, dst, ETH_ALEN);
    memcpy(out + 6, src, ETH_ALEN);
    st16(out + 12, type);
    return ETH_HDR_LEN;
}

/* ---- ARP ---- */

enum net_err arp_parse(const uint8_t *p, size_t len, struct arp_pkt *a)
{
    if (len < ARP_LEN)
        return NET_E_SHORT;
    if (ld16(p) != 1 || ld16(p + 2) != ETHERTYPE_IPV4 || p[4] != ETH_ALEN || p[5] != 4)
        return NET_E_PROTO;
    a->op = ld16(p + 6);
    if (a->op != ARP_OP_REQUEST && a->op != ARP_OP_REPLY)
        return NET_E_TYPE;
    memcpy(a->sha, p + 8, ETH_ALEN);
    a->spa = ld32(p + 14);
    memcpy(a->tha, p + 18, ETH_ALEN);
    a->tpa = ld32(p + 24);
    return NET_OK;
}

size_t arp_build(uint8_t *out, size_t cap, const struct arp_pkt *a)
{
    if (cap < ARP_LEN)
        return 0;
    st16(out, 1);
    st16(out + 2, ETHERTYPE_IPV4);
    out[4] = ETH_ALEN;
    out[5] = 4;
    st16(out + 6, a->op);
    memcpy(out + 8, a->sha, ETH_ALEN);
    st32(out + 14, a->spa);
    memcpy(out + 18, a->tha, ETH_ALEN);
    st32(out + 24, a->tpa);
    return ARP_LEN;
}

/* ---- IPv4 ---- */

enum net_err ipv4_parse(const uint8_t *p, size_t len, struct ipv4_hdr *h)
{
    if (len < IPV4_HDR_LEN)
        return NET_E_SHORT;
    if (p[0] >> 4 != 4)
        return NET_E_VERSION;
    size_t ihl = (size_t)(p[0] & 0xf) * 4;
    if (ihl < IPV4_HDR_LEN)
        return NET_E_HDRLEN;
    if (ihl > len)
        return NET_E_SHORT;
    uint16_t total = ld16(p + 2);
    if (total < ihl || total > len)
        return NET_E_LEN;
    if (csum_fold(csum_add(0, p, ihl)) != 0)
        return NET_E_CSUM;
    h->ihl_bytes = (uint8_t)ihl;
    h->tos = p[1];
    h->total_len = total;
    h->id = ld16(p + 4);
    h->frag = ld16(p + 6);
    h->ttl = p[8];
    h->proto = p[9];
    h->src = ld32(p + 12);
    h->dst = ld32(p + 16);
    h->payload = p + ihl;
    h->payload_len = total - ihl;
    if (h->ttl == 0)
        return NET_E_TTL;
    /* No reassembly: a fragment (more to come, or not the first) is
     * refused whole. */
    if (h->frag & (IPV4_MF | IPV4_FRAG_OFFSET))
        return NET_E_FRAGMENT;
    return NET_OK;
}

size_t ipv4_build(uint8_t *out, size_t cap, uint32_t src, uint32_t dst, uint8_t proto, uint16_t id,
                  uint8_t ttl, size_t payload_len)
{
    if (cap < IPV4_HDR_LEN || payload_len > 0xffff - IPV4_HDR_LEN)
        return 0;
    out[0] = 0x45;
    out[1] = 0;
    st16(out + 2, (uint16_t)(IPV4_HDR_LEN + payload_len));
    st16(out + 4, id);
    st16(out + 6, IPV4_DF);
    out[8] = ttl;
    out[9] = proto;
    st16(out + 10, 0);
    st32(out + 12, src);
    st32(out + 16, dst);
    st16(out + 10, csum_fold(csum_add(0, out, IPV4_HDR_LEN)));
    return IPV4_HDR_LEN;
}

/* ---- ICMP echo ---- */

enum net_err icmp_echo_parse(const uint8_t *p, size_t len, struct icmp_echo *e)
{
    if (len < ICMP_HDR_LEN)
        return NET_E_SHORT;
    if (csum_fold(csum_add(0, p, len)) != 0)
        return NET_E_CSUM;
    if ((p[0] != ICMP_ECHO_REQ && p[0] != ICMP_ECHO_REPLY) || p[1] != 0)
        return NET_E_TYPE;
    e->type = p[0];
    e->id = ld16(p + 4);
    e->seq = ld16(p + 6);
    e->data = p + ICMP_HDR_LEN;
    e->data_len = len - ICMP_HDR_LEN;
    return NET_OK;
}

size_t icmp_echo_build(uint8_t *out, size_t cap, const struct icmp_echo *e)
{
    if (cap < ICMP_HDR_LEN || e->data_len > cap - ICMP_HDR_LEN)
        return 0;
    /* memmove: an echo reply may be built over the request it answers. */
    memmove(out + ICMP_HDR_LEN, e->data, e->data_len);
    out[0] = e->type;
    out[1] = 0;
    st16(out + 2, 0);
    st16(out + 4, e->id);
    st16(out + 6, e->seq);
    size_t n = ICMP_HDR_LEN + e->data_len;
    st16(out + 2, csum_fold(csum_add(0, out, n)));
    return n;
}

/* ---- UDP ---- */

enum net_err udp_parse(const uint8_t *p, size_t len, uint32_t src, uint32_t dst, struct udp_hdr *u)
{
    if (len < UDP_HDR_LEN)
        return NET_E_SHORT;
    uint16_t ulen = ld16(p + 4);
    if (ulen < UDP_HDR_LEN || ulen > len)
        return NET_E_LEN;
    /* Zero means the sender computed no checksum (RFC 768). */
    if (ld16(p + 6) != 0) {
        uint32_t s = csum_pseudo(src, dst, IP_PROTO_UDP, ulen);
        if (csum_fold(csum_add(s, p, ulen)) != 0)
            return NET_E_CSUM;
    }
    u->sport = ld16(p);
    u->dport = ld16(p + 2);
    u->payload = p + UDP_HDR_LEN;
    u->payload_len = ulen - UDP_HDR_LEN;
    return NET_OK;
}

size_t udp_build(uint8_t *out, size_t cap, uint32_t src, uint32_t dst, uint16_t sport,
                 uint16_t dport, const uint8_t *payload, size_t payload_len)
{
    if (cap < UDP_HDR_LEN || payload_len > cap - UDP_HDR_LEN || payload_len > 0xffff - UDP_HDR_LEN)
        return 0;
    size_t n = UDP_HDR_LEN + payload_len;
    memmove(out + UDP_HDR_LEN, payload, payload_len);
    st16(out, sport);
    st16(out + 2, dport);
    st16(out + 4, (uint16_t)n);
    st16(out + 6, 0);
    uint16_t c = csum_fold(csum_add(csum_pseudo(src, dst, IP_PROTO_UDP, (uint16_t)n), out, n));
    /* A computed zero is sent as all ones: zero means "no checksum". */
    st16(out + 6, c ? c : 0xffff);
    return n;
}

/* ---- TCP ---- */

static enum net_err tcp_options(const uint8_t *o, size_t len, struct tcp_hdr *t)
{
    size_t i = 0;
    while (i < len) {
        uint8_t kind = o[i];
        if (kind == 0) /* end of option list */
            break;
        if (kind == 1) { /* no-operation */
            i++;
            continue;
        }
        if (i + 1 >= len)
            return NET_E_OPTION;
        uint8_t olen = o[i + 1];
        if (olen < 2 || olen > len - i)
            return NET_E_OPTION;
        if (kind == 2) {
            if (olen != 4)
                return NET_E_OPTION;
            t->has_mss = true;
            t->mss = ld16(o + i + 2);
        } else if (kind == 3) {
            if (olen != 3)
                return NET_E_OPTION;
            t->has_ws = true;
            t->ws = o[i + 2] > TCP_WSCALE_MAX ? TCP_WSCALE_MAX : o[i + 2];
        } else if (kind == 4) {
            if (olen != 2)
                return NET_E_OPTION;
            t->sack_ok = true;
        } else if (kind == 5) {
            if (olen < 10 || (olen - 2) % 8 != 0)
                return NET_E_OPTION;
            for (size_t b = 0; b < (size_t)(olen - 2) / 8 && t->nsack < TCP_SACK_MAX; b++) {
                t->sack[t->nsack][0] = ld32(o + i + 2 + 8 * b);
                t->sack[t->nsack][1] = ld32(o + i + 6 + 8 * b);
                t->nsack++;
            }
        }
        i += olen;
    }
    return NET_OK;
}

enum net_err tcp_parse(const uint8_t *p, size_t len, uint32_t src, uint32_t dst, struct tcp_hdr *t)
{
    if (len < TCP_HDR_LEN)
        return NET_E_SHORT;
    size_t off = (size_t)(p[12] >> 4) * 4;
    if (off < TCP_HDR_LEN || off > len)
        return NET_E_HDRLEN;
    if (len > 0xffff)
        return NET_E_LEN;
    uint32_t s = csum_pseudo(src, dst, IP_PROTO_TCP, (uint16_t)len);
    if (csum_fold(csum_add(s, p, len)) != 0)
        return NET_E_CSUM;
    memset(t, 0, sizeof(*t));
    t->sport = ld16(p);
    t->dport = ld16(p + 2);
    t->seq = ld32(p + 4);
    t->ack = ld32(p + 8);
    t->flags = p[13] & 0x3f;
    t->wnd = ld16(p + 14);
    t->urp = ld16(p + 18);
    enum net_err e = tcp_options(p + TCP_HDR_LEN, off - TCP_HDR_LEN, t);
    if (e != NET_OK)
        return e;
    t->payload = p + off;
    t->payload_len = len - off;
    return NET_OK;
}

size_t tcp_out_hdr_len(const struct tcp_out *o)
{
    size_t nsack = o->nsack > TCP_SACK_MAX ? TCP_SACK_MAX : o->nsack;
    return TCP_HDR_LEN + (o->mss ? 4 : 0) + (o->ws_opt ? 4 : 0) + (o->sack_ok ? 4 : 0) +
           (nsack ? 4 + 8 * nsack : 0);
}

size_t tcp_build(uint8_t *out, size_t cap, uint32_t src, uint32_t dst, const struct tcp_out *o,
                 const uint8_t *payload, size_t payload_len)
{
    size_t hl = tcp_out_hdr_len(o);
    if (cap < hl || payload_len > cap - hl || payload_len > 0xffff - hl)
        return 0;
    if (payload)
        memmove(out + hl, payload, payload_len);
    st16(out, o->sport);
    st16(out + 2, o->dport);
    st32(out + 4, o->seq);
    st32(out + 8, o->ack);
    out[12] = (uint8_t)(hl / 4) << 4;
    out[13] = o->flags;
    st16(out + 14, o->wnd);
    st16(out + 16, 0);
    st16(out + 18, 0);
    uint8_t *opt = out + TCP_HDR_LEN;
    if (o->mss) {
        opt[0] = 2;
        opt[1] = 4;
        st16(opt + 2, o->mss);
        opt += 4;
    }
    /* NOPs keep every option 4-byte aligned. */
    if (o->ws_opt) {
        opt[0] = 1;
        opt[1] = 3;
        opt[2] = 3;
        opt[3] = o->ws;
        opt += 4;
    }
    if (o->sack_ok) {
        opt[0] = 1;
        opt[1] = 1;
        opt[2] = 4;
        opt[3] = 2;
        opt += 4;
    }
    size_t nsack = o->nsack > TCP_SACK_MAX ? TCP_SACK_MAX : o->nsack;
    if (nsack) {
        opt[0] = 1;
        opt[1] = 1;
        opt[2] = 5;
        opt[3] = (uint8_t)(2 + 8 * nsack);
        for (size_t b = 0; b < nsack; b++) {
            st32(opt + 4 + 8 * b, o->sack[b][0]);
            st32(opt + 8 + 8 * b, o->sack[b][1]);
        }
    }
    size_t n = hl + payload_len;
    uint32_t s = csum_pseudo(src, dst, IP_PROTO_TCP, (uint16_t)n);
    st16(out + 16, csum_fold(csum_add(s, out, n)));
    return n;
}
